"""The explorer as one HTML file (``python -m landscape page``), opened as a lecturer or a student
opens it: from file://, offline (every request outside the file is aborted and counted), alone or
inside a slide's <iframe>. Judged by the canvas's pixels and the text the page gives screen
readers, against the numbers of the same sweep in Python."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from browser import CHROMIUM, colour_pixels
from landscape import draw
from landscape.page import write_page
from landscape.setting import LEARNING_RATES, MOMENTA, Setting, Sweep, readout

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Chromium is not installed (apt-get install chromium)")

SETTING = Setting()  # the explorer's: four optimizers on the two-well, 150 steps


@pytest.fixture(scope="module")
def sweep():
    return Sweep(SETTING)


@pytest.fixture(scope="module")
def written(sweep, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("page") / "two_well.html"
    write_page(path, sweep)
    return path


class Outside:
    """Every request of a page that leaves the file (not file:, data: or blob:), aborted."""

    def __init__(self, page):
        self.requests: list[str] = []
        page.route("**/*", self._route)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.errors: list[str] = []

    def _route(self, route) -> None:
        if route.request.url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            self.requests.append(route.request.url)
            route.abort()


def _opened(page, url: str, frame=None):
    """Open ``url``; the frame (the page, or its <iframe>'s) once it has drawn its first picture."""
    outside = Outside(page)
    page.goto(url)
    frame = frame(page) if frame else page.main_frame
    frame.wait_for_selector(".described:not(:empty)", timeout=30_000)
    return frame, outside


def _canvas(frame) -> np.ndarray:
    """What the landscape's canvas shows over its picture, as RGB."""
    png = frame.locator(".figure").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _described(frame) -> str:
    return frame.locator(".described").text_content()


def _wait_for_change(frame, before: str) -> str:
    frame.wait_for_function("before => document.querySelector('.described').textContent !== before", arg=before,
                            timeout=10_000)
    return _described(frame)


def _to_cell(frame, i: int, j: int) -> None:
    """Move the sliders to cell (i, j) with the keyboard, as a user would: Home, then → i times."""
    for name, index in ((".lr", i), (".momentum", j)):
        slider = frame.locator(name)
        slider.focus()
        slider.press("Home")
        for _ in range(index):
            slider.press("ArrowRight")
    frame.wait_for_function("([i, j]) => document.querySelector('.lr').value == i && "
                            "document.querySelector('.momentum').value == j", arg=[i, j])


def _legend(frame) -> list[str]:
    frame.page.wait_for_timeout(100)  # the frame after the last key
    return _described(frame).split(": ", 1)[1].split(" · ")


def test_opens_from_file_offline_and_draws_every_run(page, written):
    frame, outside = _opened(page, written.as_uri())
    canvas = _canvas(frame)
    for colour in draw.run_colours(Sweep(SETTING).runs_at(SETTING.lr, SETTING.momentum)):
        assert colour_pixels(canvas, colour, 40) > 100, f"a run in {colour} is drawn"
    assert outside.requests == [] and outside.errors == []
    assert written.stat().st_size <= 5e6, "four optimizers x 150 steps fit in 5 MB"
    assert frame.locator(".problem").is_hidden()


def test_dragging_the_lr_slider_redraws_the_paths(page, written):
    frame, _ = _opened(page, written.as_uri())
    before, text = _canvas(frame), _described(frame)
    handle = frame.locator(".lr").bounding_box()
    page.mouse.click(handle["x"] + 0.15 * handle["width"], handle["y"] + handle["height"] / 2)
    text = _wait_for_change(frame, text)
    assert re.search(r"lr 0\.00[1-3]", text), text
    after = _canvas(frame)
    assert (np.abs(after - before).sum(-1) > 60).sum() > 2000, "the paths are drawn anew"


def test_the_legend_of_three_cells_is_the_explorers(page, written, sweep):
    frame, _ = _opened(page, written.as_uri())
    for i, j in ((0, 0), (12, 18), (25, 10)):
        _to_cell(frame, i, j)
        expected = [runs.label() for runs in sweep.runs_at_index(i, j)]
        assert _legend(frame) == expected, (LEARNING_RATES[i], MOMENTA[j])


def test_keyboard_arrows_move_a_slider_and_the_picture(page, written):
    frame, _ = _opened(page, written.as_uri())
    momentum = frame.locator(".momentum")
    value, text, before = momentum.input_value(), _described(frame), _canvas(frame)
    momentum.focus()
    momentum.press("ArrowLeft")
    _wait_for_change(frame, text)
    assert int(momentum.input_value()) == int(value) - 1
    assert f"momentum {MOMENTA[int(value) - 1]:g}" in _described(frame)
    assert (np.abs(_canvas(frame) - before).sum(-1) > 60).sum() > 200


def test_play_advances_the_counter(page, written):
    frame, _ = _opened(page, written.as_uri())
    scrubber = frame.locator(".iteration")
    scrubber.focus()
    scrubber.press("Home")
    frame.wait_for_function("() => document.querySelector('.described').textContent.startsWith('iteration 0,')")
    at_start = _canvas(frame)
    frame.locator(".play").click()
    frame.wait_for_function("() => Number(/iteration (\\d+)/.exec(document.querySelector('.described')"
                            ".textContent)[1]) >= 20", timeout=10_000)
    assert (np.abs(_canvas(frame) - at_start).sum(-1) > 60).sum() > 500, "the paths grew"
    frame.locator(".play").click()  # pause
    shown = _described(frame)
    page.wait_for_timeout(300)
    assert _described(frame) == shown, "paused"


def test_a_click_on_the_phase_diagram_sets_both_sliders(page, written, sweep):
    frame, _ = _opened(page, written.as_uri())
    lr, momentum = frame.locator(".lr"), frame.locator(".momentum")
    before = lr.input_value(), momentum.input_value()
    box = frame.locator(".phase-figure").bounding_box()
    page.mouse.click(box["x"] + 0.3 * box["width"], box["y"] + 0.55 * box["height"])
    frame.wait_for_function("before => document.querySelector('.lr').value !== before[0] && "
                            "document.querySelector('.momentum').value !== before[1]", arg=list(before))
    i, j = int(lr.input_value()), int(momentum.input_value())
    runs = sweep.runs[frame.locator(".phase-optimizer option:checked").text_content()]
    expected = re.sub(r"<[^>]+>", "", readout(runs, float(LEARNING_RATES[i]), float(MOMENTA[j])))
    assert frame.locator(".readout").text_content() == expected
    assert f"lr {float(LEARNING_RATES[i]):.3g}" in _described(frame)


def test_works_inside_a_slides_iframe(page, written, tmp_path):
    deck = tmp_path / "deck.html"
    deck.write_text(f'<!DOCTYPE html><html><body><h1>Lecture 4</h1><iframe src="{written.as_uri()}" '
                    f'width="1000" height="700" style="border:0"></iframe></body></html>')
    frame, outside = _opened(page, deck.as_uri(), frame=lambda page: page.locator("iframe").element_handle()
                             .content_frame())
    text = _described(frame)
    frame.locator(".lr").focus()
    frame.locator(".lr").press("ArrowRight")
    assert _wait_for_change(frame, text) != text
    assert colour_pixels(_canvas(frame), draw.run_colours(Sweep(SETTING).runs_at(SETTING.lr, SETTING.momentum))[0],
                         40) > 100
    assert outside.requests == [] and outside.errors == []


def test_a_damaged_page_says_it_could_not_start(page, written, tmp_path):
    damaged = tmp_path / "damaged.html"
    text = written.read_text(encoding="utf-8")
    start = text.index('id="landscape-numbers">') + len('id="landscape-numbers">')
    damaged.write_text(text[:start] + "AAAA" + text[start + 4000:], encoding="utf-8")  # a cut download
    outside = Outside(page)
    page.goto(damaged.as_uri())
    problem = page.locator(".problem")
    problem.wait_for(state="visible", timeout=30_000)
    assert problem.text_content().startswith("This page could not start: ")
    assert outside.requests == []
