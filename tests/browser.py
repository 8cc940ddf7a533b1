"""Driving JupyterLab in Chromium with Playwright: one server for all journeys, notebooks
written for each journey, and what a user sees read back as pixels and files.

Used by test_browser.py and benchmarks/explorer_browser.py."""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import nbformat
import numpy as np
import psutil
from PIL import Image

from landscape.app.standalone import PREHEAT, free_port
from landscape import draw, optim

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SLOW = 240_000  # ms: a loaded 2-core machine starts kernels and imports torch slowly


class Server:
    """A server process on 127.0.0.1 (its log next to ``root``), ready once ``ready`` answers
    (any HTTP answer: the server is up)."""

    def __init__(self, command: list[str], root: Path, port: int, ready: str, env: dict, cwd: Path | None = None):
        self.root, self.port = root, port
        self.url = f"http://127.0.0.1:{port}"
        self.log = root.parent / f"server-{port}.log"
        self.server = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                                       stderr=open(self.log, "w"))
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(ready, timeout=2)
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                if time.monotonic() > deadline or self.server.poll() is not None:
                    self.close()
                    raise RuntimeError(f"{command[:4]} did not start:\n" + self.log.read_text()[-2000:])
                time.sleep(0.5)

    def close(self) -> None:
        self.server.terminate()
        try:
            self.server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.server.kill()

    def kernels(self) -> int:
        """How many kernel processes the server runs (each ~500 MB once the explorer is imported)."""
        return len(self.kernel_processes())

    def kernel_ids(self) -> set[str]:
        """The ids of the kernels the server runs."""
        return set(self.kernel_processes())

    def kernel_processes(self) -> dict[str, psutil.Process]:
        """The server's kernel processes by kernel id, read from each one's connection file
        (``-f …/kernel-<id>.json``)."""
        found = {}
        for child in psutil.Process(self.server.pid).children(recursive=True):
            try:
                command = child.cmdline()
            except psutil.NoSuchProcess:  # it ended as we looked
                continue
            if command[1:3] == ["-m", "ipykernel_launcher"]:
                found[Path(command[command.index("-f") + 1]).stem.removeprefix("kernel-")] = child
        return found

    def wait_until_quiet(self, count: int, quiet_s: float = 3.0, timeout: float = SLOW / 1000) -> dict[str, float]:
        """Wait until the server runs ``count`` kernels and none of them has used more than 2 % of
        a core for ``quiet_s`` seconds (the kernels Voilà keeps ready have run the page as far as
        it goes before a request); the CPU seconds each one has used by then, by kernel id."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            kernels = self.kernel_processes()
            if len(kernels) != count:
                time.sleep(0.5)
                continue
            try:
                before = {kernel: sum(process.cpu_times()[:2]) for kernel, process in kernels.items()}
                time.sleep(quiet_s)
                after = {kernel: sum(process.cpu_times()[:2]) for kernel, process in kernels.items()}
            except psutil.NoSuchProcess:
                continue
            if self.kernel_ids() == set(kernels) and all(after[k] - before[k] < 0.02 * quiet_s for k in kernels):
                return after
        raise TimeoutError(f"the server's kernels did not settle at {count} within {timeout:.0f} s: "
                           f"{len(self.kernel_processes())} run")

    def wait_for_kernels(self, count: int = 0, timeout: float = 60) -> int:
        """Wait until the server runs ``count`` kernel processes (a kernel takes a moment to end);
        how many it runs then."""
        deadline = time.monotonic() + timeout
        while (running := self.kernels()) != count and time.monotonic() < deadline:
            time.sleep(0.5)
        return running


class Lab(Server):
    """A JupyterLab server on 127.0.0.1 serving ``root``."""

    def __init__(self, root: Path, env: dict | None = None):
        port, self.token = free_port(), secrets.token_hex(16)
        settings = root.parent / ".lab-settings"
        (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True, exist_ok=True)
        (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
            '{"fetchNews": "false", "checkForUpdates": false}')  # no news toast over the page
        environment = dict(os.environ, JUPYTER_CONFIG_DIR=str(root.parent / ".jupyter"),
                           JUPYTER_RUNTIME_DIR=str(root.parent / ".runtime"),
                           JUPYTERLAB_SETTINGS_DIR=str(settings), **(env or {}))
        command = ([sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
                    f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}"]
                   + (["--allow-root"] if os.geteuid() == 0 else []))
        super().__init__(command, root, port, f"http://127.0.0.1:{port}/api/status?token={self.token}", environment)

    def notebook(self, name: str, *cells: str) -> str:
        """Write a notebook of code ``cells`` into the root; its URL."""
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(notebook, self.root / name)
        return self.tree(name)

    def tree(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?reset&token={self.token}"  # reset: only this notebook open

    def api(self, path: str, method: str = "GET"):
        """The Jupyter REST API's answer at /api/``path`` (JSON; None when empty)."""
        request = urllib.request.Request(f"{self.url}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        """Shut down the kernel of every notebook open (ending its session, as Kernel ▸ Shut Down
        Kernel and closing the notebook do): a kernel otherwise runs until the server stops."""
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", "DELETE")


class App(Server):
    """``python -m landscape app`` (the explorer's standalone Voilà page) with ``root`` as its
    settings folder and working folder."""

    def __init__(self, root: Path, env: dict | None = None, python: str = sys.executable, options: tuple = ()):
        """``options``: of ``app``, each as ``--name=value``."""
        port = free_port()
        # kernels kept ready beside the pages' own (--preheat)
        self.preheat = int(dict(option.split("=", 1) for option in options).get("--preheat", PREHEAT))
        environment = dict(os.environ, JUPYTER_CONFIG_DIR=str(root.parent / ".jupyter-app"),
                           JUPYTER_RUNTIME_DIR=str(root.parent / ".runtime-app"), **(env or {}))
        environment.pop("LANDSCAPE_SETTINGS", None)  # the app's own default: the folder it runs in
        super().__init__([python, "-m", "landscape", "app", f"--port={port}", *options], root, port,
                         f"http://127.0.0.1:{port}/voila/static/", environment, cwd=root)

    def page(self, setting: str | None = None) -> str:
        return self.url + "/" + (f"?setting={setting}" if setting else "")


def close_the_tab(page) -> None:
    """Leave the page as a user closing its tab does: its unload handlers run (Voilà's shuts the
    page's kernel down; closing the browser alone would not)."""
    page.goto("about:blank")


@contextmanager
def chromium(viewport=(1400, 900), last_screenshot: Path | None = None):
    """A fresh Chromium page (its own context: no state from another journey); what it showed
    when the journey ended is kept in ``last_screenshot``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
            yield page
            if last_screenshot is not None:
                page.screenshot(path=str(last_screenshot))
        finally:
            browser.close()


def open_notebook(page, url: str) -> None:
    page.goto(url)
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=SLOW)
    kernel_idle(page)


def kernel_idle(page, timeout: int = SLOW) -> None:
    """The kernel status in the notebook's toolbar and status bar reads idle."""
    page.locator(".jp-StatusBar-TextItem", has_text="Idle").first.wait_for(timeout=timeout)


def menu(page, top: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=top).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


ALL_RAN = """() => { const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
                     return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent)); }"""


def run_all(page, timeout: int = SLOW) -> None:
    """Run ▸ Run All Cells; wait until every code cell has run (a number in its prompt)."""
    menu(page, "Run", "Run All Cells")
    _wait_until_all_ran(page, timeout)


def restart_kernel_and_run_all(page, timeout: int = SLOW) -> None:
    menu(page, "Kernel", "Restart Kernel and Run All Cells")
    page.locator(".jp-Dialog-button.jp-mod-accept").first.click()  # "Confirm Kernel Restart"
    page.wait_for_timeout(2000)
    _wait_until_all_ran(page, timeout)


def _wait_until_all_ran(page, timeout: int) -> None:
    page.wait_for_function(ALL_RAN, timeout=timeout)
    errors = page.locator("[data-mime-type='application/vnd.jupyter.error']")
    if errors.count():
        raise AssertionError("a cell raised:\n" + "\n".join(errors.all_inner_texts())[-3000:])


def widget(page, name: str):
    """The element of the explorer's widget named ``name`` (CSS class lsc-<name>)."""
    return page.locator(f".lsc-{name}").first


def wait_until(page, selector: str, test: str, argument=None, timeout: int = 60_000) -> None:
    """Wait until ``test(element, argument)`` (JavaScript) holds for the first element matching
    ``selector``, looked up afresh at each try: a widget view rendered again is a new element,
    and a handle to the old one would wait for it forever."""
    page.wait_for_function(
        f"([selector, argument]) => {{ const element = document.querySelector(selector);"
        f" return element !== null && ({test})(element, argument); }}",
        arg=[selector, argument], timeout=timeout)


def text_input(page, name: str, value: str) -> None:
    """Type into a Text widget as a user does, then Enter (continuous_update is off)."""
    field = widget(page, name).locator("input, textarea").first
    field.fill(value)
    field.press("Enter")


def pixels(locator) -> np.ndarray:
    """What the element shows on screen, as RGB (H, W, 3)."""
    return np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("RGB")).astype(int)


def shown_image(locator) -> np.ndarray:
    """The picture an <img> element holds (its src, fetched by the page), as RGB (H, W, 3):
    what the browser displays, at the image's own resolution."""
    data = locator.evaluate("""async element => {
        const response = await fetch(element.src);
        return Array.from(new Uint8Array(await response.arrayBuffer())); }""")
    return np.asarray(Image.open(io.BytesIO(bytes(data))).convert("RGB")).astype(int)


def save(page) -> None:
    """Ctrl+S, as a user saves the notebook (outputs included)."""
    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=30_000)


def colour_pixels(image: np.ndarray, hex_colour: str, tolerance: int = 30) -> int:
    rgb = [int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]
    return int((np.abs(image - rgb) < tolerance).all(-1).sum())


def image_source(page, name: str = "figure") -> str:
    return widget(page, name).get_attribute("src") or ""


def wait_for_new_image(page, old_source: str, name: str = "figure", timeout: int = 60_000) -> None:
    wait_until(page, f".lsc-{name}", "(element, old) => element.getAttribute('src') !== old", old_source, timeout)


def wait_for_picture(page, name: str = "figure", timeout: int = 60_000) -> None:
    """Wait until the image widget ``name`` shows a decoded picture."""
    wait_until(page, f".lsc-{name}", "element => element.naturalWidth > 0", timeout=timeout)


def status_text(page, name: str = "message") -> str:
    return widget(page, name).inner_text()


def wait_for_status(page, pattern: str, name: str = "message", timeout: int = SLOW) -> str:
    """Wait until the status line ``name`` matches the regular expression; its text."""
    wait_until(page, f".lsc-{name}", "(element, pattern) => new RegExp(pattern).test(element.textContent)",
               pattern, timeout)
    return status_text(page, name)


def drag(page, handle, dx: float, steps: int = 8) -> None:
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y, steps=steps)
    page.mouse.up()


def spec_colours(specs: str) -> list[str]:
    """The colours of the runs of ``specs`` (a comma-separated list) in a figure of them (each spec
    at its own learning rate, or all at one)."""
    return draw.colours(optim.parse_list(specs))


def drawn(page, runs: int) -> tuple[np.ndarray, np.ndarray]:
    """The landscape picture's contour and loss panels as the page holds them, after checking
    that the ``runs`` optimizers the optimizers field lists are drawn in the loss panel, each in
    its colour (a white background: only the curves are coloured)."""
    specs = widget(page, "optimizers").locator("input").first.input_value()
    colours = spec_colours(specs)
    assert len(colours) == runs, f"{specs!r}: {runs} optimizers"
    image = shown_image(widget(page, "figure"))
    width = image.shape[1]
    contour, loss = image[:, : int(0.55 * width)], image[:, int(0.62 * width):]
    for spec, colour in zip(specs.split(","), colours):  # JPEG blurs the colour of thin lines: a wide tolerance
        assert colour_pixels(loss, colour, 60) > 150, f"the loss curve of {spec.strip()} ({colour}) is drawn"
    return contour, loss


def click_the_left_of_the_two_well(page) -> None:
    """Click the two-well's contour panel a fifth of the way across; check that the start
    fields take a point in its left half (x from -2 to 2 across the panel)."""
    x0 = widget(page, "x0").locator("input")
    start = float(x0.input_value())
    box = widget(page, "figure").bounding_box()
    page.mouse.click(box["x"] + 0.2 * box["width"], box["y"] + 0.5 * box["height"])
    wait_until(page, ".lsc-x0 input", "(element, old) => Number(element.value) !== old", start)
    assert -2 <= float(x0.input_value()) <= 0, "the click lands in the left half of the landscape"


def open_html_page(page, path: Path) -> tuple[str, list[str]]:
    """Open a page made by ``python -m landscape page`` (Export page) from file:// in a new tab of
    ``page``'s browser, every request outside the file aborted; once it has drawn: what it describes
    of its picture (iteration, lr, momentum, the legend) and the requests it tried outside the file."""
    tab = page.context.browser.new_page()
    outside: list[str] = []

    def route(request_route) -> None:
        if request_route.request.url.startswith(("file:", "data:", "blob:")):
            request_route.continue_()
        else:
            outside.append(request_route.request.url)
            request_route.abort()

    tab.route("**/*", route)
    try:
        tab.goto(Path(path).resolve().as_uri())
        tab.wait_for_selector(".described:not(:empty)", timeout=30_000)
        return tab.locator(".described").text_content(), outside
    finally:
        tab.close()
