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


# 60 periods (patience 3): an improvement at period 10, a NaN at 20, else the same loss: 16 reductions
PLATEAU_LOSSES = [2.0] * 10 + [1.0] * 10 + [math.nan] + [1.0] * 49
TINY_LRS = [1e-8, 1e-7, 1e-3]


def _torch_plateau_lrs(optimizer, losses):
    """Each group's lr at each period under torch's ReduceLROnPlateau stepping ``optimizer``."""
    scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.1, patience=max(1, len(losses) // 20))
    lrs = []
    for loss in losses:
        lrs.append([group["lr"] for group in optimizer.param_groups])
        optimizer.step()
        scheduler.step(loss if math.isfinite(loss) else math.inf)
    return lrs


def _plateau_lrs(optimizer, losses, lr_of=lambda lr: lr):
    schedule = schedules.Schedule("plateau", periods=len(losses), optimizers=[optimizer])
    lrs = []
    for loss in losses:
        lrs.append([lr_of(group["lr"]) for group in optimizer.param_groups])
        schedule.step(loss)
    return lrs, schedule


def _groups(lrs):
    return [{"params": [torch.zeros(2, dtype=torch.float64, requires_grad=True)], "lr": lr} for lr in lrs]


def test_plateau_is_torchs_at_every_lr_of_every_group():
    """torch skips a reduction of less than 1e-8 (its eps): a group at 1e-8 is never reduced, one at
    1e-7 once, one at 1e-3 five times, while the nominal factor goes on to 1e-16."""
    ours, schedule = _plateau_lrs(optim.build("sgd", _groups(TINY_LRS)), PLATEAU_LOSSES)
    assert ours == _torch_plateau_lrs(optim.build("sgd", _groups(TINY_LRS)), PLATEAU_LOSSES)
    assert [len(set(lrs)) for lrs in zip(*ours)] == [1, 2, 6], "reduced never, once, five times"
    assert schedule.factor == pytest.approx(1e-16, rel=1e-12, abs=0)


def test_plateau_reduces_the_rows_of_a_tensor_lr_as_torch_reduces_each():
    lr = torch.tensor([[1e-8], [1e-3], [0.5], [1e-7]], dtype=torch.float64)
    parameter = torch.zeros(4, 2, dtype=torch.float64, requires_grad=True)
    rows, _ = _plateau_lrs(optim.build("adam", [parameter], lr=lr), PLATEAU_LOSSES,
                           lr_of=lambda lr: lr.flatten().tolist())
    for row, single in enumerate(lr.flatten().tolist()):
        expected = _torch_plateau_lrs(optim.build("adam", _groups([single])), PLATEAU_LOSSES)
        assert [lrs[0][row] for lrs in rows] == [lrs[0] for lrs in expected]
    reductions = [len({lrs[0][row] for lrs in rows}) - 1 for row in range(4)]
    assert reductions == [0, 5, 8, 1], "a row stops where torch would, the others go on"


def test_factors_are_each_groups_lr_over_its_base_lr():
    tensor_lr = torch.tensor([[1e-8], [1e-3], [0.0]], dtype=torch.float64)
    optimizer = optim.build("sgd", _groups([1e-8, 1e-3, 0.0]))
    optimizer.add_param_group({"params": [torch.zeros(3, 2, dtype=torch.float64, requires_grad=True)],
                               "lr": tensor_lr})
    schedule = schedules.Schedule("plateau", periods=20, optimizers=[optimizer])
    for loss in [1.0, 1.0, 1.0, 1.0, 1.0]:  # patience 1: reductions after periods 3 and 5
        schedule.step(loss)
    assert schedule.factor == pytest.approx(0.01)
    tiny, normal, zero, rows = schedule.factors()
    assert (tiny, zero) == (1.0, schedule.factor) and normal == pytest.approx(0.01)
    assert isinstance(normal, float) and rows.shape == (3, 1)
    torch.testing.assert_close(rows, torch.tensor([[1.0], [0.01], [schedule.factor]], dtype=torch.float64))
    assert [group["lr"] for group in optimizer.param_groups[:3]] == [1e-8, 1e-3 * 0.1 * 0.1, 0.0]
    stepped = schedules.Schedule("step", periods=3, optimizers=[optim.build("sgd", _groups([0.3]))])
    stepped.step()
    assert stepped.factors() == [pytest.approx(stepped.factor)] and stepped.factor == pytest.approx(0.1)


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
