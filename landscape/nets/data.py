"""CIFAR-10 from the official python archive, decoded straight to uint8 tensors on the device.

Where the data is looked for, in order: the ``data_dir`` argument, the ``LANDSCAPE_DATA``
environment variable, then ``~/.cache/landscape`` (downloads from ``LANDSCAPE_CIFAR_URL`` if set). Each may hold ``cifar-10-batches-py/`` or
``cifar-10-python.tar.gz``, or be the ``cifar-10-batches-py`` folder itself. With nothing found
the archive is downloaded (progress shown), its size and md5 checked, and it is extracted into a
temporary folder that is renamed into place: a crash never leaves a half data set.

No torchvision: the pickles are decoded to one (N, 3, 32, 32) uint8 tensor on the training
device; shuffling and normalisation happen there, batch by batch, with no per-image Python work.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tarfile
import tempfile
import urllib.error
from pathlib import Path

import numpy as np
import torch

from .images import DataUnavailable, ImageData, candidate_folders, download_file, md5_of, subsets

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
ARCHIVE = "cifar-10-python.tar.gz"
ARCHIVE_BYTES = 170_498_071
ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"
FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_BATCH = "test_batch"
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)


def _missing_batches(folder: Path) -> list[str]:
    return [name for name in TRAIN_BATCHES + [TEST_BATCH] if not (folder / name).is_file()]


def _is_batches_folder(folder: Path) -> bool:
    """Holds CIFAR-10 batch files (perhaps not all: ``load`` names the missing ones)."""
    return len(_missing_batches(folder)) < len(TRAIN_BATCHES) + 1


def extract(archive: Path, destination: Path, md5: str | None = ARCHIVE_MD5) -> Path:
    """Check ``archive`` and extract its ``cifar-10-batches-py`` into ``destination``, atomically."""
    if md5 is not None and md5_of(archive) != md5:
        raise DataUnavailable(f"{archive} is not the CIFAR-10 archive (md5 mismatch: expected {md5}); "
                              f"delete it and run again to download it afresh")
    target = destination / FOLDER
    staging = Path(tempfile.mkdtemp(prefix=".cifar-extract-", dir=destination))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.name.startswith(FOLDER + "/") and m.isfile()]
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python >= 3.10.12
            tar.extractall(staging, members=members, **safe)
        if _missing_batches(staging / FOLDER):
            raise DataUnavailable(f"{archive} does not contain {FOLDER}/ with the CIFAR-10 batches")
        os.replace(staging / FOLDER, target)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise DataUnavailable(f"{archive} is damaged ({error}); delete it and run again") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def download(url: str, destination: Path, md5: str | None = ARCHIVE_MD5, progress: bool = True) -> Path:
    """Download ``url`` to ``destination/cifar-10-python.tar.gz`` (temporary name, then renamed)."""
    return download_file(url, destination / ARCHIVE, md5, what="CIFAR-10", progress=progress)


def locate(data_dir: str | os.PathLike | None = None, *, download_missing: bool = True,
           url: str | None = None, md5: str | None = ARCHIVE_MD5, progress: bool = True) -> Path:
    """The ``cifar-10-batches-py`` folder, extracting or downloading it if needed. The download
    address is ``url``, else ``LANDSCAPE_CIFAR_URL`` (a mirror, or file:// for tests), else URL."""
    url = url or os.environ.get("LANDSCAPE_CIFAR_URL") or URL
    folders = candidate_folders(data_dir, f"{FOLDER}/")
    for folder in folders:
        for candidate in (folder, folder / FOLDER):
            if _is_batches_folder(candidate):
                return candidate
    for folder in folders:
        if (folder / ARCHIVE).is_file():
            return extract(folder / ARCHIVE, folder, md5)
    looked = ", ".join(str(f) for f in folders)
    advice = (f"download {ARCHIVE} ({ARCHIVE_BYTES:,} bytes, md5 {ARCHIVE_MD5}) from {URL} into one "
              f"of them, or point data_dir / LANDSCAPE_DATA at a folder holding {FOLDER}/")
    if not download_missing:
        raise DataUnavailable(f"CIFAR-10 not found (looked in: {looked}); {advice}")
    destination = folders[0]
    try:
        archive = download(url, destination, md5, progress)
    except (urllib.error.URLError, OSError) as error:
        raise DataUnavailable(f"CIFAR-10 not found (looked in: {looked}) and the download failed "
                              f"({getattr(error, 'reason', error)}); {advice}") from None
    return extract(archive, destination, md5)


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One official batch file: uint8 images (N, 3, 32, 32) and int64 labels (N,).

    A missing, empty, truncated or foreign file is a ``DataUnavailable`` naming it and what is wrong.
    """
    advice = "replace it with the file from the official archive"
    try:
        with open(path, "rb") as handle:
            batch = pickle.load(handle, encoding="latin1")
    except OSError as error:
        raise DataUnavailable(f"cannot read {path}: {error.strerror}") from None
    except Exception as error:  # noqa: BLE001 - damaged bytes make pickle raise almost anything
        what = "empty" if path.stat().st_size == 0 else f"damaged or truncated ({type(error).__name__}: {error})"
        raise DataUnavailable(f"{path} is {what}; {advice}") from None
    try:
        images, labels = np.asarray(batch["data"]), np.asarray(batch["labels"])
    except (TypeError, KeyError, IndexError, ValueError):
        raise DataUnavailable(f"{path} is not a CIFAR-10 batch (no 'data' and 'labels'); {advice}") from None
    if images.ndim != 2 or images.shape[1] != 3 * 32 * 32 or images.dtype != np.uint8:
        raise DataUnavailable(f"{path} holds images of shape {images.shape} and type {images.dtype}; "
                              f"CIFAR-10 has uint8 rows of 3072 values (3x32x32); {advice}")
    if labels.shape != (len(images),):
        raise DataUnavailable(f"{path} holds {len(images)} images but {labels.size} labels; {advice}")
    if not np.isin(labels, range(len(CLASSES))).all():
        raise DataUnavailable(f"{path} holds labels outside 0 to 9; {advice}")
    return images.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def load(data_dir: str | os.PathLike | None = None, *, device="cpu", train_size: int | None = None,
         val_size: int | None = None, seed: int = 0, download_missing: bool = True,
         **locate_options) -> ImageData:
    """CIFAR-10 on ``device``: ``train_size`` training images (all if None) and ``val_size``
    validation images (1000, or all there are, if None) drawn (seeded) from the test batch."""
    folder = locate(data_dir, download_missing=download_missing, **locate_options)
    missing = _missing_batches(folder)
    if missing:
        raise DataUnavailable(f"{folder} lacks {', '.join(missing)} (CIFAR-10 is {', '.join(TRAIN_BATCHES)} "
                              f"and {TEST_BATCH}); copy them from the official archive")
    parts = [read_batch(folder / name) for name in TRAIN_BATCHES]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    test_images, test_labels = read_batch(folder / TEST_BATCH)
    train, val = subsets(len(labels), len(test_labels), train_size, val_size, seed)
    to = lambda array, index: torch.from_numpy(array)[index].to(device)
    return ImageData(to(images, train), to(labels, train), to(test_images, val), to(test_labels, val),
                     MEAN, STD, "CIFAR-10")
