"""Where studies live: in memory, in a journal file, or in a database, with trial heartbeats.

A worker that dies mid-trial (killed, out of memory, machine lost) leaves its trial RUNNING
forever. Both persistent storages therefore record a heartbeat per running trial; any worker
that starts a trial first fails the trials whose heartbeat is older than the grace period and
queues them again (Optuna's ``RetryHeartbeatStaleTrialCallback``), so no trial is lost.
Optuna's ``RDBStorage`` has heartbeats built in; its ``JournalStorage`` has not, so
:class:`HeartbeatJournalStorage` adds them through the same interface and ``study.optimize``
treats both alike.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings

import optuna
from optuna.exceptions import ExperimentalWarning, UpdateFinishedTrialError
from optuna.storages import (
    BaseStorage,
    InMemoryStorage,
    JournalStorage,
    RDBStorage,
    RetryHeartbeatStaleTrialCallback,
)

# The heartbeat interface is not public in Optuna; it is imported here only, so a rename in a
# future Optuna is fixed in one place.
from optuna.storages._heartbeat import BaseHeartbeat  # noqa: I001
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

#: Seconds between two heartbeats of a running trial.
HEARTBEAT_INTERVAL = 30

#: A running trial whose last heartbeat is older than this many intervals is taken as dead.
#: Several intervals, so a worker slowed down by a loaded machine is not failed by mistake.
GRACE_INTERVALS = 3

#: How often a trial whose worker died is queued again before it is given up.
MAX_RETRY = 2

#: System attribute holding the time (seconds since the epoch) of a trial's last heartbeat.
HEARTBEAT_ATTR = "sknets:heartbeat"

#: Attempts to connect to a database whose tables other workers may be creating right now.
CONNECT_ATTEMPTS = 5


def _retry_callback() -> RetryHeartbeatStaleTrialCallback:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)


class HeartbeatJournalStorage(JournalStorage, BaseHeartbeat):
    """Optuna's journal storage with heartbeats, so trials of dead workers are run again.

    Heartbeats are written as a system attribute of the running trial; a trial is stale when
    its last heartbeat (or its start) is older than ``grace_period`` seconds. The clocks of the
    machines sharing the file must agree to within a fraction of the grace period.

    Parameters
    ----------
    backend : optuna.storages.journal.BaseJournalBackend
        Where the journal is written, e.g. a ``JournalFileBackend``.
    heartbeat_interval : int, default=30
        Seconds between two heartbeats.
    grace_period : int, default=None
        Seconds without a heartbeat after which a running trial is failed and queued again;
        ``None`` means 3 heartbeat intervals.

    Examples
    --------
    >>> import tempfile, os
    >>> from optuna.storages.journal import JournalFileBackend
    >>> path = os.path.join(tempfile.mkdtemp(), "study.log")
    >>> storage = HeartbeatJournalStorage(JournalFileBackend(path), heartbeat_interval=10)
    >>> storage.get_heartbeat_interval()
    10
    """

    def __init__(
        self,
        backend,
        *,
        heartbeat_interval: int = HEARTBEAT_INTERVAL,
        grace_period: int | None = None,
    ) -> None:
        super().__init__(backend)
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period or GRACE_INTERVALS * heartbeat_interval
        self.stale_trial_callback = _retry_callback()

    def record_heartbeat(self, trial_id: int) -> None:
        # Another worker may have failed the trial already (it looked stale); then there is
        # nothing left to keep alive, and the heartbeat thread must not die on the error.
        with contextlib.suppress(UpdateFinishedTrialError):
            self.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, time.time())

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        now = time.time()
        stale = []
        for trial in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
            started = trial.datetime_start.timestamp() if trial.datetime_start else 0.0
            last_sign_of_life = max(float(trial.system_attrs.get(HEARTBEAT_ATTR, 0.0)), started)
            if now - last_sign_of_life > self.grace_period:
                stale.append(trial._trial_id)
        return stale

    def get_heartbeat_interval(self) -> int | None:
        return self.heartbeat_interval

    def get_heartbeat_stale_trial_callback(self):
        return self.stale_trial_callback


def _connect_database(url: str, heartbeat_interval: int) -> RDBStorage:
    # Workers started together on a fresh database all try to create Optuna's tables; the
    # losers of that race get an integrity error and simply connect again.
    import sqlalchemy.exc

    for attempt in range(CONNECT_ATTEMPTS):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)
                return RDBStorage(
                    url,
                    heartbeat_interval=heartbeat_interval,
                    grace_period=GRACE_INTERVALS * heartbeat_interval,
                    heartbeat_stale_trial_callback=_retry_callback(),
                )
        except sqlalchemy.exc.SQLAlchemyError:
            if attempt == CONNECT_ATTEMPTS - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def resolve_storage(storage, *, heartbeat_interval: int = HEARTBEAT_INTERVAL) -> BaseStorage:
    """Turn a ``storage`` parameter into an Optuna storage.

    Parameters
    ----------
    storage : None, str, path-like or optuna.storages.BaseStorage
        ``None`` keeps the study in memory (one process). A database URL
        (``postgresql://user@host/db``, ``mysql://…``, ``sqlite:///file.db``) lets workers on
        many machines share the study. Any other string or path names a journal file, for
        worker processes on one machine (or a shared file system). A storage object is used
        as it is.
    heartbeat_interval : int, default=30
        Seconds between heartbeats of running trials, for the URL and file forms; a trial
        silent for 3 intervals is failed and queued again.

    Returns
    -------
    storage : optuna.storages.BaseStorage

    Examples
    --------
    >>> resolve_storage(None).__class__.__name__
    'InMemoryStorage'
    >>> resolve_storage("sqlite:///:memory:").__class__.__name__
    'RDBStorage'
    """
    if (
        heartbeat_interval is None
        or int(heartbeat_interval) != heartbeat_interval
        or (heartbeat_interval < 1)
    ):
        raise ValueError(
            f"heartbeat_interval={heartbeat_interval!r} must be a whole number of seconds >= 1"
        )
    if storage is None:
        return InMemoryStorage()
    if isinstance(storage, BaseStorage):
        return storage
    if isinstance(storage, (str, os.PathLike)):
        location = os.fspath(storage)
        if "://" in location:
            return _connect_database(location, int(heartbeat_interval))
        if not location:
            raise ValueError("storage='' is empty; pass None, a journal file path or a URL")
        return HeartbeatJournalStorage(
            JournalFileBackend(location), heartbeat_interval=int(heartbeat_interval)
        )
    raise ValueError(
        f"storage={storage!r} is not supported; pass None (in memory), a journal file path, "
        "a database URL such as 'postgresql://user@host/db', or an optuna storage object"
    )


def is_shareable(storage: BaseStorage) -> bool:
    """Whether worker processes can share ``storage`` (everything but the in-memory one)."""
    return not isinstance(storage, InMemoryStorage)


def count_states(study: optuna.Study) -> dict[str, int]:
    """Number of trials of ``study`` in each state, by state name (``COMPLETE``, ``PRUNED``…)."""
    counts = {state.name: 0 for state in TrialState}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state.name] += 1
    return counts
