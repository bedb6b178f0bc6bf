import gzip
import re

import numpy as np
import pytest

from sknets.datasets import load_idx, save_idx


@pytest.fixture
def mnist_like(tmp_path):
    """Paths to a 5-image, 28x28 uint8 MNIST-style pair of files, and their content."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = np.array([5, 0, 4, 1, 9], dtype=np.uint8)
    images_path = tmp_path / "train-images-idx3-ubyte.gz"
    labels_path = tmp_path / "train-labels-idx1-ubyte.gz"
    save_idx(images_path, images)
    save_idx(labels_path, labels)
    return images_path, labels_path, images, labels


def test_header_and_data_follow_the_idx_format(tmp_path):
    # Written by hand from the format description: 0, 0, type code, ndim, big-endian dims.
    path = tmp_path / "values.idx"
    save_idx(path, np.array([[1, 2, 3], [256, -2, 7]], dtype=np.int16))
    expected = (
        bytes([0, 0, 0x0B, 2])
        + (2).to_bytes(4, "big")
        + (3).to_bytes(4, "big")
        + b"".join(value.to_bytes(2, "big", signed=True) for value in [1, 2, 3, 256, -2, 7])
    )
    assert path.read_bytes() == expected


def test_reads_a_hand_written_mnist_header(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    data = bytes(range(2 * 3 * 4))
    path.write_bytes(
        b"\x00\x00\x08\x03" + b"\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04" + data
    )
    X = load_idx(path)
    assert X.shape == (2, 3, 4)
    assert X.dtype == np.uint8
    assert X.ravel().tolist() == list(data)


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
def test_round_trip(tmp_path, suffix, dtype):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal((4, 3, 2)) * 100).astype(dtype)
    path = tmp_path / f"array.idx{suffix}"
    save_idx(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    loaded = load_idx(path)
    assert loaded.dtype == np.dtype(dtype)
    assert loaded.dtype.isnative
    np.testing.assert_array_equal(loaded, array)
    loaded[0] = 0  # the result is an ordinary writable array


def test_images_and_labels(mnist_like):
    images_path, labels_path, images, labels = mnist_like
    X, y = load_idx(images_path, labels_path)
    assert X.shape == (5, 28, 28) and X.dtype == np.uint8
    assert y.shape == (5,)
    np.testing.assert_array_equal(X, images)
    np.testing.assert_array_equal(y, labels)
    assert isinstance(load_idx(images_path), np.ndarray)  # without labels: X alone


def test_compression_is_detected_from_content_not_name(mnist_like, tmp_path):
    images_path, _, images, _ = mnist_like
    renamed = tmp_path / "no-suffix"
    renamed.write_bytes(images_path.read_bytes())
    np.testing.assert_array_equal(load_idx(renamed), images)
    plain_named_gz = tmp_path / "plain.gz"
    plain_named_gz.write_bytes(gzip.decompress(images_path.read_bytes()))
    np.testing.assert_array_equal(load_idx(plain_named_gz), images)


def test_gzip_output_is_reproducible(tmp_path):
    array = np.arange(10, dtype=np.uint8)
    save_idx(tmp_path / "a.gz", array)
    save_idx(tmp_path / "b.gz", array)
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()


def test_bad_magic(tmp_path):
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
    with pytest.raises(ValueError, match=r"image\.png: bad magic number 89504e47; an IDX file"):
        load_idx(path)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty: bad magic number \(empty file\)"):
        load_idx(empty)


def test_unknown_type_code_and_zero_dimensions(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x00\x00\x0a\x01" + bytes(8))
    with pytest.raises(
        ValueError, match=r"bad: unknown IDX type code 0x0A; allowed: 0x08 uint8, 0x09 int8, "
    ):
        load_idx(path)
    path.write_bytes(b"\x00\x00\x08\x00")
    with pytest.raises(ValueError, match="bad: the header declares 0 dimensions"):
        load_idx(path)


def test_truncated_header(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(b"\x00\x00\x08\x03" + bytes(6))
    with pytest.raises(
        ValueError,
        match="short: truncated header; 3 dimensions need 16 header bytes, the file holds 10",
    ):
        load_idx(path)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_truncated_data(tmp_path, suffix):
    full = tmp_path / f"full{suffix}"
    save_idx(full, np.zeros((10, 28, 28), dtype=np.uint8))
    content = full.read_bytes()
    if suffix:
        content = gzip.decompress(content)
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(gzip.compress(content[:-100]) if suffix else content[:-100])
    message = (
        r"cut(\.gz)?: data truncated; the header says shape \(10, 28, 28\) of uint8, "
        r"i\.e\. 7840 data bytes, but the file holds 7740"
    )
    with pytest.raises(ValueError, match=message):
        load_idx(cut)


def test_trailing_data(tmp_path):
    path = tmp_path / "long"
    save_idx(path, np.zeros(3, dtype=np.int32))
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "long: data longer than its header says; the header says shape (3,) of "
            "int32, i.e. 12 data bytes, but the file holds 13"
        ),
    ):
        load_idx(path)


def test_corrupt_gzip(mnist_like, tmp_path):
    images_path = mnist_like[0]
    cut = tmp_path / "cut.gz"
    cut.write_bytes(images_path.read_bytes()[:-30])
    with pytest.raises(ValueError, match=r"cut\.gz: the gzip stream is truncated or corrupt"):
        load_idx(cut)


def test_count_mismatch(mnist_like, tmp_path):
    images_path, _, _, _ = mnist_like
    labels_path = tmp_path / "labels"
    save_idx(labels_path, np.zeros(4, dtype=np.uint8))
    with pytest.raises(
        ValueError,
        match=r"train-images-idx3-ubyte\.gz holds 5 samples but .*labels holds 4 labels",
    ):
        load_idx(images_path, labels_path)


def test_labels_must_be_1d(mnist_like, tmp_path):
    images_path, _, _, _ = mnist_like
    labels_path = tmp_path / "labels2d"
    save_idx(labels_path, np.zeros((5, 1), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"labels2d: labels must be 1-D, .* shape \(5, 1\)"):
        load_idx(images_path, labels_path)


@pytest.mark.parametrize("dtype", ["int64", "bool", "float16", "uint16"])
def test_save_rejects_dtypes_without_type_code(tmp_path, dtype):
    with pytest.raises(
        ValueError, match=rf"array dtype {dtype} has no IDX type code; allowed: 0x08 uint8"
    ):
        save_idx(tmp_path / "x", np.zeros(3, dtype=dtype))


def test_save_rejects_scalars(tmp_path):
    with pytest.raises(ValueError, match="array has 0 dimensions; IDX files hold 1 to 255"):
        save_idx(tmp_path / "x", np.uint8(3))


def test_save_accepts_big_endian_input(tmp_path):
    array = np.arange(4, dtype=">f8")
    save_idx(tmp_path / "x", array)
    np.testing.assert_array_equal(load_idx(tmp_path / "x"), array)
