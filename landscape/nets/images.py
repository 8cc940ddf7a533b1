"""What the image data sets share: the images on the device as uint8 (``ImageData``), where data
is looked for, checked downloads, and the seeded choice of training and validation subsets.
``data`` (CIFAR-10) and ``mnist`` (MNIST) build on it; ``datasets`` names them."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

VALIDATION_IMAGES = 1000  # drawn from the test set, by default
VALIDATION_BATCH = 1000  # validation images evaluated at once


class DataUnavailable(ValueError):
    """A data set could not be found, read or fetched; the message says where and what to do."""


@dataclass
class ImageData:
    """Training and validation images as uint8 tensors (N, C, H, W) on ``device``, labels (N,);
    batches come normalised with the data set's per-channel ``mean`` and ``std``."""

    train_images: Tensor
    train_labels: Tensor
    val_images: Tensor
    val_labels: Tensor
    mean: tuple[float, ...]
    std: tuple[float, ...]
    name: str = "CIFAR-10"

    @property
    def device(self) -> torch.device:
        return self.train_images.device

    def normalise(self, images: Tensor, dtype=torch.float32) -> Tensor:
        shape = (1, len(self.mean), 1, 1)
        mean = torch.tensor(self.mean, device=images.device, dtype=dtype).view(shape)
        std = torch.tensor(self.std, device=images.device, dtype=dtype).view(shape)
        return (images.to(dtype) / 255 - mean) / std

    def train_batches(self, batch_size: int, generator: torch.Generator, dtype=torch.float32):
        """Shuffled training batches (x normalised to ``dtype``, y); the order depends only on
        ``generator``."""
        order = torch.randperm(len(self.train_labels), generator=generator).to(self.device)
        for start in range(0, len(order), batch_size):
            index = order[start:start + batch_size]
            yield self.normalise(self.train_images[index], dtype), self.train_labels[index]

    def val_batches(self, batch_size: int = VALIDATION_BATCH, dtype=torch.float32):
        for start in range(0, len(self.val_labels), batch_size):
            yield (self.normalise(self.val_images[start:start + batch_size], dtype),
                   self.val_labels[start:start + batch_size])


def candidate_folders(data_dir: str | os.PathLike | None, holds: str) -> list[Path]:
    """Where to look: only ``data_dir`` when given (it must exist: a mistyped folder is an
    error, never created, and never passed over for data elsewhere); else ``LANDSCAPE_DATA``,
    then ``~/.cache/landscape``. ``holds`` says what the folder should hold, for the message."""
    if data_dir is not None:
        if not str(data_dir).strip():
            raise DataUnavailable(f"the data folder is empty text; give the folder that holds {holds}, or none "
                                  f"for $LANDSCAPE_DATA or ~/.cache/landscape")
        folder = Path(data_dir).expanduser()
        if folder.is_file():
            raise DataUnavailable(f"the data folder {folder.absolute()} is a file, not a folder; "
                                  f"give the folder that holds {holds}")
        if not folder.is_dir():
            raise DataUnavailable(f"the data folder {folder.absolute()} does not exist; "
                                  f"create it, or give the folder that holds {holds}")
        return [folder]
    folders = []
    if os.environ.get("LANDSCAPE_DATA"):
        folders.append(Path(os.environ["LANDSCAPE_DATA"]))
    folders.append(Path.home() / ".cache" / "landscape")
    return folders


def md5_of(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_file(url: str, path: Path, md5: str | None, *, what: str, progress: bool = True) -> Path:
    """Download ``url`` to ``path`` under a temporary name, check its md5, then rename it into
    place: a failed or interrupted download leaves nothing behind, not even the folders it made
    (a mistyped ``LANDSCAPE_DATA`` is not created)."""
    import urllib.request

    from tqdm.auto import tqdm

    made = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]  # innermost first
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=what, disable=not progress) as bar:
                for block in iter(lambda: response.read(1 << 20), b""):
                    out.write(block)
                    bar.update(len(block))
        if md5 is not None and md5_of(Path(temporary)) != md5:
            raise DataUnavailable(f"the download from {url} is damaged (md5 mismatch); run again")
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
            for folder in made:
                if not any(folder.iterdir()):
                    folder.rmdir()
    return path


def subsets(train_count: int, val_count: int, train_size: int | None, val_size: int | None,
            seed: int) -> tuple[Tensor, Tensor]:
    """Indices of ``train_size`` training images (all if None) and ``val_size`` validation images
    (``VALIDATION_IMAGES``, or all there are, if None), drawn with ``seed``; ``ValueError`` for a
    size the data does not have."""
    val_size = min(VALIDATION_IMAGES, val_count) if val_size is None else val_size
    for name, value, limit in (("train_size", train_size, train_count), ("val_size", val_size, val_count)):
        if value is not None and not (isinstance(value, int) and 1 <= value <= limit):
            raise ValueError(f"Invalid {name}: {value!r} (expected 1 to {limit}: the data has {limit} images)")
    generator = torch.Generator().manual_seed(seed)
    train = torch.randperm(train_count, generator=generator)[:train_size] if train_size else torch.arange(train_count)
    return train, torch.randperm(val_count, generator=generator)[:val_size]
