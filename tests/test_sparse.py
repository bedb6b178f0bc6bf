"""Sparse input: MLPClassifier reads scipy sparse rows batch by batch; CNN and RNN refuse them.

A sparse batch is made dense on its way to the network, bit for bit the batch of
``X.toarray()``: the same tensors meet the same kernels, so fits on sparse and dense input
are asserted *equal*, not close.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse
import torch
from optuna.distributions import FloatDistribution
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline

from sknets import CNNClassifier, MLPClassifier, RNNClassifier
from sknets._data import (
    ArrayData,
    TensorBatches,
    _index,
    _map,
    _n_bytes,
    n_rows,
    values_per_row,
)
from sknets._rows import Rows, as_module_inputs
from sknets.tuning import OptunaSearchCV

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

CPU = torch.device("cpu")
FAST = {"hidden_layer_sizes": (8,), "max_epochs": 3, "batch_size": 32, "device": "cpu"}

CONTAINERS = [
    scipy.sparse.csr_matrix,
    scipy.sparse.csc_matrix,
    scipy.sparse.coo_matrix,
    scipy.sparse.csr_array,
    scipy.sparse.coo_array,
    scipy.sparse.lil_matrix,  # not a format MLPClassifier reads: sklearn converts it to CSR
]


def sparse_problem(n_samples=200, n_features=30, density=0.2, seed=0):
    """A CSR matrix with a learnable label: which of two column blocks holds more mass."""
    X = scipy.sparse.random(n_samples, n_features, density=density, format="csr", random_state=seed)
    half = n_features // 2
    y = np.asarray(X[:, :half].sum(axis=1) > X[:, half:].sum(axis=1)).ravel().astype(int)
    return X, y


def parameters(model) -> list[torch.Tensor]:
    return [parameter.detach().clone() for parameter in model.module_.parameters()]


def assert_same_weights(first, second):
    for a, b in zip(parameters(first), parameters(second), strict=True):
        assert torch.equal(a, b)


@pytest.fixture(scope="module")
def problem():
    return sparse_problem()


@pytest.fixture(scope="module")
def dense_model(problem):
    X, y = problem
    return MLPClassifier(**FAST, random_state=0).fit(X.toarray(), y)


# ------------------------------------------------------------------ sparse Rows
def test_sparse_rows_index_to_the_dense_rows_and_stay_sparse_in_a_subset():
    X, _ = sparse_problem(20, 6)
    rows = as_module_inputs(X.astype(np.float32), training=True)
    dense = torch.from_numpy(X.toarray().astype(np.float32))
    assert len(rows) == n_rows(rows) == 20 and values_per_row(rows) == 6
    assert torch.equal(_index(rows, slice(3, 9)), dense[3:9])
    order = torch.tensor([7, 0, 19, 7])
    assert torch.equal(_index(rows, order), dense[order])
    assert _n_bytes(rows) == X.data.nbytes // 2 + X.indices.nbytes + X.indptr.nbytes
    # _map is deferred to every dense batch: a dtype cast here, a device move in training.
    as_float64 = _map(rows, lambda tensor: tensor.to(torch.float64))
    assert isinstance(as_float64, Rows)
    assert _index(as_float64, order).dtype == torch.float64
    part = ArrayData(rows, torch.arange(20)).subset(np.array([2, 5, 11]))
    assert isinstance(part.inputs, Rows)
    assert torch.equal(part.inputs[:], dense[[2, 5, 11]])
    assert part.targets.tolist() == [2, 5, 11]


def test_sparse_batches_equal_the_dense_batches():
    X, y = sparse_problem(70, 9)
    targets = torch.from_numpy(y)
    sparse = ArrayData(as_module_inputs(X.astype(np.float32), training=True), targets)
    dense = ArrayData(torch.from_numpy(X.toarray().astype(np.float32)), targets)

    def batches(data):
        generator = torch.Generator().manual_seed(3)
        return list(TensorBatches(data, 16, shuffle=True, device=CPU, generator=generator))

    sparse_batches, dense_batches = batches(sparse), batches(dense)
    assert len(sparse_batches) == len(dense_batches) == 5
    for (sparse_inputs, sparse_targets), (dense_inputs, dense_targets) in zip(
        sparse_batches, dense_batches, strict=True
    ):
        assert sparse_inputs.layout == torch.strided  # a dense tensor reaches the module
        assert torch.equal(sparse_inputs, dense_inputs)
        assert torch.equal(sparse_targets, dense_targets)


# --------------------------------------------------------------- fit and predict
@pytest.mark.parametrize("container", CONTAINERS, ids=lambda container: container.__name__)
def test_each_sparse_format_fits_and_predicts_as_its_dense_array(container, problem, dense_model):
    X, y = problem
    model = MLPClassifier(**FAST, random_state=0).fit(container(X), y)
    # Bit-identical float32 batches in the same order: the same training, to the last bit.
    assert model.history_["train_loss"].tolist() == dense_model.history_["train_loss"].tolist()
    assert_same_weights(model, dense_model)
    proba = model.predict_proba(container(X))
    assert proba.shape == (200, 2)
    # Inference runs in float64 on dense chunks of either input; 1e-12 is float64 rounding.
    np.testing.assert_allclose(proba, model.predict_proba(X.toarray()), rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        model.predict_log_proba(container(X)), np.log(proba), rtol=0, atol=1e-12
    )
    assert np.array_equal(model.predict(container(X)), dense_model.predict(X.toarray()))


def test_sparse_prediction_is_batch_invariant_across_chunks():
    # 3 000 features: a float64 chunk holds 174 rows (4 MiB), so 500 rows take three chunks.
    X, y = sparse_problem(500, 3000, density=0.01)
    model = MLPClassifier(**FAST, random_state=0).fit(X, y)
    assert model._inference.chunk_rows(as_module_inputs(X, training=False)) == 174
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba, model.predict_proba(X.toarray()), rtol=0, atol=1e-12)
    for row in (0, 173, 174, 499):
        alone = model.predict_proba(X[row : row + 1])
        np.testing.assert_allclose(alone[0], proba[row], rtol=0, atol=1e-12)


def test_early_stopping_holds_out_sparse_rows(problem, monkeypatch):
    X, y = problem
    held_out = []
    subset = ArrayData.subset

    def recording_subset(self, indices):
        part = subset(self, indices)
        held_out.append(type(part.inputs))
        return part

    monkeypatch.setattr(ArrayData, "subset", recording_subset)
    params = {**FAST, "early_stopping": True, "random_state": 0}
    sparse_model = MLPClassifier(**params).fit(X, y)
    assert held_out == [Rows, Rows]  # the training and the validation part
    dense_model = MLPClassifier(**params).fit(X.toarray(), y)
    columns = ["train_loss", "valid_loss", "valid_accuracy"]
    assert sparse_model.history_[columns].equals(dense_model.history_[columns])
    assert_same_weights(sparse_model, dense_model)


def test_partial_fit_on_sparse_chunks_equals_dense_chunks(problem):
    X, y = problem
    sparse_model = MLPClassifier(**FAST, random_state=0)
    dense_model = MLPClassifier(**FAST, random_state=0)
    for chunk in (slice(0, 100), slice(100, 200)):
        sparse_model.partial_fit(X[chunk], y[chunk], classes=[0, 1])
        dense_model.partial_fit(X[chunk].toarray(), y[chunk], classes=[0, 1])
    assert sparse_model.n_epochs_ == 2
    assert_same_weights(sparse_model, dense_model)


# ------------------------------------------------------------------ memory safety
def test_no_call_densifies_more_rows_than_a_batch_or_chunk(problem, monkeypatch):
    X, y = problem
    densified = []
    toarray = scipy.sparse.csr_matrix.toarray

    def recording_toarray(self, *args, **kwargs):
        densified.append(self.shape[0])
        return toarray(self, *args, **kwargs)

    monkeypatch.setattr(scipy.sparse.csr_matrix, "toarray", recording_toarray)
    model = MLPClassifier(**FAST, random_state=0).fit(X, y)
    assert max(densified) <= FAST["batch_size"]
    # Each training row is made dense once per epoch (the final 8 rows: one batch), plus
    # the two rows kept once for summary().
    assert sum(densified) == FAST["max_epochs"] * len(y) + 2
    densified.clear()
    model.predict_proba(X)
    assert densified == [200]  # one inference chunk: 200 rows < 512


def test_a_fit_whose_dense_input_takes_gigabytes_stays_within_megabytes():
    """Peak resident memory of a fresh process, so every allocation (numpy, torch) counts."""
    script = textwrap.dedent(
        """
        import resource, warnings
        import numpy as np, scipy.sparse, torch
        from sknets import MLPClassifier

        warnings.simplefilter("ignore")
        torch.set_num_threads(1)
        n_samples, n_features, n_values = 25_000, 20_000, 50_000
        rng = np.random.default_rng(0)
        where = (rng.integers(0, n_samples, n_values), rng.integers(0, n_features, n_values))
        X = scipy.sparse.csr_matrix(
            (rng.random(n_values, dtype=np.float32), where), shape=(n_samples, n_features)
        )
        y = np.arange(n_samples) % 2
        params = dict(hidden_layer_sizes=(2,), max_epochs=1, batch_size=256, device="cpu")
        MLPClassifier(**params).fit(X[:300], y[:300])  # torch's one-off start-up memory
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        MLPClassifier(**params).fit(X, y).predict_proba(X[:2000])
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - before) / 1024)  # ru_maxrss is in KiB on Linux
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    growth_mb = float(result.stdout.strip().splitlines()[-1])
    dense_mb = 25_000 * 20_000 * 4 / 2**20  # 1 907 MB as float32, twice that as float64
    # Measured: ~64 MB (a 20 MB float32 batch and a 41 MB float64 inference chunk).
    assert growth_mb < dense_mb / 10, f"peak memory grew by {growth_mb:.0f} MB"


# --------------------------------------------------------------------- bad input
def test_sparse_nan_and_infinity_are_refused(problem):
    X, y = problem
    for value, message in ((np.nan, "NaN"), (np.inf, "infinity")):
        bad = X.copy()
        bad.data[4] = value
        with pytest.raises(ValueError, match=message):
            MLPClassifier(**FAST).fit(bad, y)


def test_sparse_values_beyond_float32_are_located(problem):
    X, y = problem
    bad = X.tolil()
    bad[3, 7] = 1e39
    with pytest.raises(ValueError, match=r"1 values beyond .* rows \[3\] and features \[7\]"):
        MLPClassifier(**FAST).fit(bad.tocsr(), y)


@pytest.mark.parametrize("estimator", [CNNClassifier, RNNClassifier], ids=lambda e: e.__name__)
@pytest.mark.parametrize("container", [scipy.sparse.csr_matrix, scipy.sparse.coo_array])
def test_cnn_and_rnn_refuse_sparse_input_and_say_toarray(estimator, container, problem):
    X, y = problem
    name = estimator.__name__
    pattern = rf"{name} does not accept sparse X \(scipy.sparse {container.__name__} .*X.toarray"
    with pytest.raises(ValueError, match=pattern):
        estimator(device="cpu").fit(container(X), y)


# ------------------------------------------------------------- with the ecosystem
def test_tfidf_pipeline_on_raw_text_learns_the_topics():
    topics = {
        "sport": "match goal team player coach season league score",
        "food": "recipe flavour oven dinner sauce bread kitchen taste",
        "space": "planet orbit rocket star telescope galaxy launch moon",
    }
    filler = ["the", "a", "of", "and", "to", "in", "is", "it", "was", "on"]
    rng = np.random.default_rng(0)
    labels = rng.choice(list(topics), 240)
    texts = [" ".join(rng.choice(topics[label].split() + filler, 12)) for label in labels]
    model = make_pipeline(
        TfidfVectorizer(), MLPClassifier((16,), lr=1e-2, max_epochs=10, random_state=0)
    )
    model.set_params(mlpclassifier__device="cpu")
    model.fit(texts[:160], labels[:160])
    assert scipy.sparse.issparse(model[0].transform(texts[:2]))
    assert model.score(texts[160:], labels[160:]) > 0.8  # chance is 1/3


def test_optuna_search_trains_and_refits_on_the_sparse_matrix(problem, monkeypatch):
    X, y = problem
    seen = []
    for method in ("fit", "partial_fit"):
        original = getattr(MLPClassifier, method)

        def recording(self, X, *args, _original=original, **kwargs):
            seen.append(scipy.sparse.issparse(X))
            return _original(self, X, *args, **kwargs)

        monkeypatch.setattr(MLPClassifier, method, recording)
    search = OptunaSearchCV(
        MLPClassifier(**{**FAST, "max_epochs": 2}),
        {"lr": FloatDistribution(1e-3, 1e-1, log=True)},
        n_trials=2,
        cv=2,
        random_state=0,
    ).fit(X, y)
    # 2 trials x 2 folds x 2 epochs of partial_fit, then the refit: all on sparse folds.
    assert seen == [True] * 9
    assert search.predict(X).shape == (200,)
