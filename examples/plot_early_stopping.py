"""
Epochs, validation curves and early stopping
============================================

How many epochs should a network train? Too few and it has not learned yet; too many and it
starts memorising the training data instead of learning what generalises. This example

1. follows train and test accuracy epoch by epoch with ``partial_fit``;
2. holds out a validation set and reads the train and validation loss curves from
   ``history_``;
3. lets ``early_stopping=True`` stop at the right epoch and keep its weights
   (``best_epoch_``).
"""

# %%
# Accuracy after each epoch
# -------------------------
# ``partial_fit`` trains exactly one epoch per call and keeps the weights, so a loop of
# calls shows the model after 1, 2, 3… epochs. The first call needs every class label.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sknets import MLPClassifier

X, y = load_digits(return_X_y=True)
X = X / 16  # pixels to 0..1
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=42
)

# sphinx_gallery_thumbnail_number = 2
model = MLPClassifier(hidden_layer_sizes=(128,), random_state=0)
epochs = np.arange(1, 31)
train_accuracy, test_accuracy = [], []
for _ in epochs:
    model.partial_fit(X_train, y_train, classes=np.unique(y))
    train_accuracy.append(model.score(X_train, y_train))
    test_accuracy.append(model.score(X_test, y_test))

for epoch in (1, 5, 10, 20, 30):
    print(
        f"after {epoch:2d} epochs: train {train_accuracy[epoch - 1]:.3f}, "
        f"test {test_accuracy[epoch - 1]:.3f}"
    )

# %%
# The first epochs bring most of the gain; later ones add less and less. Training accuracy
# runs above test accuracy: the model always does best on the images it learned from, which
# is why it is judged on held-out data.
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(epochs, train_accuracy, label="train")
ax.plot(epochs, test_accuracy, label="test")
ax.set_xlabel("epochs trained")
ax.set_ylabel("accuracy")
ax.set_title("Accuracy after each epoch (partial_fit)")
ax.legend()
fig.tight_layout()

# %%
# Train and validation loss
# -------------------------
# The test set must stay untouched until the very end, so choosing the number of epochs
# needs a third set. ``validation_fraction=0.2`` holds out a stratified 20 % of the training
# rows: the network never trains on them, and ``history_`` records the loss and accuracy on
# them after every epoch.
#
# A large network with a high learning rate makes the effect easy to see.
big = MLPClassifier(
    hidden_layer_sizes=(256, 256),
    lr=3e-3,
    max_epochs=40,
    validation_fraction=0.2,
    random_state=0,
)
big.fit(X_train, y_train)
history = big.history_
print(history[["train_loss", "valid_loss", "valid_accuracy"]].round(4).iloc[::4])
print(f"lowest validation loss at epoch {big.best_epoch_}")

# %%
# The training loss keeps falling, but the validation loss stops improving and then creeps
# up again: from there on, the network fits details of the training rows that do not carry
# over to new ones — it overfits. The epoch with the lowest validation loss is
# ``best_epoch_``; training beyond it is wasted, or harmful.
fig, (loss_ax, accuracy_ax) = plt.subplots(1, 2, figsize=(10, 3.8))
loss_ax.plot(history.index, history["train_loss"], label="train")
loss_ax.plot(history.index, history["valid_loss"], label="validation")
loss_ax.axvline(big.best_epoch_, color="grey", linestyle="--", label="best_epoch_")
loss_ax.set_yscale("log")
loss_ax.set_xlabel("epoch")
loss_ax.set_ylabel("cross-entropy loss")
loss_ax.set_title("Loss per epoch")
loss_ax.legend()
accuracy_ax.plot(history.index, history["valid_accuracy"], color="tab:orange")
accuracy_ax.axvline(big.best_epoch_, color="grey", linestyle="--")
accuracy_ax.set_xlabel("epoch")
accuracy_ax.set_ylabel("validation accuracy")
accuracy_ax.set_title("Validation accuracy per epoch")
fig.tight_layout()

# %%
# Early stopping
# --------------
# ``early_stopping=True`` does this automatically: it holds out ``validation_fraction`` of
# the rows (10 % unless you say otherwise), stops when the validation loss has not improved
# by ``tol`` for more than ``n_iter_no_change`` epochs, and **restores the weights of the
# best epoch** — the model you get is the one at ``best_epoch_``, not the last one trained.
# ``max_epochs`` becomes an upper bound.
stopped = MLPClassifier(
    hidden_layer_sizes=(256, 256),
    lr=3e-3,
    max_epochs=200,
    early_stopping=True,
    validation_fraction=0.2,
    n_iter_no_change=10,
    random_state=0,
)
stopped.fit(X_train, y_train)
print(
    f"trained {stopped.n_epochs_} of at most 200 epochs; kept the weights of epoch "
    f"{stopped.best_epoch_}"
)

# %%
# Compare it on the test set with the network trained for all 40 epochs above, by
# accuracy and by the log-loss (the cross-entropy that early stopping watches):
from sklearn.metrics import log_loss

for name, fitted in [("early stopping", stopped), ("40 epochs", big)]:
    print(
        f"{name:>15}: {fitted.n_epochs_:3d} epochs trained, "
        f"test accuracy {fitted.score(X_test, y_test):.3f}, "
        f"test log-loss {log_loss(y_test, fitted.predict_proba(X_test)):.4f}"
    )

# %%
# On 450 test images one image is 0.2 % of accuracy, so small differences in accuracy are
# noise; the log-loss also measures how confident the right answers are. Early stopping
# watches the validation loss, so it guards against the growing over-confidence of a
# network that trains too long — and it saves the epochs that would not have helped.
#
# The stopped run's curves end ``n_iter_no_change + 1`` epochs after the best one.
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(stopped.history_.index, stopped.history_["train_loss"], label="train")
ax.plot(stopped.history_.index, stopped.history_["valid_loss"], label="validation")
ax.axvline(stopped.best_epoch_, color="grey", linestyle="--", label="weights kept")
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("cross-entropy loss")
ax.set_title("early_stopping=True, n_iter_no_change=10")
ax.legend()
fig.tight_layout()

# %%
# Because the validation rows are drawn from the training data, early stopping works
# unchanged inside a :class:`~sklearn.pipeline.Pipeline`, a cross-validation or a search:
# each fit holds out its own validation rows from the data it is given.

# %%
# Your own validation set, a learning-rate schedule, a metric per epoch
# ---------------------------------------------------------------------
# Keras users pass ``validation_data``; here the names are scikit-learn's (those of
# :class:`~sklearn.ensemble.HistGradientBoostingClassifier`): ``fit(X, y, X_val=...,
# y_val=...)``. Every training row is trained on, and the validation set you pass decides
# when to stop. ``lr_schedule="plateau"`` divides the learning rate by 5 when the monitored
# loss stalls for ``n_iter_no_change // 2`` epochs (Keras' ``ReduceLROnPlateau``), and a
# skorch ``EpochScoring`` callback takes any scikit-learn scorer name; whatever it records
# appears in ``history_`` beside the losses and the learning rate (``lr``).
from skorch.callbacks import EpochScoring

X_fit, X_val, y_fit, y_val = train_test_split(
    X_train, y_train, test_size=0.2, stratify=y_train, random_state=0
)
scheduled = MLPClassifier(
    hidden_layer_sizes=(256, 256),
    lr=3e-3,
    max_epochs=200,
    early_stopping=True,
    lr_schedule="plateau",
    callbacks=[EpochScoring("f1_macro", lower_is_better=False)],
    random_state=0,
)
scheduled.fit(X_fit, y_fit, X_val=X_val, y_val=y_val)
columns = ["train_loss", "valid_loss", "f1_macro", "lr"]
print(scheduled.history_[columns].round(5).iloc[::3])
print(
    f"stopped after {scheduled.n_epochs_} epochs, kept epoch {scheduled.best_epoch_}; "
    f"test accuracy {scheduled.score(X_test, y_test):.3f}"
)
