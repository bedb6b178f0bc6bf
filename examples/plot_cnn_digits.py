"""
A convolutional network on the digits images
============================================

Train :class:`~sknets.CNNClassifier` on scikit-learn's 8×8 handwritten digits, read as
images rather than flat rows: hold out a test set, watch the training and validation loss
per epoch, keep the best epoch with early stopping, and read the per-class report.
"""

# %%
# The data, as images
# -------------------
# ``load_digits`` stores each image as a row of 64 values from 0 to 16. A CNN wants images
# shaped ``(n_samples, channels, height, width)``: one grey channel of 8×8 pixels. Dividing
# by 16 brings the pixels to 0..1, the scale networks train best on.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

X, y = load_digits(return_X_y=True)
images = (X / 16).reshape(-1, 1, 8, 8)
print(f"images: {images.shape}, values {images.min():.0f}..{images.max():.0f}")

X_train, X_test, y_train, y_test = train_test_split(
    images, y, test_size=0.25, stratify=y, random_state=42
)
print(f"{len(X_train)} training and {len(X_test)} test images")

# %%
# The network
# -----------
# The defaults of :class:`~sknets.CNNClassifier` are the classic small CNN: two blocks of
# 3×3 convolutions with 32 and 64 filters, each followed by ReLU and a 2×2 max-pooling, then
# a dense layer of 128 ReLU units and a softmax over the ten digits, trained with Adam.
#
# ``early_stopping=True`` holds out 10 % of the training images (stratified) as a
# validation set, stops when the validation loss has not improved for ``n_iter_no_change`` epochs
# and restores the weights of the best epoch. ``random_state`` makes the run repeatable.
from sknets import CNNClassifier

clf = CNNClassifier(early_stopping=True, n_iter_no_change=15, random_state=42)
clf.fit(X_train, y_train)
print(f"trained {clf.n_epochs_} epochs, kept epoch {clf.best_epoch_}")

# %%
# ``summary()`` is Keras' ``model.summary()``: each layer with its output shape for one
# batch of two images, its parameters and whether they train (made by torchinfo).
print(clf.summary())

# %%
# Training and validation loss
# ----------------------------
# ``history_`` holds one row per epoch. The training loss keeps falling; the validation
# loss falls, then flattens (or creeps up): past that point, more epochs only fit the
# training images better, not new ones. Early stopping keeps the weights of the epoch with
# the lowest validation loss, marked below.
history = clf.history_
print(history.round(4).head())

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(history.index, history["train_loss"], label="training loss")
ax.plot(history.index, history["valid_loss"], label="validation loss")
ax.axvline(clf.best_epoch_, color="gray", linestyle="--", label=f"best epoch ({clf.best_epoch_})")
ax.set_xlabel("epoch")
ax.set_ylabel("cross-entropy")
ax.set_yscale("log")
ax.legend()
ax.set_title("Loss per epoch")
fig.tight_layout()

# %%
# Results on the test images
# --------------------------
# Precision, recall and F1 per digit, on images the network has never seen.
from sklearn.metrics import classification_report

y_pred = clf.predict(X_test)
print(classification_report(y_test, y_pred, digits=3))
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# The few mistakes, with the probability the network gave its answer:
proba = clf.predict_proba(X_test)
wrong = np.flatnonzero(y_pred != y_test)
n_shown = max(min(len(wrong), 8), 1)
fig, axes = plt.subplots(1, n_shown, figsize=(1.6 * n_shown, 2.6), squeeze=False)
for ax, index in zip(axes[0], wrong):
    ax.imshow(X_test[index, 0], cmap="gray_r")
    ax.set_title(f"{y_test[index]} → {y_pred[index]}\n{proba[index].max():.0%}", fontsize=9)
for ax in axes[0]:
    ax.axis("off")
fig.suptitle("Misclassified test digits: true → predicted")
fig.tight_layout()

# %%
# The same network from flat rows
# -------------------------------
# Inside a scikit-learn pipeline the data stays a table of rows. ``input_shape=(1, 8, 8)``
# tells the network how to read each row as an image, so it can follow a
# :class:`~sklearn.preprocessing.StandardScaler` (or a ``ColumnTransformer``).
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

rows_train, rows_test = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
pipeline = make_pipeline(
    StandardScaler(), CNNClassifier(input_shape=(1, 8, 8), max_epochs=30, random_state=42)
)
pipeline.fit(rows_train, y_train)
print(f"pipeline test accuracy: {pipeline.score(rows_test, y_test):.3f}")
