"""The explorer's two pictures: the landscape (lecture figure with growing paths, and the arrows of
one optimizer's step when asked) and the lr x momentum phase diagram. Each is an image widget
redrawn by its own latest-only worker thread, the only thread that touches its figure; a click on
either is mapped to data."""

from __future__ import annotations

from collections import OrderedDict

import ipyevents
import ipywidgets as widgets

from .. import draw
from ..animate import TrajectoryAnimation
from .common import LatestOnly, StatusLine, jpeg, named
from ..setting import KEY, Sweep, arrows_key, readout

KEPT_FRAMES = 400  # drawn frames kept for revisits (~80 kB each)

CLICK_NOTE = "click a cell to set the learning rate and momentum sliders"


def _key(arrows: str = "") -> str:
    return (f'<div style="font-size:11px;line-height:1.25;color:#444">{KEY}'
            + (f'<div class="lsc-arrows-key" style="margin-top:3px">{arrows}</div>' if arrows else "") + "</div>")


def _clickable(image: widgets.Image, on_click) -> ipyevents.Event:
    """Clicks on ``image`` call ``on_click(x, y)`` with the pixel in the image's own pixels
    (ipyevents scales the page's pixels to the image's natural size)."""
    events = ipyevents.Event(source=image, watched_events=["click"])
    events.on_dom_event(lambda event: on_click(event["dataX"], event["dataY"]))
    return events


class LandscapeView:
    """The lecture figure of the runs at the sliders' (lr, momentum), up to an iteration, with
    the arrows of one optimizer's step from there (``vectors``, a spec's text) or none.

    ``show(sweep, lr, momentum, iteration, vectors)`` asks for a frame and returns at once; the
    worker draws only the newest request (``common.LatestOnly``). Runs of the same sweep are
    swapped into the figure (a blit); a new sweep with other optimizers or steps draws a new
    figure. While idle, the worker draws the frames of the neighbouring slider positions, nearest
    first, so that a drag along either slider mostly shows frames already drawn. The key under
    the figure says what the arrows shown are."""

    def __init__(self, status: StatusLine, on_click):
        self.image = named(widgets.Image(format="jpeg", layout={"width": "100%", "height": "auto", "margin": "2px 0",
                                                                  "max_width": f"{draw.SCREEN_SIZE[0]}px"}),
                           "figure")  # no side margins: at 100% width they would overflow the column
        self.key = named(widgets.HTML(_key()), "key")
        self._on_click = on_click
        self._clicks = _clickable(self.image, self._clicked)
        self.animation: TrajectoryAnimation | None = None
        self.text_size = "normal"  # the figure's (draw.TEXT_SIZES); the explorer sets it, then asks for a frame
        self._runs = None  # the runs the animation holds
        self._title = None  # and its title
        self.shown = None  # the request whose frame the image shows
        self.prefetch = True  # draw the neighbouring slider positions' frames while idle
        # (sweep, i, j, iteration, vectors, text size) -> (JPEG, the key under it)
        self._frames: OrderedDict[tuple, tuple[bytes, str]] = OrderedDict()
        self._worker = LatestOnly(self._render, self._publish, status.error, idle=self._prefetch)

    def show(self, sweep: Sweep, lr: float, momentum: float, iteration: int, vectors: str | None = None) -> None:
        self._worker.submit((sweep, lr, momentum, iteration, vectors))

    def wait(self, timeout: float = 60.0) -> None:
        self._worker.wait(timeout)

    @property
    def dropped(self) -> int:
        return self._worker.dropped

    def _render(self, request) -> tuple:
        sweep, lr, momentum, iteration, vectors = request
        return (request, *self._frame(sweep, *sweep.index(lr, momentum), iteration, vectors))

    def _frame(self, sweep: Sweep, i: int, j: int, iteration: int, vectors: str | None = None) -> tuple[bytes, str]:
        """The JPEG of the runs at grid point (i, j) up to ``iteration``, with the arrows of the
        step from there of the run ``vectors``, and the key under it (drawn once, kept)."""
        if self._frames and next(iter(self._frames))[0] is not sweep:
            self._frames.clear()  # frames of an earlier sweep are not asked for again
        text_size = self.text_size
        key = (sweep, i, j, iteration, vectors, text_size)
        if key in self._frames:
            self._frames.move_to_end(key)
            return self._frames[key]
        runs = sweep.runs_at_index(i, j)
        if (self.animation is None or not self.animation.can_show(runs) or self._title != sweep.title
                or self.animation.text_size != text_size):
            self.animation = TrajectoryAnimation(sweep.surface, runs, size=draw.SCREEN_SIZE, dpi=draw.SCREEN_DPI,
                                                 title=sweep.title, text_size=text_size)
            self._title = sweep.title
        elif runs is not self._runs:
            self.animation.set_runs(runs)
        self._runs = runs
        if self.animation.vectors != vectors:
            self.animation.set_vectors(vectors)
        arrows = "" if vectors is None else arrows_key(self.animation.arrows.anatomy)
        self._frames[key] = jpeg(self.animation.frame_image(min(iteration, self.animation.last_point))), _key(arrows)
        while len(self._frames) > KEPT_FRAMES:
            self._frames.popitem(last=False)
        return self._frames[key]

    def _prefetch(self):
        """Background work for the worker: the nearest slider position along lr or momentum
        whose frame is not drawn yet (None when all are)."""
        if self.shown is None or not self.prefetch:
            return None
        sweep, lr, momentum, iteration, vectors = self.shown
        i, j = sweep.index(lr, momentum)
        rows, columns = sweep.grid.shape
        for distance in range(1, max(rows, columns)):
            for a, b in ((i + distance, j), (i - distance, j), (i, j + distance), (i, j - distance)):
                if (0 <= a < rows and 0 <= b < columns
                        and (sweep, a, b, iteration, vectors, self.text_size) not in self._frames):
                    return lambda: self._frame(sweep, a, b, iteration, vectors)
        return None

    def _publish(self, result) -> None:
        self.shown, self.image.value, key = result
        if self.key.value != key:
            self.key.value = key

    def _clicked(self, x: float, y: float) -> None:
        animation = self.animation
        point = animation.data_point(x, y) if animation is not None else None
        if point is not None:
            self._on_click(*point)


class PhaseView:
    """Where and how fast each run of one optimizer over the lr x momentum grid arrived
    (``draw.phase_diagram``), the sliders' cell ringed and its outcome in words under the
    picture (``readout``); a click on a cell sets the sliders, so the ring and the readout move
    there. Drawn only while its tab is shown (``visible``)."""

    def __init__(self, status: StatusLine, on_select):
        self.optimizer = named(widgets.Dropdown(description="optimizer", layout={"width": "320px"}),
                               "phase-optimizer")
        self.image = named(widgets.Image(format="png", layout={"width": "100%", "height": "auto",
                                                                 "max_width": "720px"}),
                           "phase-figure")
        self.readout = named(widgets.HTML(), "phase-readout")
        self.note = widgets.HTML(CLICK_NOTE)
        self.visible = False
        self._on_select = on_select
        self._clicks = _clickable(self.image, self._clicked)
        self._drawn = None  # (runs, axes) of the figure drawn
        self._worker = LatestOnly(self._render, self._publish, status.error)

    def offer(self, sweep: Sweep) -> None:
        """The sweep's optimizers that have a momentum to sweep, in the dropdown (callers mute)."""
        options = sweep.with_momentum
        self.optimizer.options = options
        self.optimizer.value = (self.optimizer.value if self.optimizer.value in options
                                else options[0] if options else None)
        without = [spec for spec in sweep.runs if spec not in options]
        self.note.value = ((CLICK_NOTE if options else "no optimizer in the list has a momentum to sweep")
                           + (f" ({', '.join(without)}: no momentum to sweep)" if options and without else ""))

    def show(self, sweep: Sweep, lr: float, momentum: float) -> None:
        if self.visible and self.optimizer.value in sweep.runs:
            self._worker.submit((sweep.runs[self.optimizer.value], lr, momentum))

    def wait(self, timeout: float = 60.0) -> None:
        self._worker.wait(timeout)

    def _render(self, request) -> tuple[bytes, str]:
        runs, lr, momentum = request
        current = (float(runs.grid.lrs[0]) if runs.spec.lr is not None else lr, momentum)
        if self._drawn is None or self._drawn[0] is not runs:
            self._drawn = runs, draw.phase_diagram(runs, current=current)
        else:
            marker = next(line for line in self._drawn[1].lines if line.get_label() == "current")
            marker.set_data([current[0]], [current[1]])
        return self._drawn[1].figure.png(), readout(runs, *current)

    def _publish(self, result: tuple[bytes, str]) -> None:
        png, self.readout.value = result  # the words first: a page that shows the picture has them
        self.image.value = png

    def _clicked(self, x: float, y: float) -> None:
        """The clicked cell's lr and momentum to ``on_select`` (anywhere in the cell: the lower
        half of the β = 0 row is a momentum below 0 on the axis); a spec with its own lr keeps
        the lr slider where the click was."""
        if self._drawn is None:
            return
        runs, axes = self._drawn
        display = (x, axes.figure.canvas.get_width_height()[1] - y)  # from the bottom left
        if axes.bbox.contains(*display):
            lr, momentum = axes.transData.inverted().transform(display)
            cell = runs.grid.setting(*runs.grid.nearest(lr, momentum))
            self._on_select(lr if runs.spec.lr is not None else cell["lr"], cell["momentum"])

    def widget(self) -> widgets.VBox:
        return widgets.VBox([self.optimizer, self.image, self.readout, self.note])
