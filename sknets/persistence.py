"""Save a fitted sknets estimator, or a Pipeline ending in one, and load it without pickle.

:func:`save` writes one zip file:

- ``sknets.json``: the format version, the versions that wrote it, the estimator's class
  (one of the sknets estimators), its ``get_params()``, its fitted attributes, its task
  (classes or target standardisation), its training history and the optimizer's settings,
  in the JSON encoding of ``sknets._json_values``;
- ``weights.safetensors``: the network's ``state_dict`` (safetensors holds tensors only);
- ``attributes.safetensors``: tensors among the fitted attributes (the two training
  samples kept for ``summary()``), which ``sknets.json`` refers to by key;
- ``optimizer.safetensors``: the optimizer's tensors (Adam's moments, momentum buffers),
  so that ``partial_fit`` and ``warm_start`` continue where the saved model stopped;
- ``pipeline.skops``: for a :class:`~sklearn.pipeline.Pipeline`, its other steps, written
  by skops, with the sknets step replaced by ``"passthrough"``.

:func:`load` reads it back without unpickling anything: the class comes from the list of
sknets estimators, every other class or function the file names (a torch optimizer class,
a skorch callback, your ``lr_schedule`` function) is imported only when you trust it by
name, and the network is built from the saved parameters as ``fit`` builds it, then given
the saved weights.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import zipfile
import zlib
from typing import IO, Any

import torch
from sklearn.pipeline import Pipeline

from ._fitted_state import describe, rebuild
from ._json_values import import_by_path, referenced_names
from .base import NeuralNetBase

#: What the ``format`` key of ``sknets.json`` says, and the version this sknets writes.
FORMAT = "sknets"
FORMAT_VERSION = 1

DOCUMENT = "sknets.json"
PIPELINE = "pipeline.skops"

#: The safetensors members, by the kind of tensors they hold (see ``describe``).
TENSOR_MEMBERS = {
    "weights": "weights.safetensors",
    "attributes": "attributes.safetensors",
    "optimizer": "optimizer.safetensors",
}
WEIGHTS, ATTRIBUTES, OPTIMIZER = TENSOR_MEMBERS.values()

INSTALL_HINT = 'pip install "sknets[persistence]"'

#: Classes and functions a file may name without being trusted: sknets' own parameter objects.
DEFAULT_TRUSTED = frozenset({"sknets.augmentation.ImageAugmentation"})


def save(estimator: Any, path: str | os.PathLike | IO[bytes]) -> None:
    """Save a fitted sknets estimator, or a Pipeline ending in one, without pickle.

    The file is a zip archive of JSON (parameters, fitted attributes, history) and
    safetensors (weights, optimizer state); :func:`load` reads it without unpickling
    anything. A :class:`~sklearn.pipeline.Pipeline` of scikit-learn transformers ending in a
    sknets estimator is saved whole, its other steps through skops.

    Parameters
    ----------
    estimator : sknets estimator or Pipeline
        A fitted :class:`~sknets.MLPClassifier`, :class:`~sknets.CNNClassifier`,
        :class:`~sknets.RNNClassifier`, :class:`~sknets.NeuralNetClassifier` or one of
        their regressors, or a fitted Pipeline whose last step is one. A
        ``NeuralNetClassifier``'s ``module`` must be a class or function (saved by its
        import path), not a network instance.
    path : str, path-like or binary file object
        Where to write; an existing file is replaced. ``.sknets`` is a good extension.

    Raises
    ------
    ValueError
        If the estimator is not fitted (a :class:`~sklearn.exceptions.NotFittedError`),
        is not a sknets estimator, or holds a parameter JSON cannot carry: a lambda or a
        local function as ``lr_schedule``, a ``RandomState`` as ``random_state``... (the
        message names it).
    ImportError
        If safetensors (or, for a Pipeline, skops) is not installed.

    See Also
    --------
    load : Read the file back.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn.datasets import load_iris
    >>> from sknets import MLPClassifier, load, save
    >>> X, y = load_iris(return_X_y=True)
    >>> model = MLPClassifier((16,), max_epochs=5, random_state=0).fit(X, y)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "iris.sknets"
    >>> save(model, path)
    >>> bool((load(path).predict_proba(X) == model.predict_proba(X)).all())
    True
    """
    safetensors_torch = _optional_import("safetensors.torch")
    members = {}
    step_name = None
    if isinstance(estimator, Pipeline):
        members[PIPELINE], step_name, estimator = _split_pipeline(estimator)
    description, tensors = describe(estimator)
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sknets_version": _sknets_version(),
        "torch_version": torch.__version__,
        "pipeline_step": step_name,
        **description,
    }
    members[DOCUMENT] = json.dumps(document, indent=1).encode("utf-8")
    for kind, member in TENSOR_MEMBERS.items():
        if tensors[kind] is not None:
            members[member] = safetensors_torch.save(tensors[kind])
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def load(path: str | os.PathLike | IO[bytes], *, trusted: list[str] | None = None) -> Any:
    """Load an estimator saved by :func:`save`, without unpickling or running its code.

    The estimator's class must be one of the sknets estimators. Any other class or function
    the file names (a torch optimizer class passed as ``optimizer``, the network class of a
    ``NeuralNetClassifier``, a skorch callback, an ``lr_schedule`` function, a step of a
    Pipeline that skops does not trust by default) is
    imported only if you list its import path in ``trusted``; otherwise loading stops with a
    ``ValueError`` listing them all, before anything is imported.

    Parameters
    ----------
    path : str, path-like or binary file object
        A file written by :func:`save`.
    trusted : list of str, default=None
        Import paths you trust, as the error message spells them, e.g.
        ``["torch.optim.sgd.SGD", "skorch.callbacks.scoring.EpochScoring"]``. None trusts
        only what every sknets file may hold.

    Returns
    -------
    estimator : sknets estimator or Pipeline
        The fitted estimator, with the saved parameters, attributes, history and weights:
        it predicts exactly as the saved one did on the same device, and ``partial_fit`` or
        ``warm_start`` continue its training (with a fresh learning-rate schedule and fresh
        callbacks, whose state is not saved).

    Raises
    ------
    ValueError
        If the file is not a sknets model file, was altered (an unknown class, unexpected
        members, weights that do not fit the network its parameters build, tensors that
        are not safetensors), or names something not in ``trusted``.
    ImportError
        If safetensors (or, for a Pipeline, skops) is not installed.

    See Also
    --------
    save : Write the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn.datasets import load_diabetes
    >>> from sknets import MLPRegressor, load, save
    >>> X, y = load_diabetes(return_X_y=True)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "diabetes.sknets"
    >>> save(MLPRegressor((8,), max_epochs=3, random_state=0).fit(X, y), path)
    >>> load(path).n_outputs_, load(path).history_.shape[0]
    (1, 3)
    """
    safetensors_torch = _optional_import("safetensors.torch")
    trusted_names = _checked_trusted(trusted)
    members = _read_members(path)
    document = _read_document(members)
    _check_members(members, document)
    skops_io = _optional_import("skops.io") if document.get("pipeline_step") is not None else None
    untrusted = referenced_names(document) - trusted_names - DEFAULT_TRUSTED
    if skops_io is not None:
        untrusted |= set(_skops_call(skops_io.get_untrusted_types, data=members[PIPELINE]))
        untrusted -= trusted_names
    if untrusted:
        names = sorted(untrusted)
        raise ValueError(
            f"the file names {names}, which load does not trust by default: importing them "
            f"could run their code. If you trust them, pass trusted={names!r}"
        )
    tensors = {
        kind: _read_tensors(safetensors_torch, members, member)
        for kind, member in TENSOR_MEMBERS.items()
    }

    def resolve(name: str):
        if name not in trusted_names and name not in DEFAULT_TRUSTED:
            raise ValueError(f"{name!r} is not trusted")  # referenced_names found them all
        return import_by_path(name)

    try:
        estimator = rebuild(document, tensors, resolve)
    except (KeyError, TypeError, AttributeError, IndexError, RecursionError) as error:
        raise ValueError(
            f"{DOCUMENT} is not a valid sknets model description: {error!r}"
        ) from error
    if skops_io is None:
        return estimator
    pipeline = _skops_call(skops_io.loads, members[PIPELINE], trusted=sorted(trusted_names) or None)
    step_name = document["pipeline_step"]
    if not isinstance(pipeline, Pipeline) or pipeline.steps[-1] != (step_name, "passthrough"):
        raise ValueError(f"{PIPELINE} does not hold a Pipeline ending in step {step_name!r}")
    pipeline.steps[-1] = (step_name, estimator)
    return pipeline


# --------------------------------------------------------------------------- pipelines
def _split_pipeline(pipeline: Pipeline) -> tuple[bytes, str, NeuralNetBase]:
    """skops' bytes of ``pipeline`` without its sknets step, the step's name and the step."""
    skops_io = _optional_import("skops.io")
    step_name, final = pipeline.steps[-1]
    others = [name for name, step in pipeline.steps[:-1] if isinstance(step, NeuralNetBase)]
    if not isinstance(final, NeuralNetBase) or others:
        raise ValueError(
            "sknets.save saves a Pipeline whose last step, and only that one, is a sknets "
            f"estimator; steps {[name for name, _ in pipeline.steps]} are "
            f"{[type(step).__name__ for _, step in pipeline.steps]}"
        )
    shell = copy.copy(pipeline)
    shell.steps = [*pipeline.steps[:-1], (step_name, "passthrough")]
    return skops_io.dumps(shell), step_name, final


# ---------------------------------------------------------------------------- loading
def _optional_import(module: str):
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"sknets.save and sknets.load need {module.split('.')[0]}, which is not "
            f"installed: {INSTALL_HINT}"
        ) from error


def _checked_trusted(trusted) -> frozenset[str]:
    if trusted is None:
        return frozenset()
    if not isinstance(trusted, (list, tuple, set, frozenset)) or not all(
        isinstance(name, str) for name in trusted
    ):
        raise ValueError(
            f"trusted={trusted!r} is not supported; pass a list of import paths, e.g. "
            "['torch.optim.sgd.SGD'], as the error message of load lists them"
        )
    return frozenset(trusted)


def _read_members(path) -> dict[str, bytes]:
    known = {DOCUMENT, PIPELINE, *TENSOR_MEMBERS.values()}
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            unexpected = sorted(set(names) - known)
            if unexpected or len(set(names)) != len(names):
                raise ValueError(
                    f"the file holds unexpected members {unexpected or names}; a sknets model "
                    f"file holds only {sorted(known)}, each once"
                )
            return {name: archive.read(name) for name in names}
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
        raise ValueError(
            f"the file is not a complete sknets model file (a zip archive): {error}"
        ) from error


def _read_document(members: dict[str, bytes]) -> dict:
    if DOCUMENT not in members:
        raise ValueError(f"the file has no {DOCUMENT}: it was not written by sknets.save")
    try:
        document = json.loads(members[DOCUMENT].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"{DOCUMENT} is not valid JSON: {error}") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{DOCUMENT} does not describe a sknets model (no format={FORMAT!r})")
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"the file has format_version={version!r}, written by sknets "
            f"{document.get('sknets_version')}; this sknets reads format_version={FORMAT_VERSION}"
        )
    return document


def _check_members(members: dict[str, bytes], document: dict) -> None:
    expected = {DOCUMENT, WEIGHTS, ATTRIBUTES}
    if document.get("optimizer") is not None:
        expected.add(OPTIMIZER)
    if document.get("pipeline_step") is not None:
        expected.add(PIPELINE)
    if set(members) != expected:
        raise ValueError(
            f"the file holds {sorted(members)}, but its {DOCUMENT} describes {sorted(expected)}"
        )


def _read_tensors(safetensors_torch, members: dict[str, bytes], member: str) -> dict | None:
    if member not in members:
        return None
    try:
        return safetensors_torch.load(members[member])
    except Exception as error:  # safetensors' own error type is not part of its public API
        raise ValueError(f"{member} is not a valid safetensors file: {error}") from error


def _skops_call(function, *args, **kwargs):
    """A skops function's result; any failure on the file's content as a ValueError."""
    try:
        return function(*args, **kwargs)
    except Exception as error:  # skops raises many types on altered content
        raise ValueError(f"{PIPELINE} cannot be read by skops: {error!r}") from error


def _sknets_version() -> str:
    from . import __version__

    return __version__
