"""The explorer in a real browser: JupyterLab + Chromium (Playwright), the lr slider dragged by
the mouse as a user does. Measured in the page (MutationObserver on the figure's image):

- mouse-up -> final image: from releasing the slider to the last new picture (target <= 100 ms);
- frames per second while dragging: new pictures shown per second of drag (target >= 15);
- mouse-up -> first new image.

    python benchmarks/explorer_browser.py [--drags 12]

Needs Chromium (Debian's package) and the test extras (playwright); see tests/browser.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from browser import Lab, chromium, open_notebook, run_all, wait_for_status, widget  # noqa: E402

OBSERVE = """([image, readout]) => {
    window.shown = [];
    window.values = [];
    window.released = [];
    new MutationObserver(() => window.shown.push(performance.now()))
        .observe(image, {attributes: true, attributeFilter: ['src']});
    new MutationObserver(() => window.values.push(performance.now()))
        .observe(readout, {childList: true, characterData: true, subtree: true});
    document.addEventListener('mouseup', () => window.released.push(performance.now()), true);
}"""


def drag_once(page, handle, dx: float, moves: int, pause_ms: float) -> None:
    """Press the handle, move it ``dx`` pixels in ``moves`` moves ``pause_ms`` apart, release."""
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.evaluate("window.pressed = performance.now()")
    for move in range(1, moves + 1):
        page.mouse.move(x + dx * move / moves, y)
        page.wait_for_timeout(pause_ms)
    page.mouse.up()


EXPLORERS = {
    "frames drawn ahead while idle (the default)": "explore()",
    "every frame drawn on demand (prefetch off)":
        "explorer = Explorer()\nexplorer.landscape.prefetch = False\nexplorer.widget()",
}


def measure(lab, name: str, cell: str, drags: int, moves: int) -> dict[str, list[float]]:
    """Drag the lr slider of a fresh explorer back and forth; per drag: ms from mouse-up to the
    first and the final new image, images shown and slider values offered per second."""
    measured = {"final": [], "first": [], "shown": [], "offered": []}
    with chromium() as page:
        open_notebook(page, lab.notebook(name, "from landscape.app import Explorer, explore", cell))
        run_all(page)
        wait_for_status(page, "computed")
        figure, slider = widget(page, "figure"), widget(page, "lr")
        handle, track = slider.locator(".noUi-handle"), slider.locator(".noUi-base")
        page.evaluate(OBSERVE, [figure.element_handle(), slider.locator(".widget-readout").element_handle()])
        page.wait_for_timeout(3000)  # a user looks at the figure before dragging
        width = track.bounding_box()["width"]
        for index in range(drags):
            page.evaluate("window.shown = []; window.values = []; window.released = []")
            # across 80 % of the slider (~25 of its 31 values), back and forth
            drag_once(page, handle, dx=0.8 * width * (1 if index % 2 == 0 else -1), moves=moves, pause_ms=16)
            page.wait_for_timeout(2000)  # every picture of this drag has arrived
            shown, values, pressed, released = page.evaluate(
                "[window.shown, window.values, window.pressed, window.released[0]]")
            seconds = (released - pressed) / 1000
            after = [t for t in shown if t > released]
            measured["shown"].append(len([t for t in shown if pressed <= t <= released]) / seconds)
            measured["offered"].append(len([t for t in values if pressed <= t <= released]) / seconds)
            measured["final"].append((after[-1] - released) if after else 0.0)
            measured["first"].append((after[0] - released) if after else 0.0)
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drags", type=int, default=12)
    parser.add_argument("--moves", type=int, default=15, help="mouse moves per drag")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "root"
        root.mkdir()
        lab = Lab(root)
        try:
            results = {title: measure(lab, f"bench{index}.ipynb", cell, args.drags, args.moves)
                       for index, (title, cell) in enumerate(EXPLORERS.items())}
        finally:
            lab.close()
    median = statistics.median
    print(f"explorer in Chromium, {args.drags} drags across 80 % of the lr slider ({args.moves} mouse moves each):")
    for title, m in results.items():
        print(f"  {title}:")
        print(f"    mouse-up -> final image: median {median(m['final']):.0f} ms, max {max(m['final']):.0f} ms "
              f"(target <= 100 ms); -> first new image: median {median(m['first']):.0f} ms")
        print(f"    images shown while dragging: median {median(m['shown']):.1f} /s, min {min(m['shown']):.1f} /s "
              f"(target >= 15), for {median(m['offered']):.1f} slider values /s")


if __name__ == "__main__":
    main()
