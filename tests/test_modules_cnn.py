"""Tests for the plain CNN module: shapes, gradients, layer stacks and error messages."""

import math

import pytest
import torch
from torch import nn

from sknets.modules.cnn import CNN


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


CONFIGS = [
    pytest.param((1, 8, 8), {}, id="2d-defaults-digits"),
    pytest.param((3, 12, 10), {"kernel_size": (5, 3), "pooling": "avg"}, id="2d-kernels-avg"),
    pytest.param((2, 9, 11), {"stride": (2, 1), "kernel_size": 4, "pooling": None}, id="2d-stride"),
    pytest.param((1, 7, 7), {"batch_norm": True, "conv_dropout": 0.2, "dropout": 0.3}, id="2d-bn"),
    pytest.param((3, 16, 16), {"global_pool": True, "hidden_layer_sizes": ()}, id="2d-global"),
    pytest.param((1, 10, 10), {"padding": "valid", "activation": "tanh"}, id="2d-valid"),
    pytest.param((1, 6, 6), {"padding": 2, "channels": (4, 4, 4)}, id="2d-int-padding"),
    pytest.param((2, 30), {}, id="1d-defaults"),
    pytest.param(
        (1, 25), {"kernel_size": (7, 5), "stride": (2, 1), "pooling": "avg"}, id="1d-stride"
    ),
    pytest.param((4, 17), {"batch_norm": True, "global_pool": True, "pooling": None}, id="1d-bn"),
    pytest.param(
        (3, 20), {"channels": (8,), "padding": "valid", "activation": "gelu"}, id="1d-one"
    ),
]


@pytest.mark.parametrize(("input_shape", "kwargs"), CONFIGS)
def test_output_shape_and_values(input_shape, kwargs):
    model = CNN(input_shape, 5, **kwargs)
    out = model(torch.randn(4, *input_shape))
    assert out.shape == (4, 5)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize(("input_shape", "kwargs"), CONFIGS)
def test_backward_gives_every_parameter_a_finite_gradient(input_shape, kwargs):
    model = CNN(input_shape, 3, **kwargs)
    loss = nn.functional.cross_entropy(model(torch.randn(6, *input_shape)), torch.arange(6) % 3)
    loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name


def _layer_types(model: nn.Module) -> list[type[nn.Module]]:
    return [type(m) for m in model.modules() if not list(m.children())]


def test_keras_digits_stack():
    # Conv(32, 5x5) -> maxpool -> Conv(64, 3x3) -> maxpool -> Flatten -> Dense(relu) -> logits
    model = CNN((1, 28, 28), 10, channels=(32, 64), kernel_size=(5, 3), hidden_layer_sizes=(128,))
    assert _layer_types(model) == [
        nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Flatten,
        nn.Linear, nn.ReLU, nn.Linear,
    ]  # fmt: skip
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size) for c in convs] == [(32, (5, 5)), (64, (3, 3))]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(f.in_features, f.out_features) for f in linears] == [(64 * 7 * 7, 128), (128, 10)]


def test_cifar_stack():
    # conv32 -> pool -> conv64 -> pool -> dense1024 -> dropout 0.5 -> 10
    model = CNN((3, 32, 32), 10, channels=(32, 64), hidden_layer_sizes=(1024,), dropout=0.5)
    assert _layer_types(model) == [
        nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Flatten,
        nn.Linear, nn.ReLU, nn.Dropout, nn.Linear,
    ]  # fmt: skip
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(f.in_features, f.out_features) for f in linears] == [(64 * 8 * 8, 1024), (1024, 10)]
    dropout = next(m for m in model.modules() if isinstance(m, nn.Dropout))
    assert dropout.p == 0.5
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_block_order_with_every_option():
    model = CNN((1, 8), 2, channels=(4,), batch_norm=True, pooling="avg", conv_dropout=0.1)
    assert _layer_types(model.features) == [
        nn.Conv1d, nn.BatchNorm1d, nn.ReLU, nn.AvgPool1d, nn.Dropout, nn.Flatten,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("input_shape", "kwargs", "feature_shape"),
    [
        # two pools of 2 on 8x8 digits leave 2x2 maps
        ((1, 8, 8), {}, (64, 2, 2)),
        # pooling rounds up, and a 1x1 map stays 1x1 instead of failing
        ((1, 7, 7), {"channels": (4,)}, (4, 4, 4)),
        ((1, 8, 8), {"channels": (4,) * 5}, (4, 1, 1)),
        # "same" keeps ceil(size / stride), also for even kernels
        ((1, 9, 10), {"channels": (4,), "kernel_size": 4, "stride": 2, "pooling": None}, (4, 5, 5)),
        ((1, 9, 10), {"channels": (4,), "kernel_size": 4, "pooling": None}, (4, 9, 10)),
        (
            (1, 10),
            {"channels": (4,), "kernel_size": 3, "padding": "valid", "pooling": None},
            (4, 8),
        ),
        ((1, 10), {"channels": (4,), "kernel_size": 3, "padding": 2, "pooling": "max"}, (4, 6)),
        ((3, 13, 21), {"channels": (4, 6), "global_pool": True}, (6, 1, 1)),
    ],
)
def test_feature_map_size_is_computed(input_shape, kwargs, feature_shape):
    model = CNN(input_shape, 2, **kwargs)
    first_linear = next(m for m in model.head.modules() if isinstance(m, nn.Linear))
    assert first_linear.in_features == math.prod(feature_shape)
    features = model.features[:-1](torch.randn(2, *input_shape))  # before Flatten
    assert features.shape[1:] == feature_shape


def test_global_pool_head_size_does_not_depend_on_input_size():
    small = CNN((3, 16, 16), 2, global_pool=True)
    large = CNN((3, 40, 24), 2, global_pool=True)
    assert [p.shape for p in small.parameters()] == [p.shape for p in large.parameters()]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"input_shape": (1, 8, 8, 8)}, r"input_shape=\(1, 8, 8, 8\) is not valid; use \(channels"),
        ({"input_shape": (0, 8)}, r"input_shape=\(0, 8\) is not valid"),
        ({"channels": ()}, r"channels=\(\) is not valid; use a non-empty sequence"),
        ({"channels": (8, 0)}, r"channels=\(8, 0\) is not valid"),
        ({"kernel_size": (3, 3, 3)}, r"kernel_size=\(3, 3, 3\) is not valid; .* sequence of 2"),
        ({"kernel_size": 0}, r"kernel_size=0 is not valid; use a positive int"),
        ({"kernel_size": 2.5}, r"kernel_size=2.5 is not valid"),
        ({"stride": (1,)}, r"stride=\(1,\) is not valid; .* one per entry of channels"),
        ({"padding": "full"}, r"padding='full' is not valid; use 'same', 'valid' or an int >= 0"),
        ({"padding": -1}, r"padding=-1 is not valid"),
        ({"pooling": "min"}, r"pooling='min' is not valid; use 'max', 'avg' or None"),
        ({"pool_size": 0}, r"pool_size=0 is not valid; use a positive int"),
        ({"activation": "swish"}, r"activation='swish' is not supported"),
    ],
)
def test_invalid_arguments_raise(kwargs, match):
    arguments = {"input_shape": (1, 8, 8), "n_outputs": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        CNN(**arguments)


def test_too_small_input_names_shape_and_layer():
    match = (
        r"input_shape=\(1, 6, 6\) is too small: the spatial size becomes 0 after the "
        r"convolution of block 2 of 3 \(kernel_size=3, stride=1, padding='valid'\); "
        r"use fewer blocks, .*pooling=None or padding='same'"
    )
    with pytest.raises(ValueError, match=match):
        CNN((1, 6, 6), 2, channels=(4, 4, 4), padding="valid")


def test_too_small_1d_input_with_large_kernel():
    with pytest.raises(ValueError, match=r"input_shape=\(2, 4\) is too small.*block 1 of 1"):
        CNN((2, 4), 2, channels=(4,), kernel_size=5, padding="valid")
