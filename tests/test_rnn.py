"""RNNClassifier: input layouts, padding, tokens, gradient clipping and the sklearn contract."""

import pickle

import numpy as np
import optuna
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from sknets.modules import CELLS, RNN
from sknets.rnn import RNNClassifier
from sknets.text import TextToSequences

# ----------------------------------------------------------------------- fixtures
# device="cpu" here and below: "auto" would pick a GPU where there is one, and these tests
# compare seeded fits and predictions to float64 precision, which only the CPU path promises.
FAST = {"hidden_size": 16, "max_epochs": 25, "lr": 0.02, "random_state": 0, "device": "cpu"}


def sign_of_first_step(n_samples=160, n_steps=8, n_features=2, seed=0):
    """Class = sign of the first step's first feature: the net must remember it."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_steps, n_features)).astype(np.float32)
    return X, (X[:, 0, 0] > 0).astype(int)


def ragged_sequences(n_samples=60, n_features=2, seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 9, size=n_samples)
    X = [rng.normal(size=(length, n_features)) for length in lengths]
    y = np.array([sequence[:, 0].sum() > 0 for sequence in X]).astype(int)
    return X, y


# ---------------------------------------------------------------- architectures
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_each_cell_learns_a_sequence_task(cell, bidirectional):
    X, y = sign_of_first_step()
    clf = RNNClassifier(cell, bidirectional=bidirectional, **FAST).fit(X, y)
    assert isinstance(clf.module_, RNN)
    assert isinstance(clf.module_.recurrent, CELLS[cell])
    assert clf.module_.recurrent.bidirectional is bidirectional
    # Training accuracy over random_state 0-9: 0.81 to 1.0 for the forward-only LSTM (the
    # slowest to carry the first step through 8), 0.92 to 1.0 for the others; shuffled labels
    # give 0.5. 0.7 survives another CPU's trajectory as it survives another seed.
    assert clf.score(X, y) > 0.7


def test_architecture_parameters_reach_the_module():
    X, y = sign_of_first_step(n_samples=20)
    clf = RNNClassifier(
        "gru",
        12,
        num_layers=2,
        dropout=0.3,
        sequence_pooling="max",
        hidden_layer_sizes=(7,),
        activation="tanh",
        head_dropout=0.2,
        max_epochs=1,
    ).fit(X, y)
    recurrent = clf.module_.recurrent
    assert (recurrent.hidden_size, recurrent.num_layers, recurrent.dropout) == (12, 2, 0.3)
    assert clf.module_.summary == "max"
    head = [type(layer).__name__ for layer in clf.module_.head.layers]
    assert head == ["Linear", "Tanh", "Dropout", "Linear"]
    assert clf.module_.head.layers[0].out_features == 7


# ------------------------------------------------------------------- input layouts
def test_univariate_rows_equal_three_d_with_one_feature():
    X, y = sign_of_first_step(n_features=1)
    from_3d = RNNClassifier(**FAST).fit(X, y)
    from_2d = RNNClassifier(**FAST).fit(X[:, :, 0], y)
    assert (from_3d.n_features_in_, from_2d.n_features_in_) == (1, 8)
    np.testing.assert_allclose(
        from_2d.predict_proba(X[:, :, 0]), from_3d.predict_proba(X), atol=1e-6
    )
    # A model fitted on sequences reads 2-D rows as univariate sequences of any length.
    assert from_3d.predict(X[:5, :3, 0]).shape == (5,)


def test_flat_rows_with_input_shape_equal_three_d_and_work_after_a_scaler():
    X, y = sign_of_first_step(n_steps=4, n_features=3)
    flat = X.reshape(len(X), -1)
    from_3d = RNNClassifier(**FAST).fit(X, y)
    from_flat = RNNClassifier(input_shape=(4, 3), **FAST).fit(flat, y)
    assert (from_3d.n_features_in_, from_flat.n_features_in_) == (3, 12)
    np.testing.assert_allclose(from_flat.predict_proba(flat), from_3d.predict_proba(X), atol=1e-6)
    pipeline = make_pipeline(StandardScaler(), RNNClassifier(input_shape=(4, 3), **FAST))
    assert pipeline.fit(flat, y).score(flat, y) > 0.9


def test_pandas_dataframe_and_series_of_sequences():
    X, y = sign_of_first_step(n_features=1)
    frame = pd.DataFrame(X[:, :, 0], columns=[f"t{step}" for step in range(8)])
    clf = RNNClassifier(**FAST).fit(frame, pd.Series(y))
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)
    sequences, labels = ragged_sequences()
    series = pd.Series(sequences, dtype=object)
    from_series = RNNClassifier(**FAST).fit(series, pd.Series(labels))
    assert from_series.n_features_in_ == 2
    assert not hasattr(from_series, "feature_names_in_")
    np.testing.assert_allclose(
        from_series.predict_proba(series),
        RNNClassifier(**FAST).fit(sequences, labels).predict_proba(sequences),
    )


def test_a_list_of_equal_length_rows_is_a_table_and_ragged_lists_are_sequences():
    X, y = sign_of_first_step(n_features=1)
    assert RNNClassifier(max_epochs=1).fit(X[:, :, 0].tolist(), y).n_features_in_ == 8
    sequences, labels = ragged_sequences(n_features=3)
    assert RNNClassifier(max_epochs=1).fit(sequences, labels).n_features_in_ == 3


def test_ragged_sequences_are_learned():
    X, y = ragged_sequences(n_samples=200)
    clf = RNNClassifier(sequence_pooling="mean", **FAST).fit(X, y)
    assert clf.score(X, y) > 0.9


@pytest.mark.parametrize(
    ("cell", "bidirectional", "sequence_pooling"),
    [("lstm", False, "last"), ("gru", True, "last"), ("rnn", True, "mean"), ("lstm", True, "max")],
)
def test_padding_never_changes_a_prediction(cell, bidirectional, sequence_pooling):
    X, y = ragged_sequences()
    clf = RNNClassifier(
        cell,
        8,
        bidirectional=bidirectional,
        sequence_pooling=sequence_pooling,
        max_epochs=2,
        random_state=0,
        device="cpu",
    ).fit(X, y)
    short = np.random.default_rng(1).normal(size=(3, 2))
    longer = [np.full((9, 2), 50.0), short, np.full((6, 2), -50.0)]
    alone = clf.predict_proba([short])
    # Prediction runs in float64 on the CPU and packs each row's valid steps only: alone or
    # among longer rows, the row meets the same computation up to ~1e-15 rounding.
    np.testing.assert_allclose(clf.predict_proba(longer)[1:2], alone, atol=1e-6)
    # Guard: had the padding been read, the prediction would differ.
    padded = np.vstack([short, np.zeros((6, 2))])
    assert not np.allclose(clf.predict_proba([padded]), alone, atol=1e-6)


# --------------------------------------------------------------------------- text
POSITIVE = ["good", "great", "fine", "lovely"]
NEGATIVE = ["bad", "awful", "poor", "boring"]


def sentiment_texts(n_samples=160, seed=0):
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n_samples):
        label = int(rng.integers(2))
        word = rng.choice(POSITIVE if label else NEGATIVE)
        filler = " ".join(rng.choice(["the", "film", "was", "really", "plot"], rng.integers(0, 5)))
        texts.append(f"{filler} {word} {filler}".strip())
        labels.append("positive" if label else "negative")
    return texts, np.array(labels)


def test_text_pipeline_learns_and_reads_unknown_tokens():
    texts, labels = sentiment_texts()
    pipeline = make_pipeline(
        TextToSequences(), RNNClassifier("gru", vocab_size="auto", embedding_dim=8, **FAST)
    ).fit(texts, labels)
    assert pipeline.score(texts, labels) > 0.95
    to_ids, clf = pipeline.steps[0][1], pipeline.steps[1][1]
    assert clf.vocab_size_ == to_ids.vocab_size_
    assert clf.module_.embedding.num_embeddings == to_ids.vocab_size_
    predictions = pipeline.predict(["zebra great", "zebra zebra awful", "!!"])
    np.testing.assert_array_equal(predictions[:2], ["positive", "negative"])


def test_token_ids_beyond_the_vocabulary_read_as_out_of_vocabulary():
    texts, labels = sentiment_texts()
    ids = TextToSequences().fit_transform(texts)
    clf = RNNClassifier(vocab_size="auto", embedding_dim=8, max_epochs=2, device="cpu")
    clf.fit(ids, labels)
    unseen = np.array([[2, 500, 3, 0]])
    out_of_vocabulary = np.array([[2, 1, 3, 0]])
    np.testing.assert_allclose(clf.predict_proba(unseen), clf.predict_proba(out_of_vocabulary))
    # Trailing zeros are padding; token lists of any length give the same result.
    np.testing.assert_allclose(
        clf.predict_proba([[2, 1, 3], [4, 5]]),
        clf.predict_proba(np.array([[2, 1, 3], [4, 5, 0]])),
        atol=1e-6,
    )


def test_explicit_vocab_size_and_token_lists():
    sequences = [[2, 3, 4], [5], [6, 7], [3, 3, 3, 3]] * 5
    labels = [0, 1, 0, 1] * 5
    clf = RNNClassifier(vocab_size=50, embedding_dim=4, max_epochs=1).fit(sequences, labels)
    assert clf.vocab_size_ == 50
    assert clf.n_features_in_ == 1
    message = r"token id 60 but vocab_size=50; ids must be in \[0, 50\)"
    with pytest.raises(ValueError, match=message):
        clf.fit([[2, 60], [3]], [0, 1])


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.array([[1.5, 2.0], [3.0, 0.0]]), "integer token ids .* got dtype float64"),
        (np.ones((2, 3, 2), dtype=int), r"integer token ids .* shape \(2, 3, 2\)"),
        (np.array([[2, -1], [3, 4]]), "token id -1; ids must be >= 0"),
    ],
)
def test_token_input_errors(X, message):
    with pytest.raises(ValueError, match=message):
        RNNClassifier(vocab_size="auto", max_epochs=1).fit(X, [0, 1])


def test_input_shape_with_tokens_is_an_error():
    with pytest.raises(ValueError, match=r"input_shape=\(2, 1\) is for numeric rows"):
        RNNClassifier(vocab_size="auto", input_shape=(2, 1)).fit([[2, 3], [4, 5]], [0, 1])


# ---------------------------------------------------------------- gradient clipping
class GradientNormSpy(Callback):
    """Record the global gradient norm the optimizer stepped with, after any clipping."""

    def initialize(self):
        self.norms_ = []
        return self

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            gradients = [p.grad.norm() for p in net.module_.parameters() if p.grad is not None]
            self.norms_.append(torch.stack(gradients).norm().item())


def recorded_norms(**params):
    rng = np.random.default_rng(0)
    X = rng.normal(scale=5.0, size=(64, 20, 3))
    y = (X[:, -1, 0] > 0).astype(int)
    spy = GradientNormSpy()
    clf = RNNClassifier(
        hidden_size=32, max_epochs=3, random_state=0, callbacks=[("spy", spy)], **params
    ).fit(X, y)
    return clf, np.array(dict(clf.net_.callbacks_)["spy"].norms_)


def test_clipping_auto_bounds_plain_rnn_gradients():
    clf, norms = recorded_norms(cell="rnn")
    assert "gradient_clipping" in dict(clf.net_.callbacks_)
    assert norms.max() <= 1.0 + 1e-4
    _, unclipped = recorded_norms(cell="rnn", clip_grad_norm=None)
    assert unclipped.max() > 1.5  # guard: the bound above is not met by chance


def test_clipping_auto_is_off_for_gated_cells_and_a_float_sets_the_bound():
    clf, norms = recorded_norms(cell="lstm")
    assert "gradient_clipping" not in dict(clf.net_.callbacks_)
    assert norms.max() > 0.2
    _, clipped = recorded_norms(cell="lstm", clip_grad_norm=0.2)
    assert clipped.max() <= 0.2 + 1e-4


# ------------------------------------------------------------------ estimator contract
def test_sample_weight_equals_repetition():
    X, y = sign_of_first_step(n_samples=15, n_features=1)
    weights = np.random.default_rng(0).integers(0, 4, size=15)
    params = {"hidden_size": 8, "lr": 3e-3, "max_epochs": 20, "batch_size": 1024, "device": "cpu"}
    weighted = RNNClassifier(random_state=0, **params).fit(X, y, sample_weight=weights)
    repeated = RNNClassifier(random_state=0, **params).fit(X.repeat(weights, 0), y.repeat(weights))
    # One full batch per epoch: the two losses are the same sum in another order, so the
    # fits part by float32 rounding only: measured 4e-9 to 6e-9 over random_state 0-3, and
    # below 1e-7 with the repeated rows moved by 1e-6. 1e-5 leaves a 100x margin.
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-5)


def test_partial_fit_pickle_and_history_on_ragged_input():
    X, y = ragged_sequences()
    clf = RNNClassifier(hidden_size=8, random_state=0, device="cpu")
    clf.partial_fit(X, y, classes=[0, 1]).partial_fit(X, y)
    assert clf.n_epochs_ == 2
    assert list(clf.history_.index) == [1, 2]
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_suggest_params_gives_scalars_that_set_params_accepts():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(5):
        trial = study.ask()
        params = RNNClassifier().suggest_params(trial)
        assert {"cell", "hidden_size", "num_layers", "bidirectional", "lr"} <= set(params)
        assert set(trial.params) <= set(params) | {"dropout"}
        RNNClassifier().set_params(**params)._validate_params()
        if params["num_layers"] == 1:
            assert params["dropout"] == 0.0


# ----------------------------------------------------------------------------- errors
def test_ragged_input_is_validated_like_arrays():
    X, y = ragged_sequences(n_samples=6)
    with_nan = [*X[:-1], np.array([[0.0, np.nan]])]
    with pytest.raises(ValueError, match="Input X contains NaN"):
        RNNClassifier().fit(with_nan, y)
    with_inf = [*X[:-1], np.array([[0.0, np.inf]])]
    with pytest.raises(ValueError, match="Input X contains infinity"):
        RNNClassifier().fit(with_inf, y)
    with pytest.raises(ValueError, match="sequence 1 is empty"):
        RNNClassifier().fit([X[0], np.empty((0, 2)), X[2]], y[:3])
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[6, 5\]"):
        RNNClassifier().fit(X, y[:-1])
    with pytest.raises(ValueError, match="Input y contains NaN"):
        RNNClassifier().fit(X, [0, 1, np.nan, 0, 1, 0])


def test_feature_count_must_match_between_fit_and_predict():
    X, y = ragged_sequences(n_samples=20)
    clf = RNNClassifier(max_epochs=1).fit(X, y)
    message = "X has 3 features per time step, but RNNClassifier was fitted with 2"
    with pytest.raises(ValueError, match=message):
        clf.predict([np.zeros((4, 3)), np.zeros((2, 3))])
    with pytest.raises(ValueError, match=message):
        clf.predict(np.zeros((5, 4, 3)))
    with pytest.raises(ValueError, match="X has 1 features per time step"):
        clf.predict(np.zeros((5, 4)))


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.zeros((4, 0, 2)), r"X has shape \(4, 0, 2\); use \(n_samples, n_steps, n_features\)"),
        (np.zeros((4, 3, 0)), r"X has shape \(4, 3, 0\)"),
        (np.zeros((0, 3, 2)), "Found array with 0 sample"),
    ],
)
def test_empty_three_d_input(X, message):
    with pytest.raises(ValueError, match=message):
        RNNClassifier().fit(X, np.arange(len(X)) % 2)


ROWS = np.zeros((4, 8))
PARAMETER_ERRORS = [
    ({"input_shape": (3, 3)}, r"input_shape=\(3, 3\) needs 9 features per row, got 8"),
    ({"input_shape": (8,)}, r"input_shape=\(8,\) is not supported; use None"),
    ({"input_shape": (2, 0)}, r"input_shape=\(2, 0\) is not supported"),
    ({"hidden_layer_sizes": (8, 0)}, r"hidden_layer_sizes=\(8, 0\) must hold positive"),
    ({"cell": "transformer"}, "'cell' parameter of RNNClassifier must be a str among"),
    ({"sequence_pooling": "first"}, "'sequence_pooling' parameter of RNNClassifier"),
    ({"vocab_size": 1}, "'vocab_size' parameter of RNNClassifier"),
    ({"clip_grad_norm": 0.0}, "'clip_grad_norm' parameter of RNNClassifier"),
]


@pytest.mark.parametrize(("params", "message"), PARAMETER_ERRORS)
def test_parameter_errors(params, message):
    with pytest.raises(ValueError, match=message):
        RNNClassifier(max_epochs=1, **params).fit(ROWS, [0, 1, 0, 1])


def test_input_shape_must_match_the_features_of_three_d_input():
    message = r"input_shape=\(4, 2\) has 2 features per step but X has 3"
    with pytest.raises(ValueError, match=message):
        RNNClassifier(input_shape=(4, 2)).fit(np.zeros((4, 4, 3)), [0, 1, 0, 1])


# ---------------------------------------------------------------- accuracy target
def test_lstm_reads_digits_row_by_row_above_92_percent():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16, y, test_size=0.25, stratify=y, random_state=42
    )
    # A second or two. Measured on the CPU: 0.973 for random_state=42, 0.960 to 0.980 (9 to
    # 18 errors of 450) over random_state 0-5 and 42, and the same 0.973 after moving the
    # training inputs by 1e-6 or 1e-7. Another CPU's rounding changes the trajectory less
    # than another seed: 0.92 (up to 36 errors, twice the worst measured) leaves room for it,
    # and still fails a broken net (chance 0.1).
    clf = RNNClassifier(
        "lstm", input_shape=(8, 8), lr=5e-3, max_epochs=30, random_state=42, device="cpu"
    )
    assert clf.fit(X_train, y_train).score(X_test, y_test) >= 0.92
