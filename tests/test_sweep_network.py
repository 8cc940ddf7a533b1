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
from landscape import cli, draw, optim
from landscape.files import Terminated
from landscape.nets import copies, costs, mnist, models, sweep


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
    one = copies.memory_estimate("mnist-mlp", 1, 16, evaluation_images=len(tiny.val_labels))
    monkeypatch.setattr(copies, "available_memory", lambda device: 10 * one)
    with pytest.raises(ValueError, match=r"Invalid sweep: 12 copies of mnist-mlp would take about .* GB on cpu, "
                                         r"which has .* GB free; at most about 8 copies fit"):
        sweep.sweep_network("mnist-mlp", "momentum", [0.01, 0.1, 0.2], [0.0, 0.3, 0.6, 0.9], data=tiny,
                            batch_size=16)
    assert copies.memory_estimate("mnist-mlp", 12, 16, evaluation_images=len(tiny.val_labels)) == 12 * one, \
        "the estimate grows with the copies"


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


@pytest.mark.parametrize("epochs", [1, 2])
def test_the_phase_diagram_labels_each_cells_lr_and_momentum_and_counts_epochs(tiny, epochs):
    """0.01:0.3:3 x {0, 0.9}: a tick at each of the three lrs and the two momenta, nothing between
    (no -0.4 … 1.2 momentum axis), in the saved figure and in the tab's cell figure alike."""
    result = sweep.sweep_network("mnist-mlp", "momentum", np.logspace(-2, np.log10(0.3), 3), [0.0, 0.9],
                                 data=tiny, epochs=epochs, batch_size=16)
    for figure in (result.figure(), result.cell_figure(1, 1)):
        figure.canvas.draw()
        phase = figure.axes[0]
        assert [t.get_text() for t in phase.get_xticklabels()] == ["0.01", "0.0548", "0.3"]
        assert [t.get_text() for t in phase.get_yticklabels()] == ["0", "0.9"]
        np.testing.assert_allclose(phase.get_xticks(), result.grid.lrs.numpy(), rtol=1e-12)
        assert not any(t.get_text() for t in phase.get_xticklabels(minor=True))
        colour_bar = [axes.get_ylabel() for axes in figure.axes
                      if axes.get_ylabel().startswith("validation loss after")]
        assert colour_bar == [f"validation loss after {epochs} epoch{'s' if epochs > 1 else ''}"]


def test_the_memory_check_sizes_a_batch_by_the_images_it_holds(tiny, monkeypatch):
    """A full-batch sweep (batch size beyond the data) takes the memory of the images there are."""
    images = len(tiny.train_labels)
    fits = copies.memory_estimate("mnist-mlp", 2, images, evaluation_images=len(tiny.val_labels))
    assert copies.memory_estimate("mnist-mlp", 2, 10**6) > 1000 * fits, "what the batch size alone would say"
    monkeypatch.setattr(copies, "available_memory", lambda device: 2 * fits)
    result = sweep.sweep_network("mnist-mlp", "sgd", [0.01, 0.1], data=tiny, batch_size=10**6, epochs=1)
    assert result.run.step_losses.shape == (1, 2), "one full batch a step"
    with pytest.raises(ValueError, match="Invalid sweep: 2 copies of mnist-mlp would take about"):
        sweep.sweep_network("mnist-mlp", "sgd", [0.01, 0.1], data_dir="/nowhere", dataset="mnist",
                            batch_size=10**6, device="cpu")  # no data, no train_size: the batch size is all it knows
    fits_500 = copies.memory_estimate("mnist-mlp", 2, 500, evaluation_images=1000)
    monkeypatch.setattr(copies, "available_memory", lambda device: 2 * fits_500)
    with pytest.raises(ValueError, match="the data folder /nowhere does not exist"):  # past the memory check
        sweep.sweep_network("mnist-mlp", "sgd", [0.01, 0.1], data_dir="/nowhere", dataset="mnist",
                            batch_size=10**6, train_size=500, device="cpu")


@pytest.mark.parametrize("options, message", [
    (dict(copies=0), "Invalid copies: 0 (expected an integer >= 1)"),
    (dict(copies=2.5), "Invalid copies: 2.5 (expected an integer >= 1)"),
    (dict(copies=10**12), "Invalid sweep: 1,000,000,000,000 copies of mnist-mlp would take about"),
    (dict(seed=2**64), "Invalid seed: 18446744073709551616"),
    (dict(progress=False), "Invalid progress: False (expected a function, or None)"),
])
def test_bad_copies_are_refused_before_anything_is_allocated(tiny, options, message):
    with pytest.raises(ValueError) as error:
        copies.train_copies("mnist-mlp", "sgd", tiny, lr=0.1, **options)
    assert message in str(error.value)


def test_a_model_without_parameters_is_refused(monkeypatch):
    monkeypatch.setitem(models.MODELS, "nothing", torch.nn.Identity)
    with pytest.raises(ValueError, match="Invalid model 'nothing' for batched copies: it has no parameters to train"):
        copies.check_model("nothing")


def test_a_sweep_refuses_a_progress_that_is_no_function_before_loading_data():
    with pytest.raises(ValueError, match="Invalid progress: False"):
        sweep.sweep_network("mnist-mlp", "sgd", [0.1, 0.2], dataset="mnist", data_dir="/nowhere", progress=False)


def test_the_sweeps_curves_are_in_the_optimizers_colour_shaded_by_lr(tiny):
    """The lr variations around the best cell: shades of the rule's colour, light to dark as the lr
    grows (as one rule at several lrs on a surface); a cell's curves in the rule's colour."""
    result = sweep.sweep_network("mnist-mlp", "momentum", [0.001, 0.003, 0.01, 0.03, 0.1], [0.9], data=tiny,
                                 epochs=1, batch_size=16)
    best, _ = result.best()
    lines = result.figure().axes[1].get_lines()  # beside the phase diagram (its colour bar is last)
    shown = [i for i in range(5) if abs(i - best) <= sweep.NEIGHBOURS]
    assert [line.get_color() for line in lines] == draw.shades(optim.BASE_RULES["momentum"].colour, len(shown))
    cell = result.cell_figure(1, 0).axes[1].get_lines()
    assert {line.get_color() for line in cell} == {optim.BASE_RULES["momentum"].colour}


@pytest.mark.parametrize("interruption, code, name", [(KeyboardInterrupt, 130, "Ctrl-C"), (Terminated, 143, "SIGTERM")])
def test_an_interrupted_sweep_command_keeps_the_earlier_sweep(tmp_path, capsys, monkeypatch, interruption, code, name):
    folder = mnist_folder(tmp_path / "data", train=60, test=20)
    out = tmp_path / "sweep"
    arguments = ["sweep", "--model", "mnist-mlp", "--dataset", "mnist", "--lrs", "0.01:0.1:2", "--momenta", "0:0.9:2",
                 "--epochs", "1", "--batch-size", "20", "--data-dir", str(folder), "--out", str(out)]
    assert cli.main(arguments) == 0
    earlier = {path.name: path.read_bytes() for path in out.iterdir()}
    capsys.readouterr()

    def interrupted(*args, **kwargs):
        raise interruption()

    monkeypatch.setattr(copies, "train_copies", interrupted)
    assert cli.main(arguments + ["--overwrite"]) == code
    assert capsys.readouterr().err.splitlines()[-1] == (f"interrupted ({name}): stopped; no file was left "
                                                        f"half-written (files appear whole or not at all)")
    assert {path.name: path.read_bytes() for path in out.iterdir()} == earlier, "the earlier sweep, whole"
