"""Figures, animation frames and GIF files."""

import matplotlib

matplotlib.use("Agg")

import math
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from matplotlib.backends.backend_agg import FigureCanvasAgg

from landscape import anatomy, animate, draw, surfaces, trajectory


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
    counter_box = inside(animation._counter_box.get_bbox_patch(), last).astype(int)
    for index in range(len(runs)):  # no path colour inside the box ("iteration 150" changes)
        rgb = [int(draw.colour(index)[i:i + 2], 16) for i in (1, 3, 5)]
        assert (np.abs(counter_box - rgb) < 40).all(-1).mean() < 0.01


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
        assert not legend.overlaps(animation._counter_box.get_window_extent())


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
    from landscape.app.model import SLIDERS

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
