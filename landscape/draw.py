"""Matplotlib figures: contours with paths, loss curves, 3-D view, lr x momentum phase diagram.

Every figure is a ``PlainFigure``: a matplotlib Figure with its own Agg canvas, never registered
with pyplot. A notebook backend (``%matplotlib widget``: ipympl) therefore cannot swap its
canvas or re-display it from another kernel thread; notebooks show it as a PNG.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
import matplotlib.colors as mcolors
import matplotlib.ticker as mticker
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import optim, theory
from .surfaces import VIEW_RESOLUTION, Surface, view_grid
from .trajectory import Trajectories

COLOURS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6",
           "#bfef45", "#9a6324", "#000075"]
DIVERGED_COLOUR = "#222222"
NOT_CONVERGED_COLOUR = "#d9d9d9"


def colour(index: int) -> str:
    return COLOURS[index % len(COLOURS)]


class PlainFigure(Figure):
    """A Figure on its own Agg canvas, outside pyplot; a notebook shows it as a PNG."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        FigureCanvasAgg(self)

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.canvas.print_png(buffer)
        return buffer.getvalue()

    def _repr_png_(self) -> bytes:
        return self.png()


LOSS_GAP_FLOOR = 1e-12  # the loss panel's lowest gap: float64 rounding of f is ~1e-16·|f|


def surface_values(surface: Surface, resolution: int = VIEW_RESOLUTION) -> tuple[np.ndarray, ...]:
    """X, Y, Z arrays of ``surface`` over its bounds (Z computed in one batched torch call)."""
    points = view_grid(surface.bounds, resolution)
    with torch.no_grad():
        z = surface(points)
    return points[..., 0].numpy(), points[..., 1].numpy(), z.numpy()


def contour(ax: Axes, surface: Surface, resolution: int = VIEW_RESOLUTION, levels: int = 30,
            cmap: str = "viridis", equal_aspect: bool = True):
    """Filled contours (log-spaced levels where the surface needs them), minima marked; the filled
    contours' artist (for a colour bar).

    ``equal_aspect``: one unit is as long on both axes (both coordinates share units), so round
    wells look round and a gradient step is drawn perpendicular to the level sets."""
    x, y, z = surface_values(surface, resolution)
    if surface.log_levels:
        floor = z.min()
        gap = z - floor
        positive = gap[gap > 0]
        low = max(positive.min(), gap.max() * 1e-6) if positive.size else 1e-6
        bounds = floor + np.geomspace(low, gap.max(), levels)
        filled = ax.contourf(x, y, z, levels=np.concatenate([[floor], bounds]), cmap=cmap,
                             norm=mcolors.BoundaryNorm(np.concatenate([[floor], bounds]), matplotlib.colormaps[cmap].N))
        ax.contour(x, y, z, levels=bounds[::3], colors="white", linewidths=0.4, alpha=0.5)
    else:
        filled = ax.contourf(x, y, z, levels=levels, cmap=cmap)
        ax.contour(x, y, z, levels=levels, colors="white", linewidths=0.4, alpha=0.5)
    many = len(surface.minima) > 12  # Rastrigin's 121: small marks, or they bury the landscape
    for is_global in (False, True):  # one artist per kind
        points = np.array([m.point for m in surface.minima if m.is_global == is_global]).reshape(-1, 2)
        ax.plot(points[:, 0], points[:, 1], marker="*" if is_global else "X",
                markersize=13 if is_global else 4 if many else 8, color="white", markeredgecolor="black",
                markeredgewidth=0.5 if many and not is_global else 1, linestyle="none", zorder=4)
    (x0, x1), (y0, y1) = surface.bounds
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    if equal_aspect:
        ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(surface.axis_labels[0])
    ax.set_ylabel(surface.axis_labels[1])
    return filled


def paths(ax: Axes, trajectories: Sequence[Trajectories], upto: int | None = None,
          animated: bool = False) -> tuple[list, list]:
    """One colour per trajectory (all its rows), start points marked. Returns the path lines
    and the start markers, as (artist, trajectory, row) each."""
    lines, starts = [], []
    for index, trajectory in enumerate(trajectories):
        points = trajectory.points.numpy()
        end = points.shape[0] if upto is None else upto + 1
        for row in range(trajectory.rows):
            (line,) = ax.plot(points[:end, row, 0], points[:end, row, 1], color=colour(index),
                              linewidth=2, marker="o", markersize=2.5, animated=animated, zorder=5,
                              label=trajectory.label() if row == 0 else None)
            (start,) = ax.plot(*points[0, row], marker="o", markersize=7, color=colour(index),
                               markeredgecolor="white", zorder=6, animated=animated)
            lines.append((line, trajectory, row))
            starts.append((start, trajectory, row))
    return lines, starts


def loss_curve(trajectory: Trajectories) -> np.ndarray:
    """(T+1, B): what the loss panel plots for each row: the gap f(p_k) − f*, floored at 1e-16
    for the log axis; on a surface without a minimum f(p_k) itself (symlog axis), so a run that
    falls towards −∞ is seen falling."""
    losses = trajectory.losses.numpy()
    reference = trajectory.surface.minimum_value
    if reference is None or trajectory.surface.loss_range is not None:
        return losses
    return np.maximum(losses - reference, 1e-16)


SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten(value: float, _position=None) -> str:
    """A tick label for ± a power of ten, or 0, in plain text: 1e-06 → '10⁻⁶', -100 → '−10²'."""
    if value == 0:
        return "0"
    return ("−" if value < 0 else "") + "10" + str(round(math.log10(abs(value)))).translate(SUPERSCRIPTS)


def loss_panel(ax: Axes, trajectories: Sequence[Trajectories], upto: int | None = None,
               animated: bool = False) -> list:
    """Loss gap f(p_k) − f* against iteration k, log y (f(p_k) on a symlog axis for a surface
    without a minimum); the y range is the surface's (see ``loss_limits``), so runs on one
    surface share the axis."""
    lines = []
    for index, trajectory in enumerate(trajectories):
        values = loss_curve(trajectory)
        end = values.shape[0] if upto is None else upto + 1
        iterations = trajectory.iteration_of_point.numpy()
        for row in range(trajectory.rows):
            (line,) = ax.plot(iterations[:end], values[:end, row], color=colour(index),
                              linewidth=1.6, animated=animated)
            lines.append((line, trajectory, row))
    surface = trajectories[0].surface
    bottom, top = loss_limits(surface)
    log = surface.minimum_value is not None or surface.loss_range is not None
    if log:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(mticker.LogLocator(base=10, numticks=6))
    else:  # linear near 0 only: a run falling through 0 and on is seen falling, decade by decade
        linthresh = top * SYMLOG_LINEAR_FRACTION
        ax.set_yscale("symlog", linthresh=linthresh)
        decades = 10.0 ** np.arange(math.ceil(math.log10(linthresh)),
                                    math.log10(max(top, -bottom)) + 1)
        ax.set_yticks(np.concatenate([-decades, [0.0], decades]))
    ax.yaxis.set_minor_locator(mticker.NullLocator())
    if surface.loss_range is not None and top < 100 * bottom:  # a real loss, within two decades
        ax.yaxis.set_major_locator(mticker.LogLocator(base=10, subs=(1, 1.5, 2, 3, 5, 7)))
        ax.yaxis.set_major_formatter(mticker.FuncFormatter(lambda value, _: f"{value:.3g}"))
    else:  # a label every few decades, as plain text: "10⁻⁶" (a mathtext label costs ~13 ms)
        ax.yaxis.set_major_formatter(mticker.FuncFormatter(power_of_ten))
    ax.set_xlim(0, max(t.last_iteration for t in trajectories))
    ax.set_ylim(bottom, top)
    ax.set_xlabel("iteration k")
    ax.set_ylabel("real loss at the weights" if surface.loss_range else "f(p_k) − f*" if log else "f(p_k)")
    ax.grid(True, which="major", alpha=0.3)
    return lines


SYMLOG_LINEAR_FRACTION = 3e-3  # the symlog loss axis is linear within ± this x its top
SYMLOG_ROOM_BELOW = 1000  # and reaches this x the lowest value in view, when that is below 0


def loss_limits(surface: Surface) -> tuple[float, float]:
    """The loss panel's y range from the surface over its view: gap from ``LOSS_GAP_FLOOR`` to 3x
    the largest. Without a minimum, f itself up to 3x the largest |f| in view, and down to 0, or
    far below the lowest value in view when the view goes below 0: there f may fall without
    bound once a run leaves the view (until it counts as diverged). A surface's own
    ``loss_range`` (a real network's slice) comes first."""
    if surface.loss_range is not None:
        return surface.loss_range
    values = surface_values(surface, 60)[2]
    if surface.minimum_value is None:
        lowest, largest = float(values.min()), float(np.abs(values).max())
        return min(0.0, SYMLOG_ROOM_BELOW * lowest), 3 * max(largest, 1.0)
    return LOSS_GAP_FLOOR, 3 * max(float(values.max()) - surface.minimum_value, 1.0)


@dataclass
class LectureFigure:
    """A lecture figure and the artists that show the runs: (artist, trajectory, row) each."""

    figure: Figure
    path_lines: list
    start_markers: list
    loss_lines: list


def lecture_figure(surface: Surface, trajectories: Sequence[Trajectories], *, loss: bool = True,
                   three_d: bool = False, size: tuple[int, int] = (960, 540),
                   title: str | None = None, animated: bool = False,
                   dpi: float | None = None) -> LectureFigure:
    """Contour with paths and '[iterations]' legend, optional loss panel and 3-D view, sized
    in pixels for 16:9 slides. ``animated`` leaves the run artists out of normal draws (blitting).

    By default the figure is 9.6 inches wide, drawn at dpi = width / 9.6: every pixel size looks
    like the same slide, scaled (fonts and margins included); a given ``dpi`` keeps the fonts'
    pixel size instead (a smaller figure for a screen)."""
    dpi = dpi or size[0] / 9.6
    fig = PlainFigure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi)
    panels = 1 + loss + three_d
    # fixed margins: the figure has a fixed pixel size, and constrained layout costs ~1 s here
    # side margins in inches (the y labels; the last x tick label), whatever the figure's width
    inches = size[0] / dpi
    grid = fig.add_gridspec(1, panels, width_ratios=[1.35] + [1.0] * (panels - 1), left=0.672 / inches,
                            right=1 - 0.2 / inches, bottom=0.09, top=0.94,
                            wspace=0.52 if surface.colour_label else 0.22)  # room for the colour bar
    ax = fig.add_subplot(grid[0, 0])
    filled = contour(ax, surface)
    if surface.colour_label:  # an inset of the contour's axes (fig.axes stays the panels): beside it, as tall
        bar = ax.inset_axes([1.03, 0, 0.035, 1])
        fig.colorbar(filled, cax=bar, format="%.2g")
        bar.set_title(surface.colour_label, fontsize=8, loc="left")  # above it: clear of the loss panel's label
    path_lines, start_markers = paths(ax, trajectories, animated=animated)
    ax.legend(loc="best", fontsize=8, framealpha=0.85)
    ax.set_title(title or surface.formula, fontsize=9)
    loss_lines = loss_panel(fig.add_subplot(grid[0, 1]), trajectories, animated=animated) if loss else []
    if three_d:
        surface_3d(fig.add_subplot(grid[0, panels - 1], projection="3d"), surface, trajectories)
    return LectureFigure(fig, path_lines, start_markers, loss_lines)


def figure(surface: Surface, trajectories: Sequence[Trajectories], **options) -> Figure:
    """The lecture figure (see ``lecture_figure``) as a matplotlib Figure."""
    return lecture_figure(surface, trajectories, **options).figure


def surface_3d(ax, surface: Surface, trajectories: Sequence[Trajectories] = ()) -> None:
    """The surface as a 3-D plot with the paths lifted onto it."""
    x, y, z = surface_values(surface, 120)
    ax.plot_surface(x, y, z, cmap="viridis", linewidth=0, antialiased=True, alpha=0.85)
    for index, trajectory in enumerate(trajectories):
        points, losses = trajectory.points.numpy(), trajectory.losses.numpy()
        for row in range(trajectory.rows):
            ax.plot(points[:, row, 0], points[:, row, 1], losses[:, row], color=colour(index),
                    linewidth=2, zorder=10)
    ax.set_xlabel("x")
    ax.set_ylabel("y")


def phase_grid(ax: Axes | None, lrs: np.ndarray, momenta: np.ndarray, values: np.ndarray,
               diverged: np.ndarray, *, colour_label: str, missing_label: str, momentum_label: str,
               title: str, colour_floor: float = 1e-12, current: tuple[float, float] | None = None) -> Axes:
    """The lr x momentum heatmap every phase diagram shares: ``values`` (len(lrs), len(momenta)),
    lower is better (log colours from ``colour_floor`` up), NaN where a cell has none (grey,
    ``missing_label``), ``diverged`` cells dark; log lr axis; ``current`` (lr, momentum) ringed,
    e.g. the sliders'. The legend is left to the caller (``ax.legend``), who may overlay more first."""
    if ax is None:
        ax = PlainFigure(figsize=(7.2, 5.4), dpi=100, layout="constrained").add_subplot()
    values, diverged = values.astype(float).T, diverged.T
    ax.set_facecolor(NOT_CONVERGED_COLOUR)
    lr_edges = _edges(np.log10(lrs))
    momentum_edges = _edges(momenta)
    finite = np.isfinite(values) & ~diverged
    shown = np.where(finite, values, np.nan)
    norm = None
    if finite.any():
        norm = mcolors.LogNorm(vmin=max(np.nanmin(shown), colour_floor),
                               vmax=max(np.nanmax(shown), 2 * colour_floor))
    mesh = ax.pcolormesh(10**lr_edges, momentum_edges, np.ma.masked_invalid(shown), cmap="viridis_r", norm=norm)
    ax.pcolormesh(10**lr_edges, momentum_edges, np.ma.masked_where(~diverged, diverged),
                  cmap=mcolors.ListedColormap([DIVERGED_COLOUR]))
    ax.set_xscale("log")
    ax.figure.colorbar(mesh, ax=ax, label=colour_label)
    if current is not None:
        ax.plot(*current, marker="o", markersize=11, markerfacecolor="none", markeredgecolor="red",
                markeredgewidth=2.5, linestyle="none", label="current")
    ax.plot([], [], marker="s", color=DIVERGED_COLOUR, linestyle="none", label="diverged")
    ax.plot([], [], marker="s", color=NOT_CONVERGED_COLOUR, linestyle="none", label=missing_label)
    ax.set_xlim(10 ** lr_edges[0], 10 ** lr_edges[-1])
    ax.set_ylim(momentum_edges[0], momentum_edges[-1])
    ax.set_xlabel("learning rate η")
    ax.set_ylabel(momentum_label)
    ax.set_title(title, fontsize=10)
    return ax


def momentum_label(spec: optim.Spec) -> str:
    """What a phase diagram's y axis is for ``spec``: β of heavy ball / Nesterov, or β1."""
    return "β1 (first-moment decay)" if spec.momentum_parameter == "beta1" else "momentum β"


def phase_diagram(sweep: Trajectories, ax: Axes | None = None,
                  current: tuple[float, float] | None = None) -> Axes:
    """Heatmap of iterations-to-converge over the lr x momentum sweep of one optimizer
    (``trajectory.sweep``), drawn by ``phase_grid``.

    Diverged cells are dark, not-converged cells grey. On a quadratic, for gradient descent and
    heavy ball (``Spec.is_heavy_ball``), theory's stability limit lr·λmax < 2(1 + β) and the
    optimal (lr*, β*) are overlaid (``landscape.theory``). ``current`` marks a (lr, momentum)
    position, e.g. the sliders'. The y axis is the spec's momentum (``Spec.momentum_parameter``): β
    of heavy ball / Nesterov, or β1 for the Adam family.
    """
    grid = sweep.grid
    if grid is None:
        raise ValueError("phase_diagram needs an lr x momentum sweep (landscape.trajectory.sweep)")
    momenta = np.zeros(1) if grid.momenta is None else grid.momenta.numpy()
    iterations = grid.values(sweep.iterations).numpy().astype(float)
    ax = phase_grid(ax, grid.lrs.numpy(), momenta, np.where(iterations >= 0, iterations, np.nan),
                    grid.values(sweep.diverged_at).numpy() >= 0,
                    colour_label=f"iterations to within {sweep.tolerance:g}",
                    missing_label=f"not converged in {sweep.last_iteration}",
                    momentum_label=momentum_label(sweep.spec),
                    title=f"{sweep.spec.text} on {sweep.surface.name}", colour_floor=1, current=current)
    eigenvalues = getattr(sweep.surface, "eigenvalues", None)
    if eigenvalues is not None and sweep.spec.is_heavy_ball:
        low, high = ax.get_ylim()
        beta = np.linspace(low, high, 200)
        ax.plot(theory.stability_limit(beta, max(eigenvalues)), beta, color="#42d4f4", linestyle="--",
                linewidth=2, label="stability limit  lr·λmax = 2(1+β)")
        lr_best, beta_best = theory.optimal_heavy_ball(eigenvalues)
        ax.plot(lr_best, beta_best, marker="*", markersize=16, color="#f58231",
                markeredgecolor="black", linestyle="none", label=f"optimal ({lr_best:.3g}, {beta_best:.3g})")
    ax.legend(loc="lower left", fontsize=8, framealpha=0.85)
    return ax


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges around sorted cell centres (one cell: ±0.5)."""
    if centres.size == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    middle = (centres[1:] + centres[:-1]) / 2
    return np.concatenate([[2 * centres[0] - middle[0]], middle, [2 * centres[-1] - middle[-1]]])
