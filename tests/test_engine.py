"""The skorch engine: device choice, seeding, weighted loss, validation accuracy."""

import pytest
import torch

from sknets._engine import EngineNet, ValidAccuracy, resolve_device, seeded


def test_auto_device_prefers_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")


def test_explicit_devices(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(ValueError, match="device='cuda:2' but only 2 CUDA device"):
        resolve_device("cuda:2")


def test_unavailable_and_unknown_devices(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="device='cuda' but cuda is not available"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="device='tpu' is not a torch device"):
        resolve_device("tpu")


def test_seeded_is_reproducible_and_restores_the_global_state():
    torch.manual_seed(5)
    outside_next = torch.rand(1)
    torch.manual_seed(5)
    with seeded(3, torch.device("cpu")):
        first = torch.rand(2)
    with seeded(3, torch.device("cpu")):
        second = torch.rand(2)
    torch.testing.assert_close(first, second)
    assert torch.rand(1) == outside_next


def make_net(**kwargs):
    net = EngineNet(
        module=torch.nn.Linear(2, 3),
        criterion=torch.nn.CrossEntropyLoss,
        train_split=None,
        verbose=0,
        **kwargs,
    )
    return net.initialize()


def test_weighted_loss_is_the_weighted_mean():
    net = make_net()
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    targets = torch.tensor([0, 0])
    per_sample = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
    weights = torch.tensor([3.0, 1.0])
    loss = net.get_loss(logits, (targets, weights))
    torch.testing.assert_close(loss, (per_sample * weights).sum() / 4)
    torch.testing.assert_close(net.get_loss(logits, targets), per_sample.mean())


def test_mixed_precision_forward_returns_float32():
    net = make_net(mixed_precision=True)
    assert net.infer(torch.randn(4, 2)).dtype == torch.float32


def test_valid_accuracy_counts_validation_batches_only():
    class History(list):
        def record(self, key, value):
            self.append((key, value))

    class Net:
        history = History()

    callback = ValidAccuracy()
    callback.on_epoch_begin(Net)
    logits = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    callback.on_batch_end(Net, batch=(None, torch.tensor([0, 0, 0])), training=True, y_pred=logits)
    callback.on_batch_end(Net, batch=(None, torch.tensor([0, 1, 1])), training=False, y_pred=logits)
    callback.on_epoch_end(Net)
    assert Net.history == [("valid_accuracy", 2 / 3)]


def test_epoch_table_is_plain_text_when_stdout_is_not_a_terminal(capsys, monkeypatch):
    import numpy as np

    from sknets import MLPClassifier

    X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    params = {"hidden_layer_sizes": (4,), "max_epochs": 3, "verbose": 1, "device": "cpu"}
    MLPClassifier(**params, n_iter_no_change=np.inf).fit(X, y)
    table = capsys.readouterr().out
    assert "train_loss" in table and "\x1b[" not in table  # capsys is not a terminal
    monkeypatch.setattr("sknets._engine._stdout_is_a_terminal", lambda: True)
    MLPClassifier(**params, n_iter_no_change=np.inf).fit(X, y)
    assert "\x1b[" in capsys.readouterr().out  # a terminal keeps skorch's colours
