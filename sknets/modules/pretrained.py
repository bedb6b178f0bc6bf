"""Pretrained torchvision backbones as plain :class:`torch.nn.Module` s, for transfer learning.

:class:`PretrainedBackbone` puts :class:`ImagePreprocessing` (images as arrays hold them to
what a torchvision classifier expects) in front of a torchvision backbone without its
classification head, and a new head on top, with the backbone frozen in whole or in part.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence

import torch
from torch import nn

from ._torchvision import (
    build_backbone,
    family_of,
    is_state_dict_path,
    preprocessing_of,
    weights_enum,
)
from .mlp import MLP
from .preprocessing import ImagePreprocessing, is_int

#: Values of ``trainable`` besides an int; see :class:`PretrainedBackbone`.
TRAINABLE = ("head", "all")


def preprocessing_for(
    backbone: str,
    weights,
    preprocessing: str | None = None,
    resize_size: int | None = None,
    crop_size: int | None = None,
    channels_last: bool | None = None,
) -> ImagePreprocessing:
    """The :class:`ImagePreprocessing` of ``backbone`` with ``weights``.

    The torchvision weights' own ``transforms()`` give mean, std, sizes and interpolation:
    those named by ``preprocessing`` if given, else those of ``weights`` if it is a
    torchvision name, else (a state-dict file or None) the backbone's ``"DEFAULT"`` weights:
    ImageNet's mean and std and the model's usual size. ``resize_size`` and ``crop_size``
    override the sizes.
    """
    if preprocessing is not None:
        enum = weights_enum(backbone, preprocessing, parameter="preprocessing")
    elif weights is None or is_state_dict_path(weights):
        enum = weights_enum(backbone, "DEFAULT")
    else:
        enum = weights_enum(backbone, weights)
    settings = preprocessing_of(enum)
    if resize_size is not None:
        settings["resize_size"] = resize_size
    if crop_size is not None:
        settings["crop_size"] = crop_size
    return ImagePreprocessing(**settings, channels_last=channels_last)


def _check_trainable(trainable) -> None:
    if not (is_int(trainable) and trainable >= 0) and trainable not in TRAINABLE:
        raise ValueError(
            f"trainable={trainable!r} is not valid; use 'head' (the backbone frozen), 'all' "
            "(nothing frozen) or an int >= 0 (that many of its last blocks trained)"
        )


def _frozen_parts_to_eval(module: nn.Module) -> None:
    """Put every submodule whose parameters are all frozen in eval mode.

    Frozen batch norms then normalise with their running statistics and leave them
    unchanged, and dropout or stochastic depth inside a frozen block is off: a frozen part
    computes the same function in training as in inference.
    """
    for child in module.children():
        parameters = list(child.parameters())
        if parameters and not any(parameter.requires_grad for parameter in parameters):
            child.eval()
        else:
            _frozen_parts_to_eval(child)


class PretrainedBackbone(nn.Module):
    """A pretrained torchvision backbone with a new head: transfer learning in one module.

    ``preprocessing -> backbone -> head``: :class:`ImagePreprocessing` following the
    weights' own ``transforms()``, the torchvision classifier ``backbone`` without its
    classification head (its pooled features, ``num_features`` of them), then
    :class:`~sknets.modules.MLP` ``(num_features -> hidden_layer_sizes -> n_outputs)``
    logits.

    **Blocks.** ``trainable`` counts the backbone's blocks from the output back; see
    :meth:`blocks`:

    - ResNet, ResNeXt, Wide ResNet (``resnet*``, ``resnext*``, ``wide_resnet*``): ``layer1``
      to ``layer4``; the stem (``conv1``, ``bn1``) trains only with ``trainable="all"``.
    - RegNet (``regnet_*``): the four stages of ``trunk_output``; the stem likewise.
    - VGG (``vgg*``): Keras' ``block1`` to ``block5``, the convolutions up to and including
      each max-pooling. The features are their global average (``include_top=False,
      pooling="avg"`` in Keras): the three dense layers of VGG's classifier are its head.
    - MobileNet V2 and V3, EfficientNet V1 and V2 (``mobilenet_v2``, ``mobilenet_v3_*``,
      ``efficientnet_*``): the children of ``features``: the stem convolution, each
      inverted-residual block or stage, the final 1x1 convolution.

    **Frozen means unchanged.** Frozen parameters have ``requires_grad=False``, and
    :meth:`train` keeps every fully frozen part in eval mode: its batch norms normalise with
    their running statistics and do not update them, its dropout is off. After any training
    a frozen part is bit for bit what was loaded.

    Parameters
    ----------
    n_outputs : int or None
        Number of output units (logits). None puts no head on the backbone: the module
        returns the ``(n, num_features)`` features.
    backbone : str, default="resnet18"
        torchvision model name, as ``torchvision.models.get_model`` takes it, of a
        family above (``"resnet18"``, ``"vgg16"``, ``"mobilenet_v3_small"``,
        ``"efficientnet_b0"``, ...).
    weights : str, path-like or None, default="DEFAULT"
        torchvision weights of ``backbone``: ``"DEFAULT"`` (the best ones), a member name
        such as ``"IMAGENET1K_V1"``, or the full name ``"ResNet18_Weights.IMAGENET1K_V1"``;
        downloaded once to the torch cache (``torch.hub.get_dir()``/checkpoints) and read
        from there after. Without a network the file must already be there (the error says
        where). Or a path to a file saved with ``torch.save(model.state_dict(), path)``
        from the torchvision model (its classification head, of any size, is ignored), read
        with ``torch.load(path, weights_only=True)``. Or None: torchvision's random
        initialisation (from torch's global random state).
    trainable : {"head", "all"} or int, default="head"
        What trains: ``"head"`` only the new head (the backbone frozen, as a fixed feature
        extractor), ``"all"`` everything, an int ``k`` the head and the last ``k`` blocks
        (0 is ``"head"``).
    hidden_layer_sizes : sequence of int, default=()
        Widths of the hidden layers of the head; empty for a linear head.
    activation : str, default="relu"
        Activation of the hidden layers of the head (see ``ACTIVATIONS``).
    dropout : float, default=0.0
        Dropout probability after each hidden layer of the head.
    preprocessing : str or None, default=None
        Name of the torchvision weights of ``backbone`` whose ``transforms()`` the images
        get (mean, std, sizes, interpolation). None: those of ``weights``, or for a file or
        None those of ``"DEFAULT"`` (ImageNet's mean and std, the model's usual size).
    resize_size, crop_size : int or None, default=None
        Override the sizes of the preprocessing (see :class:`ImagePreprocessing`), e.g.
        smaller ones for small images or fast tests.
    channels_last : bool or None, default=None
        Whether the images' channel axis is the last; None infers it per batch: axis 1 when
        it has 1 or 3 entries, else the last axis.

    Attributes
    ----------
    preprocessing : ImagePreprocessing
        The preprocessing layer.
    backbone : torch.nn.Module
        The torchvision model, its head replaced by :class:`torch.nn.Identity`.
    head : torch.nn.Module
        The new head (:class:`~sknets.modules.MLP`), or Identity when ``n_outputs`` is None.
    num_features : int
        Width of the backbone's features: 512 for ResNet-18 and VGG, 576 for MobileNetV3
        small, 1280 for EfficientNet-B0.

    Raises
    ------
    ImportError
        If torchvision is not installed (``pip install "sknets[pretrained]"``).
    ValueError
        If an argument is not valid; the message names it, its value and what is allowed.
    FileNotFoundError
        If named weights are neither in the torch cache nor downloadable, or a weights path
        does not exist.

    Examples
    --------
    >>> import torch
    >>> from sknets.modules import PretrainedBackbone
    >>> model = PretrainedBackbone(
    ...     5, "resnet18", weights=None, trainable=1, resize_size=64, crop_size=64
    ... )
    >>> model(torch.zeros(2, 48, 48, 3, dtype=torch.uint8)).shape
    torch.Size([2, 5])
    >>> model.num_features, len(model.blocks())
    (512, 4)
    >>> model.backbone.layer3[0].conv1.weight.requires_grad
    False
    """

    def __init__(
        self,
        n_outputs: int | None,
        backbone: str = "resnet18",
        weights: str | os.PathLike | None = "DEFAULT",
        *,
        trainable: str | int = "head",
        hidden_layer_sizes: Sequence[int] = (),
        activation: str = "relu",
        dropout: float = 0.0,
        preprocessing: str | None = None,
        resize_size: int | None = None,
        crop_size: int | None = None,
        channels_last: bool | None = None,
    ) -> None:
        super().__init__()
        _check_trainable(trainable)
        family_of(backbone)  # an unsupported name fails before anything is looked up
        if n_outputs is None and (hidden_layer_sizes or dropout):
            raise ValueError(
                f"hidden_layer_sizes={hidden_layer_sizes!r} and dropout={dropout!r} describe a "
                "head, but n_outputs=None puts none on the backbone; pass n_outputs"
            )
        self.backbone_name = backbone
        self.preprocessing = preprocessing_for(
            backbone, weights, preprocessing, resize_size, crop_size, channels_last
        )
        self.backbone, self.num_features = build_backbone(backbone, weights)
        if n_outputs is None:
            self.head = nn.Identity()
        else:
            self.head = MLP(self.num_features, n_outputs, hidden_layer_sizes, activation, dropout)
        self._freeze(trainable)

    def blocks(self) -> list[nn.Module]:
        """The backbone's blocks from the input to the output, as ``trainable`` counts them."""
        return family_of(self.backbone_name).blocks(self.backbone)

    def _freeze(self, trainable: str | int) -> None:
        if trainable == "all":
            return
        blocks = self.blocks()
        n_trained = 0 if trainable == "head" else int(trainable)
        if n_trained > len(blocks):
            raise ValueError(
                f"trainable={trainable!r} but {self.backbone_name} has {len(blocks)} blocks; "
                f"use 'head', 'all' or an int from 0 to {len(blocks)}"
            )
        self.backbone.requires_grad_(False)
        for block in blocks[len(blocks) - n_trained :]:
            block.requires_grad_(True)

    def train(self, mode: bool = True) -> PretrainedBackbone:
        """Set training mode, keeping the fully frozen parts of the network in eval mode."""
        super().train(mode)
        if mode:
            _frozen_parts_to_eval(self)
        return self

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Map a batch of images to ``(n, n_outputs)`` logits (``(n, num_features)`` without
        a head)."""
        return self.head(self.forward_features(images))

    def forward_features(self, images: torch.Tensor) -> torch.Tensor:
        """The backbone's pooled features of a batch of images, ``(n, num_features)``: what
        the head reads (the convention of every sknets network, see
        :class:`~sknets.modules.NewHead`)."""
        return self.backbone(self.preprocessing(images))

    def without_head(self) -> PretrainedBackbone:
        """A copy without its head: its ``forward`` returns :meth:`forward_features`."""
        trunk = copy.deepcopy(self)
        trunk.head = nn.Identity()
        return trunk
