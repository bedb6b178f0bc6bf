"""benchmarks/bench_gpu.py: its device logic, on the CPU (no GPU is needed to test it)."""

import importlib.util
import math
import pathlib
import re
import sys

import numpy as np
import pytest
import torch

PATH = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "bench_gpu.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_gpu", PATH)
    module = importlib.util.module_from_spec(spec)
    # The documented recipe: a dataclass looks its module up in sys.modules while it is made.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)


@pytest.fixture
def one_fake_gpu(monkeypatch):
    """torch believes in one CUDA device; only functions that do not touch it may run."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Fake GPU 9000")


def test_without_cuda_it_says_so_and_exits_0_without_a_figure(bench, no_cuda, capsys):
    assert bench.choose_device(None) is None
    assert bench.main([]) == 0
    out = capsys.readouterr().out
    assert "No CUDA device is visible" in out and "no GPU figure is claimed" in out
    assert "###" not in out and "ratio" not in out


def test_device_cpu_is_chosen_without_cuda(bench, no_cuda):
    assert bench.choose_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("requested", ["cuda", "cuda:0"])
def test_device_cuda_without_cuda_is_an_error_exit(bench, no_cuda, requested):
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--device", requested])
    # A string code: Python prints it to stderr and exits with status 1.
    assert isinstance(exit_info.value.code, str)
    assert re.search(
        rf"--device {requested} asked for, but torch sees no CUDA", exit_info.value.code
    )


def test_device_choice_with_a_gpu(bench, one_fake_gpu):
    assert bench.choose_device(None) == torch.device("cuda")
    assert bench.choose_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(SystemExit, match=r"--device cuda:1 asked for, but only 1 CUDA device"):
        bench.choose_device("cuda:1")
    with pytest.raises(SystemExit, match="use cuda, cuda:N or cpu"):
        bench.choose_device("meta")


def test_synchronize_waits_on_cuda_only(bench, monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append(device))
    bench.synchronize(torch.device("cpu"))
    assert calls == []
    bench.synchronize(torch.device("cuda:0"))
    assert calls == [torch.device("cuda:0")]


def test_machine_line_names_the_gpu(bench, one_fake_gpu):
    assert "GPU Fake GPU 9000, CUDA" in bench.device_description(torch.device("cuda"))
    assert "not GPU figures" in bench.device_description(torch.device("cpu"))


@pytest.mark.parametrize("supported", [True, False])
def test_mixed_precision_rows_skipped_with_a_reason_without_bfloat16(
    bench, one_fake_gpu, monkeypatch, capsys, supported
):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda **kwargs: supported)
    measured = bench.precisions(torch.device("cuda"))
    out = capsys.readouterr().out
    assert [mixed for mixed, _ in measured] == ([False, True] if supported else [False])
    assert ("Fake GPU 9000 has no native bfloat16" in out) is not supported
    assert bench.mixed_precision_skip_reason(torch.device("cpu")) is None


@pytest.mark.parametrize("index", [0, 1, 2])
def test_hand_written_loop_trains_the_network_the_estimator_builds(bench, index):
    benchmark = bench.BENCHMARKS[index]
    X, y = benchmark.make_data(True)
    estimator = benchmark.make_estimator(
        max_epochs=1, n_iter_no_change=np.inf, device="cpu", random_state=0
    ).fit(X, y)
    assert str(benchmark.make_module(X, len(np.unique(y)))) == str(estimator.module_)


def test_hand_written_loop_converts_uint8_per_batch_and_autocasts(bench):
    images, y = bench.BENCHMARKS[1].make_data(True)
    assert images.dtype == np.uint8
    pixels = (images / np.float32(bench.PIXEL_MAX)).astype(np.float32)

    def losses(X, mixed_precision):
        torch.manual_seed(0)
        inputs, targets = bench.to_device(X, y, torch.device("cpu"))
        model = bench.BENCHMARKS[1].make_module(X, len(np.unique(y)))
        options = {"batch_size": 64, "epochs": 2, "lr": 1e-3, "fused": False}
        return bench.hand_written_device_loop(
            model, inputs, targets, mixed_precision=mixed_precision, **options
        )

    plain = losses(images, mixed_precision=False)
    assert len(plain) == 2 and all(math.isfinite(loss) for loss in plain)
    # The same float32 division, in torch per batch or in numpy beforehand: the same bits.
    assert losses(pixels, mixed_precision=False) == plain
    # bfloat16 rounds the forward pass: the losses move, which they would not without autocast.
    assert losses(images, mixed_precision=True) != plain


def test_batch_bounds_merge_a_last_single_row_as_sknets_does(bench):
    assert bench.batch_bounds(9, 4) == [(0, 4), (4, 9)]
    assert bench.batch_bounds(10, 4) == [(0, 4), (4, 8), (8, 10)]


def test_quick_cpu_run_prints_every_table_with_finite_ratios(bench, capsys):
    assert bench.main(["--device", "cpu", "--quick", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Machine: ") and "not GPU figures" in out.splitlines()[0]
    tables = re.findall(r"^### (.+)\n\n(?:\|.*\n){2}((?:\|.*\n?)+)", out, flags=re.MULTILINE)
    titles = [title for title, _ in tables]
    for benchmark in bench.BENCHMARKS:
        for label in ("mixed_precision=False", "mixed_precision=True (bfloat16 autocast)"):
            assert sum(t.startswith(benchmark.name) and label in t for t in titles) == 1
    assert len(tables) == 6
    for title, rows in tables:
        cells = [row.strip("|").split("|") for row in rows.strip().splitlines()]
        assert [name.strip() for name, _, _ in cells][0] == bench.REFERENCE, title
        assert any(name.strip().startswith("sknets ") for name, _, _ in cells), title
        ratios = [float(ratio.strip().rstrip("x")) for _, _, ratio in cells]
        assert ratios[0] == 1.0 and all(math.isfinite(r) and r > 0 for r in ratios), title
