"""What matplotlib hands the HTML page: pictures of a figure's static parts (PNG ``data:`` URLs)
and the geometry of what the page's JavaScript draws over them, in page pixels.

A page pixel is one CSS pixel of the figure at its own size; the pictures have ``SCALE`` image
pixels per page pixel, so that they stay sharp on screens with more pixels (phones, laptops).
Everything is measured on the figure as matplotlib lays it out: matplotlib's display coordinates
(from the bottom left, in image pixels) become page pixels from the top left. Texts the page
writes itself (in matplotlib's own font, which the page carries) are placed by their baselines."""

from __future__ import annotations

import base64
import io
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from fontTools import subset
from matplotlib import font_manager
from matplotlib.artist import Artist
from matplotlib.colors import to_hex, to_rgba
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle
from matplotlib.patches import FancyArrowPatch
from matplotlib.path import Path
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from PIL import Image

from .. import draw

SCALE = 2  # image pixels per page pixel
COLOURS = 256  # an opaque picture's palette: contours, text and lines keep their colours exactly


# one worker thread: PIL lets go of the GIL while it quantises and compresses, so matplotlib draws
# the next picture meanwhile
_ENCODING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="landscape-png")


def png_url(rgba: np.ndarray, opaque: bool = False) -> Future:
    """An (H, W, 4) uint8 picture as a PNG ``data:`` URL, encoded on a worker thread: a future of
    it (``_json`` of the page writes its result). ``opaque``: as a palette of ``COLOURS`` (median
    cut, no dithering: a third of the bytes, white and flat colours exact)."""
    image = Image.fromarray(np.array(rgba[..., :3] if opaque else rgba), "RGB" if opaque else "RGBA")  # a copy:
    return _ENCODING.submit(_png_url, image, opaque)  # the canvas is drawn on again


def _png_url(image: Image.Image, opaque: bool) -> str:
    if opaque:
        image = image.quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    image.save(buffer, format="png", compress_level=6)  # optimize=True: 7 % fewer bytes in 5x the time
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def picture(figure: Figure) -> Future:
    """The whole figure as drawn now, an opaque PNG ``data:`` URL (a future: ``png_url``; its
    animated artists left out, as in any plain draw)."""
    figure.canvas.draw()
    return png_url(np.asarray(figure.canvas.buffer_rgba()), opaque=True)


def font_url(properties, characters: str) -> str:
    """The font matplotlib writes texts of ``properties`` (a ``FontProperties``) in, DejaVu Sans by
    default, cut to ``characters``, as a ``data:`` URL: the page writes its own texts in it."""
    options = subset.Options()
    options.hinting = False
    options.drop_tables += ["FFTM"]  # a font tool's timestamp
    font = subset.load_font(font_manager.findfont(properties), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(characters))))
    subsetter.subset(font)
    buffer = io.BytesIO()
    subset.save_font(font, buffer, options)
    return "data:font/ttf;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def css(colour) -> str:
    """A matplotlib colour as CSS: '#rrggbb', or rgba() where it is not opaque."""
    r, g, b, a = to_rgba(colour)
    return to_hex(colour) if a == 1 else f"rgba({round(255 * r)},{round(255 * g)},{round(255 * b)},{a:.3g})"


class Page:
    """Measures on one figure, in page pixels."""

    def __init__(self, figure: Figure):
        self.figure = figure

    @property
    def renderer(self):
        return self.figure.canvas.get_renderer()

    def point(self, display) -> np.ndarray:
        """Display points (…, 2) as page pixels from the top left."""
        display = np.asarray(display, dtype=float)
        return np.stack([display[..., 0], self.figure.bbox.height - display[..., 1]], -1) / SCALE

    def box(self, bbox: Bbox) -> list[float]:
        """A display box as [x, y, width, height] in page pixels, from its top left corner."""
        return [bbox.x0 / SCALE, (self.figure.bbox.height - bbox.y1) / SCALE, bbox.width / SCALE,
                bbox.height / SCALE]

    def points(self, size: float) -> float:
        """A length in points (line widths, marker and font sizes) in page pixels."""
        return size * self.figure.dpi / 72 / SCALE

    def affine(self, axes, axis: int, low: float, high: float, levels: float) -> list[float]:
        """[a, b]: page pixel a + b·q on ``axis`` (0: x, 1: y) of ``axes`` for the value that q
        of ``levels`` stands for on ``low`` … ``high`` of the axes' scale (log10 of the value on
        a log axis, matplotlib's ``transScale``), which the axes then map linearly."""
        scaled = np.zeros((2, 2))
        scaled[:, axis] = low, high
        ends = self.point((axes.transLimits + axes.transAxes).transform(scaled))[:, axis]
        return [float(ends[0]), float((ends[1] - ends[0]) / levels)]

    def sprite(self, *artists: Artist) -> dict | None:
        """``artists`` drawn alone on a transparent figure, cut to what they cover: {"src": a PNG
        ``data:`` URL (a future: ``png_url``), "x", "y", "w", "h": where it goes, in page pixels}; None when they draw
        nothing. The figure's canvas holds them afterwards: draw it again before reading it."""
        self.renderer.clear()  # every pixel transparent
        for artist in artists:
            self.figure.draw_artist(artist)
        around = Bbox.union([artist.get_window_extent(self.renderer) for artist in artists]).padded(4)
        height, width = self.figure.bbox.height, self.figure.bbox.width
        left, right = max(int(around.x0), 0), min(int(np.ceil(around.x1)), int(width))
        top, bottom = max(int(height - around.y1), 0), min(int(np.ceil(height - around.y0)), int(height))
        rgba = np.asarray(self.figure.canvas.buffer_rgba())[top:bottom, left:right]
        rows, columns = np.nonzero(rgba[..., 3])
        if rows.size == 0:
            return None
        rgba = rgba[rows.min():rows.max() + 1, columns.min():columns.max() + 1]
        return {"src": png_url(rgba), "x": (left + columns.min()) / SCALE, "y": (top + rows.min()) / SCALE,
                "w": rgba.shape[1] / SCALE, "h": rgba.shape[0] / SCALE}

    def line_style(self, line: Line2D) -> dict:
        """How the page draws a line like ``line``: width, its round markers' radius (face and
        edge together; 0 without markers), their edge and its colour, the line's ends and joins."""
        marker = line.get_marker() not in ("None", "none", "", " ", None)
        return {"width": self.points(line.get_linewidth()),
                "radius": self.points(line.get_markersize() / 2) if marker else 0.0,
                "edge": self.points(line.get_markeredgewidth()) if marker else 0.0,
                "edgeColour": css(line.get_markeredgecolor()) if marker else None,
                "cap": {"projecting": "square", "butt": "butt", "round": "round"}[line.get_solid_capstyle()],
                "join": line.get_solid_joinstyle()}

    def marker_outline(self, line: Line2D) -> list[list[float]]:
        """The outline of ``line``'s marker as drawn (a polygon, e.g. 'X'), in page pixels from
        its centre (y downwards)."""
        marker = MarkerStyle(line.get_marker())
        path = marker.get_path().transformed(marker.get_transform())
        vertices = path.vertices[path.codes != Path.CLOSEPOLY] * self.points(line.get_markersize())
        return (vertices * [1, -1]).round(3).tolist()

    def arrow_head(self, arrow: FancyArrowPatch) -> dict:
        """How ``arrow``'s style ends a shaft drawn along +x to (0, 0): where the shaft stops
        (``shaft``, ≤ 0) and the filled head's corners, in page pixels (y downwards); its width and
        its black outline's (``draw.OUTLINE`` wider), for every arrow of that style and width."""
        to_pixels = self.figure.dpi / 72
        (shaft, head), _ = arrow.get_arrowstyle()(Path([[-1000.0, 0.0], [0.0, 0.0]]),
                                                  arrow.get_mutation_scale() * to_pixels,
                                                  arrow.get_linewidth() * to_pixels)
        return {"shaft": float(shaft.vertices[-1, 0]) / SCALE,
                "head": (head.vertices[head.codes != Path.CLOSEPOLY] * [1, -1] / SCALE).round(3).tolist(),
                "width": self.points(arrow.get_linewidth()),
                "outline": self.points(arrow.get_linewidth() + draw.OUTLINE)}

    def baselines(self, text: Text, words: str) -> list[list[float]]:
        """Where ``text``, holding ``words`` (lines), puts each line: its anchor's x (the page
        aligns each line as ``text`` does) and the line's baseline y, in page pixels. Measured on
        matplotlib's layout: a line's baseline is where a text of it and the lines after it puts its
        first line (below it, matplotlib spaces lines by their own heights only)."""
        kept, alignment = text.get_text(), text.get_verticalalignment()
        lines = words.split("\n")
        anchor = text.get_transform().transform(text.get_position())
        found = []
        for first in range(len(lines)):
            text.set_text("\n".join(lines[first:]))
            placed = text.get_window_extent(self.renderer)
            text.set_verticalalignment("baseline")  # the first line's baseline at the anchor
            on_baseline = text.get_window_extent(self.renderer)
            text.set_verticalalignment(alignment)
            found.append(self.point([anchor[0], anchor[1] + placed.y0 - on_baseline.y0]).tolist())
        text.set_text(kept)
        return found

    def legend_layout(self, legend: Legend) -> dict:
        """What is in ``legend`` (its text set), laid out as matplotlib draws it (its texts not
        rendered), from its box's top left in page pixels: "w", "h" its box, "size" its texts'
        font size, and per entry [the text's baseline x, y, the handle line's x0, x1, y, its
        marker's x]."""
        texts = legend.get_texts()
        for text in texts:
            text.set_visible(False)
        try:
            self.figure.draw_artist(legend)  # lays the entries out
        finally:
            for text in texts:
                text.set_visible(True)
        box = legend.get_window_extent(self.renderer)
        origin = self.point([box.x0, box.y1])
        entries = []
        for text, handle in zip(texts, legend.legend_handles):
            (x, y), = self.point(text.get_transform().transform([text.get_position()])) - origin
            line = self.point(handle.get_transform().transform(handle.get_xydata())) - origin
            marker = line[handle.get_markevery() or [len(line) // 2]][0]
            entries.append([round(float(v), 3) for v in (x, y, line[0, 0], line[-1, 0], line[0, 1], marker[0])])
        return {"w": box.width / SCALE, "h": box.height / SCALE, "size": self.points(texts[0].get_fontsize()),
                "entries": entries}

    def legend_style(self, legend: Legend) -> dict:
        """How the page draws ``legend``'s frame (once drawn: ``legend_layout``), its texts and its
        handles' lines."""
        frame = legend.legendPatch
        return {"fill": css(frame.get_facecolor()), "stroke": css(frame.get_edgecolor()),
                "width": self.points(frame.get_linewidth()),
                "radius": frame.get_boxstyle().rounding_size * frame.get_mutation_scale() / SCALE,
                "text": css(legend.get_texts()[0].get_color()), "handle": self.line_style(legend.legend_handles[0])}
