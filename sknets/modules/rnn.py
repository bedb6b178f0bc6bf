"""A recurrent many-to-one sequence classifier as a plain :class:`torch.nn.Module`."""

import copy
from collections.abc import Sequence
from numbers import Integral, Real

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .mlp import MLP

#: Recurrent layers by the name users pass as ``cell=``.
CELLS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}

#: Ways to reduce the per-step outputs to one vector per sequence (``summary=``).
SUMMARIES: tuple[str, ...] = ("last", "mean", "max")


def _check_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name}={value!r} is not supported; use an integer >= 1")


def _check_probability(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value < 1:
        raise ValueError(f"{name}={value!r} is not supported; use a float in [0, 1)")


class RNN(nn.Module):
    """Recurrent network that maps a whole sequence to one vector of logits.

    ``[Embedding] -> RNN/LSTM/GRU -> summary over time -> dense head``. Sequences may be
    padded at the end; pass their valid ``lengths`` to :meth:`forward` and the padding never
    changes the result (the recurrent layer runs on a packed sequence and the ``"mean"`` /
    ``"max"`` summaries ignore padded steps).

    Parameters
    ----------
    n_features : int or None
        Number of features per time step. Ignored (may be ``None``) when ``vocab_size`` is
        given, since the embedding then sets the input width.
    n_outputs : int
        Number of output units (logits; no softmax is applied).
    cell : {"rnn", "lstm", "gru"}, default="lstm"
        Recurrent layer: Elman RNN with tanh, LSTM or GRU.
    hidden_size : int, default=64
        Width of the recurrent state (per direction).
    num_layers : int, default=1
        Number of stacked recurrent layers.
    bidirectional : bool, default=False
        Whether to also read each sequence backwards; doubles the summary width.
    dropout : float, default=0.0
        Dropout between stacked recurrent layers; only used when ``num_layers > 1``.
    summary : {"last", "mean", "max"}, default="last"
        How the per-step outputs become one vector per sequence. ``"last"`` is the final
        hidden state of the top layer (bidirectional: forward state at the last valid step
        concatenated with the backward state at step 0); ``"mean"`` and ``"max"`` reduce the
        top layer's outputs over the valid steps only.
    hidden_layer_sizes : sequence of int, default=()
        Widths of the dense head's hidden layers, as in :class:`~sknets.modules.MLP`.
    activation : str, default="relu"
        Activation after each hidden layer of the head (see ``ACTIVATIONS``).
    head_dropout : float, default=0.0
        Dropout probability after each hidden activation of the head.
    vocab_size : int or None, default=None
        When given, inputs are ``(batch, time)`` integer token ids in ``[0, vocab_size)``,
        mapped to vectors by an :class:`~torch.nn.Embedding` first.
    embedding_dim : int or None, default=None
        Width of the token embedding; required with ``vocab_size``, ignored without it.
    padding_idx : int or None, default=0
        Token id used for padding; its embedding stays zero and receives no gradient.

    Examples
    --------
    >>> import torch
    >>> from sknets.modules import RNN
    >>> net = RNN(3, 2, cell="gru", hidden_size=8).eval()
    >>> net(torch.zeros(4, 5, 3), lengths=torch.tensor([5, 3, 1, 2])).shape
    torch.Size([4, 2])
    >>> RNN(None, 2, vocab_size=100, embedding_dim=8)(torch.ones(4, 5, dtype=torch.long)).shape
    torch.Size([4, 2])
    """

    def __init__(
        self,
        n_features: int | None,
        n_outputs: int,
        cell: str = "lstm",
        hidden_size: int = 64,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        summary: str = "last",
        hidden_layer_sizes: Sequence[int] = (),
        activation: str = "relu",
        head_dropout: float = 0.0,
        vocab_size: int | None = None,
        embedding_dim: int | None = None,
        padding_idx: int | None = 0,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            allowed = ", ".join(sorted(CELLS))
            raise ValueError(f"cell={cell!r} is not supported; use one of: {allowed}")
        if summary not in SUMMARIES:
            allowed = ", ".join(SUMMARIES)
            raise ValueError(f"summary={summary!r} is not supported; use one of: {allowed}")
        _check_positive_int("n_outputs", n_outputs)
        _check_positive_int("hidden_size", hidden_size)
        _check_positive_int("num_layers", num_layers)
        _check_probability("dropout", dropout)
        _check_probability("head_dropout", head_dropout)

        self.embedding: nn.Embedding | None = None
        if vocab_size is None:
            if n_features is None:
                raise ValueError(
                    "n_features=None is only allowed with vocab_size (token input); "
                    "give the number of features per time step"
                )
            _check_positive_int("n_features", n_features)
            input_size = n_features
        else:
            _check_positive_int("vocab_size", vocab_size)
            if embedding_dim is None:
                raise ValueError(
                    f"vocab_size={vocab_size!r} needs embedding_dim (an integer >= 1), got None"
                )
            _check_positive_int("embedding_dim", embedding_dim)
            if padding_idx is not None and not (
                isinstance(padding_idx, Integral) and 0 <= padding_idx < vocab_size
            ):
                raise ValueError(
                    f"padding_idx={padding_idx!r} is not supported; use None or an integer "
                    f"in [0, {vocab_size}) (vocab_size={vocab_size})"
                )
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
            input_size = embedding_dim

        self.input_size = input_size
        self.summary = summary
        self.num_directions = 2 if bidirectional else 1
        # torch warns when dropout is set on a single layer, where it would do nothing.
        self.recurrent = CELLS[cell](
            input_size,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.head = MLP(
            hidden_size * self.num_directions,
            n_outputs,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            dropout=head_dropout,
        )

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Map a batch of sequences to ``(batch, n_outputs)`` logits.

        Parameters
        ----------
        x : torch.Tensor
            Float ``(batch, time, n_features)`` (``(batch, time)`` is accepted when
            ``n_features == 1``), or integer ``(batch, time)`` token ids with ``vocab_size``.
        lengths : torch.Tensor or None, default=None
            Integer ``(batch,)`` numbers of valid steps; the rest of each row is padding at
            the end. ``None`` means every step is valid.

        Returns
        -------
        torch.Tensor
            ``(batch, n_outputs)`` logits.
        """
        return self.head(self._pooled(x, lengths))

    @property
    def num_features(self) -> int:
        """Width of :meth:`forward_features`: what the dense head reads."""
        return self.head.layers[0].in_features

    def forward_features(self, x: torch.Tensor, lengths: torch.Tensor | None = None):
        """The pooled recurrent outputs, without the dense head: ``(batch, num_features)``,
        what a new head reads in transfer."""
        return self._pooled(x, lengths)

    def without_head(self) -> nn.Module:
        """A copy without its dense head: its ``forward`` returns :meth:`forward_features`."""
        trunk = copy.deepcopy(self)
        trunk.head = nn.Identity()
        return trunk

    def _pooled(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """One vector per sequence (``summary``) of the recurrent outputs."""
        x = self._embed(x)
        if lengths is None:
            outputs, hidden = self.recurrent(x)
            mask = None
        else:
            lengths_cpu = self._check_lengths(lengths, x.shape[0], x.shape[1])
            packed = pack_padded_sequence(x, lengths_cpu, batch_first=True, enforce_sorted=False)
            packed_outputs, hidden = self.recurrent(packed)
            outputs, _ = pad_packed_sequence(packed_outputs, batch_first=True)
            steps = torch.arange(outputs.shape[1], device=outputs.device)
            mask = steps[None, :] < lengths_cpu.to(outputs.device)[:, None]
        return self._summarise(outputs, hidden, mask)

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        if self.embedding is not None:
            if x.ndim != 2 or x.is_floating_point() or x.is_complex():
                raise ValueError(
                    "RNN with vocab_size expects integer token ids of shape (batch, time), "
                    f"got dtype {x.dtype} and shape {tuple(x.shape)}"
                )
            return self.embedding(x)
        if not x.is_floating_point():
            raise ValueError(
                f"RNN without vocab_size expects floating-point input, got dtype {x.dtype}; "
                "pass vocab_size and embedding_dim for token ids"
            )
        if x.ndim == 2 and self.input_size == 1:
            x = x.unsqueeze(-1)
        if x.ndim != 3 or x.shape[-1] != self.input_size:
            raise ValueError(
                f"RNN expects input of shape (batch, time, {self.input_size}), got {tuple(x.shape)}"
            )
        return x

    @staticmethod
    def _check_lengths(lengths: torch.Tensor, batch_size: int, n_steps: int) -> torch.Tensor:
        # pack_padded_sequence wants the lengths on the CPU whatever the device of x.
        lengths_cpu = torch.as_tensor(lengths).to("cpu", torch.int64)
        if lengths_cpu.shape != (batch_size,):
            raise ValueError(
                f"lengths must have shape ({batch_size},), one per sequence, "
                f"got {tuple(lengths_cpu.shape)}"
            )
        if batch_size and (lengths_cpu.min() < 1 or lengths_cpu.max() > n_steps):
            raise ValueError(
                f"lengths must be in [1, {n_steps}] (the padded length), got values from "
                f"{int(lengths_cpu.min())} to {int(lengths_cpu.max())}"
            )
        return lengths_cpu

    def _summarise(
        self,
        outputs: torch.Tensor,
        hidden: torch.Tensor | tuple[torch.Tensor, torch.Tensor],
        mask: torch.Tensor | None,
    ) -> torch.Tensor:
        if self.summary == "last":
            if isinstance(hidden, tuple):  # LSTM returns (h_n, c_n)
                hidden = hidden[0]
            # h_n is (num_layers * num_directions, batch, hidden): keep the top layer's
            # directions and put them side by side.
            top = hidden[-self.num_directions :]
            return top.transpose(0, 1).reshape(outputs.shape[0], -1)
        if mask is None:
            return outputs.mean(dim=1) if self.summary == "mean" else outputs.amax(dim=1)
        mask = mask.unsqueeze(-1)
        if self.summary == "mean":
            valid = outputs.masked_fill(~mask, 0.0)
            return valid.sum(dim=1) / mask.sum(dim=1).to(outputs.dtype)
        return outputs.masked_fill(~mask, float("-inf")).amax(dim=1)
