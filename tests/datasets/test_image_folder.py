import pickle
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.utils import _safe_indexing

from sknets.datasets import ImageFiles, image_files, image_folder, load_image_folder


@pytest.fixture(scope="module")
def digit_images():
    """sklearn's 8x8 digits as uint8 grayscale images, with their labels."""
    digits = load_digits()
    images = np.round(digits.images * 255 / 16).astype(np.uint8)
    return images, digits.target


@pytest.fixture
def digits_folder(tmp_path, digit_images):
    """Classes 0, 1 and 2 as grayscale PNGs (8x8), RGB PNGs (16x12) and RGB JPEGs (10x10)."""
    images, labels = digit_images
    for label, save in [(0, "gray_png"), (1, "rgb_png"), (2, "rgb_jpeg")]:
        folder = tmp_path / str(label)
        folder.mkdir()
        for index in np.flatnonzero(labels == label)[:4]:
            image = Image.fromarray(images[index], mode="L")
            if save == "gray_png":
                image.save(folder / f"{index:04d}.png")
            elif save == "rgb_png":
                image.convert("RGB").resize((16, 12)).save(folder / f"{index:04d}.png")
            else:
                image.convert("RGB").resize((10, 10)).save(folder / f"{index:04d}.jpg")
    return tmp_path


def save_solid(path: Path, mode: str, color, size=(6, 4)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path)


def load_quietly(*args, **kwargs):
    """Call load_image_folder and fail if it warns."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return load_image_folder(*args, **kwargs)


@pytest.mark.parametrize(("color_mode", "n_channels"), [("rgb", 3), ("grayscale", 1)])
def test_shapes_dtype_and_class_names(digits_folder, color_mode, n_channels):
    X, y = load_quietly(digits_folder, image_size=(20, 24), color_mode=color_mode)
    assert X.shape == (12, n_channels, 20, 24)
    assert X.dtype == np.uint8
    assert y.tolist() == ["0"] * 4 + ["1"] * 4 + ["2"] * 4
    assert y.dtype.kind == "U"
    assert X.std() > 10  # real pixels were copied, not an empty buffer


def test_pixels_kept_exactly_at_native_size(digits_folder, digit_images):
    images, labels = digit_images
    first_zeros = images[np.flatnonzero(labels == 0)[:4]]
    X, _ = load_quietly(digits_folder, image_size=(8, 8), color_mode="grayscale", classes=["0"])
    np.testing.assert_array_equal(X[:, 0], first_zeros)
    X_rgb, _ = load_quietly(digits_folder, image_size=(8, 8), classes=["0"])
    for channel in range(3):
        np.testing.assert_array_equal(X_rgb[:, channel], first_zeros)


def test_resize_matches_pillow_bilinear(tmp_path):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(30, 50, 3), dtype=np.uint8)
    (tmp_path / "a").mkdir()
    Image.fromarray(pixels).save(tmp_path / "a" / "x.png")
    X, _ = load_quietly(tmp_path, image_size=(12, 20))
    expected = np.asarray(Image.fromarray(pixels).resize((20, 12), Image.Resampling.BILINEAR))
    np.testing.assert_array_equal(X[0], expected.transpose(2, 0, 1))


def test_image_size_is_height_then_width(tmp_path):
    # Left half black, right half white; 40 wide, 20 high.
    pixels = np.zeros((20, 40), dtype=np.uint8)
    pixels[:, 20:] = 255
    (tmp_path / "a").mkdir()
    Image.fromarray(pixels, mode="L").save(tmp_path / "a" / "x.png")
    X, _ = load_quietly(tmp_path, image_size=(4, 8), color_mode="grayscale")
    assert X.shape == (1, 1, 4, 8)
    assert (X[0, 0, :, :3] < 30).all()
    assert (X[0, 0, :, 5:] > 225).all()


def test_modes_are_converted(tmp_path):
    save_solid(tmp_path / "c" / "1_rgba.png", "RGBA", (255, 0, 0, 128))
    save_solid(tmp_path / "c" / "2_gray.png", "L", 100)
    palette = Image.new("P", (6, 4), 0)
    palette.putpalette([255, 0, 0] + [0, 0, 0] * 255)
    palette.info["transparency"] = 1  # palette transparency needs the RGBA route
    palette.save(tmp_path / "c" / "3_palette.png")
    save_solid(tmp_path / "c" / "4_cmyk.jpg", "CMYK", (0, 0, 0, 0))
    X, _ = load_quietly(tmp_path, image_size=(4, 6))
    assert X[:3, :, 0, 0].tolist() == [[255, 0, 0], [100, 100, 100], [255, 0, 0]]
    assert (X[3] > 245).all()  # CMYK (0, 0, 0, 0) is white
    gray, _ = load_quietly(tmp_path, image_size=(4, 6), color_mode="grayscale")
    # ITU-R 601-2 luma, as Pillow computes it: 255 * 0.299 = 76.
    assert gray[:3, 0, 0, 0].tolist() == [76, 100, 76]


def test_jpeg_colors_survive(tmp_path):
    save_solid(tmp_path / "c" / "x.jpg", "RGB", (0, 0, 255), size=(16, 16))
    X, _ = load_quietly(tmp_path, image_size=(8, 8))
    assert np.abs(X[0].astype(int) - np.array([0, 0, 255])[:, None, None]).max() <= 3


def test_order_paths_and_classes_argument(digits_folder):
    X, y, paths = load_quietly(digits_folder, image_size=(8, 8), return_paths=True)
    assert len(paths) == len(X) == len(y)
    assert [Path(p).parent.name for p in paths] == y.tolist()
    for label in "012":
        names = [Path(p).name for p, c in zip(paths, y) if c == label]
        assert names == sorted(names)
    X_sub, y_sub = load_quietly(digits_folder, image_size=(8, 8), classes=["2", "0"])
    assert y_sub.tolist() == ["2"] * 4 + ["0"] * 4
    np.testing.assert_array_equal(X_sub[4:], X[:4])
    np.testing.assert_array_equal(X_sub[:4], X[8:])


def test_nested_folders_are_read_and_root_files_ignored(tmp_path):
    save_solid(tmp_path / "a" / "deep" / "er" / "x.png", "L", 10)
    save_solid(tmp_path / "a" / "y.png", "L", 20)
    save_solid(tmp_path / "stray_at_root.png", "L", 30)
    X, y, paths = load_quietly(tmp_path, image_size=(2, 2), return_paths=True)
    assert y.tolist() == ["a", "a"]
    assert [Path(p).name for p in paths] == ["x.png", "y.png"]


def test_unreadable_files_skipped_with_one_warning(digits_folder):
    rng = np.random.default_rng(0)
    (digits_folder / "0" / "corrupt.png").write_bytes(rng.bytes(300))
    (digits_folder / "1" / "notes.txt").write_text("not an image")
    # Hidden files and folders are skipped silently, even unreadable ones.
    (digits_folder / "1" / ".DS_Store").write_bytes(rng.bytes(50))
    (digits_folder / "2" / ".cache").mkdir()
    (digits_folder / "2" / ".cache" / "junk.png").write_bytes(rng.bytes(50))
    (digits_folder / ".hidden_class").mkdir()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X, y = load_image_folder(digits_folder, image_size=(8, 8))
    assert len(caught) == 1
    assert caught[0].category is UserWarning
    corrupt, notes = Path("0", "corrupt.png"), Path("1", "notes.txt")
    assert str(caught[0].message) == (
        f"skipped 2 of 14 files that could not be read as images: {corrupt}, {notes}"
    )
    assert caught[0].filename == __file__  # points at the caller, not the library
    assert X.shape == (12, 3, 8, 8)
    assert sorted(set(y.tolist())) == ["0", "1", "2"]


def test_warning_names_first_five_then_counts(tmp_path):
    save_solid(tmp_path / "a" / "good.png", "L", 0)
    for index in range(7):
        (tmp_path / "a" / f"bad{index}.txt").write_text("x")
    with pytest.warns(UserWarning, match=r"skipped 7 of 8 files .*: .*bad4\.txt and 2 more$"):
        X, _ = load_image_folder(tmp_path, image_size=(2, 2))
    assert len(X) == 1


def test_extensions_filter_files_silently(digits_folder):
    (digits_folder / "1" / "notes.txt").write_text("not an image")
    save_solid(digits_folder / "1" / "UPPER.PNG", "L", 0)
    X, y, paths = load_quietly(
        digits_folder, image_size=(8, 8), extensions=["png"], return_paths=True
    )
    assert y.tolist() == ["0"] * 4 + ["1"] * 5  # the JPEGs of class 2 are left out
    assert all(p.lower().endswith(".png") for p in paths)
    _, y_jpg = load_quietly(digits_folder, image_size=(8, 8), extensions=".JPG")
    assert y_jpg.tolist() == ["2"] * 4


def test_progress_bar_follows_verbose(digits_folder, capsys):
    load_quietly(digits_folder, image_size=(8, 8), verbose=1)
    assert "Loading images" in capsys.readouterr().err
    load_quietly(digits_folder, image_size=(8, 8), verbose=0)
    load_quietly(digits_folder, image_size=(8, 8))  # "auto": few files, not a terminal
    assert capsys.readouterr().err == ""


def test_missing_pillow_raises_clear_import_error(digits_folder, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=re.escape("pip install 'sknets[images]'")):
        load_image_folder(digits_folder)


def test_path_errors(tmp_path):
    with pytest.raises(ValueError, match=r"path='.*nowhere' does not exist"):
        load_image_folder(tmp_path / "nowhere")
    (tmp_path / "file.png").write_bytes(b"")
    with pytest.raises(ValueError, match=r"path='.*file\.png' is not a directory"):
        load_image_folder(tmp_path / "file.png")
    (tmp_path / ".hidden").mkdir()
    with pytest.raises(ValueError, match=r"has no class subfolders; expected the layout"):
        load_image_folder(tmp_path)


def test_no_readable_images(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "notes.txt").write_text("x")
    with pytest.raises(
        ValueError, match=r"no readable images found in .*: 1 files tried in classes \['a', 'b'\]"
    ):
        load_image_folder(tmp_path)


def test_classes_errors(digits_folder):
    with pytest.raises(ValueError, match=r"not found in .*: \['7'\]; available: \['0', '1', '2'\]"):
        load_image_folder(digits_folder, classes=["0", "7"])
    with pytest.raises(ValueError, match=r"classes=\['0', '0'\] contains duplicates"):
        load_image_folder(digits_folder, classes=["0", "0"])
    with pytest.raises(ValueError, match="classes must be None or a non-empty list"):
        load_image_folder(digits_folder, classes="0")


@pytest.mark.parametrize(
    "image_size", [(0, 8), (8,), (8, 8, 8), "64", 64, (2.5, 3), (True, 3), (-1, 4), None]
)
def test_bad_image_size(digits_folder, image_size):
    message = re.escape(
        f"image_size must be a pair of positive integers (height, width), got {image_size!r}"
    )
    with pytest.raises(ValueError, match=message):
        load_image_folder(digits_folder, image_size=image_size)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"color_mode": "RGB"}, r"color_mode must be one of \['grayscale', 'rgb'\], got 'RGB'"),
        ({"color_mode": "rgba"}, r"color_mode must be one of .*, got 'rgba'"),
        ({"extensions": []}, r"extensions must be None or a non-empty list .*, got \[\]"),
        ({"extensions": ["."]}, r"extensions must be .*, got \['\.'\]"),
        ({"verbose": "yes"}, r"verbose must be 'auto', 0, 1 \(or False/True\), got 'yes'"),
        ({"verbose": -1}, r"verbose must be .*, got -1"),
    ],
)
def test_bad_arguments(digits_folder, kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_image_folder(digits_folder, **kwargs)


# --- lazy=True: ImageFiles ---------------------------------------------------------------


def save_truncated_png(path: Path) -> None:
    """A PNG whose header is intact but whose pixel data stops halfway."""
    pixels = np.random.default_rng(0).integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.fixture
def broken_folder(digits_folder):
    """digits_folder plus a text file named .png (class 0) and a truncated PNG (class 1)."""
    (digits_folder / "0" / "notes.png").write_text("not an image")
    save_truncated_png(digits_folder / "1" / "truncated.png")
    return digits_folder


def count_decodes(monkeypatch) -> list:
    """Replace the decoding of one file, in both modules that call it, by a counting one."""
    calls = []
    decode = image_files._decode_image

    def counting_decode(*args, **kwargs):
        calls.append(args[0])
        return decode(*args, **kwargs)

    monkeypatch.setattr(image_files, "_decode_image", counting_decode)
    monkeypatch.setattr(image_folder, "_decode_image", counting_decode)
    return calls


def test_lazy_listing_skips_non_images_only(broken_folder):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X, y, paths = load_image_folder(
            broken_folder, image_size=(8, 8), lazy=True, return_paths=True
        )
    assert [str(w.message) for w in caught] == [
        f"skipped 1 of 14 files that could not be read as images: {Path('0', 'notes.png')}"
    ]
    assert caught[0].category is UserWarning
    assert caught[0].filename == __file__  # points at the caller, as the eager warning does
    assert isinstance(X, ImageFiles)
    # The truncated PNG has a valid header: only decoding finds it out.
    assert X.shape == (13, 3, 8, 8)
    assert X.dtype == np.uint8
    assert X.paths == paths
    assert Path(paths[8]).name == "truncated.png"
    assert y.tolist() == ["0"] * 4 + ["1"] * 5 + ["2"] * 4
    # The eager path decodes, so it skips both.
    with pytest.warns(UserWarning, match=r"skipped 2 of 14 files .*notes\.png, .*truncated\.png$"):
        X_eager, _ = load_image_folder(broken_folder, image_size=(8, 8))
    assert len(X_eager) == 12


@pytest.mark.parametrize("color_mode", ["rgb", "grayscale"])
@pytest.mark.parametrize("image_size", [(8, 8), (11, 6)])
def test_lazy_pixels_equal_eager(digits_folder, color_mode, image_size):
    (digits_folder / "0" / "notes.png").write_text("not an image")
    with pytest.warns(UserWarning, match="skipped 1 of 13 files"):
        X, y, paths = load_image_folder(digits_folder, image_size, color_mode, return_paths=True)
    with pytest.warns(UserWarning, match="skipped 1 of 13 files"):
        X_lazy, y_lazy, paths_lazy = load_image_folder(
            digits_folder, image_size, color_mode, return_paths=True, lazy=True
        )
    assert X_lazy.shape == X.shape
    assert X.std() > 10  # real pixels (PNG and JPEG), not zeros
    lazy_pixels = np.asarray(X_lazy)
    assert lazy_pixels.dtype == np.uint8
    np.testing.assert_array_equal(lazy_pixels, X)
    np.testing.assert_array_equal(y_lazy, y)
    assert paths_lazy == paths
    np.testing.assert_array_equal(X_lazy.gather(np.array([11, 0, 11])), X[[11, 0, 11]])
    assert np.asarray(X_lazy, dtype=np.float32).dtype == np.float32


def test_truncated_file_gives_zeros_and_a_warning_at_gather(broken_folder):
    with pytest.warns(UserWarning, match="skipped 1 of 14"):
        X, _ = load_image_folder(broken_folder, image_size=(8, 8), lazy=True)
    with pytest.warns(UserWarning, match="skipped 2 of 14"):
        X_eager, _ = load_image_folder(broken_folder, image_size=(8, 8))
    truncated = [row for row, path in enumerate(X.paths) if path.endswith("truncated.png")]
    assert truncated == [8]
    expected = "1 files could not be decoded as images and were replaced by zeros: " + str(
        Path("1", "truncated.png")
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        images = X.gather(np.array([0, 8, 9]))
    assert [str(w.message) for w in caught] == [expected]
    assert caught[0].category is UserWarning
    assert images.shape == (3, 3, 8, 8)
    assert (images[1] == 0).all()
    np.testing.assert_array_equal(images[[0, 2]], X_eager[[0, 8]])
    # gather_with_warnings returns the message instead of warning: what a worker hands back.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        images_again, messages = X.gather_with_warnings(np.array([0, 8, 9]))
        np.testing.assert_array_equal(images_again, images)
        assert messages == [expected]
        assert X.gather_with_warnings(np.array([0, 9]))[1] == []
        X.gather(np.array([0, 9]))  # readable files: no warning


def test_lazy_load_and_indexing_decode_nothing(digits_folder, monkeypatch):
    calls = count_decodes(monkeypatch)
    X, y = load_quietly(digits_folder, image_size=(8, 8), lazy=True)
    X_half = X[np.arange(6)][::2]
    assert calls == []
    X_half.gather(np.array([0, 2]))
    assert calls == [X.paths[0], X.paths[4]]
    # The counter does count: the eager path decodes every file through it.
    calls.clear()
    load_quietly(digits_folder, image_size=(8, 8))
    assert len(calls) == 12


@pytest.mark.parametrize(
    "key",
    [
        np.array([3, 0, 11, 3]),
        [5, 1],
        np.array([-1, -12]),
        np.arange(12) % 3 == 0,
        slice(2, 9, 3),
        slice(None, None, -1),
        7,
        (np.array([4, 2]), Ellipsis),  # how scikit-learn's _safe_indexing writes it
    ],
    ids=["ints", "list", "negative", "mask", "slice", "reversed", "scalar", "ellipsis"],
)
def test_indexing_gives_the_files_of_those_rows(digits_folder, key):
    X_eager, _, paths = load_quietly(digits_folder, image_size=(8, 8), return_paths=True)
    X = load_quietly(digits_folder, image_size=(8, 8), lazy=True, num_workers=1)[0]
    subset = X[key]
    plain_key = key[0] if isinstance(key, tuple) else key
    expected_rows = np.arange(12)[plain_key].reshape(-1)
    assert isinstance(subset, ImageFiles)
    assert subset.paths == [paths[row] for row in expected_rows]
    assert subset.shape == (len(expected_rows), 3, 8, 8)
    assert (subset.image_size, subset.color_mode) == (X.image_size, X.color_mode)
    assert (subset.num_workers, subset.root) == (1, str(digits_folder))
    np.testing.assert_array_equal(np.asarray(subset), X_eager[expected_rows])


def test_bad_index_raises(digits_folder):
    X = load_quietly(digits_folder, image_size=(8, 8), lazy=True)[0]
    with pytest.raises(IndexError, match=r"a boolean mask of shape \(3,\) does not match 12"):
        X[np.array([True, False, True])]
    with pytest.raises(IndexError):
        X[np.array([12])]


def test_train_test_split_and_folds_match_eager(digits_folder):
    X, y = load_quietly(digits_folder, image_size=(8, 8))
    X_lazy, y_lazy = load_quietly(digits_folder, image_size=(8, 8), lazy=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    splits = train_test_split(X_lazy, y_lazy, stratify=y_lazy, random_state=0)
    assert all(isinstance(part, ImageFiles) for part in splits[:2])
    assert [len(part) for part in splits] == [9, 3, 9, 3]
    np.testing.assert_array_equal(np.asarray(splits[0]), X_train)
    np.testing.assert_array_equal(np.asarray(splits[1]), X_test)
    np.testing.assert_array_equal(splits[2], y_train)
    np.testing.assert_array_equal(splits[3], y_test)
    for train, test in StratifiedKFold(n_splits=2).split(X_lazy, y_lazy):
        np.testing.assert_array_equal(np.asarray(X_lazy[train]), X[train])
        np.testing.assert_array_equal(np.asarray(_safe_indexing(X_lazy, test)), X[test])


def test_pickle_round_trip(digits_folder):
    X = load_quietly(digits_folder, image_size=(8, 8), lazy=True, num_workers=2)[0][1:5]
    restored = pickle.loads(pickle.dumps(X))
    assert isinstance(restored, ImageFiles)
    assert restored.paths == X.paths
    assert all(type(path) is str for path in restored.paths)
    assert (restored.image_size, restored.color_mode) == ((8, 8), "rgb")
    assert (restored.num_workers, restored.root) == (2, str(digits_folder))
    np.testing.assert_array_equal(np.asarray(restored), np.asarray(X))


def test_repr_and_direct_construction(digits_folder):
    X = load_quietly(digits_folder, image_size=(8, 8), color_mode="grayscale", lazy=True)[0]
    assert repr(X) == f"ImageFiles(12 files, shape=(12, 1, 8, 8), root={str(digits_folder)!r})"
    files = ImageFiles([Path(X.paths[5]), X.paths[0]], image_size=[4, 3])
    assert repr(files) == "ImageFiles(2 files, shape=(2, 3, 4, 3))"
    assert files.paths == [X.paths[5], X.paths[0]]
    assert (files.image_size, files.color_mode, files.num_workers) == ((4, 3), "rgb", 0)
    assert files.gather(np.array([], dtype=np.int64)).shape == (0, 3, 4, 3)
    # Without a root, warnings name files by their full path.
    save_truncated_png(digits_folder / "truncated.png")
    with pytest.warns(UserWarning, match=re.escape(f"zeros: {digits_folder / 'truncated.png'}")):
        ImageFiles([digits_folder / "truncated.png"]).gather(np.array([0]))


@pytest.mark.parametrize("num_workers", [-1, 1.5, True, "2", None])
def test_bad_num_workers(digits_folder, num_workers):
    message = re.escape(f"num_workers must be a non-negative integer, got {num_workers!r}")
    with pytest.raises(ValueError, match=message):
        load_image_folder(digits_folder, lazy=True, num_workers=num_workers)
    with pytest.raises(ValueError, match=message):
        ImageFiles([], num_workers=num_workers)


def test_num_workers_needs_lazy(digits_folder):
    with pytest.raises(ValueError, match=r"num_workers=2 needs lazy=True: without it every"):
        load_image_folder(digits_folder, num_workers=2)
    X = load_quietly(digits_folder, image_size=(8, 8), lazy=True, num_workers=np.int64(2))[0]
    assert X.num_workers == 2
    assert type(X.num_workers) is int


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"image_size": (0, 8)}, r"image_size must be a pair of positive integers .*\(0, 8\)"),
        ({"color_mode": "RGB"}, r"color_mode must be one of \['grayscale', 'rgb'\], got 'RGB'"),
    ],
)
def test_lazy_argument_errors_match_eager(digits_folder, kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_image_folder(digits_folder, lazy=True, **kwargs)
    with pytest.raises(ValueError, match=message):
        ImageFiles([], **kwargs)
    with pytest.raises(ValueError, match=r"paths must be a list of files, got the single path"):
        ImageFiles(str(digits_folder))


def test_lazy_no_readable_images(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "notes.png").write_text("x")
    with pytest.raises(
        ValueError, match=r"no readable images found in .*: 1 files tried in classes \['a'\]"
    ):
        load_image_folder(tmp_path, lazy=True)


def test_lazy_progress_bar_follows_verbose(digits_folder, capsys):
    load_quietly(digits_folder, image_size=(8, 8), lazy=True, verbose=1)
    assert "Listing images" in capsys.readouterr().err
    load_quietly(digits_folder, image_size=(8, 8), lazy=True)
    assert capsys.readouterr().err == ""
