"""Every script in examples/ runs to the end, as the documentation build runs it.

Each example runs in its own Python process, in an empty temporary directory (so a script that
writes files leaves nothing behind) with matplotlib's non-interactive backend. New examples
are picked up by the glob.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))

#: Seconds an example may take here. The documentation asks < 60 s on two cores; the margin
#: absorbs a loaded CI machine, while a script stuck in a loop still fails.
TIMEOUT = 300


def test_examples_are_found():
    assert EXAMPLES, f"no example scripts found in {EXAMPLES_DIR}"


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_example_runs(script, tmp_path):
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        # pytest-xdist runs two workers on two cores: one torch thread per example avoids
        # oversubscribed cores, which slow PyTorch's CPU kernels down several times.
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
    }
    try:
        result = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{script.name} did not finish within {TIMEOUT} s")
    assert result.returncode == 0, (
        f"{script.name} exited with {result.returncode}\n"
        f"--- stdout (end) ---\n{result.stdout[-3000:]}\n"
        f"--- stderr (end) ---\n{result.stderr[-5000:]}"
    )
