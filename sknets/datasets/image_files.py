"""Image files as a sample source: an array of images that stays on disk until a batch needs it.

The decoding of one file lives here, and both paths use it: :func:`load_image_folder` decodes
every file at once, :class:`ImageFiles` the files of one batch, so their pixels are the same.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from numbers import Integral
from pathlib import Path

import numpy as np

from .._sources import SampleSource

# color_mode -> (Pillow mode, number of channels)
COLOR_MODES: dict[str, tuple[str, int]] = {"rgb": ("RGB", 3), "grayscale": ("L", 1)}

# How many files a warning names before summarising the rest as "and N more".
_N_FILES_NAMED = 5


def _import_pillow():
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError("reading images needs Pillow: pip install 'sknets[images]'") from exc
    return Image


def _read_errors(Image) -> tuple[type[Exception], ...]:
    # UnidentifiedImageError and truncated files are OSErrors; some decoders raise the others
    # on malformed data.
    return (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)


def _check_image_size(image_size) -> tuple[int, int]:
    if (
        isinstance(image_size, str)
        or not isinstance(image_size, Sequence)
        or len(image_size) != 2
        or not all(
            isinstance(size, Integral) and not isinstance(size, bool) and size > 0
            for size in image_size
        )
    ):
        raise ValueError(
            f"image_size must be a pair of positive integers (height, width), got {image_size!r}"
        )
    return int(image_size[0]), int(image_size[1])


def _check_color_mode(color_mode) -> None:
    if not isinstance(color_mode, str) or color_mode not in COLOR_MODES:
        raise ValueError(f"color_mode must be one of {sorted(COLOR_MODES)}, got {color_mode!r}")


def _check_num_workers(num_workers) -> int:
    if not isinstance(num_workers, Integral) or isinstance(num_workers, bool) or num_workers < 0:
        raise ValueError(f"num_workers must be a non-negative integer, got {num_workers!r}")
    return int(num_workers)


def _decode_image(file: str | os.PathLike, pil_mode: str, image_size: tuple[int, int]):
    """The pixels of one file as a ``(channels, height, width)`` uint8 array.

    Converted to ``pil_mode`` and resized to ``image_size`` with bilinear interpolation.
    Raises one of :func:`_read_errors` when the file is not a readable image.
    """
    Image = _import_pillow()
    height, width = image_size
    with Image.open(file) as image:
        if image.mode == "P":
            # Palette transparency only converts cleanly through RGBA.
            image = image.convert("RGBA")
        pixels = image.convert(pil_mode).resize((width, height), Image.Resampling.BILINEAR)
    # Pillow arrays are (height, width[, channels]); the estimators want channels first.
    return np.asarray(pixels).reshape(height, width, -1).transpose(2, 0, 1)


def _has_image_header(file: str | os.PathLike, read_errors) -> bool:
    """Whether Pillow recognises ``file`` as an image, reading its header but not its pixels."""
    Image = _import_pillow()
    try:
        with Image.open(file):
            return True
    except read_errors:
        return False


def _name_files(files: Sequence[str | os.PathLike], root: str | os.PathLike | None) -> str:
    """The first few files, relative to ``root`` where they are inside it, then "and N more"."""
    names = []
    for file in files[:_N_FILES_NAMED]:
        try:
            names.append(str(Path(file).relative_to(root)) if root is not None else str(file))
        except ValueError:
            names.append(str(file))
    more = len(files) - _N_FILES_NAMED
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


class ImageFiles(SampleSource):
    """Image files read a batch at a time: an array of images that stays on disk.

    Stands for the uint8 array of shape ``(n_files, n_channels, height, width)`` that
    :func:`load_image_folder` would return, without reading it: :meth:`gather` decodes
    the files of the rows asked for, converted and resized exactly as
    :func:`load_image_folder` does. Indexing (``files[indices]``, a boolean mask, a
    slice) gives the files of those rows, decoding nothing, so scikit-learn's splitters
    (``train_test_split``, cross-validation) split it like an array, and
    ``np.asarray(files)`` decodes every file. Usually made by
    ``load_image_folder(..., lazy=True)``; needs Pillow (``pip install 'sknets[images]'``).

    Parameters
    ----------
    paths : sequence of str or path-like
        The image files, one per row.
    image_size : tuple of (int, int), default=(64, 64)
        ``(height, width)`` every image is resized to, with bilinear interpolation
        (antialiased when shrinking). The aspect ratio is not kept.
    color_mode : {"rgb", "grayscale"}, default="rgb"
        ``"rgb"`` gives 3 channels, ``"grayscale"`` 1. Images in other modes are
        converted; an alpha channel is dropped.
    num_workers : int, default=0
        With more than 0, sknets estimators decode their batches in that many
        :class:`torch.utils.data.DataLoader` worker processes, while the network trains on
        the previous ones; with 0, in the process that trains.
    root : str or path-like, default=None
        Folder the files are named relative to in warnings and in the ``repr``.

    Attributes
    ----------
    paths : list of str
        The file of each row.
    image_size : tuple of (int, int)
        ``(height, width)`` of the images.
    color_mode : str
        ``"rgb"`` or ``"grayscale"``.
    num_workers : int
        How many worker processes decode batches (0: the training process).
    root : str or None
        Folder of the files, for messages.

    Warns
    -----
    UserWarning
        From :meth:`gather`, when a file cannot be decoded (a truncated image, for
        instance): its row is filled with zeros and the warning names the file.
        :meth:`gather_with_warnings` returns the message instead, so that a worker
        process can hand it to the process that trains.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from PIL import Image
    >>> from sknets.datasets import ImageFiles
    >>> tmp_dir = tempfile.TemporaryDirectory()
    >>> root = pathlib.Path(tmp_dir.name)
    >>> for name, color in [("red", "red"), ("blue", "blue"), ("white", "white")]:
    ...     Image.new("RGB", (40, 30), color).save(root / f"{name}.png")
    >>> files = ImageFiles(sorted(root.glob("*.png")), image_size=(8, 8), root=root)
    >>> files
    ImageFiles(3 files, shape=(3, 3, 8, 8), root=...)
    >>> files[[0, 2]].paths == [files.paths[0], files.paths[2]]  # no file decoded
    True
    >>> files.gather(np.array([0, 1]))[:, :, 0, 0].tolist()  # blue.png, red.png
    [[0, 0, 255], [255, 0, 0]]
    >>> tmp_dir.cleanup()
    """

    def __init__(
        self,
        paths: Sequence[str | os.PathLike],
        image_size: tuple[int, int] = (64, 64),
        color_mode: str = "rgb",
        *,
        num_workers: int = 0,
        root: str | os.PathLike | None = None,
    ) -> None:
        if isinstance(paths, (str, os.PathLike)):
            raise ValueError(f"paths must be a list of files, got the single path {paths!r}")
        _check_color_mode(color_mode)
        # Plain data only (strings, ints): worker processes receive the source pickled.
        self.paths = [os.fspath(path) for path in paths]
        self.image_size = _check_image_size(image_size)
        self.color_mode = color_mode
        self.num_workers = _check_num_workers(num_workers)
        self.root = None if root is None else os.fspath(root)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(n_files, n_channels, height, width)``: the shape of the decoded array."""
        return (len(self.paths), COLOR_MODES[self.color_mode][1], *self.image_size)

    @property
    def dtype(self) -> np.dtype:
        """``uint8``: pixels are stored as they are decoded, 0 to 255."""
        return np.dtype(np.uint8)

    def gather_with_warnings(self, indices: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """The images of the files at ``indices``, and the warnings to show about them.

        What :meth:`gather` returns, without warning: the messages (an empty list when
        every file was decoded) are returned instead, as strings, so that a worker
        process can hand them to the process that trains.

        Parameters
        ----------
        indices : array-like of int
            Positions of the files, in any order, repeats allowed.

        Returns
        -------
        images : ndarray of shape (len(indices), n_channels, height, width), dtype uint8
            The decoded images; zeros for the files that could not be decoded.
        messages : list of str
            One message naming those files, or none.
        """
        Image = _import_pillow()
        read_errors = _read_errors(Image)
        pil_mode = COLOR_MODES[self.color_mode][0]
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        images = np.zeros((len(indices), *self.shape[1:]), dtype=np.uint8)
        undecoded = []
        for row, index in enumerate(indices.tolist()):
            try:
                images[row] = _decode_image(self.paths[index], pil_mode, self.image_size)
            except read_errors:
                undecoded.append(self.paths[index])
        if not undecoded:
            return images, []
        return images, [
            f"{len(undecoded)} files could not be decoded as images and were replaced by "
            f"zeros: {_name_files(undecoded, self.root)}"
        ]

    def gather(self, indices: np.ndarray) -> np.ndarray:
        """The images of the files at ``indices``, decoded.

        Parameters
        ----------
        indices : array-like of int
            Positions of the files, in any order, repeats allowed.

        Returns
        -------
        images : ndarray of shape (len(indices), n_channels, height, width), dtype uint8
            The decoded images, channels first.

        Warns
        -----
        UserWarning
            If some files could not be decoded, naming them; their rows are zeros.
        """
        images, messages = self.gather_with_warnings(indices)
        for message in messages:
            warnings.warn(message, UserWarning, stacklevel=2)
        return images

    def subset(self, indices: np.ndarray) -> ImageFiles:
        """The files at ``indices``, in that order, as an :class:`ImageFiles` (none decoded).

        Parameters
        ----------
        indices : array-like of int
            Positions of the files.

        Returns
        -------
        files : ImageFiles
            The same image size, color mode, workers and root, over those files.
        """
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        return ImageFiles(
            [self.paths[index] for index in indices.tolist()],
            self.image_size,
            self.color_mode,
            num_workers=self.num_workers,
            root=self.root,
        )

    def __repr__(self) -> str:
        root = "" if self.root is None else f", root={self.root!r}"
        return f"{type(self).__name__}({len(self.paths)} files, shape={self.shape}{root})"
