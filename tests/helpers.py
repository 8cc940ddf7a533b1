"""Test helpers shared by test modules: the CIFAR-10 subset the tests train on, and tiny data sets
in the official layout."""

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from landscape.nets import data

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar-10-batches-py"


@pytest.fixture(autouse=True)
def float32_default():
    """Models are built and trained in float32, as the product does, whatever torch's default
    dtype (autouse in the modules that import it)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    yield
    torch.set_default_dtype(previous)


def official_folder(root: Path, per_batch: int = 4) -> Path:
    """A tiny random data set in the official layout and pickle format, under ``root``."""
    folder = root / data.FOLDER
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in data.TRAIN_BATCHES + [data.TEST_BATCH]:
        batch = {"batch_label": name, "labels": [int(v) for v in rng.integers(0, 10, per_batch)],
                 "data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                 "filenames": [f"{name}_{i}.png" for i in range(per_batch)]}
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": list(data.CLASSES)}))
    return folder


MNIST_SHARED = SHARED.parent / "mnist"


def idx_bytes(values: np.ndarray, magic: int) -> bytes:
    """``values`` (uint8) as an IDX file: big-endian magic, dimensions, then the bytes."""
    header = magic.to_bytes(4, "big") + b"".join(int(n).to_bytes(4, "big") for n in values.shape)
    return header + values.astype(np.uint8).tobytes()


def mnist_folder(root: Path, train: int = 60, test: int = 20) -> Path:
    """A tiny random MNIST in the official file names and gzip-compressed IDX format, under ``root``."""
    import gzip

    folder = root / "mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for part, count in (("train", train), ("t10k", test)):
        images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, count, dtype=np.uint8)
        (folder / f"{part}-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images, 0x803)))
        (folder / f"{part}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels, 0x801)))
    return folder


def data_root(root: Path) -> Path:
    """A folder holding both data sets, as LANDSCAPE_DATA may: ``cifar-10-batches-py/`` and ``mnist/``;
    the shared subsets' folder where it is there, else small random ones under ``root``."""
    if SHARED.is_dir() and MNIST_SHARED.is_dir():
        return SHARED.parent
    official_folder(root, per_batch=500)
    mnist_folder(root, train=4000, test=1000)
    return root
