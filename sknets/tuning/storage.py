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
import hashlib
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
from optuna.storages.journal import (
    JournalFileBackend,
    JournalFileOpenLock,
    JournalFileSymlinkLock,
)
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

#: Seconds after which the lock of a journal file that a killed worker left behind is broken
#: (Optuna's default, passed explicitly since the grace period of a journal depends on it).
#: Until then no worker can write to the file, heartbeats included.
JOURNAL_LOCK_GRACE = 30

#: Added to a journal (or SQLite) file's path to name the file that CLI workers lock while
#: they claim a trial (Optuna locks ``<journal>.lock`` for its own writes).
CLAIM_LOCK_SUFFIX = ".sknets-claim"

#: Seconds after which a claim lock file left by a killed worker is removed.
CLAIM_LOCK_GRACE = 30


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
    claim_lock_file : str or None, default=None
        File that ``sknets tune`` workers lock while they count the study's trials and claim
        one (see ``sknets.tuning.storage.claim_lock``); :func:`resolve_storage` sets it next
        to the journal.
        ``None``: workers do not lock, and may together run more trials than asked.

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
        claim_lock_file: str | None = None,
    ) -> None:
        super().__init__(backend)
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period or GRACE_INTERVALS * heartbeat_interval
        self.claim_lock_file = claim_lock_file
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
        silent for 3 intervals (3 intervals and 30 s for a journal file, whose lock a killed
        worker may hold that long) is failed and queued again.

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
        # A worker killed while it writes (each epoch, each heartbeat) leaves the journal's
        # lock behind, and every worker's heartbeats wait until it is broken: a live trial
        # must not look dead meanwhile, so the grace period covers that wait too.
        lock = JournalFileSymlinkLock(location, grace_period=JOURNAL_LOCK_GRACE)
        return HeartbeatJournalStorage(
            JournalFileBackend(location, lock_obj=lock),
            heartbeat_interval=int(heartbeat_interval),
            grace_period=GRACE_INTERVALS * int(heartbeat_interval) + JOURNAL_LOCK_GRACE,
            claim_lock_file=location + CLAIM_LOCK_SUFFIX,
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


# ------------------------------------------------------------------------- claim locks
# Workers of ``sknets tune`` each count the study's trials, then run one if the study is
# short of its total. Between the count and the trial's creation (or the pop of a waiting
# retry) another worker can count too, and both run one: the study ends with a trial too
# many. Optuna's storages have no "create a trial if there are fewer than n", so the workers
# hold a lock from the count until their trial exists. Failing a dead worker's trial and
# queueing its retry happens inside the same lock (Optuna does it just before it creates a
# trial), so no worker sees the moment between the two, when the study looks a trial short.
class ClaimLock:
    """A lock held while counting a study's trials and claiming one; this one does nothing.

    ``release`` may be called when the lock is not held (it then does nothing), so a holder
    can release it as soon as its trial exists and again, safely, when it is done.
    """

    def acquire(self) -> None:
        """Block until the lock is held."""

    def release(self) -> None:
        """Let the next worker in; nothing if the lock is not held."""


class FileClaimLock(ClaimLock):
    """A lock file (``<path>.lock``) created exclusively, for workers on one file system.

    The file of a worker killed while holding it is removed after ``CLAIM_LOCK_GRACE``
    seconds without change (the lock is held for milliseconds).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = JournalFileOpenLock(path, grace_period=CLAIM_LOCK_GRACE)
        self._held = False

    def acquire(self) -> None:
        self._lock.acquire()
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            # RuntimeError: the file is gone, removed by a worker that took this one, held
            # past the grace period, for dead. There is nothing left to release.
            with contextlib.suppress(RuntimeError):
                self._lock.release()


class PostgresClaimLock(ClaimLock):
    """A PostgreSQL advisory lock, taken in a transaction of its own connection.

    The server releases it when the transaction ends, including when the connection of a
    killed worker drops, so a dead holder never blocks the others.
    """

    def __init__(self, engine, study_name: str) -> None:
        self.engine = engine
        digest = hashlib.sha256(f"sknets claim {study_name}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)  # a PostgreSQL bigint
        self._connection = None

    def acquire(self) -> None:
        import sqlalchemy

        connection = self.engine.connect()
        try:
            connection.execute(
                sqlalchemy.text("SELECT pg_advisory_xact_lock(:key)"), {"key": self.key}
            )
        except BaseException:
            connection.close()
            raise
        self._connection = connection

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()  # rolls the transaction back, which releases the lock


def claim_lock(storage: BaseStorage, study_name: str) -> ClaimLock:
    """The lock that workers sharing study ``study_name`` in ``storage`` claim trials under.

    A lock file next to a journal file or an SQLite database, an advisory lock on
    PostgreSQL. Other storages (in memory: one process; MySQL, Redis…) get a lock that does
    nothing, and their workers may, rarely, run a trial more than the study asks.

    Parameters
    ----------
    storage : optuna.storages.BaseStorage
        As returned by :func:`resolve_storage`.
    study_name : str
        The shared study.

    Returns
    -------
    lock : ClaimLock

    Examples
    --------
    >>> type(claim_lock(resolve_storage(None), "study")).__name__
    'ClaimLock'
    """
    if isinstance(storage, HeartbeatJournalStorage) and storage.claim_lock_file is not None:
        return FileClaimLock(storage.claim_lock_file)
    if isinstance(storage, RDBStorage):
        url = storage.engine.url
        if url.get_backend_name() == "postgresql":
            return PostgresClaimLock(storage.engine, study_name)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return FileClaimLock(url.database + CLAIM_LOCK_SUFFIX)
    return ClaimLock()
