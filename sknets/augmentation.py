"""Random data augmentation of whole batches of images or signals, with tensor operations."""

import math
from numbers import Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator

#: Parameters that only make sense for 2D images, with their default (inactive) value.
_IMAGE_ONLY = {"vertical_flip": False, "max_rotation": 0.0, "max_zoom": 0.0}


class ImageAugmentation(BaseEstimator):
    """Random flips, shifts, rotations and zooms applied to a batch at once.

    A parameter object in the scikit-learn sense: it only stores its arguments, so it can be
    cloned, printed and tuned inside an estimator (``augmentation__max_shift``). Calling it
    on a batch draws new random transformations, one per sample, from the given generator.

    Images ``(batch, channels, height, width)`` support every transformation; shift, rotation
    and zoom are combined into one affine map per sample and resampled bilinearly. Pixels
    brought in from outside the image are zeros (not a copy of the border, which would smear
    edge pixels across the image). Signals ``(batch, channels, length)`` support
    ``horizontal_flip`` (reversal in time) and ``max_shift`` (a shift by a whole number of
    steps, filled with zeros).

    Parameters
    ----------
    horizontal_flip : bool, default=False
        Mirror each sample left-right (reverse a signal) with probability 1/2.
    vertical_flip : bool, default=False
        Mirror each image upside down with probability 1/2 (images only).
    max_shift : float, default=0.0
        Largest shift as a fraction of the size, in [0, 1]: each sample moves by a uniform
        amount in ``[-max_shift, max_shift] * size`` along each spatial axis.
    max_rotation : float, default=0.0
        Largest rotation about the image centre in degrees, in [0, 180] (images only).
    max_zoom : float, default=0.0
        Largest zoom as a fraction, in [0, 1): each image is scaled about its centre by a
        uniform factor in ``[1 - max_zoom, 1 + max_zoom]`` (images only).

    Examples
    --------
    >>> import torch
    >>> from sknets.augmentation import ImageAugmentation
    >>> augment = ImageAugmentation(horizontal_flip=True, max_shift=0.1, max_rotation=10)
    >>> images = torch.rand(8, 3, 32, 32)
    >>> augment(images, torch.Generator().manual_seed(0)).shape
    torch.Size([8, 3, 32, 32])
    """

    def __init__(
        self,
        horizontal_flip: bool = False,
        vertical_flip: bool = False,
        max_shift: float = 0.0,
        max_rotation: float = 0.0,
        max_zoom: float = 0.0,
    ) -> None:
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.max_shift = max_shift
        self.max_rotation = max_rotation
        self.max_zoom = max_zoom

    def _validate(self) -> None:
        """Raise ValueError naming the first parameter whose value is not allowed."""
        for name in ("horizontal_flip", "vertical_flip"):
            value = getattr(self, name)
            if not isinstance(value, bool | np.bool_):
                raise ValueError(f"{name}={value!r} is not valid; use True or False")
        ranges = {
            "max_shift": (1.0, "[0, 1]"),
            "max_rotation": (180.0, "[0, 180] (degrees)"),
            "max_zoom": (1.0, "[0, 1)"),
        }
        for name, (upper, allowed) in ranges.items():
            value = getattr(self, name)
            is_number = isinstance(value, Real) and not isinstance(value, bool | np.bool_)
            in_range = is_number and 0 <= value <= upper and not (name == "max_zoom" and value == 1)
            if not in_range:
                raise ValueError(f"{name}={value!r} is not valid; use a number in {allowed}")

    def _is_identity(self) -> bool:
        return not (
            self.horizontal_flip
            or self.vertical_flip
            or self.max_shift
            or self.max_rotation
            or self.max_zoom
        )

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Return a randomly transformed copy of the batch ``x``.

        Parameters
        ----------
        x : torch.Tensor
            Images ``(batch, channels, height, width)`` or signals ``(batch, channels, length)``.
        generator : torch.Generator
            Source of all randomness: the same generator state gives the same output. The
            random parameters are drawn on the generator's device, then moved to ``x.device``.

        Returns
        -------
        torch.Tensor
            Same shape, dtype and device as ``x``; ``x`` itself when every parameter is at its
            default (no augmentation), whatever its shape.
        """
        self._validate()
        if self._is_identity():
            return x
        if x.ndim == 3:
            for name, default in _IMAGE_ONLY.items():
                if getattr(self, name) != default:
                    raise ValueError(
                        f"{name}={getattr(self, name)!r} needs images (batch, channels, "
                        f"height, width); for signals of shape {tuple(x.shape)} use only "
                        "horizontal_flip and max_shift"
                    )
        elif x.ndim != 4:
            raise ValueError(
                f"x of shape {tuple(x.shape)} cannot be augmented; use (batch, channels, length) "
                "or (batch, channels, height, width)"
            )

        if self.horizontal_flip:
            x = _random_flip(x, -1, generator)
        if self.vertical_flip:
            x = _random_flip(x, -2, generator)
        if x.ndim == 3:
            return _random_shift_1d(x, self.max_shift, generator) if self.max_shift else x
        if self.max_shift or self.max_rotation or self.max_zoom:
            x = self._random_affine(x, generator)
        return x

    def _random_affine(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Zoom and rotate each image about its centre, then shift it: one resampling."""
        if not x.is_floating_point():
            raise ValueError(
                f"x has dtype {x.dtype}; shift, rotation and zoom of images need a floating "
                "point tensor (convert with x.float())"
            )
        batch, _, height, width = x.shape
        angle = math.radians(self.max_rotation) * _uniform(batch, generator, x)
        scale = 1 + self.max_zoom * _uniform(batch, generator, x)
        # affine_grid works in coordinates normalised to [-1, 1], where a fraction f of the
        # size is 2 f.
        shift = 2 * self.max_shift * _uniform((batch, 2), generator, x)
        # Forward map of the content (pixel units): p_out = scale * R(angle) p_in + shift.
        # grid_sample needs the inverse, p_in = R(-angle) (p_out - shift) / scale, and its
        # rotation is expressed in normalised coordinates, hence the aspect ratio factors.
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        aspect = height / width
        linear = torch.stack(
            [torch.stack([cos, sin * aspect], -1), torch.stack([-sin / aspect, cos], -1)], -2
        )
        offset = -(linear @ shift.unsqueeze(-1))
        theta = torch.cat([linear, offset], -1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _uniform(
    shape: int | tuple[int, ...], generator: torch.Generator, x: torch.Tensor
) -> torch.Tensor:
    """Uniform numbers in [-1, 1], drawn with ``generator`` and moved to ``x``'s device/dtype."""
    shape = (shape,) if isinstance(shape, int) else shape
    values = torch.rand(shape, generator=generator, device=generator.device, dtype=torch.float64)
    return (2 * values - 1).to(device=x.device, dtype=x.dtype)


def _random_flip(x: torch.Tensor, dim: int, generator: torch.Generator) -> torch.Tensor:
    """Reverse ``x`` along ``dim`` for a random half of the samples."""
    flip = torch.rand(len(x), generator=generator, device=generator.device) < 0.5
    flip = flip.to(x.device).view(-1, *([1] * (x.ndim - 1)))
    return torch.where(flip, x.flip(dim), x)


def _random_shift_1d(x: torch.Tensor, max_shift: float, generator: torch.Generator) -> torch.Tensor:
    """Shift each signal by whole steps (at most ``max_shift * length``), filling with zeros."""
    length = x.shape[-1]
    largest = math.floor(max_shift * length)
    steps = torch.randint(
        -largest, largest + 1, (len(x), 1), generator=generator, device=generator.device
    ).to(x.device)
    # Output position t reads input position t - step; positions outside the signal read zero.
    source = torch.arange(length, device=x.device) - steps
    inside = (source >= 0) & (source < length)
    source = source.clamp(0, length - 1).unsqueeze(1).expand_as(x)
    shifted = torch.gather(x, -1, source)
    return torch.where(inside.unsqueeze(1), shifted, x.new_zeros(()))
