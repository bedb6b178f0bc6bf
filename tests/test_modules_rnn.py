import itertools

import pytest
import torch

from sknets.modules.rnn import CELLS, RNN, SUMMARIES

CONFIGS = list(itertools.product(sorted(CELLS), [False, True], SUMMARIES))
VOCAB_SIZE = 11


def small_rnn(cell="lstm", bidirectional=False, summary="last", tokens=False, **kwargs):
    architecture = dict(
        cell=cell, hidden_size=6, bidirectional=bidirectional, summary=summary, **kwargs
    )
    if tokens:
        return RNN(None, 3, vocab_size=VOCAB_SIZE, embedding_dim=4, **architecture)
    return RNN(5, 3, **architecture)


def random_batch(tokens, batch_size=4, n_steps=7):
    if tokens:
        # Ids from 1 so that the padding id 0 only appears where we pad.
        return torch.randint(1, VOCAB_SIZE, (batch_size, n_steps))
    return torch.randn(batch_size, n_steps, 5)


@pytest.mark.parametrize(("cell", "bidirectional", "summary"), CONFIGS)
def test_output_shape_and_finite(cell, bidirectional, summary):
    net = small_rnn(cell, bidirectional, summary, num_layers=2, hidden_layer_sizes=(8,))
    x = random_batch(tokens=False)
    for lengths in (None, torch.tensor([7, 2, 5, 1])):
        out = net(x, lengths)
        assert out.shape == (4, 3)
        assert torch.isfinite(out).all()


@pytest.mark.parametrize("tokens", [False, True])
@pytest.mark.parametrize(("cell", "bidirectional", "summary"), CONFIGS)
def test_gradient_reaches_every_parameter(cell, bidirectional, summary, tokens):
    net = small_rnn(
        cell, bidirectional, summary, tokens=tokens, num_layers=2, hidden_layer_sizes=(8,)
    )
    net(random_batch(tokens), torch.tensor([7, 3, 5, 1])).sum().backward()
    for name, parameter in net.named_parameters():
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


@pytest.mark.parametrize("tokens", [False, True])
@pytest.mark.parametrize(("cell", "bidirectional", "summary"), CONFIGS)
def test_padding_never_changes_the_output(cell, bidirectional, summary, tokens):
    net = small_rnn(cell, bidirectional, summary, tokens=tokens, num_layers=2).eval()
    lengths = torch.tensor([3, 7, 1, 5])
    batch = random_batch(tokens)
    # Garbage after each sequence's end (random token ids, or huge values): it must be
    # ignored, whatever it holds.
    if not tokens:
        for row, length in enumerate(lengths):
            batch[row, length:] = 1e3
    with torch.no_grad():
        padded_out = net(batch, lengths)
        for row, length in enumerate(lengths):
            alone = batch[row : row + 1, :length]
            expected_with_lengths = net(alone, length.reshape(1))
            expected_without = net(alone)
            torch.testing.assert_close(
                padded_out[row : row + 1], expected_with_lengths, atol=1e-5, rtol=0
            )
            torch.testing.assert_close(
                padded_out[row : row + 1], expected_without, atol=1e-5, rtol=0
            )


def test_padding_changes_the_output_without_lengths():
    # Guards the invariance test above against passing for a trivial reason.
    net = small_rnn().eval()
    x = random_batch(tokens=False)
    x[0, 3:] = 0
    with torch.no_grad():
        assert not torch.allclose(net(x[:1]), net(x[:1], torch.tensor([3])))


def test_summaries_differ():
    x = random_batch(tokens=False)
    outputs = []
    for summary in SUMMARIES:
        torch.manual_seed(0)  # the same weights for every summary
        outputs.append(small_rnn(summary=summary).eval()(x))
    for first, second in itertools.combinations(outputs, 2):
        assert not torch.allclose(first, second)


def test_bidirectional_last_is_forward_end_and_backward_start():
    net = small_rnn("gru", bidirectional=True, summary="last")
    x = random_batch(tokens=False)
    lengths = torch.tensor([3, 7, 1, 5])
    captured = {}
    net.head.register_forward_pre_hook(lambda module, args: captured.update(summary=args[0]))
    with torch.no_grad():
        net(x, lengths)
        for row, length in enumerate(lengths):
            outputs, _ = net.recurrent(x[row : row + 1, :length])
            forward_end = outputs[0, -1, :6]
            backward_start = outputs[0, 0, 6:]
            expected = torch.cat([forward_end, backward_start])
            torch.testing.assert_close(captured["summary"][row], expected, atol=1e-5, rtol=0)


def test_univariate_two_dimensional_input():
    net = RNN(1, 2, hidden_size=4).eval()
    x = torch.randn(3, 5)
    torch.testing.assert_close(net(x), net(x.unsqueeze(-1)))


def test_dropout_only_between_stacked_layers():
    assert small_rnn(dropout=0.5).recurrent.dropout == 0.0
    assert small_rnn(dropout=0.5, num_layers=2).recurrent.dropout == 0.5


def test_single_layer_dropout_does_not_warn(recwarn):
    small_rnn(dropout=0.5)
    assert not [w for w in recwarn if "dropout" in str(w.message)]


def test_embedding_padding_idx_and_head_layers():
    net = RNN(
        None,
        3,
        vocab_size=VOCAB_SIZE,
        embedding_dim=4,
        padding_idx=0,
        hidden_layer_sizes=(8, 5),
        activation="tanh",
        head_dropout=0.2,
    )
    assert net.embedding.padding_idx == 0
    assert torch.all(net.embedding.weight[0] == 0)
    linear_widths = [
        layer.out_features for layer in net.head.layers if isinstance(layer, torch.nn.Linear)
    ]
    assert linear_widths == [8, 5, 3]
    assert sum(isinstance(layer, torch.nn.Dropout) for layer in net.head.layers) == 2
    assert sum(isinstance(layer, torch.nn.Tanh) for layer in net.head.layers) == 2


def test_cell_types():
    assert isinstance(small_rnn("rnn").recurrent, torch.nn.RNN)
    assert small_rnn("rnn").recurrent.nonlinearity == "tanh"
    assert isinstance(small_rnn("lstm").recurrent, torch.nn.LSTM)
    assert isinstance(small_rnn("gru").recurrent, torch.nn.GRU)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            dict(cell="transformer"),
            r"cell='transformer' is not supported; use one of: gru, lstm, rnn",
        ),
        (dict(summary="first"), r"summary='first' is not supported; use one of: last, mean, max"),
        (dict(hidden_size=0), r"hidden_size=0 is not supported; use an integer >= 1"),
        (dict(num_layers=1.5), r"num_layers=1.5 is not supported; use an integer >= 1"),
        (dict(dropout=1.0), r"dropout=1.0 is not supported; use a float in \[0, 1\)"),
        (dict(head_dropout=-0.1), r"head_dropout=-0.1 is not supported"),
        (dict(n_features=None), r"n_features=None is only allowed with vocab_size"),
        (dict(n_features=0), r"n_features=0 is not supported"),
        (dict(n_outputs=0), r"n_outputs=0 is not supported"),
        (dict(vocab_size=10), r"vocab_size=10 needs embedding_dim"),
        (dict(vocab_size=0, embedding_dim=4), r"vocab_size=0 is not supported"),
        (dict(vocab_size=10, embedding_dim=0), r"embedding_dim=0 is not supported"),
        (
            dict(vocab_size=10, embedding_dim=4, padding_idx=10),
            r"padding_idx=10 is not supported; use None or an integer in \[0, 10\)",
        ),
        (dict(activation="swish", hidden_layer_sizes=(4,)), r"activation='swish' is not supported"),
    ],
)
def test_constructor_errors(kwargs, match):
    arguments = dict(n_features=5, n_outputs=3) | kwargs
    with pytest.raises(ValueError, match=match):
        RNN(**arguments)


def test_n_features_ignored_with_vocab_size():
    net = RNN(None, 2, vocab_size=VOCAB_SIZE, embedding_dim=4, padding_idx=None)
    assert net.embedding.padding_idx is None
    assert net.recurrent.input_size == 4


@pytest.mark.parametrize(
    ("tokens", "x", "lengths", "match"),
    [
        (
            False,
            torch.zeros(2, 3, 4),
            None,
            r"expects input of shape \(batch, time, 5\), got \(2, 3, 4\)",
        ),
        (
            False,
            torch.zeros(2, 3),
            None,
            r"expects input of shape \(batch, time, 5\), got \(2, 3\)",
        ),
        (
            False,
            torch.zeros(2, 3, 5, dtype=torch.long),
            None,
            r"expects floating-point input, got dtype torch.int64",
        ),
        (
            True,
            torch.zeros(2, 3),
            None,
            r"expects integer token ids of shape \(batch, time\), got dtype torch.float32",
        ),
        (
            True,
            torch.zeros(2, 3, 1, dtype=torch.long),
            None,
            r"got dtype torch.int64 and shape \(2, 3, 1\)",
        ),
        (
            False,
            torch.zeros(2, 3, 5),
            torch.tensor([3]),
            r"lengths must have shape \(2,\), one per sequence, got \(1,\)",
        ),
        (
            False,
            torch.zeros(2, 3, 5),
            torch.tensor([0, 3]),
            r"lengths must be in \[1, 3\] \(the padded length\), got values from 0 to 3",
        ),
        (
            True,
            torch.ones(2, 3, dtype=torch.long),
            torch.tensor([2, 4]),
            r"lengths must be in \[1, 3\]",
        ),
    ],
)
def test_forward_errors(tokens, x, lengths, match):
    with pytest.raises(ValueError, match=match):
        small_rnn(tokens=tokens)(x, lengths)
