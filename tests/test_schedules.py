"""Learning-rate schedules (``landscape.schedules``): the factors are torch's schedulers', and a
comparison's and a sweep's runs train with them."""

import math

import pytest
import torch
from torch.optim import lr_scheduler

from helpers import float32_default, mnist_folder  # noqa: F401 - an autouse fixture
from landscape import optim, schedules
from landscape.nets import copies, mnist, models, train

LOSSES = [5.0, 4.0, 4.0, 4.5, 4.2, 3.0, 3.0, 3.1, float("nan"), 2.0]


def _torch_lrs(make, periods, lr=0.3, losses=None):
    """The lr torch's scheduler gives a torch SGD at each period, stepped after each."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make(optimizer)
    lrs = []
    for period in range(periods):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if losses is None:
            scheduler.step()
        else:
            scheduler.step(losses[period] if math.isfinite(losses[period]) else math.inf)
    return lrs


@pytest.mark.parametrize("name, make", [
    ("none", lambda o: lr_scheduler.LambdaLR(o, lambda t: 1.0)),
    ("step", lambda o: lr_scheduler.StepLR(o, step_size=4, gamma=0.1)),
    ("cosine", lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=10)),
    ("plateau", lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=0.1, patience=1)),
])
def test_the_factors_are_torchs_schedulers(name, make):
    schedule = schedules.Schedule(name, periods=10)
    ours = []
    for period in range(10):
        ours.append(0.3 * schedule.factor)
        schedule.step(LOSSES[period])
    expected = _torch_lrs(make, 10, losses=LOSSES if name == "plateau" else None)
    assert ours == pytest.approx(expected, rel=1e-12)
    if name != "none":
        assert len(set(ours)) > 1, "the schedule changes the lr"


def test_scale_keeps_tensor_learning_rates_per_row():
    parameter = torch.zeros(3, 2, requires_grad=True)
    base = torch.tensor([[0.1], [0.2], [0.4]])
    optimizer = optim.build("sgd", [parameter], lr=base)
    schedule = schedules.Schedule("step", periods=3, optimizers=[optimizer])
    schedule.step()
    assert torch.allclose(optimizer.param_groups[0]["lr"], base * 0.1)


def test_a_bad_schedule_is_refused():
    with pytest.raises(ValueError, match="Invalid schedule 'linear'; valid: none, step, cosine, plateau"):
        schedules.Schedule("linear")
    with pytest.raises(ValueError, match="Invalid schedule 'linear'"):
        train.train_and_compare("mnist-mlp", "sgd", dataset="mnist", schedule="linear", data_dir="/nowhere")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return mnist.load(mnist_folder(tmp_path_factory.mktemp("mnist"), train=60, test=20), val_size=20)


def test_a_comparison_trains_each_epoch_at_the_scheduled_lr(tiny):
    plain = train.train_and_compare("mnist-mlp", "momentum", lr=0.05, data=tiny, epochs=3, batch_size=16,
                                    progress=False)
    stepped = train.train_and_compare("mnist-mlp", "momentum", lr=0.05, data=tiny, epochs=3, batch_size=16,
                                      progress=False, schedule="step")
    assert [epoch.lr_factor for epoch in stepped.runs[0].epochs] == pytest.approx([1.0, 0.1, 0.01])
    assert [epoch.lr_factor for epoch in plain.runs[0].epochs] == [1.0] * 3
    first_epoch = slice(0, 4)
    assert plain.runs[0].step_losses[first_epoch] == stepped.runs[0].step_losses[first_epoch]
    assert plain.runs[0].step_losses[4:] != stepped.runs[0].step_losses[4:]
    assert stepped.settings["schedule"] == "step"


def test_each_copy_follows_the_schedule_as_its_single_run_would(tiny):
    lrs = [0.05, 0.01]
    result = copies.train_copies("mnist-mlp", "momentum", tiny, lr=lrs, momentum=0.9, epochs=3, batch_size=16,
                                 dtype=torch.float64, schedule="cosine")
    assert [epoch.lr_factor for epoch in result.epochs] == pytest.approx([1.0, 0.75, 0.25])
    for b, lr in enumerate(lrs):  # a single run with torch's own scheduler on our (torch) optimizer
        model = models.create("mnist-mlp").to(torch.float64)
        optimizer = optim.build("momentum", model.parameters(), lr=lr, momentum=0.9)
        scheduler = lr_scheduler.CosineAnnealingLR(optimizer, T_max=3)
        for epoch in range(1, 4):
            generator = torch.Generator().manual_seed(epoch)
            for x, y in tiny.train_batches(16, generator, torch.float64):
                loss, _ = models.loss_and_correct(model, x, y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            scheduler.step()
        weights = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
        torch.testing.assert_close(result.weights[b], weights, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, make", [
    ("step", lambda o: lr_scheduler.StepLR(o, step_size=10, gamma=0.1)),
    ("cosine", lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=30)),
])
def test_a_surface_run_follows_the_schedule_step_by_step(name, make):
    from landscape import surfaces, trajectory

    surface = surfaces.get("two-well")
    runs = trajectory.run(surface, "momentum", lr=0.05, momentum=0.9, steps=30, schedule=name,
                          starts=[surface.start])
    point = torch.tensor([surface.start], dtype=torch.float64, requires_grad=True)
    optimizer = optim.build("momentum", [point], lr=0.05, momentum=0.9)
    scheduler = make(optimizer)
    expected = [point.detach().clone()]
    for _ in range(30):
        optimizer.zero_grad()
        surface(point).sum().backward()
        optimizer.step()
        scheduler.step()
        expected.append(point.detach().clone())
    torch.testing.assert_close(runs.points[:, 0], torch.cat(expected), rtol=1e-12, atol=1e-12)


def test_the_gif_command_takes_a_schedule(tmp_path, capsys):
    from landscape import cli

    out = tmp_path / "cosine.gif"
    assert cli.main(["gif", "--surface", "quadratic", "--optimizers", "sgd", "--steps", "20",
                     "--schedule", "cosine", "--size", "320x180", "--out", str(out)]) == 0
    assert "21 frames" in capsys.readouterr().out
    assert cli.main(["gif", "--surface", "quadratic", "--optimizers", "sgd", "--schedule", "linear",
                     "--out", str(tmp_path / "x.gif")]) == 2
    assert "invalid choice: 'linear'" in capsys.readouterr().err and not (tmp_path / "x.gif").exists()
