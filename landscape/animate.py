"""Animations of trajectories, and GIF export for lecture slides.

Frames are drawn with blitting: the contours, minima, axes and legend are rendered once as a
background; each frame restores it, draws only the growing paths, the minima over them, the
start markers, the loss curves (a ✖ where a run blew up), and puts the legend's and the counter
box's saved pixels back on top. Other runs on the same surface (another learning rate, another
start) are shown without redrawing the figure (``set_runs`` redraws only the legend, placed for
the runs shown). The notebook shows the same frames (``TrajectoryAnimation.frame_image``).
With ``vectors`` (a run's spec) each frame also draws the arrows of that run's step from the
frame's point (``anatomy``, ``draw.StepArrows``) and their key in the loss panel.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import GifImagePlugin, Image, ImageChops

from . import draw
from .anatomy import anatomy
from .files import atomic_path, check_writable
from .optim import parse, parse_list
from .surfaces import Surface
from .trajectory import Trajectories, compare


def _positive_int(name: str, value) -> int:
    if not (isinstance(value, int) and value >= 1):
        raise ValueError(f"Invalid {name}: {value!r} (expected an integer >= 1)")
    return value


def _check_loop(loop) -> int:
    if not (isinstance(loop, int) and 0 <= loop <= 65535):
        raise ValueError(f"Invalid loop: {loop!r} (expected 0 for forever, or a count up to 65535)")
    return loop


def _check_size(size) -> tuple[int, int]:
    width, height = size
    if not (isinstance(width, int) and isinstance(height, int) and 64 <= width <= 7680
            and 64 <= height <= 4320):
        raise ValueError(f"Invalid size: {size!r} (expected (width, height) in pixels, "
                         f"64..7680 x 64..4320)")
    return size


class TrajectoryAnimation:
    """Paths growing step by step on the lecture figure (``draw.lecture_figure``: ``text_size``
    "projector" for larger text), with a live iteration counter."""

    def __init__(self, surface: Surface, trajectories: Sequence[Trajectories], *,
                 size: tuple[int, int] = (960, 540), stride: int = 1,
                 loss: bool = True, title: str | None = None, dpi: float | None = None,
                 text_size: str = "normal", vectors: str | None = None):
        if not trajectories:
            raise ValueError("nothing to animate: no trajectories")
        _check_size(size)
        self.stride = _positive_int("stride", stride)
        self.surface, self.trajectories = surface, list(trajectories)
        self.last_point = max(t.last_point for t in self.trajectories)
        drawn = draw.lecture_figure(surface, self.trajectories, loss=loss, size=size, title=title,
                                    animated=True, dpi=dpi, text_size=text_size)
        self.text_size = text_size
        self.figure = drawn.figure
        self.paths, self.starts, self.losses = drawn.path_lines, drawn.start_markers, drawn.loss_lines
        self.blow_ups, self.minima = drawn.blow_ups, drawn.minima_markers
        self.colours = draw.run_colours(self.trajectories)
        self.loss_limits = draw.loss_limits(surface, self.trajectories) if loss else None  # the panel's
        self.canvas = self.figure.canvas  # Agg, outside pyplot (draw.PlainFigure)
        contour_axes = self.figure.axes[0]
        self._key_axes = self.figure.axes[1] if loss else contour_axes
        self.vectors: str | None = None  # whose step's arrows are drawn (a spec's text)
        self.arrows: draw.StepArrows | None = None
        # a static dark box in the background, plain animated text on it (cheap to redraw)
        self.counter_box = contour_axes.text(
            0.98, 0.02, f"iteration {self._iteration(self.last_point)}", transform=contour_axes.transAxes, ha="right",
            va="bottom", fontsize=draw.font_size("counter", text_size), color=(0, 0, 0, 0),
            bbox=dict(boxstyle="round", facecolor="black", alpha=0.6))
        self.counter = contour_axes.text(0.98, 0.02, "", transform=contour_axes.transAxes, ha="right", va="bottom",
                                         fontsize=draw.font_size("counter", text_size), color="white", animated=True)
        self.legend = contour_axes.get_legend()
        self.legend.set_animated(True)  # its '[iterations]' change when the runs are swapped
        self.canvas.draw()
        self._without_legend = self.canvas.copy_from_bbox(self.figure.bbox)
        self._under_legend = self._without_legend  # and the arrows' key, when there is one
        self._legend_place = self.place_legend()
        self._draw_background()
        if vectors is not None:
            self.set_vectors(vectors)

    def place_legend(self, trajectories: Sequence[Trajectories] | None = None) -> tuple[str, str]:
        """Write the legend of ``trajectories`` (default: the runs shown; runs ``set_runs`` could
        show) and place it (``draw.place_legend``) off the counter's box and the arrows' key: the
        same runs get the same place whatever was shown before; it stays while the paths grow.
        Returns the place; what is drawn changes only with ``set_runs``."""
        trajectories = self.trajectories if trajectories is None else list(trajectories)
        for text, runs in zip(self.legend.get_texts(), trajectories):
            text.set_text(runs.label())
        renderer = self.canvas.get_renderer()
        clear = [self.counter_box.get_window_extent(renderer)]
        if self.arrows is not None:  # nor the arrows' key
            clear.append(self.arrows.key.get_window_extent(renderer))
        return draw.place_legend(self.legend, trajectories, self.minima,
                                 None if self.loss_limits is None else self.figure.axes[1], keep_clear=clear)

    def _draw_background(self) -> None:
        """The frames' background: the figure (with the arrows' key, see ``set_vectors``) plus the
        legend for the current runs (placed by ``place_legend``); and the pixels of the legend,
        the key and the counter box, which each frame puts back over the paths (re-rendering the
        legend's text cost 30 ms a frame)."""
        self.canvas.restore_region(self._under_legend)
        keys = [self.legend] + ([self.arrows.key] if self.arrows is not None else [])
        self.figure.draw_artist(self.legend)
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._on_top = [self.canvas.copy_from_bbox(artist.get_window_extent())
                        for artist in (*keys, self.counter_box.get_bbox_patch())]

    def can_show(self, trajectories: Sequence[Trajectories]) -> bool:
        """Whether ``set_runs`` can show these runs: as many, on this surface, with the same
        rows and points as the ones drawn, on the same loss axis (``draw.loss_limits``: a run
        that blows up needs the taller one)."""
        return len(trajectories) == len(self.trajectories) and all(
            new.surface is self.surface and (new.rows, new.last_point) == (old.rows, old.last_point)
            for new, old in zip(trajectories, self.trajectories)) and (
            self.loss_limits is None or draw.loss_limits(self.surface, trajectories) == self.loss_limits)

    def set_runs(self, trajectories: Sequence[Trajectories]) -> None:
        """Show other runs of the same optimizers on the same surface (another lr, momentum or
        start; as many rows and points) without redrawing the rest."""
        if not self.can_show(trajectories):
            raise ValueError(f"these runs need a new animation: expected {len(self.trajectories)} "
                             f"runs on {self.surface.name} with these (rows, last point): "
                             f"{[(t.rows, t.last_point) for t in self.trajectories]}, and losses "
                             f"in {self.loss_limits}")
        self.trajectories = list(trajectories)
        rows = [(t, r) for t in self.trajectories for r in range(t.rows)]
        self.paths, self.starts, self.losses, self.blow_ups = (
            [(artist, t, r) for (artist, _, _), (t, r) in zip(artists, rows)]
            for artists in (self.paths, self.starts, self.losses, self.blow_ups))
        if self.arrows is not None:
            self.arrows.anatomy = anatomy(self._run_named(self.vectors))
        labels, colours = [runs.label() for runs in self.trajectories], draw.run_colours(self.trajectories)
        shown = labels == [text.get_text() for text in self.legend.get_texts()] and colours == self.colours
        place, self._legend_place = self._legend_place, self.place_legend()
        if shown and place == self._legend_place:
            return  # the background shows them already
        if colours != self.colours:  # shades follow the learning rates
            self.colours = colours
            colour_of = {id(runs): colour for runs, colour in zip(self.trajectories, colours)}
            for artist, runs, _ in (*self.paths, *self.starts, *self.losses, *self.blow_ups):
                artist.set_color(colour_of[id(runs)])
            for handle, colour in zip(self.legend.legend_handles, colours):
                handle.set_color(colour)
        self._draw_background()

    def _run_named(self, vectors: str) -> Trajectories:
        """The run whose spec's text is ``vectors``."""
        for runs in self.trajectories:
            if runs.spec is not None and runs.spec.text == vectors:
                return runs
        raise ValueError(f"Invalid vectors: {vectors!r} is none of the runs "
                         f"{', '.join(runs.spec.text for runs in self.trajectories if runs.spec is not None)}")

    def set_vectors(self, vectors: str | None) -> None:
        """Draw the arrows of the step from each frame's point of the run whose spec's text is
        ``vectors`` (e.g. 'adam'; its run recorded with ``record_state=True``), their key in the
        loss panel; None: no arrows."""
        chosen = None if vectors is None else anatomy(self._run_named(vectors))
        if self.arrows is not None:
            self.arrows.remove()
        self.vectors = vectors
        self.arrows = None if chosen is None else draw.StepArrows(self.figure.axes[0], chosen, self._key_axes)
        self.canvas.restore_region(self._without_legend)
        if self.arrows is not None:  # drawn once here, not with the legend at every swap of runs
            self.figure.draw_artist(self.arrows.key)
        self._under_legend = self.canvas.copy_from_bbox(self.figure.bbox)
        self._legend_place = self.place_legend()
        self._draw_background()

    def data_point(self, x: float, y: float) -> tuple[float, float] | None:
        """The surface point under pixel (x, y) of a frame (from its top left), or None when the
        pixel is outside the contour plot: what a click on the shown image means."""
        axes = self.figure.axes[0]
        height = self.canvas.get_width_height()[1]
        display = (x, height - y)  # matplotlib's display coordinates start at the bottom left
        if not axes.bbox.contains(*display):
            return None
        px, py = axes.transData.inverted().transform(display)
        return float(px), float(py)

    def _iteration(self, point: int) -> int:
        """The iteration point ``point`` shows (they differ where runs kept every N-th point)."""
        longest = max(self.trajectories, key=lambda t: t.last_point)
        return int(longest.iteration_of_point[point])

    @property
    def frame_points(self) -> list[int]:
        """The point shown by each frame: 0, stride, 2·stride, …, always ending at the last."""
        points = list(range(0, self.last_point + 1, self.stride))
        return points if points[-1] == self.last_point else points + [self.last_point]

    def frame_image(self, point: int) -> Image.Image:
        """The figure with the paths drawn up to point ``point``, as an RGB PIL image."""
        self.canvas.restore_region(self.background)
        for line, trajectory, row in self.paths:
            end = min(point, trajectory.last_point) + 1
            line.set_data(trajectory.points[:end, row, 0].numpy(), trajectory.points[:end, row, 1].numpy())
            self.figure.draw_artist(line)
        for marker in self.minima:  # no path hides a minimum
            self.figure.draw_artist(marker)
        factor = None if self.arrows is None else self.arrows.draw(point)  # under the start markers
        for marker, trajectory, row in self.starts:
            marker.set_data(trajectory.points[:1, row, 0].numpy(), trajectory.points[:1, row, 1].numpy())
            self.figure.draw_artist(marker)
        for line, trajectory, row in self.losses:
            end = min(point, trajectory.last_point) + 1
            line.set_data(trajectory.iteration_of_point[:end].numpy(), draw.loss_curve(trajectory)[:end, row])
            self.figure.draw_artist(line)
        for marker, trajectory, row in self.blow_ups:  # once the run has blown up
            last = draw.blow_up(trajectory, row)
            if last is not None and last < point:
                marker.set_data(trajectory.iteration_of_point[last:last + 1].numpy(),
                                draw.loss_curve(trajectory)[last:last + 1, row])
                self.figure.draw_artist(marker)
        for region in self._on_top:
            self.canvas.restore_region(region)
        if self.arrows is not None:
            self.arrows.draw_title(factor)
        self.counter.set_text(f"iteration {self._iteration(point)}")
        self.figure.draw_artist(self.counter)
        width, height = self.canvas.get_width_height()
        return Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba()).convert("RGB")

    def frame_images(self, progress: Callable[[int, int], None] | None = None) -> Iterator[Image.Image]:
        """Every frame (``frame_points``), drawn one at a time as the GIF writer takes them;
        ``progress(done, total)`` after each."""
        points = self.frame_points
        for done, point in enumerate(points, 1):
            yield self.frame_image(point)
            if progress is not None:
                progress(done, len(points))


# GIF stores each frame's delay in whole centiseconds; browsers play delays under 2 cs slowly
MAX_FPS = 50
MAX_DELAY = 65535  # centiseconds, a 16-bit field


def gif_delay(fps: float) -> int:
    """The frame delay a GIF stores for ``fps``, in centiseconds: the nearest whole one, at
    least 2 (50 fps; browsers slow shorter delays down). The rate played is ``100 / delay``."""
    if not (isinstance(fps, numbers.Real) and math.isfinite(fps) and fps >= 100 / MAX_DELAY):
        raise ValueError(f"Invalid fps: {fps!r} (expected fps > 0; a GIF plays at most "
                         f"{MAX_FPS} fps and at least {100 / MAX_DELAY:.4f})")
    return min(MAX_DELAY, max(100 // MAX_FPS, round(100 / fps)))


def gif_fps(fps: float) -> float:
    """The frame rate a GIF asked to play at ``fps`` really plays at (see ``gif_delay``)."""
    return 100 / gif_delay(fps)


MAX_FRAMES = 10_000  # frames in one GIF: minutes to encode, and far more than a slide shows


def check_gif_options(path: str | os.PathLike, *, fps: float = 15, loop: int = 0, stride: int = 1,
                      size: tuple[int, int] = (960, 540), text_size: str = "normal",
                      steps: int | None = None) -> None:
    """``ValueError`` for anything ``export_gif`` would refuse, before any work is done; with
    ``steps``, also a GIF of more than ``MAX_FRAMES`` frames at ``stride``."""
    if Path(path).suffix.lower() != ".gif":
        raise ValueError(f"Invalid path: {str(path)!r} (a GIF is written to a name ending in .gif)")
    check_writable(path)
    gif_delay(fps)
    _check_loop(loop)
    _positive_int("stride", stride)
    _check_size(size)
    draw.text_scale(text_size)
    if steps is not None:
        frames = -(-_positive_int("steps", steps) // stride) + 1
        if frames > MAX_FRAMES:
            raise ValueError(f"Invalid stride: {steps:,} steps at stride {stride} make {frames:,} frames (at most "
                             f"{MAX_FRAMES:,}: a stride of {-(-steps // (MAX_FRAMES - 1))} or more)")


def write_gif(path: str | os.PathLike, frames: Iterable[np.ndarray | Image.Image], *, fps: float = 15,
              loop: int = 0, hold_last: float = 1.5,
              last: np.ndarray | Image.Image | None = None) -> float:
    """Write RGB frames as a GIF, atomically; returns the frame rate stored (``gif_fps``).

    Frames are encoded as they come, so ``frames`` may be a generator and memory does not grow
    with their number. All frames share one palette, from the last frame (it shows every path):
    ``frames[-1]``, or ``last`` (rendered first) when ``frames`` is an iterator. Unchanged pixels
    thus stay identical, and each frame stores only the box that changed, the pixels that did not
    change inside it transparent (what Pillow's ``optimize`` does; Pillow's own multi-frame writer
    keeps every frame until the end). The last frame is held ``hold_last`` seconds more.
    """
    delay = gif_delay(fps)
    _check_loop(loop)
    if last is None:
        if not isinstance(frames, Sequence) or not len(frames):
            raise ValueError("nothing to write: give a sequence of frames, or last= with an iterator")
        last = frames[-1]
    palette = _rgb(last).quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    indexed = (_rgb(frame).quantize(palette=palette, dither=Image.Dither.NONE) for frame in frames)
    with atomic_path(path) as temporary, open(temporary, "wb") as file:
        _encode_gif(file, indexed, delay=delay, hold=round(100 * hold_last), loop=loop)
    return 100 / delay


def _rgb(frame: np.ndarray | Image.Image) -> Image.Image:
    return Image.fromarray(frame) if isinstance(frame, np.ndarray) else frame


def _encode_gif(file, frames: Iterable[Image.Image], *, delay: int, hold: int, loop: int) -> None:
    """GIF data for palette images sharing one palette, written frame by frame; a frame is held
    back until the next one is known to differ (an identical one only adds its delay)."""
    pending = previous = transparent = None  # pending: [image, offset, encoder options]
    for frame in frames:
        if previous is None:
            colors = frame.getpalette()
            transparent = len(colors) // 3  # an index no pixel uses (at most 255 colors)
            header = frame.copy()  # a table long enough to hold the transparent index
            header.putpalette(colors + [0, 0, 0])
            file.write(b"".join(GifImagePlugin.getheader(header, info={"loop": loop})[0]))
            pending = [frame, (0, 0), {"duration": 10 * delay}]
        else:
            change = ImageChops.subtract_modulo(frame, previous)
            box = change.getbbox(alpha_only=False)
            if box is None:
                pending[2]["duration"] += 10 * delay
                continue
            _write_frame(file, *pending)
            unchanged = change.point([255, *(0,) * 255], "1")
            frame_changes = frame.copy()
            frame_changes.paste(transparent, mask=unchanged)
            pending = [frame_changes.crop(box), box[:2], {"duration": 10 * delay, "transparency": transparent}]
        previous = frame
    if pending is None:
        raise ValueError("nothing to write: no frames")
    pending[2]["duration"] += 10 * hold
    _write_frame(file, *pending)
    file.write(b";")


def _write_frame(file, image: Image.Image, offset: tuple[int, int], options: dict) -> None:
    options["duration"] = min(options["duration"], 10 * MAX_DELAY)  # milliseconds, stored as cs
    file.write(b"".join(GifImagePlugin.getdata(image, offset, **options)))


def export_gif(path: str | os.PathLike, surface: Surface, optimizers: Sequence[str] | None = None, *,
               trajectories: Sequence[Trajectories] | None = None, lr=0.01, steps: int = 150,
               fps: float = 15, stride: int = 1, size: tuple[int, int] = (960, 540),
               loop: int = 0, loss: bool = True, title: str | None = None, vectors: str | None = None,
               text_size: str = "normal",
               progress: Callable[[int, int], None] | None = None, **run_options) -> str:
    """Animate optimizers on a surface and write the GIF (16:9 by default) atomically.

    Either ``optimizers`` (specs, run here with ``lr``, ``steps`` and ``run_options``) or
    precomputed ``trajectories``. ``vectors``, one of the specs, draws the arrows of its step at
    each frame's point (``TrajectoryAnimation.set_vectors``; given trajectories must be recorded
    with ``record_state=True``). ``text_size`` "projector" makes every text larger
    (``draw.TEXT_SIZES``). Every option is checked before any work (``check_gif_options``).
    Frames are drawn and encoded one at a time (memory does not grow with their number);
    ``progress(done, total)`` is called after each frame. The GIF plays at ``gif_fps(fps)``.
    Returns the path written.
    """
    check_gif_options(path, fps=fps, loop=loop, stride=stride, size=size, text_size=text_size,
                      steps=steps if trajectories is None else max(t.last_point for t in trajectories))
    if trajectories is None:
        if not optimizers:
            raise ValueError("nothing to animate: give optimizers or trajectories")
        specs = parse_list(list(optimizers))
        draw.check_runs(len(specs))  # before any run
        if vectors is not None and parse(vectors) not in specs:
            raise ValueError(f"Invalid vectors: {vectors!r} is none of the optimizers "
                             f"{', '.join(spec.text for spec in specs)}")
        trajectories = compare(surface, specs, lr=lr, steps=steps, record_state=vectors is not None,
                               **run_options)
    animation = TrajectoryAnimation(surface, trajectories, size=size, stride=stride, loss=loss,
                                    title=title, text_size=text_size,
                                    vectors=None if vectors is None else parse(vectors).text)
    write_gif(path, animation.frame_images(progress), fps=fps, loop=loop, last=_palette_frame(animation))
    return str(path)


def _palette_frame(animation: TrajectoryAnimation) -> Image.Image:
    """What the GIF's palette is taken from: the last frame (every path); with arrows, also the
    frame before (the last point takes no step, so shows none) and a band of the arrows' colours,
    so that the palette keeps them however few pixels they cover."""
    last = animation.frame_image(animation.last_point)
    if animation.arrows is None or animation.last_point == 0:
        return last
    colours = [draw.ARROW_STYLES[kind]["color"] for kind in animation.arrows.anatomy.kinds]
    band = last.height // 4
    both = Image.new("RGB", (2 * last.width, last.height + band))
    both.paste(last)
    both.paste(animation.frame_image(animation.last_point - 1), (last.width, 0))
    for index, colour in enumerate(colours):
        width = 2 * last.width // len(colours)
        both.paste(colour, (index * width, last.height, (index + 1) * width, last.height + band))
    return both
