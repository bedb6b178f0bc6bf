"""Images to the features of a pretrained torchvision backbone, as a scikit-learn transformer.

The Keras tutorials' VGG16 route: ``make_pipeline(PretrainedFeatures("vgg16"),
LogisticRegression())`` extracts the backbone's pooled features and trains a linear model on
them. Needs torchvision (``pip install "sknets[pretrained]"``).
"""

from __future__ import annotations

import os
from numbers import Integral
from typing import Any

import numpy as np
import scipy.sparse
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._engine import resolve_device
from ._rows import Rows
from ._sklearn_compat import Interval, _fit_context
from ._sources import SampleSource
from .modules.preprocessing import PIXEL_MAX, channel_axis
from .modules.pretrained import PretrainedBackbone


def check_images(X: Any, channels_last: bool | None) -> np.ndarray:
    """``X`` as a numpy array of images: integer pixels in 0..255 (uint8 as a rule) or floats
    in 0..1; ValueError otherwise.

    The array is not copied: layout and dtype are converted batch by batch on the device.
    """
    if scipy.sparse.issparse(X):
        raise ValueError(f"X is a sparse matrix of shape {X.shape}; pass an array of images")
    if isinstance(X, SampleSource):  # read a batch at a time: only its layout is checked
        channel_axis(X.shape, channels_last)
        if not (np.dtype(X.dtype) == np.uint8 or np.issubdtype(X.dtype, np.floating)):
            raise ValueError(f"{X!r} holds {X.dtype}; pass uint8 pixels or floats in 0..1")
        return X
    images = np.asarray(X)
    channel_axis(images.shape, channels_last)
    if len(images) == 0:
        raise ValueError(f"X of shape {images.shape} holds no images")
    if images.dtype == np.uint8:
        return images
    if np.issubdtype(images.dtype, np.integer):
        kind, highest = "integer pixels", PIXEL_MAX
    elif np.issubdtype(images.dtype, np.floating):
        kind, highest = "float pixels", 1
    else:
        raise ValueError(
            f"X has dtype {images.dtype}; pass uint8 pixels (0..255) or floats in 0..1"
        )
    low, high = images.min(), images.max()
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError("X contains NaN or infinite values")
    if low < 0 or high > highest:
        raise ValueError(
            f"X holds {kind} from {low:g} to {high:g}; images must be uint8 (0..255) or "
            "floats in 0..1: they are normalised with the weights' mean and std inside"
        )
    return images


class PretrainedFeatures(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Turn images into the pooled features of a pretrained torchvision backbone.

    :meth:`fit` loads the backbone (it trains nothing); :meth:`transform` resizes and
    normalises the images as the weights expect, runs them through the backbone without its
    classification head, batch by batch in eval mode without gradients, on the GPU when
    there is one, and returns one row of features per image. A linear model on these
    features is the classic transfer learning of the Keras tutorials:
    ``make_pipeline(PretrainedFeatures("vgg16"), LogisticRegression())``.

    ``X`` is an array of images ``(n_images, channels, height, width)``, channels last
    ``(n_images, height, width, channels)`` or grayscale ``(n_images, height, width)``, as
    :func:`sknets.datasets.load_image_folder` or an image library gives them: uint8 pixels
    (0..255) or floats in 0..1, 1 channel (repeated to RGB) or 3, of any size (resized).
    Images are not rows of features, so the transformer has no ``n_features_in_``, as
    scikit-learn's :class:`~sklearn.feature_extraction.image.PatchExtractor`; it learns
    nothing from ``X``, which :meth:`fit` only checks.

    The features are those of :class:`sknets.modules.PretrainedBackbone` with
    ``n_outputs=None`` (see there for the head removed per family): 512 per image for
    ResNet-18 and VGG, 1280 for EfficientNet-B0. A row's features do not depend on the other
    rows of the call: batch norms are in eval mode, and only float32 rounding may differ
    with the size of the batch (measured: at most 1.2e-6 of the largest feature). float64
    would remove even that, at four times the time of float32 on the CPU.

    Parameters
    ----------
    backbone : str, default="resnet18"
        torchvision model name (``"resnet18"``, ``"vgg16"``, ``"mobilenet_v3_small"``,
        ``"efficientnet_b0"``, ...); see :class:`sknets.modules.PretrainedBackbone` for the
        families supported.
    weights : str, path-like or None, default="DEFAULT"
        torchvision weights name (``"DEFAULT"``, ``"IMAGENET1K_V1"``,
        ``"ResNet18_Weights.IMAGENET1K_V1"``), downloaded once to the torch cache; a path
        to a state dict of the torchvision model (``torch.save(model.state_dict(),
        path)``); or None for random weights (tests). Offline, named weights must already
        be in the cache: the error says which file and where.
    preprocessing : str or None, default=None
        torchvision weights name whose ``transforms()`` (mean, std, sizes, interpolation)
        the images get; None follows ``weights``, or for a file or None the ``"DEFAULT"``
        weights (ImageNet's mean and std, the model's usual size).
    resize_size, crop_size : int or None, default=None
        Override the preprocessing's sizes: the shorter side is resized to
        ``resize_size``, then the centre ``crop_size`` square is kept.
    channels_last : bool or None, default=None
        Whether the channel axis of ``X`` is its last; None infers it: axis 1 when it has 1
        or 3 entries, else the last axis.
    batch_size : int, default=64
        Images per forward pass.
    device : str or torch.device, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU; or ``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, ``"mps"``.

    Attributes
    ----------
    module_ : sknets.modules.PretrainedBackbone
        The backbone with its preprocessing and no head, in eval mode, on ``device_``.
    device_ : torch.device
        The device the features are computed on.

    See Also
    --------
    sknets.modules.PretrainedBackbone : The same backbone with a new head, for fine-tuning.

    Examples
    --------
    Random weights here, so that the example needs no download; pass ``weights="DEFAULT"``
    (the default) for ImageNet's:

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sknets.pretrained import PretrainedFeatures
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, size=(8, 40, 40, 3), dtype=np.uint8)
    >>> features = PretrainedFeatures("resnet18", weights=None, resize_size=32, crop_size=32)
    >>> features.fit_transform(images).shape
    (8, 512)
    >>> features.get_feature_names_out()[:2]
    array(['pretrainedfeatures0', 'pretrainedfeatures1'], dtype=object)
    >>> model = make_pipeline(features, LogisticRegression()).fit(images, [0, 1] * 4)
    """

    _parameter_constraints: dict = {
        "backbone": [str],
        "weights": [str, os.PathLike, None],
        "preprocessing": [str, None],
        "resize_size": [Interval(Integral, 1, None, closed="left"), None],
        "crop_size": [Interval(Integral, 1, None, closed="left"), None],
        "channels_last": ["boolean", None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
    }

    def __init__(
        self,
        backbone: str = "resnet18",
        weights: str | os.PathLike | None = "DEFAULT",
        *,
        preprocessing: str | None = None,
        resize_size: int | None = None,
        crop_size: int | None = None,
        channels_last: bool | None = None,
        batch_size: int = 64,
        device: str | torch.device = "auto",
    ) -> None:
        self.backbone = backbone
        self.weights = weights
        self.preprocessing = preprocessing
        self.resize_size = resize_size
        self.crop_size = crop_size
        self.channels_last = channels_last
        self.batch_size = batch_size
        self.device = device

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any = None, y: Any = None) -> PretrainedFeatures:
        """Load the backbone and its weights; nothing is learned from ``X``.

        Parameters
        ----------
        X : array of images or None, default=None
            Checked (layout, dtype, range) when given, so bad input fails early.
        y : None
            Ignored.

        Returns
        -------
        self : PretrainedFeatures
            The fitted transformer.
        """
        if X is not None:
            check_images(X, self.channels_last)
        self.device_ = resolve_device(self.device)
        module = PretrainedBackbone(
            None,
            self.backbone,
            self.weights,
            preprocessing=self.preprocessing,
            resize_size=self.resize_size,
            crop_size=self.crop_size,
            channels_last=self.channels_last,
        )
        self.module_ = module.to(self.device_).eval()
        self._n_features_out = module.num_features
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Compute the backbone's features of each image.

        Parameters
        ----------
        X : array of images
            ``(n_images, channels, height, width)``, ``(n_images, height, width,
            channels)`` or ``(n_images, height, width)``; uint8, or floats in 0..1.

        Returns
        -------
        ndarray of shape (n_images, n_features), dtype float32
            The pooled features, one row per image.
        """
        check_is_fitted(self)
        images = check_images(X, self.channels_last)
        features = np.empty((len(images), self._n_features_out), dtype=np.float32)
        bounds = [
            (start, min(start + self.batch_size, len(images)))
            for start in range(0, len(images), self.batch_size)
        ]
        # Gathered as stored (a memory map or an image folder read a batch at a time, in
        # DataLoader workers for a source with num_workers), then moved to the device.
        rows = Rows(images, sample_shape=images.shape[1:], device=self.device_)
        with torch.inference_mode():
            batches = rows.batches([slice(start, stop) for start, stop in bounds])
            for (start, stop), batch in zip(bounds, batches, strict=True):
                outputs = self.module_(batch)
                features[start:stop] = outputs.to("cpu", torch.float32).numpy()
        return features

    def __sklearn_tags__(self):
        # As sklearn's PatchExtractor: arrays of images, not 2-D rows of features.
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        # float32 features whatever the input dtype (uint8 pixels too).
        tags.transformer_tags.preserves_dtype = ["float32"]
        # Stated, not inherited by chance: weights loaded in fit, no randomness in transform.
        tags.requires_fit = True
        tags.non_deterministic = False
        return tags
