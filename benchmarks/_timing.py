"""Interleaved timing shared by the benchmark scripts.

Each repeat runs every contender once, in a rotating order, so drift in the machine's speed
(other processes, thermal state) hits all of them alike; medians are then compared.
"""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable

import torch


def machine_description() -> str:
    """One line naming the machine the figures come from."""
    return (
        f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
        f"Python {platform.python_version()}, torch {torch.__version__}"
    )


def interleaved_medians(
    contenders: dict[str, Callable[[], None]], repeats: int, warmup: int = 1
) -> dict[str, float]:
    """Median wall time in seconds of each contender over ``repeats`` interleaved rounds."""
    names = list(contenders)
    for _ in range(warmup):
        for name in names:
            contenders[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            contenders[name]()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


UNITS = {"seconds": 1.0, "ms": 1e-3, "us": 1e-6}


def print_table(
    title: str, medians: dict[str, float], reference: str, unit: str = "seconds"
) -> None:
    """Print medians (in ``unit``: seconds, ms or us) and their ratio to ``reference``."""
    print(f"\n### {title}\n")
    print(f"| contender | median {unit} | ratio to {reference} |")
    print("|---|---:|---:|")
    for name, seconds in medians.items():
        value = seconds / UNITS[unit]
        print(f"| {name} | {value:.3f} | {seconds / medians[reference]:.2f}x |")


def hand_written_loop(
    model: torch.nn.Module,
    X,
    y,
    *,
    batch_size: int,
    epochs: int,
    lr: float,
    loss_function: torch.nn.Module | None = None,
    fused: bool = False,
) -> None:
    """What a careful PyTorch user writes: tensors once, Adam, shuffled index slices per batch.

    The epoch loss is accumulated (one ``loss.item()`` per batch), as any loop that reports
    its progress does; sknets records the same per-batch loss. ``loss_function`` defaults to
    cross-entropy (classification). ``fused=True`` uses torch's fused Adam step, as sknets
    does: the loop that isolates sknets' own overhead.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, **({"fused": True} if fused else {}))
    loss_function = torch.nn.CrossEntropyLoss() if loss_function is None else loss_function
    inputs, targets = torch.from_numpy(X), torch.from_numpy(y)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(inputs))
        epoch_loss = 0.0
        for start in range(0, len(inputs), batch_size):
            index = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = loss_function(model(inputs[index]), targets[index])
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item() * len(index)
