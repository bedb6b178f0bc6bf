"""Read and write IDX files, the format of MNIST and Fashion-MNIST.

An IDX file is a 4-byte magic number -- two zero bytes, a type code and the number of
dimensions -- then one big-endian ``uint32`` per dimension, then the values in C order,
big-endian. The files are often distributed gzip-compressed (``*-ubyte.gz``).
"""

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

# IDX type code -> numpy dtype of the values as stored (big-endian).
_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_TYPE_CODES = {dtype.newbyteorder("="): code for code, dtype in _IDX_DTYPES.items()}
_ALLOWED_TYPES = ", ".join(
    f"0x{code:02X} {dtype.newbyteorder('=').name}" for code, dtype in _IDX_DTYPES.items()
)
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: str | os.PathLike) -> bytes:
    """Return the file's content, gunzipped when it starts with the gzip magic bytes."""
    with open(path, "rb") as file:
        content = file.read()
    # The gzip magic, not the suffix, decides: downloads are sometimes renamed either way,
    # and an IDX file always starts with two zero bytes, so the two cannot be confused.
    if content[:2] != _GZIP_MAGIC:
        return content
    try:
        return gzip.decompress(content)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{path}: the gzip stream is truncated or corrupt ({exc})") from exc


def _parse_idx(path: str | os.PathLike) -> np.ndarray:
    content = _read_bytes(path)
    if len(content) < 4 or content[:2] != b"\x00\x00":
        raise ValueError(
            f"{path}: bad magic number {content[:4].hex() or '(empty file)'}; an IDX file "
            "starts with two zero bytes, a type code and the number of dimensions"
        )
    type_code, ndim = content[2], content[3]
    if type_code not in _IDX_DTYPES:
        raise ValueError(
            f"{path}: unknown IDX type code 0x{type_code:02X}; allowed: {_ALLOWED_TYPES}"
        )
    if ndim == 0:
        raise ValueError(f"{path}: the header declares 0 dimensions; expected at least 1")
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        raise ValueError(
            f"{path}: truncated header; {ndim} dimensions need {header_size} header bytes, "
            f"the file holds {len(content)}"
        )
    shape = tuple(int(size) for size in np.frombuffer(content, ">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(content) - header_size
    if found != expected:
        problem = "truncated" if found < expected else "longer than its header says"
        raise ValueError(
            f"{path}: data {problem}; the header says shape {shape} of "
            f"{dtype.newbyteorder('=').name}, i.e. {expected} data bytes, but the file holds "
            f"{found}"
        )
    values = np.frombuffer(content, dtype, offset=header_size).reshape(shape)
    # astype copies into native byte order, which also makes the array writable.
    return values.astype(dtype.newbyteorder("="))


def load_idx(
    images_path: str | os.PathLike, labels_path: str | os.PathLike | None = None
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Load an IDX file (MNIST, Fashion-MNIST), plain or gzip-compressed.

    Compression is detected from the file's first bytes, so ``train-images-idx3-ubyte``
    and ``train-images-idx3-ubyte.gz`` are both read whatever their names.

    Parameters
    ----------
    images_path : str or path-like
        IDX file with the samples, e.g. ``train-images-idx3-ubyte.gz``.
    labels_path : str or path-like, default=None
        IDX file with one label per sample, e.g. ``train-labels-idx1-ubyte.gz``.

    Returns
    -------
    X : ndarray
        The samples, with the shape and dtype the file's header declares, e.g.
        ``(60000, 28, 28)`` ``uint8`` for MNIST. Returned alone when ``labels_path`` is None.
    y : ndarray of shape (n_samples,)
        The labels, returned as ``(X, y)`` when ``labels_path`` is given.

    Raises
    ------
    ValueError
        If a file has a bad magic number or unknown type code, if its size disagrees
        with its header, if the labels are not 1-D, or if the two files hold different
        numbers of samples.

    See Also
    --------
    save_idx : Write an array as an IDX file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from sknets.datasets import load_idx, save_idx
    >>> tmp_dir = tempfile.TemporaryDirectory()
    >>> folder = pathlib.Path(tmp_dir.name)
    >>> save_idx(folder / "images-idx3-ubyte.gz", np.zeros((3, 28, 28), dtype=np.uint8))
    >>> save_idx(folder / "labels-idx1-ubyte", np.array([7, 2, 1], dtype=np.uint8))
    >>> X, y = load_idx(folder / "images-idx3-ubyte.gz", folder / "labels-idx1-ubyte")
    >>> X.shape, X.dtype, y.tolist()
    ((3, 28, 28), dtype('uint8'), [7, 2, 1])
    >>> tmp_dir.cleanup()
    """
    images = _parse_idx(images_path)
    if labels_path is None:
        return images
    labels = _parse_idx(labels_path)
    if labels.ndim != 1:
        raise ValueError(
            f"{labels_path}: labels must be 1-D, the file holds an array of shape {labels.shape}"
        )
    if len(labels) != len(images):
        raise ValueError(
            f"{images_path} holds {len(images)} samples but {labels_path} holds "
            f"{len(labels)} labels; expected one label per sample"
        )
    return images, labels


def save_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write an array as an IDX file, gzip-compressed when ``path`` ends in ``.gz``.

    Parameters
    ----------
    path : str or path-like
        Destination file; overwritten if it exists.
    array : array-like of at least one dimension
        Values to write. Its dtype must have an IDX type code: ``uint8``, ``int8``,
        ``int16``, ``int32``, ``float32`` or ``float64`` (cast first, e.g.
        ``labels.astype(np.uint8)``; no cast is made silently because it could lose values).

    Raises
    ------
    ValueError
        If the array is 0-D, has more than 255 dimensions or a dimension of 2**32 or more,
        or has a dtype without an IDX type code.

    See Also
    --------
    load_idx : Read IDX files back.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from sknets.datasets import load_idx, save_idx
    >>> tmp_dir = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp_dir.name) / "values.idx.gz"
    >>> save_idx(path, np.arange(6, dtype=np.int32).reshape(2, 3))
    >>> load_idx(path)
    array([[0, 1, 2],
           [3, 4, 5]], dtype=int32)
    >>> tmp_dir.cleanup()
    """
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _TYPE_CODES:
        raise ValueError(
            f"array dtype {array.dtype.name} has no IDX type code; allowed: {_ALLOWED_TYPES}"
        )
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"array has {array.ndim} dimensions; IDX files hold 1 to 255 dimensions")
    if max(array.shape) >= 2**32:
        raise ValueError(
            f"array shape {array.shape} has a dimension of 2**32 or more; IDX stores "
            "each dimension as a uint32"
        )
    type_code = _TYPE_CODES[native]
    header = bytes([0, 0, type_code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    content = header + np.ascontiguousarray(array, _IDX_DTYPES[type_code]).tobytes()
    if Path(path).suffix.lower() == ".gz":
        # mtime=0 keeps the output byte-identical across runs.
        content = gzip.compress(content, mtime=0)
    with open(path, "wb") as file:
        file.write(content)
