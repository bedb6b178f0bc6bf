"""``CNNClassifier``: a convolutional network for images and signals with the sklearn interface."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
import torch

from ._docstrings import fill_shared_docs
from ._rows import as_module_inputs, check_dense
from ._sklearn_compat import Interval, StrOptions, validate_data
from ._sources import SampleSource
from .base import positive_ints, validate_source
from .classifier import NeuralNetClassifierBase
from .modules import ACTIVATIONS, CNN
from .modules.cnn import PADDINGS, POOLINGS
from .regressor import NeuralNetRegressorBase

#: Largest value of a uint8 pixel: uint8 input is divided by it, as torchvision's ToTensor does.
PIXEL_MAX = 255

#: Channel counts of grayscale, RGB and RGBA images, used to spot a probably misplaced
#: channel axis.
_IMAGE_CHANNELS = (1, 3, 4)


def _plain_int(value):
    """``value`` as a Python int if it is an integer (numpy's too), else unchanged.

    Booleans stay booleans, for the module to reject: sklearn's ``Interval`` lets them pass.
    """
    return int(value) if isinstance(value, Integral) and not isinstance(value, bool) else value


def _is_uint8(X) -> bool:
    """Whether ``X`` holds uint8 pixels (a uint8 array, or a DataFrame of uint8 columns)."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is not None and not isinstance(dtypes, np.dtype):
        return len(dtypes) > 0 and all(dtype == np.uint8 for dtype in dtypes)
    return getattr(X, "dtype", None) == np.uint8


def _channels_first(batch: torch.Tensor) -> torch.Tensor:
    """``(n, *spatial, channels)`` to ``(n, channels, *spatial)``, in standard strides.

    Contiguous, since a moved channel axis would make torch pick its channels-last kernels
    (other rounding than the same values in standard layout).
    """
    return batch.movedim(-1, 1).contiguous()


def _unit_pixels(batch: torch.Tensor) -> torch.Tensor:
    """uint8 pixels as float32 in 0..1 (divided by 255, as torchvision's ``ToTensor``)."""
    return batch.to(torch.float32).div_(PIXEL_MAX)


def _stored_layouts(network_shape: tuple[int, ...], channels_last: bool) -> list[tuple[int, ...]]:
    """Per-sample shapes of ``X`` that hold samples of ``network_shape`` (channels first).

    Flat rows, the full shape (channel axis last with ``channels_last``) and, for one-channel
    images, the shape without a channel axis.
    """
    channels, *spatial = network_shape
    full = (*spatial, channels) if channels_last else network_shape
    layouts = [(math.prod(network_shape),), tuple(full)]
    if channels == 1 and len(spatial) == 2:
        layouts.append(tuple(spatial))
    return layouts


def _infer_network_shape(sample_shape: tuple[int, ...], channels_last: bool) -> tuple[int, ...]:
    """Network shape of samples stored as ``sample_shape`` when no ``input_shape`` is given."""
    if len(sample_shape) <= 2:  # rows (length,) or images (height, width): one channel
        return (1, *sample_shape)
    if channels_last:
        return (sample_shape[-1], *sample_shape[:-1])
    return sample_shape


def _warn_if_channels_misplaced(sample_shape: tuple[int, ...], channels_last: bool) -> None:
    first, last = sample_shape[0], sample_shape[-1]
    channel_axis_end = last in _IMAGE_CHANNELS and first not in _IMAGE_CHANNELS
    channel_axis_start = first in _IMAGE_CHANNELS and last not in _IMAGE_CHANNELS
    if channel_axis_end and not channels_last:
        read_as, hint = "channels first", "channels_last=True"
    elif channel_axis_start and channels_last:
        read_as, hint = "channels last", "channels_last=False"
    else:
        return
    warnings.warn(
        f"images of shape {sample_shape} are read {read_as} (channels_last={channels_last}), "
        f"giving {_infer_network_shape(sample_shape, channels_last)} as (channels, height, "
        f"width); if the colour channels are on the other axis, pass {hint}",
        UserWarning,
        stacklevel=2,
    )


CNN_PARAMETERS = """\
channels : int or tuple of int, default=(32, 64)
    Filters of each convolutional block; the length is the number of blocks.
kernel_size : int or tuple of int, default=3
    Side of the square kernels, the same for every block or one per block.
stride : int or tuple of int, default=1
    Convolution stride, the same for every block or one per block.
padding : {"same", "valid"} or int, default="same"
    ``"same"`` keeps the size at stride 1; ``"valid"`` does not pad; an int pads that many
    zeros on every side.
pooling : {"max", "avg"} or None, default="max"
    Pooling at the end of each block (window and stride ``pool_size``, rounding up, so
    small images never shrink to nothing); None for no pooling.
pool_size : int, default=2
    Window and stride of the pooling.
batch_norm : bool, default=True
    Batch normalisation of each convolution's output, before the activation: steadier
    training, less dependent on the scale of the input. False gives the plain Keras-style
    stack.
activation : {"relu", "tanh", "sigmoid", "leaky_relu", "gelu", "elu"}, default="relu"
    Activation of the blocks and of the dense head.
conv_dropout : float, default=0.0
    Dropout probability at the end of each convolutional block (training only).
hidden_layer_sizes : int or tuple of int, default=(128,)
    Width of each hidden layer of the dense head; ``()`` for a linear head.
dropout : float, default=0.0
    Dropout probability after each hidden layer of the dense head (training only).
global_pool : bool, default=False
    Average each final feature map over space instead of flattening it: fewer weights in
    the head, and any image size gives the same number of features.
input_shape : tuple of int or None, default=None
    Shape of one sample as the network sees it, channels first: ``(channels, height,
    width)`` or ``(channels, length)``. Needed for flat rows and for multi-channel signals;
    otherwise inferred from ``X`` (see above).
channels_last : bool, default=False
    Whether the channel axis of ``X`` is its last one, as in arrays from image libraries
    ``(n_samples, height, width, channels)`` or signals ``(n_samples, length, channels)``.
augmentation : ImageAugmentation or callable, default=None
    Random transformation of each training batch, e.g.
    :class:`sknets.augmentation.ImageAugmentation`; a callable gets ``(batch, generator)``
    with ``batch`` shaped ``(batch_size, *input_shape_)`` and returns the new batch. The
    generator is seeded from ``random_state``, so augmented fits are reproducible. Never
    applied to validation data or in ``predict``.
"""

CNN_ATTRIBUTES = """\
input_shape_ : tuple of int
    Shape of one sample as the network sees it: ``(channels, height, width)`` or
    ``(channels, length)``.
n_features_in_ : int
    Values per sample (the product of ``input_shape_``).
feature_names_in_ : ndarray of str
    Column names, when ``X`` was a DataFrame with string column names.
module_ : torch.nn.Module
    The trained network (:class:`sknets.modules.CNN`); ``print(clf.module_)`` shows its
    layers.
"""


class CNNArchitecture:
    """What the CNN estimators share: parameters, input layouts, the network built."""

    _docs = {"architecture_parameters": CNN_PARAMETERS, "architecture_attributes": CNN_ATTRIBUTES}
    _architecture_constraints: dict = {
        "channels": ["array-like", Interval(Integral, 1, None, closed="left")],
        "kernel_size": ["array-like", Interval(Integral, 1, None, closed="left")],
        "stride": ["array-like", Interval(Integral, 1, None, closed="left")],
        "padding": [StrOptions(set(PADDINGS)), Interval(Integral, 0, None, closed="left")],
        "pooling": [StrOptions(set(POOLINGS)), None],
        "pool_size": [Interval(Integral, 1, None, closed="left")],
        "batch_norm": ["boolean"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "conv_dropout": [Interval(Real, 0, 1, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "global_pool": ["boolean"],
        "input_shape": ["array-like", None],
        "channels_last": ["boolean"],
        "augmentation": [callable, None],
    }

    def suggest_params(self, trial) -> dict:
        """Sample the default CNN search space: 1-3 blocks doubling 16-64 filters, kernel 3 or
        5, dropout in the blocks and the head, head width 32-512, and the training parameters.

        See :meth:`sknets.base.NeuralNetBase.suggest_params`.
        """
        n_blocks = trial.suggest_int("n_blocks", 1, 3)
        first_channels = trial.suggest_int("first_channels", 16, 64, log=True)
        return {
            **super().suggest_params(trial),
            "channels": tuple(first_channels * 2**block for block in range(n_blocks)),
            "kernel_size": trial.suggest_categorical("kernel_size", [3, 5]),
            "conv_dropout": trial.suggest_float("conv_dropout", 0.0, 0.3),
            "hidden_layer_sizes": (trial.suggest_int("dense_width", 32, 512, log=True),),
            "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    # ------------------------------------------------------------------ input layouts
    def _validate_inputs(self, X, y=None, *, reset: bool):
        """Validate ``X`` as rows of one sample's values each, as stored (not converted).

        uint8 pixels stay uint8 and float32 stays float32 (without a copy): the network's
        layout and dtype are made a batch at a time (:meth:`_to_module_inputs`).
        """
        check_dense(X, type(self).__name__)
        if isinstance(X, SampleSource):
            network_shape = self._network_shape(X.shape, reset=reset)
            X, y = validate_source(self, X, y, reset=reset)
        else:
            if isinstance(X, list | tuple):
                X = np.asarray(X)  # e.g. a list of uint8 images read one by one
            pixels = _is_uint8(X)
            network_shape = None
            if len(getattr(X, "shape", ())) >= 3:
                X = np.asarray(X)
                network_shape = self._network_shape(X.shape, reset=reset)
                # sklearn validates 2-D rows; the values of one sample are its features.
                X = X.reshape(len(X), -1)
            kwargs = {"dtype": None if pixels else [np.float32, np.float64], "reset": reset}
            if y is None:
                X = validate_data(self, X, **kwargs)
            else:
                X, y = validate_data(self, X, y, multi_output=True, **kwargs)
            if network_shape is None:
                network_shape = self._network_shape(X.shape, reset=reset)
        if reset:
            self.input_shape_ = network_shape
        return X, y

    def _to_module_inputs(self, X, *, training: bool):
        """Samples in the network's layout, ``(n_samples, *input_shape_)``, float.

        Stored channels-last images are moved to channels first and uint8 pixels divided
        by 255 one batch at a time, on the training device.
        """
        channels, *spatial = self.input_shape_
        # With one channel both orders hold the same values: a plain reshape.
        moved = self.channels_last and channels > 1
        if not isinstance(X, SampleSource):
            X = X.reshape(len(X), *((*spatial, channels) if moved else self.input_shape_))
        decode = (_channels_first,) if moved else ()
        pixels = np.dtype(X.dtype) == np.uint8
        if pixels:
            decode += (_unit_pixels,)
        return as_module_inputs(
            X,
            training=training,
            sample_shape=self.input_shape_,
            decode=decode,
            decoded_dtype=np.float32 if pixels else None,
        )

    def _network_shape(self, shape: tuple[int, ...], *, reset: bool) -> tuple[int, ...]:
        """``(channels, *spatial)`` of the samples of an ``X`` of ``shape``; ValueError if none."""
        sample_shape = tuple(shape[1:])
        if not reset:
            expected = self.input_shape_
        elif self.input_shape is not None:
            expected = self._checked_input_shape()
        elif len(sample_shape) <= 3:
            if len(sample_shape) == 3:
                _warn_if_channels_misplaced(sample_shape, self.channels_last)
            return _infer_network_shape(sample_shape, self.channels_last)
        else:
            raise ValueError(
                f"X has shape {tuple(shape)}; use images (n_samples, channels, height, width) "
                "or (n_samples, height, width), signals (n_samples, channels, length) with "
                "input_shape=(channels, length), or rows (n_samples, n_features)"
            )
        layouts = _stored_layouts(expected, self.channels_last)
        if sample_shape in layouts:
            return expected
        if reset and len(sample_shape) == 1:
            raise ValueError(
                f"input_shape={expected} needs {layouts[0][0]} features per row, "
                f"got {sample_shape[0]}"
            )
        accepted = " or ".join(f"(n_samples, {', '.join(map(str, s))})" for s in layouts)
        if reset:
            raise ValueError(
                f"input_shape={expected} does not match X of shape {tuple(shape)} "
                f"(channels_last={self.channels_last}); X must have shape {accepted}"
            )
        raise ValueError(
            f"X has samples of shape {sample_shape}, but {type(self).__name__} was fitted on "
            f"samples of shape input_shape_={expected} (channels_last={self.channels_last}); "
            f"X must have shape {accepted}"
        )

    def _checked_input_shape(self) -> tuple[int, ...]:
        shape = self.input_shape
        if isinstance(shape, Integral) or len(shape) not in (2, 3):
            raise ValueError(
                f"input_shape={shape!r} is not valid; use (channels, height, width) for images "
                "or (channels, length) for signals"
            )
        return positive_ints("input_shape", shape, "(1, 28, 28) or (3, 100)")

    def _batch_transform(self):
        return self.augmentation

    def _build_module(self, n_outputs: int) -> CNN:
        def ints_or_int(name: str, value) -> int | tuple[int, ...]:
            values = positive_ints(name, value, "3 or (5, 3)")
            return values[0] if isinstance(value, Integral) else values

        channels = positive_ints("channels", self.channels, "(32, 64)")
        if not channels:
            raise ValueError(
                f"channels={self.channels!r} must hold positive integers, e.g. (32, 64); "
                "a CNN needs at least one convolutional block"
            )
        return CNN(
            self.input_shape_,
            n_outputs,
            channels=channels,
            kernel_size=ints_or_int("kernel_size", self.kernel_size),
            stride=ints_or_int("stride", self.stride),
            padding=_plain_int(self.padding),
            pooling=self.pooling,
            pool_size=_plain_int(self.pool_size),
            batch_norm=self.batch_norm,
            activation=self.activation,
            conv_dropout=self.conv_dropout,
            hidden_layer_sizes=positive_ints(
                "hidden_layer_sizes", self.hidden_layer_sizes, "(128,) or (256, 128)"
            ),
            dropout=self.dropout,
            global_pool=self.global_pool,
        )


@fill_shared_docs
class CNNClassifier(CNNArchitecture, NeuralNetClassifierBase):
    """Convolutional neural network classifier for images and 1D signals, trained with PyTorch.

    The network (:class:`sknets.modules.CNN`) is a stack of blocks ``Conv -> [BatchNorm] ->
    activation -> [pooling] -> [Dropout]``, one per entry of ``channels``, then a dense head
    ``Linear -> activation -> [Dropout]`` per entry of ``hidden_layer_sizes`` and a softmax
    over the classes (two classes use a 2-way softmax, equivalent to a sigmoid output).

    **Input layouts.** ``X`` may be

    - images ``(n_samples, channels, height, width)``, as :func:`sknets.datasets.load_image_folder`
      returns them, or ``(n_samples, height, width, channels)`` with ``channels_last=True``;
    - one-channel images ``(n_samples, height, width)``, as MNIST from
      :func:`sknets.datasets.load_idx`;
    - signals ``(n_samples, channels, length)``: pass ``input_shape=(channels, length)``, since
      a 3-D array is otherwise read as one-channel images;
    - flat rows ``(n_samples, n_features)`` with ``input_shape=(channels, height, width)`` or
      ``(channels, length)``, e.g. after a ``StandardScaler`` in a pipeline. Rows are unpacked
      in C order (channels last with ``channels_last=True``). Without ``input_shape``, rows are
      one-channel signals of length ``n_features``: for the 8x8 digits pass
      ``input_shape=(1, 8, 8)``.

    ``predict`` takes any of the layouts that hold the samples seen in ``fit``
    (``input_shape_``). **uint8 input is divided by 255** (pixels to 0..1, as torchvision's
    ``ToTensor``) in every call; other dtypes are used as given.

    Parameters
    ----------
    {architecture_parameters}
    {task_parameters}
    {training_parameters}

    Attributes
    ----------
    {task_attributes}
    {architecture_attributes}
    {training_attributes}

    See Also
    --------
    sknets.MLPClassifier : Dense network on flat features.
    sknets.augmentation.ImageAugmentation : Random flips, shifts, rotations and zooms.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sknets import CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(input_shape=(1, 8, 8), max_epochs=3, random_state=0)
    >>> clf.fit(X / 16, y).predict(X[:3] / 16).shape
    (3,)
    >>> clf.input_shape_
    (1, 8, 8)

    The usual Keras stacks, one line each. Conv(32, 5x5) -> max-pool -> Conv(64, 3x3) ->
    max-pool -> Flatten -> Dense(128, relu) -> softmax, trained as in the tutorials:

    >>> flowers = CNNClassifier(
    ...     channels=(32, 64), kernel_size=(5, 3), hidden_layer_sizes=(128,), batch_norm=False,
    ...     lr=1e-3, batch_size=128, max_epochs=10, validation_fraction=0.1, random_state=42,
    ... )

    Binary cats vs dogs on 64x64 photos, with augmentation:

    >>> from sknets.augmentation import ImageAugmentation
    >>> cats_vs_dogs = CNNClassifier(
    ...     channels=(32, 64, 128),
    ...     augmentation=ImageAugmentation(horizontal_flip=True, max_shift=0.1, max_zoom=0.2),
    ... )

    CIFAR-10: conv 32 -> pool -> conv 64 -> pool -> dense 1024 -> dropout 0.5 -> 10 classes:

    >>> cifar = CNNClassifier(channels=(32, 64), hidden_layer_sizes=(1024,), dropout=0.5)
    """

    _parameter_constraints: dict = {
        **NeuralNetClassifierBase._parameter_constraints,
        **CNNArchitecture._architecture_constraints,
    }

    def __init__(
        self,
        channels=(32, 64),
        kernel_size=3,
        *,
        stride=1,
        padding: str | int = "same",
        pooling: str | None = "max",
        pool_size: int = 2,
        batch_norm: bool = True,
        activation: str = "relu",
        conv_dropout: float = 0.0,
        hidden_layer_sizes=(128,),
        dropout: float = 0.0,
        global_pool: bool = False,
        input_shape: Sequence[int] | None = None,
        channels_last: bool = False,
        augmentation=None,
        optimizer="adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        batch_size: int = 128,
        max_epochs: int = 100,
        early_stopping: bool = False,
        validation_fraction: float | None = None,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        lr_schedule="constant",
        class_weight=None,
        device: str | torch.device = "auto",
        mixed_precision: bool = False,
        random_state=None,
        verbose: int = 0,
        callbacks: list | None = None,
        warm_start: bool = False,
    ) -> None:
        self.channels = channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.pooling = pooling
        self.pool_size = pool_size
        self.batch_norm = batch_norm
        self.activation = activation
        self.conv_dropout = conv_dropout
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.global_pool = global_pool
        self.input_shape = input_shape
        self.channels_last = channels_last
        self.augmentation = augmentation
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.lr_schedule = lr_schedule
        self.class_weight = class_weight
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.warm_start = warm_start


@fill_shared_docs
class CNNRegressor(CNNArchitecture, NeuralNetRegressorBase):
    """Convolutional neural network regressor for images and 1D signals, trained with PyTorch.

    Takes the input layouts of :class:`CNNClassifier` (see there) and standardises the targets
    for training, predicting in their units (``scale_targets``); ``y`` may have several
    columns (multi-output).

    Parameters
    ----------
    {architecture_parameters}
    {task_parameters}
    {training_parameters}

    Attributes
    ----------
    {task_attributes}
    {architecture_attributes}
    {training_attributes}

    Examples
    --------
    >>> import numpy as np
    >>> from sknets import CNNRegressor
    >>> images = np.random.default_rng(0).random((64, 1, 8, 8))
    >>> brightness = images.mean(axis=(1, 2, 3))
    >>> reg = CNNRegressor(channels=(8,), max_epochs=3, random_state=0).fit(images, brightness)
    >>> reg.predict(images[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **NeuralNetRegressorBase._parameter_constraints,
        **CNNArchitecture._architecture_constraints,
    }

    def __init__(
        self,
        channels=(32, 64),
        kernel_size=3,
        *,
        stride=1,
        padding: str | int = "same",
        pooling: str | None = "max",
        pool_size: int = 2,
        batch_norm: bool = True,
        activation: str = "relu",
        conv_dropout: float = 0.0,
        hidden_layer_sizes=(128,),
        dropout: float = 0.0,
        global_pool: bool = False,
        input_shape: Sequence[int] | None = None,
        channels_last: bool = False,
        augmentation=None,
        optimizer="adam",
        lr: float = 1e-3,
        weight_decay: float = 0.01,
        batch_size: int = 128,
        max_epochs: int = 100,
        early_stopping: bool = False,
        validation_fraction: float | None = None,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        lr_schedule="constant",
        loss: str = "squared_error",
        huber_delta: float = 1.0,
        scale_targets: bool = True,
        device: str | torch.device = "auto",
        mixed_precision: bool = False,
        random_state=None,
        verbose: int = 0,
        callbacks: list | None = None,
        warm_start: bool = False,
    ) -> None:
        self.channels = channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.pooling = pooling
        self.pool_size = pool_size
        self.batch_norm = batch_norm
        self.activation = activation
        self.conv_dropout = conv_dropout
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.global_pool = global_pool
        self.input_shape = input_shape
        self.channels_last = channels_last
        self.augmentation = augmentation
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.lr_schedule = lr_schedule
        self.loss = loss
        self.huber_delta = huber_delta
        self.scale_targets = scale_targets
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.warm_start = warm_start
