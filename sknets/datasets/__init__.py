"""Loaders that turn image folders and IDX files (MNIST) into numpy arrays, or into
ImageFiles, image files decoded a batch at a time; SampleSource, the base of any such
storage read a batch at a time."""

from .._sources import SampleSource
from .idx import load_idx, save_idx
from .image_files import ImageFiles
from .image_folder import load_image_folder

__all__ = ["ImageFiles", "SampleSource", "load_idx", "load_image_folder", "save_idx"]
