"""Which device each worker of a search trains on: the visible GPUs, round-robin.

One worker process trains one trial at a time, so a machine with 8 GPUs runs 8 trials at
once when worker ``i`` trains on ``cuda:{i % 8}``. The device fills in an estimator's
``device="auto"`` only: a device set on the estimator is the user's choice and wins.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from numbers import Integral

import torch
from sklearn.base import clone

from .._engine import resolve_device
from .spaces import final_step

#: The worker device that picks the visible GPUs, round-robin, or the CPU without one.
AUTO = "auto"


def visible_gpus() -> int:
    """Number of CUDA GPUs this process sees (``CUDA_VISIBLE_DEVICES`` applies), 0 without."""
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _checked_entry(devices: Sequence, index: int) -> str:
    """Entry ``index`` of a device list, as torch spells it, once checked to exist here."""
    entry = devices[index]
    if isinstance(entry, str) and entry == AUTO:
        raise ValueError(
            f"entry {index} of device={devices!r} is 'auto', which chooses the devices of all "
            "the workers; give 'auto' alone, or a list of devices such as ['cuda:0', 'cuda:1']"
        )
    try:
        return str(resolve_device(entry))
    except ValueError as error:
        raise ValueError(f"entry {index} of device={devices!r}: {error}") from error


def assign_devices(
    n_workers: int,
    device: str | torch.device | Sequence[str | torch.device] = AUTO,
    n_gpus: int | None = None,
) -> list[str]:
    """The device of each of ``n_workers`` workers.

    Parameters
    ----------
    n_workers : int
        Number of worker processes, at least 1.
    device : "auto", str, torch.device or sequence of them, default="auto"
        ``"auto"``: worker ``i`` gets ``cuda:{i % g}`` with ``g`` visible GPUs (more workers
        than GPUs share them evenly), ``"cpu"`` for every worker without one. One device
        (``"cpu"``, ``"cuda:1"``): every worker gets it. A list or tuple
        (``["cuda:0", "cuda:0", "cuda:1"]``): worker ``i`` gets entry ``i``, the list
        repeated as often as needed when it is shorter than ``n_workers`` (the number of
        workers also depends on ``n_trials``), its tail unused when longer.
    n_gpus : int or None, default=None
        Number of visible GPUs; None asks torch (``torch.cuda.device_count()``, which
        counts only those in ``CUDA_VISIBLE_DEVICES`` when it is set). Used by ``"auto"``.

    Returns
    -------
    devices : list of str
        ``n_workers`` device names, as torch spells them (``"cuda:0"``, ``"cpu"``).

    Raises
    ------
    ValueError
        For a device torch does not know or this machine lacks (``cuda:3`` with two GPUs),
        an empty list, ``"auto"`` inside a list, or ``n_workers`` or ``n_gpus`` below their
        bounds.

    Examples
    --------
    >>> assign_devices(3, n_gpus=2)
    ['cuda:0', 'cuda:1', 'cuda:0']
    >>> assign_devices(2, n_gpus=0)
    ['cpu', 'cpu']
    >>> assign_devices(3, ["cpu"])
    ['cpu', 'cpu', 'cpu']
    """
    if not isinstance(n_workers, Integral) or n_workers < 1:
        raise ValueError(f"n_workers={n_workers!r} must be an int >= 1")
    if isinstance(device, str) and device == AUTO:
        if n_gpus is None:
            n_gpus = visible_gpus()
        if not isinstance(n_gpus, Integral) or n_gpus < 0:
            raise ValueError(f"n_gpus={n_gpus!r} must be None or an int >= 0")
        if n_gpus == 0:
            return ["cpu"] * n_workers
        return [f"cuda:{worker % n_gpus}" for worker in range(n_workers)]
    if isinstance(device, (str, torch.device)):
        return [str(resolve_device(device))] * n_workers
    if not isinstance(device, (list, tuple)) or not device:
        raise ValueError(
            f"device={device!r} must be 'auto', one device such as 'cuda:1', or a non-empty "
            "list of devices such as ['cuda:0', 'cuda:1']"
        )
    devices = [_checked_entry(device, index) for index in range(len(device))]
    return [devices[worker % len(devices)] for worker in range(n_workers)]


def estimator_on_device(estimator, device: str):
    """``estimator``, or a clone of it whose final step trains on ``device``.

    Only an estimator (or a Pipeline's final step) whose ``device`` parameter is ``"auto"``
    is moved; one with another device, or without a ``device`` parameter, is returned as it
    is. ``estimator`` itself is never changed.
    """
    final, prefix = final_step(estimator)
    current = final.get_params().get("device")
    if not (isinstance(current, str) and current == AUTO):
        return estimator
    return clone(estimator).set_params(**{f"{prefix}device": device})


def objective_on_device(objective, device: str):
    """A shallow copy of ``objective`` (an ``EpochwiseCV``) whose estimator is on ``device``.

    The data are shared with ``objective``, not copied.
    """
    placed = copy.copy(objective)
    placed.estimator = estimator_on_device(objective.estimator, device)
    return placed


def use_device(device: str) -> None:
    """Make a CUDA ``device`` this process's current one (a worker process trains on it only).

    CUDA work that names no index (``"cuda"``, a library's own tensors) then lands on the
    worker's GPU rather than GPU 0. Nothing happens for another device, so the CPU path
    never touches CUDA.
    """
    resolved = torch.device(device)
    if resolved.type == "cuda" and resolved.index is not None:
        torch.cuda.set_device(resolved)
