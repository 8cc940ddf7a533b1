"""CIFAR-10 loading, archive handling, models, and the optimizer comparison."""

import csv
import hashlib
import io
import json
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from landscape.cli import main
from landscape.nets import data, models, train

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar-10-batches-py"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared CIFAR-10 subset not at {SHARED}")


@needs_shared
def test_loader_reads_the_shared_subset():
    images, labels = data.read_batch(SHARED / "data_batch_1")
    assert images.shape == (1017, 3, 32, 32) and images.dtype == np.uint8
    assert labels[0] == 6, "the first image of the official data_batch_1 is a frog"
    cifar = data.load(SHARED, val_size=500, seed=3)
    assert cifar.train_images.shape == (5085, 3, 32, 32) and cifar.train_images.dtype == torch.uint8
    assert cifar.train_labels.dtype == torch.int64 and set(cifar.train_labels.tolist()) == set(range(10))
    assert cifar.val_images.shape == (500, 3, 32, 32)
    x, y = next(cifar.train_batches(64, torch.Generator().manual_seed(0)))
    assert x.shape == (64, 3, 32, 32) and x.dtype == torch.float32 and abs(x.mean()) < 0.5


def test_subsets_are_seeded_and_validated():
    folder = _official_folder(Path(_tmp()))
    a = data.load(folder, train_size=10, val_size=3, seed=1)
    b = data.load(folder, train_size=10, val_size=3, seed=1)
    assert torch.equal(a.train_labels, b.train_labels) and torch.equal(a.val_images, b.val_images)
    with pytest.raises(ValueError, match="Invalid train_size: 999 \\(expected 1 to 20"):
        data.load(folder, train_size=999)


def _tmp():
    import tempfile

    return tempfile.mkdtemp()


def _official_folder(root: Path, per_batch: int = 4) -> Path:
    """A tiny data set in the official layout and pickle format."""
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


@pytest.fixture
def archive(tmp_path):
    """A tiny cifar-10-python.tar.gz and its md5."""
    source = _official_folder(tmp_path / "source")
    path = tmp_path / "server" / data.ARCHIVE
    path.parent.mkdir()
    with tarfile.open(path, "w:gz") as tar:
        tar.add(source, arcname=data.FOLDER)
    return path, hashlib.md5(path.read_bytes()).hexdigest()


def test_download_checks_md5_and_extracts(tmp_path, archive):
    path, md5 = archive
    cache = tmp_path / "cache"
    cache.mkdir()
    folder = data.locate(cache, url=path.as_uri(), md5=md5, progress=False)
    assert folder == cache / data.FOLDER and (folder / "test_batch").is_file()
    assert (cache / data.ARCHIVE).is_file()
    assert data.locate(cache, url="http://127.0.0.1:9/never-used", md5=md5) == folder  # found, no download
    assert data.load(cache).train_images.shape == (20, 3, 32, 32)


def test_md5_mismatch_leaves_nothing_behind(tmp_path, archive):
    path, _ = archive
    cache = tmp_path / "cache"
    cache.mkdir()
    with pytest.raises(data.DataUnavailable, match="md5 mismatch"):
        data.locate(cache, url=path.as_uri(), md5="0" * 32, progress=False)
    assert list(cache.iterdir()) == []


def test_existing_archive_with_wrong_md5_is_reported(tmp_path, archive):
    path, _ = archive
    (tmp_path / data.ARCHIVE).write_bytes(path.read_bytes())
    with pytest.raises(data.DataUnavailable, match="is not the CIFAR-10 archive"):
        data.locate(tmp_path, md5="0" * 32)
    assert not (tmp_path / data.FOLDER).exists()


def test_truncated_archive_is_reported_and_not_half_extracted(tmp_path, archive):
    path, _ = archive
    blob = path.read_bytes()
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / data.ARCHIVE).write_bytes(blob[: len(blob) // 2])
    with pytest.raises(data.DataUnavailable, match="is damaged"):
        data.locate(cache, md5=None)
    assert sorted(p.name for p in cache.iterdir()) == [data.ARCHIVE]


def test_offline_without_data_says_where_it_looked_and_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("LANDSCAPE_DATA", str(tmp_path / "env"))
    (tmp_path / "arg").mkdir()
    with pytest.raises(data.DataUnavailable) as error:
        data.locate(tmp_path / "arg", url="http://127.0.0.1:9/cifar.tar.gz", progress=False)
    message = str(error.value)
    assert str(tmp_path / "arg") in message and str(tmp_path / "env") not in message, "only the folder given"
    assert "download failed" in message and data.URL in message and data.ARCHIVE_MD5 in message
    with pytest.raises(data.DataUnavailable, match="CIFAR-10 not found"):
        data.locate(tmp_path / "arg", download_missing=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no cached data from this machine
    with pytest.raises(data.DataUnavailable) as error:
        data.locate(url="http://127.0.0.1:9/cifar.tar.gz", progress=False)
    assert str(tmp_path / "env") in str(error.value), "without a folder: LANDSCAPE_DATA, then the cache"


def test_a_data_folder_that_does_not_exist_is_an_error_and_is_not_created(tmp_path, monkeypatch):
    monkeypatch.setenv("LANDSCAPE_DATA", str(SHARED))  # real data elsewhere must not be used instead
    typo = tmp_path / "typo" / "deep"
    with pytest.raises(data.DataUnavailable, match=f"the data folder {typo} does not exist"):
        data.load(typo, url="http://127.0.0.1:9/cifar.tar.gz", progress=False)
    assert not (tmp_path / "typo").exists()
    (tmp_path / "empty").mkdir()  # a folder given without the data: not passed over for the data elsewhere
    with pytest.raises(data.DataUnavailable, match="CIFAR-10 not found"):
        data.load(tmp_path / "empty", url="http://127.0.0.1:9/cifar.tar.gz", progress=False)


def _count(*layers):
    return sum(layers)


def test_models_forward_shapes_and_parameter_counts():
    linear = lambda i, o: i * o + o
    conv = lambda i, o, k: i * o * k * k + o
    expected = {
        "mlp": _count(linear(3072, 512), linear(512, 256), linear(256, 10)),
        "cnn": _count(conv(3, 32, 5), conv(32, 64, 5), linear(4096, 256), linear(256, 10)),
        "autoencoder": _count(linear(3072, 512), linear(512, 64), linear(64, 512), linear(512, 3072)),
        "seed-cnn": 808_458,
    }
    assert _count(conv(3, 64, 5), 4 * (conv(64, 64, 3) + 2 * 64), linear(65536, 10)) == 808_458
    x = torch.zeros(2, 3, 32, 32)
    for name, count in expected.items():
        model = models.create(name)
        assert sum(p.numel() for p in model.parameters()) == count, name
        assert model(x).shape == ((2, 3, 32, 32) if name == "autoencoder" else (2, 10))
    with pytest.raises(ValueError, match="Invalid model 'resnet'; valid: mlp, cnn"):
        models.create("resnet")


@pytest.fixture(scope="module")
def small_cifar():
    folder = SHARED if SHARED.is_dir() else _official_folder(Path(_tmp()), per_batch=200)
    return data.load(folder, train_size=512, val_size=200, seed=0)


def test_one_epoch_comparison_same_start_finite_decreasing(small_cifar):
    seen = []
    result = train.compare("mlp", ["sgd+momentum", "adam"], epochs=1, batch_size=32,
                           lr={"sgd+momentum": 0.01, "adam": 1e-3}, data=small_cifar, progress=False,
                           on_epoch=lambda c: seen.append([len(r.epochs) for r in c.runs]))
    assert seen == [[1], [1, 1]], "on_epoch sees the comparison growing"
    sgd, adam = result.runs
    assert sgd.step_losses[0] == adam.step_losses[0], "same initial weights and first batch"
    for run in result.runs:
        losses = run.step_losses
        assert run.status == "finished" and len(losses) == 16 and all(np.isfinite(losses))
        assert np.mean(losses[-5:]) < np.mean(losses[:5])
        assert 0 <= run.epochs[0]["val_accuracy"] <= 1 and run.epochs[0]["seconds"] > 0


def test_a_diverging_run_is_marked_and_the_others_continue(small_cifar):
    result = train.compare("mlp", ["sgd", "adam"], epochs=2, batch_size=32, lr={"sgd": 1e6, "adam": 1e-3},
                           data=small_cifar, progress=False)
    diverged, healthy = result.runs
    assert diverged.status == "diverged" and diverged.diverged_at_step >= 1
    assert not np.isfinite(diverged.step_losses[-1]) and diverged.epochs == []
    assert healthy.status == "finished" and len(healthy.epochs) == 2


def test_results_are_saved_and_ctrl_c_keeps_finished_runs(small_cifar, tmp_path, monkeypatch):
    real = train._train_one
    calls = []

    def interrupted_second(run, spec, *args, **kwargs):
        calls.append(spec)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(run, spec, *args, **kwargs)

    monkeypatch.setattr(train, "_train_one", interrupted_second)
    result = train.compare("autoencoder", ["adam", "rmsprop"], epochs=1, batch_size=64, lr=1e-3,
                           data=small_cifar, progress=False, out=tmp_path / "results")
    assert result.interrupted and [r.status for r in result.runs] == ["finished", "interrupted"]
    saved = json.loads((tmp_path / "results" / "comparison.json").read_text())
    assert saved["runs"][0]["status"] == "finished" and saved["interrupted"] is True
    rows = list(csv.DictReader(io.StringIO((tmp_path / "results" / "comparison.csv").read_text())))
    assert [r["optimizer"] for r in rows] == ["adam"] and rows[0]["val_accuracy"] == ""
    assert (tmp_path / "results" / "comparison.png").stat().st_size > 0


@pytest.mark.parametrize("kwargs,message", [
    (dict(model="resnet"), "Invalid model 'resnet'"),
    (dict(optimizers=["adamm"]), "unknown base rule 'adamm'"),
    (dict(epochs=0), "Invalid epochs: 0"),
    (dict(lr={"adam": 1e-3}, optimizers=["adam", "sgd"]), "no learning rate for sgd"),
    (dict(amp=True, device="cpu"), "bf16 autocast is offered on CUDA only"),
])
def test_bad_comparison_input(small_cifar, kwargs, message):
    with pytest.raises(ValueError, match=message):
        train.compare(**{"data": small_cifar, "progress": False, **kwargs})


def test_cli_compare_errors_are_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LANDSCAPE_CIFAR_URL", "http://127.0.0.1:9/cifar.tar.gz")  # offline
    assert main(["compare", "--model", "resnet"]) == 2
    assert "invalid choice: 'resnet'" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    code = main(["compare", "--data-dir", str(tmp_path / "empty"), "--out", str(tmp_path / "r"),
                 "--epochs", "1"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: CIFAR-10 not found") and err.count("\n") == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present: auto picks it")
def test_device_auto_is_cpu_without_accelerators():
    assert train.resolve_device("auto").type in ("cpu", "mps")
    assert train.resolve_device("cpu") == torch.device("cpu")
