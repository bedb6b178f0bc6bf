"""torchvision backbones: names, weights (named, cached, local), heads and blocks per family.

torchvision is an optional dependency: it is imported only when a backbone is built, and its
absence raises an ImportError naming the extra that installs it.
"""

from __future__ import annotations

import fnmatch
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from urllib.parse import urlparse

import torch
from torch import nn

#: What a user runs to get torchvision, in every error about it.
INSTALL_HINT = 'pip install "sknets[pretrained]"'

#: File name endings read as a path to a state-dict file rather than a weights name.
STATE_DICT_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")


#: The schemas of torchvision's operators that its import needs, when its C++ ops are missing.
_OPERATORS_ITS_IMPORT_NEEDS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
#: Kept alive: torch removes a library's definitions when the object is collected.
_operator_schemas: list[torch.library.Library] = []


def import_torchvision() -> ModuleType:
    """Return the ``torchvision`` module, or raise an ImportError telling how to install it.

    PyPI's Linux wheels of torchvision are built for CUDA: beside a CPU build of torch
    their C++ operators (detection ops such as ``nms``) cannot load, which torchvision
    tolerates, except that 0.28 then fails on import registering a fake kernel for
    ``torchvision::nms``. Those schemas are then defined, without a kernel, and the import
    retried: the classification models, weights and transforms need no C++ operator, and
    calling one still raises torchvision's own error. With torchvision's CPU build (from
    PyTorch's CPU index) the first import succeeds and nothing is defined.
    """
    try:
        import torchvision
    except ImportError as error:
        raise ImportError(
            f"pretrained backbones need torchvision, which is not installed; run {INSTALL_HINT}"
        ) from error
    except RuntimeError as error:
        if "torchvision::" not in str(error) or _operator_schemas:
            raise
        for name in [name for name in sys.modules if name.partition(".")[0] == "torchvision"]:
            del sys.modules[name]
        schemas = torch.library.Library("torchvision", "FRAGMENT")
        for schema in _OPERATORS_ITS_IMPORT_NEEDS:
            schemas.define(schema)
        _operator_schemas.append(schemas)
        import torchvision
    return torchvision


@dataclass(frozen=True)
class Family:
    """How one family of torchvision classifiers splits into blocks and a classification head.

    Attributes
    ----------
    name : str
        Family name, for messages and the docs.
    patterns : tuple of str
        ``fnmatch`` patterns of the torchvision model names of the family.
    head : str
        Attribute holding the classification head, replaced by :class:`torch.nn.Identity`.
    remove_head : callable
        ``remove_head(model) -> n_features``: replaces the head, returns the feature width.
    blocks : callable
        ``blocks(model) -> list of nn.Module``: the blocks, from the input to the output.
    """

    name: str
    patterns: tuple[str, ...]
    head: str
    remove_head: Callable[[nn.Module], int]
    blocks: Callable[[nn.Module], list[nn.Module]]

    def matches(self, model_name: str) -> bool:
        return any(fnmatch.fnmatchcase(model_name, pattern) for pattern in self.patterns)


def _replace_fc(model: nn.Module) -> int:
    n_features = model.fc.in_features
    model.fc = nn.Identity()
    return n_features


def _replace_classifier(model: nn.Module) -> int:
    # MobileNet and EfficientNet pool before their classifier, whose first Linear reads the
    # pooled features (MobileNetV3's classifier has two Linear layers: both are head).
    first_linear = next(m for m in model.classifier.modules() if isinstance(m, nn.Linear))
    model.classifier = nn.Identity()
    return first_linear.in_features


def _replace_vgg_top(model: nn.Module) -> int:
    # VGG's classifier is three dense layers over a 7x7 grid: all of it is the "top" Keras'
    # include_top=False leaves out. Global average pooling gives one value per channel.
    last_conv = [m for m in model.features if isinstance(m, nn.Conv2d)][-1]
    model.avgpool = nn.AdaptiveAvgPool2d(1)
    model.classifier = nn.Identity()
    return last_conv.out_channels


def _vgg_blocks(model: nn.Module) -> list[nn.Module]:
    # Keras' block1..block5: the convolutions up to and including each max-pooling.
    blocks, layers = [], []
    for layer in model.features:
        layers.append(layer)
        if isinstance(layer, nn.MaxPool2d):
            blocks.append(nn.Sequential(*layers))
            layers = []
    return blocks


FAMILIES: tuple[Family, ...] = (
    Family(
        "ResNet",
        ("resnet*", "resnext*", "wide_resnet*"),
        "fc",
        _replace_fc,
        lambda model: [model.layer1, model.layer2, model.layer3, model.layer4],
    ),
    Family(
        "RegNet",
        ("regnet_*",),
        "fc",
        _replace_fc,
        lambda model: list(model.trunk_output.children()),
    ),
    Family("VGG", ("vgg*",), "classifier", _replace_vgg_top, _vgg_blocks),
    Family(
        "MobileNet and EfficientNet",
        ("mobilenet_v2", "mobilenet_v3_*", "efficientnet_*"),
        "classifier",
        _replace_classifier,
        lambda model: list(model.features.children()),
    ),
)


def supported_backbones() -> list[str]:
    """torchvision's classification model names that :class:`PretrainedBackbone` can use."""
    torchvision = import_torchvision()
    names = torchvision.models.list_models(module=torchvision.models)
    return [name for name in names if any(family.matches(name) for family in FAMILIES)]


def family_of(backbone: str) -> Family:
    """The :class:`Family` of the torchvision model ``backbone``; ValueError if none."""
    if not isinstance(backbone, str) or backbone not in supported_backbones():
        raise ValueError(
            f"backbone={backbone!r} is not a supported torchvision classifier; use one of: "
            + ", ".join(supported_backbones())
        )
    return next(family for family in FAMILIES if family.matches(backbone))


# ---------------------------------------------------------------------------------- weights
def is_state_dict_path(weights: object) -> bool:
    """Whether ``weights`` names a file rather than torchvision weights."""
    if isinstance(weights, os.PathLike):
        return True
    return isinstance(weights, str) and (
        "/" in weights or os.sep in weights or weights.lower().endswith(STATE_DICT_SUFFIXES)
    )


def weights_enum(backbone: str, weights: str, parameter: str = "weights"):
    """The torchvision weights of ``backbone`` named ``weights``: ``"DEFAULT"``, a member name
    (``"IMAGENET1K_V1"``) or the full name (``"ResNet18_Weights.IMAGENET1K_V1"``).

    Raises a ValueError naming ``parameter``, its value and the names allowed.
    """
    torchvision = import_torchvision()
    enum_class = torchvision.models.get_model_weights(backbone)
    member = weights.removeprefix(f"{enum_class.__name__}.") if isinstance(weights, str) else ""
    if member in enum_class.__members__:
        return enum_class[member]
    allowed = ", ".join(repr(name) for name in enum_class.__members__)
    raise ValueError(
        f"{parameter}={weights!r} is not a weights name of {backbone}; use one of {allowed} "
        f"(also as {enum_class.__name__}.<name>)"
        + (", a path to a state-dict file or None" if parameter == "weights" else " or None")
    )


def cached_weights_path(enum) -> Path:
    """Where torch keeps the file of the torchvision weights ``enum``: the hub's checkpoints."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(enum.url).path)


def ensure_cached(enum) -> Path:
    """Download the file of ``enum`` to the torch cache unless it is there; return its path.

    Raises a FileNotFoundError naming the file and the cache path when it is neither cached
    nor downloadable (no network).
    """
    path = cached_weights_path(enum)
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    # torch.hub's own convention: the file name carries the first digits of its SHA-256.
    hash_match = re.search(r"-([a-f0-9]+)\.", path.name)
    try:
        torch.hub.download_url_to_file(
            enum.url, str(path), hash_prefix=hash_match.group(1) if hash_match else None
        )
    except OSError as error:  # urllib's URLError and socket errors are OSErrors
        raise FileNotFoundError(
            f"the weights {enum!r} are not in the torch cache and could not be downloaded "
            f"from {enum.url} ({error}); on a machine with a network, download that file and "
            f"place it at {path} (the cache is $TORCH_HOME/hub, see torch.hub.get_dir()), or "
            "pass weights=<path to the file>"
        ) from error
    return path


def load_state_dict_file(path: str | os.PathLike, backbone: str) -> Mapping[str, torch.Tensor]:
    """Read a state dict saved with ``torch.save(model.state_dict(), path)``."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"weights={str(path)!r}: no such file")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, Mapping) or not all(
        isinstance(value, torch.Tensor) for value in state.values()
    ):
        raise ValueError(
            f"weights={str(path)!r} holds a {type(state).__name__}, not a state dict; save one "
            f"with torch.save(torchvision.models.get_model({backbone!r}).state_dict(), path)"
        )
    return state


def build_backbone(backbone: str, weights) -> tuple[nn.Module, int]:
    """Build the torchvision model ``backbone`` without its classification head.

    Parameters
    ----------
    backbone : str
        torchvision model name, one of :func:`supported_backbones`.
    weights : str, path-like or None
        torchvision weights name, path to a state-dict file of the whole model (the head's
        entries, of any size, are ignored), or None for torchvision's random initialisation.

    Returns
    -------
    model : torch.nn.Module
        The model, its head replaced by :class:`torch.nn.Identity`: maps ``(n, 3, H, W)``
        normalised images to ``(n, n_features)`` pooled features.
    n_features : int
        Width of the features.
    """
    torchvision = import_torchvision()
    family = family_of(backbone)
    if weights is None or is_state_dict_path(weights):
        model = torchvision.models.get_model(backbone, weights=None)
    else:
        enum = weights_enum(backbone, weights)
        ensure_cached(enum)  # torchvision then loads the cached file, without a download
        model = torchvision.models.get_model(backbone, weights=enum)
    n_features = family.remove_head(model)
    if weights is not None and is_state_dict_path(weights):
        state = load_state_dict_file(weights, backbone)
        head_prefix = f"{family.head}."
        state = {key: value for key, value in state.items() if not key.startswith(head_prefix)}
        try:
            model.load_state_dict(state)
        except RuntimeError as error:
            raise ValueError(
                f"weights={str(weights)!r} is not a state dict of {backbone}: {error}"
            ) from None
    return model, n_features


def preprocessing_of(enum) -> dict:
    """Mean, std, resize and crop sizes and interpolation of ``enum.transforms()``."""
    transforms = enum.transforms()
    return {
        "mean": tuple(transforms.mean),
        "std": tuple(transforms.std),
        "resize_size": int(transforms.resize_size[0]),
        "crop_size": int(transforms.crop_size[0]),
        "interpolation": transforms.interpolation.value,
    }
