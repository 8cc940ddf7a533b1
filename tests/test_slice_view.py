"""A comparison's loss slice drawn like the surfaces (``nets.slice_view``) and the ``slice`` command:
the grid and the paths' real losses against direct evaluation, projected paths from the origin,
'[k]' steps to the common target, diverged runs, BatchNorm buffers, strict JSON, PNG and GIF."""

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.nn.utils import vector_to_parameters

from landscape import cli, draw, optim
from landscape.files import Terminated
from landscape.nets import costs, data, models, slice_view, train
from helpers import SHARED, float32_default, official_folder  # noqa: F401 - an autouse fixture


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """40 training and 8 validation images of random pixels, in the official layout."""
    return data.load(official_folder(tmp_path_factory.mktemp("tiny"), per_batch=8), val_size=8)


@pytest.fixture(scope="module")
def mlp_slice(tiny):
    comparison = train.train_and_compare("mlp", ["sgd+momentum", "adam"], epochs=3, batch_size=8,
                                         lr={"sgd+momentum": 0.05, "adam": 1e-3}, data=tiny, progress=False,
                                         record=True, record_every=2)
    return comparison, slice_view.slice_comparison(comparison, tiny, grid=5, evaluation_images=24)


def _direct_loss(name: str, weights: torch.Tensor, images, labels, buffers=None) -> float:
    """The model's mean loss at ``weights``, built from scratch, in eval mode."""
    model = models.create(name)
    vector_to_parameters(weights.clone(), model.parameters())
    for key, value in (buffers or {}).items():
        dict(model.named_buffers())[key].copy_(value)
    model.eval()
    mean, std = (torch.tensor(values).view(1, 3, 1, 1) for values in (data.MEAN, data.STD))
    x = (images.float() / 255 - mean) / std
    with torch.no_grad():
        return float(models.loss_and_correct(model, x, labels)[0])


def test_paths_start_at_the_origin_on_the_plane_and_carry_their_real_losses(mlp_slice, tiny):
    comparison, result = mlp_slice
    for run, path in zip(comparison.runs, result.paths):
        assert path.steps == run.path.steps == [0, 2, 4, 6, 8, 10, 12, 14, 15]
        assert torch.equal(path.coords[0], torch.zeros(2)) and path.off_plane[0] == 0
        for index in (0, 4, -1):
            expected = _direct_loss("mlp", run.path.weights[index], tiny.train_images[:24], tiny.train_labels[:24])
            assert path.loss[index].item() == pytest.approx(expected, rel=1e-5)
        steps = torch.linalg.vector_norm(run.path.weights.diff(dim=0), dim=1).double()
        assert path.length == pytest.approx(float(steps.sum()), rel=1e-6)
        assert path.off_plane_share == pytest.approx(float(path.off_plane.max()) / path.length)
    assert sum(result.explained_variance) <= 1 + 1e-9 and result.explained_variance[0] >= result.explained_variance[1]


def test_grid_values_equal_direct_evaluation_and_cover_the_paths_in_a_square(mlp_slice, tiny):
    _, result = mlp_slice
    assert result.train_loss.shape == result.validation_loss.shape == (5, 5)
    for row, column in ((0, 0), (2, 3), (4, 1)):
        weights = result.plane.point(result.alphas[column].item(), result.betas[row].item())
        train_loss = _direct_loss("mlp", weights, tiny.train_images[:24], tiny.train_labels[:24])
        validation_loss = _direct_loss("mlp", weights, tiny.val_images, tiny.val_labels)
        assert result.train_loss[row, column].item() == pytest.approx(train_loss, rel=1e-4)
        assert result.validation_loss[row, column].item() == pytest.approx(validation_loss, rel=1e-4)
    points = torch.cat([path.coords for path in result.paths])
    (a0, a1), (b0, b1) = result.bounds
    assert a1 - a0 == pytest.approx(b1 - b0), "a square: one unit is as long on both axes"
    assert (points[:, 0] > a0).all() and (points[:, 0] < a1).all()
    assert (points[:, 1] > b0).all() and (points[:, 1] < b1).all()
    assert result.evaluation == {"train_images": 24, "validation_images": 8}


def test_k_counts_the_steps_to_the_loss_every_run_reached(mlp_slice):
    _, result = mlp_slice
    assert result.target_loss == max(float(path.loss.min()) for path in result.paths)
    surface = result.surface()
    for path, run in zip(result.paths, result.trajectories(surface)):
        first = next(step for step, loss in zip(path.steps, path.loss.tolist()) if loss <= result.target_loss)
        assert path.steps_to(result.target_loss) == first
        share = f"{path.off_plane_share:.0%}"
        assert run.label().startswith(f"{path.optimizer}@{path.lr:g} ({share} off the plane) [{first}")
        assert torch.equal(run.points[:, 0], path.coords) and torch.equal(run.losses[:, 0], path.loss)
    assert surface.minima == () and surface.bounds == result.bounds
    assert f"[k]: recorded step (every 2) at loss ≤ {result.target_loss:.3g}" in surface.formula


def test_the_drawn_surface_holds_the_grid_values_and_invents_no_lower_point(mlp_slice):
    _, result = mlp_slice
    surface = result.surface()
    alphas, betas = torch.meshgrid(result.alphas, result.betas, indexing="xy")
    at_grid = surface(torch.stack([alphas, betas], dim=-1))
    assert torch.allclose(at_grid, result.train_loss, rtol=1e-12)
    between = surface(torch.stack(torch.meshgrid(torch.linspace(*result.bounds[0], 97, dtype=torch.float64),
                                                 torch.linspace(*result.bounds[1], 97, dtype=torch.float64),
                                                 indexing="xy"), dim=-1))
    assert between.min() >= result.train_loss.min() - 1e-12, "no well deeper than the grid's lowest point"


def test_the_figure_shows_projected_paths_and_real_losses_against_steps(mlp_slice):
    _, result = mlp_slice
    figure = result.figure()
    contour_axes, loss_axes = figure.axes[:2]
    lines = [line for line in contour_axes.get_lines() if line.get_label() and not line.get_label().startswith("_")]
    assert [line.get_label().split(" (")[0] for line in lines] == [p.name for p in result.paths]
    for line, path in zip(lines, result.paths):
        assert np.allclose(line.get_xydata(), path.coords.numpy())
    # each in its rule's colour, as on the surfaces: sgd+momentum is sgd's, adam adam's
    assert [line.get_color() for line in lines] == [optim.BASE_RULES[rule].colour for rule in ("sgd", "adam")]
    for line, path in zip(loss_axes.get_lines(), result.paths):
        assert np.array_equal(line.get_xdata(), path.steps) and np.allclose(line.get_ydata(), path.loss.numpy())
    share = f"{result.explained_variance[0]:.0%}"
    assert contour_axes.get_xlabel() == f"α: principal direction 1 (explained variance ratio {share})"
    assert contour_axes.get_ylabel().startswith("β: principal direction 2 (explained variance ratio ")
    title = contour_axes.get_title()
    assert "largest distance / path length" in title and ", centred PCA plane through the start\n" in title
    assert loss_axes.get_ylabel() == "real loss at the weights"
    image = np.asarray(Image.open(io.BytesIO(figure.png())))
    assert image.shape[:2] == (540, 960)


def test_a_colour_bar_beside_the_contour_names_the_loss_it_shows(mlp_slice):
    _, result = mlp_slice
    for which, words in (("train", "training loss\n(24 images)"), ("validation", "validation loss\n(8 images)")):
        figure = result.figure(which)
        contour_axes = figure.axes[0]
        assert len(figure.axes) == 2 and len(contour_axes.child_axes) == 1, "the panels, and the bar in the contour's"
        bar = contour_axes.child_axes[0]
        assert bar.get_title(loc="left") == words
        grid = result.train_loss if which == "train" else result.validation_loss
        low, high, spread = *bar.get_ylim(), float(grid.max() - grid.min())
        assert low <= float(grid.min()) + 0.05 * spread and high >= float(grid.max()) - 0.05 * spread, "its values"
        figure.canvas.draw()
        beside, inside = bar.get_window_extent(), contour_axes.get_window_extent()
        assert beside.x0 > inside.x1 and beside.y0 == pytest.approx(inside.y0) and beside.height == pytest.approx(
            inside.height), "right of the contour, as tall"


def test_the_colour_bar_reads_at_a_projectors_text_size_and_clears_the_loss_panel(mlp_slice):
    _, result = mlp_slice
    surface = result.surface("train")
    sizes = {}
    for text_size in ("normal", "projector"):
        figure = draw.lecture_figure(surface, result.trajectories(surface), text_size=text_size).figure
        contour_axes, loss_axes = figure.axes
        (bar,) = contour_axes.child_axes
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()
        ticks = [label for label in bar.get_yticklabels() if label.get_text()]
        sizes[text_size] = (ticks[0].get_fontsize(), bar._left_title.get_fontsize())
        assert ticks and {label.get_fontsize() for label in ticks} == {draw.font_size("label", text_size)}
        right = max(bar.get_tightbbox(renderer).x1, bar._left_title.get_window_extent(renderer).x1)
        assert right < loss_axes.yaxis.get_tightbbox(renderer).x0, f"{text_size}: clear of the loss panel's y axis"
    assert sizes["projector"] == (1.5 * sizes["normal"][0], 1.5 * sizes["normal"][1])


def test_saved_slice_is_strict_json_a_png_and_a_gif_of_every_recorded_point(mlp_slice, tmp_path):
    _, result = mlp_slice
    written = result.save(tmp_path / "out")
    assert [p.name for p in written] == ["slice.json", "slice.png", "slice.gif"]
    saved = json.loads((tmp_path / "out" / "slice.json").read_text(),
                       parse_constant=lambda word: pytest.fail(f"not strict JSON: {word}"))
    assert saved["directions"] == "pca" and len(saved["alpha"]) == len(saved["beta"]) == 5
    assert saved["explained_variance"] == list(result.explained_variance)
    assert saved["explained_variance_meaning"] == "explained variance ratio (centred PCA)"
    assert np.allclose(saved["train_loss"], result.train_loss.numpy())
    for entry, path in zip(saved["paths"], result.paths):
        assert [point["step"] for point in entry["points"]] == path.steps
        assert np.allclose([[p["alpha"], p["beta"]] for p in entry["points"]], path.coords.numpy())
        assert entry["steps_to_target"] == path.steps_to(result.target_loss)
    with Image.open(tmp_path / "out" / "slice.gif") as gif:
        assert gif.n_frames == len(result.paths[0].steps) and gif.size == (960, 540)
    with pytest.raises(ValueError, match="already holds an earlier slice"):
        result.save(tmp_path / "out")


def test_a_diverged_run_is_drawn_up_to_where_it_diverged(tiny):
    comparison = train.train_and_compare("mlp", ["sgd", "adam"], epochs=2, batch_size=8,
                                         lr={"sgd": 1e6, "adam": 1e-3}, data=tiny, progress=False,
                                         record=True, record_every=1)
    diverged = comparison.runs[0]
    assert diverged.status == "diverged"
    result = slice_view.slice_comparison(comparison, tiny, grid=3, evaluation_images=8)
    path = result.paths[0]
    assert path.status == "diverged" and max(path.steps) < diverged.diverged_at_step
    assert result.target_loss == float(result.paths[1].loss.min()), "the diverged run sets no target"
    runs = result.trajectories(result.surface())
    assert runs[0].label().endswith(f"off the plane) [diverged@{diverged.diverged_at_step}]")
    assert json.dumps(result.to_json(), allow_nan=False)


def test_batchnorm_statistics_of_the_reference_run_are_used_on_the_grid(tmp_path):
    tiny = data.load(official_folder(tmp_path, per_batch=4), val_size=4)
    comparison = train.train_and_compare("seed-cnn", ["sgd", "adam"], epochs=1, batch_size=10,
                                         lr={"sgd": 0.01, "adam": 1e-3}, data=tiny, progress=False,
                                         record=True, record_every=1)
    result = slice_view.slice_comparison(comparison, tiny, directions="random", grid=3, evaluation_images=8)
    reference = comparison.runs[0].path
    assert reference.buffers, "the seed CNN has BatchNorm statistics"
    assert result.bounds[0][0] <= -1 and result.bounds[0][1] >= 1, "a random plane's view reaches ±1"
    weights = result.plane.point(result.alphas[2].item(), result.betas[0].item())
    expected = _direct_loss("seed-cnn", weights, tiny.train_images[:8], tiny.train_labels[:8], reference.buffers)
    assert result.train_loss[0, 2].item() == pytest.approx(expected, rel=1e-4)
    own = comparison.runs[1].path
    expected = _direct_loss("seed-cnn", own.weights[-1], tiny.train_images[:8], tiny.train_labels[:8], own.buffers)
    assert result.paths[1].loss[-1].item() == pytest.approx(expected, rel=1e-4)
    assert result.axis_labels()[0] == "α: filter-normalised random direction 1"
    assert "random plane through the best run's end\n" in result.title()


@pytest.mark.parametrize("options, message", [
    (dict(directions="hessian"), "Invalid directions 'hessian'; valid: pca, pca-uncentred, random"),
    (dict(grid=2), "Invalid grid: 2 (expected 3 to 201 points per axis)"),
    (dict(grid=True), "Invalid grid: True"),
    (dict(evaluation_images=0), "Invalid evaluation images: 0"),
    (dict(margin=-0.1), "Invalid margin: -0.1"),
    (dict(target_loss=math.nan), "Invalid target loss: nan"),
])
def test_bad_options_are_refused_before_any_work(mlp_slice, tiny, options, message):
    comparison, _ = mlp_slice
    with pytest.raises(ValueError) as error:
        slice_view.slice_comparison(comparison, tiny, **options)
    assert str(error.value).startswith(message)


def test_a_comparison_without_recorded_paths_says_how_to_get_them(tiny):
    comparison = train.train_and_compare("mlp", "adam", epochs=1, batch_size=8, data=tiny, progress=False)
    with pytest.raises(ValueError, match="train with record=True"):
        slice_view.slice_comparison(comparison, tiny)


def test_a_coarse_slice_comes_first_and_the_full_grid_evaluates_only_the_points_it_misses(mlp_slice, tiny,
                                                                                          monkeypatch):
    comparison, _ = mlp_slice
    evaluated, events, ticks = [], [], []
    loss_grid = slice_view.planes.loss_grid

    def counted(model, plane, alphas, betas, batches, **options):
        evaluated.append(len(alphas) * len(betas))
        events.append("grid")
        return loss_grid(model, plane, alphas, betas, batches, **options)

    monkeypatch.setattr(slice_view.planes, "loss_grid", counted)
    coarse = []

    def handed(loss_slice) -> None:
        coarse.append(loss_slice)
        events.append("coarse")

    result = slice_view.slice_comparison(comparison, tiny, grid=9, evaluation_images=24, on_coarse=handed,
                                         progress=lambda done, total: ticks.append((done, total)))
    assert events[:3] == ["grid", "grid", "coarse"], "the coarse training and validation grids, then handed over"
    assert sum(evaluated) == 2 * 9 * 9, "every point of both losses once: the coarse ones are reused"
    plain = slice_view.slice_comparison(comparison, tiny, grid=9, evaluation_images=24)
    for which in ("train_loss", "validation_loss"):
        assert torch.allclose(getattr(result, which), getattr(plain, which), rtol=1e-6, atol=0)
        assert torch.equal(getattr(coarse[0], which), getattr(result, which)[::2, ::2])
    assert torch.equal(coarse[0].alphas, result.alphas[::2]) and torch.equal(coarse[0].betas, result.betas[::2])
    assert coarse[0].paths is result.paths and coarse[0].target_loss == result.target_loss
    points = sum(len(path.steps) for path in result.paths)
    assert ticks[-1] == (points + 2 * 81, points + 2 * 81), "the paths' points and both grids, counted once"
    assert [done for done, _ in ticks] == sorted(done for done, _ in ticks)


def test_without_grid_or_images_the_slice_takes_the_models_defaults_on_its_device(mlp_slice, tiny):
    comparison, _ = mlp_slice
    result = slice_view.slice_comparison(comparison, tiny)
    assert len(result.alphas) == len(result.betas) == costs.slice_defaults("mlp", "cpu")[0] == 21
    assert result.evaluation == {"train_images": 40, "validation_images": 8}, "the 1,000 images the data has"
    plan = slice_view.plan_slice(comparison, tiny, coarse=True)
    assert (plan.grid, plan.coarse, plan.stride, plan.path_points) == (21, 11, 2, 18)
    assert plan.seconds() == pytest.approx(costs.slice_seconds(costs.CPU["mlp"], 21, 40, 8, 18))
    assert plan.estimate() == ("about 1 s for 21 x 21 points on 40 training and 8 validation images; "
                               "a coarse 11 x 11 picture first, in about 1 s")
    assert slice_view.plan_slice(comparison, tiny, grid=20, coarse=True).coarse is None, "19 intervals: no coarse"


def test_recorded_points_are_placed_at_their_steps_in_the_loss_panel_and_the_counter(mlp_slice):
    _, result = mlp_slice
    animation = result.animation(size=(480, 270))
    assert animation.frame_points == list(range(len(result.paths[0].steps)))
    animation.frame_image(3)
    assert animation.counter.get_text() == f"iteration {result.paths[0].steps[3]}"
    run = result.trajectories(result.surface())[0]
    assert run.last_iteration == 15 and draw.loss_curve(run)[:, 0].tolist() == result.paths[0].loss.tolist()


def _data_folder(tmp_path: Path) -> Path:
    return SHARED.parent if SHARED.is_dir() else official_folder(tmp_path / "data", per_batch=200).parent


def test_slice_command_end_to_end(tmp_path, capsys):
    out = tmp_path / "slice"
    code = cli.main(["slice", "--model", "mlp", "--optimizers", "sgd+momentum,adam", "--epochs", "2",
                     "--train-size", "512", "--batch-size", "64", "--evaluation-images", "200",
                     "--device", "cpu", "--data-dir", str(_data_folder(tmp_path)), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and "\nexplained variance ratio (centred PCA): " in printed
    estimate = printed.index("\nslice: about ")
    assert printed[estimate:].startswith("\nslice: about 1 s for 21 x 21 points on 200 images\n"), "the mlp's grid"
    assert estimate < printed.index("finding the plane"), "said before the slice starts"
    assert f"wrote {out}/slice.json" in printed
    saved = json.loads((out / "slice.json").read_text(), parse_constant=lambda word: pytest.fail(word))
    assert [p["optimizer"] for p in saved["paths"]] == ["sgd+momentum", "adam"]
    assert np.array(saved["train_loss"]).shape == np.array(saved["validation_loss"]).shape == (21, 21)
    assert all(p["points"][0]["alpha"] == p["points"][0]["beta"] == 0 for p in saved["paths"])
    assert saved["evaluation"] == {"train_images": 200, "validation_images": 200}
    with Image.open(out / "slice.png") as png:
        assert png.size == (960, 540)
    with Image.open(out / "slice.gif") as gif:
        assert gif.n_frames == len(saved["paths"][0]["points"]) > 2


@pytest.mark.parametrize("arguments, message", [
    (["--grid", "1"], "error: Invalid grid: 1"),
    (["--directions", "hessian"], "invalid choice: 'hessian'"),
    (["--optimizers", "adamm"], "error: Invalid optimizer spec 'adamm'"),
    (["--evaluation-images", "-5"], "error: Invalid evaluation images: -5"),
    (["--target-loss", "inf"], "error: Invalid target loss: inf"),
])
def test_slice_command_refuses_bad_input_in_one_line_before_training(tmp_path, capsys, monkeypatch, arguments,
                                                                     message):
    monkeypatch.setattr(train, "_train_one", lambda *a, **k: pytest.fail("trained despite bad input"))
    code = cli.main(["slice", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o"), *arguments])
    error = capsys.readouterr().err
    assert code == 2 and message in error and len(error.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_slice_command_keeps_an_earlier_slice(tmp_path, capsys):
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "slice.json").write_text("{}")
    code = cli.main(["slice", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")])
    assert code == 2 and "already holds an earlier slice (slice.json); give --overwrite" in capsys.readouterr().err
    assert (tmp_path / "o" / "slice.json").read_text() == "{}"


@pytest.mark.parametrize("name", ["cnn", "autoencoder"])
def test_every_model_slices_and_a_grid_point_is_the_direct_loss(name, tiny):
    comparison = train.train_and_compare(name, ["sgd", "adam"], epochs=1, batch_size=10,
                                         lr={"sgd": 0.01, "adam": 1e-3}, data=tiny, progress=False,
                                         record=True, record_every=1)
    result = slice_view.slice_comparison(comparison, tiny, grid=3, evaluation_images=6)
    assert result.train_loss.shape == (3, 3) and result.train_loss.isfinite().all()
    weights = result.plane.point(result.alphas[1].item(), result.betas[2].item())
    expected = _direct_loss(name, weights, tiny.train_images[:6], tiny.train_labels[:6])
    assert result.train_loss[2, 1].item() == pytest.approx(expected, rel=1e-4)
    assert all(torch.equal(path.coords[0], torch.zeros(2)) for path in result.paths)


def test_given_directions_span_the_plane_through_the_common_start(mlp_slice, tiny):
    comparison, _ = mlp_slice
    start = comparison.runs[0].path.weights[0]
    towards = [run.path.weights[-1] - start for run in comparison.runs]  # towards each run's end
    result = slice_view.slice_comparison(comparison, tiny, directions=towards, grid=3, evaluation_images=8)
    assert result.kind == "given" and result.explained_variance is None
    assert result.axis_labels() == ("α: direction 1", "β: direction 2")
    # Each run's end minus the start is its direction, bit for bit (the same float32 difference), so
    # its coordinates are (1, 0) and (0, 1) but for rounding. project sums the P products of the
    # normal equations in float64: each entry of N = D Dᵀ and r = D (x − θ₀) is off by at most
    # P·2⁻⁵³ ‖d_i‖ ‖d_j‖ (Higham's bound for a sum), so ‖δN‖ and ‖δr‖ are at most 2·P·2⁻⁵³ ‖N‖; to
    # first order ‖δc‖ ≤ ‖N⁻¹‖ (‖δr‖ + ‖δN‖ ‖c‖) = 4·cond(N)·P·2⁻⁵³ for ‖c‖ = 1; the coordinates
    # come back in float32 (half an ulp of 1: 2⁻²⁴). The distance off the plane, ‖δcᵀ D‖, is at most
    # that times ‖D‖ ≤ √2 max ‖d_i‖. (Summed in float32 instead, the products over these P = 1.7
    # million weights are off by about 1e-5, in an order that depends on the thread count: the
    # coordinates were 3e-5 off on two threads, exact on one.)
    directions = torch.stack(towards).double()
    size, condition = directions.shape[1], float(torch.linalg.cond(directions @ directions.T))
    tolerance = 4 * condition * size * 2.0 ** -53 + 2.0 ** -24
    assert tolerance < 1e-7
    ends = torch.stack([path.coords[-1] for path in result.paths])
    assert torch.allclose(ends, torch.eye(2, dtype=torch.float64), rtol=0, atol=tolerance), \
        "each run ends at its direction's tip"
    bound = math.sqrt(2) * float(directions.norm(dim=1).max())
    assert all(path.off_plane[-1] <= tolerance * bound for path in result.paths)


def test_the_uncentred_plane_says_its_share_is_of_the_squared_displacement_from_the_start(mlp_slice, tiny):
    comparison, centred = mlp_slice
    result = slice_view.slice_comparison(comparison, tiny, directions="pca-uncentred", grid=3, evaluation_images=8)
    assert result.kind == "pca-uncentred" and result.plane.kind == "pca-uncentred"
    assert result.variance_meaning == "share of squared displacement from the start (uncentred PCA)"
    assert result.to_json()["explained_variance_meaning"] == result.variance_meaning
    first, second = (f"{share:.0%}" for share in result.explained_variance)
    assert result.axis_labels() == (f"α: uncentred PC 1 ({first} of squared displacement from start)",
                                    f"β: uncentred PC 2 ({second} of squared displacement from start)")
    assert "uncentred PCA plane through the start" in result.title()
    # its share is what the drawn plane keeps: the squared distances off it are the rest, but for the
    # directions' rounding to float32 (2⁻²⁴ relative), which moves a point's squared distance by at
    # most about 2·2⁻²⁴ ‖x − θ₀‖²
    start = comparison.runs[0].path.weights[0].double()
    total = sum(float((run.path.weights.double() - start).square().sum()) for run in comparison.runs)
    off = sum(float(path.off_plane.square().sum()) for path in result.paths)
    assert off == pytest.approx((1 - sum(result.explained_variance)) * total, rel=0, abs=4 * 2.0 ** -24 * total)
    assert result.explained_variance[0] != pytest.approx(centred.explained_variance[0], abs=1e-3)
    assert all(torch.equal(path.coords[0], torch.zeros(2)) for path in result.paths), "from the start"


def test_runs_that_never_moved_get_a_random_plane_and_a_note(tiny):
    comparison = train.train_and_compare("mlp", ["sgd", "adam"], epochs=1, batch_size=10, lr=0.0, data=tiny,
                                         progress=False, record=True, record_every=1)
    result = slice_view.slice_comparison(comparison, tiny, grid=3, evaluation_images=8)
    assert result.kind == "random" and result.notes[0].startswith("no PCA plane (every displacement")
    assert result.notes[0].endswith("a random plane instead") and result.to_json()["notes"] == result.notes
    assert result.figure().axes[0].get_title().startswith("mlp, random plane through the best run's end\n")


def test_the_reference_run_is_the_finished_one_with_the_lowest_training_loss(mlp_slice, tiny):
    comparison, _ = mlp_slice
    best = min(comparison.runs, key=lambda run: run.epochs[-1].train_loss)
    result = slice_view.slice_comparison(comparison, tiny, directions="random", grid=3, evaluation_images=8)
    assert torch.equal(result.plane.origin, best.path.weights[-1])


def test_an_optimizer_given_twice_is_refused_before_training(tiny):
    with pytest.raises(ValueError, match="Invalid optimizers: 'sgd' given twice"):
        train.train_and_compare("mlp", ["sgd", "adam", "sgd"], data=tiny, progress=False)


@pytest.mark.parametrize("interruption, code, name", [(KeyboardInterrupt, 130, "Ctrl-C"), (Terminated, 143, "SIGTERM")])
def test_an_interrupted_slice_command_keeps_the_earlier_slice(tmp_path, capsys, monkeypatch, interruption, code,
                                                               name):
    out = tmp_path / "slice"
    out.mkdir()
    (out / "slice.json").write_text("{}")  # an earlier slice

    def interrupted(*args, **kwargs):
        raise interruption()

    monkeypatch.setattr(slice_view, "slice_comparison", interrupted)
    with pytest.raises(SystemExit) as exit:
        cli.main(["slice", "--model", "mlp", "--optimizers", "sgd", "--epochs", "1", "--train-size", "64",
                  "--batch-size", "32", "--device", "cpu", "--data-dir", str(_data_folder(tmp_path)), "--out",
                  str(out), "--overwrite"])
    assert exit.value.code == code
    assert capsys.readouterr().err.splitlines()[-1] == f"interrupted ({name}): nothing written; {out} is as it was"
    assert sorted(path.name for path in out.iterdir()) == ["slice.json"] and (out / "slice.json").read_text() == "{}"
