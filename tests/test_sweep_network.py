"""A network's lr x momentum sweep (``nets.sweep``) and the ``sweep --model`` command: cells laid
out as the surfaces' sweeps, each cell its own batched copy, diverged cells marked with their
step, strict JSON + CSV + phase PNG, bad input refused before any data is loaded."""

import csv
import json

import numpy as np
import pytest
import torch
from PIL import Image

from helpers import MNIST_SHARED, float32_default, mnist_folder  # noqa: F401 - an autouse fixture
from landscape import cli
from landscape.nets import copies, costs, mnist, sweep


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return mnist.load(mnist_folder(tmp_path_factory.mktemp("mnist"), train=60, test=20), val_size=20)


def test_cells_are_row_major_and_each_is_its_own_run(tiny):
    lrs, momenta = [0.01, 0.1, 1e300], [0.0, 0.9]
    result = sweep.sweep_network("mnist-mlp", "momentum", lrs, momenta, data=tiny, epochs=2, batch_size=16)
    assert result.grid.shape == (3, 2) and result.final("val_loss").shape == (3, 2)
    alone = copies.train_copies("mnist-mlp", "momentum", tiny, lr=[0.1], momentum=[0.9], epochs=2, batch_size=16)
    assert result.final("val_loss")[1, 1].item() == pytest.approx(alone.epochs[-1].val_loss[0].item(), rel=1e-6)
    diverged = result.grid.values(result.run.diverged_at)
    assert (diverged[2] >= 1).all() and (diverged[:2] == -1).all(), "the huge lr diverges, the others do not"
    assert torch.isnan(result.final("val_loss")[2]).all()
    best = result.best()
    assert result.final("val_loss")[best] == torch.nanquantile(result.final("val_loss").flatten(), 0.0)


def test_the_estimate_is_said_once_the_data_is_loaded_before_any_training(tiny, monkeypatch):
    heard = []
    monkeypatch.setattr(costs, "CPU", {**costs.CPU, "mnist-mlp": costs.Cost(1.0, forward=0.01, copy_step=0.1)})
    sweep.sweep_network("mnist-mlp", "momentum", [0.01, 0.1, 0.2], [0.0, 0.9], data=tiny, epochs=1, batch_size=16,
                        status=heard.append, progress=lambda done, total: heard.append("step"))
    # 6 cells x 1 epoch x (60 training images x 0.1 s + 20 validation images x 0.01 s) = 37.2 s
    assert heard[0] == "about 35 s for 6 cells x 1 epoch on 60 training and 20 validation images"
    assert heard[1:] == ["step"] * 4, "said before the first step"


def test_a_cells_batch_losses_are_drawn_readable_under_its_epoch_curves(tiny):
    result = sweep.sweep_network("mnist-mlp", "momentum", [0.01, 0.1], [0.0, 0.9], data=tiny, epochs=2, batch_size=16)
    curves = result.cell_figure(1, 1).axes[1]  # beside the phase diagram
    batches, *epochs = curves.get_lines()
    assert batches.get_label() == "training loss per batch" and len(batches.get_xdata()) == len(result.run.step_losses)
    assert batches.get_alpha() >= 0.5 and batches.get_linewidth() >= 1, "not too faint to read"
    assert all(batches.get_zorder() < line.get_zorder() for line in epochs), "under the epoch curves"


def test_a_rule_without_momentum_sweeps_lrs_only(tiny):
    result = sweep.sweep_network("mnist-mlp", "adagrad", [0.01, 0.1], data=tiny, epochs=1, batch_size=16)
    assert result.grid.shape == (2, 1) and result.to_json()["momenta"] is None
    with pytest.raises(ValueError, match="'adagrad' has no momentum; sweep lrs only"):
        sweep.sweep_network("mnist-mlp", "adagrad", [0.01], [0.5], data=tiny)


@pytest.mark.parametrize("options, message", [
    (dict(lrs=[0.0, 0.1]), "Invalid lrs: [0.0, 0.1] (expected one or more finite numbers > 0)"),
    (dict(lrs=[0.1], momenta=[1.0]), "Invalid momenta: [1.0] (expected one or more finite numbers in [0, 1))"),
    (dict(model="seed-cnn", dataset="cifar10", lrs=[0.1]), "Invalid model 'seed-cnn' for batched copies"),
    (dict(model="mlp", dataset="mnist", lrs=[0.1]), "Invalid model 'mlp' for mnist"),
    (dict(lrs=np.logspace(-3, 0, 100), momenta=np.linspace(0, 0.9, 50)), "Invalid sweep: 5,000 cells"),
])
def test_bad_input_is_refused_before_any_data_is_loaded(options, message):
    options = {"model": "mnist-mlp", "dataset": "mnist", **options}
    with pytest.raises(ValueError) as error:
        sweep.sweep_network(options.pop("model"), "momentum", data_dir="/nowhere", **options)
    assert str(error.value).startswith(message)


def test_sweep_command_on_mnist_end_to_end(tmp_path, capsys):
    folder = MNIST_SHARED if MNIST_SHARED.is_dir() else mnist_folder(tmp_path / "data", train=400, test=100)
    out = tmp_path / "sweep"
    code = cli.main(["sweep", "--model", "mnist-mlp", "--dataset", "mnist", "--optimizer", "momentum",
                     "--lrs", "0.01:0.5:3", "--momenta", "0:0.9:2", "--epochs", "2", "--train-size", "400",
                     "--val-size", "100", "--data-dir", str(folder), "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "6 cells" in printed.out and f"wrote {out}/sweep.json" in printed.out
    assert printed.out.startswith("about 1 s for 6 cells x 2 epochs on 400 training and 100 validation images\n")
    saved = json.loads((out / "sweep.json").read_text(), parse_constant=lambda word: pytest.fail(word))
    assert saved["lrs"] == pytest.approx(np.logspace(np.log10(0.01), np.log10(0.5), 3).tolist())
    assert saved["momenta"] == [0.0, 0.9] and np.array(saved["final_val_loss"]).shape == (3, 2)
    with open(out / "sweep.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6 * 2 and {row["epoch"] for row in rows} == {"1", "2"}
    with Image.open(out / "sweep.png") as png:
        assert png.size == (1280, 500)


@pytest.mark.parametrize("arguments, message", [
    (["--surface", "quadratic", "--model", "mnist-mlp"], "not allowed with argument"),
    (["--model", "mnist-mlp", "--dataset", "mnist", "--steps", "10"], "--steps applies to a surface's sweep"),
    (["--model", "mnist-mlp", "--dataset", "mnist", "--lrs", "1:0.1:3"], "Invalid --lrs"),
    (["--model", "mnist-mlp", "--dataset", "mnist", "--optimizer", "adagrad", "--momenta", "0:0.5:2"],
     "'adagrad' has no momentum"),
])
def test_sweep_command_refuses_bad_input_in_one_line(tmp_path, capsys, arguments, message):
    code = cli.main(["sweep", *arguments, "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")])
    error = capsys.readouterr().err
    assert code == 2 and message in error
    assert not (tmp_path / "o").exists()


def test_a_sweep_that_does_not_fit_is_refused_with_the_estimate(tiny, monkeypatch):
    one = copies.memory_estimate("mnist-mlp", 1, 16)
    monkeypatch.setattr(copies, "available_memory", lambda device: 10 * one)
    with pytest.raises(ValueError, match=r"Invalid sweep: 12 copies of mnist-mlp would take about .* GB on cpu, "
                                         r"which has .* GB free; at most about 8 copies fit"):
        sweep.sweep_network("mnist-mlp", "momentum", [0.01, 0.1, 0.2], [0.0, 0.3, 0.6, 0.9], data=tiny,
                            batch_size=16)
    assert copies.memory_estimate("mnist-mlp", 12, 16) == 12 * one, "the estimate grows with the copies"


def test_a_scheduled_sweep_records_its_schedule_and_factors(tiny, tmp_path):
    sweep.sweep_network("mnist-mlp", "momentum", [0.01, 0.1], [0.9], data=tiny, epochs=3, batch_size=16,
                        schedule="step", out=tmp_path / "s")
    saved = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert saved["schedule"] == "step"
    assert [cell["lr_factor"] for cell in saved["cells"][:3]] == pytest.approx([1.0, 0.1, 0.01])
    with open(tmp_path / "s" / "sweep.csv") as handle:
        assert [float(row["lr_factor"]) for row in csv.DictReader(handle)][:3] == pytest.approx([1.0, 0.1, 0.01])


def test_a_surfaces_phase_diagram_takes_a_schedule(tmp_path, capsys):
    for schedule in ("none", "cosine"):
        out = tmp_path / f"{schedule}.png"
        assert cli.main(["phase", "--surface", "quadratic", "--lrs", "0.01:1:4", "--momenta", "0:0.9:3",
                         "--steps", "40", "--schedule", schedule, "--out", str(out)]) == 0
    assert (tmp_path / "none.png").read_bytes() != (tmp_path / "cosine.png").read_bytes()
