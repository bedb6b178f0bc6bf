"""Running trials: in this process, in worker processes sharing a storage, or as a CLI worker.

Training is CPU-bound Python, so parallel trials run in processes (joblib's loky backend,
which also caps each worker's thread pools at ``cores // n_jobs``), never in threads. The
workers share nothing but the study's storage. Each worker trains on its own device (see
``sknets.tuning.devices``): worker ``i`` on GPU ``i % n_gpus`` when there are GPUs.
"""

from __future__ import annotations

import contextlib
import copy
import os
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator

import optuna
from joblib import Parallel, delayed
from optuna.exceptions import ExperimentalWarning
from optuna.study import StudyDirection
from optuna.trial import TrialState
from tqdm.auto import tqdm

from .devices import objective_on_device, use_device
from .objective import FAIL_REASON
from .storage import (
    HEARTBEAT_INTERVAL,
    ClaimLock,
    count_states,
    is_shareable,
    resolve_storage,
)

#: Seconds between two looks at the storage (progress bar, waiting for other workers).
POLL_INTERVAL = 0.5

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


@contextlib.contextmanager
def optuna_verbosity(verbose: int) -> Iterator[None]:
    """Optuna's per-trial log lines from ``verbose >= 2`` on; warnings only below."""
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO if verbose >= 2 else optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(previous)


class TrialProgress:
    """A progress bar over trials with the number complete, pruned and failed so far.

    Counts the trials of ``study`` that finished after the bar was created, so a shared study
    that already held trials starts the bar at zero.
    """

    def __init__(self, study: optuna.Study, total: int | None, enabled: bool) -> None:
        self.study = study
        self._baseline = self._finished_counts()
        self._bar = tqdm(total=total, unit="trial", desc="tuning", disable=not enabled)

    def _finished_counts(self) -> dict[str, int]:
        counts = count_states(self.study)
        return {state.name: counts[state.name] for state in FINISHED}

    def update(self, *_args) -> None:
        """Refresh from the storage (usable as an Optuna ``optimize`` callback)."""
        counts = self._finished_counts()
        new = {name: counts[name] - self._baseline[name] for name in counts}
        if sum(new.values()) == self._bar.n:
            return
        postfix = {"complete": new["COMPLETE"], "pruned": new["PRUNED"], "failed": new["FAIL"]}
        with contextlib.suppress(ValueError):  # no complete trial yet
            postfix["best"] = f"{self.study.best_value:.4f}"
        self._bar.set_postfix(postfix, refresh=False)
        self._bar.update(sum(new.values()) - self._bar.n)

    @contextlib.contextmanager
    def polling(self) -> Iterator[None]:
        """Refresh from a background thread while the block runs (workers elsewhere)."""
        stop = threading.Event()

        def poll() -> None:
            while not stop.wait(POLL_INTERVAL):
                with contextlib.suppress(Exception):  # a transient storage error only
                    self.update()

        thread = threading.Thread(target=poll, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            self.update()

    def close(self) -> None:
        self._bar.close()


def run_share(
    study: optuna.Study,
    objective,
    *,
    n_trials: int | None,
    deadline: float | None,
    catch: tuple,
    callbacks: list | None = None,
) -> None:
    """Run up to ``n_trials`` trials of ``study`` here, starting none after ``deadline``."""
    timeout = None if deadline is None else max(deadline - time.time(), 0.0)
    if timeout == 0.0 or n_trials == 0:
        return
    study.optimize(objective, n_trials=n_trials, timeout=timeout, catch=catch, callbacks=callbacks)


def _worker(
    objective,
    storage_spec,
    study_name: str,
    sampler,
    pruner,
    *,
    device: str,
    heartbeat_interval: int,
    verbose: int,
    **share,
) -> None:
    use_device(device)
    objective = objective_on_device(objective, device)
    with optuna_verbosity(verbose):
        storage = resolve_storage(storage_spec, heartbeat_interval=heartbeat_interval)
        study = optuna.load_study(
            study_name=study_name, storage=storage, sampler=sampler, pruner=pruner
        )
        run_share(study, objective, **share)


def worker_samplers(sampler, n_workers: int) -> list:
    """One sampler per worker: copies whose random streams differ, so workers do not all
    propose the same first parameters."""
    samplers = [sampler]
    for _ in range(n_workers - 1):
        other = copy.deepcopy(sampler)
        other.reseed_rng()
        samplers.append(other)
    return samplers


def run_in_processes(
    objective,
    storage_spec,
    study_name: str,
    *,
    samplers: list,
    pruner,
    shares: list[int | None],
    devices: list[str],
    deadline: float | None,
    catch: tuple,
    heartbeat_interval: int = HEARTBEAT_INTERVAL,
    verbose: int = 0,
) -> None:
    """Run ``len(shares)`` worker processes; worker ``i`` runs ``shares[i]`` trials and
    trains on ``devices[i]`` (when its estimator's device is ``"auto"``).

    ``storage_spec`` must be shareable (a journal path, a URL or a persistent storage object):
    each worker opens it and loads ``study_name``. An error with ``catch=()`` ends all workers
    and is raised here.
    """
    tasks = [
        delayed(_worker)(
            objective,
            storage_spec,
            study_name,
            sampler,
            copy.deepcopy(pruner),
            device=device,
            heartbeat_interval=heartbeat_interval,
            verbose=verbose,
            n_trials=n_trials,
            deadline=deadline,
            catch=catch,
        )
        for sampler, n_trials, device in zip(samplers, shares, devices, strict=True)
    ]
    Parallel(n_jobs=len(tasks), backend="loky")(tasks)


def _shares(n_trials: int | None, n_workers: int) -> list[int | None]:
    if n_trials is None:
        return [None] * n_workers
    base, extra = divmod(n_trials, n_workers)
    return [base + (worker < extra) for worker in range(n_workers)]


def optimize_study(
    objective,
    *,
    storage,
    study_name: str | None,
    samplers: list,
    pruner,
    n_trials: int | None,
    catch: tuple,
    devices: list[str],
    verbose: int = 0,
) -> optuna.Study:
    """Create (or join) a maximising study and run ``n_trials`` trials with ``len(samplers)``
    workers: this process alone for one, worker processes for more.

    Worker ``i`` trains on ``devices[i]`` (one per sampler, see
    ``sknets.tuning.devices.assign_devices``) when the estimator's device is ``"auto"``.
    This process's current CUDA device is left alone: only worker processes set theirs.

    ``storage`` is a ``storage`` parameter (see :func:`resolve_storage`). Processes cannot
    share memory, so for an in-memory storage they share a temporary journal file whose
    study is copied into memory at the end. ``objective.deadline`` bounds the run.
    """
    storage_object = resolve_storage(storage)
    storage_spec, working_storage = storage, storage_object
    with contextlib.ExitStack() as stack:
        if len(samplers) > 1 and not is_shareable(storage_object):
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="sknets-"))
            storage_spec = os.path.join(folder, "study.journal")
            working_storage = resolve_storage(storage_spec)
        study = optuna.create_study(
            storage=working_storage,
            study_name=study_name,
            direction="maximize",
            sampler=samplers[0],
            pruner=pruner,
            load_if_exists=True,
        )
        if study.direction != StudyDirection.MAXIMIZE:
            raise ValueError(
                f"study_name={study_name!r} exists in storage and minimises; sknets maximises "
                "scores, so use another study_name"
            )
        progress = TrialProgress(study, n_trials, enabled=verbose >= 1)
        shares = _shares(n_trials, len(samplers))
        try:
            if len(shares) == 1:
                run_share(
                    study,
                    objective_on_device(objective, devices[0]),
                    n_trials=shares[0],
                    deadline=objective.deadline,
                    catch=catch,
                    callbacks=[progress.update],
                )
            else:
                with progress.polling():
                    run_in_processes(
                        objective,
                        storage_spec,
                        study.study_name,
                        samplers=samplers,
                        pruner=pruner,
                        shares=shares,
                        devices=devices,
                        deadline=objective.deadline,
                        catch=catch,
                        verbose=verbose,
                    )
        finally:
            progress.close()
        if working_storage is storage_object:
            return study
        optuna.copy_study(
            from_study_name=study.study_name,
            from_storage=working_storage,
            to_storage=storage_object,
        )
        return optuna.load_study(
            study_name=study.study_name, storage=storage_object, sampler=samplers[0], pruner=pruner
        )


def counted_trials(study: optuna.Study) -> tuple[int, int, int]:
    """Trials that count towards a study's total, trials waiting, trials running.

    A trial counts when it is finished (complete, pruned, or failed with a reason recorded by
    the objective), running, or waiting to run. A trial failed because its worker died has
    no reason recorded: its retry, queued as waiting, counts instead.
    """
    counted = waiting = running = 0
    for trial in study.get_trials(deepcopy=False):
        if trial.state == TrialState.WAITING:
            waiting += 1
        elif trial.state == TrialState.RUNNING:
            running += 1
        elif trial.state != TrialState.FAIL or FAIL_REASON in trial.user_attrs:
            counted += 1
    return counted + waiting + running, waiting, running


def run_until_study_has(
    study: optuna.Study,
    objective,
    n_trials: int,
    *,
    deadline: float | None = None,
    catch: tuple = (Exception,),
    callbacks: list | None = None,
    poll_interval: float = POLL_INTERVAL,
    lock: ClaimLock | None = None,
) -> None:
    """Run trials until the study (all its workers together) holds ``n_trials`` of them.

    This is the loop of ``sknets tune``: any number of these workers, started anywhere, share
    the work. A worker returns once the study has its trials and no other worker's trial is
    still running; while it waits, a trial whose worker died goes stale, is failed and queued
    again, and is run here, so a study never ends with a trial lost.

    ``lock`` (``claim_lock(storage, study.study_name)``) is held from the count of the
    study's trials until the trial to run exists, so that two workers never both take the
    last place: without it, the study may end with more than ``n_trials`` trials.
    """
    lock = ClaimLock() if lock is None else lock

    def run_unlocked(trial: optuna.Trial):
        # The trial exists (created, or popped from the waiting ones): let the others count.
        lock.release()
        return objective(trial)

    while deadline is None or time.time() < deadline:
        lock.acquire()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)
                optuna.storages.fail_stale_trials(study)
            counted, waiting, running = counted_trials(study)
            if counted < n_trials or waiting:
                run_share(
                    study,
                    run_unlocked,
                    n_trials=1,
                    deadline=deadline,
                    catch=catch,
                    callbacks=callbacks,
                )
                continue
        finally:
            lock.release()
        if not running:
            return
        time.sleep(poll_interval)
