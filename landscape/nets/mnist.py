"""MNIST from the official IDX files, decoded straight to uint8 tensors on the device.

Where the data is looked for, as for CIFAR-10 (``data``): the ``data_dir`` argument, the
``LANDSCAPE_DATA`` environment variable, then ``~/.cache/landscape``; each may hold ``mnist/`` or
be that folder itself, with the four official files (gzip-compressed, ``*-ubyte.gz``, or
uncompressed). With nothing found the files are downloaded (from ``LANDSCAPE_MNIST_URL`` if set,
else the official mirror), each checked against its md5 and renamed into place. A folder a user
points at is read as it is: md5 sums are checked on downloads only.

IDX: a big-endian header, magic 0x00000803 for images (then count, rows, columns) or 0x00000801
for labels (then count), then the uint8 values. No torchvision.
"""

from __future__ import annotations

import gzip
import os
import urllib.error
from pathlib import Path

import numpy as np
import torch

from .images import DataUnavailable, ImageData, candidate_folders, download_file, subsets

URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"  # the files of yann.lecun.com/exdb/mnist
FOLDER = "mnist"
FILES = {  # name: (md5 of the official file, magic number)
    "train-images-idx3-ubyte.gz": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", 0x803),
    "train-labels-idx1-ubyte.gz": ("d53e105ee54ea40749a09fcbcd1e9432", 0x801),
    "t10k-images-idx3-ubyte.gz": ("9fb629c4189551a2d022fa330f9573f3", 0x803),
    "t10k-labels-idx1-ubyte.gz": ("ec29112dd5afa0611ce80d1b7f02629c", 0x801),
}
MEAN = (0.1307,)
STD = (0.3081,)
ADVICE = "replace it with the official file"


def _present(folder: Path, name: str) -> Path | None:
    """The file ``name`` in ``folder``, gzip-compressed or not; None if neither is there."""
    for candidate in (folder / name, folder / name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


def _missing(folder: Path) -> list[str]:
    return [name for name in FILES if _present(folder, name) is None]


def locate(data_dir: str | os.PathLike | None = None, *, download_missing: bool = True,
           url: str | None = None, check_md5: bool = True, progress: bool = True) -> Path:
    """The folder with the four MNIST files, downloading the missing ones if needed (into
    ``mnist/`` of the first place looked in). The address is ``url``, else
    ``LANDSCAPE_MNIST_URL``, else URL (a folder of the four files; file:// works for tests)."""
    url = url or os.environ.get("LANDSCAPE_MNIST_URL") or URL
    folders = candidate_folders(data_dir, f"{FOLDER}/ (the four *-ubyte.gz files of MNIST)")
    for folder in folders:
        for candidate in (folder, folder / FOLDER):
            if len(_missing(candidate)) < len(FILES):  # some there: read_idx names the others
                return candidate
    looked = ", ".join(str(f) for f in folders)
    advice = (f"download {', '.join(FILES)} from {URL} into a folder {FOLDER}/ in one of them, or "
              f"point data_dir / LANDSCAPE_DATA at a folder holding them")
    if not download_missing:
        raise DataUnavailable(f"MNIST not found (looked in: {looked}); {advice}")
    destination = folders[0] / FOLDER
    try:
        for name, (md5, _) in FILES.items():
            download_file(url.rstrip("/") + "/" + name, destination / name, md5 if check_md5 else None,
                          what=f"MNIST {name}", progress=progress)
    except (urllib.error.URLError, OSError) as error:
        raise DataUnavailable(f"MNIST not found (looked in: {looked}) and the download failed "
                              f"({getattr(error, 'reason', error)}); {advice}") from None
    return destination


def read_idx(path: Path, magic: int) -> np.ndarray:
    """One IDX file (gzip-compressed if its name ends in .gz): uint8 images (N, 1, 28, 28) for
    magic 0x803, int64 labels (N,) for 0x801. A missing, truncated or foreign file is a
    ``DataUnavailable`` naming it and what is wrong."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except OSError as error:
        raise DataUnavailable(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
    except (EOFError, gzip.BadGzipFile) as error:
        raise DataUnavailable(f"{path} is damaged or truncated ({error}); {ADVICE}") from None
    dimensions = 3 if magic == 0x803 else 1
    header = 4 * (1 + dimensions)
    if len(raw) < header:
        raise DataUnavailable(f"{path} is {'empty' if not raw else 'truncated'} ({len(raw)} bytes, "
                              f"shorter than an IDX header); {ADVICE}")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise DataUnavailable(f"{path} has the magic number 0x{found:08x}, not 0x{magic:08x} (MNIST "
                              f"{'images' if magic == 0x803 else 'labels'}); {ADVICE}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dimensions))
    if dimensions == 3 and shape[1:] != (28, 28):
        raise DataUnavailable(f"{path} holds images of {shape[1]}x{shape[2]} pixels; MNIST's are 28x28; {ADVICE}")
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise DataUnavailable(f"{path} is truncated or too long: its header promises {expected:,} values, "
                              f"it holds {len(raw) - header:,}; {ADVICE}")
    values = np.frombuffer(raw, dtype=np.uint8, offset=header)
    if dimensions == 1:
        if values.max(initial=0) > 9:
            raise DataUnavailable(f"{path} holds labels outside 0 to 9; {ADVICE}")
        return values.astype(np.int64)
    return values.reshape(shape[0], 1, 28, 28).copy()  # writable, for torch


def _read_part(folder: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    """The images and labels of ``part`` ("train" or "t10k"), checked to be as many."""
    arrays = []
    for kind in ("images-idx3", "labels-idx1"):
        name = f"{part}-{kind}-ubyte.gz"
        path = _present(folder, name)
        if path is None:
            raise DataUnavailable(f"{folder} lacks {name} (MNIST is {', '.join(FILES)}); "
                                  f"copy it from the official files")
        arrays.append((read_idx(path, FILES[name][1]), path))
    (images, images_path), (labels, labels_path) = arrays
    if len(images) != len(labels):
        raise DataUnavailable(f"{images_path} holds {len(images):,} images but {labels_path} holds "
                              f"{len(labels):,} labels; they must be as many: replace them with the "
                              f"official files")
    return images, labels


def load(data_dir: str | os.PathLike | None = None, *, device="cpu", train_size: int | None = None,
         val_size: int | None = None, seed: int = 0, download_missing: bool = True,
         **locate_options) -> ImageData:
    """MNIST on ``device``: ``train_size`` training images (all if None) and ``val_size``
    validation images (1000, or all there are, if None) drawn (seeded) from the test set."""
    folder = locate(data_dir, download_missing=download_missing, **locate_options)
    images, labels = _read_part(folder, "train")
    test_images, test_labels = _read_part(folder, "t10k")
    train, val = subsets(len(labels), len(test_labels), train_size, val_size, seed)
    to = lambda array, index: torch.from_numpy(array)[index].to(device)
    return ImageData(to(images, train), to(labels, train), to(test_images, val), to(test_labels, val),
                     MEAN, STD, "MNIST")
