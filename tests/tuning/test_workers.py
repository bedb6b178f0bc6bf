"""Running trials: a worker's share, the study-wide total of CLI workers, progress, seeds."""

import os
import threading
import time

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.storages import InMemoryStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from sknets.tuning import OptunaSearchCV
from sknets.tuning.storage import HeartbeatJournalStorage, claim_lock, resolve_storage
from sknets.tuning.workers import (
    TrialProgress,
    counted_trials,
    optuna_verbosity,
    run_share,
    run_until_study_has,
    worker_samplers,
)

pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used")


def draw(trial):
    return trial.suggest_float("x", 0, 1)


def failing(trial):
    trial.set_user_attr("fail_reason", "ValueError: no")
    raise ValueError("no")


def test_run_share_stops_at_its_count_or_deadline():
    study = optuna.create_study(direction="maximize")
    run_share(study, draw, n_trials=3, deadline=None, catch=())
    assert len(study.trials) == 3
    run_share(study, draw, n_trials=3, deadline=time.time() - 1, catch=())
    run_share(study, draw, n_trials=0, deadline=None, catch=())
    assert len(study.trials) == 3


def test_counted_trials_count_retries_once():
    study = optuna.create_study(direction="maximize")
    study.optimize(draw, n_trials=2)
    study.optimize(failing, n_trials=1, catch=(ValueError,))
    stale = study.ask()  # a trial whose worker died: failed without a reason
    study.tell(stale, state=TrialState.FAIL)
    study.ask()  # running
    study.enqueue_trial({"x": 0.5})  # waiting
    assert counted_trials(study) == (5, 1, 1)


def test_study_total_is_reached_across_calls():
    study = optuna.create_study(direction="maximize")
    run_until_study_has(study, draw, 3)
    run_until_study_has(study, draw, 5)
    assert len(study.trials) == 5
    run_until_study_has(study, draw, 5)
    assert len(study.trials) == 5


def test_failed_trials_count_so_a_broken_study_ends():
    study = optuna.create_study(direction="maximize")
    run_until_study_has(study, failing, 3)
    assert [trial.state for trial in study.trials] == [TrialState.FAIL] * 3


def test_waiting_trials_run_even_past_the_total():
    study = optuna.create_study(direction="maximize")
    study.optimize(draw, n_trials=2)
    study.enqueue_trial({"x": 0.25})
    run_until_study_has(study, draw, 2)
    assert study.trials[-1].state == TrialState.COMPLETE
    assert study.trials[-1].params == {"x": 0.25}


def test_worker_waits_for_a_running_trial_of_another_worker(tmp_path):
    storage = resolve_storage(tmp_path / "study.journal")
    study = optuna.create_study(storage=storage, direction="maximize")
    study.optimize(draw, n_trials=1)
    elsewhere = study.ask()  # another worker's trial, still running
    finisher = threading.Timer(0.6, lambda: study.tell(elsewhere, 0.5))
    start = time.perf_counter()
    finisher.start()
    run_until_study_has(study, draw, 2, poll_interval=0.1)
    assert time.perf_counter() - start >= 0.5
    assert len(study.trials) == 2
    assert all(trial.state == TrialState.COMPLETE for trial in study.trials)


def test_deadline_ends_the_worker():
    study = optuna.create_study(direction="maximize")
    run_until_study_has(study, draw, 100, deadline=time.time() - 1)
    assert study.trials == []


def test_worker_samplers_draw_differently():
    samplers = worker_samplers(optuna.samplers.RandomSampler(seed=0), 3)
    first_draws = set()
    for sampler in samplers:
        study = optuna.create_study(sampler=sampler)
        study.optimize(draw, n_trials=1)
        first_draws.add(study.trials[0].params["x"])
    assert len(first_draws) == 3


def test_optuna_verbosity_is_restored():
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    with optuna_verbosity(2):
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
    with optuna_verbosity(0):
        assert optuna.logging.get_verbosity() == optuna.logging.WARNING
    assert optuna.logging.get_verbosity() == optuna.logging.ERROR


def test_progress_counts_only_new_trials(capsys):
    study = optuna.create_study(direction="maximize")
    study.optimize(draw, n_trials=2)
    progress = TrialProgress(study, total=3, enabled=True)
    with progress.polling():
        study.optimize(draw, n_trials=3)
    progress.close()
    err = capsys.readouterr().err
    assert "3/3" in err and "complete=3" in err and "best=" in err


# ----------------------------------------------------------- worker processes of a search
LR = {"lr": FloatDistribution(1e-3, 1e-1, log=True)}


def test_worker_processes_share_the_study(small_digits, fast_mlp):
    X, y = small_digits
    search = OptunaSearchCV(fast_mlp(), LR, n_trials=4, cv=2, n_jobs=2, random_state=0)
    search.fit(X, y)
    assert search.n_trials_ == 4
    assert isinstance(search.study_._storage, InMemoryStorage)  # the temporary file is gone
    workers = {trial.user_attrs["worker"].rsplit(":", 1)[1] for trial in search.study_.trials}
    assert len(workers) == 2 and str(os.getpid()) not in workers
    # Each worker filled in the estimator's device="auto" with its own (the CPU here), on a
    # copy: the search's estimator is untouched.
    assert {trial.user_attrs["device"] for trial in search.study_.trials} == {"cpu"}
    assert search.estimator.device == "auto"
    # Workers were seeded apart: no two trials drew the same learning rate.
    assert len({trial.params["lr"] for trial in search.study_.trials}) == 4


def test_an_error_in_a_worker_process_is_raised_here(small_digits, fast_mlp):
    X, y = small_digits
    space = {"activation": CategoricalDistribution(["bogus"])}
    search = OptunaSearchCV(fast_mlp(), space, n_trials=2, cv=2, n_jobs=2, error_score="raise")
    with pytest.raises(ValueError, match="'activation' parameter of MLPClassifier must be"):
        search.fit(X, y)


# ------------------------------------------------------------ workers of one shared study
class PausingJournal(HeartbeatJournalStorage):
    """A journal that, when a stale trial is failed, starts ``on_fail`` and waits for it.

    It holds the failing worker between failing the dead worker's trial and queueing its
    retry, the moment when the study looks a trial short, until the other worker has counted
    the trials (or 1 s has passed: with the claim lock, the other worker cannot count then).
    """

    on_fail = None

    def __init__(self, path: str) -> None:
        super().__init__(
            JournalFileBackend(path),
            heartbeat_interval=1,
            grace_period=1,
            claim_lock_file=path + ".claim",
        )
        self.counted_meanwhile = threading.Event()
        self.pausing = False

    def set_trial_state_values(self, trial_id, state, values=None):
        changed = super().set_trial_state_values(trial_id, state, values)
        if state == TrialState.FAIL and self.on_fail is not None:
            on_fail, self.on_fail = self.on_fail, None
            self.pausing = True
            on_fail()
            self.counted_meanwhile.wait(timeout=1)
            self.pausing = False
        return changed

    def get_all_trials(self, study_id, deepcopy=True, states=None):
        trials = super().get_all_trials(study_id, deepcopy, states)
        if self.pausing and threading.current_thread().name == "other worker":
            self.counted_meanwhile.set()
        return trials


def test_no_worker_takes_a_place_while_another_requeues_a_dead_workers_trial(tmp_path):
    storage = PausingJournal(str(tmp_path / "study.journal"))
    study = optuna.create_study(storage=storage, study_name="shared", direction="maximize")
    study.optimize(draw, n_trials=2)
    dead = study.ask()  # its worker died: no heartbeat, stale once the grace period is over
    dead.suggest_float("x", 0, 1)
    time.sleep(1.5)

    def worker() -> None:
        shared = optuna.load_study(study_name="shared", storage=storage)
        run_until_study_has(shared, draw, 3, lock=claim_lock(storage, "shared"), poll_interval=0.05)

    other = threading.Thread(target=worker, name="other worker")
    storage.on_fail = other.start
    worker()  # fails the dead trial, so the other worker starts in the middle of it
    other.join(timeout=30)
    assert not other.is_alive()
    states = [trial.state for trial in study.get_trials()]
    # The dead trial failed, its retry ran; nobody added a fourth trial meanwhile.
    assert states.count(TrialState.COMPLETE) == 3 and states.count(TrialState.FAIL) == 1
    assert len(states) == 4
