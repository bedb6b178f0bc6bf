"""The lean data path: X converted at most once, memory maps and sample sources read per batch.

Training and predictions must not depend on how X is stored: uint8 pixels converted a
batch at a time, a memory map read a batch at a time and a source of files decoded a batch
at a time all give *equal* fits (the same float32 batches in the same order meet the same
kernels), not merely close ones.
"""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from sklearn.model_selection import train_test_split

import sknets._inference
from sknets import CNNClassifier, CNNRegressor, MLPClassifier, MLPRegressor, NeuralNetClassifier
from sknets._data import ArrayData, TensorBatches
from sknets._rows import Rows
from sknets._sources import SampleSource

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

CPU = torch.device("cpu")
TINY_CNN = {
    "channels": (4,),
    "hidden_layer_sizes": (8,),
    "max_epochs": 2,
    "batch_size": 16,
    "device": "cpu",
    "random_state": 0,
}
FAST_MLP = {"hidden_layer_sizes": (8,), "max_epochs": 3, "batch_size": 32, "device": "cpu"}


def pixels(n=60, shape=(3, 8, 8), seed=0):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, (n, *shape), dtype=np.uint8)
    y = rng.integers(0, 3, n)
    return X, y


def assert_same_fit(model, other):
    assert model.history_["train_loss"].tolist() == other.history_["train_loss"].tolist()
    for (name, weight), (_, other_weight) in zip(
        model.module_.state_dict().items(), other.module_.state_dict().items(), strict=True
    ):
        assert torch.equal(weight, other_weight), name


class ArraySource(SampleSource):
    """Samples of an array, read through ``gather`` only, counting what is read."""

    def __init__(self, values: np.ndarray, num_workers: int = 0) -> None:
        self.values = values
        self.num_workers = num_workers
        self.largest_read = 0

    @property
    def shape(self):
        return self.values.shape

    @property
    def dtype(self):
        return self.values.dtype

    def gather(self, indices):
        self.largest_read = max(self.largest_read, len(indices))
        return self.values[indices]

    def subset(self, indices):
        return ArraySource(self.values[indices], self.num_workers)


# ------------------------------------------------------------ uint8 stays uint8
def test_uint8_images_are_kept_as_uint8_and_made_float_a_batch_at_a_time():
    X, y = pixels()
    model = CNNClassifier(**TINY_CNN)
    model._validate_inputs(X, y, reset=True)
    inputs = model._to_module_inputs(X.reshape(len(X), -1), training=True)
    assert isinstance(inputs, Rows)
    # The images themselves, not a copy: 1 byte per value for the whole fit.
    assert inputs.storage.dtype == torch.uint8
    assert inputs.storage.data_ptr() == X.ctypes.data
    batch = inputs[torch.tensor([5, 0, 59])]
    assert batch.dtype == torch.float32 and batch.shape == (3, 3, 8, 8)
    expected = X[[5, 0, 59]].astype(np.float32) / np.float32(255)
    assert np.array_equal(batch.numpy(), expected)  # bit for bit X / 255 in float32


@pytest.mark.parametrize("channels_last", [False, True])
def test_uint8_fit_equals_the_fit_on_pixels_divided_by_255(channels_last):
    X, y = pixels()
    if channels_last:
        X = np.ascontiguousarray(X.transpose(0, 2, 3, 1))
    scaled = X.astype(np.float32) / np.float32(255)
    model = CNNClassifier(**TINY_CNN, channels_last=channels_last).fit(X, y)
    float_model = CNNClassifier(**TINY_CNN, channels_last=channels_last).fit(scaled, y)
    assert_same_fit(model, float_model)
    np.testing.assert_array_equal(model.predict_proba(X), float_model.predict_proba(scaled))


def test_augmentation_sees_float_batches_of_uint8_images():
    from sknets.augmentation import ImageAugmentation

    seen = []

    class Recording(ImageAugmentation):
        def __call__(self, batch, generator):
            seen.append((batch.dtype, float(batch.max())))
            return super().__call__(batch, generator)

    X, y = pixels()
    CNNClassifier(**TINY_CNN, augmentation=Recording(horizontal_flip=True)).fit(X, y)
    assert seen and all(dtype == torch.float32 and peak <= 1.0 for dtype, peak in seen)


# ------------------------------------------------------------ no copy of X
def test_float32_rows_are_used_in_place_and_a_held_out_part_is_not_copied(monkeypatch):
    X = np.random.default_rng(0).standard_normal((200, 5), dtype=np.float32)
    y = (X[:, 0] > 0).astype(int)
    parts = []
    subset = ArrayData.subset

    def recording_subset(self, indices):
        part = subset(self, indices)
        parts.append(part.inputs)
        return part

    monkeypatch.setattr(ArrayData, "subset", recording_subset)
    MLPClassifier(**FAST_MLP, early_stopping=True, random_state=0).fit(X, y)
    assert len(parts) == 2  # the training and the validation part
    for part in parts:
        assert isinstance(part, Rows)
        assert part.storage.data_ptr() == X.ctypes.data  # positions into X, not a copy
    assert sorted(np.concatenate([part.positions.numpy() for part in parts])) == list(range(200))


def test_float64_rows_are_cast_per_batch_without_a_float32_copy():
    X = np.random.default_rng(0).standard_normal((100, 4))
    y = X[:, 0] * 2
    model = MLPRegressor(**FAST_MLP, random_state=0)
    model._validate_inputs(X, y, reset=True)
    inputs = model._to_module_inputs(X, training=True)
    assert isinstance(inputs, Rows) and inputs.storage.data_ptr() == X.ctypes.data
    batch = inputs[slice(10, 20)]
    assert batch.dtype == torch.float32
    assert np.array_equal(batch.numpy(), X[10:20].astype(np.float32))
    fitted = MLPRegressor(**FAST_MLP, random_state=0).fit(X, y)
    assert_same_fit(fitted, MLPRegressor(**FAST_MLP, random_state=0).fit(X.astype(np.float32), y))


# ---------------------------------------------------------------- memory maps
@pytest.fixture
def stored(tmp_path):
    """Images and rows saved with np.save, opened again as read-only memory maps."""

    def save(name, values):
        path = tmp_path / f"{name}.npy"
        np.save(path, values)
        return np.load(path, mmap_mode="r")

    return save


@pytest.mark.parametrize(
    "make_model",
    [
        lambda: CNNClassifier(**TINY_CNN),
        lambda: CNNRegressor(**TINY_CNN),
        lambda: MLPClassifier(**FAST_MLP, early_stopping=True, random_state=0),
        lambda: NeuralNetClassifier(max_epochs=2, device="cpu", random_state=0),
    ],
    ids=["cnn-uint8", "cnn-regressor-uint8", "mlp-float32-early-stopping", "network-float32"],
)
def test_a_memory_map_fits_and_predicts_exactly_as_the_array_in_memory(make_model, stored):
    X, y = pixels()
    model = make_model()
    if isinstance(model, MLPClassifier | NeuralNetClassifier):
        X = (X.reshape(len(X), -1) / 255).astype(np.float32)
    mapped = stored("X", X)
    assert isinstance(mapped, np.memmap) and not mapped.flags.writeable
    on_disk = model.fit(mapped, y)
    in_memory = make_model().fit(X, y)
    assert_same_fit(on_disk, in_memory)
    np.testing.assert_array_equal(on_disk.predict(mapped), in_memory.predict(X))


def test_a_memory_map_is_read_a_batch_at_a_time(stored, monkeypatch):
    X, y = pixels(n=100)
    mapped = stored("X", X)
    taken = []
    take = np.take

    def recording_take(values, indices, axis=None):
        taken.append(len(indices))
        return take(values, indices, axis=axis)

    monkeypatch.setattr(np, "take", recording_take)
    model = CNNClassifier(**{**TINY_CNN, "max_epochs": 1}).fit(mapped, y)
    assert taken and max(taken) <= 16 + 1  # batch_size, or one more for a merged last row
    taken.clear()
    monkeypatch.setattr(sknets._inference, "INFERENCE_CHUNK_ROWS", 32)
    model.predict(mapped)
    assert taken == [32, 32, 32, 4]  # prediction too reads a chunk at a time


MEMORY_CAPPED_FIT = textwrap.dedent(
    """
    import json, resource, sys, warnings
    import numpy as np
    import sknets

    def data_kib():
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmData:"))

    path, n_rows, n_columns, cap_mb = sys.argv[1], *map(int, sys.argv[2:])
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n_rows, n_columns))
    rng = np.random.default_rng(0)
    for start in range(0, n_rows, 8192):  # written a chunk at a time
        X[start : start + 8192] = rng.standard_normal((min(8192, n_rows - start), n_columns))
    y = (X[:, 0] > 0).astype(np.int64)
    X.flush()
    del X
    X = np.load(path, mmap_mode="r")
    model = sknets.MLPClassifier((16,), batch_size=1024, max_epochs=1, random_state=0,
                                 device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X[:2048], y[:2048])  # thread pools and allocator arenas exist from here
        cap = (data_kib() + cap_mb * 1024) * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))
        model.fit(X, y)
        accuracy = float((model.predict(X) == y).mean())
    try:
        np.array(X)  # what reading X whole would need
        read_whole = True
    except MemoryError:
        read_whole = False
    print(json.dumps({"accuracy": accuracy, "read_whole": read_whole}))
    """
)


def test_a_memory_map_larger_than_the_memory_allowed_trains_and_predicts(tmp_path):
    """X on disk is 512 MB; the process may allocate only 192 MB more than before fit.

    ``RLIMIT_DATA`` caps the process's private memory, not the pages of a file it maps,
    so every copy or conversion of X whole would fail with a MemoryError.
    """
    n_rows, n_columns, cap_mb = 131_072, 1024, 192
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            MEMORY_CAPPED_FIT,
            str(tmp_path / "X.npy"),
            str(n_rows),
            str(n_columns),
            str(cap_mb),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.splitlines()[-1])
    assert not result["read_whole"]  # the cap is below the size of X: it binds
    # y is the sign of the first of 1024 noise columns: one epoch measured 0.80 (chance 0.5).
    assert result["accuracy"] > 0.7


# ---------------------------------------------------------------- sample sources
@pytest.mark.parametrize("num_workers", [0, 2])
def test_a_sample_source_fits_and_predicts_exactly_as_its_array(num_workers):
    X, y = pixels(n=80)
    source = ArraySource(X, num_workers=num_workers)
    model = CNNClassifier(**TINY_CNN).fit(source, y)
    in_memory = CNNClassifier(**TINY_CNN).fit(X, y)
    assert_same_fit(model, in_memory)
    np.testing.assert_array_equal(model.predict_proba(source), in_memory.predict_proba(X))
    if num_workers == 0:  # the workers' counts stay in their processes
        assert (
            0
            < source.largest_read
            <= model._inference.chunk_rows(model._to_module_inputs(source, training=False))
        )


def test_a_sample_source_splits_like_an_array():
    X, y = pixels(n=80)
    source = ArraySource(X)
    train, test, y_train, y_test = train_test_split(source, y, stratify=y, random_state=0)
    X_train, X_test, *_ = train_test_split(X, y, stratify=y, random_state=0)
    assert isinstance(train, ArraySource) and np.array_equal(np.asarray(train), X_train)
    model = CNNClassifier(**TINY_CNN).fit(train, y_train)
    in_memory = CNNClassifier(**TINY_CNN).fit(X_train, y_train)
    assert_same_fit(model, in_memory)
    assert model.score(test, y_test) == in_memory.score(X_test, y_test)


def test_a_sample_source_is_checked_against_the_fitted_shape():
    X, y = pixels(n=40)
    model = CNNClassifier(**TINY_CNN).fit(ArraySource(X), y)
    assert model.n_features_in_ == 3 * 8 * 8 and model.input_shape_ == (3, 8, 8)
    other, _ = pixels(n=5, shape=(3, 4, 4))
    with pytest.raises(ValueError, match=r"samples of shape \(3, 4, 4\)"):
        model.predict(ArraySource(other))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        CNNClassifier(**TINY_CNN).fit(ArraySource(X), y[:-1])
    with pytest.raises(ValueError, match="reads uint8 or float samples"):
        CNNClassifier(**TINY_CNN).fit(ArraySource(X.astype(np.int32)), y)


def test_batches_of_a_source_with_workers_arrive_in_the_order_drawn():
    values = np.arange(40, dtype=np.float32)[:, None]
    data = ArrayData(Rows(ArraySource(values, num_workers=2), sample_shape=(1,)), torch.arange(40))
    generator = torch.Generator().manual_seed(0)
    batches = list(TensorBatches(data, 8, shuffle=True, device=CPU, generator=generator))
    for inputs, targets in batches:
        assert torch.equal(inputs[:, 0].long(), targets)  # each row with its own target
    assert sorted(torch.cat([targets for _, targets in batches]).tolist()) == list(range(40))


# ------------------------------------------------------------- lazy image folders
@pytest.fixture
def image_folder(tmp_path):
    """Two classes of PNG and JPEG files, a text file named .png and a truncated PNG."""
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        for index in range(12):
            values = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
            if label == "b":
                values[:, :6] = 255  # a class the network can tell apart
            suffix = "png" if index % 2 else "jpg"
            Image.fromarray(values).save(tmp_path / label / f"{index}.{suffix}")
    (tmp_path / "a" / "notes.png").write_text("not an image")
    (tmp_path / "b" / "truncated.png").write_bytes((tmp_path / "b" / "1.png").read_bytes()[:120])
    return tmp_path


@pytest.mark.parametrize("num_workers", [0, 2])
def test_a_lazy_image_folder_trains_as_its_decoded_array_and_names_a_broken_file(
    image_folder, num_workers
):
    from sknets.datasets import load_image_folder

    with pytest.warns(UserWarning, match=r"skipped 1 of 26 files .*notes\.png"):
        X, y = load_image_folder(image_folder, (8, 8), lazy=True, num_workers=num_workers)
    assert len(X) == 25  # the truncated file's header reads: it is found at decode
    with pytest.warns(UserWarning, match=r"could not be decoded .*truncated\.png"):
        model = CNNClassifier(**TINY_CNN).fit(X, y)
    with pytest.warns(UserWarning, match="truncated"):
        decoded = np.asarray(X)  # the same pixels, the broken file's row zeros
    assert not decoded[X.paths.index(str(image_folder / "b" / "truncated.png"))].any()
    assert_same_fit(model, CNNClassifier(**TINY_CNN).fit(decoded, y))
    with pytest.warns(UserWarning, match="truncated"):
        assert model.score(X, y) == model.score(decoded, y)


@pytest.mark.parametrize(
    "make_model",
    [
        lambda: MLPClassifier(**FAST_MLP, random_state=0),
        lambda: MLPRegressor(**FAST_MLP, random_state=0),
        lambda: NeuralNetClassifier(max_epochs=2, device="cpu", random_state=0),
    ],
    ids=["mlp", "mlp-regressor", "network"],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_row_estimator_fits_a_sample_source_as_its_array(make_model, dtype):
    X, y = pixels(n=90, shape=(12,))
    X = (X / 255).astype(dtype)
    source = ArraySource(X)
    model = make_model().fit(source, y)
    # Read a training batch at a time (plus the two samples kept for summary()).
    assert 0 < source.largest_read <= model.batch_size
    assert_same_fit(model, make_model().fit(X, y))
    np.testing.assert_array_equal(model.predict(source), model.predict(X))


def test_a_sample_source_of_images_is_refused_by_rows_and_sequences_estimators():
    from sknets import RNNClassifier

    X, y = pixels(n=20)
    with pytest.raises(ValueError, match=r"takes rows .* samples of shape \(3, 8, 8\)"):
        MLPClassifier(**FAST_MLP).fit(ArraySource(X), y)
    with pytest.raises(ValueError, match="reads its sequences from memory"):
        RNNClassifier(max_epochs=1).fit(ArraySource(X[:, 0]), y)


# ---------------------------------------------------- device logic, on the CPU
def test_uint8_images_that_fit_on_the_device_move_there_once_as_uint8():
    """The GPU path on torch's "meta" device (shapes and dtypes without values)."""
    X, y = pixels(n=40)
    meta = torch.device("meta")
    for stored in (X, np.lib.stride_tricks.as_strided(X, writeable=False)):  # in memory, read-only
        rows = Rows(stored if stored is not X else torch.from_numpy(X), sample_shape=(3, 8, 8))
        rows = rows.map(lambda batch: batch.to(torch.float32))
        data = ArrayData(rows, torch.from_numpy(y))
        batches = TensorBatches(data, 16, shuffle=True, device=meta)
        assert batches.on_device
        assert batches.inputs.storage.device == meta and batches.inputs.storage.dtype == torch.uint8
        for inputs, targets in batches:
            assert inputs.device == meta and inputs.dtype == torch.float32
            assert inputs.shape[1:] == (3, 8, 8) and targets.device == meta


def test_batches_that_do_not_fit_cross_as_stored_and_asynchronously(monkeypatch):
    """Data too large for the device: each batch is moved as uint8, then decoded there."""
    from sknets import _data

    monkeypatch.setattr(_data, "fits_on_device", lambda n_bytes, device: False)
    monkeypatch.setattr(torch.Tensor, "pin_memory", lambda tensor: tensor.clone())
    X, y = pixels(n=32)
    model = CNNClassifier(**TINY_CNN)
    model._validate_inputs(X, y, reset=True)
    data = ArrayData(model._to_module_inputs(X.reshape(32, -1), training=True), torch.tensor(y))
    calls = []
    original_to = torch.Tensor.to

    def recording_to(tensor, *args, **kwargs):
        target = args[0] if args else kwargs.get("dtype", kwargs.get("device"))
        calls.append((tensor.dtype, str(target), kwargs.get("non_blocking", False)))
        return original_to(tensor, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "to", recording_to)
    batches = list(TensorBatches(data, 16, shuffle=False, device=CPU))
    assert len(batches) == 2 and all(inputs.dtype == torch.float32 for inputs, _ in batches)
    moves = [call for call in calls if call[1] == "cpu"]
    casts = [call for call in calls if call[1] == "torch.float32"]
    # Per batch: the inputs cross as uint8, asynchronously, and only then become float32.
    assert [call for call in moves if call[0] == torch.uint8] == [(torch.uint8, "cpu", True)] * 2
    assert calls.index(moves[0]) < calls.index(casts[0])


def test_a_memory_map_is_copied_to_the_device_a_chunk_at_a_time(monkeypatch, stored):
    from sknets import _rows

    X, _ = pixels(n=50)
    mapped = stored("X", X)
    monkeypatch.setattr(_rows, "DEVICE_COPY_CHUNK_BYTES", 10 * X[0].nbytes)
    copies = []
    original_copy = torch.Tensor.copy_

    def recording_copy(tensor, source, *args, **kwargs):
        copies.append(len(source))
        return original_copy(tensor, source, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "copy_", recording_copy)
    on_device = _rows.storage_on_device(mapped, CPU)
    assert copies == [10] * 5
    assert np.array_equal(on_device.numpy(), X)
