"""Docstring sections shared by every sknets estimator, written once.

The estimators' class docstrings hold the markers ``{training_parameters}`` and
``{training_attributes}``; :func:`fill_shared_docs` replaces them when the class is defined,
so help(), Sphinx and numpydoc all see the full text.
"""

from textwrap import indent

TRAINING_PARAMETERS = """\
optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch optimizer class, default="adam"
    ``"sgd"`` uses Nesterov momentum 0.9, as sklearn's ``solver="sgd"`` does.
lr : float, default=1e-3
    Learning rate.
weight_decay : float, default=0.0
    L2 penalty passed to the optimizer.
batch_size : int, default=128
    Rows per mini-batch (capped at the number of rows).
max_epochs : int, default=100
    Most passes over the training data; ``fit`` stops earlier once it has converged (see
    ``tol``) and warns with a :class:`~sklearn.exceptions.ConvergenceWarning` when it had
    to stop at ``max_epochs`` without converging.
early_stopping : bool, default=False
    Hold out ``validation_fraction`` of the data and judge convergence on the validation
    loss instead of the training loss; the weights of the best validation epoch are
    restored at the end (``best_epoch_``).
validation_fraction : float or None, default=None
    Share of the training rows held out (stratified) to compute ``valid_loss`` and
    ``valid_accuracy`` each epoch. None means 0.1 when ``early_stopping`` is on and no
    hold-out otherwise.
n_iter_no_change : int or numpy.inf, default=10
    Most consecutive epochs whose loss does not improve by at least ``tol``; one more and
    the fit has converged and stops (scikit-learn's rule). ``numpy.inf`` trains all
    ``max_epochs`` epochs.
tol : float, default=1e-4
    Smallest decrease of the monitored loss (the training loss, or the validation loss
    with ``early_stopping=True``) that counts as an improvement, as in sklearn's MLP.
class_weight : dict, "balanced" or None, default=None
    Weights of the classes in the loss (as in sklearn).
device : str or torch.device, default="auto"
    ``"auto"`` uses CUDA when available, else the CPU; or ``"cpu"``, ``"cuda"``,
    ``"cuda:1"``, ``"mps"``.
mixed_precision : bool, default=False
    Run the forward pass in bfloat16 autocast (useful on recent GPUs).
random_state : int, RandomState instance or None, default=None
    Seeds initialisation, shuffling, dropout and the validation split. The same integer
    gives identical predictions on the CPU.
verbose : int, default=0
    0 is silent, 1 prints a table row per epoch (best values coloured in a terminal,
    plain text in files and logs), 2 adds a progress bar per epoch.
callbacks : list of skorch callbacks or (name, callback) tuples, default=None
    Extra skorch callbacks, for power users.
warm_start : bool, default=False
    When True, ``fit`` continues from the previous weights instead of starting anew.
"""

TRAINING_ATTRIBUTES = """\
history_ : pandas.DataFrame
    One row per epoch (index ``epoch``): ``train_loss``, ``duration`` and, with a
    validation hold-out, ``valid_loss`` and ``valid_accuracy``.
best_epoch_ : int
    Epoch with the lowest validation loss (the weights kept under early stopping); the
    last epoch when there is no validation data.
n_epochs_ : int
    Epochs trained in total (where the last ``fit`` stopped, counting earlier warm-started
    fits and ``partial_fit`` calls).
net_ : skorch.NeuralNet
    The skorch net that trained it.
"""

MARKERS = {
    "    {training_parameters}\n": TRAINING_PARAMETERS,
    "    {training_attributes}\n": TRAINING_ATTRIBUTES,
}


def fill_shared_docs(cls: type) -> type:
    """Class decorator: put the shared sections in place of their markers."""
    for marker, text in MARKERS.items():
        if marker not in cls.__doc__:
            raise ValueError(f"{cls.__name__}'s docstring lacks the marker {marker.strip()}")
        cls.__doc__ = cls.__doc__.replace(marker, indent(text, "    "))
    return cls
