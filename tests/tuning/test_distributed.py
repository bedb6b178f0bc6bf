"""Worker processes sharing one study: a journal file and a real PostgreSQL server.

Each test starts ``sknets tune`` workers as separate processes on one study, kills one of them
with SIGKILL in the middle of a trial, starts a replacement, and checks that the study ends
with every trial it needs: none completed before the kill is lost, and the killed trial is
failed and run again with the same parameters.

The PostgreSQL server is a real one, started in a temporary directory on the loopback
interface. When its binaries are missing the fixture installs them with apt; if that fails
the tests fail (never skip), since CI must provide them.
"""

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState

from sknets.tuning import OptunaSearchCV, resolve_storage
from sknets.tuning.storage import PostgresClaimLock, claim_lock

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used"),
]

N_TRIALS = 6
MAX_EPOCHS = 30
# A killed worker's trial is stale after 3 heartbeats: 6 s on PostgreSQL, 36 s on a journal
# file (whose lock a worker killed mid-write holds for 30 s, heartbeats of all waiting).
HEARTBEAT_SECONDS = 2
WAIT_SECONDS = 180

CONFIG = f"""
estimator = "MLPClassifier"
scaler = "standard"
n_trials = {N_TRIALS}
cv = 2
pruning = false
[params]
max_epochs = {MAX_EPOCHS}
hidden_layer_sizes = [16]
batch_size = 64
[data]
dataset = "digits"
[search_space]
lr = {{ type = "float", low = 1e-3, high = 3e-2, log = true }}
"""


# --------------------------------------------------------------------------- PostgreSQL
def _postgres_bin_dir() -> str | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    return os.path.dirname(candidates[-1]) if candidates else None


def _version_key(path: str) -> float:
    with contextlib.suppress(ValueError):
        return float(path.split("/")[4])
    return 0.0


def _install_postgres() -> None:
    if os.geteuid() != 0:
        pytest.fail("PostgreSQL binaries are missing; install them: apt-get install postgresql")
    install = ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True)
        result = subprocess.run(install, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            pytest.fail(f"apt-get install postgresql failed:\n{result.stderr[-2000:]}")


def _as_server_user(command: list[str], user: str | None) -> list[str]:
    # initdb and postgres refuse to run as root.
    if user is None:
        return command
    if shutil.which("runuser"):
        return ["runuser", "-u", user, "--", *command]
    return ["su", user, "-s", "/bin/sh", "-c", " ".join(command)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """URL of a fresh PostgreSQL server on 127.0.0.1, stopped after the module's tests."""
    bin_dir = _postgres_bin_dir()
    if bin_dir is None:
        _install_postgres()
        bin_dir = _postgres_bin_dir()
        if bin_dir is None:
            pytest.fail("apt-get installed postgresql but no /usr/lib/postgresql/*/bin/initdb")
    user = None
    if os.geteuid() == 0:
        names = [entry.pw_name for entry in pwd.getpwall()]
        user = "postgres" if "postgres" in names else "nobody"
    folder = tempfile.mkdtemp(prefix="sknets-pg-")
    data = os.path.join(folder, "data")
    if user is not None:
        shutil.chown(folder, user=user)
    port = _free_port()

    def run(command: list[str]) -> None:
        result = subprocess.run(_as_server_user(command, user), capture_output=True, text=True)
        if result.returncode != 0:
            log = os.path.join(folder, "server.log")
            server_log = _read(log)[-2000:] if os.path.exists(log) else ""
            pytest.fail(f"{command[0]} failed:\n{result.stdout}\n{result.stderr}\n{server_log}")

    run([f"{bin_dir}/initdb", "-D", data, "-U", "sknets", "-A", "trust", "--no-sync"])
    options = f"-k {folder} -p {port} -h 127.0.0.1 -F"
    log = os.path.join(folder, "server.log")
    run([f"{bin_dir}/pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "-o", options, "start"])
    try:
        yield f"postgresql://sknets@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_server_user([f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], user),
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------------------ workers
def _start_worker(config: str, storage: str, study_name: str, log_path: str):
    command = [
        sys.executable,
        "-m",
        "sknets.cli_tuning",
        "tune",
        config,
        "--storage",
        storage,
        "--study-name",
        study_name,
        "--heartbeat-interval",
        str(HEARTBEAT_SECONDS),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with open(log_path, "w") as log:  # the worker keeps its own copy of the file descriptor
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)


def _read(path: str) -> str:
    with open(path) as file:
        return file.read()


def _worker_pid(trial) -> int | None:
    worker = trial.user_attrs.get("worker")
    return int(worker.rsplit(":", 1)[1]) if worker else None


def _wait_for(condition, what: str, workers: list, timeout: float = WAIT_SECONDS):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = condition()
        if found:
            return found
        if any(worker.poll() not in (None, 0) for worker in workers):
            pytest.fail(f"a worker exited with an error while waiting for {what}")
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def _kill_mid_trial_and_resume(tmp_path, storage_location: str, study_name: str) -> None:
    config = tmp_path / "study.toml"
    config.write_text(CONFIG)
    logs = [str(tmp_path / f"worker{index}.log") for index in range(3)]
    victim = _start_worker(str(config), storage_location, study_name, logs[0])
    survivor = _start_worker(str(config), storage_location, study_name, logs[1])
    workers = [victim, survivor]
    try:
        storage = _wait_for(
            lambda: _open_storage(storage_location, study_name), "the study", workers
        )
        study = optuna.load_study(study_name=study_name, storage=storage)

        def victim_mid_trial():
            trials = study.get_trials(deepcopy=False)
            complete = [trial for trial in trials if trial.state == TrialState.COMPLETE]
            running = [
                trial
                for trial in trials
                if trial.state == TrialState.RUNNING
                and _worker_pid(trial) == victim.pid
                # Well inside the trial, so it cannot finish before the signal lands.
                and 2 <= len(trial.intermediate_values) <= MAX_EPOCHS // 3
            ]
            return complete and running and (complete, running[0])

        complete_before, killed = _wait_for(
            victim_mid_trial, "the victim to be mid-trial after a complete trial", workers
        )
        values_before = {trial.number: trial.value for trial in complete_before}
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
        replacement = _start_worker(str(config), storage_location, study_name, logs[2])
        workers.append(replacement)
        for worker in (survivor, replacement):
            assert worker.wait(timeout=WAIT_SECONDS) == 0, _read(logs[workers.index(worker)])
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()

    trials = optuna.load_study(study_name=study_name, storage=storage).get_trials()
    by_number = {trial.number: trial for trial in trials}
    # Nothing completed before the kill was lost or changed.
    for number, value in values_before.items():
        assert by_number[number].state == TrialState.COMPLETE
        assert by_number[number].value == value
    # The killed trial was failed and run again, with the same parameters, to completion.
    assert by_number[killed.number].state == TrialState.FAIL
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retries) == 1 and retries[0].state == TrialState.COMPLETE
    assert retries[0].params == killed.params
    # The study has exactly its trials, and nothing is left running or waiting. Exactly:
    # the workers count the trials and claim one under the study's claim lock, so two of
    # them never both take the last place, nor one a place while another fails the killed
    # trial and queues its retry (which, unlocked, ended the study with 7 complete trials).
    states = [trial.state for trial in trials]
    assert states.count(TrialState.COMPLETE) == N_TRIALS
    assert states.count(TrialState.FAIL) == 1 and len(states) == N_TRIALS + 1
    # Several processes did the work.
    assert len({_worker_pid(trial) for trial in trials}) >= 2


def _open_storage(location: str, study_name: str):
    if "://" not in location and not os.path.exists(location):
        return None
    storage = resolve_storage(location, heartbeat_interval=HEARTBEAT_SECONDS)
    try:
        optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        return None
    return storage


def test_journal_file_workers_survive_a_killed_worker(tmp_path):
    _kill_mid_trial_and_resume(tmp_path, str(tmp_path / "study.journal"), "journal-study")


def test_postgres_workers_survive_a_killed_worker(tmp_path, postgres_url):
    _kill_mid_trial_and_resume(tmp_path, postgres_url, "postgres-study")


def test_search_with_worker_processes_on_postgres(postgres_url, small_digits, fast_pipeline):
    X, y = small_digits
    search = OptunaSearchCV(
        fast_pipeline(),
        {"mlpclassifier__lr": FloatDistribution(1e-3, 1e-1, log=True)},
        n_trials=4,
        cv=2,
        n_jobs=2,
        storage=postgres_url,
        study_name="search-study",
        random_state=0,
    ).fit(X, y)
    assert search.n_trials_ == 4
    stored = optuna.load_study(study_name="search-study", storage=resolve_storage(postgres_url))
    assert [trial.state for trial in stored.trials] == [TrialState.COMPLETE] * 4
    assert len({_worker_pid(trial) for trial in stored.trials}) == 2
    assert search.best_score_ == pytest.approx(stored.best_value)


def _acquire_in_background(lock) -> threading.Event:
    """Start acquiring ``lock`` in a thread; the event is set once it is held."""
    acquired = threading.Event()
    threading.Thread(target=lambda: (lock.acquire(), acquired.set()), daemon=True).start()
    return acquired


def test_postgres_claim_lock_excludes_other_connections(postgres_url):
    storage = resolve_storage(postgres_url)
    first, second = claim_lock(storage, "locked"), claim_lock(storage, "locked")
    assert isinstance(first, PostgresClaimLock)
    first.acquire()
    second_acquired = _acquire_in_background(second)
    try:
        assert not second_acquired.wait(timeout=0.5)
        elsewhere = claim_lock(storage, "another study")
        assert _acquire_in_background(elsewhere).wait(timeout=10)
        elsewhere.release()
    finally:
        first.release()
    assert second_acquired.wait(timeout=10)
    second.release()
    second.release()  # not held: nothing happens


def test_postgres_claim_lock_of_a_killed_worker_is_freed(postgres_url, tmp_path):
    holder = (
        "import sys, time\n"
        "from sknets.tuning.storage import claim_lock, resolve_storage\n"
        "claim_lock(resolve_storage(sys.argv[1]), 'killed').acquire()\n"
        "print('held', flush=True)\n"
        "time.sleep(120)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", holder, postgres_url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout.readline().strip() == "held"
        lock = claim_lock(resolve_storage(postgres_url), "killed")
        acquired = _acquire_in_background(lock)
        assert not acquired.wait(timeout=0.5)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        # The server ends the dead connection's transaction, and with it the lock.
        assert acquired.wait(timeout=30)
        lock.release()
    finally:
        if process.poll() is None:
            process.kill()
