"""Figures, animation frames and GIF files."""

import matplotlib

matplotlib.use("Agg")

import colorsys
import math
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest
import torch

import matplotlib.colors as mcolors
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.transforms import Bbox

from landscape import anatomy, animate, draw, optim, surfaces, trajectory


@pytest.fixture(scope="module")
def two_well_runs():
    surface = surfaces.get("two-well")
    return surface, trajectory.compare(surface, ["sgd", "adam"], lr={"sgd": 0.01, "adam": 0.05},
                                       steps=20)


def test_gif_has_requested_frames_and_size(tmp_path, two_well_runs):
    surface, runs = two_well_runs
    path = tmp_path / "slide.gif"
    animate.export_gif(path, surface, trajectories=runs, stride=3, size=(320, 180), fps=10)
    frames = iio.imread(path, index=None)
    assert frames.shape[:3] == (8, 180, 320)  # iterations 0, 3, …, 18, then 20
    assert not np.array_equal(frames[0], frames[-1]), "the paths must grow"


def test_gif_frames_are_the_animation_frames(tmp_path, two_well_runs):
    surface, runs = two_well_runs
    path = tmp_path / "slide.gif"
    animate.export_gif(path, surface, trajectories=runs, size=(320, 180))
    expected = np.asarray(animate.TrajectoryAnimation(surface, runs, size=(320, 180)).frame_image(10))
    written = iio.imread(path, index=10)[..., :3].astype(int)
    assert np.abs(written - expected).mean() < 4  # palette quantization only


def test_export_runs_optimizers_and_writes_atomically(tmp_path, monkeypatch):
    surface = surfaces.get("quadratic")
    path = tmp_path / "q.gif"
    animate.export_gif(path, surface, ["gd", "momentum"], lr=0.05, steps=10, size=(320, 180))
    assert path.stat().st_size > 0
    before = path.read_bytes()

    written = []

    def full_disk_after_two_frames(*args, **kwargs):  # the frame encoder, fails mid-file
        if len(written) == 2:
            raise OSError("disk full")
        written.append(original(*args, **kwargs))
        return written[-1]

    original = animate.GifImagePlugin.getdata
    monkeypatch.setattr(animate.GifImagePlugin, "getdata", full_disk_after_two_frames)
    with pytest.raises(OSError, match="disk full"):
        animate.export_gif(path, surface, ["gd"], steps=5, size=(320, 180))
    assert path.read_bytes() == before, "a failed export leaves the old file as it was"
    assert [p.name for p in tmp_path.iterdir()] == ["q.gif"], "no temporary file left behind"


@pytest.mark.parametrize("kwargs,message", [
    (dict(size=(10, 10)), "Invalid size"),
    (dict(stride=0), "Invalid stride: 0"),
    (dict(fps=0), "Invalid fps: 0"),
    (dict(loop=-1), "Invalid loop: -1"),
    (dict(loop=65536), "Invalid loop: 65536"),  # GIF's loop count is 16 bits
])
def test_bad_gif_options_are_refused(tmp_path, two_well_runs, kwargs, message):
    surface, runs = two_well_runs
    with pytest.raises(ValueError, match=message):
        animate.export_gif(tmp_path / "x.gif", surface, trajectories=runs, **kwargs)
    assert not (tmp_path / "x.gif").exists()


@pytest.mark.parametrize("name", ["x.png", "x", "x.mp4"])
def test_only_gif_names_are_written_and_before_any_run(tmp_path, monkeypatch, name):
    monkeypatch.setattr(trajectory, "run", None)  # a run would fail with a TypeError
    with pytest.raises(ValueError, match=r"Invalid path: .* \(a GIF is written to a name ending in .gif\)"):
        animate.export_gif(tmp_path / name, surfaces.get("quadratic"), ["gd"], steps=3, fps=0)
    assert list(tmp_path.iterdir()) == []


def test_gif_options_are_checked_before_the_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(trajectory, "run", None)
    with pytest.raises(ValueError, match="Invalid fps: 0"):
        animate.export_gif(tmp_path / "x.gif", surfaces.get("quadratic"), ["gd"], steps=3, fps=0)


MEMORY = """
import sys
import matplotlib
matplotlib.use("Agg")
from landscape import animate, surfaces
frames = int(sys.argv[1])
animate.export_gif(sys.argv[2], surfaces.get("two-well"), ["sgd", "adam"], lr=0.002, steps=frames - 1,
                   size=(320, 180), progress=lambda done, total: None)
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(int(peak.split()[1]) * 1024)  # kB; not ru_maxrss, which counts the parent's before exec
"""


def peak_memory(frames: int, path) -> int:
    """Peak resident memory of a fresh process exporting a GIF of ``frames`` frames. (Not
    tracemalloc: Pillow's and Agg's pixel buffers are allocated outside Python's allocator.)"""
    result = subprocess.run([sys.executable, "-c", MEMORY, str(frames), str(path)],
                            capture_output=True, text=True, check=True)
    assert len(iio.imread(path, index=None)) == frames
    return int(result.stdout)


@pytest.mark.skipif(sys.platform != "linux", reason="reads the peak from Linux's /proc/self/status")
def test_gif_export_memory_does_not_grow_with_the_frames(tmp_path):
    frame_bytes = 320 * 180 * 3
    few, many = peak_memory(10, tmp_path / "few.gif"), peak_memory(400, tmp_path / "many.gif")
    # holding the frames costs >= 390 x 173 kB = 67 MB; streamed, only a few frames are alive
    assert many - few < 390 * frame_bytes / 8, f"{(many - few) / 1e6:.0f} MB more for 390 more frames"


def test_unwritable_destination_is_refused_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        animate.export_gif(tmp_path / "missing" / "x.gif", surfaces.get("quadratic"), ["gd"])


def _iterations_by_hand(surface, lr: float, steps: int, tolerance: float) -> str:
    """Gradient descent written out: the step from which ‖p_k − p*‖ < tolerance holds to the end,
    or '>steps'."""
    p = torch.tensor(surface.start, dtype=torch.float64)
    minimum = torch.tensor(surface.minima[0].point, dtype=torch.float64)
    inside = []
    for _ in range(steps + 1):
        inside.append(bool((p - minimum).norm() < tolerance))
        p = p.detach().requires_grad_()
        (gradient,) = torch.autograd.grad(surface(p[None]).sum(), p)
        p = p - lr * gradient
    if not inside[-1]:
        return f">{steps}"
    first = len(inside) - 1
    while first > 0 and inside[first - 1]:
        first -= 1
    return str(first)


def test_legends_give_the_iterations_each_run_needed():
    surface = surfaces.get("quadratic")
    rates = [0.1, 0.05, 0.01]
    runs = trajectory.compare(surface, [f"gd@{lr}" for lr in rates], steps=100)
    # arrived: within 1% of the view's side (10) of the minimum, the surface's tolerance
    expected = [f"gd η={lr:g} [{_iterations_by_hand(surface, lr, 100, tolerance=0.1)}]" for lr in rates]
    assert expected[-1].endswith("[>100]") and expected[0] != expected[1]  # counts, and one '>T'
    fig = draw.figure(surface, runs, three_d=True)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == expected
    assert len(fig.axes) == 3
    animation = animate.TrajectoryAnimation(surface, runs, size=(320, 180))
    assert [t.get_text() for t in animation.legend.get_texts()] == expected


def test_phase_diagram_marks_theory_and_current_point():
    surface = surfaces.get("quadratic")
    sweep = trajectory.sweep(surface, "momentum", torch.logspace(-2, 0, 8), torch.linspace(0, 0.9, 5),
                            steps=100)
    ax = draw.phase_diagram(sweep, current=(0.1, 0.5))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(label.startswith("stability limit") for label in labels)
    assert any(label.startswith("optimal") for label in labels)
    assert "current" in labels and "diverged" in labels
    ax.figure.canvas.draw()
    with pytest.raises(ValueError, match="needs an lr x momentum sweep"):
        draw.phase_diagram(trajectory.run(surface, "gd", steps=5))


def test_export_gif_is_available_at_the_top_level(tmp_path):
    import landscape

    path = landscape.export_gif(tmp_path / "top.gif", surfaces.get("saddle"), ["gd"], steps=4,
                                size=(320, 180))
    assert iio.imread(path, index=None).shape[:3] == (5, 180, 320)


def test_other_runs_on_the_same_surface_reuse_the_animation(two_well_runs):
    """Another start: the same figure redraws to exactly what a new one draws."""
    surface, runs = two_well_runs
    moved = trajectory.compare(surface, ["sgd", "adam"], lr={"sgd": 0.01, "adam": 0.05}, steps=20,
                               starts=[(1.6, -0.8), (-1.5, 1.2)])  # as many rows
    reused = animate.TrajectoryAnimation(surface, runs, size=(320, 180))
    fresh = animate.TrajectoryAnimation(surface, moved, size=(320, 180))
    before = np.asarray(reused.frame_image(20))
    assert reused.can_show(moved)
    reused.set_runs(moved)
    assert not np.array_equal(np.asarray(reused.frame_image(20)), before)
    np.testing.assert_array_equal(np.asarray(reused.frame_image(20)), np.asarray(fresh.frame_image(20)))
    elsewhere = trajectory.compare(surfaces.get("quadratic"), ["sgd", "adam"], steps=20)
    longer = trajectory.compare(surface, ["sgd", "adam"], steps=30)
    for other in (elsewhere, longer, moved[:1]):
        assert not reused.can_show(other)
        with pytest.raises(ValueError, match="need a new animation"):
            reused.set_runs(other)


def test_loss_panel_range_comes_from_the_surface():
    """Runs on a surface share the loss axis: from the floor to 3x the largest gap in view."""
    surface = surfaces.get("quadratic")  # ½ pᵀAp, largest at a corner of [-5, 5]²
    _, _, z = draw.surface_values(surface, 60)
    for runs in (trajectory.compare(surface, ["gd"], lr=0.01, steps=10),
                 trajectory.compare(surface, ["gd"], lr=0.15, steps=50, starts=[(1.0, 1.0)])):
        ax = draw.figure(surface, runs).axes[1]
        assert ax.get_ylim() == pytest.approx((draw.LOSS_GAP_FLOOR, 3 * z.max()))
        ax.figure.canvas.draw()
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert {"10⁻¹²", "10⁻⁹", "10⁰"} <= set(labels) and not any("$" in s for s in labels)


def test_legend_and_counter_box_stay_on_top_of_the_paths():
    """Heavy ball at η = 1 scribbles over the whole plot: the legend and the counter's box must
    still read the same in every frame."""
    surface = surfaces.get("two-well")
    runs = trajectory.compare(surface, ["momentum", "adam"], lr=1.0, momentum=0.9, steps=150,
                              starts=[(0.2, 1.2)])
    animation = animate.TrajectoryAnimation(surface, runs)
    first, last = np.asarray(animation.frame_image(0)), np.asarray(animation.frame_image(150))
    assert (first != last).any(-1).mean() > 0.1, "the paths cover much of the figure"

    def inside(artist, image):
        box, height = artist.get_window_extent(), image.shape[0]
        return image[int(height - box.y1) + 2:int(height - box.y0) - 2, int(box.x0) + 2:int(box.x1) - 2]

    assert np.array_equal(inside(animation.legend, first), inside(animation.legend, last))
    counter_box = inside(animation.counter_box.get_bbox_patch(), last).astype(int)
    for colour in draw.run_colours(runs):  # no path colour inside the box ("iteration 150" changes)
        assert (np.abs(counter_box - _rgb(colour)) < 40).all(-1).mean() < 0.01


def test_figures_stay_outside_pyplot(two_well_runs):
    """A notebook backend (ipympl) re-registers and re-displays pyplot figures from another
    kernel thread: no figure the tool draws may be one."""
    import matplotlib.pyplot as plt

    surface, runs = two_well_runs
    sweep = trajectory.sweep(surfaces.get("quadratic"), "momentum", [0.01, 0.1], [0.0, 0.5], steps=10)
    figures = [draw.figure(surface, runs), animate.TrajectoryAnimation(surface, runs).figure,
               draw.phase_diagram(sweep).figure]
    assert plt.get_fignums() == []
    for figure in figures:
        assert isinstance(figure.canvas, FigureCanvasAgg) and figure.png().startswith(b"\x89PNG")


def test_loss_panel_follows_a_run_down_a_surface_without_a_minimum():
    """On the saddle x² − y² the panel plots f(p_k) itself, symlog: GD falling away from the
    saddle is seen falling below 0, not held at a floor."""
    surface = surfaces.get("saddle")
    (run,) = trajectory.compare(surface, ["gd"], lr=0.03, steps=150)
    points = run.points[:, 0].numpy()
    by_hand = points[:, 0] ** 2 - points[:, 1] ** 2
    values = draw.loss_curve(run)[:, 0]
    np.testing.assert_allclose(values, by_hand, rtol=1e-12, atol=1e-12)
    assert (np.diff(values) < 0).all() and values[-1] < -1, "decreasing, through 0 and on"
    ax = draw.figure(surface, [run]).axes[1]
    assert ax.get_yscale() == "symlog"
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), values)
    bottom, top = ax.get_ylim()
    assert bottom < values.min() and values.max() < top, "the whole run is on the panel"
    ax.figure.canvas.draw()
    labels = {t.get_text() for t in ax.get_yticklabels()}
    assert {"0", "10⁰", "−10⁰", "−10²"} <= labels and not any("$" in s for s in labels)


@pytest.mark.parametrize("spec,label", [("momentum", "momentum β"), ("nesterov", "momentum β"),
                                        ("rmsprop+momentum", "momentum β"),
                                        ("adam", "β1 (first-moment decay)"),
                                        ("nadam+lookahead", "β1 (first-moment decay)")])
def test_phase_diagram_names_the_momentum_the_rule_has(spec, label):
    sweep = trajectory.sweep(surfaces.get("quadratic"), spec, [0.01, 0.1], [0.0, 0.5], steps=5)
    assert draw.phase_diagram(sweep).get_ylabel() == label


def test_the_legend_fits_the_axes_and_keeps_off_the_counter_even_for_long_specs():
    surface = surfaces.get("two-well")
    runs = trajectory.compare(surface, ["radamw+nesterov+gradnoise+lrdropout+lookahead", "adam"], steps=50)
    for size in ((960, 540), (800, 450)):
        animation = animate.TrajectoryAnimation(surface, runs, size=size)
        legend, axes = animation.legend.get_window_extent(), animation.figure.axes[0].bbox
        assert axes.x0 <= legend.x0 and legend.x1 <= axes.x1, "inside the contour panel"
        assert not legend.overlaps(animation.counter_box.get_window_extent())


@pytest.mark.parametrize("name", list(surfaces.SURFACES))
def test_one_unit_is_as_long_on_both_axes(name):
    """Round wells look round and gradient steps cross the level sets at right angles."""
    surface = surfaces.get(name)
    runs = trajectory.compare(surface, ["sgd"], lr=surface.default_lr, steps=5)
    for figure in (draw.figure(surface, runs), animate.TrajectoryAnimation(surface, runs, size=(800, 450)).figure):
        figure.canvas.draw()
        origin, right, up = figure.axes[0].transData.transform([(0, 0), (1, 0), (0, 1)])
        assert (right - origin)[0] == pytest.approx((up - origin)[1], rel=1e-6)


def _cell_colours(ax, lrs, momenta) -> np.ndarray:
    """(L, M, 3) the RGB drawn at the centre of each phase-diagram cell."""
    figure = ax.figure
    figure.canvas.draw()
    image = np.asarray(figure.canvas.buffer_rgba())[..., :3].astype(int)
    height = image.shape[0]
    centres = ax.transData.transform([(lr, m) for lr in lrs for m in momenta])
    return np.array([image[height - round(y), round(x)] for x, y in centres]).reshape(len(lrs), len(momenta), 3)


def _what_a_cell_shows(rgb) -> str:
    r, g, b = rgb
    if max(rgb) < 60:
        return "diverged"
    if max(rgb) - min(rgb) < 8:
        return "grey"
    return "★" if b > r + 30 else "✖" if r > b + 30 else "?"


def test_each_phase_cell_shows_the_minimum_its_run_reached_and_light_means_fast():
    """Two-well from (1.5, 1.0): most settings fall into the shallow ✖ (fastest of all at
    η ≈ 0.063, β = 0.1), a few reach the deep ★. Every cell's colour family is its run's outcome
    (blue ★, orange ✖, dark diverged, grey not arrived), and within a family fewer iterations
    are drawn lighter."""
    from landscape.setting import SLIDERS

    surface = surfaces.get("two-well")
    sweep = trajectory.sweep(surface, "momentum", SLIDERS.lrs, SLIDERS.momenta, start=(1.5, 1.0), steps=150)
    lrs, momenta = SLIDERS.lrs.numpy(), SLIDERS.momenta.numpy()
    ax = draw.phase_diagram(sweep)
    colours = _cell_colours(ax, lrs, momenta)
    iterations = sweep.grid.values(sweep.iterations).numpy()
    minimum = sweep.grid.values(sweep.minimum).numpy()
    diverged = sweep.grid.values(sweep.diverged_at).numpy() >= 0
    expected = np.where(diverged, "diverged", np.where(iterations < 0, "grey", np.where(
        [[surface.minima[k].is_global if k >= 0 else False for k in row] for row in minimum], "★", "✖")))
    shown = np.array([[_what_a_cell_shows(rgb) for rgb in row] for row in colours])
    assert (shown == expected).all(), np.argwhere(shown != expected)
    assert (expected == "★").sum() >= 10 and (expected == "✖").sum() >= 100
    fastest = np.unravel_index(np.where(iterations >= 0, iterations, 10**6).argmin(), iterations.shape)
    assert expected[fastest] == "✖" and sweep.outcome(sweep.grid.row(*fastest)).endswith("✖")
    for family in ("★", "✖"):
        cells = expected == family
        order = np.argsort(iterations[cells], kind="stable")
        lightness = colours[cells].sum(-1)[order]
        counts = iterations[cells][order]
        slower = counts[None, :] > counts[:, None]  # pairs (a, b): b took more iterations than a
        assert (lightness[:, None] >= lightness[None, :] - 3)[slower].all(), family
        assert lightness[0] > lightness[-1] + 150, "a visible range of brightness"
    bars = {a.get_ylabel() for a in ax.figure.axes if a is not ax}  # the key: which colour is which
    assert bars == {f"reached {mark}: iterations to within 0.04" for mark in ("★ (global)", "✖ (not global)")}


def test_a_phase_diagram_of_a_surface_whose_minima_are_all_global_has_one_key_and_no_marks():
    surface = surfaces.get("himmelblau")
    sweep = trajectory.sweep(surface, "momentum", torch.logspace(-3, -1.5, 6), [0.0, 0.5, 0.9], steps=150)
    ax = draw.phase_diagram(sweep)
    assert [a.get_ylabel() for a in ax.figure.axes if a is not ax] == ["iterations to within 0.1"]
    shown = np.array([[_what_a_cell_shows(rgb) for rgb in row]
                      for row in _cell_colours(ax, sweep.grid.lrs.numpy(), sweep.grid.momenta.numpy())])
    iterations = sweep.grid.values(sweep.iterations).numpy()
    assert (shown[iterations >= 0] == "★").all() and (iterations >= 0).sum() >= 6


@pytest.mark.parametrize("lrs,momenta,lr_labels,momentum_labels", [
    ([0.01, 0.0548, 0.3], [0.0, 0.9], ["0.01", "0.0548", "0.3"], ["0", "0.9"]),
    (np.round(10 ** np.arange(-3.0, 0.01, 0.1), 4), np.round(np.arange(0.0, 0.951, 0.05), 2),
     ["0.001", "0.01", "0.1", "1"], ["0", "0.2", "0.4", "0.6", "0.8"]),
    (np.logspace(-3, 0, 40), np.linspace(0, 0.98, 8),  # the notebook's lrs: every 13th is a decade
     ["0.001", "0.01", "0.1", "1"], ["0", "0.28", "0.56", "0.84"]),  # none round: every other
])
def test_phase_axes_are_labelled_at_the_cells_values(lrs, momenta, lr_labels, momentum_labels):
    """Few cells: a tick at each cell's value; many: a readable subset of the cells' values,
    labelled, and an unlabelled tick at every cell."""
    sweep = trajectory.sweep(surfaces.get("quadratic"), "momentum", lrs, momenta, steps=5)
    ax = draw.phase_diagram(sweep)
    ax.figure.canvas.draw()
    for axis, cells, labels in ((ax.xaxis, lrs, lr_labels), (ax.yaxis, momenta, momentum_labels)):
        ticks = axis.get_majorticklocs()
        assert [t.get_text() for t in axis.get_ticklabels()] == labels
        assert np.isin(np.round(ticks, 6), np.round(cells, 6)).all(), "every label sits on a cell"
        assert [f"{t:.3g}" for t in ticks] == labels
        every = np.sort(np.concatenate([ticks, axis.get_minorticklocs()]))
        np.testing.assert_allclose(every, np.sort(cells), rtol=1e-9)
        assert not any(t.get_text() for t in axis.get_ticklabels(minor=True))


def test_a_phase_diagram_where_no_run_arrived_has_no_colour_scale():
    """Rosenbrock in 150 steps: every cell diverged or not there yet; a colour bar would be a
    scale of nothing (it used to read -0.1 … 0.1 iterations)."""
    sweep = trajectory.sweep(surfaces.get("rosenbrock"), "momentum", [0.001, 0.002, 0.01], [0.0, 0.9], steps=150)
    assert (sweep.iterations < 0).all()
    ax = draw.phase_diagram(sweep)
    assert ax.figure.axes == [ax]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["diverged", "not arrived in 150"]


# -- the arrows of a step ------------------------------------------------------------------------

ARROW_SIZE = (800, 450)


@pytest.fixture(scope="module")
def heavy_ball_runs():
    """Heavy ball on the quadratic (κ = 10) from one start, beside gradient descent, recorded."""
    surface = surfaces.get("quadratic")
    return surface, trajectory.compare(surface, ["gd", "momentum"], lr=0.02, momentum=0.9, steps=60,
                                       starts=[surface.start], record_state=True)


def _rgb_of(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])


def _near(image: np.ndarray, pixel, hex_colour: str, radius: int = 3, tolerance: int = 30) -> int:
    """How many pixels within ``radius`` of ``pixel`` (x, y from the bottom left) have the colour."""
    x, y = int(round(pixel[0])), image.shape[0] - int(round(pixel[1]))
    patch = image[y - radius:y + radius + 1, x - radius:x + radius + 1].astype(int)
    return int((np.abs(patch - _rgb_of(hex_colour)) < tolerance).all(-1).sum())


def _factor(animation) -> float:
    """The factor the key's title says the arrows are drawn at."""
    return float(animation.arrows.title.get_text().split("drawn ×")[1].split("\n")[0])


def test_a_steps_arrows_are_drawn_where_its_recorded_state_puts_them(heavy_ball_runs):
    """Heavy ball at iteration 8: the momentum term from θ_k, the gradient step from its head,
    both at the factor the key states; nothing else on the contour panel changes."""
    surface, runs = heavy_ball_runs
    k = 8
    plain = np.asarray(animate.TrajectoryAnimation(surface, runs, size=ARROW_SIZE, dpi=100).frame_image(k))
    animation = animate.TrajectoryAnimation(surface, runs, size=ARROW_SIZE, dpi=100, vectors="momentum")
    image = np.asarray(animation.frame_image(k))
    factor = _factor(animation)
    u, g, θ = runs[1].recorded.state["momentum_buffer"][k, 0], runs[1].recorded.gradients[k, 0], runs[1].points[k, 0]
    momentum, gradient = -0.02 * 0.9 * u, -0.02 * g  # the lecture's −ηβu_{k−1} and −ηg_k
    assert 2 * gradient.norm() > momentum.norm() > gradient.norm() / 2, "comparable: neither is drawn longer"
    corners = (θ + factor * torch.stack([0 * θ, momentum / 2, momentum, momentum + gradient / 2, momentum + gradient]))
    to_pixels = animation.figure.axes[0].transData.transform
    tail, middle, joint, gradient_middle, head = to_pixels(corners.numpy())
    pink, yellow, white = (draw.ARROW_STYLES[kind]["color"] for kind in ("momentum", "gradient", "step"))
    assert _near(image, middle, pink) > 3 and _near(plain, middle, pink) == 0, "−ηβu_(k−1) from θ_k"
    assert _near(image, gradient_middle, yellow) > 3 and _near(plain, gradient_middle, yellow) == 0, \
        "−ηg_k from its head"
    step_middle = (tail + head) / 2  # the step taken, θ_(k+1) − θ_k, under the chain: off it mid-way
    assert _near(image, step_middle, white) > 3 and _near(plain, step_middle, white) == 0, "θ_(k+1) − θ_k"
    changed = np.argwhere((image != plain).any(-1))  # (row, column) of every changed pixel
    panel = animation.figure.axes[0].bbox
    on_panel = changed[(changed[:, 1] < panel.x1) & (changed[:, 0] > image.shape[0] - panel.y1)]
    xs, ys = np.array([tail, joint, head])[:, 0], image.shape[0] - np.array([tail, joint, head])[:, 1]
    margin = 14  # the arrow heads and outlines around the three corners
    assert len(on_panel) > 100
    assert (on_panel[:, 1] >= xs.min() - margin).all() and (on_panel[:, 1] <= xs.max() + margin).all()
    assert (on_panel[:, 0] >= ys.min() - margin).all() and (on_panel[:, 0] <= ys.max() + margin).all(), \
        "the contour panel changes only around the arrows"
    key = animation.arrows.key
    assert [text.get_text() for text in key.get_texts()] == list(anatomy_labels := animation.arrows.anatomy.labels)
    assert anatomy_labels[0].startswith("−ηβuₖ₋₁") and anatomy_labels[1].startswith("−ηgₖ")
    box, loss_panel = key.get_window_extent(), animation.figure.axes[1].bbox
    assert loss_panel.x0 <= box.x0 and box.x1 <= loss_panel.x1 and loss_panel.y0 <= box.y0 <= box.y1 <= loss_panel.y1, \
        "the key is in the loss panel"


def test_a_tiny_step_is_magnified_by_a_stated_factor_and_stays_visible(heavy_ball_runs):
    """At iteration 60 heavy ball's step is ~1e-3 of the view: the arrows are drawn ×N (a 1-2-5
    number) so that the longest is 20 to 50 % of the panel, and they show."""
    surface, runs = heavy_ball_runs
    animation = animate.TrajectoryAnimation(surface, runs, size=ARROW_SIZE, dpi=100, vectors="momentum")
    k = 59
    image = np.asarray(animation.frame_image(k))
    factor = _factor(animation)
    mantissa = factor / 10 ** math.floor(math.log10(factor))
    assert factor >= 10 and round(mantissa, 9) in (1, 2, 5)
    _, vectors = anatomy.anatomy(runs[1]).at(k)
    panel = animation.figure.axes[0].bbox
    pixels_per_unit = panel.width / 10  # the view is 10 units wide, equal aspect
    longest = factor * vectors.norm(dim=-1).max().item() * pixels_per_unit
    assert 0.2 * panel.height <= longest <= 0.5 * panel.height
    contour = image[:, : int(panel.x1)]
    assert _pixels(contour, draw.ARROW_STYLES["momentum"]["color"]) > 30
    assert "drawn ×1\n" not in animation.arrows.title.get_text() + "\n"


def _pixels(image: np.ndarray, hex_colour: str, tolerance: int = 30) -> int:
    return int((np.abs(image.astype(int) - _rgb_of(hex_colour)) < tolerance).all(-1).sum())


def test_no_arrows_draw_the_frame_of_an_animation_without_them(heavy_ball_runs):
    surface, runs = heavy_ball_runs
    never = animate.TrajectoryAnimation(surface, runs, size=ARROW_SIZE, dpi=100)
    animation = animate.TrajectoryAnimation(surface, runs, size=ARROW_SIZE, dpi=100, vectors="momentum")
    with_arrows = np.asarray(animation.frame_image(8))
    animation.set_vectors(None)
    np.testing.assert_array_equal(np.asarray(animation.frame_image(8)), np.asarray(never.frame_image(8)))
    for axes, fresh in zip(animation.figure.axes, never.figure.axes):  # nothing left behind
        assert (len(axes.patches), len(axes.texts), len(axes.artists)) == \
            (len(fresh.patches), len(fresh.texts), len(fresh.artists))
    animation.set_vectors("momentum")
    np.testing.assert_array_equal(np.asarray(animation.frame_image(8)), with_arrows)
    assert animation.arrows.draw(60) is None and "no step from the last point" in (
        animation.frame_image(60) and animation.arrows.title.get_text())
    with pytest.raises(ValueError, match="Invalid vectors: 'adam' is none of the runs gd, momentum"):
        animation.set_vectors("adam")
    unrecorded = trajectory.compare(surface, ["gd", "momentum"], lr=0.02, steps=60, starts=[surface.start])
    with pytest.raises(ValueError, match="kept no optimizer state"):
        animate.TrajectoryAnimation(surface, unrecorded, size=ARROW_SIZE, vectors="gd")


def test_swapped_runs_bring_their_own_arrows(heavy_ball_runs):
    surface, runs = heavy_ball_runs
    other = trajectory.compare(surface, ["gd", "momentum"], lr=0.02, momentum=0.5, steps=60,
                               starts=[surface.start], record_state=True)
    fresh = animate.TrajectoryAnimation(surface, other, size=ARROW_SIZE, dpi=100, vectors="momentum")
    reused = animate.TrajectoryAnimation(surface, runs, size=ARROW_SIZE, dpi=100, vectors="momentum")
    reused.set_runs(other)
    np.testing.assert_array_equal(np.asarray(reused.frame_image(8)), np.asarray(fresh.frame_image(8)))


def test_a_gif_with_a_runs_arrows_shows_them_in_their_colours(tmp_path, monkeypatch):
    surface = surfaces.get("two-well")
    path, plain_path = tmp_path / "arrows.gif", tmp_path / "plain.gif"
    animate.export_gif(path, surface, ["momentum", "adam"], lr=0.02, steps=20, size=(480, 270), vectors="adam")
    animate.export_gif(plain_path, surface, ["momentum", "adam"], lr=0.02, steps=20, size=(480, 270))
    frames, plain = iio.imread(path, index=None)[..., :3], iio.imread(plain_path, index=None)[..., :3]
    assert frames.shape == plain.shape == (21, 270, 480, 3)
    cyan = draw.ARROW_STYLES["first moment"]["color"]  # Adam's −ηm̂_k, in no path's colour
    assert _pixels(frames[5], cyan, 20) > 20, "the palette keeps the arrows' colours (arrow and key)"
    assert _pixels(plain[5], cyan, 20) == 0
    assert not np.array_equal(frames[5], plain[5])

    def no_runs(*args, **kwargs):
        raise AssertionError("the runs started")

    monkeypatch.setattr(animate, "compare", no_runs)
    with pytest.raises(ValueError, match="Invalid vectors: 'nesterov' is none of the optimizers momentum, adam"):
        animate.export_gif(tmp_path / "x.gif", surface, ["momentum", "adam"], vectors="nesterov")


def test_nice_factors_are_one_two_five():
    assert [draw.nice_factor(r, up=True) for r in (0.03, 1.0, 1.2, 3, 7.5, 4100)] == [0.05, 1, 2, 5, 10, 5000]
    assert [draw.nice_factor(r, up=False) for r in (0.03, 0.99, 1.9, 4.9, 10)] == [0.02, 0.5, 1, 2, 10]


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])


def _pixels_of(image, colour: str, tolerance: int = 30) -> int:
    return int((np.abs(np.asarray(image)[..., :3].astype(int) - _rgb(colour)) < tolerance).all(-1).sum())


def test_each_optimizer_keeps_its_colour_from_slide_to_slide():
    """adam was orange in 'sgd, momentum, nesterov, adam' and blue in 'momentum, nesterov, adam':
    colour came from the list position. It is the rule's, in every list and every picture."""
    surface = surfaces.get("quadratic")
    adam = optim.BASE_RULES["adam"].colour
    for specs in ("sgd, momentum, nesterov, adam", "momentum, nesterov, adam", "adam, gd"):
        runs = trajectory.compare(surface, specs, lr=0.1, steps=30)
        colours = dict(zip(specs.split(", "), draw.run_colours(runs)))
        assert colours == {spec: optim.BASE_RULES[spec].colour for spec in colours}
        figure = draw.figure(surface, runs)
        figure.canvas.draw()
        loss_panel = np.asarray(figure.canvas.buffer_rgba())[:, int(0.62 * figure.bbox.width):]
        assert _pixels_of(loss_panel, adam) > 100, f"adam's loss curve is drawn in its colour in {specs!r}"
        animation = animate.TrajectoryAnimation(surface, runs, size=(320, 180))
        assert [line.get_color() for line, _, _ in animation.paths] == draw.run_colours(runs)


def test_one_rule_at_several_learning_rates_gets_shades_of_its_colour_ordered_by_lr():
    sgd = optim.BASE_RULES["sgd"].colour
    ordered = draw.colours(optim.parse_list("sgd@0.01, sgd@0.1, sgd@0.5, adam"))
    shuffled = draw.colours(optim.parse_list("adam, sgd@0.5, sgd@0.01, sgd@0.1"))
    assert shuffled == [ordered[3], ordered[2], ordered[0], ordered[1]], "by lr, not by list position"
    assert ordered[3] == optim.BASE_RULES["adam"].colour, "a rule alone keeps its colour"
    hue, _, _ = colorsys.rgb_to_hls(*mcolors.to_rgb(sgd))
    hls = [colorsys.rgb_to_hls(*mcolors.to_rgb(colour)) for colour in ordered[:3]]
    assert all(abs(h - hue) < 0.01 for h, _, _ in hls), "shades of sgd's hue"
    assert hls[0][1] - hls[1][1] > 0.15 and hls[1][1] - hls[2][1] > 0.15, "light to dark as the lr grows"
    # two specs of one rule at one lr: distinct shades, in list order; the sweep's lrs in order
    lookahead = draw.colours(optim.parse_list("adam, adam+lookahead"), [0.1, 0.1])
    assert len(set(lookahead)) == 2 and set(lookahead) == set(draw.shades(optim.BASE_RULES["adam"].colour, 2))
    five = draw.colours([optim.parse("momentum")] * 5, [0.3, 0.01, 0.1, 0.03, 1.0])
    assert five == [draw.shades(optim.BASE_RULES["momentum"].colour, 5)[i] for i in (3, 0, 2, 1, 4)]


def test_the_shades_are_drawn_in_figure_and_animation():
    surface = surfaces.get("quadratic")
    runs = trajectory.compare(surface, "sgd@0.01, sgd@0.1, sgd@0.5", steps=150)
    shades = draw.shades(optim.BASE_RULES["sgd"].colour, 3)
    figure = draw.figure(surface, runs)
    figure.canvas.draw()
    for image in (animate.TrajectoryAnimation(surface, runs).frame_image(150), figure.canvas.buffer_rgba()):
        for spec, colour in zip(("sgd@0.01", "sgd@0.1", "sgd@0.5"), shades):
            assert _pixels_of(image, colour, 12) > 30, f"{spec} is drawn in {colour}"


def _rise_to_a_cross(image, loss_axes, run, colour: str, tolerance: int) -> None:
    """In ``image`` (a figure's pixels), ``run``'s loss curve in ``colour`` climbs from its first
    loss well above it, inside the loss panel, and a ✖ of its colour sits at its last finite loss."""
    image = np.asarray(image)[..., :3].astype(int)
    height = image.shape[0]
    box = loss_axes.bbox
    top, _, left, right = (int(height - box.y1), int(height - box.y0), int(box.x0), int(box.x1))
    values, last = draw.loss_curve(run)[:, 0], draw.blow_up(run, 0)
    assert last is not None and values[last] > 10 * values[0], "numbers: the loss rose before the run blew up"
    (_, first_y), (end_x, end_y) = loss_axes.transData.transform(
        [(0, values[0]), (float(run.iteration_of_point[last]), values[last])])
    first_row, end_row, end_x = height - first_y, height - end_y, end_x
    ys, xs = np.nonzero((np.abs(image[:, left - 8:right] - _rgb(colour)) < tolerance).all(-1))
    xs = xs + left - 8
    assert len(ys), "the curve is drawn"
    assert ys.min() < first_row - 20, "drawn well above the loss it started at"
    assert ys.min() > top + 1, "and inside the panel: the axis holds the loss to the end"
    near_end = (np.abs(ys - end_row) < 8) & (np.abs(xs - end_x) < 8)
    assert near_end.sum() > 40, "a ✖ of the run's colour marks where it blew up"


@pytest.mark.parametrize("specs,blown", [("sgd@0.01, sgd@0.1, sgd@0.5", 2), ("gd@0.02, gd@0.1, gd@0.21", 2)])
def test_a_diverging_run_is_seen_rising_to_its_end_in_figure_explorer_and_gif(tmp_path, specs, blown):
    """η too large: the loss goes up. The lecture's slide (sgd@0.5 blows up at k = 3, gd@0.21 at
    k = 33) must show the rise, not a stub cut off at the top of the panel."""
    surface = surfaces.get("quadratic")
    runs = trajectory.compare(surface, specs, steps=150)
    run, colour = runs[blown], draw.run_colours(runs)[blown]
    assert run.diverged_at[0] > 0
    figure = draw.figure(surface, runs)
    figure.canvas.draw()
    _rise_to_a_cross(figure.canvas.buffer_rgba(), figure.axes[1], run, colour, 12)
    live = animate.TrajectoryAnimation(surface, runs, size=(800, 450), dpi=100)  # the explorer's
    last = draw.blow_up(run, 0)
    _rise_to_a_cross(live.frame_image(150), live.figure.axes[1], run, colour, 12)
    loss_panel = (slice(None), slice(int(live.figure.axes[1].bbox.x0) - 8, None))
    before, after = (_pixels_of(np.asarray(live.frame_image(point))[loss_panel], colour, 12) for point in (last, last + 1))
    assert after - before > 40, "the ✖ appears once the run has blown up"
    path = animate.export_gif(tmp_path / "slide.gif", surface, trajectories=runs, stride=10)
    gif = animate.TrajectoryAnimation(surface, runs)
    _rise_to_a_cross(iio.imread(path, index=15), gif.figure.axes[1], run, colour, 30)  # the last frame


def test_runs_that_blow_up_need_the_taller_loss_axis():
    """The explorer swaps the runs of another lr into the figure without redrawing its axes: a run
    that blows up needs the axis that holds its losses, and a new figure."""
    surface = surfaces.get("quadratic")
    calm, fast, blown = (trajectory.compare(surface, ["gd"], lr=lr, steps=50) for lr in (0.05, 0.1, 0.21))
    animation = animate.TrajectoryAnimation(surface, calm, size=(320, 180))
    assert animation.loss_limits == draw.loss_limits(surface) and animation.can_show(fast)
    assert not animation.can_show(blown)
    taller = animate.TrajectoryAnimation(surface, blown, size=(320, 180)).loss_limits
    assert taller[1] > 100 * animation.loss_limits[1]
    assert draw.loss_curve(blown[0])[:, 0][draw.blow_up(blown[0], 0)] < taller[1]


LEGEND_CASES = [  # (surface, specs, lr, start): the case first
    ("quadratic", "sgd, momentum, nesterov, adam", 0.1, (4.5, 4.5)),
    ("quadratic", "sgd@0.01, sgd@0.1, sgd@0.5", 0.1, None),
    ("two-well", "sgd, momentum, nesterov, adam", 0.02, None),
    ("two-well", "sgd, momentum, nesterov, adam", 0.02, (-1.6, 1.2)),
    ("rosenbrock", "gd, momentum, nesterov, adam", 0.001, (1.8, 2.8)),
    ("himmelblau", "radamw+nesterov+gradnoise+lrdropout+lookahead, adam", 0.01, (-4.5, -4.5)),
]


def _clear_of_the_legend(animation, image, where: str) -> None:
    """Neither the start markers nor the minima are under the legend: by its box, and by the
    frame's pixels (the start's colour at its centre, a minimum's white fill at its centre)."""
    image = np.asarray(image)[..., :3].astype(int)
    ax, height = animation.figure.axes[0], image.shape[0]
    legend = animation.legend.get_window_extent()
    starts = [(run.points[0, row].tolist(), line.get_color()) for (line, run, row) in animation.starts]
    minima = [m.point for m in animation.surface.minima]
    pad = 7 * animation.figure.dpi / 72  # a start marker's radius, and some
    for point, colour in starts:
        x, y = ax.transData.transform(point)
        assert not (legend.x0 - pad < x < legend.x1 + pad and legend.y0 - pad < y < legend.y1 + pad), \
            f"{where}: the legend covers the start {point}"
    x, y = ax.transData.transform(starts[-1][0])  # the last run's start marker is drawn on top
    centre = image[int(round(height - y)) - 1:int(round(height - y)) + 2, int(round(x)) - 1:int(round(x)) + 2]
    assert (np.abs(centre - _rgb(starts[-1][1])) < 40).all(-1).any(), f"{where}: the start ● is seen"
    for point in minima:
        x, y = ax.transData.transform(point)
        assert not (legend.x0 - pad < x < legend.x1 + pad and legend.y0 - pad < y < legend.y1 + pad), \
            f"{where}: the legend covers the minimum {point}"
        if any(m.is_global for m in animation.surface.minima if m.point == point):
            centre = image[int(round(height - y)), int(round(x))]
            assert (centre > 200).all(), f"{where}: the minimum's ★ at {point} is seen, over the paths"


@pytest.mark.parametrize("name,specs,lr,start", LEGEND_CASES)
def test_the_legend_never_hides_starts_or_minima_live_or_in_the_gif(tmp_path, name, specs, lr, start):
    surface = surfaces.get(name)
    runs = trajectory.compare(surface, specs, lr=lr, steps=150, **({} if start is None else {"starts": [start]}))
    live = animate.TrajectoryAnimation(surface, runs, size=(800, 450), dpi=100)  # the explorer's
    for point in (0, 150):
        _clear_of_the_legend(live, live.frame_image(point), f"live, frame {point}")
    path = animate.export_gif(tmp_path / "slide.gif", surface, trajectories=runs, stride=50)
    exported = animate.TrajectoryAnimation(surface, runs)  # what export_gif drew
    for index, point in ((0, 0), (3, 150)):
        _clear_of_the_legend(exported, iio.imread(path, index=index), f"GIF, frame {point}")
    assert not exported.legend.get_window_extent().overlaps(exported.counter_box.get_window_extent())


def test_the_same_runs_get_the_same_legend_place_whatever_was_shown_before():
    """The explorer swaps runs into one figure: placed once, for the first runs shown, the legend
    stayed over the start of runs from another start (the quadratic from (4.5, 4.5))."""
    surface = surfaces.get("quadratic")
    right, left = (trajectory.compare(surface, "sgd, momentum, nesterov, adam", lr=0.1, steps=150, starts=[start])
                   for start in ((4.5, 4.5), (-4.5, 4.5)))
    fresh = {side: animate.TrajectoryAnimation(surface, runs, size=(800, 450), dpi=100)
             for side, runs in (("right", right), ("left", left))}
    boxes = {side: animation.legend.get_window_extent().get_points() for side, animation in fresh.items()}
    assert not np.array_equal(boxes["right"], boxes["left"]), "a place of its own for each start"
    swapped = animate.TrajectoryAnimation(surface, left, size=(800, 450), dpi=100)
    for runs, side in ((right, "right"), (left, "left"), (right, "right")):
        swapped.set_runs(runs)
        frame = swapped.frame_image(0)
        _clear_of_the_legend(swapped, frame, f"swapped to the {side} start")
        np.testing.assert_array_equal(swapped.legend.get_window_extent().get_points(), boxes[side])
        np.testing.assert_array_equal(np.asarray(frame), np.asarray(fresh[side].frame_image(0)))


def test_the_legend_is_where_matplotlib_draws_it():
    """``place_legend`` judges each place by the box matplotlib anchors the legend in, and
    ``placed_legend_boxes`` says that box, in either panel."""
    surface = surfaces.get("two-well")
    runs = trajectory.compare(surface, "sgd, adam", lr=0.02, steps=20)
    drawn = draw.lecture_figure(surface, runs)
    legend = drawn.figure.axes[0].get_legend()
    renderer = drawn.figure.canvas.get_renderer()
    size = legend.get_window_extent(renderer)
    for panel in drawn.figure.axes[:2]:
        legend.set_bbox_to_anchor((0, 0, 1, 1), transform=panel.transAxes)
        inside = panel.bbox.padded(-legend.borderaxespad * renderer.points_to_pixels(legend.prop.get_size_in_points()))
        for place, side in draw.LEGEND_PLACES.items():
            legend.set_loc(place)
            expected = Bbox.from_bounds(0, 0, size.width, size.height).anchored(side, container=inside)
            drawn_box = legend.get_window_extent(renderer).get_points()
            np.testing.assert_allclose(drawn_box, expected.get_points(), atol=1e-6)
            np.testing.assert_allclose(draw.placed_legend_boxes(legend, [(panel, place)])[0], drawn_box.ravel(),
                                       atol=1e-6)


def test_the_samples_a_legend_box_covers_are_counted_as_one_by_one_finds_them():
    """``_covered`` counts a segment's samples inside a box from the part of its step inside:
    the same count as placing every sample and testing it, for steps in every direction, still
    points, steps along a box's edge and boxes that touch nothing."""
    generator = np.random.default_rng(7)
    starts = np.round(generator.uniform(0, 100, (300, 2)))
    steps = np.round(generator.uniform(-40, 40, (300, 2)))
    steps[::7, 0] = 0  # vertical steps
    steps[::11, 1] = 0  # horizontal ones
    steps[::13] = 0  # still points
    starts[::17, 1] = 20  # along the edge y = 20 of the boxes below
    counts = generator.integers(1, 30, 300).astype(float)
    counts[::13] = 1
    kinds = [(draw.Samples(starts[:100], steps[:100], counts[:100]), 0.0),
             (draw.Samples(starts[100:], steps[100:], counts[100:]), 2.5), (draw.Samples.at(np.zeros((0, 2))), 1.0)]
    boxes = np.array([[10, 20, 60, 70], [0, 0, 100, 100], [30, 30, 31, 90], [200, 200, 300, 300], [-5, 20, 40, 20]],
                     dtype=float)
    expected = np.zeros((len(boxes), len(kinds)), dtype=int)
    for kind, (samples, radius) in enumerate(kinds):
        for start, step, count in zip(*samples):
            points = start + step * (np.arange(count) / count)[:, None]
            for index, (x0, y0, x1, y1) in enumerate(boxes):
                expected[index, kind] += ((points[:, 0] > x0 - radius) & (points[:, 0] < x1 + radius)
                                          & (points[:, 1] > y0 - radius) & (points[:, 1] < y1 + radius)).sum()
    assert expected[:, :2].min() == 0 and expected.max() > 50  # boxes that hide none and boxes that hide many
    np.testing.assert_array_equal(draw._covered(kinds, boxes), expected)


def test_overlapping_boxes_are_counted_as_matplotlib_counts_them():
    """``overlapping`` agrees with ``Bbox.overlaps`` (touching counts) for boxes apart, touching,
    inside and crossing."""
    generator = np.random.default_rng(3)
    boxes = np.round(generator.uniform(0, 20, (40, 2)))
    boxes = np.column_stack([boxes, boxes + np.round(generator.uniform(1, 8, (40, 2)))])
    others = boxes[:6] + [[0, 0, 0, 0], [3, 0, 3, 0], [8, 8, 8, 8], [0, 5, 0, 5], [-2, -2, 2, 2], [30, 0, 30, 0]]
    expected = [sum(Bbox(box.reshape(2, 2)).overlaps(Bbox(other.reshape(2, 2))) for other in others) for box in boxes]
    assert 0 < min(expected) or 0 in expected
    assert len(set(expected)) > 2
    np.testing.assert_array_equal(draw.overlapping(boxes, others), expected)


def test_a_legend_s_remembered_size_is_the_size_matplotlib_gives_its_texts():
    """A legend's size is remembered for its texts' extents: texts of other words but the same
    extents ([37] and [38] in a font whose digits are equally wide) share it, and every size it
    gives is the one matplotlib computes afresh, for texts of equal and of other extents."""
    surface = surfaces.get("quadratic")
    runs = trajectory.compare(surface, "sgd, adam", lr=0.02, steps=20)
    legend = draw.lecture_figure(surface, runs).figure.axes[0].get_legend()
    renderer = legend.figure.canvas.get_renderer()
    sizes, before = {}, len(draw._LEGEND_SIZES.get(legend, ({},))[0])
    for words in (("sgd [37]", "adam [12]"), ("sgd [38]", "adam [19]"), ("sgd [>150]", "adam left@4"),
                  ("sgd [37]", "adam diverged@17"), ("sgd [38]", "adam [12]")):
        for text, word in zip(legend.get_texts(), words):
            text.set_text(word)
        remembered = draw._legend_size(legend, renderer)
        np.testing.assert_allclose(remembered.get_points(), legend.get_window_extent(renderer).get_points(), atol=1e-9)
        sizes[words] = remembered.width
    assert sizes["sgd [37]", "adam [12]"] == sizes["sgd [38]", "adam [19]"]
    assert sizes["sgd [37]", "adam diverged@17"] > sizes["sgd [37]", "adam [12]"]
    assert len(draw._LEGEND_SIZES[legend][0]) - before == 3  # one size for the texts of equal extents


def _texts(figure) -> list:
    """Every text the figure shows: titles, axis labels, tick labels in view, the legend's."""
    texts = []
    for ax in figure.axes:
        texts += [ax.title, ax.xaxis.label, ax.yaxis.label]
        for ticks, labels, (low, high) in ((ax.get_xticks(), ax.get_xticklabels(), sorted(ax.get_xlim())),
                                           (ax.get_yticks(), ax.get_yticklabels(), sorted(ax.get_ylim()))):
            texts += [label for tick, label in zip(ticks, labels) if low <= tick <= high]  # the ones drawn
        if ax.get_legend() is not None:
            texts += ax.get_legend().get_texts()
    return [text for text in texts if text.get_text()]


@pytest.mark.parametrize("size,dpi,legend_at_least", [
    ((960, 540), None, 1.2),  # a GIF's
    ((800, 450), 100, 1.0),  # the explorer's: two-well's marked counts ([77 ★, 14 ✖]) leave its legend no larger
])
def test_projector_text_is_larger_and_every_text_still_fits(size, dpi, legend_at_least):
    """A projector's text size: every font 1.5x, and still each text inside the figure, off the
    other panel, the legend off the starts and the minima."""
    surface = surfaces.get("two-well")
    runs = trajectory.compare(surface, "sgd, momentum, nesterov, adam", lr=0.02, steps=150)
    normal, projector = (animate.TrajectoryAnimation(surface, runs, size=size, dpi=dpi, text_size=text_size)
                         for text_size in ("normal", "projector"))
    for animation in (normal, projector):
        animation.frame_image(150)

    def font_sizes(animation) -> dict:
        contour, loss = animation.figure.axes[:2]
        return {"title": contour.title, "axis label": loss.yaxis.label, "tick label": contour.get_xticklabels()[0],
                "loss tick label": loss.get_yticklabels()[0], "legend": animation.legend.get_texts()[0],
                "counter": animation.counter}

    larger = {what: text.get_fontsize() / font_sizes(normal)[what].get_fontsize()
              for what, text in font_sizes(projector).items()}
    assert all(ratio == pytest.approx(1.5) for what, ratio in larger.items() if what not in ("title", "legend"))
    assert larger["title"] >= 1 and larger["legend"] >= legend_at_least, "a long title or legend a little less, to fit"
    figure = projector.figure
    renderer = figure.canvas.get_renderer()
    contour_box, loss_box = (ax.get_window_extent() for ax in figure.axes[:2])
    for text in _texts(figure):
        box = text.get_window_extent(renderer)
        assert figure.bbox.x0 <= box.x0 and box.x1 <= figure.bbox.x1 + 1, f"{text.get_text()!r} is in the figure"
        assert figure.bbox.y0 <= box.y0 and box.y1 <= figure.bbox.y1 + 1, f"{text.get_text()!r} is in the figure"
        if text not in projector.legend.get_texts():
            other = loss_box if text.axes is figure.axes[0] else contour_box
            assert not box.overlaps(other), f"{text.get_text()!r} runs into the other panel"
    legend = projector.legend.get_window_extent(renderer)
    assert any(panel.x0 <= legend.x0 and legend.x1 <= panel.x1 and panel.y0 <= legend.y0 and legend.y1 <= panel.y1
               for panel in (contour_box, loss_box)), "the legend lies inside a panel"
    _clear_of_the_legend(projector, projector.frame_image(0), f"projector {size}")


def test_a_text_size_that_does_not_exist_is_refused_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setattr(trajectory, "run", None)
    with pytest.raises(ValueError, match="Invalid text size 'huge'; valid: normal, projector"):
        animate.export_gif(tmp_path / "x.gif", surfaces.get("quadratic"), ["gd"], steps=3, text_size="huge")
    assert list(tmp_path.iterdir()) == []


def test_a_figure_holds_at_most_max_runs_optimizers_each_with_its_own_colour_and_legend_line():
    surface = surfaces.get("quadratic")
    specs = [f"sgd@{(k + 1) / 1000}" for k in range(draw.MAX_RUNS + 1)]
    runs = trajectory.compare(surface, specs, steps=3)
    with pytest.raises(ValueError, match=f"Invalid optimizers: {draw.MAX_RUNS + 1} in one figure"):
        draw.lecture_figure(surface, runs)
    drawn = draw.lecture_figure(surface, runs[: draw.MAX_RUNS])
    labels = [text.get_text() for text in drawn.figure.axes[0].get_legend().get_texts()]
    assert labels == [run.label() for run in runs[: draw.MAX_RUNS]], "every run has its legend line"
    assert len(set(draw.run_colours(runs[: draw.MAX_RUNS]))) == draw.MAX_RUNS, "and a colour of its own"


def test_the_legend_keeps_off_the_paths_first_steps_going_to_the_loss_panel_if_it_must():
    """On the two-well at η ≈ 0.079, β = 0.9 the paths cover every place in the contour panel:
    every one there lies over a path's first steps, so the legend goes to the loss panel (it
    covered momentum's first steps in the contour panel's lower left)."""
    surface = surfaces.get("two-well")
    runs = trajectory.compare(surface, "sgd, momentum, nesterov, adam", lr=float(10 ** -1.1), momentum=0.9,
                              steps=150, starts=[(0.2, 1.2)])
    animation = animate.TrajectoryAnimation(surface, runs, size=draw.SCREEN_SIZE, dpi=draw.SCREEN_DPI)
    assert animation.place_legend() == ("loss", "lower left")
    box = animation.legend.get_window_extent(animation.figure.canvas.get_renderer())
    contour = animation.figure.axes[0]
    for run in runs:  # every point on the first steps' segments, densely
        points = run.points[:draw.FIRST_STEPS + 1, 0].numpy()
        dense = contour.transData.transform(np.concatenate([np.linspace(p, q, 40) for p, q in zip(points, points[1:])]))
        inside = (dense[:, 0] > box.x0) & (dense[:, 0] < box.x1) & (dense[:, 1] > box.y0) & (dense[:, 1] < box.y1)
        assert not inside.any(), run.spec.text
