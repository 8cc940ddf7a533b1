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

import hashlib
import os
import pickle
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

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


class DataUnavailable(ValueError):
    """CIFAR-10 could not be found or fetched; the message says where it looked and what to do."""


def candidate_folders(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Where to look: only ``data_dir`` when given (it must exist: a mistyped folder is an
    error, never created, and never passed over for data elsewhere); else ``LANDSCAPE_DATA``,
    then ``~/.cache/landscape``."""
    if data_dir is not None:
        folder = Path(data_dir).expanduser()
        if not folder.is_dir():
            raise DataUnavailable(f"the data folder {folder.absolute()} does not exist; "
                                  f"create it, or give the folder that holds {FOLDER}/")
        return [folder]
    folders = []
    if os.environ.get("LANDSCAPE_DATA"):
        folders.append(Path(os.environ["LANDSCAPE_DATA"]))
    folders.append(Path.home() / ".cache" / "landscape")
    return folders


def _missing_batches(folder: Path) -> list[str]:
    return [name for name in TRAIN_BATCHES + [TEST_BATCH] if not (folder / name).is_file()]


def _is_batches_folder(folder: Path) -> bool:
    """Holds CIFAR-10 batch files (perhaps not all: ``load`` names the missing ones)."""
    return len(_missing_batches(folder)) < len(TRAIN_BATCHES) + 1


def md5_of(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    from tqdm.auto import tqdm

    destination.mkdir(parents=True, exist_ok=True)
    archive = destination / ARCHIVE
    handle, temporary = tempfile.mkstemp(prefix=f".{ARCHIVE}.", suffix=".part", dir=destination)
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc="CIFAR-10", disable=not progress) as bar:
                for block in iter(lambda: response.read(1 << 20), b""):
                    out.write(block)
                    bar.update(len(block))
        if md5 is not None and md5_of(Path(temporary)) != md5:
            raise DataUnavailable(f"the download from {url} is damaged (md5 mismatch); run again")
        os.replace(temporary, archive)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return archive


def locate(data_dir: str | os.PathLike | None = None, *, download_missing: bool = True,
           url: str | None = None, md5: str | None = ARCHIVE_MD5, progress: bool = True) -> Path:
    """The ``cifar-10-batches-py`` folder, extracting or downloading it if needed. The download
    address is ``url``, else ``LANDSCAPE_CIFAR_URL`` (a mirror, or file:// for tests), else URL."""
    url = url or os.environ.get("LANDSCAPE_CIFAR_URL") or URL
    folders = candidate_folders(data_dir)
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


@dataclass
class CIFAR10:
    """Training and validation images as uint8 tensors on ``device``; batches come normalised."""

    train_images: Tensor
    train_labels: Tensor
    val_images: Tensor
    val_labels: Tensor

    @property
    def device(self) -> torch.device:
        return self.train_images.device

    def normalise(self, images: Tensor, dtype=torch.float32) -> Tensor:
        mean = torch.tensor(MEAN, device=images.device, dtype=dtype).view(1, 3, 1, 1)
        std = torch.tensor(STD, device=images.device, dtype=dtype).view(1, 3, 1, 1)
        return (images.to(dtype) / 255 - mean) / std

    def train_batches(self, batch_size: int, generator: torch.Generator, dtype=torch.float32):
        """Shuffled training batches (x normalised to ``dtype``, y); the order depends only on
        ``generator``."""
        order = torch.randperm(len(self.train_labels), generator=generator).to(self.device)
        for start in range(0, len(order), batch_size):
            index = order[start:start + batch_size]
            yield self.normalise(self.train_images[index], dtype), self.train_labels[index]

    def val_batches(self, batch_size: int = 1000, dtype=torch.float32):
        for start in range(0, len(self.val_labels), batch_size):
            yield (self.normalise(self.val_images[start:start + batch_size], dtype),
                   self.val_labels[start:start + batch_size])


def load(data_dir: str | os.PathLike | None = None, *, device="cpu", train_size: int | None = None,
         val_size: int | None = None, seed: int = 0, download_missing: bool = True,
         **locate_options) -> CIFAR10:
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
    val_size = min(1000, len(test_labels)) if val_size is None else val_size
    for name, value, limit in (("train_size", train_size, len(labels)), ("val_size", val_size, len(test_labels))):
        if value is not None and not (isinstance(value, int) and 1 <= value <= limit):
            raise ValueError(f"Invalid {name}: {value!r} (expected 1 to {limit}: the data has {limit} images)")
    generator = torch.Generator().manual_seed(seed)
    train = torch.randperm(len(labels), generator=generator)[:train_size] if train_size else torch.arange(len(labels))
    val = torch.randperm(len(test_labels), generator=generator)[:val_size]
    to = lambda array, index: torch.from_numpy(array)[index].to(device)
    return CIFAR10(to(images, train), to(labels, train), to(test_images, val), to(test_labels, val))
