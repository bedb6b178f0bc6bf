"""The fast batch path and the validation hold-out."""

import numpy as np
import pytest
import torch

from sknets import _data
from sknets._data import ArrayData, HoldoutSplit, TensorBatches, fits_on_device, split_target

CPU = torch.device("cpu")


def make_data(n_samples=10, weights=False):
    inputs = torch.arange(n_samples * 2, dtype=torch.float32).reshape(n_samples, 2)
    targets = torch.arange(n_samples) % 2
    sample_weight = torch.linspace(1, 2, n_samples) if weights else None
    return ArrayData(inputs, targets, sample_weight)


def test_each_row_once_per_pass_in_a_new_order_each_pass():
    batches = TensorBatches(
        make_data(10), 4, shuffle=True, device=CPU, generator=torch.Generator().manual_seed(0)
    )
    passes = []
    for _ in range(2):
        rows = torch.cat([inputs[:, 0] for inputs, _ in batches]) / 2
        assert sorted(rows.long().tolist()) == list(range(10))
        passes.append(rows.tolist())
    assert passes[0] != passes[1]


def test_same_seed_same_order():
    def first_pass(seed):
        generator = torch.Generator().manual_seed(seed)
        batches = TensorBatches(make_data(10), 3, shuffle=True, device=CPU, generator=generator)
        return [targets.tolist() for _, targets in batches]

    assert first_pass(1) == first_pass(1)


def test_no_shuffle_keeps_order_and_targets_align():
    batches = list(TensorBatches(make_data(10), 4, shuffle=False, device=CPU))
    inputs = torch.cat([batch_inputs for batch_inputs, _ in batches])
    targets = torch.cat([batch_targets for _, batch_targets in batches])
    torch.testing.assert_close(inputs, make_data(10).inputs)
    torch.testing.assert_close(targets, make_data(10).targets)


def test_a_final_single_row_batch_is_merged():
    batches = TensorBatches(make_data(9), 4, shuffle=False, device=CPU)
    assert batches.batch_bounds() == [(0, 4), (4, 9)]
    assert len(batches) == 2
    assert [len(inputs) for inputs, _ in batches] == [4, 5]


def test_batch_size_larger_than_data_gives_one_batch():
    batches = TensorBatches(make_data(5), 1024, shuffle=True, device=CPU)
    assert len(batches) == 1


def test_dict_inputs_and_sample_weights_travel_together():
    data = make_data(6, weights=True)
    data.inputs = {"x": data.inputs, "lengths": torch.arange(6)}
    for inputs, target in TensorBatches(data, 4, shuffle=True, device=CPU):
        targets, weights = split_target(target)
        rows = (inputs["x"][:, 0] / 2).long()
        torch.testing.assert_close(inputs["lengths"], rows)
        torch.testing.assert_close(targets, rows % 2)
        torch.testing.assert_close(weights, data.sample_weight[rows])


def test_batch_transform_sees_training_batches():
    calls = []

    def transform(inputs, generator):
        calls.append(generator)
        return inputs + 100

    generator = torch.Generator()
    batches = TensorBatches(
        make_data(4), 2, shuffle=False, device=CPU, generator=generator, batch_transform=transform
    )
    first_inputs, _ = next(iter(batches))
    assert first_inputs.min() >= 100 and calls == [generator]


def test_prediction_batches_have_no_targets():
    data = ArrayData(torch.zeros(3, 2))
    assert [target for _, target in TensorBatches(data, 2, shuffle=False, device=CPU)] == [None]


def test_data_placement_on_cuda_depends_on_free_memory(monkeypatch):
    free_bytes = 1_000
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (free_bytes, 10 * free_bytes))
    cuda = torch.device("cuda")
    assert fits_on_device(int(free_bytes * _data.DEVICE_MEMORY_SHARE), cuda)
    assert not fits_on_device(int(free_bytes * _data.DEVICE_MEMORY_SHARE) + 1, cuda)
    assert fits_on_device(10**15, CPU)


def test_data_that_does_not_fit_is_pinned_and_copied_per_batch(monkeypatch):
    """On a GPU too small for the data, batches are copied one by one (checked on CPU)."""
    monkeypatch.setattr(_data, "fits_on_device", lambda n_bytes, device: False)
    monkeypatch.setattr(torch.Tensor, "pin_memory", lambda tensor: tensor.clone())
    moves = []
    original_to = torch.Tensor.to

    def recording_to(tensor, *args, **kwargs):
        moves.append(kwargs.get("non_blocking", False))
        return original_to(tensor, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "to", recording_to)
    batches = TensorBatches(make_data(8), 4, shuffle=False, device=CPU)
    assert not batches.on_device
    list(batches)
    assert moves == [True] * 4  # inputs and targets of two batches, asynchronously


def test_holdout_is_stratified_and_reproducible():
    targets = torch.tensor([0] * 80 + [1] * 20)
    data = ArrayData(torch.arange(100, dtype=torch.float32)[:, None], targets)
    train, valid = HoldoutSplit(0.2, random_state=0)(data)
    assert len(train) == 80 and len(valid) == 20
    assert valid.targets.tolist().count(1) == 4
    train_again, _ = HoldoutSplit(0.2, random_state=0)(data)
    torch.testing.assert_close(train.inputs[:], train_again.inputs[:])
    overlap = set(train.inputs[:][:, 0].tolist()) & set(valid.inputs[:][:, 0].tolist())
    assert not overlap


def test_holdout_falls_back_to_plain_split_for_singleton_classes():
    targets = torch.tensor([0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    data = ArrayData(torch.zeros(10, 1), targets)
    train, valid = HoldoutSplit(0.2, random_state=0)(data)
    assert len(train) == 8 and len(valid) == 2


def test_subset_keeps_rows_aligned():
    data = make_data(5, weights=True)
    part = data.subset(np.array([4, 1]))
    assert part.targets.tolist() == [0, 1]
    torch.testing.assert_close(part.sample_weight, data.sample_weight[[4, 1]])
    assert len(part) == 2 and part[0][1] == 0


def test_holdout_needs_rows_on_both_sides():
    data = ArrayData(torch.zeros(3, 1), torch.tensor([0, 1, 0]))
    with pytest.raises(ValueError, match="validation_fraction=0.99 leaves 0 training and 3"):
        HoldoutSplit(0.99, random_state=0)(data)
