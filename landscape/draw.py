"""Matplotlib figures: contours with paths, loss curves, 3-D view, lr x momentum phase diagram,
and the arrows of one step with their key (``StepArrows``).

Every figure is a ``PlainFigure``: a matplotlib Figure with its own Agg canvas, never registered
with pyplot. A notebook backend (``%matplotlib widget``: ipympl) therefore cannot swap its
canvas or re-display it from another kernel thread; notebooks show it as a PNG.
"""

from __future__ import annotations

import colorsys
import io
import math
import textwrap
import weakref
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import matplotlib
import matplotlib.colors as mcolors
import matplotlib.patheffects as patheffects
import matplotlib.ticker as mticker
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.legend_handler import HandlerPatch
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch
from matplotlib.text import Text
from matplotlib.transforms import Bbox, IdentityTransform

from . import optim, theory
from .anatomy import Anatomy
from .surfaces import VIEW_RESOLUTION, Bounds, Surface, view_grid
from .trajectory import Trajectories, escape_bounds

DIVERGED_COLOUR = "#222222"
NOT_CONVERGED_COLOUR = "#d9d9d9"
NO_RULE_COLOUR = "#7f7f7f"  # a run without an optimizer spec (Newton's method)
SHADE_LIGHTNESS = (0.36, 0.7)  # HLS lightness of shades: visible on the contours and on white
SHADE_SPREAD = 0.34  # the most lightness between the lightest and the darkest shade of one colour


def shades(colour: str, count: int) -> list[str]:
    """``count`` shades of ``colour``, light to dark (``colour`` itself for one): its hue and
    saturation, lightness (HLS) 0.2 apart, or closer to keep within ``SHADE_SPREAD``, centred on its
    own and moved into ``SHADE_LIGHTNESS`` (widened to hold the colour's own: black's are greys)."""
    if count == 1:
        return [colour]
    hue, lightness, saturation = colorsys.rgb_to_hls(*mcolors.to_rgb(colour))
    step = min(0.2, SHADE_SPREAD / (count - 1))
    span = step * (count - 1)
    darkest, lightest = min(SHADE_LIGHTNESS[0], lightness), max(SHADE_LIGHTNESS[1], lightness)
    lightest = max(min(lightness + span / 2, lightest), darkest + span)
    return [mcolors.to_hex(colorsys.hls_to_rgb(hue, lightest - step * i, saturation)) for i in range(count)]


def colours(specs: Sequence[optim.Spec | None], lrs: Sequence[float | None] | None = None) -> list[str]:
    """Each run's colour in a picture of these runs, given each one's spec (None: a run without
    one) and learning rate (a spec's own comes first): its rule's (``optim.BASE_RULES``, one colour
    per rule everywhere). Runs that would share a colour (one rule at several learning rates,
    'adam, adam+lookahead') get ``shades`` of it instead, light to dark by learning rate, then in
    list order."""
    lrs = [None] * len(specs) if lrs is None else lrs
    rates = [lr if spec is None or spec.lr is None else spec.lr for spec, lr in zip(specs, lrs)]
    base = [NO_RULE_COLOUR if spec is None else spec.info.colour for spec in specs]
    chosen = list(base)
    for colour in dict.fromkeys(base):
        sharing = sorted((index for index, c in enumerate(base) if c == colour),
                         key=lambda index: (rates[index] or 0.0, index))
        for index, shade in zip(sharing, shades(colour, len(sharing))):
            chosen[index] = shade
    return chosen


def run_colours(trajectories: Sequence[Trajectories]) -> list[str]:
    """``colours`` of these runs, by each one's spec and (first row's) learning rate."""
    return colours([runs.spec for runs in trajectories],
                   [float(runs.settings["lr"][0]) if "lr" in runs.settings else None for runs in trajectories])


# matplotlib parses every formula ("$f = ...$") with one parser shared by all figures, which is not
# thread-safe: figures drawn whole on several threads (the explorer's views, an export) take turns
DRAWING = threading.RLock()


class PlainFigure(Figure):
    """A Figure on its own Agg canvas, outside pyplot; a notebook shows it as a PNG. Whole draws
    take turns across threads (``DRAWING``); a blitted frame's artists draw freely."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        FigureCanvasAgg(self)

    def draw(self, renderer) -> None:
        with DRAWING:
            super().draw(renderer)

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.canvas.print_png(buffer)
        return buffer.getvalue()

    def _repr_png_(self) -> bytes:
        return self.png()


LOSS_GAP_FLOOR = 1e-12  # the loss panel's lowest gap: float64 rounding of f is ~1e-16·|f|


def surface_values(surface: Surface, resolution: int = VIEW_RESOLUTION,
                   bounds: Bounds | None = None) -> tuple[np.ndarray, ...]:
    """X, Y, Z arrays of ``surface`` over its view, or ``bounds`` (Z computed in one batched torch
    call)."""
    points = view_grid(surface.bounds if bounds is None else bounds, resolution)
    with torch.no_grad():
        z = surface(points)
    return points[..., 0].numpy(), points[..., 1].numpy(), z.numpy()


def title(surface: Surface, schedule: str = "none") -> str:
    """A lecture figure's title: the surface's formula, and under it the learning-rate schedule if any."""
    return surface.formula if schedule == "none" else f"{surface.formula}\n(η: {schedule} schedule)"


def contour(ax: Axes, surface: Surface, resolution: int = VIEW_RESOLUTION, levels: int = 30,
            cmap: str = "viridis", equal_aspect: bool = True, text_size: str = "normal") -> list:
    """Filled contours (log-spaced levels where the surface needs them), minima marked; returns
    the minima's markers (one artist per kind). Where the surface has a ``colour_label`` (a real
    network's loss), a colour bar beside the panel, as tall, says what the colours are: an inset
    of ``ax`` (``ax.child_axes``), so the figure's axes stay its panels.

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
    markers = []
    for is_global in (False, True):  # one artist per kind, above the paths: a path never hides a minimum
        points = np.array([m.point for m in surface.minima if m.is_global == is_global]).reshape(-1, 2)
        markers += ax.plot(points[:, 0], points[:, 1], marker="*" if is_global else "X",
                           markersize=13 if is_global else 4 if many else 8, color="white", markeredgecolor="black",
                           markeredgewidth=0.5 if many and not is_global else 1, linestyle="none", zorder=5.5)
    (x0, x1), (y0, y1) = surface.bounds
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    if equal_aspect:
        ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(surface.axis_labels[0])
    ax.set_ylabel(surface.axis_labels[1])
    if surface.colour_label:
        bar = ax.inset_axes([1.03, 0, 0.035, 1])
        ax.figure.colorbar(filled, cax=bar, format="%.2g")
        _label_sizes(bar, font_size("label", text_size))
        # above it: clear of the loss panel's label
        bar.set_title(surface.colour_label, fontsize=font_size("legend", text_size), loc="left")
    return markers


START_SIZE = 7  # points: the start markers' diameter


def paths(ax: Axes, trajectories: Sequence[Trajectories], upto: int | None = None,
          animated: bool = False) -> tuple[list, list]:
    """One colour per trajectory (all its rows; ``run_colours``), start points marked. Returns the
    path lines and the start markers, as (artist, trajectory, row) each."""
    lines, starts = [], []
    for trajectory, colour in zip(trajectories, run_colours(trajectories)):
        points = trajectory.points.numpy()
        end = points.shape[0] if upto is None else upto + 1
        for row in range(trajectory.rows):
            (line,) = ax.plot(points[:end, row, 0], points[:end, row, 1], color=colour,
                              linewidth=2, marker="o", markersize=2.5, animated=animated, zorder=5,
                              label=trajectory.label() if row == 0 else None)
            (start,) = ax.plot(*points[0, row], marker="o", markersize=START_SIZE, color=colour,
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
               animated: bool = False) -> tuple[list, list]:
    """Loss gap f(p_k) − f* against iteration k, log y (f(p_k) on a symlog axis for a surface
    without a minimum), in the y range ``loss_limits`` gives these runs; a ✖ ends the curve of a
    row that diverged (``blow_up``). Returns the loss lines and the ✖ markers (empty where a
    row did not diverge, or not by ``upto``), as (artist, trajectory, row) each."""
    lines, blow_ups = [], []
    for trajectory, colour in zip(trajectories, run_colours(trajectories)):
        values = loss_curve(trajectory)
        end = values.shape[0] if upto is None else upto + 1
        iterations = trajectory.iteration_of_point.numpy()
        for row in range(trajectory.rows):
            (line,) = ax.plot(iterations[:end], values[:end, row], color=colour,
                              linewidth=1.6, animated=animated)
            lines.append((line, trajectory, row))
    for line, trajectory, row in lines:  # the curves first: ax.lines[i] is row i's
        (marker,) = ax.plot([], [], marker="X", markersize=BLOW_UP_SIZE, color=line.get_color(),
                            markeredgecolor="white", linestyle="none", clip_on=False, zorder=3, animated=animated)
        last = blow_up(trajectory, row)
        if last is not None and last + 1 < len(line.get_xdata()):
            marker.set_data([float(trajectory.iteration_of_point[last])], [loss_curve(trajectory)[last, row]])
        blow_ups.append((marker, trajectory, row))
    surface = trajectories[0].surface
    bottom, top = loss_limits(surface, trajectories)
    log = surface.minimum_value is not None or surface.loss_range is not None
    if log:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(mticker.LogLocator(base=10, numticks=6))
    else:  # linear near 0 only: a run falling through 0 and on is seen falling, decade by decade
        linthresh = _symlog_threshold(surface)
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
    return lines, blow_ups


BLOW_UP_SIZE = 11  # points: the ✖ that ends the loss curve of a run that blew up


def blow_up(trajectory: Trajectories, row: int) -> int | None:
    """The last point with a finite loss of row ``row`` if the row diverged (its loss curve
    ends there, and a ✖ marks the end once the next point is shown); None if it did not."""
    if trajectory.diverged_at[row] < 0:
        return None
    finite = np.flatnonzero(np.isfinite(loss_curve(trajectory)[:, row]))
    return int(finite[-1]) if finite.size else None


SYMLOG_LINEAR_FRACTION = 3e-3  # the symlog loss axis is linear within ± this x 3x the largest |f| in view


def loss_limits(surface: Surface, trajectories: Sequence[Trajectories] = ()) -> tuple[float, float]:
    """The loss panel's y range for these runs, from the surface alone, so that runs on one
    surface share it: over the view, the gap from ``LOSS_GAP_FLOOR`` to 3x the largest gap
    (without a minimum: f itself within 3x its extremes, and 0). Where a loss of
    ``trajectories`` falls outside that, the same over ``trajectory.escape_bounds``, which holds
    every loss a run shows before it counts as diverged: the axis grows to that cap, and a run
    that leaves the view and blows up is seen rising to its end. A surface's own ``loss_range``
    (a real network's slice) comes first."""
    if surface.loss_range is not None:
        return surface.loss_range
    bottom, top = _loss_range(surface, surface.bounds)
    drawn = np.concatenate([_finite(loss_curve(runs)) for runs in trajectories] or [np.zeros(0)])
    if ((drawn <= top) & ((drawn >= bottom) | (surface.minimum_value is not None))).all():
        return bottom, top
    return _loss_range(surface, escape_bounds(surface))


_LOSS_RANGES: dict[tuple[int, Bounds], tuple[Surface, tuple[float, float]]] = {}  # the last few


def _loss_range(surface: Surface, bounds: Bounds) -> tuple[float, float]:
    """``loss_limits`` over ``bounds``, kept for the last few surfaces (by identity: the explorer
    asks again for every slider position it swaps in)."""
    key = (id(surface), bounds)
    kept = _LOSS_RANGES.get(key)
    if kept is None or kept[0] is not surface:
        values = _finite(surface_values(surface, 60, bounds)[2])
        if surface.minimum_value is None:
            limits = 3 * min(float(values.min()), 0.0), 3 * max(float(values.max()), 1.0)
        else:
            limits = LOSS_GAP_FLOOR, 3 * max(float(values.max()) - surface.minimum_value, 1.0)
        for oldest in list(_LOSS_RANGES)[:-31]:  # drawing threads may share it: no iteration over it
            _LOSS_RANGES.pop(oldest, None)
        kept = _LOSS_RANGES[key] = surface, limits
    return kept[1]


def _symlog_threshold(surface: Surface) -> float:
    """Where the symlog loss axis of a surface without a minimum turns logarithmic: a small
    fraction of the values in view, so that a run falling through 0 is seen decade by decade."""
    return SYMLOG_LINEAR_FRACTION * 3 * max(float(np.abs(_finite(surface_values(surface, 60)[2])).max()), 1.0)


def _finite(values: np.ndarray) -> np.ndarray:
    """The finite values of an array, flattened (a zero where there is none)."""
    finite = values[np.isfinite(values)]
    return finite if finite.size else np.zeros(1)


FONT_SIZES = {"legend": 8, "title": 9, "label": 10, "counter": 12}  # in points, at text size "normal"
# the lecture figure on a screen (the explorer, the HTML page): 800x450 pixels, fonts as on a
# 960x540 slide at 100 dpi, so that it stays readable scaled down to ~680 pixels
SCREEN_SIZE, SCREEN_DPI = (800, 450), 100
# a text size → the factor on every font and margin of a lecture figure: "projector" for slides read
# from the back of a lecture hall
TEXT_SIZES = {"normal": 1.0, "projector": 1.5}


def text_scale(text_size: str) -> float:
    """The factor ``text_size`` (a key of ``TEXT_SIZES``) sets on fonts and margins."""
    if text_size not in TEXT_SIZES:
        raise ValueError(f"Invalid text size {text_size!r}; valid: {', '.join(TEXT_SIZES)}")
    return TEXT_SIZES[text_size]


def font_size(what: str, text_size: str = "normal") -> float:
    """The font size of ``what`` (a key of ``FONT_SIZES``) at ``text_size``, in points."""
    return FONT_SIZES[what] * text_scale(text_size)


def _label_sizes(ax, size: float) -> None:
    """Tick labels and axis labels of ``ax`` (2-D or 3-D) at ``size`` points."""
    for axis in (ax.xaxis, ax.yaxis, *([ax.zaxis] if hasattr(ax, "zaxis") else [])):
        axis.set_tick_params(labelsize=size)
        axis.label.set_size(size)


# where the contour panel's legend may go, in preference order, with the side of the panel each
# place anchors it to (as matplotlib does: longer labels grow inwards)
LEGEND_PLACES = {"upper right": "NE", "upper left": "NW", "lower left": "SW", "lower right": "SE",
                 "center left": "W", "center right": "E", "upper center": "N", "lower center": "S"}
FIRST_STEPS = 10  # a path's first points: how the rule sets off, which the legend keeps clear of
LEGEND_SHRINKS = (1.0, 0.85, 0.7)  # the legend's text, smaller until it finds a place that hides no mark


def place_legend(legend: Legend, trajectories: Sequence[Trajectories], minima: Sequence[Line2D],
                 loss_axes: Axes | None = None, keep_clear: Sequence[Bbox] = ()) -> tuple[str, str]:
    """Place the legend of the contour panel where it hides least of what is drawn, judged in
    this order: over none of the ``keep_clear`` boxes (display pixels: an animation's counter),
    then over the fewest start markers and ✖ of runs that blew up, then ``minima`` (their
    markers, ``contour``), then points of the first ``FIRST_STEPS`` steps of the paths and of the
    loss curves, then points along the rest of them; the first of equals in ``LEGEND_PLACES``.

    It goes in the contour panel where a place there hides none of the starts, minima and first
    steps, else in the loss panel (``loss_axes``) where one does there; else its text is made
    smaller (``LEGEND_SHRINKS``: a projector's large text in a small figure) and both are tried
    again; else it goes where it hides least. Its text is the legend's font size, or smaller where
    the legend would be wider than the contour panel. The place depends on the runs and the figure
    only: every figure of the same runs and size, live or exported, puts it in the same place.
    Returns the place: ("contour" or "loss", a key of ``LEGEND_PLACES``)."""
    ax, renderer = legend.axes, legend.figure.canvas.get_renderer()
    ax.apply_aspect()  # the panel's final box: one unit as long on both axes
    pixels = ax.figure.dpi / 72  # per point
    rows = [(run, row) for run in trajectories for row in range(run.rows)]
    ends = [(run, row, blow_up(run, row)) for run, row in rows]
    starts = ax.transData.transform([run.points[0, row].tolist() for run, row in rows])
    marks = [(Samples.at(starts), (START_SIZE / 2 + 1) * pixels)]
    if loss_axes is not None:
        marks.append((Samples.at(loss_axes.transData.transform(
            [(float(run.iteration_of_point[end]), loss_curve(run)[end, row]) for run, row, end in ends if end is not None]
            or np.zeros((0, 2)))), (BLOW_UP_SIZE / 2 + 1) * pixels))
    marks += [(Samples.at(ax.transData.transform(np.reshape(marker.get_xydata(), (-1, 2)))),
               (marker.get_markersize() / 2 + 1) * pixels) for marker in minima]
    paths = [ax.transData.transform(np.concatenate([run.points[:, row].numpy() for run, row in rows]))]
    lengths = [run.points.shape[0] for run, _ in rows]
    if loss_axes is not None:  # and the loss curves
        paths.append(loss_axes.transData.transform(np.concatenate(
            [np.column_stack([run.iteration_of_point.numpy(), loss_curve(run)[:, row]]) for run, row in rows])))
        lengths += lengths
    first, rest = _along(np.concatenate(paths), np.array(lengths), 2 * pixels)
    marks += [(first, 2 * pixels), (rest, 2 * pixels)]
    avoided, along_the_rest = marks[:-1], marks[-1:]  # the rest of the paths and curves only decides ties
    panels = {"contour": ax, **({} if loss_axes is None else {"loss": loss_axes})}

    def hidden(choices: list, counted: list, clear: bool = False) -> dict:
        """What the legend, with its texts as they are, hides at each (panel, place) of ``choices``:
        (with ``clear``) the keep_clear boxes it overlaps, then the samples of each kind of
        ``counted`` (marks) it covers."""
        boxes = placed_legend_boxes(legend, [(panels[panel], place) for panel, place in choices])
        counts = _covered(counted, boxes)
        if clear:
            counts = np.column_stack([overlapping(boxes, [other.extents for other in keep_clear]), counts])
        return dict(zip(choices, map(tuple, counts.tolist())))

    fontsize = legend.prop.get_size_in_points()
    for shrink in LEGEND_SHRINKS:
        for text in legend.get_texts():
            text.set_fontsize(fontsize * shrink)
        size = _legend_size(legend, renderer)
        if size.width > 0.96 * ax.bbox.width:  # long specs: a smaller font, so that it fits the panel
            for text in legend.get_texts():
                text.set_fontsize(fontsize * shrink * 0.96 * ax.bbox.width / size.width)
            size = _legend_size(legend, renderer)
        fitting = [panel for panel, axes in panels.items() if panel == "contour" or size.width <= axes.bbox.width]
        choices = [(panel, place) for panel in fitting for place in LEGEND_PLACES]
        hides = hidden(choices, avoided, clear=True)
        free = [choice for choice in choices if not any(hides[choice])]
        if free:  # in the first panel that has a free place, the one over the fewest points of the rest
            free = [choice for choice in free if choice[0] == free[0][0]]
            rest = hidden(free, along_the_rest)
            chosen = min(free, key=rest.get)
            break
    else:
        rest = hidden(choices, along_the_rest)
        chosen = min(choices, key=lambda choice: hides[choice] + rest[choice])
    legend.set_bbox_to_anchor((0, 0, 1, 1), transform=panels[chosen[0]].transAxes)
    legend.set_loc(chosen[1])
    return chosen


# legend -> ({its texts' extents: its size}, {(words, font size): a text's extent})
_LEGEND_SIZES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def placed_legend_boxes(legend: Legend, places: Sequence[tuple[Axes, str]]) -> np.ndarray:
    """Where ``legend``, with its texts as they are, goes at each (panel, place) of ``places`` (a
    key of ``LEGEND_PLACES``), in display pixels, one box (x0, y0, x1, y1) a row: as matplotlib
    anchors it (``Bbox.anchored``; a test holds them equal), from its remembered size (a page asks
    this of hundreds of legends)."""
    renderer = legend.figure.canvas.get_renderer()
    size = _legend_size(legend, renderer)
    pad = legend.borderaxespad * renderer.points_to_pixels(legend.prop.get_size_in_points())
    inside = np.array([panel.bbox.get_points().ravel() for panel, _ in places]) + [pad, pad, -pad, -pad]
    sides = np.array([Bbox.coefs[LEGEND_PLACES[place]] for _, place in places]).reshape(-1, 2)
    low = inside[:, :2] + sides * (inside[:, 2:] - inside[:, :2] - [size.width, size.height])
    return np.column_stack([low, low + [size.width, size.height]])


def overlapping(boxes: np.ndarray, others: Sequence) -> np.ndarray:
    """How many of the ``others`` boxes each of ``boxes`` overlaps (both as rows x0, y0, x1, y1;
    touching counts, as ``Bbox.overlaps``)."""
    others = np.reshape(others, (-1, 1, 4))
    return ((boxes[:, 0] <= others[..., 2]) & (others[..., 0] <= boxes[:, 2]) & (boxes[:, 1] <= others[..., 3])
            & (others[..., 1] <= boxes[:, 3])).sum(0)


def legend_extents(legend: Legend, renderer) -> tuple:
    """All that the layout of ``legend``'s entries depends on besides its style: the dpi and each
    text's font size and extent (width, height, descent; the words themselves where they are
    mathtext, "$…$"), each text's remembered per legend. A page lays out the legends of hundreds of
    cells, whose counts differ far more often in their digits than in their extents."""
    extents = _LEGEND_SIZES.setdefault(legend, ({}, {}))[1]
    key = [renderer.dpi]
    for text in legend.get_texts():
        words = text.get_text()
        at = (words, text.get_fontsize())
        if at not in extents:
            extents[at] = (text.get_fontsize(), *renderer.get_text_width_height_descent(
                words, text.get_fontproperties(), ismath=False), words if "$" in words else "")
        key.append(extents[at])
    return tuple(key)


def _legend_size(legend: Legend, renderer) -> Bbox:
    """The legend's box in display pixels, of which placing it needs the size: remembered per
    legend for its texts' extents (``legend_extents``)."""
    sizes = _LEGEND_SIZES.setdefault(legend, ({}, {}))[0]
    key = legend_extents(legend, renderer)
    if key not in sizes:
        sizes[key] = legend.get_window_extent(renderer)
    return sizes[key]


class Samples(NamedTuple):
    """Points along segments, ``counts[i]`` of them on segment i: its start plus k / counts[i] of
    its step, k = 0 … counts[i] - 1 (a lone point: a segment of step 0, once)."""

    starts: np.ndarray  # (S, 2)
    steps: np.ndarray  # (S, 2)
    counts: np.ndarray  # (S,)

    @staticmethod
    def at(points: np.ndarray) -> Samples:
        """The points themselves, one sample each."""
        return Samples(points, np.zeros_like(points), np.ones(len(points)))


def _covered(kinds: Sequence[tuple[Samples, float]], boxes: np.ndarray) -> np.ndarray:
    """How many samples of each kind (samples, radius) lie strictly inside each box (rows x0, y0,
    x1, y1) widened by the kind's radius: (boxes, kinds). Counted per segment that comes near a
    box, from the part of its step inside it, rather than sample by sample."""
    starts, steps, counts = (np.concatenate(part) for part in zip(*(samples for samples, _ in kinds)))
    sizes = [len(samples.counts) for samples, _ in kinds]
    kind = np.repeat(np.arange(len(kinds)), sizes)
    radius = np.repeat([radius for _, radius in kinds], sizes)
    ends = starts + steps
    reach_low, reach_high = np.minimum(starts, ends) - radius[:, None], np.maximum(starts, ends) + radius[:, None]
    box, segment = np.nonzero((reach_low[:, 0] < boxes[:, 2:3]) & (reach_high[:, 0] > boxes[:, 0:1])
                              & (reach_low[:, 1] < boxes[:, 3:4]) & (reach_high[:, 1] > boxes[:, 1:2]))
    starts, steps, counts, radius = starts[segment], steps[segment], counts[segment], radius[segment, None]
    low, high = boxes[box, :2] - radius, boxes[box, 2:] + radius
    with np.errstate(divide="ignore", invalid="ignore"):
        at_low, at_high = (low - starts) / steps, (high - starts) / steps  # where a step crosses them
    moving = steps != 0
    still = np.where((starts > low) & (starts < high), -np.inf, np.inf)  # a coordinate that stays
    enter = np.where(moving, np.minimum(at_low, at_high), still).max(1)
    leave = np.where(moving, np.maximum(at_low, at_high), np.inf).min(1)
    first = np.maximum(np.floor(enter * counts) + 1, 0)  # the samples k with enter < k / count < leave
    last = np.minimum(np.ceil(leave * counts) - 1, counts - 1)
    inside = np.clip(last - first + 1, 0, None)
    return np.bincount(box * len(kinds) + kind[segment], inside,
                       len(boxes) * len(kinds)).reshape(len(boxes), len(kinds)).astype(int)


def _along(points: np.ndarray, lengths: np.ndarray, spacing: float) -> tuple[Samples, Samples]:
    """Samples along paths given as display points one path after another (``lengths`` points
    each; NaN where a path diverged, left out), at most ``spacing`` apart (at most 400 a step):
    those on each path's first ``FIRST_STEPS`` steps, and the rest."""
    path = np.repeat(np.arange(len(lengths)), lengths)
    finite = np.isfinite(points).all(1)
    points, path = points[finite], path[finite]
    index = np.arange(len(path)) - np.searchsorted(path, path)  # each point's place among its path's
    inside = path[1:] == path[:-1]  # a segment joins two points of one path
    starts, segments, step = points[:-1][inside], np.diff(points, axis=0)[inside], index[1:][inside] - 1
    counts = np.clip(np.ceil(np.linalg.norm(segments, axis=1) / spacing), 1, 400)
    last = np.append(~inside, True)[:len(path)]  # each path's last point: after its last step
    samples = Samples(np.concatenate([starts, points[last]]), np.concatenate([segments, np.zeros_like(points[last])]),
                      np.concatenate([counts, np.ones(last.sum())]))
    first = np.concatenate([step, index[last]]) < FIRST_STEPS
    return Samples(*(part[first] for part in samples)), Samples(*(part[~first] for part in samples))


@dataclass
class LectureFigure:
    """A lecture figure and the artists that show the runs: (artist, trajectory, row) each."""

    figure: Figure
    path_lines: list
    start_markers: list
    loss_lines: list
    blow_ups: list  # the ✖ that ends a diverged row's loss curve
    minima_markers: list  # one artist per kind of minimum (``contour``), drawn above the paths


MAX_RUNS = 12  # optimizers in one lecture figure: each its own legend line and colour, a legend a class can read


def check_runs(count: int) -> None:
    """``ValueError`` for more optimizers than one figure shows (``MAX_RUNS``)."""
    if count > MAX_RUNS:
        raise ValueError(f"Invalid optimizers: {count} in one figure (at most {MAX_RUNS}, so that each keeps "
                         f"a legend line a class can read and a colour of its own; split them over slides)")


def lecture_figure(surface: Surface, trajectories: Sequence[Trajectories], *, loss: bool = True,
                   three_d: bool = False, size: tuple[int, int] = (960, 540),
                   title: str | None = None, animated: bool = False,
                   dpi: float | None = None, text_size: str = "normal") -> LectureFigure:
    """Contour with paths and '[iterations]' legend (``place_legend``), optional loss panel and
    3-D view, sized in pixels for 16:9 slides. ``animated`` leaves the run artists out of normal
    draws (blitting). ``text_size`` ("normal", "projector": ``TEXT_SIZES``) scales every font and
    the margins that hold text.

    By default the figure is 9.6 inches wide, drawn at dpi = width / 9.6: every pixel size looks
    like the same slide, scaled (fonts and margins included); a given ``dpi`` keeps the fonts'
    pixel size instead (a smaller figure for a screen)."""
    check_runs(len(trajectories))
    scale = text_scale(text_size)
    dpi = dpi or size[0] / 9.6
    fig = PlainFigure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi)
    panels = 1 + loss + three_d
    # fixed margins: the figure has a fixed pixel size, and constrained layout costs ~1 s here
    # side margins and the gaps between panels in inches (the y labels; the last x tick label),
    # whatever the figure's width
    inches = size[0] / dpi
    # a colour bar (``contour``) takes about an inch more between the contour and the next panel
    left, right, gap = 0.672 * scale, 0.2 * scale, (0.86 + 0.95 * bool(surface.colour_label)) * scale
    mean_width = (inches - left - right - (panels - 1) * gap) / panels
    grid = fig.add_gridspec(1, panels, width_ratios=[1.35] + [1.0] * (panels - 1), left=left / inches,
                            right=1 - right / inches, bottom=0.09 * scale, top=1 - 0.06 * scale,
                            wspace=gap / mean_width)
    ax = fig.add_subplot(grid[0, 0])
    minima = contour(ax, surface, text_size=text_size)
    path_lines, start_markers = paths(ax, trajectories, animated=animated)
    legend = ax.legend(fontsize=font_size("legend", text_size), framealpha=0.85)
    heading = ax.set_title(title or surface.formula, fontsize=font_size("title", text_size))
    loss_lines, blow_ups = ([], []) if not loss else loss_panel(fig.add_subplot(grid[0, 1]), trajectories,
                                                                  animated=animated)
    if three_d:
        surface_3d(fig.add_subplot(grid[0, panels - 1], projection="3d"), surface, trajectories)
    for axes in fig.axes:
        _label_sizes(axes, font_size("label", text_size))
    place_legend(legend, trajectories, minima, fig.axes[1] if loss else None)
    # a long title (a formula, a slide's sentence) smaller, to span no more than its panel
    with DRAWING:  # measuring parses a formula
        room, width = ax.bbox.width, heading.get_window_extent(fig.canvas.get_renderer()).width
    if width > room:
        heading.set_fontsize(heading.get_fontsize() * room / width)
    return LectureFigure(fig, path_lines, start_markers, loss_lines, blow_ups, minima)


def figure(surface: Surface, trajectories: Sequence[Trajectories], **options) -> Figure:
    """The lecture figure (see ``lecture_figure``) as a matplotlib Figure."""
    return lecture_figure(surface, trajectories, **options).figure


def surface_3d(ax, surface: Surface, trajectories: Sequence[Trajectories] = ()) -> None:
    """The surface as a 3-D plot with the paths lifted onto it."""
    x, y, z = surface_values(surface, 120)
    ax.plot_surface(x, y, z, cmap="viridis", linewidth=0, antialiased=True, alpha=0.85)
    for trajectory, colour in zip(trajectories, run_colours(trajectories)):
        points, losses = trajectory.points.numpy(), trajectory.losses.numpy()
        for row in range(trajectory.rows):
            ax.plot(points[:, row, 0], points[:, row, 1], losses[:, row], color=colour,
                    linewidth=2, zorder=10)
    ax.set_xlabel("x")
    ax.set_ylabel("y")


@dataclass(frozen=True)
class Shade:
    """One family of a phase diagram's cells, coloured by its own map: ``cells`` (L, M) bool
    (None: every cell), ``cmap`` (light for low values), ``label`` for its colour bar."""

    label: str
    cmap: str | mcolors.Colormap = "viridis_r"
    cells: np.ndarray | None = None


def _light_to_dark(name: str, light: float, dark: float) -> mcolors.Colormap:
    """Part of a sequential matplotlib map, from ``light`` to ``dark`` (fractions of it): its
    hue stays recognisable at both ends, never grey-white or black."""
    return mcolors.ListedColormap(matplotlib.colormaps[name](np.linspace(light, dark, 256)), name=f"{name} part")


# a phase diagram's cells by the minimum their run reached: blue for ★, orange for ✖ (told apart
# with any colour vision), light where it arrived fast, dark where slowly
GLOBAL_SHADE = _light_to_dark("Blues", 0.25, 0.9)
OTHER_SHADE = _light_to_dark("Oranges", 0.2, 0.8)
MAX_TICK_LABELS = 7  # on a phase diagram's axis; a longer axis labels a subset of its cells


def phase_grid(ax: Axes | None, lrs: np.ndarray, momenta: np.ndarray, values: np.ndarray,
               diverged: np.ndarray, *, shades: Sequence[Shade], missing_label: str, momentum_label: str,
               title: str, colour_floor: float = 1e-12, current: tuple[float, float] | None = None) -> Axes:
    """The lr x momentum heatmap every phase diagram shares: ``values`` (len(lrs), len(momenta)),
    lower is better, log colours from ``colour_floor`` up on one scale for every shade (each
    ``Shade`` colours its cells with its own map and colour bar; no bar where no cell has a
    value: a scale of nothing teaches nothing), NaN where a cell has none (grey,
    ``missing_label``), ``diverged`` cells dark; log lr axis; ticks at the cells' lrs and
    momenta (``cell_ticks``); ``current`` (lr, momentum) ringed, e.g. the sliders'. The legend is
    left to the caller (``ax.legend``), who may overlay more first."""
    if ax is None:
        ax = PlainFigure(figsize=(7.2, 5.4), dpi=100, layout="constrained").add_subplot()
    values, diverged = values.astype(float).T, diverged.T
    ax.set_facecolor(NOT_CONVERGED_COLOUR)
    lr_edges = 10 ** _edges(np.log10(lrs))
    momentum_edges = _edges(momenta)
    finite = np.isfinite(values) & ~diverged
    shown = np.where(finite, values, np.nan)
    norm = None
    if finite.any():
        norm = mcolors.LogNorm(vmin=max(np.nanmin(shown), colour_floor),
                               vmax=max(np.nanmax(shown), 2 * colour_floor))
    meshes = [ax.pcolormesh(lr_edges, momentum_edges, np.ma.masked_where(
        ~(finite if shade.cells is None else finite & shade.cells.T), shown), cmap=shade.cmap, norm=norm)
              for shade in shades]
    for shade, mesh in reversed(list(zip(shades, meshes)) if norm else []):  # the first bar ends next to the axes
        bar = ax.figure.colorbar(mesh, ax=ax, label=shade.label, pad=0.02)
        plain = mticker.FuncFormatter(lambda value, _: f"{value:.4g}")  # 60, 2.34: not 6 × 10¹, 2.34 × 10⁰
        bar.ax.yaxis.set_major_formatter(plain)
        if norm.vmax < 10 * norm.vmin:  # within a decade: matplotlib's ticks, the minor ones labelled too
            bar.ax.yaxis.set_minor_formatter(plain)
        else:  # 10, 20, 50, 100, …
            bar.ax.yaxis.set_major_locator(mticker.LogLocator(subs=(1, 2, 5)))
            bar.ax.yaxis.set_minor_formatter(mticker.NullFormatter())
        bar.ax.tick_params(which="both", labelsize=8)
    ax.pcolormesh(lr_edges, momentum_edges, np.ma.masked_where(~diverged, diverged),
                  cmap=mcolors.ListedColormap([DIVERGED_COLOUR]))
    ax.set_xscale("log")
    if current is not None:  # a black ring edged in white: seen on light and dark cells alike
        ax.plot(*current, marker="o", markersize=12, markerfacecolor="none", markeredgecolor="black",
                markeredgewidth=2, linestyle="none", label="current",
                path_effects=[patheffects.withStroke(linewidth=4, foreground="white")])
    ax.plot([], [], marker="s", color=DIVERGED_COLOUR, linestyle="none", label="diverged")
    ax.plot([], [], marker="s", color=NOT_CONVERGED_COLOUR, linestyle="none", label=missing_label)
    ax.set_xlim(lr_edges[0], lr_edges[-1])
    ax.set_ylim(momentum_edges[0], momentum_edges[-1])
    for axis, cells in ((ax.xaxis, lrs), (ax.yaxis, momenta)):
        labelled = cell_ticks(cells)
        axis.set_ticks(labelled, labels=[f"{value:.3g}" for value in labelled])
        axis.set_ticks(cells if len(labelled) < len(cells) else [], minor=True)
        axis.set_minor_formatter(mticker.NullFormatter())
    ax.set_xlabel("learning rate η")
    ax.set_ylabel(momentum_label)
    ax.set_title(title, fontsize=10)
    return ax


def cell_ticks(values: np.ndarray) -> np.ndarray:
    """The cell values an axis of a phase diagram labels: all of them, up to ``MAX_TICK_LABELS``;
    else every k-th from some offset: the smallest k (at least 3 labels) whose labels are all
    round, one significant digit (0.001, 0.01, 0.1, 1 of 31 or of 40 log-spaced lrs; 0, 0.2, …
    0.8 of the momenta 0, 0.05, … 0.95), else the smallest k that labels at most
    ``MAX_TICK_LABELS``, from the offset with the shortest labels. The other cells get
    unlabelled minor ticks."""
    values = np.asarray(values, dtype=float)
    count = len(values)
    if count <= MAX_TICK_LABELS:
        return values
    digits = np.array([max(len(f"{v:.2e}".split("e")[0].replace(".", "").rstrip("0")), 1) for v in values])
    strides = range(-(-count // MAX_TICK_LABELS), (count - 1) // 2 + 1)
    for stride in strides:
        for offset in range(stride):
            if (digits[offset::stride] == 1).all():
                return values[offset::stride]
    offset = min(range(strides[0]), key=lambda offset: digits[offset::strides[0]].mean())
    return values[offset::strides[0]]


def momentum_label(spec: optim.Spec) -> str:
    """What a phase diagram's y axis is for ``spec``: β of heavy ball / Nesterov, or β1."""
    return "β1 (first-moment decay)" if spec.momentum_parameter == "beta1" else "momentum β"


def phase_diagram(sweep: Trajectories, ax: Axes | None = None,
                  current: tuple[float, float] | None = None) -> Axes:
    """Heatmap of where and how fast each run of the lr x momentum sweep of one optimizer
    (``trajectory.sweep``) arrived, drawn by ``phase_grid``: outcome first, then speed.

    A cell whose run reached a global minimum ★ is blue, one that reached another minimum ✖
    orange (a colour bar each, on a surface that has both kinds), light where it arrived in few
    iterations and dark in many; diverged cells are dark grey, not-arrived cells light grey. On
    a quadratic, for gradient descent and heavy ball (``Spec.is_heavy_ball``), theory's stability
    limit lr·λmax < 2(1 + β) and the optimal (lr*, β*) are overlaid (``landscape.theory``).
    ``current`` marks a (lr, momentum) position, e.g. the sliders'. The y axis is the spec's
    momentum (``Spec.momentum_parameter``): β of heavy ball / Nesterov, or β1 for the Adam family.
    The legend sits under the axes, hiding no cell.
    """
    grid = sweep.grid
    if grid is None:
        raise ValueError("phase_diagram needs an lr x momentum sweep (landscape.trajectory.sweep)")
    momenta = np.zeros(1) if grid.momenta is None else grid.momenta.numpy()
    iterations = grid.values(sweep.iterations).numpy().astype(float)
    within = f"iterations to within {sweep.tolerance:.3g}"
    shades = [Shade(f"reached ★ (global): {within}" if sweep.marks_minima else within, GLOBAL_SHADE,
                    basin_of(sweep, True))]
    if sweep.marks_minima:
        shades.append(Shade(f"reached ✖ (not global): {within}", OTHER_SHADE, basin_of(sweep, False)))
    ax = phase_grid(ax, grid.lrs.numpy(), momenta, np.where(iterations >= 0, iterations, np.nan),
                    grid.values(sweep.diverged_at).numpy() >= 0, shades=shades,
                    missing_label=f"not arrived in {sweep.last_iteration}",
                    momentum_label=momentum_label(sweep.spec),
                    title=f"{sweep.spec.text} on {sweep.surface.name}", colour_floor=1, current=current)
    eigenvalues = getattr(sweep.surface, "eigenvalues", None)
    if eigenvalues is not None and sweep.spec.is_heavy_ball:
        low, high = ax.get_ylim()
        beta = np.linspace(low, high, 200)
        ax.plot(theory.stability_limit(beta, max(eigenvalues)), beta, color="#f032e6", linestyle="--",
                linewidth=2, label="stability limit  lr·λmax = 2(1+β)")
        lr_best, beta_best = theory.optimal_heavy_ball(eigenvalues)
        ax.plot(lr_best, beta_best, marker="*", markersize=16, color="#f58231",
                markeredgecolor="black", linestyle="none", label=f"optimal ({lr_best:.3g}, {beta_best:.3g})")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.11), ncol=3, fontsize=8, frameon=False)
    return ax


def basin_of(sweep: Trajectories, is_global: bool) -> np.ndarray:
    """(L, M): the cells of ``sweep`` whose run arrived at a global minimum (``is_global``) or
    at another one."""
    kinds = torch.tensor([m.is_global == is_global for m in sweep.surface.minima] + [False])
    return sweep.grid.values(kinds[sweep.minimum]).numpy()  # minimum -1 (none): the False


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges around sorted cell centres (one cell: ±0.5)."""
    if centres.size == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    middle = (centres[1:] + centres[:-1]) / 2
    return np.concatenate([[2 * centres[0] - middle[0]], middle, [2 * centres[-1] - middle[-1]]])



# the arrows of a step, by kind (optim.base.KINDS): light colours outlined in black, which read on
# every viridis contour and differ from the paths' COLOURS; drawn in this order, widest first, so
# that an arrow lying along another still shows
ARROW_STYLES = {
    "step": {"color": "#ffffff", "linestyle": "-", "width": 5.0},
    "first moment": {"color": "#8ff0ff", "linestyle": "-", "width": 4.0},
    "momentum": {"color": "#ff9ecf", "linestyle": "-", "width": 3.2},
    "next momentum": {"color": "#ff9ecf", "linestyle": (0, (2, 1.2)), "width": 3.2},
    "scaled gradient": {"color": "#ffc38a", "linestyle": "-", "width": 2.4},
    "gradient": {"color": "#ffe119", "linestyle": "-", "width": 1.6},
}
# lengths as shares of the contour panel's shorter side: the longest arrow of a step is drawn
# between LONGEST_ARROW (magnified when shorter) and 2.5x that (shrunk when longer than
# ARROW_ROOM), by a 1-2-5 factor; an arrow still shorter than SHORTEST_ARROW is drawn longer,
# its own factor written at its head
LONGEST_ARROW, ARROW_ROOM, SHORTEST_ARROW = 0.2, 0.5, 0.08
WIDEST_FACTOR = 0.005  # the key's title leaves room for this factor


OUTLINE = 1.2  # points: how much wider than an arrow (or a "×N") its black outline is


def _outline(width: float) -> list:
    return [patheffects.withStroke(linewidth=width + OUTLINE, foreground="black")]


def _arrow(kind: str, start=(0.0, 0.0), end=(0.0, 0.0), scale: float = 1.0, **options) -> FancyArrowPatch:
    """An arrow of ``kind`` in its style (``ARROW_STYLES``), its width and head ``scale``d."""
    style = ARROW_STYLES[kind]
    width = style["width"] * scale
    return FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=(8 + 1.5 * width) * scale, shrinkA=0,
                           shrinkB=0, color=style["color"], linestyle=style["linestyle"], linewidth=width,
                           path_effects=_outline(width), **options)


def nice_factor(ratio, up: bool):
    """The 1-2-5 number (…, 0.5, 1, 2, 5, 10, …) nearest ``ratio`` from above (``up``) or below;
    element-wise for an array of ratios (> 0)."""
    ratio = np.asarray(ratio, dtype=float)
    exponent = np.floor(np.log10(ratio))[..., None]
    candidates = (np.array([1.0, 2.0, 5.0]) * 10.0 ** (exponent + np.array([-1.0, 0.0, 1.0]))[..., None])
    candidates = candidates.reshape(*ratio.shape, 9)
    if up:
        return np.where(candidates >= ratio[..., None], candidates, np.inf).min(-1)[()]
    return np.where(candidates <= ratio[..., None], candidates, -np.inf).max(-1)[()]


@dataclass(frozen=True)
class StepGeometry:
    """Where the arrows of steps are drawn (``step_geometry``): arrow a of a step goes from
    ``starts[a, …]`` to ``ends[a, …]`` (data units); ``factor`` (…) is the factor every arrow of
    that step is drawn at (NaN: none is drawn), ``own`` (A, …, B) each arrow's own (its "×N" where
    it differs from ``factor``; NaN where the arrow is not drawn)."""

    factor: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    own: np.ndarray


def step_geometry(tails: np.ndarray, vectors: np.ndarray, per_unit: np.ndarray, side: float) -> StepGeometry:
    """The arrows of steps as drawn on a panel with ``per_unit`` pixels per data unit (x, y) and
    ``side`` pixels on its shorter side: ``tails``, ``vectors`` (A, …, B, 2) in data units, the
    last arrow the step taken (from θ_k); the B rows of one step share its factor, and any axes
    between are steps of their own (a run's every point and row at once).

    Every arrow of a step is drawn at one 1-2-5 factor that makes the longest LONGEST_ARROW to
    ARROW_ROOM of ``side`` (1: true length), and the arrows keep their chain: each tail is moved
    from θ_k by the same factor; an arrow still shorter than SHORTEST_ARROW is drawn that long
    with its own factor. Arrows that are not finite, or of no length, are not drawn."""
    lengths = np.linalg.norm(vectors * per_unit, axis=-1)  # (A, …, B) in pixels
    drawn = np.isfinite(lengths) & np.isfinite(tails).all(-1) & (lengths > 1e-9 * side)
    longest = np.where(drawn, lengths, 0.0).max(axis=(0, -1))  # (…)
    factor = np.where(drawn.any(axis=(0, -1)), 1.0, np.nan)
    with np.errstate(divide="ignore"):
        short, long = (longest > 0) & (longest < LONGEST_ARROW * side), longest > ARROW_ROOM * side
        factor = np.where(short, nice_factor(np.where(short, LONGEST_ARROW * side / longest, 1.0), up=True), factor)
        factor = np.where(long, nice_factor(np.where(long, ARROW_ROOM * side / longest, 1.0), up=False), factor)
        per_step = factor[None, ..., None]  # (1, …, 1)
        tiny = drawn & (per_step * lengths < SHORTEST_ARROW * side)
        own = np.where(tiny, per_step * nice_factor(np.where(tiny, SHORTEST_ARROW * side / (per_step * lengths), 1.0),
                                                   up=True), per_step)
    own = np.where(drawn, own, np.nan)
    origin = tails[-1:]  # θ_k: the step taken starts there
    starts = origin + per_step[..., None] * (tails - origin)
    return StepGeometry(factor[()], starts, starts + own[..., None] * vectors, own)


class _ArrowHandler(HandlerPatch):
    """A key entry for an arrow: the arrow itself, in its kind's style."""

    def create_artists(self, legend, orig_handle, xdescent, ydescent, width, height, fontsize, trans):
        middle = height / 2 - ydescent
        return [_arrow(orig_handle.kind, (-xdescent, middle), (width - xdescent, middle), scale=0.7,
                       transform=trans)]


class StepArrows:
    """The arrows of one step of a run (an ``anatomy.Anatomy``) on the contour panel ``ax``, and
    their key on ``key_axes`` (a legend: what each arrow is, whose step, the factor drawn at),
    as animated artists: ``draw(point)`` draws the arrows of the step from ``point`` and returns
    the factor they are drawn at (1: true length; None: nothing to draw, as at the last point);
    ``draw_title(factor)`` then writes the key's title (``key`` itself is drawn by the caller).

    A step can be far shorter or longer than the view: every arrow of a step is drawn at one
    factor (a 1-2-5 number), so that the longest is LONGEST_ARROW to ARROW_ROOM of the panel and
    the arrows keep their proportions and their chains; an arrow that would still be hard to see
    is drawn SHORTEST_ARROW long, its own factor "×N" at its head (``step_geometry``)."""

    def __init__(self, ax: Axes, anatomy: Anatomy, key_axes: Axes):
        self.ax, self.anatomy = ax, anatomy
        rows = anatomy.tails.shape[2]
        order = sorted(range(len(anatomy.kinds)), key=lambda a: list(ARROW_STYLES).index(anatomy.kinds[a]))
        self.arrows = [(a, b, ax.add_patch(_arrow(anatomy.kinds[a], zorder=7, animated=True)),
                        ax.text(0, 0, "", fontsize=7, color="white", ha="left", va="bottom", zorder=8,
                                path_effects=_outline(1.0), animated=True))
                       for a in order for b in range(rows)]
        handles = []
        for kind in anatomy.kinds:
            handle = FancyArrowPatch((0, 0), (1, 1))
            handle.kind = kind
            handles.append(handle)
        self.key = Legend(key_axes, handles, list(anatomy.labels), loc="lower left", fontsize=7,
                          title=self.title_text(WIDEST_FACTOR), title_fontsize=7, framealpha=0.92,
                          handler_map={FancyArrowPatch: _ArrowHandler()}, handlelength=2.6, alignment="left")
        self.key.get_title().set_color((0, 0, 0, 0))  # a placeholder: draw_title writes it
        self.key.set_animated(True)
        key_axes.add_artist(self.key)
        self.title = Text(0, 0, "", fontsize=7, ha="left", va="bottom", animated=True,
                          transform=IdentityTransform(), figure=ax.figure)

    def title_text(self, factor: float | None) -> str:
        """The key's title for arrows drawn at ``factor`` (None: no step is drawn)."""
        lines = [f"{self.anatomy.name}: the step from θₖ, drawn ×{factor:g}" if factor is not None
                 else f"{self.anatomy.name}: no step from the last point"]
        return "\n".join(lines + [textwrap.fill(note, 60) for note in self.anatomy.notes])

    def remove(self) -> None:
        for _, _, arrow, text in self.arrows:
            arrow.remove()
            text.remove()
        self.key.remove()

    def draw(self, point: int) -> float | None:
        step = self.anatomy.at(point)
        if step is None:
            return None
        tails, vectors = (t.numpy() for t in step)  # (A, B, 2) in data units
        bbox, (x0, x1), (y0, y1) = self.ax.bbox, self.ax.get_xlim(), self.ax.get_ylim()
        per_unit = np.array([bbox.width / (x1 - x0), bbox.height / (y1 - y0)])  # pixels per unit
        geometry = step_geometry(tails, vectors, per_unit, min(bbox.width, bbox.height))
        if np.isnan(geometry.factor):
            return None
        factor, figure = float(geometry.factor), self.ax.figure
        for a, b, arrow, text in self.arrows:
            own = geometry.own[a, b]
            if np.isnan(own):
                continue
            arrow.set_positions(geometry.starts[a, b], geometry.ends[a, b])
            figure.draw_artist(arrow)
            if own != factor:
                text.set_position(geometry.ends[a, b])
                text.set_text(f"×{own:g}")
                figure.draw_artist(text)
        return factor

    def draw_title(self, factor: float | None) -> None:
        """The key's title for arrows drawn at ``factor``, where the key's placeholder is."""
        place = self.key.get_title().get_window_extent()
        self.title.set_position((place.x0, place.y0))
        self.title.set_text(self.title_text(factor))
        self.ax.figure.draw_artist(self.title)
