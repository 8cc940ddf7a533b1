"""The standalone page's first picture (issue 23): from a student's navigation to the explorer's
first picture (the figure's <img> decoded: naturalWidth > 0, in the page's own clock), for one page
and for several opened at once, with kernels started on request (``--preheat 0``, as before issue
23) and with kernels kept ready (``--preheat 1``, the default, and 3; others with ``--pools``).

Every server runs throughout, side by side; each repeat measures each of them in turn, and
before each measurement the machine is let settle: every server runs only its pool, and no
kernel uses the CPU (a refilled pool has run its notebook). The browser (Chromium, Playwright)
runs on the same machine, as a lecturer's laptop serving a room would not: read the numbers
side by side, never as absolute times. Also printed: the memory of each idle pool kernel.

    python benchmarks/page_first_picture.py [--repeats 3] [--at-once 3] [--pools 0 1 3]

Needs Chromium and the test extras (playwright); see tests/browser.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from browser import ARGS, CHROMIUM, App  # noqa: E402

# Each page's own clock: performance.now() counts from its navigation's start.
WATCH = """(() => {
    const look = () => {
        const image = document.querySelector('.lsc-figure');
        if (image !== null && image.naturalWidth > 0) { window.firstPicture = performance.now(); return; }
        setTimeout(look, 20);
    };
    look();
})()"""
# several pages at once, each in its own window: no timer throttling of a page in the background
BROWSER_ARGS = [*ARGS, "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                "--disable-backgrounding-occluded-windows"]
LIMIT = 300_000  # ms: the slowest page may take minutes on a loaded 2-core machine
NEVER = float("inf")  # a page that showed no picture within LIMIT


def settle(apps: dict[int, App]) -> None:
    """Wait until each server runs only its pool's kernels and none of them has used more than 2 %
    of a core for 4 s (a refilled pool has run its notebook)."""
    for app in apps.values():
        app.wait_until_quiet(app.preheat, quiet_s=4.0, timeout=600)


async def first_pictures(browser, url: str, pages: int, failures: Path) -> list[float]:
    """Open ``pages`` pages of ``url`` at once, each in its own context (a student of its own);
    seconds from each one's navigation to its first picture, sorted (``NEVER`` for a page with no
    picture within ``LIMIT``: its screenshot and text go to ``failures``). Then close them (each
    page's goodbye shuts its kernel down)."""
    contexts = [await browser.new_context(viewport={"width": 1400, "height": 900}) for _ in range(pages)]
    opened = [await context.new_page() for context in contexts]
    for page in opened:
        await page.add_init_script(WATCH)

    async def picture(page) -> float:
        try:
            await page.wait_for_function("window.firstPicture !== undefined", timeout=LIMIT, polling=100)
        except Exception as error:  # noqa: BLE001 - kept, with what the page showed
            name = f"no-picture-{time.strftime('%H%M%S')}-{opened.index(page)}"
            failures.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(failures / f"{name}.png"))
            (failures / f"{name}.txt").write_text(f"{error}\n\n{await page.locator('body').inner_text()}")
            return NEVER
        return await page.evaluate("window.firstPicture") / 1000

    try:
        await asyncio.gather(*(page.goto(url, wait_until="commit", timeout=LIMIT) for page in opened))
        return sorted(await asyncio.gather(*(picture(page) for page in opened)))
    finally:
        for page in opened:
            await page.goto("about:blank")
        for context in contexts:
            await context.close()


def pool_memory(app: App) -> list[tuple[float, float]]:
    """(RSS, USS) in GB of each kernel the server runs."""
    memory = []
    for kernel in app.kernel_processes().values():
        info = kernel.memory_full_info()
        memory.append((info.rss / 1e9, info.uss / 1e9))
    return memory


async def measure(apps: dict[int, App], repeats: int, at_once: int,
                  failures: Path) -> dict[tuple[int, int], list[list[float]]]:
    from playwright.async_api import async_playwright

    times = {(pool, pages): [] for pool in apps for pages in (1, at_once)}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
        try:
            for repeat in range(repeats):
                for pages in (1, at_once):
                    for pool, app in apps.items():
                        settle(apps)
                        load = os.getloadavg()[0]
                        measured = await first_pictures(browser, app.page(), pages, failures)
                        times[pool, pages].append(measured)
                        print(f"repeat {repeat + 1}, --preheat {pool}, {pages} page(s) at once: "
                              f"{', '.join(f'{t:.1f}' for t in measured)} s (load average before {load:.1f})",
                              flush=True)
        finally:
            await browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--at-once", type=int, default=3, help="pages opened at once (default 3)")
    parser.add_argument("--pools", type=int, nargs="+", default=[0, 1, 3], help="--preheat of each server")
    parser.add_argument("--failures", type=Path, default=Path(tempfile.gettempdir()) / "page-failures",
                        help="where a page with no picture leaves its screenshot, and the servers their logs")
    args = parser.parse_args()
    started = time.monotonic()
    print(f"{os.cpu_count()} CPUs, {psutil.virtual_memory().total / 1e9:.0f} GB; "
          f"load average at the start {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        apps = {}
        try:
            for pool in args.pools:
                root = Path(folder) / f"preheat-{pool}" / "settings"
                root.mkdir(parents=True)
                apps[pool] = App(root, options=(f"--preheat={pool}",))
            settle(apps)
            memory = {pool: pool_memory(app) for pool, app in apps.items() if pool}
            times = asyncio.run(measure(apps, args.repeats, args.at_once, args.failures))
        finally:
            for pool, app in apps.items():
                app.close()
                if args.failures.is_dir():
                    shutil.copy(app.log, args.failures / f"server-preheat-{pool}.log")
    median = statistics.median
    print(f"\nfirst picture, seconds from navigation (median of {args.repeats} repeats [range]); "
          f"of pages opened at once, the first, second, … to show it:")
    print("| --preheat | pages at once | first picture, each page (s) |\n| ---: | ---: | --- |")
    for (pool, pages), rounds in times.items():
        cells = [f"{median(r[i] for r in rounds):.1f} [{min(r[i] for r in rounds):.1f}-"
                 f"{max(r[i] for r in rounds):.1f}]" for i in range(pages)]  # inf: a page showed none
        print(f"| {pool} | {pages} | {' / '.join(cells)} |")
    for pool, kernels in memory.items():
        print(f"idle pool of --preheat {pool}: " + ", ".join(f"RSS {rss:.2f} GB (own, USS {uss:.2f} GB)"
                                                           for rss, uss in kernels))
    print(f"load average at the end {os.getloadavg()[0]:.1f}; {time.monotonic() - started:.0f} s in all")


if __name__ == "__main__":
    main()
