"""Images as arrays hold them to the input of a torchvision classifier, as a plain module."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

import torch
from torch import nn

#: Largest value of an integer pixel: integer images are divided by it, as torchvision does.
PIXEL_MAX = 255
#: Channel counts an image may have: grayscale (repeated to RGB) and RGB.
IMAGE_CHANNELS = (1, 3)
#: ``mode`` values of :func:`torch.nn.functional.interpolate` torchvision's presets use.
INTERPOLATIONS = ("bilinear", "bicubic")
#: ImageNet's mean and standard deviation per RGB channel, for pixels in 0..1.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def is_int(value: object) -> bool:
    """Whether ``value`` is an integer (numpy's too), booleans excluded."""
    return isinstance(value, Integral) and not isinstance(value, bool)


def channel_axis(shape: Sequence[int], channels_last: bool | None = None) -> int | None:
    """Axis of the colour channels in a batch of images of ``shape``; None for ``(n, H, W)``.

    Parameters
    ----------
    shape : sequence of int
        Shape of the batch: ``(n, C, H, W)``, ``(n, H, W, C)`` or ``(n, H, W)``.
    channels_last : bool or None, default=None
        Where the channel axis is; None infers it: axis 1 when it has 1 or 3 entries, else
        the last axis.

    Returns
    -------
    int or None
        1 or 3; None for grayscale images without a channel axis.

    Raises
    ------
    ValueError
        If ``shape`` is not that of a batch of images with 1 or 3 channels there.
    """
    shape = tuple(shape)
    if len(shape) == 3:
        return None
    if len(shape) != 4:
        raise ValueError(
            f"images of shape {shape} are not a batch of images; use (n_images, channels, "
            "height, width), (n_images, height, width, channels) or (n_images, height, width)"
        )
    if channels_last is None:
        axis = 1 if shape[1] in IMAGE_CHANNELS else 3 if shape[3] in IMAGE_CHANNELS else None
    else:
        axis = 3 if channels_last else 1
    if axis is None or shape[axis] not in IMAGE_CHANNELS:
        if axis is None:
            sizes = (shape[1], shape[3])
            found = f"{shape[1]} channels on the second axis and {shape[3]} on the last"
        else:
            sizes = (shape[axis],)
            found = f"{shape[axis]} channels on the {'second' if axis == 1 else 'last'} axis"
        raise ValueError(
            f"images of shape {shape} (channels_last={channels_last}) have {found}; "
            "pretrained backbones take 1 (grayscale) or 3 (RGB) channels, channels first "
            "(n, C, H, W) or last (n, H, W, C)"
            + ("; drop the alpha channel of RGBA images" if 4 in sizes else "")
        )
    return axis


class ImagePreprocessing(nn.Module):
    """Images to the input of a torchvision classifier: RGB, resized, cropped, normalised.

    As torchvision's ``ImageClassification`` preset does for its weights: the shorter side
    is resized to ``resize_size`` (antialiased, the aspect ratio kept), the centre
    ``crop_size`` square is cut out and each RGB channel is normalised with ``mean`` and
    ``std``. Before that, integer pixels (uint8, or the int64 an estimator may make of
    them) are divided by 255 (float pixels must be in 0..1),
    the channel axis moved first and grayscale repeated to three channels. Resizing runs in
    floating point, also on uint8 input (torchvision's tensor path rounds back to uint8 in
    between). The computation is in the dtype of the module (float32; float64 after
    ``.double()``), whatever the input dtype.

    Parameters
    ----------
    mean, std : sequence of 3 float, default=ImageNet's
        Per-channel mean and standard deviation of the pixels in 0..1.
    resize_size : int, default=256
        Length of the shorter side after resizing; images already that size are not
        resized.
    crop_size : int, default=224
        Side of the centre square kept, at most ``resize_size``.
    interpolation : {"bilinear", "bicubic"}, default="bilinear"
        Resampling of the resize.
    channels_last : bool or None, default=None
        Whether the channel axis is the last; None infers it per batch: axis 1 when it has
        1 or 3 entries, else the last axis.

    Examples
    --------
    >>> import torch
    >>> from sknets.modules import ImagePreprocessing
    >>> preprocess = ImagePreprocessing(resize_size=32, crop_size=28)
    >>> preprocess(torch.zeros(2, 48, 64, 3, dtype=torch.uint8)).shape
    torch.Size([2, 3, 28, 28])
    """

    def __init__(
        self,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
        resize_size: int = 256,
        crop_size: int = 224,
        interpolation: str = "bilinear",
        channels_last: bool | None = None,
    ) -> None:
        super().__init__()
        for name, value in (("resize_size", resize_size), ("crop_size", crop_size)):
            if not is_int(value) or value < 1:
                raise ValueError(f"{name}={value!r} is not valid; use a positive int")
        if crop_size > resize_size:
            raise ValueError(
                f"crop_size={crop_size} is larger than resize_size={resize_size}; the crop is "
                "cut out of the resized image: use crop_size <= resize_size"
            )
        if interpolation not in INTERPOLATIONS:
            allowed = ", ".join(repr(mode) for mode in INTERPOLATIONS)
            raise ValueError(f"interpolation={interpolation!r} is not valid; use {allowed}")
        if len(mean) != 3 or len(std) != 3:
            raise ValueError(f"mean={mean!r} and std={std!r} need one value per RGB channel")
        self.resize_size = int(resize_size)
        self.crop_size = int(crop_size)
        self.interpolation = interpolation
        self.channels_last = channels_last
        # Constants of the weights, not learned: kept out of the state dict.
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Map a batch of images to normalised ``(n, 3, crop_size, crop_size)`` tensors."""
        axis = channel_axis(images.shape, self.channels_last)
        if axis is None:
            images = images.unsqueeze(1)
        elif axis == 3:
            images = images.permute(0, 3, 1, 2)
        # Standard strides: images stored channels last in memory would make torch pick its
        # channels-last convolutions, whose rounding differs from that of the same images
        # stored channels first.
        images = images.contiguous()
        if images.is_floating_point():
            images = images.to(self.mean.dtype)
        elif images.dtype != torch.bool and not images.is_complex():
            images = images.to(self.mean.dtype) / PIXEL_MAX
        else:
            raise ValueError(
                f"images of dtype {images.dtype}: use integer pixels (0..255) or floats in 0..1"
            )
        images = self._center_crop(self._resize(images))
        return (images.expand(-1, 3, -1, -1) - self.mean) / self.std

    def _resize(self, images: torch.Tensor) -> torch.Tensor:
        height, width = images.shape[-2:]
        short, long = min(height, width), max(height, width)
        if short == self.resize_size:
            return images
        # torchvision's rule for an int size: the shorter side becomes it, the longer scales.
        scaled = int(self.resize_size * long / short)
        size = (self.resize_size, scaled) if height <= width else (scaled, self.resize_size)
        return nn.functional.interpolate(
            images, size=size, mode=self.interpolation, align_corners=False, antialias=True
        )

    def _center_crop(self, images: torch.Tensor) -> torch.Tensor:
        height, width = images.shape[-2:]
        top = int(round((height - self.crop_size) / 2.0))
        left = int(round((width - self.crop_size) / 2.0))
        return images[..., top : top + self.crop_size, left : left + self.crop_size]

    def extra_repr(self) -> str:
        return (
            f"resize_size={self.resize_size}, crop_size={self.crop_size}, "
            f"interpolation={self.interpolation!r}, channels_last={self.channels_last}"
        )
