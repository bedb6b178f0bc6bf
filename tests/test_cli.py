"""The ``sknets`` command and its demo (the README's main job)."""

import subprocess
import sys

import pytest

from sknets.cli import main
from sknets.demo import run_demo


def test_demo_mlp_reaches_the_target_accuracy(capsys):
    results = run_demo(["mlp"])
    output = capsys.readouterr().out
    assert results["mlp"] >= 0.97
    assert "5-fold CV accuracy" in output
    assert "precision" in output and "recall" in output  # the classification report
    assert "Test accuracy" in output


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_demo_regression_reports_r2_beside_a_linear_fit(capsys):
    results = run_demo(["regression"])
    output = capsys.readouterr().out
    # Measured 0.534 on the test quarter (LinearRegression's 5-fold CV R2 is 0.461 there).
    assert results["regression"] > 0.45
    assert "LinearRegression()   5-fold CV R2" in output and "MLPRegressor()" in output
    assert "Test R2 of the MLPRegressor pipeline" in output


def test_unknown_demo_section_is_an_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "bogus"])
    assert exit_info.value.code == 2
    assert "unknown demo section(s) ['bogus']" in capsys.readouterr().err


def test_python_dash_m_entry_point():
    completed = subprocess.run(
        [sys.executable, "-m", "sknets", "demo", "--help"], capture_output=True, text=True
    )
    assert completed.returncode == 0
    assert "sections to run" in completed.stdout


def test_version_flag_prints_the_package_version(capsys):
    from importlib.metadata import metadata

    import sknets

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"sknets {sknets.__version__}"
    # The installed metadata says the same version and the licence as an SPDX expression.
    installed = metadata("sknets")
    assert installed["Version"] == sknets.__version__
    assert installed["License-Expression"] == "BSD-3-Clause"
