"""A network sweep's HTML page (``landscape.page.network``) in Chromium, as a student opens it: from
a file, offline, alone or inside an <iframe>. Every request that is not for the file itself (file:,
data:, blob:) is aborted and counted: none is allowed. Judged by the pixels and the text a user
sees: the cell's curves are drawn, a slider moved by its arrow keys or a click on the phase diagram
shows another cell, whose readout is the sweep's own numbers.

Needs Chromium, as test_browser.py."""

import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from browser import CHROMIUM
from helpers import float32_default, mnist_folder  # noqa: F401 - an autouse fixture
from landscape.nets import mnist, sweep
from landscape.page import write_network_page

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Chromium is not installed (apt-get install chromium)")
OWN = ("file:", "data:", "blob:")
READOUT = re.compile(r"learning rate (\S+), momentum (\S+): (?:final validation loss (\S+)|diverged at step (\d+))")


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A tiny real sweep (3 lrs x 3 momenta, 2 epochs), its page, and a page that holds it in an <iframe>."""
    data = mnist.load(mnist_folder(tmp_path_factory.mktemp("mnist"), train=80, test=20), val_size=20)
    result = sweep.sweep_network("mnist-mlp", "momentum", [0.01, 0.1, 1.0], [0.0, 0.5, 0.9], data=data, epochs=2,
                                 batch_size=16)
    folder = tmp_path_factory.mktemp("page")
    write_network_page(folder / "sweep.html", result)
    (folder / "course.html").write_text('<!DOCTYPE html><html><body><h1>Week 3: momentum</h1>'
                                        '<iframe src="sweep.html" title="sweep" style="width:1150px;height:640px">'
                                        '</iframe></body></html>')
    lrs_only = sweep.sweep_network("mnist-mlp", "adagrad", [0.01, 0.1], data=data, epochs=1, batch_size=16)
    write_network_page(folder / "adagrad.html", lrs_only)
    return result, lrs_only, folder


def _offline(page) -> list[str]:
    """Abort every request outside the file; the list of those asked for (the journey asserts it stays empty)."""
    outside = []
    page.on("request", lambda request: None if request.url.startswith(OWN) else outside.append(request.url))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(OWN) else route.abort())
    return outside


def _drawn(frame, at_least: int = 1) -> None:
    frame.wait_for_function(f"() => Number(document.querySelector('.landscape').dataset.frames || 0) >= {at_least}",
                            timeout=30_000)


def _frames(frame) -> int:
    return int(frame.locator(".landscape").get_attribute("data-frames"))


def _pixels(frame) -> np.ndarray:
    """The figure as the user sees it (picture and canvas), RGB."""
    return np.asarray(Image.open(io.BytesIO(frame.locator(".figure").screenshot())).convert("RGB")).astype(int)


def _changed(before: np.ndarray, after: np.ndarray, columns: slice) -> float:
    """The share of the pixels in ``columns`` (a part of the figure's width) that changed."""
    return float((np.abs(before[:, columns] - after[:, columns]).sum(-1) > 30).mean())


def _readout(frame, result, cell: tuple[int, int]) -> None:
    """The readout says cell ``cell``'s lr, momentum and final validation loss, as the sweep has them."""
    text = frame.locator(".cell-readout").text_content()
    found = READOUT.fullmatch(text)
    assert found, text
    lr, momentum, loss, diverged = found.groups()
    assert float(lr) == pytest.approx(result.grid.lrs[cell[0]].item(), rel=1e-5)
    assert float(momentum) == pytest.approx(result.grid.momenta[cell[1]].item(), rel=1e-5, abs=1e-9)
    if diverged is None:
        assert float(loss) == pytest.approx(result.final("val_loss")[cell].item(), rel=1e-5)
    else:
        assert int(diverged) == result.run.diverged_at[result.grid.row(*cell)].item()
    shown = frame.locator(".lr-value").text_content(), frame.locator(".momentum-value").text_content()
    assert shown == (f"{result.grid.lrs[cell[0]].item():.3g}", f"{result.grid.momenta[cell[1]].item():.3g}")


def _curve_pixels(pixels: np.ndarray, result) -> np.ndarray:
    """Where ``pixels`` (the figure on the screen) show the rule's colour inside the curves' axes,
    but under their legend (its handles have the colour too): the curves per epoch. Measured on
    matplotlib's figure, whose legend the page puts at the upper right."""
    figure = result.cell_figure(0, 0)
    curves = figure.axes[1]
    curves.get_legend().set_loc("upper right")
    figure.canvas.draw()
    width, height = figure.canvas.get_width_height()
    scale = pixels.shape[1] / width
    box, legend = curves.bbox, curves.get_legend().get_window_extent()
    rows = np.arange(pixels.shape[0])[:, None] / scale
    columns = np.arange(pixels.shape[1])[None, :] / scale

    def within(box, inset: float) -> np.ndarray:
        return ((columns > box.x0 + inset) & (columns < box.x1 - inset) & (rows > height - box.y1 + inset)
                & (rows < height - box.y0 - inset))

    inside, under_legend = within(box, 2), within(legend, 0)
    colour = np.array([int(result.spec.info.colour[k:k + 2], 16) for k in (1, 3, 5)])
    return inside & ~under_legend & (np.abs(pixels - colour).sum(-1) < 60)


def _cell_on_screen(frame, result, cell: tuple[int, int]) -> tuple[float, float]:
    """Where cell ``cell``'s centre is on the screen, measured on matplotlib's figure (not the page's tables)."""
    figure = result.cell_figure(*cell)
    figure.canvas.draw()
    width, height = figure.canvas.get_width_height()
    x, y = figure.axes[0].transData.transform((result.grid.lrs[cell[0]].item(), result.grid.momenta[cell[1]].item()))
    box = frame.locator(".figure").bounding_box()
    return box["x"] + x / width * box["width"], box["y"] + (1 - y / height) * box["height"]


def _journey(page, frame, result) -> None:
    """Open at the best cell; the arrow keys on the lr slider; a click on another cell."""
    _drawn(frame)
    assert frame.locator(".problem").is_hidden()
    best = result.best()
    _readout(frame, result, best)
    first = _pixels(frame)
    assert _curve_pixels(first, result).sum() > 150, "the cell's curves, in the rule's colour"

    frames = _frames(frame)
    frame.locator(".lr").focus()
    key, step = ("ArrowLeft", -1) if best[0] > 0 else ("ArrowRight", 1)
    page.keyboard.press(key)
    _drawn(frame, frames + 1)
    moved = (best[0] + step, best[1])
    _readout(frame, result, moved)
    after_key = _pixels(frame)
    assert (_curve_pixels(first, result) != _curve_pixels(after_key, result)).sum() > 100, "another cell: other curves"

    target = next(cell for cell in [(0, 2), (2, 0), (1, 1)] if cell != moved)
    frames = _frames(frame)
    page.mouse.click(*_cell_on_screen(frame, result, target))
    _drawn(frame, frames + 1)
    _readout(frame, result, target)
    assert (frame.locator(".lr").input_value(), frame.locator(".momentum").input_value()) == tuple(map(str, target)), \
        "a click sets both sliders"
    clicked = _pixels(frame)
    assert (_curve_pixels(after_key, result) != _curve_pixels(clicked, result)).sum() > 100
    phase = slice(0, clicked.shape[1] // 2)
    assert 0 < _changed(after_key, clicked, phase) < 0.05, "on the phase diagram only the ring moves"


def test_the_page_opens_from_a_file_offline_and_its_sliders_and_phase_diagram_show_each_cell(made, page):
    result, _, folder = made
    outside = _offline(page)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto((folder / "sweep.html").as_uri())
    _journey(page, page.main_frame, result)
    assert outside == [] and errors == []
    assert page.title() == "momentum: mnist-mlp lr x momentum sweep"
    assert "Made with landscape" in page.locator("footer").inner_text()
    readout = page.locator(".cell-readout")
    assert readout.bounding_box()["width"] <= 1, "the readout is for screen readers: the figure says it"


def test_the_page_works_inside_an_iframe(made, page):
    result, _, folder = made
    outside = _offline(page)
    page.goto((folder / "course.html").as_uri())
    page.locator("iframe").wait_for()
    frame = page.locator("iframe").element_handle().content_frame()
    _journey(page, frame, result)
    assert outside == []


def test_a_sweep_of_lrs_only_has_no_momentum_to_slide(made, page):
    _, lrs_only, folder = made
    outside = _offline(page)
    page.goto((folder / "adagrad.html").as_uri())
    _drawn(page.main_frame)
    assert page.locator(".momentum").is_disabled() and page.locator(".momentum-value").text_content() == "none"
    text = page.locator(".cell-readout").text_content()
    i = lrs_only.best()[0]
    assert text == (f"learning rate {lrs_only.grid.lrs[i].item():.6g}, momentum none: final validation loss "
                    f"{lrs_only.final('val_loss')[i, 0].item():.6g}")
    assert outside == []
