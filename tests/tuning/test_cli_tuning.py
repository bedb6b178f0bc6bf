"""``sknets tune`` and ``sknets study``, run in-process through their handlers."""

import argparse
import json
import textwrap

import optuna
import pytest

from sknets.cli_tuning import add_tune_parsers, main
from sknets.tuning import workers
from sknets.tuning.objective import DEVICE
from sknets.tuning.storage import CLAIM_LOCK_SUFFIX, FileClaimLock, resolve_storage

pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used")

CONFIG = """
estimator = "MLPClassifier"
scaler = "standard"
n_trials = 3
cv = 2
[params]
max_epochs = 2
hidden_layer_sizes = [8]
[data]
dataset = "iris"
[search_space]
lr = { type = "float", low = 1e-3, high = 1e-1, log = true }
"""


@pytest.fixture
def config_path(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text(CONFIG)
    return str(path)


def test_parsers_set_handlers():
    parser = argparse.ArgumentParser()
    add_tune_parsers(parser.add_subparsers(dest="command"))
    tune = parser.parse_args(["tune", "c.toml", "--storage", "s.log", "--study-name", "x"])
    assert tune.handler.__name__ == "run_tune" and tune.heartbeat_interval == 30
    assert tune.device == "auto"
    with_device = ["tune", "c.toml", "--storage", "s.log", "--study-name", "x", "--device"]
    assert parser.parse_args([*with_device, "cuda:1"]).device == "cuda:1"
    study = parser.parse_args(["study", "--storage", "s.log"])
    assert study.handler.__name__ == "run_study" and study.study_name is None


def test_tune_workers_claim_trials_under_the_studys_lock(tmp_path, config_path, monkeypatch):
    calls = []
    monkeypatch.setattr(
        workers, "run_until_study_has", lambda *args, **kwargs: calls.append(kwargs)
    )
    journal = str(tmp_path / "study.journal")
    assert main(["tune", config_path, "--storage", journal, "--study-name", "iris", "-q"]) == 0
    (kwargs,) = calls
    assert isinstance(kwargs["lock"], FileClaimLock)
    assert kwargs["lock"].path == journal + CLAIM_LOCK_SUFFIX


def test_tune_runs_the_study_total_and_study_summarises_it(tmp_path, config_path, capsys):
    journal = str(tmp_path / "study.journal")
    assert main(["tune", config_path, "--storage", journal, "--study-name", "iris", "-q"]) == 0
    out = capsys.readouterr().out
    assert "joins study 'iris' (3 trials in all)" in out and "3 complete" in out
    # The total is the study's: a second worker with a larger total only tops it up.
    args = ["tune", config_path, "--storage", journal, "--study-name", "iris", "--n-trials", "5"]
    assert main([*args, "-q"]) == 0
    study = optuna.load_study(study_name="iris", storage=resolve_storage(journal))
    assert len(study.trials) == 5
    assert study.user_attrs["config"]["estimator"] == "MLPClassifier"
    assert all(name == "mlpclassifier__lr" for trial in study.trials for name in trial.params)

    capsys.readouterr()
    assert main(["study", "--storage", journal, "--study-name", "iris"]) == 0
    out = capsys.readouterr().out
    assert "study 'iris' (maximize): 5 trials: 5 complete" in out
    assert f"best value {study.best_value:.4f} (trial {study.best_trial.number}" in out
    assert "mlpclassifier__lr = " in out

    assert main(["study", "--storage", journal, "--study-name", "iris", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["trials"] == {"COMPLETE": 5} and summary["best_value"] == study.best_value
    assert summary["best_epoch"] in (1, 2)

    assert main(["study", "--storage", journal]) == 0
    assert capsys.readouterr().out.strip() == "iris: 5 trials"


REGRESSOR_CONFIG = """
estimator = "MLPRegressor"
scaler = "standard"
n_trials = 2
[params]
max_epochs = 3
[data]
dataset = "diabetes"
[search_space]
lr = { type = "float", low = 1e-2, high = 3e-2 }
"""


def test_tune_runs_a_regressor_study_on_r2(tmp_path, capsys):
    path = tmp_path / "regression.toml"
    path.write_text(REGRESSOR_CONFIG)
    journal = str(tmp_path / "study.journal")
    assert main(["tune", str(path), "--storage", journal, "--study-name", "diabetes", "-q"]) == 0
    assert "2 complete" in capsys.readouterr().out
    study = optuna.load_study(study_name="diabetes", storage=resolve_storage(journal))
    config = study.user_attrs["config"]
    assert (config["estimator"], config["metric"]) == ("MLPRegressor", "r2")
    # R2 values: at most 1 and, at this learning rate, well above 0 (not squared errors).
    assert all(0.2 < trial.value < 1 for trial in study.trials)


def test_tune_reports_a_metric_of_the_other_task(tmp_path, capsys):
    path = tmp_path / "regression.toml"
    path.write_text('metric = "accuracy"\n' + REGRESSOR_CONFIG)
    journal = str(tmp_path / "study.journal")
    assert main(["tune", str(path), "--storage", journal, "--study-name", "x"]) == 2
    error = capsys.readouterr().err
    assert "sknets tune: error: metric='accuracy' is a classification metric, but " in error
    assert "MLPRegressor is a regressor; use a regression metric such as ['r2'" in error


def test_tune_logs_a_line_per_trial_unless_quiet(tmp_path, config_path, caplog):
    journal = str(tmp_path / "study.journal")
    optuna.logging.enable_propagation()  # so that caplog sees Optuna's records
    try:
        main(["tune", config_path, "--storage", journal, "--study-name", "x", "--n-trials", "1"])
        assert "Trial 0 finished with value" in caplog.text
        caplog.clear()
        args = ["tune", config_path, "--storage", journal, "--study-name", "x", "--n-trials", "2"]
        main([*args, "--quiet"])
        assert "Trial 1 finished" not in caplog.text
    finally:
        optuna.logging.disable_propagation()


def test_tune_reports_config_errors(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('estimator = "SVC"\n[data]\ndataset = "iris"\n')
    journal = str(tmp_path / "study.journal")
    assert main(["tune", str(bad), "--storage", journal, "--study-name", "x"]) == 2
    assert "sknets tune: error: estimator='SVC' is not one of" in capsys.readouterr().err


def test_tune_rejects_a_non_positive_total(tmp_path, config_path, capsys):
    journal = str(tmp_path / "study.journal")
    args = ["tune", config_path, "--storage", journal, "--study-name", "x", "--n-trials", "0"]
    assert main(args) == 2
    assert "--n-trials=0 must be >= 1" in capsys.readouterr().err


def test_study_reports_missing_storage_and_study(tmp_path, config_path, capsys):
    missing = str(tmp_path / "none.journal")
    assert main(["study", "--storage", missing, "--study-name", "x"]) == 1
    assert "no such journal file" in capsys.readouterr().err
    journal = str(tmp_path / "study.journal")
    main(["tune", config_path, "--storage", journal, "--study-name", "x", "-q"])
    assert main(["study", "--storage", journal, "--study-name", "y"]) == 1
    assert "sknets study: error: no study 'y' in" in capsys.readouterr().err


def test_tune_reports_a_storage_it_cannot_open(tmp_path, config_path, capsys):
    missing_folder = str(tmp_path / "no" / "such" / "folder" / "study.journal")
    assert main(["tune", config_path, "--storage", missing_folder, "--study-name", "x"]) == 2
    assert "sknets tune: error: --storage" in capsys.readouterr().err


def test_tune_refuses_a_minimising_study(tmp_path, config_path, capsys):
    journal = str(tmp_path / "study.journal")
    optuna.create_study(storage=resolve_storage(journal), study_name="low")
    assert main(["tune", config_path, "--storage", journal, "--study-name", "low"]) == 2
    assert "study 'low' minimises" in capsys.readouterr().err


def test_parser_default_heartbeat_matches_the_storage_default():
    from sknets.cli_tuning import HEARTBEAT_INTERVAL as CLI_DEFAULT
    from sknets.tuning.storage import HEARTBEAT_INTERVAL

    assert CLI_DEFAULT == HEARTBEAT_INTERVAL


def test_tune_help_documents_the_study_file(capsys, monkeypatch):
    from sknets._study_file import STUDY_FILE_EXAMPLE
    from sknets.cli import main as sknets_main
    from sknets.tuning.config import DATA_KEYS, KNOWN_KEYS

    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit) as exit_info:
        sknets_main(["tune", "--help"])
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    format_part = help_text.split("study file (TOML")[1]
    for key in KNOWN_KEYS:
        assert f"\n  {key} : " in format_part, key
    for key in DATA_KEYS:
        assert f"{key} = " in format_part, key
    assert "A parameter that the search space draws is an error" in " ".join(format_part.split())
    assert textwrap.indent(STUDY_FILE_EXAMPLE, "  ") in help_text  # the whole example
    assert "``" not in help_text  # RST literals are plain text in a terminal
    assert max(len(line) for line in help_text.splitlines()) <= 80


def test_tune_trains_on_its_device(tmp_path, config_path, capsys, gpus):
    gpus(0)
    journal = str(tmp_path / "study.journal")
    args = ["tune", config_path, "--storage", journal, "--study-name", "s", "-q"]
    assert main([*args, "--n-trials", "1", "--device", "cpu"]) == 0
    assert " on cpu joins study 's'" in capsys.readouterr().out
    assert main([*args, "--n-trials", "2"]) == 0  # --device auto: the CPU without a GPU
    study = optuna.load_study(study_name="s", storage=resolve_storage(journal))
    assert [trial.user_attrs[DEVICE] for trial in study.trials] == ["cpu", "cpu"]


@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("gpu", "--device gpu: device='gpu' is not a torch device"),
        ("cuda:1", "--device cuda:1: device='cuda:1' but cuda is not available"),
    ],
)
def test_tune_refuses_an_unknown_device(tmp_path, config_path, capsys, gpus, device, message):
    gpus(0)
    journal = str(tmp_path / "study.journal")
    args = ["tune", config_path, "--storage", journal, "--study-name", "s", "--device", device]
    assert main(args) == 2
    assert f"sknets tune: error: {message}" in capsys.readouterr().err
