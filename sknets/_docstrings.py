"""Docstring sections shared by every sknets estimator, written once.

The estimators' class docstrings hold the markers ``{training_parameters}`` and
``{training_attributes}``; :func:`fill_shared_docs` replaces them when the class is defined,
so help(), Sphinx and numpydoc all see the full text.
"""

import re
from textwrap import indent

TRAINING_PARAMETERS = """\
optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch optimizer class, default="adam"
    ``"sgd"`` uses Nesterov momentum 0.9, as sklearn's ``solver="sgd"`` does. The named
    ones use torch's fused step (``fused=True``: one kernel for all parameters) wherever
    the device has it, as the CPU does from torch 2.4.
lr : float, default=1e-3
    Learning rate.
{weight_decay}
batch_size : int, default=128
    Rows per mini-batch (capped at the number of rows).
max_epochs : int, default=100
    Most passes over the training data; ``fit`` stops earlier once it has converged (see
    ``tol``) and warns with a :class:`~sklearn.exceptions.ConvergenceWarning` when it had
    to stop at ``max_epochs`` without converging.
early_stopping : bool, default=False
    Judge convergence on the validation loss instead of the training loss, on
    ``validation_fraction`` of the data held out or on the ``X_val, y_val`` passed to
    ``fit``; the weights of the best validation epoch are restored at the end
    (``best_epoch_``).
validation_fraction : float or None, default=None
    Share of the training rows held out (stratified) and not trained on, to compute
    ``valid_loss`` and ``valid_accuracy`` each epoch. None means 0.1 with
    ``early_stopping=True`` and no hold-out without it; a float holds out that share with
    or without early stopping (without it, convergence is still judged on the training
    loss). ``partial_fit`` never holds rows out.
n_iter_no_change : int or numpy.inf, default=10
    Most consecutive epochs whose loss does not improve by at least ``tol``; one more and
    the fit has converged and stops (scikit-learn's rule). ``numpy.inf`` trains all
    ``max_epochs`` epochs, with no ``ConvergenceWarning`` at the end.
tol : float, default=1e-4
    Smallest decrease of the monitored loss (the training loss, or the validation loss
    with ``early_stopping=True``) that counts as an improvement, as in sklearn's MLP.
lr_schedule : {"constant", "plateau", "cosine"} or callable, default="constant"
    How the learning rate changes from epoch to epoch (recorded in ``history_["lr"]``).
    ``"plateau"`` divides it by 5 whenever the monitored loss (as for ``tol``) has not
    improved by ``tol`` for ``n_iter_no_change // 2`` epochs, so a fit gets a smaller step
    before it is declared converged (Keras' ``ReduceLROnPlateau(factor=0.2)``, sklearn's
    ``learning_rate="adaptive"``). ``"cosine"`` anneals it from ``lr`` towards 0 over
    ``max_epochs`` epochs. A callable ``f(epoch) -> factor`` sets ``lr * f(epoch)``
    (epochs counted from 0; torch's ``LambdaLR``), e.g. a warm-up.
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
    Extra skorch callbacks, copied at each fresh fit. Scoring callbacks take scikit-learn
    scorer names, e.g. ``EpochScoring("f1_macro", lower_is_better=False)`` scores the
    validation data each epoch; what they record appears in ``history_``.
warm_start : bool, default=False
    When True, ``fit`` continues from the previous weights instead of starting anew.
"""

TRAINING_ATTRIBUTES = """\
history_ : pandas.DataFrame
    One row per epoch (index ``epoch``): ``train_loss``, ``lr``, ``duration`` and, with
    validation data, ``valid_loss`` and ``valid_accuracy``; plus every value your
    ``callbacks`` record, under its name (e.g. ``f1_macro`` for
    ``EpochScoring("f1_macro")``).
best_epoch_ : int
    Epoch with the lowest validation loss (the weights kept under early stopping); the
    last epoch when there is no validation data.
n_epochs_ : int
    Epochs trained in total (where the last ``fit`` stopped, counting earlier warm-started
    fits and ``partial_fit`` calls).
net_ : skorch.NeuralNet
    The skorch net that trained it.
"""

CLASSIFIER_PARAMETERS = """\
class_weight : dict, "balanced" or None, default=None
    Weights of the classes in the loss (as in sklearn); not for multi-label ``y``.
"""

WEIGHT_DECAY = """\
weight_decay : float, default=0.0
    L2 penalty passed to the optimizer (added to the gradients; decoupled from them with
    ``optimizer="adamw"``).
"""

CLASSIFIER_ATTRIBUTES = """\
classes_ : ndarray of shape (n_classes,)
    Class labels (for multi-label ``y``: the label indices ``0 .. n_labels - 1``).
"""

REGRESSOR_PARAMETERS = """\
loss : {"squared_error", "absolute_error", "huber"}, default="squared_error"
    Loss between predictions and targets, averaged over the outputs.
huber_delta : float, default=1.0
    Where the Huber loss turns from quadratic to linear, in units of the standardised
    targets (standard deviations when ``scale_targets=True``).
scale_targets : bool, default=True
    Standardise each target column (mean 0, standard deviation 1, learned in ``fit`` or
    the first ``partial_fit``) for training, and map predictions back: targets in any unit
    train well with the default ``lr`` and ``tol``. ``valid_loss`` and ``train_loss`` are
    then in standardised units.
"""

REGRESSOR_WEIGHT_DECAY = """\
weight_decay : float, default=0.01
    L2 penalty passed to the optimizer (added to the gradients; decoupled from them with
    ``optimizer="adamw"``). The MLP and CNN regressors default to a small penalty, the
    classifiers and :class:`~sknets.RNNRegressor` to none: a squared-error fit of noisy
    targets on few rows keeps overfitting as it trains. On scikit-learn's diabetes data
    (442 rows) it lifts the default pipeline's 5-fold R² from 0.472-0.494 to 0.483-0.503
    over ten seeds (LinearRegression: 0.482), at a cost of under 0.01 R² on smooth targets
    with thousands of rows (Friedman #1 and #3). Set 0 to turn it off.
"""

#: RNNRegressor keeps no penalty by default (see the text).
RNN_REGRESSOR_WEIGHT_DECAY = """\
weight_decay : float, default=0.0
    L2 penalty passed to the optimizer (added to the gradients; decoupled from them with
    ``optimizer="adamw"``). Unlike the MLP and CNN regressors, none by default: a penalty
    on the recurrent weights shortens what the network remembers. Measured with 0.01: the
    forecasting example's RMSE rises from 0.329 to 0.334, and R² on the training data of
    scikit-learn's regressor check falls from 0.38 to 0.29.
"""

REGRESSOR_ATTRIBUTES = """\
n_outputs_ : int
    Number of target columns.
"""

#: Texts every estimator's docstring holds a marker for, by marker name. Task bases and
#: architectures add their own as a ``_docs`` dict of the same shape.
SHARED_DOCS = {
    "training_parameters": TRAINING_PARAMETERS,
    "training_attributes": TRAINING_ATTRIBUTES,
}


def fill_shared_docs(cls: type) -> type:
    """Class decorator: put the shared sections in place of their ``{name}`` markers.

    The texts are :data:`SHARED_DOCS` plus the ``_docs`` of the class and its bases.
    """
    texts = dict(SHARED_DOCS)
    for klass in reversed(cls.__mro__):
        texts.update(vars(klass).get("_docs", {}))
    for name, text in texts.items():
        marker = "    {" + name + "}\n"
        if name in SHARED_DOCS and marker not in cls.__doc__:
            raise ValueError(f"{cls.__name__}'s docstring lacks the marker {marker.strip()}")
        cls.__doc__ = cls.__doc__.replace(marker, indent(text, "    "))
    left = re.findall(r"^ *\{[a-z_]+\}$", cls.__doc__, flags=re.MULTILINE)
    if left:
        raise ValueError(f"{cls.__name__}'s docstring has markers without a text: {left}")
    return cls
