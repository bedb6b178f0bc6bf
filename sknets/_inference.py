"""Batch-invariant inference: a row's prediction never depends on the other rows of the call.

float32 matrix products round differently for different numbers of rows, thread splits and
CPUs: the same row predicted alone, among 60 others or in another order comes out a few
float32 ulps apart, which the softmax turns into probabilities 1e-7..1e-6 apart (more than
scikit-learn's checks allow). Measured on this project's machine, even a fixed chunk shape
does not cure it: MKL gives a row of a 20-100-50-3 MLP other bits at another position in the
same 64-row chunk.

So on the CPU the network runs in **float64** (a copy of the trained float32 weights, kept
until they change): the products of float32 values are exact in float64 and the sums round
at ~1e-16, so whatever the kernel, the order or the batch, a row's outputs agree to ~1e-15,
eight orders of magnitude inside sklearn's tolerance. On accelerators, where float64 is slow
or missing, the network runs as trained, on chunks that always have the same number of rows
(the last one padded), so every call meets the same kernels.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping

import torch
from torch import nn

from ._data import Inputs, _index, _map, input_batches, placed, values_per_row
from ._rows import Rows

#: Most rows per forward pass at inference: enough to keep the matrix kernels busy.
INFERENCE_CHUNK_ROWS = 512

#: Most bytes of float64 input per forward pass: large samples (photos) get fewer rows per
#: chunk, never fewer than the training ``batch_size``, whose activations already fit.
INFERENCE_CHUNK_BYTES = 4 * 2**20


def _weights_key(module: nn.Module) -> tuple:
    """Identity and in-place version of every tensor of ``module``: changes with any update.

    Optimizer steps, ``load_state_dict`` and batch-norm statistics all modify tensors in
    place, which bumps their version counter; a new tensor has a new identity.
    """
    key = [id(module)]
    for submodule in module.modules():  # one walk; parameters() and buffers() take two
        for tensor in (*submodule._parameters.values(), *submodule._buffers.values()):
            if tensor is not None:
                key += (id(tensor), tensor._version)
    return tuple(key)


class BatchInvariantInference:
    """Runs a trained module over whole inputs, chunk by chunk, with batch-invariant results.

    Parameters
    ----------
    device : torch.device
        The device the module was trained on.
    batch_size : int
        The training batch size: the fewest rows per forward pass (see
        :data:`INFERENCE_CHUNK_ROWS` and :data:`INFERENCE_CHUNK_BYTES` for the most).
    mixed_precision : bool
        On accelerators, run under bfloat16 autocast as in training (the CPU always uses
        float64).
    """

    def __init__(self, device: torch.device, batch_size: int, mixed_precision: bool) -> None:
        self.device = device
        self.batch_size = batch_size
        self.mixed_precision = mixed_precision
        self._float64_module: nn.Module | None = None
        self._float64_key: tuple | None = None

    def __call__(self, module: nn.Module, inputs: Inputs, n_rows: int) -> torch.Tensor:
        """Return the module's outputs for ``inputs`` as a float64 CPU tensor."""
        chunk_rows = self.chunk_rows(inputs)
        if self.device.type == "cpu":
            return self._float64_outputs(module, inputs, n_rows, chunk_rows)
        return self._fixed_shape_outputs(module, inputs, n_rows, chunk_rows)

    def chunk_rows(self, inputs: Inputs) -> int:
        """Rows per forward pass for inputs of this size per row (the same for every call)."""
        # Of a dense row: sparse inputs are made dense chunk by chunk.
        float64_bytes_per_row = max(1, 8 * values_per_row(inputs))
        by_size = min(INFERENCE_CHUNK_ROWS, INFERENCE_CHUNK_BYTES // float64_bytes_per_row)
        return max(self.batch_size, by_size)

    def __getstate__(self) -> dict:
        # The float64 copy doubles the weights and is rebuilt on demand: never pickle it.
        return {**self.__dict__, "_float64_module": None, "_float64_key": None}

    def float64_module(self, module: nn.Module) -> nn.Module:
        """The float64 copy of ``module`` in eval mode, made again only when weights change."""
        key = _weights_key(module)
        if self._float64_key != key:
            self._float64_module = copy.deepcopy(module).to(torch.float64).eval()
            self._float64_key = key
        return self._float64_module

    def _float64_outputs(
        self, module: nn.Module, inputs: Inputs, n_rows: int, chunk_rows: int
    ) -> torch.Tensor:
        network = self.float64_module(module)
        with torch.inference_mode():
            if n_rows <= chunk_rows and not isinstance(inputs, Rows):
                # The common one-chunk call on dense inputs: a view, no copy.
                return _forward(network, _map(_index(inputs, slice(0, n_rows)), _to_float64))
            bounds = _chunk_bounds(n_rows, chunk_rows)
            chunks = input_batches(inputs, [slice(start, stop) for start, stop in bounds])
            return _gather_outputs(
                (_forward(network, _map(chunk, _to_float64)) for chunk in chunks), bounds
            )

    def _fixed_shape_outputs(
        self, module: nn.Module, inputs: Inputs, n_rows: int, chunk_rows: int
    ) -> torch.Tensor:
        module.eval()
        # Float inputs in the weights' dtype (float64 X would not run on float32 weights);
        # stored data (uint8 pixels) crosses to the device as stored, then is decoded there.
        weights_dtype = next(module.parameters(), torch.empty(0)).dtype
        inputs = placed(inputs, self.device, whole=False)
        bounds = _chunk_bounds(n_rows, chunk_rows)
        # The last chunk repeats its last row up to the full size: same shape, same kernels,
        # and lengths or token ids stay valid.
        rows = [
            torch.arange(start, start + chunk_rows).clamp_(max=n_rows - 1) for start, _ in bounds
        ]

        def outputs(chunk, start: int, stop: int) -> torch.Tensor:
            chunk = _map(chunk, lambda tensor: _to_float(tensor, weights_dtype))
            with torch.autocast(
                device_type=self.device.type, dtype=torch.bfloat16, enabled=self.mixed_precision
            ):
                logits = _forward(module, chunk)[: stop - start]
            return logits.to("cpu", torch.float64)

        with torch.inference_mode():
            chunks = input_batches(inputs, rows)
            return _gather_outputs(
                (outputs(chunk, *bound) for chunk, bound in zip(chunks, bounds, strict=True)),
                bounds,
            )


def _chunk_bounds(n_rows: int, chunk_rows: int) -> list[tuple[int, int]]:
    return [(start, min(start + chunk_rows, n_rows)) for start in range(0, n_rows, chunk_rows)]


def _gather_outputs(
    chunk_outputs: Iterator[torch.Tensor], bounds: list[tuple[int, int]]
) -> torch.Tensor:
    """The outputs of consecutive chunks (rows ``bounds``), in one tensor."""
    outputs = None
    for (start, stop), logits in zip(bounds, chunk_outputs, strict=True):
        if outputs is None:
            outputs = logits.new_empty((bounds[-1][1], *logits.shape[1:]))
        outputs[start:stop] = logits
    return outputs


def _to_float(tensor: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return tensor.to(dtype) if tensor.is_floating_point() else tensor


def _to_float64(tensor: torch.Tensor) -> torch.Tensor:
    return _to_float(tensor, torch.float64)


def _forward(module: nn.Module, inputs: Inputs) -> torch.Tensor:
    if isinstance(inputs, Mapping):
        return module(**inputs)
    return module(inputs)
