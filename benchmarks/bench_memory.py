"""Peak resident memory of fit and predict, against the size of X (issue #14).

Every case runs in a fresh process, which makes its own data (the parent never holds it),
so no peak of one case raises another's, with glibc's mmap threshold fixed (see
``ALLOCATOR``) so that resident memory follows live memory. The child reads its resident
set size (RSS) at three moments and its high-water mark (``VmHWM``, which ``ru_maxrss``
reports too) over two phases, resetting the mark in between through ``/proc/self/clear_refs``:

- ``torch``: RSS after ``import torch, sknets`` and the estimator's class, before any data
  exists.
- ``runtime``: the peak RSS of a warm-up ``fit`` and ``predict`` of a clone on 20
  batches' worth of other samples, less those samples' bytes: torch's baseline at run
  time, with what a forward and backward pass costs whatever the size of X (kernels'
  buffers, thread pools, allocator caches, a batch's activations and gradients: about
  100 MB for the MLPs and 350 MB for this CNN on batches of 128 images; a hand-written
  torch loop on such batches takes as much).
- ``with X``: RSS once ``X`` and ``y`` are built, just before ``fit``. A memory-mapped X
  (``np.load(..., mmap_mode="r")``) adds nothing here; its pages count in the peaks as
  batches read them, up to X.nbytes.
- ``fit peak`` / ``predict peak``: the high-water mark during ``fit(X, y)``, then during
  ``predict(X)`` (mark reset after the data is built and again after ``fit``; without
  ``clear_refs`` the predict peak is that of the whole process, and says so).

The table gives, in multiples of ``X.nbytes``:

- ``fit extra / X`` = (fit peak - with X) / X.nbytes: what fit needs beyond X itself
  (copies, conversions, batches, autograd). Likewise ``predict extra / X``.
- ``fit / X`` = (fit peak - runtime) / X.nbytes, the quantity issue #14 bounds: the target
  is fit peak - runtime <= 1.5 x X.nbytes + model, where X itself is one of the 1.5 and the
  model counts its float32 weights, their gradients, Adam's two moments and the float64 copy
  that CPU inference makes: 6 x 4 bytes per parameter (3 MB for this CNN, less for the
  MLPs). ``meet`` says whether the fit peak and the predict peak each stay within it.

Below the table, the ``marginal`` line gives (fit peak difference) / (X.nbytes difference)
between the smallest and largest size of a kind: bytes of peak per byte of X, free of any
fixed cost. It counts X itself: 1.0 means no copy of X, and the target is 1.5.

Run ``python benchmarks/bench_memory.py [--quick] [--large] [--sizes KIND=N,N ...]
[--cases CASE,...]``, KIND one of ``images`` (uint8 RGB 64x64, CNNClassifier), ``photos``
(uint8 RGB 128x128 channels last, only with ``--large`` or ``--sizes``: 40 000 of them are
the issue's 2 GB of photos), ``folder`` (the same images as PNG files,
``load_image_folder(lazy=True, num_workers=2)``; X.nbytes is then that of the decoded
pixels, which are never all in memory), ``rows`` (512 columns, MLPClassifier,
float32, float64 and a float32 memory map) and ``other`` (512 float32 columns, MLPRegressor and
NeuralNetClassifier()). The row cases train on batches of 1024 rows, for speed.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time
import warnings

MB = 2**20

#: Samples per case of each kind: the default run, ``--quick`` and what ``--large`` adds.
#: Two sizes per kind are enough for the marginal line and keep the default run to about three
#: minutes; 10 000 images is the fit measured in the issue.
SIZES = {
    "images": [2_000, 10_000, 20_000],
    "photos": [],  # --large only: 40 000 photos are the 2 GB, a 3-minute epoch
    "folder": [2_000, 10_000],
    "rows": [50_000, 200_000],
    "other": [100_000],
}
QUICK_SIZES = {
    "images": [2_000],
    "photos": [],
    "folder": [500],
    "rows": [50_000],
    "other": [50_000],
}
LARGE_SIZES = {"images": [40_000], "photos": [40_000], "rows": [400_000]}

#: Case name -> (kind, estimator class name, description of X).
CASES = {
    "cnn-uint8": ("images", "CNNClassifier", "uint8 (n, 3, 64, 64)"),
    "cnn-photos": ("photos", "CNNClassifier", "uint8 (n, 128, 128, 3), channels last"),
    "cnn-folder": ("folder", "CNNClassifier", "lazy folder of (3, 64, 64) PNGs, 2 workers"),
    "mlp-float32": ("rows", "MLPClassifier", "float32 (n, 512)"),
    "mlp-float64": ("rows", "MLPClassifier", "float64 (n, 512)"),
    "mlp-float32-memmap": ("rows", "MLPClassifier", "float32 (n, 512) memory map"),
    "regressor-float32": ("other", "MLPRegressor", "float32 (n, 512)"),
    "network-float32": ("other", "NeuralNetClassifier", "float32 (n, 512)"),
}

#: Samples of the warm-up fit that pays torch's runtime cost before the measured one: 20
#: training batches of each kind, over which the allocator's working set rises and falls by
#: some 60 MB (a peak over 2 batches misses most of that).
WARMUP_SAMPLES = {"images": 2560, "photos": 2560, "folder": 2560, "rows": 20480, "other": 20480}

#: glibc's allocator raises its mmap threshold as large blocks are freed, then keeps later
#: ones of that size in its heaps: resident memory then drifts 50-100 MB above the live
#: memory, from run to run (a 10 000-image CNN fit: 686-749 MB over an epoch). A fixed
#: threshold returns every large block when freed, so RSS follows what is live (592 MB,
#: flat) and the peaks measure sknets, not the allocator's history.
ALLOCATOR = {"MALLOC_MMAP_THRESHOLD_": str(128 * 1024)}

#: Training batch of the row cases (the CNN keeps its default, 128).
ROWS_BATCH_SIZE = 1024

#: Bytes the target grants the model per parameter: float32 weights, gradients and Adam's two
#: moments, and the float64 copy of the weights made for CPU inference.
MODEL_BYTES_PER_PARAMETER = 4 * 4 + 8


# ------------------------------------------------------------------------- the child
def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> bool:
    """Set the high-water mark to the current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def _make_data(case: str, n_samples: int):
    import numpy as np

    rng = np.random.default_rng(0)
    if case == "cnn-uint8":
        X = rng.integers(0, 256, (n_samples, 3, 64, 64), dtype=np.uint8)
    elif case == "cnn-photos":
        X = np.empty((n_samples, 128, 128, 3), dtype=np.uint8)
        for start in range(0, n_samples, 4096):  # no int64 intermediate of X's size
            rows = min(4096, n_samples - start)
            X[start : start + rows] = rng.integers(0, 256, (rows, 128, 128, 3), dtype=np.uint8)
    elif case == "cnn-folder":
        return _image_folder(n_samples, rng)
    else:
        X = rng.standard_normal((n_samples, 512), dtype=np.float32)
        if case.startswith("mlp-float64"):
            X = X.astype(np.float64)
    if case.startswith("regressor"):
        y = rng.standard_normal(n_samples)
    else:
        y = rng.integers(0, 10, n_samples)
    return X, y


def _image_folder(n_samples: int, rng):
    """``n_samples`` 64x64 RGB PNG files in 10 class folders, listed lazily (2 workers)."""
    from PIL import Image

    from sknets.datasets import load_image_folder

    root = pathlib.Path(tempfile.mkdtemp())
    for index in range(n_samples):
        folder = root / f"class{index % 10}"
        folder.mkdir(exist_ok=True)
        pixels = rng.integers(0, 256, (64, 64, 3), dtype="uint8")
        Image.fromarray(pixels).save(folder / f"{index}.png", compress_level=1)
    return load_image_folder(root, (64, 64), lazy=True, num_workers=2, verbose=0)


def _n_bytes(X) -> int:
    """Bytes of X, or of the array a lazy image folder stands for (its decoded pixels)."""
    return int(X.nbytes) if hasattr(X, "nbytes") else math.prod(X.shape) * X.dtype.itemsize


def _make_estimator(case: str):
    import sknets

    common = {"max_epochs": 1, "random_state": 0, "device": "cpu"}
    if case.startswith("cnn"):
        channels_last = case == "cnn-photos"
        return sknets.CNNClassifier(
            channels=(8,), hidden_layer_sizes=(16,), channels_last=channels_last, **common
        )
    # Batches of 1024 rows (at most 2 MB of float32 input, noise beside X) keep one epoch
    # over 200 000 rows to seconds; the default 128 measures the same copies, slower.
    common["batch_size"] = ROWS_BATCH_SIZE
    if case.startswith("mlp"):
        return sknets.MLPClassifier((16,), **common)
    if case.startswith("regressor"):
        return sknets.MLPRegressor((16,), **common)
    return sknets.NeuralNetClassifier(**common)


def measure(case: str, n_samples: int) -> dict:
    """One case, in this (fresh) process: RSS and peaks in KiB, times in seconds."""
    import numpy as np
    import sklearn.base
    import torch

    import sknets  # noqa: F401  (part of the baseline)

    torch.set_num_threads(2)
    estimator = _make_estimator(case)
    torch_kib = _status_kib("VmRSS")
    # torch's runtime cost (kernels, thread pools, allocator caches, a batch's activations)
    # does not grow with X: a fit and predict on 20 batches' worth of samples pay it.
    warm_X, warm_y = _make_data(case, WARMUP_SAMPLES[CASES[case][0]])
    _reset_peak()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sklearn.base.clone(estimator).fit(warm_X, warm_y).predict(warm_X)
    # The warm-up's own samples are not part of the runtime.
    runtime_kib = _status_kib("VmHWM") - _n_bytes(warm_X) // 1024
    del warm_X, warm_y
    gc.collect()
    X, y = _make_data(case, n_samples)
    if case.endswith("memmap"):
        path = pathlib.Path(tempfile.mkdtemp()) / "X.npy"
        np.save(path, X)
        del X
        X = np.load(path, mmap_mode="r")  # pages are read as batches need them
    with_x_kib = _status_kib("VmRSS")
    resettable = _reset_peak()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning after one epoch
        estimator.fit(X, y)
    fit_seconds = time.perf_counter() - start
    fit_peak_kib = _status_kib("VmHWM")
    after_fit_kib = _status_kib("VmRSS")
    _reset_peak()
    start = time.perf_counter()
    estimator.predict(X)
    predict_seconds = time.perf_counter() - start
    predict_peak_kib = _status_kib("VmHWM")
    n_parameters = sum(parameter.numel() for parameter in estimator.module_.parameters())
    return {
        "x_bytes": _n_bytes(X),
        "torch_kib": torch_kib,
        "runtime_kib": runtime_kib,
        "with_x_kib": with_x_kib,
        "fit_peak_kib": fit_peak_kib,
        "after_fit_kib": after_fit_kib,
        "predict_peak_kib": predict_peak_kib,
        "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        # DataLoader workers are processes of their own: the largest one's peak, pages it
        # shares with this process (copy-on-write after the fork) included.
        "workers_maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        "peak_resettable": resettable,
        "model_bytes": n_parameters * MODEL_BYTES_PER_PARAMETER,
        "fit_seconds": fit_seconds,
        "predict_seconds": predict_seconds,
    }


# ------------------------------------------------------------------------ the parent
def run_child(case: str, n_samples: int) -> dict:
    command = [sys.executable, __file__, "--child", case, str(n_samples)]
    completed = subprocess.run(
        command, capture_output=True, text=True, check=False, env={**os.environ, **ALLOCATOR}
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{case} n={n_samples} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.splitlines()[-1])


def row(case: str, n_samples: int, result: dict) -> str:
    x_bytes = result["x_bytes"]
    kib = 1024
    torch_bytes = result["torch_kib"] * kib
    runtime_bytes = result["runtime_kib"] * kib
    with_x = result["with_x_kib"] * kib
    fit_peak = result["fit_peak_kib"] * kib
    predict_peak = result["predict_peak_kib"] * kib
    budget = 1.5 * x_bytes + result["model_bytes"]
    meets = [peak - runtime_bytes <= budget for peak in (fit_peak, predict_peak)]
    _, estimator, description = CASES[case]
    predict_note = "" if result["peak_resettable"] else " (process peak)"
    cells = [
        f"{estimator} {description}",
        f"{n_samples:,}",
        f"{x_bytes / MB:.0f}",
        f"{torch_bytes / MB:.0f}",
        f"{runtime_bytes / MB:.0f}",
        f"{with_x / MB:.0f}",
        f"{fit_peak / MB:.0f}",
        f"{(fit_peak - with_x) / x_bytes:.2f}",
        f"{(fit_peak - runtime_bytes) / x_bytes:.2f}",
        f"{predict_peak / MB:.0f}{predict_note}",
        f"{(predict_peak - with_x) / x_bytes:.2f}",
        " / ".join("yes" if each else "no" for each in meets),
        f"{result['fit_seconds']:.1f} / {result['predict_seconds']:.1f}",
    ]
    return "| " + " | ".join(cells) + " |"


def parse_sizes(texts: list[str], base: dict[str, list[int]]) -> dict[str, list[int]]:
    sizes = dict(base)
    for text in texts:
        kind, _, numbers = text.partition("=")
        if kind not in SIZES or not numbers:
            raise SystemExit(f"--sizes {text!r}: use KIND=N,N,... with KIND in {sorted(SIZES)}")
        sizes[kind] = [int(number.replace("_", "")) for number in numbers.split(",")]
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smallest sizes only (seconds)")
    parser.add_argument(
        "--large",
        action="store_true",
        help="add 40 000 images, 40 000 128x128 photos and 400 000 rows",
    )
    parser.add_argument("--sizes", action="append", default=[], metavar="KIND=N,N")
    parser.add_argument(
        "--cases", default=",".join(CASES), help=f"comma-separated, among {', '.join(CASES)}"
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], int(args.child[1]))))
        return
    sizes = QUICK_SIZES if args.quick else SIZES
    if args.large:
        sizes = {kind: sizes[kind] + LARGE_SIZES.get(kind, []) for kind in sizes}
    sizes = parse_sizes(args.sizes, sizes)

    import torch

    sys.path.insert(0, str(pathlib.Path(__file__).parent))
    from _timing import machine_description

    torch.set_num_threads(2)
    print(f"Machine: {machine_description()}. MB = 2**20 bytes; each case a fresh process.\n")
    header = [
        "estimator, X",
        "n",
        "X MB",
        "torch MB",
        "runtime MB",
        "with X MB",
        "fit peak MB",
        "fit extra / X",
        "fit / X",
        "predict peak MB",
        "predict extra / X",
        "fit / predict meet 1.5 X + model",
        "fit / predict s",
    ]
    print("| " + " | ".join(header) + " |")
    print("|---|" + "---:|" * (len(header) - 1))
    marginal = []
    worker_notes = []
    started = time.perf_counter()
    chosen = args.cases.split(",")
    unknown = sorted(set(chosen) - set(CASES))
    if unknown:
        raise SystemExit(f"--cases: unknown {unknown}; choose among {list(CASES)}")
    for case, (kind, estimator, description) in CASES.items():
        if case not in chosen:
            continue
        results = [(n, run_child(case, n)) for n in sizes[kind]]
        for n_samples, result in results:
            print(row(case, n_samples, result), flush=True)
            if kind == "folder":
                worker_notes.append(
                    f"- {estimator} {description}, n {n_samples:,}: largest peak RSS of one "
                    f"DataLoader worker {result['workers_maxrss_kib'] / 1024:.0f} MB, pages "
                    "shared with the trainer included"
                )
        if len(results) > 1:
            (n_small, small), (n_large, large) = results[0], results[-1]
            slope = (large["fit_peak_kib"] - small["fit_peak_kib"]) * 1024
            slope /= large["x_bytes"] - small["x_bytes"]
            marginal.append(
                f"- {estimator} {description}: {slope:.2f} bytes of fit peak per byte of X "
                f"(n {n_small:,} -> {n_large:,})"
            )
    if marginal:
        print("\nMarginal fit peak, (peak difference) / (X.nbytes difference):\n")
        print("\n".join(marginal))
    if worker_notes:
        print("\nWorker processes (not in the table's peaks):\n")
        print("\n".join(worker_notes))
    print(f"\nTotal {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main()
