"""Storages: in memory, journal file with heartbeats, database URLs; stale trials re-run."""

import os
import pickle
import threading
import time

import optuna
import pytest
from optuna.storages import InMemoryStorage, RDBStorage
from optuna.trial import TrialState

from sknets.tuning.storage import (
    CLAIM_LOCK_SUFFIX,
    HEARTBEAT_ATTR,
    JOURNAL_LOCK_GRACE,
    ClaimLock,
    FileClaimLock,
    HeartbeatJournalStorage,
    claim_lock,
    count_states,
    is_shareable,
    resolve_storage,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used"),
    pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning"),
]


def test_resolve_each_kind(tmp_path):
    assert isinstance(resolve_storage(None), InMemoryStorage)
    journal = resolve_storage(tmp_path / "study.journal", heartbeat_interval=7)
    assert isinstance(journal, HeartbeatJournalStorage)
    assert journal.get_heartbeat_interval() == 7
    # 3 intervals, and the time a killed worker's lock of the journal can block heartbeats.
    assert journal.grace_period == 21 + JOURNAL_LOCK_GRACE
    database = resolve_storage(f"sqlite:///{tmp_path / 'study.db'}", heartbeat_interval=5)
    assert isinstance(database, RDBStorage)
    assert database.heartbeat_interval == 5 and database.grace_period == 15
    assert database.get_heartbeat_stale_trial_callback() is not None
    given = InMemoryStorage()
    assert resolve_storage(given) is given
    assert not is_shareable(given) and is_shareable(journal) and is_shareable(database)


@pytest.mark.parametrize(
    ("storage", "interval", "message"),
    [
        (3.5, 30, r"storage=3.5 is not supported; pass None"),
        ("", 30, "storage='' is empty"),
        (None, 0, "heartbeat_interval=0 must be a whole number of seconds >= 1"),
        (None, 1.5, "heartbeat_interval=1.5 must be a whole number"),
    ],
)
def test_resolve_errors(storage, interval, message):
    with pytest.raises(ValueError, match=message):
        resolve_storage(storage, heartbeat_interval=interval)


def test_journal_storage_survives_pickling(tmp_path):
    storage = resolve_storage(tmp_path / "study.journal", heartbeat_interval=4)
    optuna.create_study(storage=storage, study_name="kept")
    copy = pickle.loads(pickle.dumps(storage))
    assert copy.get_heartbeat_interval() == 4
    assert optuna.get_all_study_names(copy) == ["kept"]


def test_a_retry_just_started_is_not_stale_despite_its_copied_heartbeat(tmp_path):
    storage = resolve_storage(tmp_path / "study.journal", heartbeat_interval=1)
    study = optuna.create_study(storage=storage, direction="maximize")
    retry = study.ask()
    # A retried trial inherits the dead trial's last heartbeat; its fresh start counts.
    storage.set_trial_system_attr(retry._trial_id, HEARTBEAT_ATTR, time.time() - 100)
    assert storage._get_stale_trial_ids(study._study_id) == []


def test_heartbeats_keep_a_trial_alive_and_silence_fails_it(tmp_path):
    storage = HeartbeatJournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "s.journal")),
        heartbeat_interval=1,
        grace_period=1,
    )
    study = optuna.create_study(storage=storage, direction="maximize")
    dead = study.ask()
    value = dead.suggest_float("x", 0, 1)
    storage.record_heartbeat(dead._trial_id)
    assert storage._get_stale_trial_ids(study._study_id) == []
    time.sleep(1.2)
    assert storage._get_stale_trial_ids(study._study_id) == [dead._trial_id]
    optuna.storages.fail_stale_trials(study)
    states = [trial.state for trial in study.trials]
    assert states == [TrialState.FAIL, TrialState.WAITING]
    # The retry is picked up by the next trial, with the dead trial's parameters.
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=1)
    retry = study.trials[1]
    assert retry.state == TrialState.COMPLETE and retry.params["x"] == value
    assert retry.system_attrs["failed_trial"] == dead.number
    assert count_states(study)["COMPLETE"] == 1


def test_heartbeat_of_a_finished_trial_is_ignored(tmp_path):
    storage = resolve_storage(tmp_path / "study.journal")
    study = optuna.create_study(storage=storage)
    trial = study.ask()
    study.tell(trial, 1.0)
    storage.record_heartbeat(trial._trial_id)  # no UpdateFinishedTrialError
    assert HEARTBEAT_ATTR not in study.trials[0].system_attrs


def test_claim_lock_of_each_storage(tmp_path):
    journal = str(tmp_path / "study.journal")
    lock = claim_lock(resolve_storage(journal), "s")
    assert isinstance(lock, FileClaimLock) and lock.path == journal + CLAIM_LOCK_SUFFIX
    database = str(tmp_path / "study.db")
    lock = claim_lock(resolve_storage(f"sqlite:///{database}"), "s")
    assert isinstance(lock, FileClaimLock) and lock.path == database + CLAIM_LOCK_SUFFIX
    # One process only: nothing to lock against.
    for storage in (resolve_storage(None), resolve_storage("sqlite:///:memory:")):
        assert type(claim_lock(storage, "s")) is ClaimLock


def test_file_claim_lock_excludes_and_a_second_release_is_harmless(tmp_path):
    path = str(tmp_path / "study.journal.claim")
    first, second = FileClaimLock(path), FileClaimLock(path)
    first.acquire()
    acquired = threading.Event()

    def take_second() -> None:
        second.acquire()
        acquired.set()

    waiter = threading.Thread(target=take_second, daemon=True)
    waiter.start()
    assert not acquired.wait(timeout=0.3)  # held by the first
    first.release()
    assert acquired.wait(timeout=10)
    # The first releasing again (as a worker does once its trial ends) must not free the
    # second's lock.
    first.release()
    assert os.path.exists(path + ".lock")
    second.release()
    assert not os.path.exists(path + ".lock")
