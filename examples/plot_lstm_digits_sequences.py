"""
Reading digits row by row with an LSTM
======================================

A recurrent network reads its input one step at a time and carries a memory (its hidden
state) from step to step; after the last step, that memory is what it classifies: a
*many-to-one* model, as in sentiment analysis. Here each 8×8 handwritten digit becomes a
sequence of 8 steps — its pixel rows, top to bottom — of 8 values each, and an
:class:`~sknets.RNNClassifier` with an LSTM cell learns to name the digit from that
sequence.
"""

# %%
# Digits as sequences
# -------------------
# scikit-learn stores each image as a flat row of 64 pixels. ``input_shape=(8, 8)`` tells
# the classifier to read every row as 8 time steps of 8 features, so the flat layout (and
# a scaler in a pipeline) keeps working. A 3-D array of shape ``(n, 8, 8)`` would do too.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

X, y = load_digits(return_X_y=True)
X = X / 16  # pixels to 0..1
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=42
)
print(f"{len(X_train)} training and {len(X_test)} test sequences of 8 steps x 8 features")

fig, axes = plt.subplots(1, 8, figsize=(8, 1.6), sharey=True)
for step, ax in enumerate(axes):
    ax.imshow(X_train[0].reshape(8, 8)[step : step + 1], cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(f"step {step + 1}")
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle(f"What the LSTM reads, one row per step (a {y_train[0]})")
fig.tight_layout()

# %%
# Training
# --------
# An LSTM of 64 units reads the 8 rows; its final hidden state goes through a linear layer
# and a softmax over the ten digits. ``validation_fraction=0.1`` holds out a tenth of the
# training images to report a validation loss after every epoch, the curve that tells when
# more training stops helping.
from sknets import RNNClassifier

model = RNNClassifier(
    "lstm",
    hidden_size=64,
    input_shape=(8, 8),
    lr=3e-3,
    max_epochs=40,
    validation_fraction=0.1,
    random_state=42,
)
model.fit(X_train, y_train)
print(f"test accuracy: {model.score(X_test, y_test):.3f}")

# %%
# Per-class precision and recall on the test images:
from sklearn.metrics import classification_report

print(classification_report(y_test, model.predict(X_test), digits=3))

# %%
# Loss curves
# -----------
# ``history_`` holds one row per epoch. As long as the validation loss follows the training
# loss down, the network is learning what generalises; once it flattens while the training
# loss keeps falling, extra epochs mostly memorise the training images (see
# ``early_stopping=True`` to stop there automatically).
history = model.history_
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(history.index, history["train_loss"], label="training")
ax.plot(history.index, history["valid_loss"], label="validation")
ax.set_xlabel("epoch")
ax.set_ylabel("loss (cross-entropy)")
ax.set_yscale("log")
ax.legend()
ax.set_title("LSTM on digit rows: loss per epoch")
fig.tight_layout()
print(history[["train_loss", "valid_loss", "valid_accuracy"]].iloc[[0, 4, 9, 19, 39]].round(3))

# %%
# How much of the digit does it need?
# -----------------------------------
# A recurrent network accepts sequences of any length, so the same fitted model can be shown
# only the first rows of each test image (a 3-D array of shape ``(n, rows, 8)``). It was
# only ever asked for an answer after the eighth row, and it shows: its state after fewer
# rows is not an answer yet: accuracy stays near chance (0.1) for the first rows and climbs
# only over the last three. A many-to-one model answers at the end of sequences like the
# ones it was trained on.
images = X_test.reshape(-1, 8, 8)
rows_read = np.arange(1, 9)
accuracy = [model.score(images[:, :rows], y_test) for rows in rows_read]
for rows, score in zip(rows_read, accuracy):
    print(f"first {rows} rows: accuracy {score:.3f}")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(rows_read, accuracy, marker="o")
ax.set_xlabel("rows read (time steps)")
ax.set_ylabel("test accuracy")
ax.set_ylim(0, 1)
ax.set_title("Accuracy after reading the first rows only")
fig.tight_layout()
