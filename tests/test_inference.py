"""Batch-invariant inference: a row's prediction does not depend on the rest of the call.

On the CPU the network runs in float64, where a row's outputs computed in another batch,
order or kernel agree to ~1e-15; the assertions use 1e-12, far above that rounding and far
below anything a float32 forward could reach (it differs by ~1e-7).
"""

import pickle

import numpy as np
import pytest
import torch

from sknets import CNNClassifier, MLPClassifier, RNNClassifier
from sknets._inference import BatchInvariantInference

# float64 rounding of a forward pass is ~1e-16 per operation; 1e-12 leaves room for deep
# nets on any CPU while a float32 forward (~1e-7 apart between batchings) would fail it.
FLOAT64_AGREEMENT = 1e-12

ESTIMATORS = {
    "mlp": (MLPClassifier, {"hidden_layer_sizes": (100, 50)}, (20,)),
    "cnn": (CNNClassifier, {"channels": (8, 16)}, (1, 8, 8)),
    "lstm": (RNNClassifier, {"hidden_size": 32}, (12, 3)),
    "gru": (RNNClassifier, {"cell": "gru", "bidirectional": True}, (12, 3)),
}


def fitted(name, n_rows=300):
    estimator, params, shape = ESTIMATORS[name]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_rows, *shape)).astype(np.float32)
    y = (X.reshape(n_rows, -1)[:, :3].sum(axis=1) > 0).astype(int) + (X.flat[0] > 5)
    model = estimator(**params, max_epochs=3, device="cpu", random_state=0).fit(X, y)
    return model, X


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_a_row_predicts_the_same_alone_in_subsets_and_shuffled(name):
    model, X = fitted(name, n_rows=1200)  # > 2 inference chunks of 512 rows
    full = model.predict_proba(X)
    alone = np.vstack([model.predict_proba(X[i : i + 1]) for i in range(0, len(X), 97)])
    np.testing.assert_allclose(alone, full[::97], rtol=0, atol=FLOAT64_AGREEMENT)
    order = np.random.default_rng(1).permutation(len(X))
    np.testing.assert_allclose(model.predict_proba(X[order]), full[order], atol=FLOAT64_AGREEMENT)
    for start, stop in [(0, 7), (500, 530), (1000, 1200)]:
        np.testing.assert_allclose(
            model.predict_proba(X[start:stop]), full[start:stop], atol=FLOAT64_AGREEMENT
        )
    np.testing.assert_array_equal(model.predict(X[order]), model.predict(X)[order])


def test_ragged_sequences_predict_the_same_alone_and_together():
    rng = np.random.default_rng(0)
    sequences = [rng.normal(size=(int(n), 2)) for n in rng.integers(1, 15, 80)]
    y = np.array([int(s[:, 0].sum() > 0) for s in sequences])
    model = RNNClassifier(hidden_size=16, max_epochs=2, device="cpu", random_state=0)
    model.fit(sequences, y)
    together = model.predict_proba(sequences)
    alone = np.vstack([model.predict_proba([s]) for s in sequences[:20]])
    np.testing.assert_allclose(alone, together[:20], atol=FLOAT64_AGREEMENT)


def test_inference_runs_in_float64_while_training_stays_float32():
    model, X = fitted("mlp")
    assert next(model.module_.parameters()).dtype == torch.float32
    seen = []
    copy = model._inference.float64_module(model.module_)
    handle = copy.layers[0].register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    model.predict_proba(X[:3])
    handle.remove()
    assert seen == [torch.float64]
    # Close to the float32 forward the model was trained with (float32 rounding, ~1e-6).
    with torch.no_grad():
        float32 = torch.softmax(model.module_.eval()(torch.from_numpy(X)), 1).numpy()
    np.testing.assert_allclose(model.predict_proba(X), float32, atol=1e-5)


def test_the_float64_copy_follows_every_weight_update():
    model, X = fitted("mlp")
    before = model.predict_proba(X)
    model.partial_fit(X, (X[:, 0] > 0).astype(int))  # optimizer steps update in place
    after_partial_fit = model.predict_proba(X)
    assert not np.allclose(before, after_partial_fit)
    with torch.no_grad():
        model.module_.layers[-1].bias.add_(torch.tensor([5.0, -5.0]))
    assert (model.predict(X) == model.classes_[0]).all()
    model.module_.load_state_dict(pickle.loads(pickle.dumps(model.module_.state_dict())))
    assert (model.predict(X) == model.classes_[0]).all()


def test_pickle_leaves_out_the_float64_copy():
    model, X = fitted("mlp")
    expected = model.predict_proba(X)
    assert model._inference._float64_module is not None
    restored = pickle.loads(pickle.dumps(model))
    assert restored._inference._float64_module is None
    assert model._inference._float64_module is not None  # the original keeps its copy
    np.testing.assert_array_equal(restored.predict_proba(X), expected)


def test_chunks_hold_fewer_rows_of_large_samples_but_never_fewer_than_batch_size():
    inference = BatchInvariantInference(torch.device("cpu"), batch_size=32, mixed_precision=False)
    assert inference.chunk_rows(torch.zeros(10, 784)) == 512  # 6 KB per float64 row
    # 3x224x224 photos: 1.2 MB per float64 row, 3 fit in 4 MiB; the batch size wins.
    assert inference.chunk_rows(torch.zeros(2, 3, 224, 224)) == 32
    rows = {"x": torch.zeros(4, 1000, 10), "lengths": torch.ones(4, dtype=torch.long)}
    assert inference.chunk_rows(rows) == 52  # 4 MiB / (8 * 10 001 values per row)


def test_accelerator_path_uses_fixed_shape_chunks():
    """Device logic of the non-CPU path, run on the CPU: every forward sees chunk_rows rows."""
    torch.manual_seed(0)
    module = torch.nn.Linear(3, 2)
    shapes = []
    module.register_forward_hook(lambda m, i, o: shapes.append(tuple(i[0].shape)))
    inference = BatchInvariantInference(torch.device("cpu"), batch_size=4, mixed_precision=False)
    inputs = torch.randn(10, 3)
    outputs = inference._fixed_shape_outputs(module, inputs, 10, chunk_rows=4)
    assert shapes == [(4, 3)] * 3  # 10 rows: two full chunks and one padded to 4
    assert outputs.dtype == torch.float64 and outputs.shape == (10, 2)
    with torch.no_grad():
        torch.testing.assert_close(outputs, module(inputs).double())
    lengths = {"x": torch.randn(5, 6, 3), "lengths": torch.tensor([6, 1, 2, 3, 4])}
    rows = []
    recurrent = torch.nn.Module()
    recurrent.forward = lambda x, lengths: rows.append(lengths.clone()) or x[:, 0, :2]
    inference._fixed_shape_outputs(recurrent, lengths, 5, chunk_rows=4)
    # The padded chunk repeats the last row, so its lengths stay valid.
    torch.testing.assert_close(rows[1], torch.tensor([4, 4, 4, 4]))
