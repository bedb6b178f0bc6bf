"""Out-of-core training through dask-ml's ``Incremental`` (the ``dask`` extra).

``Incremental`` hands each block of a Dask array to ``partial_fit`` in turn, and sknets'
``partial_fit`` trains exactly one epoch, so one pass over ``k`` blocks adds ``k`` epochs.
"""

import gc
import threading
import weakref

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
psutil = pytest.importorskip("psutil")  # installed with dask-ml (through distributed)
wrappers = pytest.importorskip("dask_ml.wrappers")

from sknets import CNNClassifier, MLPClassifier, MLPRegressor  # noqa: E402

N_BLOCKS = 4


def dask_blocks(X, y):
    """``X, y`` as Dask arrays of ``N_BLOCKS`` row blocks (whole rows in each block)."""
    rows = -(-len(X) // N_BLOCKS)
    return da.from_array(X, chunks=(rows, X.shape[1])), da.from_array(y, chunks=rows)


def without_nines_up_front(X, y):
    """Rows shuffled, then every 9 moved to the end: the first blocks hold no 9."""
    order = np.random.default_rng(0).permutation(len(y))
    order = order[np.argsort(y[order] == 9, kind="stable")]
    assert 9 not in y[order][: len(y) // N_BLOCKS]
    return X[order], y[order]


def train_passes(estimator, X, y, n_passes, **fit_params):
    """``Incremental(estimator)`` after ``n_passes`` passes over the blocks, in order."""
    incremental = wrappers.Incremental(estimator, shuffle_blocks=False)
    for _ in range(n_passes):
        incremental.partial_fit(X, y, **fit_params)
    return incremental


@pytest.mark.parametrize(
    ("estimator", "min_accuracy"),
    [
        (MLPClassifier((64,), lr=0.01, random_state=0), 0.85),
        (CNNClassifier(input_shape=(1, 8, 8), random_state=0), 0.9),
    ],  # measured 0.91 and 0.96: the 9s, all in the last block, are learned late
    ids=["mlp", "cnn"],
)
def test_classifier_trains_one_epoch_per_block_and_predicts_on_dask_arrays(
    digits, estimator, min_accuracy
):
    X, y = digits
    X, y = without_nines_up_front(X, y)
    X_blocks, y_blocks = dask_blocks(X, y)
    incremental = wrappers.Incremental(estimator, shuffle_blocks=False)
    for n_passes in (1, 2, 3):
        incremental.partial_fit(X_blocks, y_blocks, classes=np.arange(10))
        assert incremental.estimator_.n_epochs_ == n_passes * N_BLOCKS
    assert incremental.n_epochs_ == 3 * N_BLOCKS  # learned attributes copied to the wrapper
    np.testing.assert_array_equal(incremental.classes_, np.arange(10))

    predictions = incremental.predict(X_blocks)
    probabilities = incremental.predict_proba(X_blocks)
    assert isinstance(predictions, da.Array) and isinstance(probabilities, da.Array)
    np.testing.assert_array_equal(predictions.compute(), incremental.estimator_.predict(X))
    # Each block goes through the same batch-invariant inference as the whole array.
    np.testing.assert_allclose(
        probabilities.compute(), incremental.estimator_.predict_proba(X), atol=1e-6
    )
    assert incremental.score(X_blocks, y_blocks) > min_accuracy


def test_first_block_without_every_class_needs_classes(digits):
    X_blocks, y_blocks = dask_blocks(*without_nines_up_front(*digits))
    incremental = wrappers.Incremental(MLPClassifier((8,)), shuffle_blocks=False)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        incremental.fit(X_blocks, y_blocks)


def test_sample_weight_is_not_split_into_blocks_but_class_weight_works(digits):
    X_blocks, y_blocks = dask_blocks(*digits)
    classes = np.arange(10)
    weights = da.ones(len(y_blocks), chunks=y_blocks.chunks)
    incremental = wrappers.Incremental(MLPClassifier((8,)), shuffle_blocks=False)
    # dask-ml hands fit keywords unchanged to every block: the whole array's weights.
    with pytest.raises(ValueError, match="sample_weight"):
        incremental.fit(X_blocks, y_blocks, classes=classes, sample_weight=weights)
    weighted = MLPClassifier((8,), class_weight={9: 2.0}, random_state=0)
    incremental = wrappers.Incremental(weighted, shuffle_blocks=False)
    assert incremental.fit(X_blocks, y_blocks, classes=classes).n_epochs_ == N_BLOCKS


def test_regressor_learns_over_blocks_and_fit_restarts():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 10)).astype(np.float32)
    y = X @ np.linspace(-1, 1, 10) + 0.1 * rng.normal(size=2000)
    X_blocks, y_blocks = dask_blocks(X, y)
    incremental = train_passes(MLPRegressor((32,), lr=0.01, random_state=0), X_blocks, y_blocks, 5)
    assert incremental.n_epochs_ == 5 * N_BLOCKS
    predictions = incremental.predict(X_blocks)
    np.testing.assert_allclose(predictions.compute(), incremental.estimator_.predict(X))
    assert incremental.score(X_blocks, y_blocks) > 0.95
    # fit starts again from a clone: one pass, N_BLOCKS epochs.
    assert incremental.fit(X_blocks, y_blocks).n_epochs_ == N_BLOCKS


def test_partial_fit_keeps_no_reference_to_its_block(digits):
    X, y = digits
    model = MLPClassifier((8,), random_state=0)
    for block in range(2):
        X_block = X[block::2].copy()
        model.partial_fit(X_block, y[block::2], classes=np.arange(10))
        block_alive = weakref.ref(X_block)
        del X_block
        gc.collect()
        assert block_alive() is None, "partial_fit kept the block it trained on"


class PeakMemory:
    """Peak resident memory above its value at entry, sampled by a thread every 2 ms.

    Blocks that stayed alive would each hold their memory for the rest of the pass, far
    longer than a sampling interval, so the sampled peak sees them.
    """

    def __init__(self):
        self.process = psutil.Process()
        self.peak_growth = 0

    def _sample(self, baseline):
        while not self.done.wait(0.002):
            growth = self.process.memory_info().rss - baseline
            self.peak_growth = max(self.peak_growth, growth)

    def __enter__(self):
        gc.collect()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, args=(self.process.memory_info().rss,))
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.done.set()
        self.thread.join()


def test_array_larger_than_the_memory_allowed_trains_in_flat_memory():
    rows, features, n_blocks = 8000, 1000, 24
    memory_allowed = 100 * 2**20
    # Generated block by block when a task needs it: the array is never in memory whole.
    X = da.random.default_rng(0).random(
        (n_blocks * rows, features), chunks=(rows, features), dtype=np.float32
    )
    y = X @ np.linspace(-1, 1, features).astype(np.float32)
    assert X.nbytes > 7 * memory_allowed  # 768 MB of float32 in blocks of 32 MB
    incremental = wrappers.Incremental(
        MLPRegressor((4,), batch_size=1024, random_state=0), shuffle_blocks=False
    )
    # The default threaded scheduler generates blocks ahead of the sequential chain of
    # partial_fit calls (measured: 200 MB more for a 1.3 GB array, 610 MB for 2.6 GB); the
    # synchronous one makes each block when its partial_fit comes.
    with dask.config.set(scheduler="synchronous"):
        # A first block allocates everything the training needs.
        incremental.partial_fit(X[:rows], y[:rows])
        with PeakMemory() as memory:
            incremental.partial_fit(X, y)
    assert incremental.n_epochs_ == 1 + n_blocks
    # Measured: 40 MB, about one block; a partial_fit that kept its blocks: 764 MB.
    assert memory.peak_growth < memory_allowed, memory.peak_growth
