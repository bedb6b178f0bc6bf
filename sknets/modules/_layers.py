"""Lookup tables shared by the architectures: activations by name."""

from torch import nn

#: Activation layers by the name users pass as ``activation=``.
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
    "elu": nn.ELU,
}


def make_activation(name: str) -> nn.Module:
    """Return a new activation layer for ``name`` (a key of :data:`ACTIVATIONS`)."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        allowed = ", ".join(sorted(ACTIVATIONS))
        raise ValueError(f"activation={name!r} is not supported; use one of: {allowed}") from None
