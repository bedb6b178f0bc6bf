"""
Quick start: a neural network in a scikit-learn pipeline
========================================================

Train :class:`~sknets.MLPClassifier` on scikit-learn's handwritten digits exactly as you would
train any scikit-learn classifier: hold out a test set, put the scaler and the network in a
pipeline, fit, then read the per-class precision and recall and the confusion matrix on
images the network has never seen.
"""

# %%
# The data
# --------
# 1 797 grey-scale images of 8×8 pixels with values 0 to 16, one digit each. Every image is
# stored as a flat row of 64 values: the layout an :class:`~sknets.MLPClassifier` reads.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

X, y = load_digits(return_X_y=True)
print(f"X: {X.shape} {X.dtype}, values {X.min():.0f} to {X.max():.0f}")
print(f"y: {y.shape}, labels {np.unique(y)}")

# %%
fig, axes = plt.subplots(2, 8, figsize=(8, 2.8))
for ax, image, label in zip(axes.ravel(), X, y):
    ax.imshow(image.reshape(8, 8), cmap="gray_r")
    ax.set_title(str(label), fontsize=10)
    ax.axis("off")
fig.suptitle("The first 16 digits and their labels")
fig.tight_layout()

# %%
# Hold out a test set
# -------------------
# A quarter of the images is kept aside to measure accuracy on data the model has not
# seen. ``stratify=y`` keeps the ten classes in the same proportions in both parts, and the
# seed makes the split repeatable.
from sklearn.model_selection import train_test_split

X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=42
)
print(f"{len(X_train)} training and {len(X_test)} test images")

# %%
# A pipeline: scaling, then the network
# -------------------------------------
# Neural networks train best on inputs of similar scale. The
# :class:`~sklearn.preprocessing.StandardScaler` learns each pixel's mean and spread on
# the training part only — inside the pipeline, it is re-fitted on each training fold of a
# cross-validation, so no information leaks from the test data.
#
# The network has one hidden layer of 128 ReLU units and a softmax output over the ten
# classes; it is trained with Adam on the cross-entropy loss for 40 epochs (passes over the
# training data). ``random_state`` fixes the initial weights and the order of the batches,
# so this page shows the same numbers every time it is built.
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknets import MLPClassifier

model = make_pipeline(
    StandardScaler(),
    MLPClassifier(hidden_layer_sizes=(128,), max_epochs=40, random_state=42),
)
model.fit(X_train, y_train)

# %%
# How well does it do?
# --------------------
# ``score`` is the accuracy, as for every scikit-learn classifier. It is higher on the
# training images than on the test images: the test score is the one to trust.
print(f"train accuracy: {model.score(X_train, y_train):.3f}")
print(f"test accuracy:  {model.score(X_test, y_test):.3f}")

# %%
# :func:`~sklearn.metrics.classification_report` gives precision, recall and F1 per class.
from sklearn.metrics import ConfusionMatrixDisplay, classification_report

y_pred = model.predict(X_test)
print(classification_report(y_test, y_pred, digits=3))

# %%
# The confusion matrix shows which digits are mistaken for which: the diagonal counts the
# correct answers, everything else is an error.
display = ConfusionMatrixDisplay.from_predictions(y_test, y_pred, cmap="Blues", colorbar=False)
display.ax_.set_title("Test set: true digit (rows) vs prediction (columns)")
display.figure_.set_size_inches(6, 6)

# %%
# One image at a time
# -------------------
# ``predict_proba`` returns one probability per class (in the order of ``classes_``) that
# sums to 1. Here are the test images the model got wrong, with how sure it was.
classifier = model[-1]
proba = model.predict_proba(X_test)
wrong = np.flatnonzero(y_pred != y_test)
print(f"{len(wrong)} of {len(y_test)} test images are misclassified")

# %%
# The first four mistakes: the image, and the probability the model gave each class.
shown = wrong[:4]
fig, axes = plt.subplots(2, len(shown), figsize=(9, 4.6), height_ratios=[3, 2], squeeze=False)
for (image_ax, proba_ax), index in zip(axes.T, shown):
    image_ax.imshow(X_test[index].reshape(8, 8), cmap="gray_r")
    image_ax.set_title(f"true {y_test[index]}, said {y_pred[index]}", fontsize=10)
    image_ax.axis("off")
    proba_ax.bar(classifier.classes_, proba[index], color="tab:blue")
    proba_ax.set_xticks(classifier.classes_)
    proba_ax.set_ylim(0, 1)
    proba_ax.set_xlabel("class")
axes[1, 0].set_ylabel("probability")
fig.suptitle("Misclassified test digits and their predicted probabilities")
fig.tight_layout()

# %%
# The training curve
# ------------------
# The fitted network keeps one row per epoch in ``history_``, a pandas DataFrame. The loss
# drops fast during the first epochs, then slowly: more epochs bring less and less. See
# :ref:`sphx_glr_auto_examples_plot_early_stopping.py` to stop training at the right time.
history = classifier.history_
print(history["train_loss"].round(4).iloc[[0, 1, 2, 9, 19, 39]].to_frame())

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(history.index, history["train_loss"], marker=".")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (cross-entropy)")
ax.set_yscale("log")
ax.set_title("Training loss per epoch")
fig.tight_layout()

# %%
# How stable is the score? Cross-validation
# -----------------------------------------
# One test split gives one number. :func:`~sklearn.model_selection.cross_val_score` trains
# the whole pipeline five times, each time testing on a different fifth of the training
# data, and shows how much the accuracy varies from one split to another.
from sklearn.model_selection import StratifiedKFold, cross_val_score

folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=42)
scores = cross_val_score(model, X_train, y_train, cv=folds)
print("accuracy per fold:", np.round(scores, 3))
print(f"mean {scores.mean():.3f} ± {scores.std():.3f}")
