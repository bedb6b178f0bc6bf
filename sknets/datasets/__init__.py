"""Loaders that turn image folders and IDX files (MNIST) into numpy arrays."""

from .idx import load_idx, save_idx
from .image_folder import load_image_folder

__all__ = ["load_idx", "load_image_folder", "save_idx"]
