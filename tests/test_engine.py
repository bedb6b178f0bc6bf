"""The skorch engine: device choice, seeding, weighted loss, validation accuracy."""

import numpy as np
import pytest
import torch
from sklearn.metrics import get_scorer
from skorch.callbacks import Callback, EpochTimer

from sknets import MLPClassifier, MLPRegressor
from sknets._data import ArrayData
from sknets._engine import ContinuingLRScheduler, EngineNet, ValidAccuracy, resolve_device, seeded
from sknets._tasks import MultiLabel, SingleLabel
from sknets.base import has_fused_step


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


def make_net(task=None, **kwargs):
    task = task or SingleLabel(3)
    net = EngineNet(
        module=torch.nn.Linear(2, 3),
        task=task,
        criterion=task.criterion,
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
        task = SingleLabel(2)

    callback = ValidAccuracy()
    callback.on_epoch_begin(Net)
    logits = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    callback.on_batch_end(Net, batch=(None, torch.tensor([0, 0, 0])), training=True, y_pred=logits)
    callback.on_batch_end(Net, batch=(None, torch.tensor([0, 1, 1])), training=False, y_pred=logits)
    callback.on_epoch_end(Net)
    assert Net.history == [("valid_accuracy", 2 / 3)]


def test_multilabel_loss_accuracy_and_weights():
    net = make_net(MultiLabel(3))
    logits = torch.tensor([[2.0, -1.0, 0.5], [-2.0, 1.0, -0.5]])
    targets = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    per_row = bce(logits, targets, reduction="none").mean(dim=1)
    torch.testing.assert_close(net.get_loss(logits, targets), per_row.mean())
    weights = torch.tensor([1.0, 3.0])
    weighted = net.get_loss(logits, (targets, weights))
    torch.testing.assert_close(weighted, (per_row * weights).sum() / 4)
    # Subset accuracy: the second row has one label wrong.
    assert net.task.n_correct(logits, targets).item() == 1


def test_batch_callbacks_see_targets_without_weights():
    seen = []

    class Spy(ValidAccuracy):
        def on_batch_end(self, net, batch=None, **kwargs):
            seen.append(batch[1])

    net = make_net(callbacks=[("spy", Spy())])
    net.history.new_epoch()
    net.history.new_batch()
    targets, weights = torch.tensor([0, 1]), torch.tensor([2.0, 1.0])
    net.notify("on_batch_end", batch=(torch.zeros(2, 2), (targets, weights)), training=True)
    assert len(seen) == 1 and torch.equal(seen[0], targets)
    # The batch counts by its weight in the epoch's mean loss.
    assert net.history[-1, "batches", -1, "train_batch_size"] == 3.0


@pytest.mark.parametrize("task", [SingleLabel(3), MultiLabel(3)], ids=["single", "multi"])
def test_the_net_answers_scorers_on_encoded_targets(task):
    # What skorch's EpochScoring calls: scorer(net, dataset, encoded targets).
    net = make_net(task)
    inputs = torch.randn(20, 2)
    logits = net.module_(inputs).detach()
    assert np.array_equal(net.classes_, [0, 1, 2])
    decisions = net.predict(ArrayData(inputs))
    np.testing.assert_array_equal(decisions, task.decide(logits).numpy())
    np.testing.assert_allclose(net.predict_proba(ArrayData(inputs)), task.proba(logits).numpy())
    targets = decisions if task.multilabel else np.arange(20) % 3
    f1 = get_scorer("f1_macro")(net, ArrayData(inputs), targets)
    assert (f1 == 1.0) == task.multilabel and 0 <= f1 <= 1


def test_continuing_scheduler_keeps_its_state_across_training_calls():
    net = make_net()
    schedule = ContinuingLRScheduler(
        torch.optim.lr_scheduler.ReduceLROnPlateau, monitor="train_loss", patience=0
    ).initialize()
    schedule.on_train_begin(net)
    first = schedule.lr_scheduler_
    schedule.on_train_begin(net)
    assert schedule.lr_scheduler_ is first
    net.initialize_optimizer()
    schedule.on_train_begin(net)
    assert schedule.lr_scheduler_ is not first


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


class _Counting(Callback):
    """Counts the events its class defines a method for."""

    def __init__(self):
        self.batches_begun = 0
        self.gradients_seen = 0

    def on_batch_begin(self, net, **kwargs):
        self.batches_begun += 1

    def on_grad_computed(self, net, named_parameters=None, **kwargs):
        assert all(parameter.grad is not None for _, parameter in named_parameters)
        self.gradients_seen += 1


def test_events_reach_the_callbacks_that_define_them_and_no_others():
    X, y = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32), np.arange(40) % 2
    counting = _Counting()
    model = MLPClassifier((4,), batch_size=10, max_epochs=2, callbacks=[counting]).fit(X, y)
    copied = dict(model.net_.callbacks_)["_Counting"]  # callbacks are copied at fit
    assert (copied.batches_begun, copied.gradients_seen) == (8, 8)  # 4 batches x 2 epochs
    net = model.net_
    assert net._listeners("on_batch_begin") == [copied]
    # Of the built-in callbacks only the validation accuracy acts on batches; a regressor's
    # act at epoch boundaries alone, so no per-batch call reaches them.
    assert [type(callback) for callback in net._listeners("on_batch_end")] == [ValidAccuracy]
    regressor = MLPRegressor((4,), max_epochs=1).fit(X, X[:, 0])
    assert regressor.net_._listeners("on_batch_end") == []
    assert any(isinstance(callback, EpochTimer) for callback in net._listeners("on_epoch_end"))


def test_named_optimizers_take_the_fused_step_where_the_device_has_one():
    X, y = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32), np.arange(40) % 2
    for name, fused in (("adam", True), ("adamw", True), ("sgd", True), ("rmsprop", None)):
        model = MLPClassifier((4,), optimizer=name, max_epochs=1).fit(X, y)
        assert model.net_.optimizer_.defaults.get("fused") is fused, name
    # A class the user passes is used as given.
    model = MLPClassifier((4,), optimizer=torch.optim.Adam, max_epochs=1).fit(X, y)
    assert not model.net_.optimizer_.defaults.get("fused")
    assert has_fused_step(torch.optim.Adam, torch.device("cpu"))
    assert not has_fused_step(torch.optim.RMSprop, torch.device("cpu"))


def test_fused_and_default_steps_train_the_same_network():
    """The fused kernel computes Adam's update with another rounding: equal to float32
    precision over a short fit (measured 1e-7 apart after 8 steps)."""
    X, y = np.random.default_rng(0).normal(size=(80, 3)).astype(np.float32), np.arange(80) % 2
    fused = MLPClassifier((4,), batch_size=20, max_epochs=2, random_state=0).fit(X, y)
    plain = MLPClassifier(
        (4,), optimizer=torch.optim.Adam, batch_size=20, max_epochs=2, random_state=0
    ).fit(X, y)
    for a, b in zip(fused.module_.parameters(), plain.module_.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
