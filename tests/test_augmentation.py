"""Tests for batched image and signal augmentation."""

import math

import numpy as np
import pytest
import torch
from sklearn.base import clone

from sknets.augmentation import ImageAugmentation

EVERYTHING = {
    "horizontal_flip": True,
    "vertical_flip": True,
    "max_shift": 0.2,
    "max_rotation": 30.0,
    "max_zoom": 0.2,
}


def _generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _blobs(n_samples: int, height: int, width: int, row: float, col: float) -> torch.Tensor:
    """A batch of one-channel images holding the same small Gaussian blob centred at (row, col)."""
    rows = torch.arange(height, dtype=torch.float64).view(-1, 1)
    cols = torch.arange(width, dtype=torch.float64).view(1, -1)
    blob = torch.exp(-((rows - row) ** 2 + (cols - col) ** 2) / (2 * 1.2**2))
    return blob.expand(n_samples, 1, height, width).clone()


def _centroids(images: torch.Tensor) -> torch.Tensor:
    """(row, col) centre of mass of each one-channel image, shape (batch, 2)."""
    _, _, height, width = images.shape
    rows = torch.arange(height, dtype=images.dtype).view(-1, 1)
    cols = torch.arange(width, dtype=images.dtype).view(1, -1)
    mass = images.sum((1, 2, 3))
    row = (images[:, 0] * rows).sum((1, 2)) / mass
    col = (images[:, 0] * cols).sum((1, 2)) / mass
    return torch.stack([row, col], 1)


@pytest.mark.parametrize("shape", [(4, 3, 8, 8), (4, 2, 10), (4, 5)])
def test_defaults_return_the_input_itself(shape):
    x = torch.randn(shape)
    assert ImageAugmentation()(x, _generator()) is x


def test_same_seed_same_output_and_different_seed_different_output():
    x = torch.rand(16, 3, 12, 12)
    augment = ImageAugmentation(**EVERYTHING)
    first = augment(x, _generator(1))
    assert torch.equal(first, augment(x, _generator(1)))
    assert not torch.allclose(first, augment(x, _generator(2)))
    assert not torch.allclose(first, x)


def test_output_keeps_input_unchanged():
    x = torch.rand(8, 1, 10, 10)
    before = x.clone()
    ImageAugmentation(**EVERYTHING)(x, _generator())
    assert torch.equal(x, before)


@pytest.mark.parametrize(("parameter", "dim"), [("horizontal_flip", -1), ("vertical_flip", -2)])
def test_flip_gives_each_sample_either_original_or_mirror(parameter, dim):
    x = torch.rand(64, 2, 5, 7)
    out = ImageAugmentation(**{parameter: True})(x, _generator())
    kept = torch.tensor([torch.equal(o, s) for o, s in zip(out, x)])
    flipped = torch.tensor([torch.equal(o, s.flip(dim)) for o, s in zip(out, x)])
    assert (kept | flipped).all()
    assert kept.any() and flipped.any()


def test_both_flips_give_one_of_four_images():
    x = torch.rand(64, 1, 4, 6)
    out = ImageAugmentation(horizontal_flip=True, vertical_flip=True)(x, _generator())
    seen = set()
    for o, s in zip(out, x):
        versions = [s, s.flip(-1), s.flip(-2), s.flip(-1).flip(-2)]
        matches = [i for i, v in enumerate(versions) if torch.equal(o, v)]
        assert len(matches) == 1
        seen.add(matches[0])
    assert seen == {0, 1, 2, 3}


def test_shift_moves_content_by_at_most_max_shift_times_size():
    height, width, max_shift = 20, 30, 0.25
    x = torch.zeros(64, 1, height, width)
    x[:, :, 10, 15] = 1.0
    out = ImageAugmentation(max_shift=max_shift)(x, _generator())
    moved = _centroids(out) - torch.tensor([10.0, 15.0])
    assert (moved[:, 0].abs() <= max_shift * height + 1e-4).all()
    assert (moved[:, 1].abs() <= max_shift * width + 1e-4).all()
    # the shifts really use the allowed range, in both directions
    assert moved[:, 1].max() > 0.5 * max_shift * width
    assert moved[:, 1].min() < -0.5 * max_shift * width
    assert moved[:, 0].abs().max() > 0.5 * max_shift * height
    # the bright pixel stays inside the image, so interpolation keeps its mass
    torch.testing.assert_close(out.sum((1, 2, 3)), torch.ones(64))


def test_shift_applies_after_rotation_and_zoom():
    # The image centre is fixed by rotation and zoom, so a blob there moves by the shift only,
    # along the image axes (a tall image: a rotated vertical shift would break the x bound).
    height, width, max_shift = 40, 20, 0.2
    centre = torch.tensor([(height - 1) / 2, (width - 1) / 2], dtype=torch.float64)
    x = _blobs(64, height, width, *centre.tolist())
    augment = ImageAugmentation(max_shift=max_shift, max_rotation=90, max_zoom=0.3)
    moved = _centroids(augment(x, _generator())) - centre
    assert (moved[:, 0].abs() <= max_shift * height + 0.05).all()
    assert (moved[:, 1].abs() <= max_shift * width + 0.05).all()
    assert moved[:, 0].abs().max() > 0.5 * max_shift * height


def test_rotation_keeps_distance_to_centre_on_a_non_square_image():
    height, width, radius = 24, 40, 6.0
    centre_row, centre_col = (height - 1) / 2, (width - 1) / 2
    x = _blobs(64, height, width, centre_row, centre_col + radius)
    out = ImageAugmentation(max_rotation=90)(x, _generator())
    offset = _centroids(out) - torch.tensor([centre_row, centre_col], dtype=torch.float64)
    distance = offset.norm(dim=1)
    angle = torch.rad2deg(torch.atan2(offset[:, 0], offset[:, 1]))
    torch.testing.assert_close(distance, torch.full_like(distance, radius), atol=0.1, rtol=0)
    assert (angle.abs() <= 90 + 1).all()
    assert angle.max() > 45 and angle.min() < -45


def test_rotation_keeps_a_centred_blob_centred():
    x = _blobs(16, 15, 15, 7, 7)
    out = ImageAugmentation(max_rotation=180)(x, _generator())
    torch.testing.assert_close(_centroids(out), torch.full((16, 2), 7.0, dtype=torch.float64))
    torch.testing.assert_close(out.sum((1, 2, 3)), x.sum((1, 2, 3)), rtol=0.02, atol=0)


def test_zoom_scales_distance_to_centre():
    size, radius, max_zoom = 33, 8.0, 0.3
    x = _blobs(64, size, size, 16, 16 + radius)
    out = ImageAugmentation(max_zoom=max_zoom)(x, _generator())
    offset = _centroids(out) - 16
    ratio = offset[:, 1] / radius
    assert (offset[:, 0].abs() < 1e-6).all()
    assert ((ratio >= 1 - max_zoom - 0.01) & (ratio <= 1 + max_zoom + 0.01)).all()
    assert ratio.min() < 0.85 and ratio.max() > 1.15


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape", [(8, 3, 16, 12), (8, 2, 20)])
def test_dtype_device_and_shape_are_kept(dtype, shape):
    x = torch.rand(shape, dtype=dtype)
    parameters = EVERYTHING if len(shape) == 4 else {"horizontal_flip": True, "max_shift": 0.3}
    out = ImageAugmentation(**parameters)(x, _generator())
    assert out.shape == x.shape
    assert out.dtype == dtype
    assert out.device == x.device
    assert torch.isfinite(out).all()


def test_signal_flip_reverses_time_for_some_samples():
    x = torch.rand(64, 3, 11)
    out = ImageAugmentation(horizontal_flip=True)(x, _generator())
    kept = torch.tensor([torch.equal(o, s) for o, s in zip(out, x)])
    reversed_ = torch.tensor([torch.equal(o, s.flip(-1)) for o, s in zip(out, x)])
    assert (kept | reversed_).all()
    assert kept.any() and reversed_.any()


def _shift_with_zeros(signal: torch.Tensor, steps: int) -> torch.Tensor:
    shifted = torch.zeros_like(signal)
    if steps >= 0:
        shifted[..., steps:] = signal[..., : signal.shape[-1] - steps]
    else:
        shifted[..., :steps] = signal[..., -steps:]
    return shifted


def test_signal_shift_is_a_whole_step_shift_with_zero_fill():
    length, max_shift = 20, 0.25
    x = torch.arange(1.0, length + 1).repeat(64, 2, 1)
    out = ImageAugmentation(max_shift=max_shift)(x, _generator())
    largest = math.floor(max_shift * length)
    used = set()
    for o, s in zip(out, x):
        matches = [
            k for k in range(-largest, largest + 1) if torch.equal(o, _shift_with_zeros(s, k))
        ]
        assert len(matches) == 1
        used.add(matches[0])
    assert min(used) < 0 < max(used)


@pytest.mark.parametrize(
    ("parameters", "match"),
    [
        ({"horizontal_flip": 1}, r"horizontal_flip=1 is not valid; use True or False"),
        ({"vertical_flip": "yes"}, r"vertical_flip='yes' is not valid; use True or False"),
        ({"max_shift": -0.1}, r"max_shift=-0.1 is not valid; use a number in \[0, 1\]"),
        ({"max_shift": 1.5}, r"max_shift=1.5 is not valid"),
        ({"max_shift": "0.1"}, r"max_shift='0.1' is not valid"),
        ({"max_rotation": 200}, r"max_rotation=200 is not valid; use a number in \[0, 180\]"),
        ({"max_rotation": True}, r"max_rotation=True is not valid"),
        ({"max_zoom": 1.0}, r"max_zoom=1.0 is not valid; use a number in \[0, 1\)"),
        ({"max_zoom": -0.5}, r"max_zoom=-0.5 is not valid"),
    ],
)
def test_invalid_parameters_raise(parameters, match):
    with pytest.raises(ValueError, match=match):
        ImageAugmentation(**parameters)(torch.rand(2, 1, 4, 4), _generator())


@pytest.mark.parametrize(
    ("parameters", "name"),
    [({"vertical_flip": True}, "vertical_flip"), ({"max_rotation": 10}, "max_rotation"),
     ({"max_zoom": 0.1}, "max_zoom")],
)  # fmt: skip
def test_image_only_parameters_on_signals_raise(parameters, name):
    match = rf"{name}=.* needs images \(batch, channels, height, width\); for signals of shape"
    with pytest.raises(ValueError, match=match):
        ImageAugmentation(horizontal_flip=True, **parameters)(torch.rand(2, 1, 8), _generator())


@pytest.mark.parametrize("shape", [(4, 16), (2, 1, 4, 4, 4)])
def test_wrong_number_of_dimensions_raises(shape):
    with pytest.raises(
        ValueError, match=r"x of shape .* cannot be augmented; use \(batch, channels"
    ):
        ImageAugmentation(horizontal_flip=True)(torch.rand(shape), _generator())


def test_affine_transform_of_integer_images_raises():
    x = torch.randint(0, 255, (2, 1, 4, 4), dtype=torch.uint8)
    with pytest.raises(ValueError, match=r"x has dtype torch.uint8; .* need a floating point"):
        ImageAugmentation(max_shift=0.1)(x, _generator())
    # flips need no interpolation, so integer images are fine
    assert ImageAugmentation(horizontal_flip=True)(x, _generator()).dtype == torch.uint8


def test_sklearn_parameter_object():
    augment = ImageAugmentation(horizontal_flip=True, max_shift=0.1)
    assert augment.get_params() == {
        "horizontal_flip": True,
        "vertical_flip": False,
        "max_shift": 0.1,
        "max_rotation": 0.0,
        "max_zoom": 0.0,
    }
    copy = clone(augment)
    assert copy is not augment
    assert copy.get_params() == augment.get_params()
    assert copy.set_params(max_shift=0.3).max_shift == 0.3
    assert augment.max_shift == 0.1
    assert repr(augment) == "ImageAugmentation(horizontal_flip=True, max_shift=0.1)"


def test_numpy_scalars_are_accepted():
    augment = ImageAugmentation(horizontal_flip=np.bool_(True), max_shift=np.float64(0.1))
    assert augment(torch.rand(4, 1, 6, 6), _generator()).shape == (4, 1, 6, 6)
