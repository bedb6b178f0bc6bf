"""A convolutional classifier over 1D signals or 2D images as a plain :class:`torch.nn.Module`."""

import copy
import math
from collections.abc import Sequence

import torch
from torch import nn

from ._layers import make_activation
from .mlp import MLP

#: Layer classes by the number of spatial dimensions of the input (1 or 2).
_CONV = {1: nn.Conv1d, 2: nn.Conv2d}
_BATCH_NORM = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d}
_ZERO_PAD = {1: nn.ZeroPad1d, 2: nn.ZeroPad2d}
_POOL = {
    ("max", 1): nn.MaxPool1d,
    ("max", 2): nn.MaxPool2d,
    ("avg", 1): nn.AvgPool1d,
    ("avg", 2): nn.AvgPool2d,
}
_GLOBAL_POOL = {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d}

#: Names users pass as ``pooling=`` (``None`` means no pooling), from the layer table above.
POOLINGS: tuple[str, ...] = tuple(dict.fromkeys(name for name, _ in _POOL))
#: Names users pass as ``padding=`` (an int >= 0 is also allowed).
PADDINGS: tuple[str, ...] = ("same", "valid")


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _per_block(name: str, value: int | Sequence[int], n_blocks: int) -> list[int]:
    """Expand an int to one value per conv block, or check a sequence has one per block."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        values = list(value)
    else:
        values = [value] * n_blocks
    if len(values) != n_blocks or not all(_is_positive_int(v) for v in values):
        raise ValueError(
            f"{name}={value!r} is not valid; use a positive int or a sequence of "
            f"{n_blocks} positive ints, one per entry of channels"
        )
    return values


def _check_padding(padding: str | int) -> None:
    valid_int = isinstance(padding, int) and not isinstance(padding, bool) and padding >= 0
    if padding not in PADDINGS and not valid_int:
        allowed = ", ".join(repr(name) for name in PADDINGS)
        raise ValueError(f"padding={padding!r} is not valid; use {allowed} or an int >= 0")


def _conv_layers(
    n_dims: int, in_channels: int, out_channels: int, kernel: int, stride: int, padding: str | int
) -> list[nn.Module]:
    """Return the convolution of one block, preceded by explicit padding when it is asymmetric."""
    if padding == "same":
        # Pad kernel - 1 in total, the odd one at the end as Keras does: the output size is
        # then ceil(size / stride) for every kernel size and stride.
        before, after = (kernel - 1) // 2, kernel // 2
        if before != after:
            pad = _ZERO_PAD[n_dims]((before, after) * n_dims)
            return [pad, _CONV[n_dims](in_channels, out_channels, kernel, stride, padding=0)]
        padding = before
    elif padding == "valid":
        padding = 0
    return [_CONV[n_dims](in_channels, out_channels, kernel, stride, padding=padding)]


def _conv_output_size(size: int, kernel: int, stride: int, padding: str | int) -> int:
    if padding == "same":
        return math.ceil(size / stride)
    padding = 0 if padding == "valid" else padding
    return (size + 2 * padding - kernel) // stride + 1


class CNN(nn.Module):
    """Convolutional classifier: conv blocks, then a dense head.

    Each block is ``Conv -> [BatchNorm] -> activation -> [pooling] -> [Dropout]``. The feature
    maps are then flattened (or averaged over space with ``global_pool=True``) and fed to
    ``Linear -> activation -> [Dropout]`` hidden layers and a final ``Linear`` giving logits
    (no softmax). Whether the network is 1D or 2D follows from ``input_shape``.

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one sample without the batch axis: ``(channels, height, width)`` for images
        (``Conv2d``), ``(channels, length)`` for signals (``Conv1d``).
    n_outputs : int
        Number of output units (logits).
    channels : sequence of int, default=(32, 64)
        Number of filters of each convolutional block; its length is the number of blocks.
    kernel_size : int or sequence of int, default=3
        Side of the (square) convolution kernels, the same for every block or one per block.
    stride : int or sequence of int, default=1
        Convolution stride, the same for every block or one per block.
    padding : {"same", "valid"} or int, default="same"
        ``"same"`` pads ``kernel_size - 1`` in total (the extra pixel at the end for even
        kernels, as Keras), so the output size is ``ceil(size / stride)``: unchanged at
        stride 1. ``"valid"`` does not pad; an int pads that many zeros on every side.
    pooling : {"max", "avg"} or None, default="max"
        Pooling at the end of each block; ``None`` for no pooling.
    pool_size : int, default=2
        Window and stride of the pooling. Pooling rounds up (``ceil_mode=True``): a border
        smaller than the window is pooled on its own, so a size of 7 becomes 4 and a size of
        1 stays 1, and a deep stack of pools never fails on a small input.
    batch_norm : bool, default=False
        Whether to normalise each convolution's output over the batch before the activation.
    activation : str, default="relu"
        Name of the activation used in the blocks and the dense head (see ``ACTIVATIONS``).
    conv_dropout : float, default=0.0
        Dropout probability at the end of each convolutional block.
    hidden_layer_sizes : sequence of int, default=(128,)
        Width of each hidden layer of the dense head; empty for a linear head.
    dropout : float, default=0.0
        Dropout probability after each hidden layer of the dense head.
    global_pool : bool, default=False
        Average each feature map over space instead of flattening it, so the head sees
        ``channels[-1]`` features whatever the input size.

    Raises
    ------
    ValueError
        If an argument is not valid, or if the input is too small for the convolutions
        (a spatial size would become 0).

    Examples
    --------
    >>> import torch
    >>> from sknets.modules import CNN
    >>> model = CNN((1, 28, 28), 10, channels=(32, 64), kernel_size=(5, 3))
    >>> model(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    >>> CNN((2, 100), 3, channels=(8,))(torch.zeros(4, 2, 100)).shape
    torch.Size([4, 3])
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        n_outputs: int,
        channels: Sequence[int] = (32, 64),
        kernel_size: int | Sequence[int] = 3,
        stride: int | Sequence[int] = 1,
        padding: str | int = "same",
        pooling: str | None = "max",
        pool_size: int = 2,
        batch_norm: bool = False,
        activation: str = "relu",
        conv_dropout: float = 0.0,
        hidden_layer_sizes: Sequence[int] = (128,),
        dropout: float = 0.0,
        global_pool: bool = False,
    ) -> None:
        super().__init__()
        input_shape = tuple(input_shape)
        if len(input_shape) not in (2, 3) or not all(_is_positive_int(s) for s in input_shape):
            raise ValueError(
                f"input_shape={input_shape!r} is not valid; use (channels, length) for 1D or "
                "(channels, height, width) for 2D input, all positive ints"
            )
        if not channels or not all(_is_positive_int(c) for c in channels):
            raise ValueError(
                f"channels={channels!r} is not valid; use a non-empty sequence of positive ints"
            )
        kernel_sizes = _per_block("kernel_size", kernel_size, len(channels))
        strides = _per_block("stride", stride, len(channels))
        _check_padding(padding)
        if pooling is not None and pooling not in POOLINGS:
            allowed = ", ".join(repr(name) for name in POOLINGS)
            raise ValueError(f"pooling={pooling!r} is not valid; use {allowed} or None")
        if not _is_positive_int(pool_size):
            raise ValueError(f"pool_size={pool_size!r} is not valid; use a positive int")

        n_dims = len(input_shape) - 1
        in_channels, *sizes = input_shape
        layers: list[nn.Module] = []
        for block, (out_channels, kernel, step) in enumerate(zip(channels, kernel_sizes, strides)):
            layers += _conv_layers(n_dims, in_channels, out_channels, kernel, step, padding)
            sizes = [_conv_output_size(s, kernel, step, padding) for s in sizes]
            if min(sizes) < 1:
                raise ValueError(
                    f"input_shape={input_shape!r} is too small: the spatial size becomes "
                    f"{max(min(sizes), 0)} after the convolution of block {block + 1} of "
                    f"{len(channels)} (kernel_size={kernel}, stride={step}, padding={padding!r}); "
                    "use fewer blocks, smaller kernels or strides, pooling=None or padding='same'"
                )
            if batch_norm:
                layers.append(_BATCH_NORM[n_dims](out_channels))
            layers.append(make_activation(activation))
            if pooling is not None:
                layers.append(_POOL[pooling, n_dims](pool_size, ceil_mode=True))
                sizes = [math.ceil(s / pool_size) for s in sizes]
            if conv_dropout > 0:
                layers.append(nn.Dropout(conv_dropout))
            in_channels = out_channels
        if global_pool:
            layers.append(_GLOBAL_POOL[n_dims](1))
            sizes = [1] * n_dims
        layers.append(nn.Flatten())
        self.features = nn.Sequential(*layers)
        self.head = MLP(
            in_channels * math.prod(sizes),
            n_outputs,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            dropout=dropout,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map a ``(batch, *input_shape)`` tensor to ``(batch, n_outputs)`` logits."""
        return self.head(self.features(x))

    @property
    def num_features(self) -> int:
        """Width of :meth:`forward_features`: what the dense head reads."""
        return self.head.layers[0].in_features

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The convolutional features, flattened, without the dense head (Keras'
        ``include_top=False``): ``(batch, num_features)``, what a new head reads in
        transfer."""
        return self.features(x)

    def without_head(self) -> nn.Module:
        """A copy without its dense head: its ``forward`` returns :meth:`forward_features`."""
        trunk = copy.deepcopy(self)
        trunk.head = nn.Identity()
        return trunk
