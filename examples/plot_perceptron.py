"""
The perceptron, and "overfit a tiny subset first"
=================================================

A classic first network answers one question: *is this digit a 5?* It has a single layer
of weights and no hidden layer — a perceptron. With :class:`~sknets.MLPClassifier` that is
``hidden_layer_sizes=()``.

Along the way, two debugging habits every course teaches:

1. **Before training on everything, train on a handful of samples.** A working model can
   memorise 20 examples perfectly; if it cannot, something is broken (the data, the labels,
   the output layer, the learning rate) and more data or epochs will not fix it.
2. **Look at the raw outputs.** A classifier's outputs must be probabilities — between 0
   and 1, summing to 1 — or thresholding them means nothing.
"""

# %%
# A yes/no question
# -----------------
# The labels can be of any type: here strings. Only about one image in ten is a 5, so a
# model that always answers "not 5" is already right 90 % of the time; any real model has to
# beat that.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

# sphinx_gallery_thumbnail_number = 2
X, digit = load_digits(return_X_y=True)
X = X / 16  # pixels to 0..1
y = np.where(digit == 5, "5", "not 5")
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=42
)
labels, counts = np.unique(y_train, return_counts=True)
print("training images per label:", dict(zip(labels.tolist(), counts.tolist())))
baseline = np.mean(y_test == "not 5")
print(f"always answering 'not 5' scores {baseline:.3f} on the test set")

# %%
# Step 1: can it memorise 20 samples?
# -----------------------------------
# Take 10 fives and 10 other digits, train the perceptron on them alone, and check it gets
# all 20 right. ``hidden_layer_sizes=()`` leaves one linear layer from the 64 pixels to the
# outputs, followed by a softmax.
from sknets import MLPClassifier

tiny = np.concatenate(
    [np.flatnonzero(y_train == "5")[:10], np.flatnonzero(y_train == "not 5")[:10]]
)
X_tiny, y_tiny = X_train[tiny], y_train[tiny]

perceptron = MLPClassifier(hidden_layer_sizes=(), lr=0.05, max_epochs=100, random_state=0)
perceptron.fit(X_tiny, y_tiny)
print(f"accuracy on the 20 samples: {perceptron.score(X_tiny, y_tiny):.2f}")
print(f"final training loss: {perceptron.history_['train_loss'].iloc[-1]:.4f}")

# %%
# The loss goes steadily towards zero: the model, the labels and the optimiser work
# together. (This says nothing about unseen images yet — 20 samples are far too few to
# generalise; that is not the point of the check.)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(perceptron.history_.index, perceptron.history_["train_loss"])
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.set_yscale("log")
ax.set_title("Perceptron on 20 samples: the loss must go to zero")
fig.tight_layout()

# %%
# Step 2: are the outputs probabilities?
# --------------------------------------
# The tutorial version of this model has a linear output trained with a squared error. Its
# raw outputs are not probabilities at all: a linear regression on 0/1 targets, for
# instance, answers values below 0 and above 1.
from sklearn.linear_model import LinearRegression

linear = LinearRegression().fit(X_train, y_train == "5")
print("linear outputs on 10 test images:", np.round(linear.predict(X_test[:10]), 2))

# %%
# The network inside an sknets classifier also ends with a linear layer: its raw outputs
# (logits) can be any real number. You can see them by calling the trained PyTorch module,
# ``module_``, directly. ``predict_proba`` applies the softmax, which turns them into
# probabilities in the order of ``classes_``: between 0 and 1 and summing to 1 on each row.
import pandas as pd
import torch

perceptron.fit(X_train, y_train)  # now the real training, on all 1 347 images

# Five test fives and five other test digits.
fives, others = np.flatnonzero(y_test == "5"), np.flatnonzero(y_test != "5")
rows = np.concatenate([fives[:5], others[:5]])
module = perceptron.module_
with torch.no_grad():
    inputs = torch.as_tensor(X_test[rows], dtype=torch.float32)
    logits = module(inputs.to(next(module.parameters()).device)).cpu().numpy()
proba = perceptron.predict_proba(X_test[rows])

outputs = pd.DataFrame(
    {
        "true label": y_test[rows],
        "logit '5'": logits[:, 0],
        "logit 'not 5'": logits[:, 1],
        "P('5')": proba[:, 0],
        "P('not 5')": proba[:, 1],
        "row sum": proba.sum(axis=1),
    }
)
print("classes_:", perceptron.classes_)
print(outputs.to_string(index=False, float_format="{:.4f}".format))

# %%
# Two softmax outputs for two classes are the same model as one sigmoid unit: ``P('5')``
# is the sigmoid of the difference of the two logits.
sigmoid_of_difference = 1 / (1 + np.exp(-(logits[:, 0] - logits[:, 1])))
print(np.allclose(proba[:, 0], sigmoid_of_difference, atol=1e-6))

# %%
# Step 3: how good is it?
# -----------------------
# Compare with the baseline, and look at recall for the 5s: accuracy alone hides how many
# fives are missed when they are only a tenth of the data.
from sklearn.metrics import classification_report

print(f"perceptron test accuracy: {perceptron.score(X_test, y_test):.3f}")
print(classification_report(y_test, perceptron.predict(X_test), digits=3))

# %%
# A perceptron's weights can be drawn as an image: one weight per pixel, for the
# difference between the "5" and the "not 5" outputs. Red pixels push towards "5", blue
# ones away from it.
weights = module.layers[-1].weight.detach().cpu().numpy()
evidence_for_5 = (weights[0] - weights[1]).reshape(8, 8)
limit = np.abs(evidence_for_5).max()

fig, axes = plt.subplots(1, 2, figsize=(7, 3.5))
axes[0].imshow(X_train[y_train == "5"].mean(axis=0).reshape(8, 8), cmap="gray_r")
axes[0].set_title("average training 5")
image = axes[1].imshow(evidence_for_5, cmap="RdBu_r", vmin=-limit, vmax=limit)
axes[1].set_title("perceptron weights for '5'")
for ax in axes:
    ax.axis("off")
fig.colorbar(image, ax=axes[1], shrink=0.8)
fig.tight_layout()
