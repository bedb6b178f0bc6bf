"""Pretrained torchvision backbones: the preprocessing layer, the fine-tuning module and the
feature transformer.

Nothing here downloads: every test runs with an empty torch cache in a temporary
``TORCH_HOME`` and a ``torch.hub.download_url_to_file`` that fails as it would offline; the
weights files the tests use are state dicts of randomly initialised torchvision models they
save themselves. Images are small (32 pixels) to keep the file fast on two CPU cores.
"""

import importlib.metadata
import pickle
import re
import subprocess
import sys
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils import estimator_checks

from sknets.modules import ImagePreprocessing, NewHead, PretrainedBackbone
from sknets.modules._torchvision import cached_weights_path, import_torchvision
from sknets.modules.preprocessing import channel_axis
from sknets.modules.pretrained import preprocessing_for
from sknets.pretrained import PretrainedFeatures

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

# Not skipped when missing: the dev extra installs torchvision, so that CI runs this file.
torchvision = import_torchvision()

REPO = Path(__file__).resolve().parents[1]

#: Small sizes for every test: the backbones' usual 224 pixels would take seconds a call.
SMALL = {"resize_size": 32, "crop_size": 32}


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """An empty torch cache and no network: a download attempt fails, and is recorded."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    attempts = []

    def no_network(url, dst, *args, **kwargs):
        attempts.append(url)
        raise urllib.error.URLError("tests never download")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    return attempts


def images(n=6, size=32, seed=0, channels_last=False):
    """Random uint8 RGB images ``(n, 3, size, size)`` (or channels last)."""
    shape = (n, size, size, 3) if channels_last else (n, 3, size, size)
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def save_random_state_dict(path: Path, backbone="resnet18", seed=0, **kwargs) -> Path:
    """Save the state dict of a randomly initialised torchvision ``backbone`` at ``path``."""
    torch.manual_seed(seed)
    torch.save(torchvision.models.get_model(backbone, **kwargs).state_dict(), path)
    return path


@pytest.fixture
def resnet18_file(tmp_path):
    return save_random_state_dict(tmp_path / "resnet18.pt")


# --------------------------------------------------------------------- the preprocessing
@pytest.mark.parametrize(("height", "width"), [(40, 52), (64, 48), (32, 32)])
def test_preprocessing_matches_torchvision_transforms_on_float_images(height, width):
    weights = torchvision.models.ResNet18_Weights.IMAGENET1K_V1
    reference = weights.transforms(resize_size=32, crop_size=28)  # the weights' preset
    ours = preprocessing_for("resnet18", "IMAGENET1K_V1", resize_size=32, crop_size=28)
    batch = torch.rand(3, 3, height, width)
    torch.testing.assert_close(ours(batch), reference(batch), rtol=0, atol=1e-6)


def test_preprocessing_of_uint8_differs_from_torchvision_by_its_rounding_only():
    # torchvision resizes uint8 tensors in uint8 (rounding each pixel to a grey level);
    # ours resizes the float pixels: they differ by at most half a grey level over std.
    weights = torchvision.models.ResNet18_Weights.IMAGENET1K_V1
    batch = torch.from_numpy(images(3, size=48))
    ours = preprocessing_for("resnet18", weights="IMAGENET1K_V1", resize_size=32, crop_size=28)
    reference = weights.transforms(resize_size=32, crop_size=28)(batch)
    half_level = 0.5 / 255 / min(weights.transforms().std)
    assert (ours(batch) - reference).abs().max() <= half_level * 1.001


def test_preprocessing_follows_each_weights_own_transforms():
    efficientnet = preprocessing_for("efficientnet_b0", "DEFAULT")
    assert (efficientnet.resize_size, efficientnet.crop_size) == (256, 224)
    assert efficientnet.interpolation == "bicubic"
    resnet_v2 = preprocessing_for("resnet50", "IMAGENET1K_V2")
    assert (resnet_v2.resize_size, resnet_v2.crop_size) == (232, 224)
    # A file or random weights follow "DEFAULT", unless preprocessing names other weights.
    assert preprocessing_for("resnet50", "model.pt").resize_size == 232
    assert preprocessing_for("resnet50", None, preprocessing="IMAGENET1K_V1").resize_size == 256
    torch.testing.assert_close(efficientnet.std.flatten(), torch.tensor([0.229, 0.224, 0.225]))


def test_uint8_channels_last_and_grayscale_give_what_float_channels_first_gives():
    preprocess = ImagePreprocessing(resize_size=24, crop_size=20)
    pixels = images(4, size=30, channels_last=True)
    floats = torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 255
    assert torch.equal(preprocess(torch.from_numpy(pixels)), preprocess(floats))
    gray = torch.from_numpy(pixels[..., 0])
    expected = preprocess(gray[:, None].expand(-1, 3, -1, -1).contiguous())
    assert torch.equal(preprocess(gray), expected)  # (n, H, W)
    assert torch.equal(preprocess(gray[:, None]), expected)  # (n, 1, H, W)
    assert torch.equal(preprocess(gray[..., None]), expected)  # (n, H, W, 1)
    assert preprocess(floats.double()).dtype == torch.float32  # the module's dtype decides


@pytest.mark.parametrize(
    ("shape", "channels_last", "message"),
    [
        ((2, 4, 8, 8), None, r"4 channels on the second axis and 8 on the last.*drop the alpha"),
        ((2, 8, 8, 5), True, r"5 channels on the last axis; .*1 \(grayscale\) or 3 \(RGB\)"),
        ((2, 8, 8, 3), False, r"8 channels on the second axis"),
        ((2, 64), None, r"images of shape \(2, 64\) are not a batch of images"),
    ],
)
def test_channel_axis_errors_name_the_shape(shape, channels_last, message):
    with pytest.raises(ValueError, match=message):
        channel_axis(shape, channels_last)


def test_channel_axis_is_inferred_channels_first_first():
    assert channel_axis((2, 3, 8, 8)) == 1
    assert channel_axis((2, 8, 8, 3)) == 3
    assert channel_axis((2, 3, 8, 3)) == 1
    assert channel_axis((2, 8, 8)) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"crop_size": 40, "resize_size": 32}, r"crop_size=40 is larger than resize_size=32"),
        ({"interpolation": "nearest"}, r"interpolation='nearest' is not valid; use 'bilinear'"),
        ({"resize_size": 0}, r"resize_size=0 is not valid; use a positive int"),
        ({"mean": (0.5,)}, r"need one value per RGB channel"),
    ],
)
def test_preprocessing_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ImagePreprocessing(**kwargs)


def test_preprocessing_reads_any_integer_dtype_as_pixels_and_rejects_booleans():
    # NeuralNetClassifier hands integer arrays to the network as int64.
    preprocess = ImagePreprocessing(**SMALL)
    pixels = torch.from_numpy(images(2))
    assert torch.equal(preprocess(pixels.long()), preprocess(pixels))
    with pytest.raises(ValueError, match=r"dtype torch.bool: use integer pixels"):
        preprocess(torch.zeros(1, 3, 32, 32, dtype=torch.bool))


# ------------------------------------------------------------------------ the module
FAMILIES = [
    # backbone, number of blocks, features, the first parameter of the last block
    pytest.param("resnet18", 4, 512, "layer4.0.conv1.weight", id="resnet"),
    pytest.param(
        "regnet_x_400mf", 4, 400, "trunk_output.block4.block4-0.proj.0.weight", id="regnet"
    ),
    pytest.param("vgg11", 5, 512, "features.16.weight", id="vgg"),
    pytest.param("mobilenet_v3_small", 13, 576, "features.12.0.weight", id="mobilenet_v3"),
    pytest.param("efficientnet_b0", 9, 1280, "features.8.0.weight", id="efficientnet"),
]


@pytest.mark.parametrize(("backbone", "n_blocks", "num_features", "last_block_first"), FAMILIES)
def test_each_family_outputs_logits_and_trains_the_head_and_its_last_block(
    backbone, n_blocks, num_features, last_block_first
):
    model = PretrainedBackbone(3, backbone, weights=None, trainable=1, **SMALL)
    assert (len(model.blocks()), model.num_features) == (n_blocks, num_features)
    logits = model(torch.from_numpy(images(4)))
    assert logits.shape == (4, 3) and torch.isfinite(logits).all()
    torch.nn.functional.cross_entropy(logits, torch.arange(4) % 3).backward()
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    last_block = {f"backbone.{name}" for name, _ in _named_parameters(model, model.blocks()[-1])}
    head = {name for name, _ in model.named_parameters() if name.startswith("head.")}
    assert f"backbone.{last_block_first}" in last_block
    assert trainable == last_block | head
    for name, parameter in model.named_parameters():
        assert (parameter.grad is not None) == (name in trainable), name


def _named_parameters(model, block):
    ids = {id(p) for p in block.parameters()}
    return [(name, p) for name, p in model.backbone.named_parameters() if id(p) in ids]


def _train_a_few_steps(model, n_steps=3):
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.01)
    model.train()
    for step in range(n_steps):
        batch = torch.from_numpy(images(8, seed=step))
        loss = torch.nn.functional.cross_entropy(model(batch), torch.arange(8) % 2)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


@pytest.mark.parametrize(
    ("backbone", "trainable", "changed_prefixes"),
    [
        ("resnet18", 1, ("backbone.layer4.", "head.")),
        ("resnet18", "head", ("head.",)),
        ("resnet18", "all", ("backbone.", "head.")),
        ("efficientnet_b0", 2, ("backbone.features.7.", "backbone.features.8.", "head.")),
    ],
)
def test_frozen_parameters_and_batch_norm_statistics_stay_bit_identical(
    backbone, trainable, changed_prefixes
):
    model = PretrainedBackbone(2, backbone, weights=None, trainable=trainable, **SMALL)
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    _train_a_few_steps(model)
    for name, tensor in model.state_dict().items():
        changed = not torch.equal(tensor, before[name])
        trained = name.startswith(changed_prefixes)
        # Every trained tensor moves (BN statistics too); every frozen one stays exactly.
        assert changed == trained, name


def test_it_plugs_into_neural_net_classifier_and_frozen_blocks_stay_as_loaded(resnet18_file):
    from sknets import NeuralNetClassifier

    X, y = images(24), np.array(["cat", "dog", "owl"] * 8)
    clf = NeuralNetClassifier(
        PretrainedBackbone,
        module__backbone="resnet18",
        module__weights=resnet18_file,
        module__trainable=1,
        module__resize_size=32,
        module__crop_size=32,
        max_epochs=2,
        n_iter_no_change=np.inf,  # two epochs, without a ConvergenceWarning
        batch_size=8,
        random_state=0,
        device="cpu",
    ).fit(X, y)
    saved = torch.load(resnet18_file, weights_only=True)
    for name, tensor in clf.module_.backbone.state_dict().items():
        assert torch.equal(tensor, saved[name]) != name.startswith("layer4."), name
    assert set(clf.predict(X)) <= {"cat", "dog", "owl"}
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1)


def test_train_mode_keeps_frozen_blocks_in_eval_mode():
    # EfficientNet's blocks hold stochastic depth and batch norms: frozen, both must be off.
    model = PretrainedBackbone(2, "efficientnet_b0", weights=None, trainable=1, **SMALL).train()
    *frozen, last = model.blocks()
    assert all(not m.training for block in frozen for m in block.modules())
    assert all(m.training for m in last.modules()) and model.head.training
    assert not any(m.training for m in model.eval().modules())


def test_module_without_head_returns_the_features_and_rejects_head_settings():
    model = PretrainedBackbone(None, "mobilenet_v3_small", weights=None, **SMALL)
    assert model(torch.from_numpy(images(2))).shape == (2, 576)
    with pytest.raises(ValueError, match=r"hidden_layer_sizes=\(8,\) .* n_outputs=None"):
        PretrainedBackbone(None, "resnet18", weights=None, hidden_layer_sizes=(8,))


def test_it_follows_the_sknets_network_convention_so_new_head_takes_it():
    model = PretrainedBackbone(3, "resnet18", weights=None, trainable="all", **SMALL).eval()
    batch = torch.from_numpy(images(2))
    features = model.forward_features(batch)
    assert features.shape == (2, model.num_features)
    assert torch.equal(model.without_head()(batch), features)
    transferred = NewHead(model, n_outputs=4).eval()  # a fine-tuned model, to a new task
    assert torch.equal(transferred.backbone.forward_features(batch), features)
    assert transferred(batch).shape == (2, 4)


def test_hidden_layers_and_dropout_build_the_keras_head():
    model = PretrainedBackbone(
        1, "resnet18", weights=None, hidden_layer_sizes=(256,), dropout=0.5, **SMALL
    )
    layers = [type(layer).__name__ for layer in model.head.layers]
    assert layers == ["Linear", "ReLU", "Dropout", "Linear"]
    tanh = PretrainedBackbone(
        1, "resnet18", weights=None, hidden_layer_sizes=(8,), activation="tanh"
    )
    assert isinstance(tanh.head.layers[1], torch.nn.Tanh)
    assert model.head.layers[0].in_features == 512


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"trainable": 5}, ValueError, r"trainable=5 but resnet18 has 4 blocks; use 'head', "),
        ({"trainable": "some"}, ValueError, r"trainable='some' is not valid; use 'head'"),
        ({"trainable": True}, ValueError, r"trainable=True is not valid"),
        ({"trainable": -1}, ValueError, r"trainable=-1 is not valid"),
        (
            {"backbone": "resnet19"},
            ValueError,
            r"backbone='resnet19' is not a supported .*resnet18",
        ),
        ({"backbone": "vit_b_16"}, ValueError, r"backbone='vit_b_16' is not a supported"),
        (
            {"weights": "IMAGENET1K_V9"},
            ValueError,
            r"weights='IMAGENET1K_V9' is not a weights name of resnet18; use one of "
            r"'IMAGENET1K_V1', 'DEFAULT' \(also as ResNet18_Weights.<name>\), a path",
        ),
        (
            {"weights": "ResNet50_Weights.IMAGENET1K_V2"},
            ValueError,
            r"weights='ResNet50_Weights.IMAGENET1K_V2' is not a weights name of resnet18",
        ),
        (
            {"weights": None, "preprocessing": "V1"},
            ValueError,
            r"preprocessing='V1' is not a weights name of resnet18; .* or None",
        ),
        ({"weights": "missing/model.pt"}, FileNotFoundError, r"'missing/model.pt': no such file"),
    ],
)
def test_module_errors_name_the_parameter_and_what_is_allowed(kwargs, error, message):
    with pytest.raises(error, match=message):
        PretrainedBackbone(2, **{"backbone": "resnet18", "weights": None, **kwargs})


# ---------------------------------------------------------------------------- weights
def test_a_saved_state_dict_reloads_to_the_same_backbone_and_features(resnet18_file, tmp_path):
    saved = torch.load(resnet18_file, weights_only=True)
    model = PretrainedBackbone(None, "resnet18", weights=resnet18_file, **SMALL)
    for name, tensor in model.backbone.state_dict().items():
        assert torch.equal(tensor, saved[name]), name
    # The same file as a str, and a fine-tuned model's file with another head size.
    fine_tuned = tmp_path / "fine_tuned.pth"
    torch.save({**saved, "fc.weight": torch.zeros(5, 512), "fc.bias": torch.zeros(5)}, fine_tuned)
    X = images(5)
    first = PretrainedFeatures(weights=resnet18_file, **SMALL).fit_transform(X)
    again = PretrainedFeatures(weights=str(resnet18_file), **SMALL).fit_transform(X)
    other_head = PretrainedFeatures(weights=fine_tuned, **SMALL).fit_transform(X)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, other_head)


def test_named_weights_are_read_from_the_torch_cache_without_a_download(offline, resnet18_file):
    enum = torchvision.models.ResNet18_Weights.IMAGENET1K_V1
    cached = cached_weights_path(enum)
    assert cached.name == "resnet18-f37072fd.pth" and cached.parent == Path(
        torch.hub.get_dir(), "checkpoints"
    )
    cached.parent.mkdir(parents=True)
    cached.write_bytes(resnet18_file.read_bytes())
    X = images(4)
    expected = PretrainedFeatures(weights=resnet18_file, **SMALL).fit_transform(X)
    for name in ("DEFAULT", "IMAGENET1K_V1", "ResNet18_Weights.IMAGENET1K_V1"):
        features = PretrainedFeatures(weights=name, **SMALL).fit_transform(X)
        np.testing.assert_array_equal(features, expected)
    assert offline == []


def test_offline_named_weights_raise_an_error_saying_where_to_put_the_file(offline):
    expected_path = Path(torch.hub.get_dir(), "checkpoints", "mobilenet_v3_small-047dcff4.pth")
    with pytest.raises(FileNotFoundError) as raised:
        PretrainedFeatures("mobilenet_v3_small").fit()
    message = str(raised.value)
    assert "MobileNet_V3_Small_Weights.IMAGENET1K_V1 are not in the torch cache" in message
    assert f"place it at {expected_path}" in message
    assert "tests never download" in message and "pass weights=<path to the file>" in message
    assert offline == [torchvision.models.MobileNet_V3_Small_Weights.IMAGENET1K_V1.url]


def test_a_file_that_is_not_a_state_dict_of_the_backbone_is_refused(tmp_path):
    mobilenet = save_random_state_dict(tmp_path / "mobilenet.pt", "mobilenet_v3_small")
    with pytest.raises(ValueError, match=r"mobilenet.pt' is not a state dict of resnet18: "):
        PretrainedBackbone(2, "resnet18", weights=mobilenet)
    torch.save([torch.zeros(1)], tmp_path / "list.pt")
    with pytest.raises(ValueError, match=r"list.pt' holds a list, not a state dict; save one"):
        PretrainedBackbone(2, "resnet18", weights=tmp_path / "list.pt")


def test_without_torchvision_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)  # `import torchvision` fails
    with pytest.raises(ImportError, match=r'pip install "sknets\[pretrained\]"'):
        PretrainedFeatures(weights=None).fit()


def test_importing_sknets_does_not_import_torchvision():
    code = (
        "import sys, sknets, sknets.modules, sknets.pretrained; "
        "assert 'torchvision' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------- the transformer
def test_transformer_in_a_pipeline_with_logistic_regression():
    # Dark and bright noisy images: even a random ResNet's features separate them (a random
    # MobileNet's or EfficientNet's are ~1e-8 and smaller: their initialisation shrinks).
    rng = np.random.default_rng(0)
    y = np.arange(40) % 2
    X = np.clip(rng.normal(0.3 + 0.4 * y[:, None, None, None], 0.1, (40, 32, 32, 3)), 0, 1)
    model = make_pipeline(
        PretrainedFeatures("resnet18", weights=None, **SMALL), LogisticRegression(max_iter=1000)
    )
    model.fit(X[:30], y[:30])
    assert model.score(X[30:], y[30:]) == 1.0
    features = model[0].transform(X[:3])
    assert features.shape == (3, 512) and features.dtype == np.float32
    names = model[0].get_feature_names_out()
    assert len(names) == 512 and names[0] == "pretrainedfeatures0"


@pytest.mark.parametrize("backbone", ["resnet18", "efficientnet_b0"])
def test_features_of_a_row_do_not_depend_on_the_other_rows(backbone):
    # Batch norms are in eval mode, so a row's features are a function of that row alone;
    # only float32 rounding may differ with the batch's shape (other kernel blocking).
    # Measured on this project's machine at 32 and 224 pixels, one image alone or in
    # batches of 3, 5, 17 or 64: at most 1.2e-6 of the largest feature (0 for ResNet-18 at
    # 224). Relative to each value it can be 1e-4, for values near 0 (sums that cancel), so
    # the bound is on the scale of the features, with ~8x margin for other CPUs' kernels.
    X = images(17, seed=3)
    features = PretrainedFeatures(backbone, weights=None, batch_size=17, **SMALL).fit(X)
    together = features.transform(X)
    alone = np.concatenate([features.transform(X[i : i + 1]) for i in range(len(X))])
    reversed_order = features.set_params(batch_size=5).transform(X[::-1])[::-1]
    tolerance = 1e-5 * np.abs(together).max()
    assert np.abs(alone - together).max() <= tolerance
    assert np.abs(reversed_order - together).max() <= tolerance


def test_uint8_and_float_and_layouts_give_the_same_features():
    transformer = PretrainedFeatures(weights=None, **SMALL).fit()
    pixels = images(3, channels_last=True)
    expected = transformer.transform(pixels)
    floats = np.moveaxis(pixels, -1, 1).astype(np.float32) / 255
    np.testing.assert_array_equal(transformer.transform(floats), expected)
    gray = pixels[..., :1].repeat(3, axis=-1)
    np.testing.assert_array_equal(
        transformer.transform(pixels[..., 0]), transformer.transform(gray)
    )


@pytest.mark.parametrize("num_workers", [0, 2])
def test_features_of_an_image_folder_are_read_a_batch_at_a_time(tmp_path, num_workers):
    """The Keras VGG16 route on photos larger than memory: a lazy folder, batch by batch."""
    from PIL import Image

    from sknets.datasets import load_image_folder

    pixels = images(7, channels_last=True)
    for index, values in enumerate(pixels):
        (tmp_path / f"class{index % 2}").mkdir(exist_ok=True)
        Image.fromarray(values).save(tmp_path / f"class{index % 2}" / f"{index}.png")
    files, _ = load_image_folder(tmp_path, (32, 32), lazy=True, num_workers=num_workers)
    transformer = PretrainedFeatures(weights=None, batch_size=3, **SMALL).fit(files)
    gathered = []
    gather = type(files).gather

    def recording_gather(self, indices):
        gathered.append(len(indices))
        return gather(self, indices)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(files), "gather", recording_gather)
        features = transformer.transform(files)
    np.testing.assert_array_equal(features, transformer.transform(np.asarray(files)))
    if num_workers == 0:  # a worker's calls happen in its own process
        assert gathered == [3, 3, 1]


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.full((2, 3, 8, 8), 255.0), r"X holds float pixels from 255 to 255; images must"),
        (np.full((2, 3, 8, 8), 300), r"X holds integer pixels from 300 to 300; images must"),
        (np.full((2, 3, 8, 8), np.nan), r"X contains NaN or infinite values"),
        (np.zeros((2, 3, 8, 8), dtype=complex), r"X has dtype complex128; pass uint8 pixels"),
        (np.zeros((2, 8, 8, 4), dtype=np.uint8), r"drop the alpha channel"),
        (np.zeros((0, 3, 8, 8), dtype=np.uint8), r"holds no images"),
        (np.zeros((2, 192)), r"are not a batch of images"),
    ],
)
def test_transformer_input_errors(X, message):
    with pytest.raises(ValueError, match=message):
        PretrainedFeatures(weights=None, **SMALL).fit(X)


def test_every_transformer_parameter_reaches_the_module():
    fitted = PretrainedFeatures(
        "resnet50", weights=None, preprocessing="IMAGENET1K_V1", channels_last=True, device="cpu"
    ).fit()
    preprocessing = fitted.module_.preprocessing
    assert fitted.module_.backbone_name == "resnet50" and fitted.device_ == torch.device("cpu")
    assert (preprocessing.resize_size, preprocessing.crop_size) == (256, 224)  # V1's, not V2's
    assert preprocessing.channels_last is True
    assert (
        PretrainedFeatures("resnet50", weights=None).fit().module_.preprocessing.resize_size == 232
    )
    small = PretrainedFeatures(weights=None, resize_size=40, crop_size=36, batch_size=2).fit()
    assert (small.module_.preprocessing.resize_size, small.module_.preprocessing.crop_size) == (
        40,
        36,
    )
    batch_sizes = []
    small.module_.register_forward_hook(lambda module, args, out: batch_sizes.append(len(out)))
    small.transform(images(5))
    assert batch_sizes == [2, 2, 1]


def test_forced_channels_last_reads_the_last_axis_even_when_the_second_has_3_entries():
    pixels = torch.from_numpy(images(2, size=3, channels_last=True))  # (2, 3, 3, 3)
    forced = ImagePreprocessing(resize_size=3, crop_size=3, channels_last=True)
    inferred = ImagePreprocessing(resize_size=3, crop_size=3)
    assert torch.equal(forced(pixels), inferred(pixels.permute(0, 3, 1, 2)))
    assert not torch.equal(forced(pixels), inferred(pixels))


def test_transformer_is_cloneable_picklable_and_needs_fit():
    transformer = PretrainedFeatures("mobilenet_v3_small", weights=None, batch_size=4, **SMALL)
    with pytest.raises(NotFittedError):
        transformer.transform(images(2))
    assert clone(transformer).get_params() == transformer.get_params()
    X = images(5)
    expected = transformer.fit_transform(X)
    restored = pickle.loads(pickle.dumps(transformer))
    np.testing.assert_array_equal(restored.transform(X), expected)
    assert not hasattr(clone(transformer), "module_")
    tags = transformer.__sklearn_tags__()
    assert tags.requires_fit and not tags.non_deterministic
    assert not tags.input_tags.two_d_array and tags.input_tags.three_d_array


@pytest.mark.parametrize(
    "check",
    [
        estimator_checks.check_no_attributes_set_in_init,
        estimator_checks.check_parameters_default_constructible,
        estimator_checks.check_get_params_invariance,
        estimator_checks.check_set_params,
        estimator_checks.check_estimator_repr,
        estimator_checks.check_estimator_cloneable,
        estimator_checks.check_do_not_raise_errors_in_init_or_set_params,
        estimator_checks.check_param_validation,
    ],
    ids=lambda check: check.__name__,
)
def test_sklearn_checks_that_apply_to_a_transformer_of_images(check):
    # sklearn runs no check on estimators without 2-D input (as its PatchExtractor); these
    # need no data.
    check("PretrainedFeatures", PretrainedFeatures(weights=None, **SMALL))


def test_invalid_device_is_the_engines_error():
    with pytest.raises(ValueError, match=r"device='tpu' is not a torch device"):
        PretrainedFeatures(weights=None, device="tpu").fit()


def test_torchvision_pin_is_the_release_built_for_the_makefiles_torch():
    # torchvision requires one exact torch: any other pin would make pip swap the CPU torch
    # the Makefile installs first for another build.
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    extras = pyproject["project"]["optional-dependencies"]
    [pin] = extras["pretrained"]
    assert pin in extras["dev"]
    assert importlib.metadata.version("torchvision").split("+")[0] == pin.split("==")[1]
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    torch_pin = re.search(r"TORCH_CPU := torch==([\d.]+)", makefile).group(1)
    requires = importlib.metadata.requires("torchvision")
    assert any(re.fullmatch(rf"torch ?\(?=={re.escape(torch_pin)}\)?", r) for r in requires)
