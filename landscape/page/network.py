"""A network's lr x momentum sweep (``nets.sweep.NetworkSweep``) as one self-contained HTML page:
``write_network_page`` (``python -m landscape sweep --model ... --page out.html``, the sweep
panel's *Export page*). It opens from a file, offline, inside an <iframe>: no Python, no server.

The page is what the Real networks tab shows under its lr and momentum sliders
(``NetworkSweep.cell_figure``: the phase diagram of the final validation loss with the cell ringed,
beside the cell's loss per batch, per epoch and on validation), and the browser only looks it up:

- matplotlib draws ``cell_figure`` once, without its moving parts (the ring, the curves, their
  title and legend): the whole figure as a picture, and the curves' axes again for each loss axis
  the cells need (``loss_axis``: whole decades around a cell's losses), cut to their side of it;
  the ring and the legend as pictures of their own (``pictures.Page.sprite``);
- Python computes, for every cell, its curves (log10 of each loss, quantised on one range, in one
  ``numbers.Numbers`` block), which loss axis it is drawn on, its title (``cell_title``) and its
  readout in words, and measures where everything goes in page pixels (``pictures.Page``);
- ``network.js`` (beside this file, after the block's unpacking in ``unpack.js``) draws the cell's
  curves with the figure's line styles, its title, the legend and the ring on a <canvas> over the
  picture. It computes no number of the sweep.

The page embeds the sweep's setting as JSON (``SETTING_ID``), the landscape version and the
command that makes it again; its Content-Security-Policy forbids the browser any request."""

from __future__ import annotations

import html
import math
import os
import shlex

import numpy as np
import torch

from .. import draw
from ..grid import linear_range, log_range
from ..nets.sweep import NetworkSweep
from . import numbers
from .build import _json, filled, script, version, write_html
from .numbers import LEVELS, NONE, quantise
from .pictures import SCALE, Page, css, font_url, picture, png_url

SETTING_ID = "landscape-network-sweep"  # not the explorer's PAGE_SETTING: its Load must not take it
FONT = "LandscapeSans"
LOWER = "sweep fewer cells or epochs, or train on fewer images or in larger batches"
DATA_OPTIONS = ("batch_size", "train_size", "val_size", "seed")  # what a sweep does not keep, but its command says


def shapes(cells: int, steps: int, epochs: int) -> numbers.Shapes:
    """The page's arrays for a sweep of ``cells`` cells, ``steps`` steps and ``epochs`` epochs:
    each cell's loss per batch, per epoch and on validation (quantised log10), its loss axis."""
    return {"batch": ((cells, steps), np.uint16, True), "train": ((cells, epochs), np.uint16, False),
            "val": ((cells, epochs), np.uint16, False), "axis": ((cells,), np.uint16, False)}


def check_size(cells: int, steps: int, epochs: int) -> int:
    """The bytes of the numbers of such a page before compression; ``ValueError`` when they would
    be more than ``numbers.MAX_NUMBER_BYTES`` (before anything is drawn, or trained: the sweep
    command asks at its first step, when the steps are known)."""
    return numbers.check_size(shapes(cells, steps, epochs), f"{cells} cells x {steps} steps", LOWER)


def _range(values: torch.Tensor, spaced) -> str | None:
    """``values`` as 'low:high:count' when ``spaced`` (log_range, linear_range) makes them again."""
    low, high, count = float(values[0]), float(values[-1]), len(values)
    try:
        again = spaced(float(f"{low:.6g}"), float(f"{high:.6g}"), count)
    except ValueError:
        return None
    return f"{low:.6g}:{high:.6g}:{count}" if torch.allclose(again, values.double(), rtol=1e-5) else None


def command(result: NetworkSweep, *, out: str = "sweep", page: str = "sweep.html", **options) -> str:
    """The command line that makes this sweep and its page again; ``options``: the data options
    the sweep was made with (``DATA_OPTIONS``, the command's defaults where left out). A grid no
    ``low:high:count`` makes (a sweep made in Python) is said as the Python call instead."""
    grid = result.grid
    lrs = _range(grid.lrs, log_range)
    momenta = None if grid.momenta is None else _range(grid.momenta, linear_range)
    if lrs is None or (grid.momenta is not None and momenta is None):
        given = "".join(f", {name}={options[name]!r}" for name in DATA_OPTIONS if options.get(name) is not None)
        return (f"landscape.nets.sweep.sweep_network({result.model!r}, {result.spec.text!r}, {grid.lrs.tolist()!r}, "
                f"{None if grid.momenta is None else grid.momenta.tolist()!r}, dataset={result.dataset!r}, "
                f"epochs={len(result.run.epochs)}, schedule={result.schedule!r}{given}), then "
                f"landscape.page.write_network_page({page!r}, result)")
    words = ["python", "-m", "landscape", "sweep", "--model", result.model, "--dataset", result.dataset,
             "--optimizer", result.spec.text, "--lrs", lrs]
    if momenta is not None:
        words += ["--momenta", momenta]
    words += ["--epochs", str(len(result.run.epochs))]
    if result.schedule != "none":
        words += ["--schedule", result.schedule]
    for name in DATA_OPTIONS:
        if options.get(name) is not None:
            words += [f"--{name.replace('_', '-')}", str(options[name])]
    return shlex.join(words + ["--out", str(out), "--page", str(page)])


def loss_axis(*curves: np.ndarray) -> tuple[int, int]:
    """The decades (low, high: 10**low … 10**high) a log loss axis shows for these curves: whole
    decades around their finite positive values, at least one; (0, 1) where there is none."""
    values = np.concatenate([np.asarray(curve, dtype=float).ravel() for curve in curves])
    values = values[np.isfinite(values) & (values > 0)]
    if not values.size:
        return 0, 1
    low, high = math.floor(np.log10(values.min())), math.ceil(np.log10(values.max()))
    return low, max(high, low + 1)


def _logs(values: np.ndarray) -> np.ndarray:
    """log10 of losses; NaN where a loss is not finite or not positive (not drawn on a log axis)."""
    values = np.asarray(values, dtype=float)
    good = np.isfinite(values) & (values > 0)
    return np.where(good, np.log10(np.where(good, values, 1.0)), np.nan)


def readout(result: NetworkSweep, i: int, j: int) -> str:
    """Cell (i, j) in words, as the page's readout says it (for screen readers and tests)."""
    setting = result.grid.setting(i, j)
    momentum = ("none" if setting["momentum"] is None else f"{setting['momentum']:.6g}")
    diverged = int(result.run.diverged_at[result.grid.row(i, j)])
    final = float(result.final("val_loss")[i, j])
    ended = f"diverged at step {diverged}" if diverged >= 0 else f"final validation loss {final:.6g}"
    return f"learning rate {setting['lr']:.6g}, momentum {momentum}: {ended}"


def _line(page: Page, line) -> dict:
    """How the page draws one of the curves: ``line``'s width, colour, opacity, dashes and markers."""
    marker = line.get_marker() not in ("None", "none", "", " ", None)
    _, dashes = getattr(line, "_dash_pattern", (0, None))  # in points, scaled by the width as drawn
    return {**page.line_style(line), "colour": css(line.get_color()), "alpha": line.get_alpha() or 1.0,
            "dashes": [page.points(length) for length in dashes or []],
            "marker": None if not marker else "circle" if line.get_marker() == "o" else page.marker_outline(line),
            "fill": css(line.get_markerfacecolor()) if marker else None}


def network_page_html(result: NetworkSweep, *, cell: tuple[int, int] | None = None, title: str | None = None,
                      made_by: str | None = None, options: dict | None = None) -> str:
    """The page of ``result``, opened at ``cell`` (lr index, momentum index; default: the best
    cell, as the panel opens). ``title``: the page's; ``made_by``: the command that makes it
    again (default ``command`` with ``options``, the data options the sweep was made with).
    ``ValueError`` when the page would hold too many numbers (``check_size``), before drawing."""
    options = {name: value for name, value in (options or {}).items() if name in DATA_OPTIONS}
    grid, run = result.grid, result.run
    steps, epochs = run.step_losses.shape[0], len(run.epochs)
    if not epochs:
        raise ValueError("the sweep has no finished epoch: nothing to draw")
    data = numbers.Numbers(shapes(grid.cells, steps, epochs), f"{grid.cells} cells x {steps} steps", LOWER)
    if cell is None:
        cell = result.best() if result.best_setting() is not None else (0, 0)
    lengths = grid.shape
    if not (0 <= cell[0] < lengths[0] and 0 <= cell[1] < lengths[1]):
        raise ValueError(f"Invalid cell {cell}: the sweep has {lengths[0]} lrs x {lengths[1]} momenta")

    # every cell's curves, as cell_figure draws them, in log10 (rows are cells, row-major)
    batch = _logs(run.step_losses.double().numpy().T)  # (B, T)
    train = _logs(torch.stack([torch.as_tensor(e.train_loss, dtype=torch.float64).reshape(-1) for e in run.epochs], 1))
    val = _logs(torch.stack([torch.as_tensor(e.val_loss, dtype=torch.float64).reshape(-1) for e in run.epochs], 1))
    every = np.concatenate([batch.ravel(), train.ravel(), val.ravel(), [0.0]])
    low, high = float(np.nanmin(every)), float(np.nanmax(every)) + 1e-9
    data["batch"][...] = quantise(batch, low, high)
    data["train"][...] = quantise(train, low, high)
    data["val"][...] = quantise(val, low, high)
    axes_of = [loss_axis(10 ** batch[b], 10 ** train[b], 10 ** val[b]) for b in range(grid.cells)]
    decades = list(dict.fromkeys(axes_of))
    data["axis"][...] = [decades.index(decade) for decade in axes_of]

    per_epoch = steps // epochs
    with draw.DRAWING:  # measuring parses formulas (the log axis's 10^k): one thread at a time, as figures draw
        figure = result.cell_figure(*cell)
        figure.set_dpi(figure.get_dpi() * SCALE)
        phase, curves = figure.axes[:2]
        page = Page(figure)
        ring = next(line for line in phase.lines if line.get_label() == "current")
        lines, legend, heading = curves.lines[:3], curves.get_legend(), curves.title
        legend.set_loc("upper right")  # one place for every cell's curves
        first, last = min(1 / per_epoch, 1.0), max(steps / per_epoch, float(epochs))  # the whole run's epochs,
        margin = curves.margins()[0] * (last - first)  # as matplotlib fits a cell that did not diverge
        if last > first:  # (one batch in one epoch: matplotlib's own limits around it)
            curves.set_xlim(first - margin, last + margin)
        figure.canvas.draw()
        styles = {name: _line(page, line) for name, line in zip(("batch", "train", "val"), lines)}
        images = {"legend": page.sprite(legend)}
        centre = page.point(phase.transData.transform(ring.get_xydata()[0]))
        images["ring"] = page.sprite(ring)
        images["ring"]["x"] -= float(centre[0])
        images["ring"]["y"] -= float(centre[1])
        momenta = None if grid.momenta is None else [float(m) for m in grid.momenta]
        lrs = [float(lr) for lr in grid.lrs]
        cells = [grid.cell(row) for row in range(grid.cells)]
        heading_texts = [result.cell_title(i, j) for i, j in cells]
        heading_at = page.baselines(heading, heading_texts[0])[0]  # measured while it is shown
        for artist in (ring, *lines, legend, heading):
            artist.set_visible(False)

        # the loss axes a cell may need, cut to the curves' side of the figure (right of the phase diagram)
        renderer = page.renderer
        curves.set_ylim(10.0 ** decades[0][0], 10.0 ** decades[0][1])
        images["figure"] = {"src": picture(figure)}
        split = max(axes.get_tightbbox(renderer).x1 for axes in figure.axes if axes is not curves)
        left = int(min(math.ceil(split) + 1, math.floor(curves.bbox.x0) - 1))
        axis_tables = []
        for number, (bottom, top) in enumerate(decades):
            curves.set_ylim(10.0 ** bottom, 10.0 ** top)
            figure.canvas.draw()
            rgba = np.asarray(figure.canvas.buffer_rgba())[:, left:]
            images[f"axis{number}"] = {"src": png_url(rgba, opaque=True), "x": left / SCALE, "y": 0.0,
                                       "w": rgba.shape[1] / SCALE, "h": rgba.shape[0] / SCALE}
            axis_tables.append({"image": f"axis{number}", "decades": [bottom, top],
                                "y": page.affine(curves, 1, low, high, LEVELS)})
        x_affine = page.affine(curves, 0, 0.0, 1.0, 1)  # page x of an epoch (a number of them)

        def along(values, axis: int) -> list[float]:  # page pixels of phase diagram values on x (lr) or y (momentum)
            other = np.full(len(values), lrs[0] if axis == 1 else (momenta or [0.0])[0])
            points = np.column_stack([values, other] if axis == 0 else [other, values])
            return [round(float(v), 3) for v in page.point(phase.transData.transform(points))[:, axis]]

        lr_edges = 10 ** draw._edges(np.log10(np.array(lrs)))
        momentum_edges = draw._edges(np.array(momenta or [0.0]))
        tables = {
            "format": 1, "width": figure.bbox.width / SCALE, "height": figure.bbox.height / SCALE,
            "codes": {"none": NONE}, "range": [low, high],  # of the quantised log10 losses
            "lrs": lrs, "momenta": momenta, "start": {"lr": int(cell[0]), "momentum": int(cell[1])},
            "lrTexts": [f"{lr:.3g}" for lr in lrs], "momentumTexts": [f"{m:.3g}" for m in momenta or []] or ["none"],
            "optimizer": result.spec.text, "momentumLabel": draw.momentum_label(result.spec),
            "steps": steps, "epochs": epochs,
            # page x: batch k at epoch (k + 1) / batches per epoch, epoch e at e
            "x": {"batch": [x_affine[0] + x_affine[1] / per_epoch, x_affine[1] / per_epoch],
                  "epoch": [x_affine[0], x_affine[1]],
                  "epochs": [float(e.epoch) for e in run.epochs]},
            "axes": axis_tables, "box": page.box(curves.bbox), "styles": styles,
            "phase": {"box": page.box(phase.bbox), "x": along(lrs, 0), "y": along(momenta or [0.0], 1),
                      "xEdges": along(lr_edges[1:-1], 0), "yEdges": along(momentum_edges[1:-1], 1)},
            "heading": {"texts": heading_texts, "at": heading_at,
                        "size": page.points(heading.get_fontsize()), "colour": css(heading.get_color()),
                        "align": heading.get_horizontalalignment()},
            "readouts": [readout(result, i, j) for i, j in cells], "font": FONT,
        }
    setting = {"model": result.model, "dataset": result.dataset, "optimizer": result.spec.text,
               "schedule": result.schedule, "lrs": lrs, "momenta": momenta, "epochs": epochs, **options}
    images["font"] = font_url(heading.get_fontproperties(), "".join(heading_texts))
    parts = {
        "TITLE": html.escape(title or f"{result.spec.text}: {result.model} lr x momentum sweep"),
        "VERSION": html.escape(version()), "COMMAND": html.escape(made_by or command(result, **options)),
        "SETTING": _json(setting), "SETTING_ID": SETTING_ID,
        "MOMENTUM_OFF": "" if momenta is not None else " disabled",
        "IMAGES": _json(images), "NUMBERS": data.block(tables), "SCRIPT": script("network.js"),
    }
    return filled("network.html", parts)


def write_network_page(path: str | os.PathLike, result: NetworkSweep, **options) -> int:
    """Write the page of ``result`` (``network_page_html``: ``options`` go there) to ``path``
    (``write_html``: atomically). Returns its size in bytes."""
    return len(write_html(path, lambda: network_page_html(result, **options)))
