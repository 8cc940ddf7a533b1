"""The explorer's Landscape view as one self-contained HTML file: ``write_page`` (``python -m
landscape page``, the explorer's *Export page*).

Everything the page shows comes from one ``Sweep``: every optimizer at every (lr, momentum) of
the sliders, computed ahead. Python draws and measures; the browser looks up and draws:

- matplotlib renders the static parts (``pictures``): the lecture figure without its moving
  parts, once per loss axis the cells need (``draw.loss_limits``), the minima (drawn again over
  the paths), the counter's box, each optimizer's arrows key, and each phase diagram and its ring;
- Python computes, for every cell of the sliders, what a frame draws (``numbers``: one compressed
  block): each run's points and losses (quantised, with affine maps to page pixels), where a run
  that blew up ends, each optimizer's step arrows as the explorer draws them at every point
  (``draw.step_geometry``) with their key's title, the legend's labels, place and layout for the
  cell's runs with and without each optimizer's arrows key (``TrajectoryAnimation.place_legend``),
  each run's colour, and each phase cell's readout;
- ``page.js`` (beside this file) unpacks the block and draws a frame on a <canvas> over the
  picture: paths and their dots, the arrows, the legend (its texts in matplotlib's font, which the
  page carries, cut to the characters it writes) and the counter. It computes no number of a run.

The page embeds its setting (``setting.PAGE_SETTING``: the explorer's Load opens it), the landscape
version and the command that makes it again. It makes no request: its pictures, font, numbers and
script are in the file, and its Content-Security-Policy forbids the browser any other."""

from __future__ import annotations

import html
import json
import os
import re
import shlex
from collections.abc import Callable
from concurrent.futures import Future
from importlib import metadata, resources
from pathlib import Path

import numpy as np

from .. import draw
from ..anatomy import anatomy
from ..animate import TrajectoryAnimation
from ..files import atomic_path, check_writable
from ..setting import KEY, LEARNING_RATES, MOMENTA, PAGE_SETTING, Setting, Sweep, arrows_key, readout
from ..trajectory import Trajectories, escape_bounds
from . import numbers
from .numbers import LEVELS, Numbers, quantise
from .pictures import SCALE, Page, css, font_url, picture

ARROW_UNITS = 4  # an arrow's page coordinates are stored in quarter pixels (int16: ±8192 pixels)
NOT_DRAWN = 255  # an arrow's label where the arrow is not drawn (not finite, or of no length)
FONT = "LandscapeSans"  # the figure's font (matplotlib's), as the page names the copy it carries
LOWER = "lower the steps or the number of optimizers"
CELLS = [(i, j) for i in range(len(LEARNING_RATES)) for j in range(len(MOMENTA))]  # the sliders', row-major


def version() -> str:
    try:
        return metadata.version("landscape")
    except metadata.PackageNotFoundError:  # a checkout on PYTHONPATH, not installed
        return "(not installed)"


def shapes(rows: list[int], arrows: list[int], steps: int, phases: int) -> numbers.Shapes:
    """The page's arrays for optimizers with ``rows`` runs and ``arrows`` arrows per step each,
    ``steps`` steps, on the sliders' cells, ``phases`` of the optimizers with a phase diagram."""
    cells, runs, points = len(CELLS), len(rows), steps + 1
    arrays: numbers.Shapes = {"variant": ((cells,), np.uint8, False), "colour": ((cells, runs), np.uint8, False),
                              "row": ((cells, runs), np.uint16, False),
                              "legend": ((cells, runs + 1, 3), np.float32, False),  # without arrows, with each's:
                              "labels": ((cells, runs + 1, runs), np.uint16, False)}  # layout, x, y; its texts
    for k, (count, kinds) in enumerate(zip(rows, arrows)):
        arrays |= {f"points{k}": ((count, 2, points), np.uint16, True), f"loss{k}": ((count, points), np.uint16, True),
                   f"blowup{k}": ((count,), np.int16, False),
                   f"arrows{k}": ((kinds, 4, count, steps), np.int16, True),
                   f"own{k}": ((kinds, count, steps), np.uint8, False),
                   f"title{k}": ((count, points), np.uint8, False)}
    for k in range(phases):
        arrays[f"readout{k}"] = ((cells,), np.uint16, False)
    return arrays


def _sizes(sweep: Sweep, arrows: list[int] | None = None) -> tuple[numbers.Shapes, str, str]:
    """The arrays of a page of ``sweep`` whose rules draw ``arrows`` arrows a step (default: as
    their anatomy says; a sweep of a few steps tells its rows and arrows as well as the whole),
    what they hold and what to lower: ``Numbers``' arguments."""
    every_runs = list(sweep.runs.values())
    count, steps = len(every_runs), sweep.setting.steps
    arrows = [len(anatomy(runs).kinds) for runs in every_runs] if arrows is None else arrows
    sizes = shapes([runs.rows for runs in every_runs], arrows, steps, len(sweep.with_momentum))
    return sizes, f"{count} optimizer{'s' * (count != 1)} x {steps} steps", LOWER


def check_page(setting: Setting) -> int:
    """The bytes of the numbers a page of ``setting`` holds before compression; ``ValueError``,
    before its sweep is computed, when that is more than ``numbers.MAX_NUMBER_BYTES``."""
    return numbers.check_size(*_sizes(Sweep(setting, steps=1)))


def command(setting: Setting, vectors: str | None = None, text_size: str = "normal", out: str = "page.html") -> str:
    """The command line that makes this page again."""
    words = ["python", "-m", "landscape", "page", "--surface", setting.surface, "--optimizers", setting.optimizers,
             "--lr", f"{setting.lr:g}", "--momentum", f"{setting.momentum:g}", "--steps", str(setting.steps),
             f"--start={setting.start[0]:g},{setting.start[1]:g}"]
    if setting.beta2 != Setting.beta2:
        words += ["--beta2", f"{setting.beta2:g}"]
    if setting.noise:
        words += ["--noise", f"{setting.noise:g}"]
    if setting.schedule != "none":
        words += ["--schedule", setting.schedule]
    if setting.seed:
        words += ["--seed", str(setting.seed)]
    if vectors is not None:
        words += ["--vectors", vectors]
    if text_size != "normal":
        words += ["--text-size", text_size]
    return shlex.join(words + ["--out", out])


class _Kept:
    """Things the page shows, each kept once: ``index(thing)`` is its place in ``items``."""

    def __init__(self):
        self.items: list = []
        self._index: dict = {}

    def index(self, thing) -> int:
        if thing not in self._index:
            self._index[thing] = len(self.items)
            self.items.append(thing)
        return self._index[thing]


class _Builder:
    """The page of one sweep: its arrays (``data``), tables (the block's JSON), pictures and the
    texts it writes in the figure's font."""

    def __init__(self, sweep: Sweep, text_size: str):
        self.sweep, self.text_size = sweep, text_size
        self.every_runs: list[Trajectories] = list(sweep.runs.values())
        self.specs = list(sweep.runs)
        self.anatomies = [anatomy(runs) for runs in self.every_runs]  # every step's arrows, every row
        self.data = Numbers(*_sizes(sweep, [len(steps.kinds) for steps in self.anatomies]))
        self.images: dict[str, dict] = {}
        self.strings, self.colours = _Kept(), _Kept()
        self.layouts: dict[tuple, int] = {}  # a legend's extents (draw.legend_extents) -> its layout's place in layout_list
        self.layout_list: list[dict] = []
        self.figures: list[TrajectoryAnimation] = []
        self.written: set[str] = set()  # every character the page writes in the figure's font

    def image(self, name: str, image: dict | Future | None) -> str | None:
        if image is not None:
            self.images[name] = image if isinstance(image, dict) else {"src": image}
            return name
        return None

    def cells(self) -> None:
        """Each cell's runs: their loss axis (a picture each, ``figures``), colours and rows."""
        limits, shown = {}, []  # each axis's figure shows a cell of the highest momentum that needs
        for cell, (i, j) in enumerate(CELLS):  # it (Nesterov's arrows cannot be built at β = 0 alone)
            runs = self.sweep.runs_at_index(i, j)
            variant = limits.setdefault(draw.loss_limits(self.sweep.surface, runs), len(limits))
            if variant == len(shown):
                shown.append(cell)
            elif j > CELLS[shown[variant]][1]:
                shown[variant] = cell
            self.data["variant"][cell] = variant
            self.data["colour"][cell] = [self.colours.index(colour) for colour in draw.run_colours(runs)]
            self.data["row"][cell] = [every.grid.row(i, j) for every in self.every_runs]
        size = (draw.SCREEN_SIZE[0] * SCALE, draw.SCREEN_SIZE[1] * SCALE)
        self.figures = [TrajectoryAnimation(self.sweep.surface, self.sweep.runs_at_index(*CELLS[cell]), size=size,
                                            dpi=draw.SCREEN_DPI * SCALE, title=self.sweep.title,
                                            text_size=self.text_size) for cell in shown]

    def legends(self) -> dict:
        """Each cell's legend: placed without arrows and beside each optimizer's arrows key (a
        legend placed off the counter keeps its place beside a key it does not overlap:
        ``place_legend`` judges a key it overlaps first, so only those are placed again). Returns
        the legends' style."""
        for variant, animation in enumerate(self.figures):
            page = Page(animation.figure)
            mine = [cell for cell in range(len(CELLS)) if self.data["variant"][cell] == variant]
            boxes = {}

            def place(cell: int, choice: slice | int) -> None:
                """The legend of ``cell`` placed, into the arrays of ``choice``: its layout's
                number, its box's top left, its texts."""
                panel, where = animation.place_legend(self.sweep.runs_at_index(*CELLS[cell]))
                texts = animation.legend.get_texts()
                labels = tuple(self.strings.index(text.get_text()) for text in texts)
                self.written.update("".join(text.get_text() for text in texts))
                sizes = draw.legend_extents(animation.legend, page.renderer)
                if sizes not in self.layouts:
                    self.layouts[sizes] = len(self.layout_list)
                    self.layout_list.append(page.legend_layout(animation.legend))
                axes = animation.figure.axes[0 if panel == "contour" else 1]
                boxes[cell] = x0, _, _, y1 = draw.placed_legend_boxes(animation.legend, [(axes, where)])[0]
                self.data["legend"][cell, choice] = [self.layouts[sizes], *page.point([x0, y1])]
                self.data["labels"][cell, choice] = labels

            for cell in mine:
                place(cell, slice(None))
            style = page.legend_style(animation.legend)
            for choice, spec in enumerate(self.specs, 1):
                animation.set_vectors(spec)
                key_box = animation.arrows.key.get_window_extent(page.renderer).extents
                overlapped = draw.overlapping(np.array([boxes[cell] for cell in mine]), [key_box])
                for cell in [cell for cell, overlaps in zip(mine, overlapped) if overlaps]:
                    place(cell, choice)
            animation.set_vectors(None)
        return style

    def pictures(self) -> dict:
        """The pictures under and over the moving parts, and where the counter is written."""
        backgrounds = []
        for variant, animation in enumerate(self.figures):
            animation.counter_box.set_visible(False)  # the page draws it over the paths
            backgrounds.append(self.image(f"background{variant}", picture(animation.figure)))
            animation.counter_box.set_visible(True)
        animation = self.figures[0]
        page = Page(animation.figure)
        sample = f"iteration {self.sweep.setting.steps}"
        self.written.update("iteration 0123456789")
        return {"backgrounds": backgrounds, "minima": self.image("minima", page.sprite(*animation.minima)),
                "counterBox": self.image("counterBox", page.sprite(animation.counter_box)),
                "counter": {"at": page.baselines(animation.counter, sample)[0],
                            "size": page.points(animation.counter.get_fontsize()),
                            "colour": css(animation.counter.get_color())}}

    def paths(self) -> tuple[dict, dict]:
        """Every run's points (quantised over the box a run stays in until it diverges) and losses
        (quantised over their range on the loss axis's scale), where a run that blew up ends, and
        the maps from both to page pixels: the contour panel's and each picture's loss panel."""
        animation = self.figures[0]
        page, contour_axes, loss_axes = Page(animation.figure), *animation.figure.axes[:2]
        (x0, x1), (y0, y1) = escape_bounds(self.sweep.surface)
        contour = {"box": page.box(contour_axes.bbox), "x": page.affine(contour_axes, 0, x0, x1, LEVELS),
                   "y": page.affine(contour_axes, 1, y0, y1, LEVELS)}

        def scaled(runs: Trajectories) -> np.ndarray:  # (R, P+1): the loss panel's values on its scale
            curves = draw.loss_curve(runs).T
            return np.stack([loss_axes.transScale.transform(np.column_stack([np.zeros(len(row)), row]))[:, 1]
                             for row in curves])

        losses = [scaled(runs) for runs in self.every_runs]
        finite = np.concatenate([values[np.isfinite(values)] for values in losses] + [np.zeros(1)])
        low, high = float(finite.min()), float(finite.max()) + 1e-9
        steps = self.sweep.setting.steps
        loss = {"box": page.box(loss_axes.bbox), "x": page.affine(loss_axes, 0, 0.0, float(steps), steps),
                "y": [Page(figure.figure).affine(figure.figure.axes[1], 1, low, high, LEVELS) for figure in self.figures]}
        for k, (runs, values) in enumerate(zip(self.every_runs, losses)):
            points = runs.points.numpy()  # (P+1, R, 2)
            self.data[f"points{k}"][...] = np.stack([quantise(points[..., 0], x0, x1),
                                                     quantise(points[..., 1], y0, y1)]).transpose(2, 0, 1)
            self.data[f"loss{k}"][...] = quantise(values, low, high)
            self.data[f"blowup{k}"][...] = [-1 if (end := draw.blow_up(runs, row)) is None else end
                                            for row in range(runs.rows)]
        return contour, loss

    def arrows(self, contour: dict) -> tuple[list[dict], dict]:
        """Every optimizer's step arrows at every point of every run, as the explorer draws them
        (``draw.step_geometry``): from the point θ_k as the page reads it, each arrow's start and
        end in 1/ARROW_UNITS page pixels (an arrow that starts where the one before it ends,
        from that end), its own "×N" and the step's factor (the key's title); the key as a
        picture. Returns each optimizer's table and the style of each kind of arrow."""
        animation = self.figures[0]
        page, axes = Page(animation.figure), animation.figure.axes[0]
        (x0, x1), (y0, y1) = axes.get_xlim(), axes.get_ylim()
        per_unit = np.array([axes.bbox.width / (x1 - x0), axes.bbox.height / (y1 - y0)])  # pixels per unit
        to_page = np.array([page.affine(axes, axis, 0.0, 1.0, 1) for axis in (0, 1)])  # data unit -> page pixel
        labels, tables, styles = _Kept(), [], {}
        for k, (runs, steps) in enumerate(zip(self.every_runs, self.anatomies)):
            geometry = draw.step_geometry(steps.tails.numpy()[..., None, :], steps.vectors.numpy()[..., None, :],
                                          per_unit, min(axes.bbox.width, axes.bbox.height))  # a row, a step
            factor, own = geometry.factor, geometry.own[..., 0]  # (P, R), (A, P, R)
            starts, ends = (to_page[:, 0] + to_page[:, 1] * values[..., 0, :] for values in (geometry.starts, geometry.ends))
            quantised = self.data[f"points{k}"][..., :-1].transpose(1, 2, 0).astype(float)  # (2, P, R)
            origin = np.stack([contour["x"][0] + contour["x"][1] * quantised[0],
                               contour["y"][0] + contour["y"][1] * quantised[1]], -1)  # (P, R, 2): as the page reads it
            chained = [a > 0 and bool(np.mean(np.isclose(starts[a], ends[a - 1]))
                                      > np.mean(np.isclose(starts[a], origin))) for a in range(len(steps.kinds))]
            stored = np.zeros((len(steps.kinds), *origin.shape[:2], 4), np.int16)
            end = origin
            for a in range(len(steps.kinds)):  # from what the page reads back, so no error adds up
                base = end if chained[a] else origin
                offsets = np.concatenate([starts[a] - base, ends[a] - starts[a]], -1) * ARROW_UNITS
                stored[a] = np.clip(np.round(np.nan_to_num(offsets)), -32768, 32767)
                end = base + (stored[a, ..., :2] + stored[a, ..., 2:]) / ARROW_UNITS
            self.data[f"arrows{k}"][...] = stored.transpose(0, 3, 2, 1)
            index = np.zeros(own.shape, np.uint8)
            index[np.isnan(own)] = NOT_DRAWN
            lengthened = np.isfinite(own) & (own != factor[None])  # drawn longer than the step's factor
            for value in np.unique(own[lengthened]):
                index[lengthened & (own == value)] = labels.index(f"×{value:g}") + 1
            self.data[f"own{k}"][...] = index.transpose(0, 2, 1)
            animation.set_vectors(runs.spec.text)
            arrows = animation.arrows
            every = np.where(np.isnan(factor), -1.0, factor)
            factors = [None, *(float(value) for value in np.unique(every[every > 0]))]
            titles = [arrows.title_text(value) for value in factors]
            table = np.zeros((runs.rows, runs.last_point + 1), np.uint8)  # 0: no step (the last point takes none)
            for position, value in enumerate(factors[1:], 1):
                table[:, :-1][(every == value).T] = position
            self.data[f"title{k}"][...] = table
            arrows.draw_title(None)  # where the title goes
            self.written.update("".join(titles))
            for a, _, patch, _ in arrows.arrows:
                kind = steps.kinds[a]
                head = page.arrow_head(patch)
                pattern = draw.ARROW_STYLES[kind]["linestyle"]  # matplotlib scales a dash pattern by the width
                styles[kind] = {"colour": draw.ARROW_STYLES[kind]["color"],
                                "dashes": [] if pattern == "-" else [length * head["width"] for length in pattern[1]],
                                **head}
            tables.append({"kinds": list(steps.kinds), "chained": chained,
                           "order": [a for a, b, _, _ in arrows.arrows if b == 0],  # as StepArrows draws them
                           "key": self.image(f"key{k}", page.sprite(arrows.key)),
                           "title": {"lines": [page.baselines(arrows.title, text) for text in titles],
                                     "texts": titles, "size": page.points(arrows.title.get_fontsize()),
                                     "colour": css(arrows.title.get_color())},
                           "html": arrows_key(steps)})
        label = animation.arrows.arrows[0][3]  # a "×N", white on a black outline, from the arrow's head
        self.written.update("".join(labels.items))
        head = (float(np.mean(axes.get_xlim())), float(np.mean(axes.get_ylim())))
        label.set_position(head)
        at = page.point(axes.transData.transform(head))
        (x, y), = np.array(page.baselines(label, "×10")) - at
        animation.set_vectors(None)
        return tables, {"kinds": styles, "labels": {"texts": labels.items, "at": [float(x), float(y)],
                                                    "size": page.points(label.get_fontsize()), "colour": css(label.get_color()),
                                                    "outline": page.points(1.0 + draw.OUTLINE)}}

    def phases(self) -> tuple[list[dict], list[str]]:
        """Each phase diagram (of the optimizers with a momentum) as a picture, its ring as
        another, where the ring goes for each slider position, which slider values a click picks
        (the edges between their cells, in page pixels), and each cell's readout
        (``setting.readout``). Returns them and the readouts' texts."""
        readouts, tables = _Kept(), []
        for number, spec in enumerate(self.sweep.with_momentum):
            runs = self.sweep.runs[spec]
            lrs = np.full(len(LEARNING_RATES), float(runs.grid.lrs[0])) if runs.spec.lr is not None else LEARNING_RATES
            axes = draw.phase_diagram(runs, current=(float(lrs[0]), float(MOMENTA[0])))
            figure = axes.figure
            figure.set_dpi(figure.get_dpi() * SCALE)
            page = Page(figure)
            ring = next(line for line in axes.lines if line.get_label() == "current")
            ring.set_visible(False)
            background = picture(figure)
            ring.set_visible(True)
            centre = page.point(axes.transData.transform(ring.get_xydata()[0]))
            sprite = page.sprite(ring)
            sprite["x"], sprite["y"] = sprite["x"] - float(centre[0]), sprite["y"] - float(centre[1])

            def along(values, axis: int) -> list[float]:
                """Page pixels of ``values`` on the x (lr) or y (momentum) axis."""
                other = np.full(len(values), float(MOMENTA[0]) if axis == 0 else float(lrs[0]))
                display = axes.transData.transform(np.column_stack([values, other] if axis == 0 else [other, values]))
                return [round(float(v), 3) for v in page.point(display)[:, axis]]

            for cell, (i, j) in enumerate(CELLS):
                self.data[f"readout{number}"][cell] = readouts.index(readout(runs, float(lrs[i]), float(MOMENTA[j])))
            tables.append({"run": self.specs.index(spec), "image": self.image(f"phase{number}", background),
                           "ring": self.image(f"ring{number}", sprite), "box": page.box(axes.bbox),
                           "width": figure.bbox.width / SCALE, "height": figure.bbox.height / SCALE,
                           "x": along(lrs, 0), "y": along(MOMENTA, 1),
                           "xEdges": along(np.sqrt(LEARNING_RATES[1:] * LEARNING_RATES[:-1]), 0),  # log midpoints
                           "yEdges": along((MOMENTA[1:] + MOMENTA[:-1]) / 2, 1)})
        return tables, readouts.items

    def font(self) -> str:
        """The font matplotlib writes the figure's texts in, cut to the characters the page writes."""
        return font_url(self.figures[0].counter.get_fontproperties(), "".join(self.written))


def page_html(sweep: Sweep, *, vectors: str | None = None, text_size: str = "normal", title: str | None = None,
              made_by: str | None = None) -> str:
    """The page of ``sweep``, opened at its setting's lr and momentum: the explorer's Landscape
    view with every optimizer's step arrows to choose from (``vectors``: the one shown first, a
    spec's text; default none), and each phase diagram. ``title``: the page's (default: the
    surface and the optimizers); ``made_by``: the command that makes it again (default:
    ``command``). ``ValueError`` when the page would hold too many numbers (``check_page``)."""
    specs = list(sweep.runs)
    if vectors is not None and vectors not in specs:
        raise ValueError(f"Invalid vectors: {vectors!r} is none of the optimizers {', '.join(specs)}")
    draw.text_scale(text_size)
    build = _Builder(sweep, text_size)
    build.cells()
    legend_style = build.legends()
    pictures = build.pictures()
    contour, loss = build.paths()
    arrows, arrow_styles = build.arrows(contour)
    phases, readouts = build.phases()
    animation, steps = build.figures[0], sweep.setting.steps
    page = Page(animation.figure)
    i, j = sweep.index(sweep.setting.lr, sweep.setting.momentum)
    tables = {
        "format": 1, "width": draw.SCREEN_SIZE[0], "height": draw.SCREEN_SIZE[1], "steps": steps,
        "codes": {"none": numbers.NONE, "notDrawn": NOT_DRAWN, "arrowUnits": ARROW_UNITS},
        "lrs": [float(v) for v in LEARNING_RATES], "momenta": [float(v) for v in MOMENTA],
        "runs": [{"text": spec, "rows": runs.rows, "momentum": runs.grid.shape[1] > 1}
                 for spec, runs in sweep.runs.items()],
        "start": {"lr": i, "momentum": j, "iteration": steps - (vectors is not None),
                  "arrows": 0 if vectors is None else specs.index(vectors) + 1},
        "contour": contour, "loss": loss, **pictures, "font": FONT,
        "styles": {"path": page.line_style(animation.paths[0][0]), "start": page.line_style(animation.starts[0][0]),
                   "loss": page.line_style(animation.losses[0][0]),
                   "blowUp": {**page.line_style(animation.blow_ups[0][0]),
                              "outline": page.marker_outline(animation.blow_ups[0][0])},
                   "legend": legend_style, "arrows": arrow_styles},
        "colours": build.colours.items, "strings": build.strings.items, "legends": build.layout_list,
        "arrows": arrows, "phases": phases, "readouts": readouts,
    }
    setting = sweep.setting
    parts = {
        "TITLE": html.escape(title or f"{setting.surface}: {setting.optimizers}"), "VERSION": html.escape(version()),
        "COMMAND": html.escape(made_by or command(setting, vectors, text_size)),
        "SETTING": _json(setting.to_dict()), "SETTING_ID": PAGE_SETTING, "KEY": KEY,
        "IMAGES": _json({**build.images, "font": build.font()}), "NUMBERS": build.data.block(tables),
        "LR_OFF": "" if len(sweep.own_learning_rates) < len(specs) else " disabled",
        "MOMENTUM_OFF": "" if sweep.with_momentum else " disabled",
        "SCRIPT": script("page.js"),
    }
    return filled("page.html", parts)


def _text(name: str) -> str:
    """A file of the package beside this one."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def filled(template: str, parts: dict[str, str]) -> str:
    """The page template ``template`` (a file beside this one), its ``{{HEAD}}`` and ``{{FOOT}}``
    what every page shares (head.html: the Content-Security-Policy, the setting, the common style;
    foot.html: the pictures, the numbers and the script), every ``{{NAME}}`` then replaced by
    ``parts[NAME]``."""
    text = _text(template).replace("{{HEAD}}", _text("head.html"), 1)
    text = text.replace("{{FOOT}}", _text("foot.html").rstrip("\n"), 1)
    return re.sub(r"\{\{(\w+)\}\}", lambda found: parts[found.group(1)], text)


def script(name: str) -> str:
    """A page's script for a <script> element: unpack.js (what every page's script starts with),
    then ``name``."""
    return (_text("unpack.js") + _text(name)).replace("</", "<\\/")


def _json(value) -> str:
    """JSON for a <script> element, futures in ``value`` written as their results (the pictures:
    ``pictures.png_url``): no "</" or "<!--" in it can end it early."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_result).replace(
        "</", "<\\/").replace("<!--", "<\\!--")


def _result(value: Future):
    """The result a future of the page holds, for ``json.dumps``."""
    if not isinstance(value, Future):
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
    return value.result()


def check_path(path: str | os.PathLike) -> Path:
    """``path``, if a page can be written there (a name ending in .html, in a writable folder)."""
    if Path(path).suffix.lower() != ".html":
        raise ValueError(f"Invalid path: {str(path)!r} (a page is written to a name ending in .html)")
    return check_writable(path)


def write_html(path: str | os.PathLike, html: Callable[[], str]) -> bytes:
    """Write the page ``html()`` makes to ``path``, once ``check_path`` allows it, atomically: a
    failed export leaves no file, and an earlier one as it was. Returns the bytes written."""
    check_path(path)
    data = html().encode("utf-8")
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)
    return data


def write_page(path: str | os.PathLike, sweep: Sweep, **options) -> int:
    """Write the page of ``sweep`` (``page_html``: ``options`` go there) to ``path`` (``write_html``).
    Returns its size in bytes."""
    return len(write_html(path, lambda: page_html(sweep, **options)))
