"""When a fit stops: convergence as scikit-learn's MLP defines it, and no silent NaN.

:class:`ConvergenceStopping` watches one loss per epoch (``train_loss``, or ``valid_loss``
with ``early_stopping=True``) and ends ``fit`` once it has failed to improve by at least
``tol`` for more than ``n_iter_no_change`` consecutive epochs, exactly as
:class:`sklearn.neural_network.MLPClassifier` counts them. :class:`FiniteLossCheck` ends any
fit whose training loss is no longer a finite number.
"""

from __future__ import annotations

import copy
import math

from skorch.callbacks import Callback


class NonFiniteLossError(ValueError):
    """The training loss became NaN or infinite: the network's weights are lost."""


class FiniteLossCheck(Callback):
    """Raise :class:`NonFiniteLossError` at the end of an epoch whose training loss is not finite.

    Parameters
    ----------
    estimator_name : str
        Named in the message, so the user knows which model diverged.
    """

    def __init__(self, estimator_name: str) -> None:
        self.estimator_name = estimator_name

    def on_epoch_end(self, net, **kwargs) -> None:
        loss = net.history[-1].get("train_loss")
        if loss is None or math.isfinite(loss):
            return
        epoch = net.history[-1, "epoch"]
        raise NonFiniteLossError(
            f"{self.estimator_name}: the training loss became {loss} at epoch {epoch}, so the "
            f"weights are no longer finite numbers. Try a lower learning rate (lr={net.lr} now), "
            "scale the inputs (e.g. StandardScaler, or pixels divided by 255), or clip the "
            "gradients."
        )


class ConvergenceStopping(Callback):
    """Stop training once ``monitor`` has stopped improving; optionally keep the best weights.

    An epoch counts as *no improvement* when its loss is above ``best - tol``, where ``best``
    is the lowest loss seen so far in this fit; an improving epoch resets the count. Training
    stops when the count exceeds ``n_iter_no_change`` (scikit-learn's rule), and
    :attr:`converged_` is then True.

    Parameters
    ----------
    monitor : str
        History key to watch: ``"train_loss"`` or ``"valid_loss"``.
    tol : float
        Smallest decrease of the loss that counts as an improvement (absolute, as in sklearn).
    n_iter_no_change : int or float
        Epochs without improvement tolerated; ``numpy.inf`` never stops.
    restore_best : bool
        Load the weights of the best epoch when training ends (early stopping).
    """

    def __init__(
        self, monitor: str, tol: float, n_iter_no_change: float, restore_best: bool
    ) -> None:
        self.monitor = monitor
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.restore_best = restore_best
        self.enabled = True

    def on_train_begin(self, net, **kwargs) -> None:
        self.best_loss_ = math.inf
        self.best_epoch_ = None
        self.no_improvement_count_ = 0
        self.converged_ = False
        self._best_state = None

    def on_epoch_end(self, net, **kwargs) -> None:
        row = net.history[-1]
        if not self.enabled or self.monitor not in row:
            return
        loss = row[self.monitor]
        if loss > self.best_loss_ - self.tol:
            self.no_improvement_count_ += 1
        else:
            self.no_improvement_count_ = 0
        if loss < self.best_loss_:
            self.best_loss_ = loss
            self.best_epoch_ = row["epoch"]
            if self.restore_best:
                self._best_state = copy.deepcopy(net.module_.state_dict())
        if self.no_improvement_count_ > self.n_iter_no_change:
            self.converged_ = True
            if net.verbose:
                print(
                    f"Stopping since {self.monitor} has not improved by at least "
                    f"tol={self.tol} in the last {self.no_improvement_count_} epochs; "
                    f"the best was {self.best_loss_:.6f} at epoch {self.best_epoch_}."
                )
            # skorch's fit loop ends on KeyboardInterrupt, as its own EarlyStopping does.
            raise KeyboardInterrupt

    def on_train_end(self, net, **kwargs) -> None:
        if self.enabled and self.restore_best and self._best_state is not None:
            net.module_.load_state_dict(self._best_state)
        self._best_state = None
