"""
Train a CNN on a folder of image files
======================================

Photos usually come as files sorted into one folder per class. This example writes such a
folder (from scikit-learn's digits, so nothing is downloaded), including the debris real
folders contain, reads it with :func:`~sknets.datasets.load_image_folder` and trains a
:class:`~sknets.CNNClassifier` on the pixels.
"""

# %%
# A folder of PNG files, one subfolder per class
# ----------------------------------------------
# Every digit becomes a 32×32 grey PNG file in ``root/<digit name>/``. Like a real
# collection, the folder also holds a file that is not an image (``notes.txt``) and a
# corrupt one (``seven/broken.png``, cut off after a few bytes).
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

digits = load_digits()
temporary_folder = tempfile.TemporaryDirectory()
root = Path(temporary_folder.name)
for index, (image, label) in enumerate(zip(digits.images, digits.target)):
    folder = root / NAMES[label]
    folder.mkdir(exist_ok=True)
    pixels = (image * 255 / 16).round().astype(np.uint8)
    Image.fromarray(pixels).resize((32, 32), Image.Resampling.BILINEAR).save(
        folder / f"{index:04d}.png"
    )
(root / "seven" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
(root / "three" / "notes.txt").write_text("collected in 1998\n")
n_files = sum(1 for path in root.rglob("*") if path.is_file())
print(f"{n_files} files in the class folders {sorted(path.name for path in root.iterdir())}")

# %%
# Load it
# -------
# ``load_image_folder`` converts every image to grayscale, resizes it (here to 16×16) and
# returns ``X`` as uint8 ``(n_samples, channels, height, width)`` with the folder names as
# labels. Files it cannot read are skipped with one warning that names them.
import warnings

from sknets.datasets import load_image_folder

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    X, y = load_image_folder(root, image_size=(16, 16), color_mode="grayscale")
for warning in caught:
    print(f"{warning.category.__name__}: {warning.message}")
print(f"X: {X.shape} {X.dtype}, values {X.min()}..{X.max()}; y: {y[:3]}...")
names, counts = np.unique(y, return_counts=True)
print("images per class:", ", ".join(f"{name} {count}" for name, count in zip(names, counts)))

fig, axes = plt.subplots(1, 10, figsize=(10, 1.5))
for ax, name in zip(axes, NAMES):
    ax.imshow(X[np.flatnonzero(y == name)[0], 0], cmap="gray_r")
    ax.set_title(name, fontsize=9)
    ax.axis("off")
fig.suptitle("One loaded image per class folder")
fig.tight_layout()

# %%
# Train and evaluate
# ------------------
# The uint8 pixels go to the network as they are: :class:`~sknets.CNNClassifier` divides
# uint8 input by 255, like torchvision's ``ToTensor``. The string labels need no encoding
# either; predictions come back as folder names.
from sklearn.model_selection import train_test_split

from sknets import CNNClassifier

X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=42
)
clf = CNNClassifier(max_epochs=20, random_state=42).fit(X_train, y_train)
print(f"input_shape_={clf.input_shape_}, classes_={clf.classes_.tolist()}")
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")
print("first test predictions:", clf.predict(X_test[:5]).tolist())

# %%
# The files are deleted with their temporary folder.
temporary_folder.cleanup()
