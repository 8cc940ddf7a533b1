"""MNIST: the IDX loader (official files, offline folders, checked downloads, one clear message per
damaged file), the seed's MLP, and MNIST in compare and slice."""

import gzip
import json

import numpy as np
import pytest
import torch

from helpers import MNIST_SHARED, float32_default, idx_bytes, mnist_folder  # noqa: F401 - an autouse fixture
from landscape import cli
from landscape.nets import datasets, images, mnist, models, train

needs_shared = pytest.mark.skipif(not MNIST_SHARED.is_dir(), reason=f"shared MNIST subset not at {MNIST_SHARED}")


@needs_shared
def test_the_shared_subset_is_read_as_the_official_files_are():
    data = mnist.load(MNIST_SHARED, val_size=2000, download_missing=False)
    assert data.train_images.shape == (8000, 1, 28, 28) and data.train_images.dtype == torch.uint8
    assert data.val_images.shape == (2000, 1, 28, 28) and data.name == "MNIST"
    raw = gzip.decompress((MNIST_SHARED / "train-labels-idx1-ubyte.gz").read_bytes())
    assert raw[8:18] == bytes([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]), "the official test set begins 7 2 1 0 4"
    assert set(data.train_labels.tolist()) == set(range(10))
    x = data.normalise(data.train_images[:2000])
    assert abs(float(x.mean())) < 0.1 and abs(float(x.std()) - 1) < 0.1, "MNIST's mean and std"


def test_a_folder_of_the_four_files_loads_on_the_device_as_uint8_with_seeded_subsets(tmp_path):
    folder = mnist_folder(tmp_path, train=60, test=20)
    data = mnist.load(tmp_path, train_size=50, val_size=10, seed=3)
    assert data.train_images.shape == (50, 1, 28, 28) and data.val_labels.shape == (10,)
    again = mnist.load(folder, train_size=50, val_size=10, seed=3)  # the folder itself works too
    assert torch.equal(data.train_images, again.train_images)
    raw = np.frombuffer(gzip.decompress((folder / "train-images-idx3-ubyte.gz").read_bytes())[16:], np.uint8)
    first = raw.reshape(60, 1, 28, 28).copy()
    assert any(torch.equal(image, torch.from_numpy(first[i])) for i in range(60) for image in data.train_images[:1])
    with pytest.raises(ValueError, match=r"Invalid train_size: 61 \(expected 1 to 60"):
        mnist.load(folder, train_size=61)


def _damage(folder, name, content: bytes) -> None:
    (folder / name).write_bytes(gzip.compress(content))


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "train-labels-idx1-ubyte.gz").unlink(), "lacks train-labels-idx1-ubyte.gz"),
    (lambda f: _damage(f, "train-images-idx3-ubyte.gz", idx_bytes(np.zeros((60, 28, 28)), 0x803)[:-100]),
     "train-images-idx3-ubyte.gz is truncated or too long: its header promises 47,040 values, it holds 46,940"),
    (lambda f: (f / "t10k-images-idx3-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(np.zeros((20, 28, 28)), 0x803))[:-30]), "t10k-images-idx3-ubyte.gz is damaged or truncated"),
    (lambda f: _damage(f, "train-labels-idx1-ubyte.gz", idx_bytes(np.zeros(60), 0x803)),
     "train-labels-idx1-ubyte.gz has the magic number 0x00000803, not 0x00000801"),
    (lambda f: _damage(f, "t10k-labels-idx1-ubyte.gz", idx_bytes(np.zeros(19), 0x801)),
     "t10k-images-idx3-ubyte.gz holds 20 images but"),
    (lambda f: _damage(f, "train-labels-idx1-ubyte.gz", b""), "train-labels-idx1-ubyte.gz is empty"),
    (lambda f: _damage(f, "train-labels-idx1-ubyte.gz", idx_bytes(np.full(60, 12), 0x801)), "labels outside 0 to 9"),
])
def test_a_damaged_file_is_one_clear_message_naming_it(tmp_path, damage, message):
    folder = mnist_folder(tmp_path)
    damage(folder)
    with pytest.raises(images.DataUnavailable) as error:
        mnist.load(folder, download_missing=False)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_downloads_are_checked_against_their_md5_and_leave_nothing_when_damaged(tmp_path, monkeypatch):
    server = mnist_folder(tmp_path / "server")
    cache = tmp_path / "cache"
    cache.mkdir()
    with pytest.raises(images.DataUnavailable, match="md5 mismatch"):  # the official sums: not these files
        mnist.locate(cache, url=server.as_uri(), progress=False)
    assert not (cache / "mnist").exists(), "no partial file, and not the folder made for it"
    sums = {name: (images.md5_of(server / name), magic) for name, (_, magic) in mnist.FILES.items()}
    monkeypatch.setattr(mnist, "FILES", sums)
    assert mnist.locate(cache, url=server.as_uri(), progress=False) == cache / "mnist"
    assert mnist.load(cache, download_missing=False).train_images.shape == (60, 1, 28, 28)


def test_nothing_found_and_no_download_says_where_it_looked(tmp_path):
    with pytest.raises(images.DataUnavailable, match="MNIST not found .*looked in: .*download train-images"):
        mnist.locate(tmp_path, download_missing=False)
    with pytest.raises(images.DataUnavailable, match="the download failed"):
        mnist.locate(tmp_path, url="http://127.0.0.1:9/mnist/", progress=False)


def test_the_seed_mlp_is_784_64_10_and_only_takes_mnist():
    model = models.create("mnist-mlp")
    assert [p.shape for p in model.parameters()] == [(64, 784), (64,), (10, 64), (10,)]
    assert model(torch.zeros(5, 1, 28, 28)).shape == (5, 10)
    assert datasets.model_for("mnist", None) == "mnist-mlp" and datasets.model_for("cifar10", None) == "cnn"
    with pytest.raises(ValueError, match="Invalid model 'mlp' for mnist: it takes cifar10 images; for mnist: mnist-mlp"):
        datasets.model_for("mnist", "mlp")
    with pytest.raises(ValueError, match="Invalid model 'mnist-mlp' for cifar10"):
        train.train_and_compare("mnist-mlp", "sgd", progress=False, data_dir="/nowhere")


def test_compare_and_slice_take_mnist(tmp_path, capsys):
    folder = mnist_folder(tmp_path / "data", train=200, test=40)
    comparison = train.train_and_compare(optimizers=["sgd", "adam"], dataset="mnist", epochs=2, batch_size=20,
                                         data_dir=folder.parent, val_size=40, progress=False)
    assert comparison.model == "mnist-mlp" and comparison.settings["dataset"] == "mnist"
    assert all(run.status == "finished" and len(run.epochs) == 2 for run in comparison.runs)
    out = tmp_path / "slice"
    code = cli.main(["slice", "--dataset", "mnist", "--optimizers", "sgd,adam", "--epochs", "2", "--batch-size", "20",
                     "--grid", "5", "--evaluation-images", "40", "--data-dir", str(folder.parent), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    saved = json.loads((out / "slice.json").read_text())
    assert saved["model"] == "mnist-mlp" and np.array(saved["train_loss"]).shape == (5, 5)
