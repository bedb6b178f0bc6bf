import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from sknets.datasets import load_image_folder


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
