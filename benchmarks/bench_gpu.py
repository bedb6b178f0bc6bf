"""GPU training speed: sknets against a hand-written CUDA loop, data on the device.

The MLP, CNN and GRU benchmarks (``bench_mlp.py``, ``bench_cnn.py``, ``bench_rnn.py``: their
data, networks and learning rate), each trained with and without ``mixed_precision``
(bfloat16 autocast), by three contenders:

- the hand-written loop: inputs and targets moved to the device once, before the clock
  starts (CNN images stay uint8 there and become float per batch), ``torch.randperm`` on
  the device, the network sknets builds (from :mod:`sknets.modules`), Adam with its fused
  step where torch has one, ``torch.autocast`` in bfloat16 for mixed precision, and the epoch
  loss summed on the device and read once per epoch;
- the same loop, with the copy of the numpy arrays to the device inside the timed run;
- the sknets estimator, ``fit`` on the numpy arrays with ``device=`` the same device (CNN
  images passed as uint8), for a fixed number of epochs (``n_iter_no_change=np.inf``).

A timed run builds the network and trains it for ``--epochs`` epochs; every run ends with
``torch.cuda.synchronize()``. Contenders run interleaved in one process; the script prints
per benchmark and precision the median time per epoch (a run's time over its epochs, so
sknets' figure includes what its ``fit`` does once: validation, the copy to the device) and
the ratio to the hand-written loop.

Run ``python benchmarks/bench_gpu.py [--repeats N] [--epochs N] [--batch-size N]`` on a
machine with a CUDA GPU. Where torch sees none, it says so and exits (status 0) without
measuring anything. ``--device cpu --quick`` runs the same code on the CPU with tiny sizes:
a smoke test of the script, whose figures are not GPU figures.
"""

from __future__ import annotations

import argparse
import contextlib
import pathlib
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import bench_cnn  # noqa: E402
import bench_mlp  # noqa: E402
import bench_rnn  # noqa: E402
from _timing import interleaved_medians, machine_description, print_table  # noqa: E402

from sknets import MLPClassifier  # noqa: E402
from sknets.base import has_fused_step  # noqa: E402
from sknets.cnn import CNNClassifier  # noqa: E402
from sknets.modules import CNN, MLP, RNN  # noqa: E402
from sknets.rnn import RNNClassifier  # noqa: E402

#: Images of the CNN benchmark on the GPU: MNIST-sized, enough batches for a steady epoch.
CNN_IMAGES, CNN_SIDE = 20_000, 28
#: Samples and CNN image side of ``--quick``: a smoke run, seconds on a CPU.
QUICK_ROWS, QUICK_SIDE = 256, 8
#: Largest pixel value: uint8 images are divided by it, as sknets' CNNClassifier does.
PIXEL_MAX = 255
REFERENCE = "hand-written loop"
NO_CUDA = (
    "No CUDA device is visible to torch (torch.cuda.is_available() is False): nothing was "
    "measured and no GPU figure is claimed. Run this script on a machine with a CUDA GPU, "
    "or pass --device cpu --quick for a smoke run of the same code on the CPU."
)


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: its data, the sknets estimator and the network that estimator builds."""

    name: str
    make_data: Callable[[bool], tuple[np.ndarray, np.ndarray]]  # quick -> (X, y)
    make_estimator: Callable[..., object]  # estimator keyword arguments -> unfitted estimator
    make_module: Callable[[np.ndarray, int], nn.Module]  # (X, n_classes) -> the network
    lr: float
    batch_size: int

    def describe(self, X: np.ndarray, batch_size: int) -> str:
        sample = "x".join(map(str, X.shape[1:]))
        return f"{self.name}: {len(X)} x {sample} {X.dtype}, batch {batch_size}"


def _mlp_data(quick: bool) -> tuple[np.ndarray, np.ndarray]:
    X, y = bench_mlp.make_data()
    return (X[:QUICK_ROWS], y[:QUICK_ROWS]) if quick else (X, y)


def _cnn_data(quick: bool) -> tuple[np.ndarray, np.ndarray]:
    X, y = bench_cnn.make_data(*((QUICK_ROWS, QUICK_SIDE) if quick else (CNN_IMAGES, CNN_SIDE)))
    return (X * PIXEL_MAX).astype(np.uint8), y


def _rnn_data(quick: bool) -> tuple[np.ndarray, np.ndarray]:
    X, y = bench_rnn.make_data()
    return (X[:QUICK_ROWS], y[:QUICK_ROWS]) if quick else (X, y)


BENCHMARKS = [
    Benchmark(
        name=f"MLP {bench_mlp.N_FEATURES}-{bench_mlp.N_HIDDEN}-{bench_mlp.N_CLASSES}",
        make_data=_mlp_data,
        make_estimator=lambda **kwargs: MLPClassifier((bench_mlp.N_HIDDEN,), **kwargs),
        make_module=lambda X, n_classes: MLP(
            X.shape[1], n_classes, hidden_layer_sizes=(bench_mlp.N_HIDDEN,)
        ),
        lr=bench_mlp.LR,
        batch_size=128,
    ),
    Benchmark(
        name="CNN 32-64 conv, dense 128, on uint8 images",
        make_data=_cnn_data,
        make_estimator=lambda **kwargs: CNNClassifier(**kwargs),
        make_module=lambda X, n_classes: CNN(X.shape[1:], n_classes, batch_norm=True),
        lr=bench_cnn.LR,
        batch_size=bench_cnn.BATCH_SIZE,
    ),
    Benchmark(
        name=f"GRU {bench_rnn.HIDDEN_SIZE}",
        make_data=_rnn_data,
        make_estimator=lambda **kwargs: RNNClassifier("gru", bench_rnn.HIDDEN_SIZE, **kwargs),
        make_module=lambda X, n_classes: RNN(
            X.shape[2], n_classes, cell="gru", hidden_size=bench_rnn.HIDDEN_SIZE
        ),
        lr=bench_rnn.LR,
        batch_size=64,
    ),
]


def choose_device(requested: str | None) -> torch.device | None:
    """The device to measure on: ``requested``, else CUDA, else ``None`` (nothing to measure).

    A requested device this machine does not have ends the script with an error (status 1).
    """
    if requested is None:
        return torch.device("cuda") if torch.cuda.is_available() else None
    try:
        device = torch.device(requested)
    except RuntimeError as error:
        raise SystemExit(f"bench_gpu.py: --device {requested} is not a torch device") from error
    if device.type not in ("cpu", "cuda"):
        raise SystemExit(f"bench_gpu.py: --device {requested}: use cuda, cuda:N or cpu")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(
            f"bench_gpu.py: --device {requested} asked for, but torch sees no CUDA device "
            "(torch.cuda.is_available() is False); use --device cpu for a smoke run"
        )
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise SystemExit(
            f"bench_gpu.py: --device {requested} asked for, but only "
            f"{torch.cuda.device_count()} CUDA device(s) exist"
        )
    return device


def synchronize(device: torch.device) -> None:
    """Wait for the work queued on ``device``, so the clock reads finished work (CUDA only)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_description(device: torch.device) -> str:
    if device.type == "cuda":
        return f"GPU {torch.cuda.get_device_name(device)}, CUDA {torch.version.cuda}"
    return "on the CPU: a smoke run of the script, not GPU figures"


def mixed_precision_skip_reason(device: torch.device) -> str | None:
    """Why bfloat16 rows are skipped on ``device``, or ``None`` if they can be measured."""
    if device.type != "cuda":
        return None  # CPU autocast runs bfloat16 everywhere torch does
    try:
        supported = torch.cuda.is_bf16_supported(including_emulation=False)
    except TypeError:  # torch before 2.4 knows no emulation
        supported = torch.cuda.is_bf16_supported()
    if supported:
        return None
    return (
        f"{torch.cuda.get_device_name(device)} has no native bfloat16 "
        "(torch.cuda.is_bf16_supported() is False): mixed_precision rows skipped"
    )


def batch_bounds(n_rows: int, batch_size: int) -> list[tuple[int, int]]:
    """Start and stop of each batch; a last single row joins the batch before, as in sknets."""
    bounds = [(start, min(start + batch_size, n_rows)) for start in range(0, n_rows, batch_size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], n_rows)]
    return bounds


def to_device(X: np.ndarray, y: np.ndarray, device: torch.device):
    """``X`` and ``y`` as tensors on ``device``: uint8 stays uint8, float rows become float32."""
    inputs = torch.from_numpy(X if X.dtype == np.uint8 else X.astype(np.float32, copy=False))
    return inputs.to(device), torch.from_numpy(y).to(device)


def hand_written_device_loop(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    batch_size: int,
    epochs: int,
    lr: float,
    mixed_precision: bool,
    fused: bool,
) -> list[float]:
    """Train ``model`` on tensors already on one device; return the mean loss of each epoch.

    uint8 inputs are pixels: each batch becomes float32 in 0..1 on the device. The loss is
    summed on the device and read once per epoch, so batches are not synchronised.
    """
    device = inputs.device
    model = model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, **({"fused": True} if fused else {}))
    loss_function = nn.CrossEntropyLoss()
    bounds = batch_bounds(len(inputs), batch_size)
    model.train()
    epoch_losses = []
    for _ in range(epochs):
        order = torch.randperm(len(inputs), device=device)
        epoch_loss = torch.zeros((), device=device)
        for start, stop in bounds:
            index = order[start:stop]
            batch = inputs[index]
            if batch.dtype == torch.uint8:
                batch = batch.float().div_(PIXEL_MAX)
            optimizer.zero_grad(set_to_none=True)
            precision = (
                torch.autocast(device_type=device.type, dtype=torch.bfloat16)
                if mixed_precision
                else contextlib.nullcontext()
            )
            with precision:
                outputs = model(batch)
            loss = loss_function(outputs.float(), targets[index])
            loss.backward()
            optimizer.step()
            epoch_loss += loss.detach() * (stop - start)
        epoch_losses.append(epoch_loss.item() / len(inputs))
    return epoch_losses


def contenders(
    benchmark: Benchmark,
    X: np.ndarray,
    y: np.ndarray,
    on_device: tuple[torch.Tensor, torch.Tensor],
    *,
    batch_size: int,
    epochs: int,
    mixed_precision: bool,
    fused: bool,
) -> dict[str, Callable[[], None]]:
    """The three timed runs of ``benchmark`` at one precision; ``on_device`` holds X and y."""
    device = on_device[0].device
    # As many outputs as classes in y, as the estimator builds (8x8 images hold 8 classes).
    n_classes = len(np.unique(y))
    loop = {
        "batch_size": batch_size,
        "epochs": epochs,
        "lr": benchmark.lr,
        "mixed_precision": mixed_precision,
        "fused": fused,
    }

    def run_hand_written():
        torch.manual_seed(0)
        hand_written_device_loop(benchmark.make_module(X, n_classes), *on_device, **loop)
        synchronize(device)

    def run_hand_written_with_copy():
        torch.manual_seed(0)
        model = benchmark.make_module(X, n_classes)
        hand_written_device_loop(model, *to_device(X, y, device), **loop)
        synchronize(device)

    def make_estimator():
        return benchmark.make_estimator(
            lr=benchmark.lr,
            batch_size=batch_size,
            max_epochs=epochs,
            n_iter_no_change=np.inf,
            device=str(device),
            mixed_precision=mixed_precision,
            random_state=0,
        )

    def run_sknets():
        make_estimator().fit(X, y)
        synchronize(device)

    return {
        REFERENCE: run_hand_written,
        "the same loop, copy to the device timed": run_hand_written_with_copy,
        f"sknets {type(make_estimator()).__name__}": run_sknets,
    }


def precisions(device: torch.device) -> list[tuple[bool, str]]:
    """``(mixed_precision, label)`` of the precisions to measure; skipped ones are printed."""
    measured = [(False, "mixed_precision=False")]
    reason = mixed_precision_skip_reason(device)
    if reason is None:
        measured.append((True, "mixed_precision=True (bfloat16 autocast)"))
    else:
        print(reason)
    return measured


def run_benchmark(
    benchmark: Benchmark,
    device: torch.device,
    args: argparse.Namespace,
    measured_precisions: list[tuple[bool, str]],
) -> dict[str, dict[str, float]]:
    """Measure ``benchmark`` at each precision; print and return its medians (seconds per epoch)."""
    X, y = benchmark.make_data(args.quick)
    batch_size = args.batch_size or benchmark.batch_size
    fused = has_fused_step(torch.optim.Adam, device)
    on_device = to_device(X, y, device)
    runs = {}
    for mixed_precision, label in measured_precisions:
        runs[label] = contenders(
            benchmark,
            X,
            y,
            on_device,
            batch_size=batch_size,
            epochs=args.epochs,
            mixed_precision=mixed_precision,
            fused=fused,
        )
    # All precisions in one interleaved round, so drift hits them alike.
    flat = {f"{label}: {name}": run for label, named in runs.items() for name, run in named.items()}
    medians = interleaved_medians(flat, repeats=args.repeats)
    tables = {}
    for label, named in runs.items():
        per_epoch = {name: medians[f"{label}: {name}"] / args.epochs for name in named}
        title = f"{benchmark.describe(X, batch_size)}, {label}, per epoch"
        print_table(title, per_epoch, REFERENCE, "ms")
        tables[label] = per_epoch
    return tables


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cuda, cuda:N or cpu (default: cuda)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    parser.add_argument("--repeats", type=int, default=None, help="default 5, 1 with --quick")
    parser.add_argument("--epochs", type=int, default=None, help="default 5, 2 with --quick")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the benchmark's")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 5
    if args.epochs is None:
        args.epochs = 2 if args.quick else 5
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    device = choose_device(args.device)
    if device is None:
        print(NO_CUDA)
        if torch.version.cuda is None:
            print(
                f"(This torch, {torch.__version__}, is a build without CUDA; see docs/install.rst.)"
            )
        return 0
    print(
        f"Machine: {machine_description()}, {device_description(device)}. Adam, "
        f"{args.epochs} epochs per run, median ms per epoch of {args.repeats} interleaved runs."
    )
    measured_precisions = precisions(device)
    for benchmark in BENCHMARKS:
        run_benchmark(benchmark, device, args, measured_precisions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
