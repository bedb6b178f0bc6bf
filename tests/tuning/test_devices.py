"""Devices of the workers: GPUs round-robin, explicit devices, and how workers receive them.

No test needs a GPU: the number of GPUs torch sees is monkeypatched, and nothing trains on
the CUDA devices named.
"""

import optuna
import pytest
import torch
from optuna.distributions import FloatDistribution
from sklearn.base import clone
from sklearn.linear_model import SGDClassifier

from sknets.tuning import OptunaSearchCV, workers
from sknets.tuning.devices import (
    assign_devices,
    estimator_on_device,
    objective_on_device,
    use_device,
)
from sknets.tuning.objective import DEVICE
from sknets.tuning.spaces import final_step
from sknets.tuning.storage import resolve_storage

LR = {"lr": FloatDistribution(1e-3, 1e-1, log=True)}


@pytest.fixture
def set_device_calls(monkeypatch):
    """The devices passed to ``torch.cuda.set_device`` (recorded, never reaching CUDA)."""
    calls = []
    monkeypatch.setattr(torch.cuda, "set_device", calls.append)
    return calls


# ---------------------------------------------------------------------- assign_devices
@pytest.mark.parametrize(
    ("n_gpus", "n_workers", "expected"),
    [
        (8, 8, [f"cuda:{index}" for index in range(8)]),
        (2, 3, ["cuda:0", "cuda:1", "cuda:0"]),
        (4, 2, ["cuda:0", "cuda:1"]),
        (1, 2, ["cuda:0", "cuda:0"]),
        (0, 3, ["cpu", "cpu", "cpu"]),
    ],
)
def test_auto_spreads_workers_over_the_visible_gpus(gpus, n_gpus, n_workers, expected):
    gpus(n_gpus)
    assert assign_devices(n_workers) == expected
    assert assign_devices(n_workers, "auto") == expected


def test_n_gpus_overrides_what_torch_sees(gpus):
    gpus(0)
    assert assign_devices(3, n_gpus=2) == ["cuda:0", "cuda:1", "cuda:0"]
    gpus(8)
    assert assign_devices(2, n_gpus=0) == ["cpu", "cpu"]


def test_one_device_is_every_workers(gpus):
    gpus(2)
    assert assign_devices(3, "cuda:1") == ["cuda:1"] * 3
    assert assign_devices(2, torch.device("cuda", 0)) == ["cuda:0"] * 2
    assert assign_devices(2, "cpu") == ["cpu", "cpu"]


def test_a_list_is_used_in_order_and_repeated(gpus):
    gpus(2)
    given = ["cuda:0", "cuda:0", "cuda:1"]
    assert assign_devices(3, given) == given
    assert assign_devices(5, ("cuda:1", "cpu")) == ["cuda:1", "cpu", "cuda:1", "cpu", "cuda:1"]
    assert assign_devices(1, [torch.device("cuda", 1), "cpu"]) == ["cuda:1"]


@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("gpu", r"device='gpu' is not a torch device; use 'auto', 'cpu', 'cuda'"),
        ("cuda:2", r"device='cuda:2' but only 2 CUDA device\(s\) exist"),
        (["cpu", "tpu"], r"entry 1 of device=\['cpu', 'tpu'\]: device='tpu' is not a torch"),
        (["cuda:0", "auto"], r"entry 1 of device=\['cuda:0', 'auto'\] is 'auto', which"),
        ([], r"device=\[\] must be 'auto', one device such as 'cuda:1', or a non-empty list"),
        (3, r"device=3 must be 'auto', one device"),
    ],
)
def test_unknown_or_missing_devices_are_refused(gpus, device, message):
    gpus(2)
    with pytest.raises(ValueError, match=message):
        assign_devices(2, device)


def test_cuda_without_a_gpu_is_refused(gpus):
    gpus(0)
    with pytest.raises(ValueError, match="device='cuda' but cuda is not available"):
        assign_devices(1, "cuda")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"n_workers": 0}, r"n_workers=0 must be an int >= 1"),
        ({"n_workers": 2, "n_gpus": -1}, r"n_gpus=-1 must be None or an int >= 0"),
    ],
)
def test_counts_are_checked(arguments, message):
    with pytest.raises(ValueError, match=message):
        assign_devices(**arguments)


# ----------------------------------------------------- what a worker does with its device
def test_the_device_fills_in_auto_on_a_copy(fast_mlp, fast_pipeline):
    pipeline = fast_pipeline()
    placed = estimator_on_device(pipeline, "cuda:1")
    assert placed is not pipeline and placed[-1].device == "cuda:1"
    assert pipeline[-1].device == "auto"
    assert estimator_on_device(fast_mlp(), "cuda:3").device == "cuda:3"


def test_a_device_set_on_the_estimator_wins(fast_mlp, fast_pipeline):
    for estimator in (fast_mlp(device="cpu"), fast_pipeline(device="cpu")):
        assert estimator_on_device(estimator, "cuda:1") is estimator
    # An estimator without a device parameter trains where it trains.
    other = SGDClassifier()
    assert estimator_on_device(other, "cuda:1") is other


def test_use_device_sets_the_current_gpu_and_leaves_the_cpu_alone(set_device_calls):
    use_device("cpu")
    use_device("cuda")  # no index: torch's current device stays
    assert set_device_calls == []
    use_device("cuda:3")
    assert set_device_calls == [torch.device("cuda", 3)]


class DeviceRecorder:
    """An objective that records the device of its estimator's final step, and scores 0."""

    deadline = None

    def __init__(self, estimator) -> None:
        self.estimator = estimator

    def __call__(self, trial: optuna.Trial) -> float:
        trial.set_user_attr(DEVICE, final_step(self.estimator)[0].device)
        return 0.0


def test_a_worker_trains_on_its_device(tmp_path, fast_pipeline, set_device_calls):
    journal = str(tmp_path / "study.journal")
    optuna.create_study(storage=resolve_storage(journal), study_name="s", direction="maximize")
    objective = DeviceRecorder(fast_pipeline())
    workers._worker(
        objective,
        journal,
        "s",
        optuna.samplers.RandomSampler(seed=0),
        optuna.pruners.NopPruner(),
        device="cuda:1",
        heartbeat_interval=30,
        verbose=0,
        n_trials=2,
        deadline=None,
        catch=(),
    )
    study = optuna.load_study(study_name="s", storage=resolve_storage(journal))
    assert [trial.user_attrs[DEVICE] for trial in study.trials] == ["cuda:1", "cuda:1"]
    assert set_device_calls == [torch.device("cuda", 1)]
    assert objective.estimator[-1].device == "auto"


def test_worker_i_gets_device_i(monkeypatch):
    started = []
    monkeypatch.setattr(workers, "_worker", lambda *args, **kwargs: started.append(kwargs))
    # Run the tasks here, one after another, instead of in processes.
    monkeypatch.setattr(
        workers, "Parallel", lambda **_: lambda tasks: [f(*a, **k) for f, a, k in tasks]
    )
    workers.run_in_processes(
        DeviceRecorder(None),
        "unused.journal",
        "s",
        samplers=[None] * 3,
        pruner=None,
        shares=[2, 1, 1],
        devices=["cuda:0", "cuda:1", "cuda:0"],
        deadline=None,
        catch=(),
    )
    assert [(kwargs["device"], kwargs["n_trials"]) for kwargs in started] == [
        ("cuda:0", 2),
        ("cuda:1", 1),
        ("cuda:0", 1),
    ]


def test_objective_on_device_shares_the_data(fast_mlp):
    objective = DeviceRecorder(fast_mlp())
    objective.X = object()
    placed = objective_on_device(objective, "cpu")
    assert placed is not objective and placed.X is objective.X
    assert placed.estimator.device == "cpu" and objective.estimator.device == "auto"


# ------------------------------------------------------------------------ OptunaSearchCV
def test_worker_devices_is_a_parameter():
    search = OptunaSearchCV(SGDClassifier(), worker_devices=["cuda:0", "cuda:1"])
    assert search.get_params()["worker_devices"] == ["cuda:0", "cuda:1"]
    assert clone(search).worker_devices == ["cuda:0", "cuda:1"]
    assert OptunaSearchCV(SGDClassifier()).worker_devices == "auto"


def test_search_trials_record_their_device(small_digits, fast_mlp, gpus):
    X, y = small_digits
    # Two GPUs seen, but the estimator's own device="cpu" wins, so training stays possible.
    gpus(2)
    search = OptunaSearchCV(fast_mlp(device="cpu"), LR, n_trials=1, cv=2, random_state=0)
    search.fit(X, y)
    assert {trial.user_attrs[DEVICE] for trial in search.study_.trials} == {"cpu"}
    gpus(0)
    search.set_params(estimator=fast_mlp(), worker_devices=["cpu"]).fit(X, y)
    assert {trial.user_attrs[DEVICE] for trial in search.study_.trials} == {"cpu"}


@pytest.mark.parametrize(
    ("worker_devices", "message"),
    [
        ("cuda:5", r"worker_devices='cuda:5': device='cuda:5' but cuda is not available"),
        (["cpu", "gpu"], r"worker_devices=\['cpu', 'gpu'\]: entry 1 of device"),
        (7, r"The 'worker_devices' parameter of OptunaSearchCV must be"),
    ],
)
def test_search_refuses_unknown_worker_devices(
    small_digits, fast_mlp, gpus, worker_devices, message
):
    X, y = small_digits
    gpus(0)
    search = OptunaSearchCV(fast_mlp(), LR, n_trials=1, cv=2, worker_devices=worker_devices)
    with pytest.raises(ValueError, match=message):
        search.fit(X, y)
