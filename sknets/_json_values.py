"""The JSON encoding of the values a saved sknets estimator holds (:mod:`sknets.persistence`).

A value is written as plain JSON (None, booleans, integers, strings, finite floats, lists)
or as a JSON object with a single key that says what it holds:

- ``{"float": "inf"}`` (or ``"-inf"``, ``"nan"``): the floats JSON has no number for;
- ``{"tuple": [...]}``: a tuple, so that ``hidden_layer_sizes=(64,)`` comes back a tuple;
- ``{"dict": [[key, value], ...]}``: a dict, whose keys may be labels of any type;
- ``{"ndarray": {"dtype": "<U3", "shape": [2], "values": [...]}}``: a numpy array of
  booleans, numbers or strings, in its dtype;
- ``{"numpy": {"dtype": "<i8", "value": 3}}``: a numpy scalar, in its dtype;
- ``{"tensor": "0"}``: a torch tensor, kept by the :class:`Encoder` under that key (to be
  written as safetensors beside the JSON);
- ``{"device": "cuda:0"}``: a :class:`torch.device`;
- ``{"name": "torch.optim.sgd.SGD"}``: a class or function, by its import path;
- ``{"object": {"class": "...", "params": {...}}}``: an object rebuilt as
  ``cls(**params)`` from its ``get_params`` (skorch callbacks, image augmentation); only
  the parameters that differ from the constructor's defaults are written.

A :class:`Decoder` imports nothing by itself: names become objects through the ``resolve``
function the caller gives it, and :func:`referenced_names` lists every name of a document
first, so that a loader can refuse a file before anything is imported.
"""

from __future__ import annotations

import importlib
import inspect
import math
import sys
from collections.abc import Callable
from types import BuiltinFunctionType, FunctionType
from typing import Any

import numpy as np
import torch

#: dtype kinds an array or numpy scalar may have, in words for the error messages.
ARRAY_KINDS = {
    "b": "booleans",
    "i": "integers",
    "u": "unsigned integers",
    "f": "floats",
    "U": "strings",
    "O": "objects",
}

#: What an :class:`Encoder` can write, for its error message.
ENCODABLE = (
    "None, booleans, numbers, strings, tuples, lists, dicts, numpy arrays and scalars (of "
    "booleans, numbers or strings), torch tensors and devices, classes and functions defined "
    "at the top level of a module, and objects with get_params"
)

NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


class Encoder:
    """Turns values into JSON-ready data, keeping the tensors they hold in :attr:`tensors`.

    Attributes
    ----------
    tensors : dict of str to torch.Tensor
        CPU copies of the tensors met, by the key their ``{"tensor": key}`` data names; to be
        written beside the JSON (as safetensors).
    """

    def __init__(self) -> None:
        self.tensors: dict[str, torch.Tensor] = {}

    def __call__(self, value: Any, where: str) -> Any:
        """``value`` as JSON-ready data; ``where`` names it in the ``ValueError`` if it cannot be.

        Parameters
        ----------
        value : object
            A parameter, a fitted attribute or a part of one.
        where : str
            How the error message calls ``value``, e.g. ``"lr_schedule"`` or ``"callbacks[0]"``.

        Returns
        -------
        data : object
            Plain JSON data, or one of the tagged forms of the module's docstring.
        """
        if isinstance(value, np.generic):  # before float: np.float64 is a float subclass
            dtype = _dtype_name(value.dtype, where)
            return {"numpy": {"dtype": dtype, "value": self(value.item(), where)}}
        if value is None or type(value) in (bool, int, str):
            return value
        if type(value) is float:
            return value if math.isfinite(value) else {"float": repr(value)}
        if type(value) in (list, tuple):
            items = [self(item, f"{where}[{index}]") for index, item in enumerate(value)]
            return items if type(value) is list else {"tuple": items}
        if type(value) is dict:
            pairs = [
                [self(key, f"{where} key"), self(item, f"{where}[{key!r}]")]
                for key, item in value.items()
            ]
            return {"dict": pairs}
        if isinstance(value, np.ndarray):
            return {"ndarray": self._array(value, where)}
        if isinstance(value, torch.Tensor):
            key = str(len(self.tensors))
            self.tensors[key] = value.detach().to("cpu", copy=True).contiguous()
            return {"tensor": key}
        if isinstance(value, torch.device):
            return {"device": str(value)}
        if isinstance(value, (type, FunctionType, BuiltinFunctionType)):
            return {"name": import_path(value, where)}
        if hasattr(value, "get_params"):
            return {"object": self._object(value, where)}
        if isinstance(value, torch.nn.Module):
            name = type(value).__name__
            raise ValueError(
                f"{where}={name}(...) cannot be saved: a network instance is Python code, which "
                f"the file does not hold; pass its class, {where}={name} (with module__<name> "
                "parameters), defined at the top level of a module"
            )
        raise ValueError(
            f"{where}={_short_repr(value)} cannot be saved: a {type(value).__name__}; sknets.save "
            f"writes {ENCODABLE}"
        )

    def _array(self, array: np.ndarray, where: str) -> dict:
        items = array.ravel().tolist()
        return {
            "dtype": _dtype_name(array.dtype, where),
            "shape": list(array.shape),
            "values": [self(item, f"{where}[{index}]") for index, item in enumerate(items)],
        }

    def _object(self, value: Any, where: str) -> dict:
        defaults = {
            name: parameter.default
            for name, parameter in inspect.signature(type(value)).parameters.items()
        }
        params = {
            name: self(item, f"{where}.{name}")
            for name, item in value.get_params(deep=False).items()
            if not _is_default(item, defaults.get(name, inspect.Parameter.empty))
        }
        return {"class": import_path(type(value), where), "params": params}


class Decoder:
    """Turns the data of an :class:`Encoder` back into values.

    Parameters
    ----------
    resolve : callable
        ``resolve(name)`` returns the class or function at an import path; it decides which
        paths may be imported.
    tensors : dict of str to torch.Tensor
        The encoder's :attr:`Encoder.tensors`, as read back.
    """

    def __init__(self, resolve: Callable[[str], Any], tensors: dict[str, torch.Tensor]) -> None:
        self.resolve = resolve
        self.tensors = tensors

    def __call__(self, data: Any) -> Any:
        """The value encoded as ``data``; a ``ValueError`` for data no encoder writes."""
        if data is None or type(data) in (bool, int, float, str):
            return data
        if type(data) is list:
            return [self(item) for item in data]
        tag = next(iter(data)) if type(data) is dict and len(data) == 1 else None
        decoder = getattr(self, f"_decode_{tag}", None)
        if decoder is None:
            raise ValueError(
                f"{_short_repr(data)} is not a value sknets.save writes; an encoded value is "
                f"plain JSON or an object with one of the keys {sorted(TAGS)}"
            )
        return decoder(data[tag])

    def _decode_float(self, content) -> float:
        return NON_FINITE[content]

    def _decode_tuple(self, content) -> tuple:
        return tuple(self(_listed(content)))

    def _decode_dict(self, content) -> dict:
        return {self(key): self(item) for key, item in _listed(content)}

    def _decode_ndarray(self, content) -> np.ndarray:
        dtype = _checked_dtype(content["dtype"])
        shape = tuple(int(size) for size in content["shape"])
        values = self(_listed(content["values"]))
        if math.prod(shape) != len(values) or min(shape, default=0) < 0:
            raise ValueError(f"an array of shape {shape} cannot hold {len(values)} values")
        if dtype.kind == "O":
            array = np.empty(len(values), dtype=object)
            for index, item in enumerate(values):  # items may be sequences: no broadcasting
                array[index] = item
        else:
            array = np.array(values, dtype=dtype)
        return array.reshape(shape)

    def _decode_numpy(self, content) -> np.generic:
        return _checked_dtype(content["dtype"]).type(self(content["value"]))

    def _decode_tensor(self, content) -> torch.Tensor:
        return self.tensors[str(content)]

    def _decode_device(self, content) -> torch.device:
        return torch.device(str(content))

    def _decode_name(self, content) -> Any:
        return self.resolve(str(content))

    def _decode_object(self, content) -> Any:
        cls = self.resolve(str(content["class"]))
        return cls(**{str(name): self(item) for name, item in content["params"].items()})


#: The tags of the module's docstring: what a one-key JSON object may hold.
TAGS = {name.removeprefix("_decode_") for name in vars(Decoder) if name.startswith("_decode_")}


def _listed(content) -> list:
    if type(content) is not list:
        raise ValueError(f"{_short_repr(content)} is not a list, as the encoding writes there")
    return content


def referenced_names(data: Any) -> set[str]:
    """Every import path that decoding ``data`` would resolve (classes, functions)."""
    if type(data) is list:
        return set().union(*(referenced_names(item) for item in data))
    if type(data) is not dict:
        return set()
    if set(data) == {"name"}:
        return {str(data["name"])}
    if set(data) == {"object"} and type(data["object"]) is dict:
        return {str(data["object"].get("class"))} | referenced_names(data["object"].get("params"))
    return set().union(*(referenced_names(item) for item in data.values()))


def import_path(value: type | Callable, where: str) -> str:
    """``module.qualname`` of a class or function that can be imported back by that path."""
    module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", "")
    found = (
        _attribute_path(sys.modules.get(module or ""), qualname) if "<" not in qualname else None
    )
    if found is not value:
        raise ValueError(
            f"{where}={_short_repr(value)} cannot be saved: it has no import path (a lambda, a "
            "function or class defined inside a function, or one replaced in its module); "
            "define it at the top level of a module so that load can import it by name"
        )
    return f"{module}.{qualname}"


def import_by_path(path: str) -> Any:
    """The object at ``path`` (``package.module.Class.attribute``); ValueError if there is none.

    Only call it for a path the user trusts: importing a module runs its code.
    """
    parts = path.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            module = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        found = _attribute_path(module, ".".join(parts[split:]))
        if found is not None:
            return found
    raise ValueError(f"{path!r} cannot be imported: no module defines it here")


def _attribute_path(module, qualname: str):
    value = module
    for part in qualname.split("."):
        value = getattr(value, part, None)
    return value


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ------------------------------------------------------------------------ numpy values
def _dtype_name(dtype: np.dtype, where: str) -> str:
    if dtype.kind not in ARRAY_KINDS:
        raise ValueError(
            f"{where} has dtype {dtype}, which sknets.save does not write; arrays and numpy "
            f"scalars may hold {', '.join(ARRAY_KINDS.values())}"
        )
    return dtype.str


def _checked_dtype(name: str) -> np.dtype:
    try:
        dtype = np.dtype(str(name))
    except TypeError as error:
        raise ValueError(f"dtype {name!r} is not a numpy dtype") from error
    _dtype_name(dtype, f"dtype {name!r}")
    return dtype


# ------------------------------------------------------------------ parameter objects
def _is_default(value: Any, default: Any) -> bool:
    if value is default:
        return True
    plain = (type(None), bool, int, float, str, tuple)
    return type(value) is type(default) and type(value) in plain and value == default
