"""
Data augmentation: what it costs and what it buys
=================================================

With ``augmentation=ImageAugmentation(...)``, :class:`~sknets.CNNClassifier` shows the
network a randomly shifted, rotated, zoomed or flipped copy of every training image at every
epoch, so it learns features that survive those changes. The copies are made batch by batch
on the fly: nothing is written to disk, and validation data and ``predict`` never see them.
"""

# %%
# Little training data
# --------------------
# Augmentation matters most when images are few. From the 8×8 digits we keep the usual
# stratified 25 % test set, and train on only 300 of the remaining images.
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

X, y = load_digits(return_X_y=True)
images = (X / 16).astype(np.float32).reshape(-1, 1, 8, 8)
X_rest, X_test, y_rest, y_test = train_test_split(
    images, y, test_size=0.25, stratify=y, random_state=42
)
X_train, _, y_train, _ = train_test_split(
    X_rest, y_rest, train_size=300, stratify=y_rest, random_state=42
)
print(f"{len(X_train)} training images, {len(X_test)} test images")

# %%
# What the network sees
# ---------------------
# :class:`~sknets.augmentation.ImageAugmentation` draws new random parameters for every
# image of every batch: here shifts of up to 1/8 of the size (one pixel), rotations of up to
# 15 degrees and zooms of up to 10 %. Calling it on a batch shows its effect; the estimator
# calls it the same way, with a generator seeded from ``random_state``.
from sknets.augmentation import ImageAugmentation

augment = ImageAugmentation(max_shift=0.125, max_rotation=15, max_zoom=0.1)
generator = torch.Generator().manual_seed(0)
examples = torch.from_numpy(X_train[:5])
n_draws = 7
fig, axes = plt.subplots(len(examples), n_draws + 1, figsize=(1.2 * (n_draws + 1), 6.5))
for column in range(n_draws + 1):
    batch = examples if column == 0 else augment(examples, generator)
    for row, image in enumerate(batch):
        axes[row, column].imshow(image[0], cmap="gray_r", vmin=0, vmax=1)
        axes[row, column].axis("off")
    axes[0, column].set_title("original" if column == 0 else f"draw {column}", fontsize=9)
fig.suptitle("Training digits and random augmented copies")
fig.tight_layout()

# %%
# A horizontal flip, common for photos (a cat mirrored is still a cat), changes what a digit
# means: a mirrored 2 or 7 is not a digit at all. Choose transformations that keep the label.
flip = ImageAugmentation(horizontal_flip=True)
mirrored = flip(examples, torch.Generator().manual_seed(1))
fig, axes = plt.subplots(2, len(examples), figsize=(1.2 * len(examples), 2.8))
for column in range(len(examples)):
    axes[0, column].imshow(examples[column, 0], cmap="gray_r")
    axes[1, column].imshow(mirrored[column, 0], cmap="gray_r")
    axes[0, column].axis("off")
    axes[1, column].axis("off")
fig.suptitle("horizontal_flip=True flips about half of them (bottom row)")
fig.tight_layout()

# %%
# The effect
# ----------
# Three networks with the same seed and 100 epochs: without augmentation, with shifts,
# rotations and zooms, and with flips added. Each is scored on the test images as they are,
# and on the same test images moved (shifted by up to one pixel and rotated by up to 15
# degrees), as digits written less carefully would be.
from sknets import CNNClassifier

moved_test = ImageAugmentation(max_shift=0.125, max_rotation=15)(
    torch.from_numpy(X_test), torch.Generator().manual_seed(2)
).numpy()
contenders = {
    "none": None,
    "shift, rotation, zoom": augment,
    "... and flips": ImageAugmentation(
        horizontal_flip=True, max_shift=0.125, max_rotation=15, max_zoom=0.1
    ),
}
scores = {}
for name, augmentation in contenders.items():
    clf = CNNClassifier(augmentation=augmentation, random_state=42).fit(X_train, y_train)
    scores[name] = (clf.score(X_test, y_test), clf.score(moved_test, y_test))
    print(f"{name:>22}: test {scores[name][0]:.3f}, moved test {scores[name][1]:.3f}")

fig, ax = plt.subplots(figsize=(6.5, 3.5))
positions = np.arange(len(scores))
ax.bar(positions - 0.2, [s[0] for s in scores.values()], width=0.4, label="test images")
ax.bar(positions + 0.2, [s[1] for s in scores.values()], width=0.4, label="moved test images")
ax.set_xticks(positions, [f"augmentation:\n{name}" for name in scores])
ax.set_ylim(0.5, 1)
ax.set_ylabel("accuracy")
ax.legend(loc="lower right")
ax.set_title("Accuracy on test digits as they are and moved")
fig.tight_layout()

# %%
# The digits of this data set are already centred and scaled, so on the test images as they
# are, shifts and rotations change the accuracy little. Moved by a pixel or tilted, the same
# digits defeat the network trained without augmentation, while the augmented one still
# reads them. Flips, which do not keep the label, cost accuracy everywhere. Augmented
# training usually wants more epochs, since the task got harder.
#
# Two more properties: a fit with the same ``random_state`` draws the same augmentations,
# so it is reproducible; and the copies are made per batch, so the class proportions stay
# those of the training data (unlike writing augmented copies to disk for some classes). For
# imbalanced classes use ``class_weight="balanced"``.
