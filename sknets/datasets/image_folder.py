"""Load a folder of images laid out as ``root/<class_name>/<image files>``."""

import os
import sys
import warnings
from collections.abc import Sequence
from numbers import Integral
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .image_files import (
    COLOR_MODES,
    ImageFiles,
    _check_color_mode,
    _check_image_size,
    _check_num_workers,
    _decode_image,
    _has_image_header,
    _name_files,
    _read_errors,
)

# With verbose="auto", folders with more files than this show a progress bar (on a terminal).
AUTO_PROGRESS_MIN_FILES = 500


def _check_extensions(extensions) -> tuple[str, ...] | None:
    if extensions is None:
        return None
    if isinstance(extensions, str):
        extensions = [extensions]
    if not extensions or not all(isinstance(ext, str) and ext.strip(".") for ext in extensions):
        raise ValueError(
            "extensions must be None or a non-empty list of file suffixes such as "
            f"['.png', '.jpg'], got {extensions!r}"
        )
    return tuple("." + ext.lower().lstrip(".") for ext in extensions)


def _check_verbose(verbose) -> None:
    if verbose == "auto":
        return
    if not isinstance(verbose, Integral) or verbose < 0:
        raise ValueError(f"verbose must be 'auto', 0, 1 (or False/True), got {verbose!r}")


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _find_classes(root: Path, classes: Sequence[str] | None) -> list[str]:
    available = sorted(
        entry.name for entry in os.scandir(root) if entry.is_dir() and not _is_hidden(entry.name)
    )
    if not available:
        raise ValueError(
            f"path={str(root)!r} has no class subfolders; expected the layout "
            "path/<class_name>/<image files>"
        )
    if classes is None:
        return available
    if isinstance(classes, str) or len(classes) == 0:
        raise ValueError(f"classes must be None or a non-empty list of names, got {classes!r}")
    missing = [name for name in classes if name not in available]
    if missing:
        raise ValueError(
            f"classes={list(classes)!r} names folders not found in {str(root)!r}: {missing}; "
            f"available: {available}"
        )
    if len(set(classes)) != len(classes):
        raise ValueError(f"classes={list(classes)!r} contains duplicates")
    return list(classes)


def _list_files(class_dir: Path, extensions: tuple[str, ...] | None) -> list[Path]:
    """Non-hidden files under ``class_dir``, recursively, sorted by their path parts."""
    files = []
    for folder, subfolders, names in os.walk(class_dir):
        # Pruning in place stops os.walk from descending into hidden folders.
        subfolders[:] = [name for name in subfolders if not _is_hidden(name)]
        for name in names:
            if _is_hidden(name):
                continue
            if extensions is not None and os.path.splitext(name)[1].lower() not in extensions:
                continue
            files.append(Path(folder) / name)
    # os.walk's order depends on the file system; sorting makes rows reproducible.
    return sorted(files, key=lambda file: file.relative_to(class_dir).parts)


def load_image_folder(
    path: str | os.PathLike,
    image_size: tuple[int, int] = (64, 64),
    color_mode: str = "rgb",
    *,
    extensions: Sequence[str] | None = None,
    classes: Sequence[str] | None = None,
    return_paths: bool = False,
    verbose: int | str = "auto",
    lazy: bool = False,
    num_workers: int = 0,
) -> (
    tuple[np.ndarray | ImageFiles, np.ndarray]
    | tuple[np.ndarray | ImageFiles, np.ndarray, list[str]]
):
    """Load images stored as ``path/<class_name>/<image files>`` into arrays.

    Each subfolder of ``path`` is a class, named after the folder; its files (searched
    recursively) are its samples. Every image is converted to ``color_mode`` and resized
    to ``image_size``, giving one array ready for a CNN estimator. Needs Pillow
    (``pip install 'sknets[images]'``).

    Files that Pillow cannot read (corrupt images, stray text files) are skipped with a
    single warning naming them; hidden files and folders (names starting with ``.``,
    such as ``.DS_Store``) are ignored silently, and so are files directly inside ``path``.

    With ``lazy=True``, no image is decoded: ``X`` is an :class:`ImageFiles`, which stands
    for the same array and decodes the files of a batch when asked, for folders larger
    than memory (see :ref:`large_data`). Only the header of each file is read here, to skip
    the files that are not images.

    Parameters
    ----------
    path : str or path-like
        Root folder, with one subfolder per class.
    image_size : tuple of (int, int), default=(64, 64)
        ``(height, width)`` every image is resized to, with bilinear interpolation
        (antialiased when shrinking). The aspect ratio is not kept.
    color_mode : {"rgb", "grayscale"}, default="rgb"
        ``"rgb"`` gives 3 channels, ``"grayscale"`` 1. Images in other modes (RGBA,
        palette, grayscale, CMYK) are converted; an alpha channel is dropped.
    extensions : list of str, default=None
        Only files with these suffixes (case-insensitive, e.g. ``[".png", ".jpg"]``) are
        read; others are ignored without a warning. ``None`` tries every file, so a
        stray non-image file is reported in the warning.
    classes : list of str, default=None
        Subfolders to load, in the order given. ``None`` loads all of them, sorted by name.
    return_paths : bool, default=False
        Whether to also return the paths of the files loaded, one per row of ``X``.
    verbose : {"auto", 0, 1}, default="auto"
        ``1`` shows a progress bar on stderr, ``0`` never does. ``"auto"`` shows it only
        when there are more than 500 files and stderr is a terminal.
    lazy : bool, default=False
        Whether to return the files as an :class:`ImageFiles` that decodes them batch by
        batch, instead of decoding them all into one array.
    num_workers : int, default=0
        With ``lazy=True``, how many :class:`torch.utils.data.DataLoader` worker
        processes decode the batches of sknets estimators (0: the process that trains);
        see :class:`ImageFiles`. Must be 0 when ``lazy=False``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_channels, height, width), dtype uint8, or ImageFiles
        The images, channels first, grouped by class in class order and sorted by file
        path within a class (``a/x.png`` before ``a/y.png`` before ``b.png``). With
        ``lazy=True``, an :class:`ImageFiles` of that shape, whose ``np.asarray`` is the
        array ``lazy=False`` gives.
    y : ndarray of shape (n_samples,), dtype str
        The class (folder name) of each image.
    paths : list of str
        The file of each image, returned only when ``return_paths=True``.

    Raises
    ------
    ImportError
        If Pillow is not installed.
    ValueError
        If ``path`` is not an existing folder, has no class subfolders, a name in
        ``classes`` is not one of them, no file can be read as an image, or an argument
        has an invalid value.

    Warns
    -----
    UserWarning
        Once, if some files could not be read as images, naming the first few. With
        ``lazy=True``, a file whose header reads but whose pixels do not (a truncated
        image) is found only when decoded: :meth:`ImageFiles.gather` warns then and gives
        zeros for it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from PIL import Image
    >>> from sknets.datasets import load_image_folder
    >>> tmp_dir = tempfile.TemporaryDirectory()
    >>> root = pathlib.Path(tmp_dir.name)
    >>> for name, color in [("cat", "red"), ("dog", "blue")]:
    ...     (root / name).mkdir()
    ...     Image.new("RGB", (40, 30), color).save(root / name / "0.png")
    >>> X, y = load_image_folder(root, image_size=(32, 32))
    >>> X.shape, X.dtype, y.tolist()
    ((2, 3, 32, 32), dtype('uint8'), ['cat', 'dog'])
    >>> X[1, :, 0, 0].tolist()  # blue
    [0, 0, 255]

    Lazily, the same images are decoded only when needed:

    >>> X_lazy, y = load_image_folder(root, image_size=(32, 32), lazy=True)
    >>> X_lazy.shape
    (2, 3, 32, 32)
    >>> bool((np.asarray(X_lazy) == X).all())
    True
    >>> tmp_dir.cleanup()
    """
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError("load_image_folder needs Pillow: pip install 'sknets[images]'") from exc

    height, width = _check_image_size(image_size)
    _check_color_mode(color_mode)
    pil_mode, n_channels = COLOR_MODES[color_mode]
    suffixes = _check_extensions(extensions)
    _check_verbose(verbose)
    num_workers = _check_num_workers(num_workers)
    if num_workers and not lazy:
        raise ValueError(
            f"num_workers={num_workers} needs lazy=True: without it every image is decoded "
            "here, in this process"
        )
    root = Path(path)
    if not root.exists():
        raise ValueError(f"path={str(path)!r} does not exist")
    if not root.is_dir():
        raise ValueError(f"path={str(path)!r} is not a directory")

    class_names = _find_classes(root, classes)
    files = [(file, name) for name in class_names for file in _list_files(root / name, suffixes)]
    if verbose == "auto":
        show_progress = len(files) > AUTO_PROGRESS_MIN_FILES and sys.stderr.isatty()
    else:
        show_progress = bool(verbose)
    progress = tqdm(
        files,
        desc="Listing images" if lazy else "Loading images",
        unit="file",
        disable=not show_progress,
    )

    read_errors = _read_errors(Image)
    kept: list[tuple[Path, str]] = []
    skipped: list[Path] = []
    if lazy:
        for file, name in progress:
            if _has_image_header(file, read_errors):
                kept.append((file, name))
            else:
                skipped.append(file)
    else:
        X = np.empty((len(files), n_channels, height, width), dtype=np.uint8)
        for file, name in progress:
            try:
                X[len(kept)] = _decode_image(file, pil_mode, (height, width))
            except read_errors:
                skipped.append(file)
                continue
            kept.append((file, name))

    if not kept:
        raise ValueError(
            f"no readable images found in path={str(path)!r}: {len(files)} files tried in "
            f"classes {class_names}"
        )
    if skipped:
        warnings.warn(
            f"skipped {len(skipped)} of {len(files)} files that could not be read as images: "
            f"{_name_files(skipped, root)}",
            UserWarning,
            stacklevel=2,
        )
    paths = [str(file) for file, _ in kept]
    if lazy:
        X = ImageFiles(paths, (height, width), color_mode, num_workers=num_workers, root=str(root))
    elif skipped:
        X = X[: len(kept)].copy()  # drop the rows reserved for skipped files
    y = np.array([name for _, name in kept])
    if return_paths:
        return X, y, paths
    return X, y
