"""The README and the documentation pages say what the code does.

Each test ties a sentence of the docs to the code it describes (a default, an extra, a
benchmark's settings, a row of the contract table), so changing one without the other fails.
"""

import importlib.util
import inspect
import re
from pathlib import Path

import numpy as np
import pytest
import sklearn

from sknets import CNNClassifier, MLPClassifier, RNNClassifier
from sknets._docstrings import TRAINING_PARAMETERS
from sknets.base import DEFAULT_VALIDATION_FRACTION

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
INSTALL = (REPO / "docs" / "install.rst").read_text(encoding="utf-8")
CONTRACT = (REPO / "docs" / "user_guide" / "sklearn_contract.rst").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
ESTIMATORS = [MLPClassifier, CNNClassifier, RNNClassifier]


def flat(text: str) -> str:
    """``text`` with every run of white space (line breaks too) as one space."""
    return " ".join(text.split())


def documentation_texts() -> dict[str, str]:
    """README, the hand-written doc pages, the examples and the estimators' docstrings."""
    paths = [REPO / "README.md", *(REPO / "examples").glob("*.py")]
    paths += (REPO / "docs").rglob("*.rst")
    skipped = {"_build", "generated", "auto_examples"}
    texts = {
        str(path.relative_to(REPO)): path.read_text(encoding="utf-8")
        for path in paths
        if not skipped & set(path.relative_to(REPO).parts)
    }
    for estimator_class in ESTIMATORS:
        for name, member in inspect.getmembers(estimator_class):
            if not name.startswith("_") and getattr(member, "__doc__", None):
                texts[f"{estimator_class.__name__}.{name}"] = member.__doc__
        texts[estimator_class.__name__] = estimator_class.__doc__
    return texts


# ------------------------------------------------------------------ validation_fraction
def test_validation_fraction_default_is_documented_as_it_behaves():
    for estimator_class in ESTIMATORS:
        signature = inspect.signature(estimator_class)
        assert signature.parameters["validation_fraction"].default is None
        assert signature.parameters["early_stopping"].default is False
    entry = TRAINING_PARAMETERS.split("\nvalidation_fraction : ")[1].split("\nn_iter_no_change")[0]
    assert entry.startswith("float or None, default=None")
    assert f"None means {DEFAULT_VALIDATION_FRACTION} with ``early_stopping=True``" in flat(entry)
    assert "a float holds out that share with or without early stopping" in flat(entry)
    readme = flat(README)
    assert (
        f"default `None` means {DEFAULT_VALIDATION_FRACTION} with early stopping and no "
        "hold-out without it; a float holds out that share in either case"
    ) in readme
    assert "validation_fraction` (default 0.1" not in readme


@pytest.mark.parametrize(
    ("params", "held_out"),
    [
        ({}, False),
        ({"early_stopping": True}, True),  # None means DEFAULT_VALIDATION_FRACTION
        ({"validation_fraction": 0.2}, True),  # without early stopping too
    ],
)
def test_validation_fraction_holds_out_rows_as_documented(params, held_out):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 4)), np.arange(60) % 3
    model = MLPClassifier((4,), max_epochs=2, random_state=0, **params).fit(X, y)
    assert ("valid_loss" in model.history_) is held_out


def test_no_page_documents_patience_which_is_n_iter_no_change():
    # ``patience`` became ``n_iter_no_change`` (with ``tol``), as in scikit-learn. Naming
    # another library's parameter (Keras, skorch) stays allowed.
    for name, text in documentation_texts().items():
        for line in text.splitlines():
            if re.search(r"\bpatience\b", line, flags=re.IGNORECASE):
                assert re.search(r"keras|skorch", line, flags=re.IGNORECASE), f"{name}: {line}"
    for estimator_class in ESTIMATORS:
        assert "patience" not in estimator_class().get_params()


# ------------------------------------------------------------------------- install.rst
def test_install_page_lists_every_extra_with_what_it_adds():
    extras = PYPROJECT["project"]["optional-dependencies"]
    commands = dict(re.findall(r'pip install -e "\.\[(\w+)\]" +# \+ (.*)', INSTALL))
    assert set(commands) == set(extras)
    names = {
        extra: {re.split(r"[\[<>=]", requirement)[0].lower() for requirement in requirements}
        for extra, requirements in extras.items()
    }
    assert names["images"] == {"pillow"} and "Pillow" in commands["images"]
    assert names["plots"] == {"matplotlib"} and "matplotlib" in commands["plots"]
    assert names["postgresql"] == {"psycopg"} and "psycopg" in commands["postgresql"]
    assert names["persistence"] == {"safetensors", "skops"}
    assert "safetensors, skops" in commands["persistence"]
    assert names["pretrained"] == {"torchvision"} and "torchvision" in commands["pretrained"]
    assert names["dask"] == {"dask-ml", "dask"} and "dask-ml, Dask" in commands["dask"]
    assert {"pytest", "pytest-xdist", "ruff"} <= names["dev"]
    assert names["dev"] - {"pytest", "pytest-xdist", "ruff"} == (
        names["images"]
        | names["plots"]
        | names["postgresql"]
        | names["persistence"]
        | names["pretrained"]
        | names["dask"]
    ), "the dev line says: + pytest, pytest-xdist, ruff and the six above"
    assert {"sphinx", "matplotlib", "pillow"} <= names["docs"]


DISPLAY_NAMES = {
    "scikit-learn": "scikit-learn",
    "torch": "PyTorch",
    "skorch": "skorch",
    "numpy": "NumPy",
    "pandas": "pandas",
    "optuna": "Optuna",
    "tqdm": "tqdm",
    "torchinfo": "torchinfo",
    "tomli": "tomli",
}


def test_install_page_states_the_python_and_dependency_versions():
    intro = flat(INSTALL.split("Two commands")[0])
    python = PYPROJECT["project"]["requires-python"].removeprefix(">=")
    assert f"needs Python {python} or later" in intro
    for requirement in PYPROJECT["project"]["dependencies"]:
        name, minimum = re.match(r"([\w-]+)>=([\d.]+)", requirement).groups()
        shown = DISPLAY_NAMES[name]
        assert shown in intro, name
        stated = re.search(rf"{shown} \(([\d.]+) or later\)", intro)
        assert stated is None or stated.group(1) == minimum, name
    [torch] = [dep for dep in PYPROJECT["project"]["dependencies"] if dep.startswith("torch>")]
    assert f"sknets needs {torch}" in README


def test_pinned_torch_is_the_same_in_makefile_readme_and_install_page():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    pinned = re.search(r"TORCH_CPU := torch==([\d.]+)", makefile).group(1)
    assert f"pip install torch=={pinned}" in README
    assert f"``torch=={pinned}``" in INSTALL and f"``{pinned}+cpu``" in INSTALL


def test_install_page_describes_every_demo_section():
    from sknets.demo import SECTIONS

    described = flat(INSTALL.split("``make demo`` installs")[1].split("Two more targets")[0])
    assert f"the {['one', 'two', 'three', 'four', 'five'][len(SECTIONS) - 1]} sections" in (
        described
    )
    for shown in ("MLPClassifier", "CNNClassifier", "LSTM", "OptunaSearchCV"):
        assert shown in described


# ------------------------------------------------------------- the README's tuning figure
def _bench_tuning():
    path = REPO / "benchmarks" / "bench_tuning.py"
    spec = importlib.util.spec_from_file_location("bench_tuning", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_tuning_figure_states_the_settings_it_was_measured_with():
    bench = _bench_tuning()
    readme = flat(README)
    sentence = readme[readme.index('`"auto"` trials') - 10 :][:600]
    assert f'{bench.N_TRIALS} `"auto"` trials' in sentence
    assert f"MLPClassifier(max_epochs={bench.MAX_EPOCHS})" in sentence
    assert f"cv={bench.CV}" in sentence and f"n_jobs={bench.N_JOBS}" in sentence
    assert "benchmarks/bench_tuning.py" in sentence
    assert re.search(r"take \d+–\d+ s", sentence), "a measured range of seconds"
    assert re.search(r"\d+–\d+ of them pruned", sentence), "a measured range of pruned trials"


# -------------------------------------------------------------- sklearn_contract.rst rows
def test_contract_warm_start_row_continues_for_up_to_max_epochs():
    assert "for up to ``max_epochs`` more epochs (fewer once it has converged)" in flat(CONTRACT)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 4)), np.arange(60) % 3
    # With a huge tol no epoch improves enough: each fit converges within a few epochs.
    model = MLPClassifier((4,), max_epochs=50, n_iter_no_change=2, tol=1e9, warm_start=True)
    first = model.fit(X, y).n_epochs_
    second = model.fit(X, y).n_epochs_
    assert first < 10 and 0 < second - first < 10


def test_contract_notebook_row_html_highlights_the_parameters_you_set():
    assert "whose parameter table highlights the ones you set (scikit-learn 1.7" in flat(CONTRACT)
    if tuple(int(part) for part in sklearn.__version__.split(".")[:2]) < (1, 7):
        pytest.skip("scikit-learn < 1.7 draws no parameter table")
    html = MLPClassifier(hidden_layer_sizes=(8,), lr=0.01)._repr_html_()
    user_set = re.findall(r'<tr class="user-set">.*?Copy (\w+) to clipboard', html, re.DOTALL)
    assert sorted(user_set) == ["hidden_layer_sizes", "lr"]
    assert "max_epochs" in html  # the other parameters are in the table, not highlighted


# ------------------------------------------------------ the other figures and their settings
def _benchmark(name: str):
    path = REPO / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_benchmark_table_states_the_settings_of_its_script():
    bench = _benchmark("bench_mlp")
    table = (REPO / "docs" / "benchmark_results.rst").read_text(encoding="utf-8")
    assert table.startswith(".. Generated by benchmarks/bench_mlp.py --write-docs")
    settings = f"{bench.N_ROWS} rows x {bench.N_FEATURES} features, {bench.N_FEATURES}-"
    settings += f"{bench.N_HIDDEN}-{bench.N_CLASSES} MLP, Adam, {bench.EPOCHS} epochs"
    assert settings in table
    assert f"{bench.N_ROWS:,}".replace(",", " ") + " rows, 3 epochs" in README


def test_readme_demo_time_says_how_and_on_what_it_was_measured():
    from sknets.demo import SECTIONS, SEED

    demo = flat(README.split("`make demo` runs `sknets demo`")[1].split("| section |")[0])
    assert f"seed {SEED}" in demo
    assert "`time python -m sknets demo`" in demo and "three runs" in demo
    assert re.search(r"\d+–\d+ s from start to end", demo)
    table = README.split("| section |")[1].split("\n\n")[0]
    assert {row.split("`")[1] for row in table.splitlines()[2:]} == set(SECTIONS)
