"""CIFAR-10 loading, archive handling, models, and the optimizer comparison."""

import csv
import hashlib
import io
import json
import pickle
import re
import tarfile
from itertools import count
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from helpers import SHARED, float32_default, official_folder  # noqa: F401 - an autouse fixture
from landscape.cli import main
from landscape import draw, optim
from landscape.files import Terminated
from landscape.nets import data, devices, loop, mnist, models, report, train
from landscape.nets.loop import Epoch
from landscape.nets.train import Comparison, Run

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
    folder = official_folder(Path(_tmp()))
    a = data.load(folder, train_size=10, val_size=3, seed=1)
    b = data.load(folder, train_size=10, val_size=3, seed=1)
    assert torch.equal(a.train_labels, b.train_labels) and torch.equal(a.val_images, b.val_images)
    with pytest.raises(ValueError, match="Invalid train_size: 999 \\(expected 1 to 20"):
        data.load(folder, train_size=999)


def _tmp():
    import tempfile

    return tempfile.mkdtemp()


@pytest.fixture
def archive(tmp_path):
    """A tiny cifar-10-python.tar.gz and its md5."""
    source = official_folder(tmp_path / "source")
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


@pytest.mark.parametrize("dataset", [data, mnist])
def test_a_mistyped_landscape_data_is_not_left_behind_by_a_failed_download(tmp_path, monkeypatch, dataset):
    monkeypatch.setenv("LANDSCAPE_DATA", str(tmp_path / "typo" / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(data.DataUnavailable, match="download failed"):
        dataset.locate(url="http://127.0.0.1:9/offline", progress=False)
    assert sorted(path.name for path in tmp_path.iterdir()) == [], "no folder made for a download that failed"


@pytest.mark.parametrize("given, message", [
    ("", "the data folder is empty text; give the folder that holds"),
    ("file.txt", "is a file, not a folder; give the folder that holds"),
])
def test_a_data_folder_that_is_empty_text_or_a_file_says_so(tmp_path, monkeypatch, given, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.txt").write_text("not data")
    for dataset in (data, mnist):
        with pytest.raises(data.DataUnavailable, match=message):
            dataset.locate(given, url="http://127.0.0.1:9/offline", progress=False)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["file.txt"], "nothing made"


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
    x = torch.zeros(2, 3, 32, 32, dtype=torch.float32)
    for name, parameters in expected.items():
        model = models.create(name)
        assert sum(p.numel() for p in model.parameters()) == parameters, name
        assert {p.dtype for p in model.parameters()} == {torch.float32}, name
        assert model(x).shape == ((2, 3, 32, 32) if name == "autoencoder" else (2, 10))
    with pytest.raises(ValueError, match="Invalid model 'resnet'; valid: mlp, cnn"):
        models.create("resnet")


@pytest.fixture(scope="module")
def small_cifar():
    folder = SHARED if SHARED.is_dir() else official_folder(Path(_tmp()), per_batch=200)
    return data.load(folder, train_size=512, val_size=200, seed=0)


def test_one_epoch_comparison_same_start_finite_decreasing(small_cifar):
    seen = []
    result = train.train_and_compare("mlp", ["sgd+momentum", "adam"], epochs=1, batch_size=32,
                                     lr={"sgd+momentum": 0.01, "adam": 1e-3}, data=small_cifar,
                                     progress=False,
                                     on_epoch=lambda c: seen.append([len(r.epochs) for r in c.runs]))
    assert seen == [[1], [1, 1]], "on_epoch sees the comparison growing"
    sgd, adam = result.runs
    assert sgd.step_losses[0] == adam.step_losses[0], "same initial weights and first batch"
    for run in result.runs:
        losses = run.step_losses
        assert run.status == "finished" and len(losses) == 16 and all(np.isfinite(losses))
        assert np.mean(losses[-5:]) < np.mean(losses[:5])
        assert 0 <= run.epochs[0].val_accuracy <= 1 and run.epochs[0].seconds > 0


def test_the_comparisons_batch_losses_are_readable_under_the_epoch_curves(small_cifar):
    result = train.train_and_compare("mlp", ["sgd", "adam"], epochs=2, batch_size=128, data=small_cifar,
                                     progress=False)
    training = result.figure().axes[0]
    batches = [line for line in training.get_lines() if len(line.get_xdata()) == 8]  # 4 steps x 2 epochs
    epochs = [line for line in training.get_lines() if len(line.get_xdata()) == 2]
    assert len(batches) == len(epochs) == 2
    for line in batches:
        assert line.get_alpha() >= 0.5 and line.get_linewidth() >= 1, "not too faint to read"
        assert all(line.get_zorder() < epoch.get_zorder() for epoch in epochs), "under every epoch curve"


def test_a_diverging_run_is_marked_and_the_others_continue(small_cifar):
    result = train.train_and_compare("mlp", ["sgd", "adam"], epochs=2, batch_size=32,
                                     lr={"sgd": 1e6, "adam": 1e-3}, data=small_cifar, progress=False)
    diverged, healthy = result.runs
    assert diverged.status == "diverged" and diverged.diverged_at_step >= 1
    assert not np.isfinite(diverged.step_losses[-1]) and diverged.epochs == []
    assert healthy.status == "finished" and len(healthy.epochs) == 2


def _interrupt_at_call(monkeypatch, count: int, interruption=KeyboardInterrupt) -> list:
    """Make the count-th forward pass (training step or evaluation) raise ``interruption``: Ctrl-C,
    or SIGTERM (``files.Terminated``)."""
    real, calls = models.loss_and_correct, []

    def forward(*args):
        calls.append(1)
        if len(calls) == count:
            raise interruption()
        return real(*args)

    monkeypatch.setattr(models, "loss_and_correct", forward)
    return calls


def test_ctrl_c_keeps_the_runs_that_completed_beside_the_results_folder(small_cifar, tmp_path, monkeypatch):
    _interrupt_at_call(monkeypatch, 8 + 1 + 3)  # adam: 8 steps and 1 evaluation; rmsprop: its 3rd step
    result = train.train_and_compare("autoencoder", ["adam", "rmsprop", "sgd"], epochs=1, batch_size=64,
                                     lr=1e-3, data=small_cifar, progress=False, out=tmp_path / "results")
    statuses = ["finished", "interrupted", "not started"]
    assert result.interrupted == "Ctrl-C" and [r.status for r in result.runs] == statuses
    assert not (tmp_path / "results").exists(), "the results folder holds complete comparisons only"
    kept = tmp_path / "results.interrupted"
    assert train.interrupted_folder(tmp_path / "results") == kept
    saved = json.loads((kept / "comparison.json").read_text())
    assert [r["status"] for r in saved["runs"]] == statuses and saved["interrupted"] == "Ctrl-C"
    rows = list(csv.DictReader(io.StringIO((kept / "comparison.csv").read_text())))
    assert [(r["optimizer"], r["status"], r["epoch"]) for r in rows] == [
        ("adam", "finished", "1"), ("rmsprop", "interrupted", ""), ("sgd", "not started", "")]
    assert rows[0]["val_accuracy"] == "", "an autoencoder has no accuracy"
    assert (kept / "comparison.png").stat().st_size > 0


def _tiny_compare(folder: Path, out: Path, *options: str) -> list[str]:
    """CLI arguments for a seconds-long comparison on a folder made by official_folder(per_batch=20)."""
    return ["compare", "--model", "mlp", "--epochs", "1", "--batch-size", "25", "--data-dir", str(folder),
            "--out", str(out), *options]


@pytest.mark.parametrize("interruption, code, name", [(KeyboardInterrupt, 130, "Ctrl-C"), (Terminated, 143, "SIGTERM")])
def test_an_interrupted_compare_overwrite_keeps_the_earlier_results(tmp_path, capsys, monkeypatch, interruption,
                                                                     code, name):
    folder = official_folder(tmp_path / "data", per_batch=20)  # 100 training images: 4 steps an epoch
    out = tmp_path / "r"
    assert main(_tiny_compare(folder, out, "--optimizers", "sgd")) == 0
    earlier = {path.name: path.read_bytes() for path in out.iterdir()}
    capsys.readouterr()
    _interrupt_at_call(monkeypatch, 4 + 1 + 2, interruption)
    with pytest.raises(SystemExit) as exit:
        main(_tiny_compare(folder, out, "--optimizers", "adam,rmsprop,sgd", "--overwrite"))
    assert exit.value.code == code
    captured = capsys.readouterr()
    assert captured.err.splitlines()[-1] == (
        f"interrupted ({name}): wrote the runs that completed (adam) to {tmp_path / 'r.interrupted'}/comparison.json, "
        f".csv, .png; {out} is as it was")
    assert [(cells[0], cells[2]) for cells in map(str.split, captured.out.splitlines()[1:])] == [
        ("adam", "finished"), ("rmsprop", "interrupted"), ("sgd", "not")], "optimizer, lr, status"
    assert {path.name: path.read_bytes() for path in out.iterdir()} == earlier, "the complete comparison, untouched"
    saved = json.loads((tmp_path / "r.interrupted" / "comparison.json").read_text())
    assert [r["status"] for r in saved["runs"]] == ["finished", "interrupted", "not started"]
    assert sorted(p.name for p in (tmp_path / "r.interrupted").iterdir()) == sorted(train.RESULTS), "no temporaries"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "r", "r.interrupted"]


def test_an_interrupted_compare_with_no_run_completed_writes_nothing(tmp_path, capsys, monkeypatch):
    folder = official_folder(tmp_path / "data", per_batch=20)
    _interrupt_at_call(monkeypatch, 2, Terminated)
    with pytest.raises(SystemExit) as exit:
        main(_tiny_compare(folder, tmp_path / "r", "--optimizers", "adam,sgd"))
    assert exit.value.code == 143
    assert capsys.readouterr().err.splitlines()[-1] == (f"interrupted (SIGTERM): no run completed: nothing written; "
                                                        f"{tmp_path / 'r'} is as it was")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def _strict_json(path: Path) -> dict:
    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(path.read_text(), parse_constant=refuse)


def test_a_run_diverging_in_its_first_epoch_keeps_its_rows_and_legend(small_cifar, tmp_path):
    result = train.train_and_compare("mlp", ["sgd", "adam"], epochs=2, batch_size=32,
                                     lr={"sgd": 1e6, "adam": 1e-3}, data=small_cifar, progress=False,
                                     out=tmp_path / "r")
    saved = _strict_json(tmp_path / "r" / "comparison.json")
    sgd = saved["runs"][0]
    assert sgd["status"] == "diverged" and sgd["epochs"] == [] and sgd["diverged_at_epoch"] == 1
    assert sgd["step_losses"][-1] is None and len(sgd["step_losses"]) == sgd["diverged_at_step"]
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r" / "comparison.csv").read_text())))
    assert [(r["optimizer"], r["status"], r["epoch"], r["diverged_at_step"]) for r in rows] == [
        ("sgd", "diverged", "1", str(sgd["diverged_at_step"])), ("adam", "finished", "1", ""),
        ("adam", "finished", "2", "")]
    legend = [text.get_text() for ax in result.figure().axes if ax.get_legend()
              for text in ax.get_legend().get_texts()]
    assert legend[0] == f"sgd [diverged at step {sgd['diverged_at_step']}]" and legend[1].startswith("adam (")


def test_a_bad_setting_for_a_later_optimizer_fails_before_any_training(small_cifar, tmp_path, capsys,
                                                                        monkeypatch):
    steps = _interrupt_at_call(monkeypatch, -1)  # counts forward passes, never interrupts
    with pytest.raises(ValueError, match="Invalid hyper-parameter 'betas' for 'sgd'"):
        train.train_and_compare("mlp", ["adam", "sgd"], betas=(0.9, 0.99), data=small_cifar, progress=False)
    folder = official_folder(tmp_path / "data", per_batch=20)
    code = main(_tiny_compare(folder, tmp_path / "r", "--optimizers", "sgd,adam", "--lr", "sgd=0.1,adam=-1"))
    assert code == 2 and capsys.readouterr().err == "error: adam: Invalid lr: -1.0 (expected lr >= 0)\n"
    assert steps == [] and not (tmp_path / "r").exists()


def test_an_earlier_comparison_is_replaced_only_with_overwrite_and_all_together(tmp_path, capsys):
    folder = official_folder(tmp_path / "data", per_batch=20)
    out = tmp_path / "r"
    assert main(_tiny_compare(folder, out, "--optimizers", "adam,rmsprop")) == 0
    first = {name: (out / name).read_bytes() for name in train.RESULTS}
    capsys.readouterr()
    assert main(_tiny_compare(folder, out, "--optimizers", "sgd", "--lr", "1e9")) == 2
    assert capsys.readouterr().err == (f"error: {out} already holds an earlier comparison (comparison.json, "
                                       f"comparison.csv, comparison.png); give --overwrite (Python: "
                                       f"overwrite=True) to replace it, or choose another folder\n")
    assert {name: (out / name).read_bytes() for name in train.RESULTS} == first
    assert main(_tiny_compare(folder, out, "--optimizers", "sgd", "--lr", "1e9", "--overwrite")) == 0
    second = {name: (out / name).read_bytes() for name in train.RESULTS}
    assert all(second[name] != first[name] for name in train.RESULTS), "the diverged run's PNG too"
    assert [r["optimizer"] for r in _strict_json(out / "comparison.json")["runs"]] == ["sgd"]
    assert sorted(p.name for p in out.iterdir()) == sorted(train.RESULTS), "no temporaries"


def test_devices_that_do_not_exist_are_one_line_naming_those_that_do(tmp_path, capsys):
    for device in ("gpu", "cuda:99"):
        with pytest.raises(ValueError, match=f"Invalid device '{device}': this machine has auto, cpu"):
            devices.resolve_device(device)
    assert main(["compare", "--device", "gpu", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Invalid device 'gpu': this machine has auto, cpu") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs,message", [
    (dict(model="resnet"), "Invalid model 'resnet'"),
    (dict(optimizers=["adamm"]), "unknown base rule 'adamm'"),
    (dict(epochs=0), "Invalid epochs: 0"),
    (dict(lr={"adam": 1e-3}, optimizers=["adam", "sgd"]), "no learning rate for sgd"),
    (dict(amp=True, device="cpu"), "bf16 autocast is offered on CUDA only"),
])
def test_bad_comparison_input(small_cifar, kwargs, message):
    with pytest.raises(ValueError, match=message):
        train.train_and_compare(**{"data": small_cifar, "progress": False, **kwargs})


def test_cli_compare_errors_are_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LANDSCAPE_CIFAR_URL", "http://127.0.0.1:9/cifar.tar.gz")  # offline
    assert main(["compare", "--model", "resnet"]) == 2
    assert "invalid choice: 'resnet'" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    code = main(["compare", "--data-dir", str(tmp_path / "empty"), "--out", str(tmp_path / "r"),
                 "--epochs", "1"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: CIFAR-10 not found") and err.count("\n") == 1


@pytest.fixture
def machine(monkeypatch):
    """``machine(cuda_devices, mps)`` makes torch report those accelerators (and a torch built with
    CUDA exactly when there are CUDA devices); only device names are resolved, no device is touched."""
    def pretend(cuda_devices: int, mps: bool) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda_devices > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda_devices)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
        monkeypatch.setattr(torch.version, "cuda", "12.4" if cuda_devices else None)
        monkeypatch.setattr(torch.version, "hip", None)

    return pretend


@pytest.mark.parametrize("cuda_devices,mps,available,auto", [
    (2, False, ["cpu", "cuda", "cuda:0", "cuda:1"], "cuda"),
    (1, True, ["cpu", "cuda", "cuda:0", "mps"], "cuda"),
    (0, True, ["cpu", "mps"], "mps"),
    (0, False, ["cpu"], "cpu"),
], ids=["cuda", "cuda-and-mps", "mps", "cpu-only"])
def test_auto_picks_cuda_else_mps_else_cpu(machine, cuda_devices, mps, available, auto):
    machine(cuda_devices, mps)
    assert devices.available_devices() == available
    assert devices.resolve_device("auto") == torch.device(auto)
    assert devices.resolve_device("cpu") == torch.device("cpu")
    for name in available:
        assert devices.resolve_device(name) == torch.device(name)


WITHOUT_CUDA = " (this torch is built without CUDA)"


@pytest.mark.parametrize("cuda_devices,mps,device,message", [
    (0, False, "cuda", "Invalid device 'cuda': this machine has auto, cpu" + WITHOUT_CUDA),
    (0, False, "mps", "Invalid device 'mps': this machine has auto, cpu" + WITHOUT_CUDA),
    (0, True, "cuda:0", "Invalid device 'cuda:0': this machine has auto, cpu, mps" + WITHOUT_CUDA),
    (1, False, "mps", "Invalid device 'mps': this machine has auto, cpu, cuda, cuda:0"),
    (2, True, "cuda:2", "Invalid device 'cuda:2': this machine has auto, cpu, cuda, cuda:0, cuda:1, mps"),
], ids=["cuda-on-cpu-only", "mps-on-cpu-only", "cuda-on-mps", "mps-on-cuda", "third-of-two-gpus"])
def test_a_device_this_machine_lacks_is_refused_naming_those_it_has(machine, cuda_devices, mps, device,
                                                                    message):
    machine(cuda_devices, mps)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        devices.resolve_device(device)


SUMMARY = [  # Comparison.summary rows: a finished run, a diverged one, one that never started
    {"optimizer": "adam", "lr": 0.001, "status": "finished", "epochs": 2, "train_loss": 1.23456,
     "val_loss": 1.5, "val_accuracy": 0.4321, "seconds_per_epoch": 2.345},
    {"optimizer": "sgd<x>", "lr": 1e6, "status": "diverged", "epochs": 0, "train_loss": None,
     "val_loss": None, "val_accuracy": None, "seconds_per_epoch": None},
    {"optimizer": "rmsprop", "lr": 0.01, "status": "not started", "epochs": 0, "train_loss": None,
     "val_loss": None, "val_accuracy": None, "seconds_per_epoch": None},
]
HEADINGS = ["optimizer", "lr", "status", "train loss", "val loss", "val acc", "s/epoch"]


def test_the_text_and_html_tables_have_the_same_columns_and_mark_missing_values():
    lines = report.summary_text(SUMMARY).splitlines()
    assert lines[0].split() == " ".join(HEADINGS).split()
    assert [line.split() for line in lines[1:]] == [
        ["adam", "0.001", "finished", "1.2346", "1.5000", "0.432", "2.35"],
        ["sgd<x>", "1e+06", "diverged", "-", "-", "-", "-"],
        ["rmsprop", "0.01", "not", "started", "-", "-", "-", "-"]]
    assert len({len(line) for line in lines}) == 1, "fixed-width columns, a missing value padded too"
    table = report.summary_html(SUMMARY)
    assert re.findall(r"<th[^>]*>(.*?)</th>", table) == HEADINGS
    assert [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", table)[1:]] == [
        ["adam", "0.001", "finished", "1.2346", "1.5000", "0.432", "2.35"],
        ["sgd&lt;x&gt;", "1e+06", "diverged", "–", "–", "–", "–"],
        ["rmsprop", "0.01", "not started", "–", "–", "–", "–"]]


def _rewrite_batch(folder: Path, name: str, **changes) -> None:
    batch = pickle.loads((folder / name).read_bytes())
    (folder / name).write_bytes(pickle.dumps({**batch, **changes}))


@pytest.mark.parametrize("damage,file,message", [
    (lambda f: (f / "data_batch_1").write_bytes((f / "data_batch_1").read_bytes()[:5000]), "data_batch_1",
     "is damaged or truncated"),
    (lambda f: (f / "data_batch_1").write_bytes(b""), "data_batch_1", "is empty"),
    (lambda f: (f / "data_batch_1").write_bytes(np.random.default_rng(1).bytes(20_000)), "data_batch_1",
     "is damaged or truncated"),
    (lambda f: _rewrite_batch(f, "data_batch_1", data=np.zeros((4, 3000), np.uint8)), "data_batch_1",
     "images of shape (4, 3000)"),
    (lambda f: _rewrite_batch(f, "data_batch_1", labels=[1] * 3), "data_batch_1", "4 images but 3 labels"),
    (lambda f: _rewrite_batch(f, "data_batch_3", labels=[0, 1, 2, 10]), "data_batch_3",
     "labels outside 0 to 9"),
    (lambda f: (f / "data_batch_2").unlink(), "", "lacks data_batch_2 "),
    (lambda f: (f / "test_batch").write_bytes((f / "test_batch").read_bytes()[:-100]), "test_batch",
     "is damaged or truncated"),
], ids=["truncated", "empty", "random-bytes", "image-size", "labels-count", "labels-range", "missing-batch",
        "truncated-test"])
def test_damaged_data_is_one_message_naming_the_file(tmp_path, capsys, damage, file, message):
    folder = official_folder(tmp_path)
    damage(folder)
    with pytest.raises(data.DataUnavailable) as error:
        data.load(tmp_path)
    assert str(error.value).startswith(f"{folder / file}".rstrip("/") + " ") and message in str(error.value)
    assert main(["compare", "--data-dir", str(tmp_path), "--out", str(tmp_path / "r"), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {error.value}\n"
    assert not (tmp_path / "r").exists()


def test_without_a_learning_rate_each_rule_trains_at_its_catalog_network_lr(small_cifar):
    result = train.train_and_compare("mlp", ["nadam", "aggmo", "sgd+momentum"], epochs=1, batch_size=128,
                                     data=small_cifar, progress=False)
    assert [run.lr for run in result.runs] == [2e-3, 0.1, 1e-3]  # the rows of optim.BASE_RULES
    assert [run.status for run in result.runs] == ["finished"] * 3


def _trained_models(monkeypatch) -> list:
    """Every model ``models.create`` makes from now on (the first one is the throwaway one that
    every optimizer is built on before training, then one per run)."""
    real, created = models.create, []

    def create(*args):
        created.append(real(*args))
        return created[-1]

    monkeypatch.setattr(models, "create", create)
    return created


def _vector(model) -> torch.Tensor:
    return torch.nn.utils.parameters_to_vector(model.parameters()).detach()


def test_recorded_paths_start_together_every_n_steps_and_end_at_the_trained_weights(small_cifar,
                                                                                     monkeypatch):
    start = _vector(models.create("mlp", 0))
    created = _trained_models(monkeypatch)
    result = train.train_and_compare("mlp", ["sgd+momentum", "adam"], epochs=2, batch_size=64,
                                     lr={"sgd+momentum": 0.01, "adam": 1e-3}, data=small_cifar,
                                     progress=False, record=True, record_every=3)
    assert list(result.paths) == ["sgd+momentum", "adam"]
    for run, model in zip(result.runs, created[1:3]):
        path = run.path
        assert path.every == 3 and path.steps == [0, 3, 6, 9, 12, 15, 16], "16 steps: 0, 3, ..., 15 and 16"
        assert path.weights.shape == (7, start.numel()) and path.weights.dtype == torch.float32
        assert torch.equal(path.weights[0], start), "the common start, before any update"
        assert torch.equal(path.weights[-1], _vector(model)), "the trained model's final weights"
        assert path.losses == [run.step_losses[0]] + [run.step_losses[s - 1] for s in path.steps[1:]]
        assert path.buffers == {}, "an MLP has no buffers"
    assert not torch.equal(result.runs[0].path.weights[1], result.runs[1].path.weights[1])


def test_by_default_about_40_points_and_a_batchnorm_models_final_buffers(small_cifar, tmp_path, monkeypatch):
    result = train.train_and_compare("mlp", "adam", epochs=4, batch_size=8, lr=1e-3, data=small_cifar,
                                     progress=False, record=True)
    path = result.runs[0].path
    assert path.every == 7 and path.steps == list(range(0, 256, 7)) + [256], "256 steps: every ceil(256 / 40)"
    created = _trained_models(monkeypatch)
    tiny = data.load(official_folder(tmp_path, per_batch=8))  # 40 training images: 3 steps of 16
    result = train.train_and_compare("seed-cnn", "sgd", epochs=1, batch_size=16, lr=1e-2, data=tiny,
                                     progress=False, record=True)
    path, model = result.runs[0].path, created[-1]
    assert path.steps == [0, 3], "a short run: every 6th step at most (the recording's cost), and the last"
    assert torch.equal(path.weights[-1], _vector(model))
    assert path.weights.shape[1] == 808_458, "trainable parameters only, no BatchNorm statistics"
    buffers = dict(model.named_buffers())
    assert path.buffers.keys() == buffers.keys() and len(buffers) == 12, "4 BatchNorms x 3 buffers"
    assert all(torch.equal(path.buffers[name], buffer) for name, buffer in buffers.items())


def _compare_timed_by_count(monkeypatch, cifar: data.ImageData, out: Path, **options) -> train.Comparison:
    """A comparison whose epochs all last one second (a counting clock), saved in ``out``."""
    monkeypatch.setattr(loop, "time", SimpleNamespace(perf_counter=count().__next__))
    return train.train_and_compare("mlp", ["sgd", "adam", "rmsprop"], epochs=2, batch_size=64,
                                   lr={"sgd": 1e6, "adam": 1e-3, "rmsprop": 1e-3}, data=cifar,
                                   progress=False, out=out, **options)


def test_recording_changes_neither_the_training_nor_the_saved_results(small_cifar, tmp_path, monkeypatch):
    plain = _compare_timed_by_count(monkeypatch, small_cifar, tmp_path / "plain")
    recorded = _compare_timed_by_count(monkeypatch, small_cifar, tmp_path / "recorded", record=True,
                                       record_every=1)
    assert plain.paths == {} and list(recorded.paths) == ["sgd", "adam", "rmsprop"]
    assert [run.status for run in recorded.runs] == ["diverged", "finished", "finished"]
    for without, with_ in zip(plain.runs, recorded.runs):
        assert np.array_equal(without.step_losses, with_.step_losses, equal_nan=True)
        assert (without.epochs, without.status) == (with_.epochs, with_.status)
    for name in train.RESULTS:
        assert (tmp_path / "plain" / name).read_bytes() == (tmp_path / "recorded" / name).read_bytes(), name


def test_a_diverged_run_keeps_its_finite_points_before_it_diverged(small_cifar):
    result = train.train_and_compare("mlp", ["sgd", "adam"], epochs=2, batch_size=32,
                                     lr={"sgd": 1e6, "adam": 1e-3}, data=small_cifar, progress=False,
                                     record=True, record_every=1)
    diverged, path = result.runs[0], result.runs[0].path
    assert diverged.status == "diverged" and diverged.diverged_at_step < 16, "found at the epoch's end"
    assert path.steps == list(range(len(path.steps))) and path.steps[-1] < diverged.diverged_at_step
    assert len(path.weights) == len(path.steps) and torch.isfinite(path.weights).all()
    assert all(np.isfinite(path.losses))
    assert result.runs[1].path.steps == list(range(33))


def test_an_interrupted_run_keeps_the_points_it_has(small_cifar, monkeypatch):
    _interrupt_at_call(monkeypatch, 8 + 1 + 3)  # adam: 8 steps and 1 evaluation; rmsprop: its 3rd step
    result = train.train_and_compare("mlp", ["adam", "rmsprop", "sgd"], epochs=1, batch_size=64, lr=1e-3,
                                     data=small_cifar, progress=False, record=True, record_every=1)
    assert [run.status for run in result.runs] == ["finished", "interrupted", "not started"]
    assert list(result.paths) == ["adam", "rmsprop"]
    assert result.paths["adam"].steps == list(range(9))
    interrupted = result.paths["rmsprop"]
    assert interrupted.steps == [0, 1, 2] and interrupted.weights.shape[0] == 3
    assert interrupted.losses == [None] * 3, "the losses of an interrupted epoch are not kept"
    assert torch.equal(interrupted.weights[0], result.paths["adam"].weights[0])


@pytest.mark.parametrize("options,message", [
    (dict(record=True, record_every=0), "Invalid record_every: 0 (expected an integer >= 1)"),
    (dict(record=True, record_every=-3), "Invalid record_every: -3 (expected an integer >= 1)"),
    (dict(record=True, record_every=2.5), "Invalid record_every: 2.5 (expected an integer >= 1)"),
    (dict(record=True, record_every=True), "Invalid record_every: True (expected an integer >= 1)"),
    (dict(record_every=5), "Invalid record_every: 5 (applies only with record=True)"),
], ids=["zero", "negative", "fraction", "bool", "without-record"])
def test_a_bad_record_every_is_refused_before_any_training(small_cifar, monkeypatch, options, message):
    steps = _interrupt_at_call(monkeypatch, -1)  # counts forward passes, never interrupts
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        train.train_and_compare("mlp", "adam", data=small_cifar, progress=False, **options)
    assert steps == []


def test_network_loss_curves_are_in_each_optimizers_colour_as_on_the_surfaces():
    """sgd at two learning rates and adam: shades of sgd's colour by lr, adam's own, as in the
    surfaces' figures of the same list."""
    runs = [Run(spec, lr, step_losses=[2.3, 2.0, 1.8, 1.7],
                epochs=[Epoch(epoch, 1.0, 2.0 / epoch, 2.1 / epoch, 0.5, 0.1) for epoch in (1, 2)], status="finished")
            for spec, lr in (("sgd@0.5", 0.5), ("adam", 1e-3), ("sgd@0.05", 0.05))]
    comparison = Comparison("mlp", "cpu", {"train_size": 4, "batch_size": 2, "epochs": 2}, runs)
    train_ax, val_ax = report.curves_figure(comparison).axes
    sgd = draw.shades(optim.BASE_RULES["sgd"].colour, 2)
    expected = [sgd[1], optim.BASE_RULES["adam"].colour, sgd[0]]  # light to dark as the lr grows
    assert [line.get_color() for line in val_ax.get_lines()] == expected
    assert [line.get_color() for line in train_ax.get_lines()] == [c for c in expected for _ in range(2)]
