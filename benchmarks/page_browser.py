"""The explorer as one HTML file (``python -m landscape page``) in Chromium (Playwright), side by
side with the notebook explorer's figure (``explorer_browser.measure``), on the same machine in one
run. Measured for the explorer's default setting (four optimizers x 150 steps on the two-well):

- export: the sweep and the page written, on CPU (target <= 5 s); the file's size (target <= 5 MB);
- page opened from file:// -> first full picture, in the page's own clock (target <= 1 s);
- slider input -> canvas repainted: from an ``input`` event of the lr slider to the screen frame
  that shows the new picture, median and p95 (targets 16 ms and 33 ms), and the time the page
  takes to draw a picture;
- the lr slider dragged by the mouse as in explorer_browser.py: pictures shown per second of drag,
  mouse-up -> final picture, beside the notebook explorer's;
- play: pictures per second while the paths grow (target >= 30; the page plays 30 iterations a
  second and draws at every screen frame, the paths reaching between two iterations' points).

    python benchmarks/page_browser.py [--repeats 5] [--inputs 200] [--drags 6] [--no-explorer]

Needs Chromium (Debian's package) and the test extras (playwright); see tests/browser.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser import Lab, chromium  # noqa: E402
from explorer_browser import EXPLORERS, measure  # noqa: E402

from landscape.page import write_page  # noqa: E402
from landscape.setting import Setting, Sweep  # noqa: E402

# every frame the page draws, in its own clock; the first one is its first full picture
COUNT = """document.addEventListener('landscape:drawn', (event) => {
    (window.drawn = window.drawn || []).push(performance.now());
    (window.drawing = window.drawing || []).push(event.detail.ms); });"""
# the lr slider moved `count` times by input events at moments of no relation to the screen's frames: ms from
# each input to the start of the screen frame that shows its picture (its animation frame callbacks)
INPUTS = """async (count) => {
    const lr = document.querySelector('.lr'), figure = document.querySelector('.figure'), took = [];
    const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
    for (let n = 0; n < count; n++) {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 17));  // a user's moment, not a frame's
        let drawn = false;
        figure.addEventListener('landscape:drawn', () => { drawn = true; }, {once: true});
        lr.value = String((Number(lr.value) + 7) % (Number(lr.max) + 1));
        const start = performance.now();
        lr.dispatchEvent(new Event('input'));
        while (!drawn) await frame();
        await frame();  // the frame that shows it
        took.push(performance.now() - start);
    }
    return took;
}"""


def export(path: Path) -> tuple[float, float, int]:
    """Seconds for the sweep and for the page, and the page's bytes."""
    start = time.perf_counter()
    sweep = Sweep(Setting())
    swept = time.perf_counter()
    size = write_page(path, sweep)
    return swept - start, time.perf_counter() - swept, size


def opened(page, path: Path) -> None:
    page.add_init_script(COUNT)
    page.goto(path.as_uri())
    page.wait_for_function("() => window.drawn && window.drawn.length > 0", timeout=30_000)
    page.wait_for_timeout(500)


def measure_page(path: Path, repeats: int, inputs: int, drags: int, moves: int) -> dict[str, list[float]]:
    measured = {"first": [], "input": [], "shown": [], "final": [], "play": [], "draw": []}
    for _ in range(repeats):
        with chromium() as page:
            opened(page, path)
            measured["first"].append(page.evaluate("window.drawn[0]"))
    with chromium() as page:
        opened(page, path)
        page.evaluate("window.drawing = []")
        measured["input"] = page.evaluate(INPUTS, inputs)
        measured["draw"] = page.evaluate("window.drawing")
        lr = page.locator(".lr")
        box = lr.bounding_box()
        y = box["y"] + box["height"] / 2
        for index in range(drags):  # across 80 % of the slider and back, as explorer_browser.py drags
            x0, dx = box["x"] + box["width"] * (0.1 if index % 2 == 0 else 0.9), 0.8 * box["width"]
            dx = dx if index % 2 == 0 else -dx
            page.mouse.move(x0, y)
            page.evaluate("window.drawn = []")
            page.mouse.down()
            start = page.evaluate("performance.now()")
            for move in range(1, moves + 1):
                page.mouse.move(x0 + dx * move / moves, y)
                page.wait_for_timeout(16)
            page.mouse.up()
            released = page.evaluate("performance.now()")
            page.wait_for_timeout(500)
            drawn = page.evaluate("window.drawn")
            after = [t for t in drawn if t > released]
            measured["shown"].append(len([t for t in drawn if start <= t <= released]) / ((released - start) / 1000))
            measured["final"].append((after[-1] - released) if after else 0.0)
        for _ in range(3):
            page.locator(".iteration").focus()
            page.keyboard.press("Home")
            page.wait_for_timeout(200)
            page.evaluate("window.drawn = []")
            page.locator(".play").click()
            page.wait_for_function("() => document.querySelector('.play').textContent.includes('play')",
                                   timeout=60_000)
            drawn = page.evaluate("window.drawn")
            measured["play"].append((len(drawn) - 1) / ((drawn[-1] - drawn[0]) / 1000))
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="page openings (and exports: 2)")
    parser.add_argument("--inputs", type=int, default=200)
    parser.add_argument("--drags", type=int, default=6)
    parser.add_argument("--moves", type=int, default=15, help="mouse moves per drag")
    parser.add_argument("--no-explorer", action="store_true", help="leave out the notebook explorer's drags")
    args = parser.parse_args()
    median = statistics.median
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "page.html"
        exports = [export(path) for _ in range(2)]
        page = measure_page(path, args.repeats, args.inputs, args.drags, args.moves)
        explorer = None
        if not args.no_explorer:
            root = Path(folder) / "root"
            root.mkdir()
            lab = Lab(root)
            try:
                explorer = measure(lab, "bench.ipynb", next(iter(EXPLORERS.values())), args.drags, args.moves)
            finally:
                lab.close()
    for (sweep_s, page_s, size), when in zip(exports, ("first, in a fresh process", "again")):
        print(f"export ({when}): sweep {sweep_s:.2f} s + page {page_s:.2f} s = {sweep_s + page_s:.2f} s "
              f"(target <= 5 s); file {size / 1e6:.2f} MB (target <= 5 MB)")
    print(f"page from file:// -> first full picture: median {median(page['first']):.0f} ms, "
          f"max {max(page['first']):.0f} ms over {args.repeats} openings (target <= 1000 ms)")
    took = np.array(page["input"])
    print(f"lr slider input -> canvas repainted: median {np.median(took):.1f} ms, p95 {np.percentile(took, 95):.1f} ms"
          f" over {len(took)} inputs (targets 16, 33 ms); a frame drawn in median {np.median(page['draw']):.1f} ms,"
          f" p95 {np.percentile(page['draw'], 95):.1f} ms")
    print(f"play: median {median(page['play']):.1f} pictures/s (target >= 30; 30 iterations/s, a picture a screen frame)")
    print(f"lr slider dragged ({args.drags} drags, {args.moves} moves):")
    print(f"  HTML page:         pictures while dragging median {median(page['shown']):.1f} /s, "
          f"mouse-up -> final picture max {max(page['final']):.0f} ms")
    if explorer is not None:
        print(f"  notebook explorer: pictures while dragging median {median(explorer['shown']):.1f} /s, "
              f"mouse-up -> final picture max {max(explorer['final']):.0f} ms")


if __name__ == "__main__":
    main()
