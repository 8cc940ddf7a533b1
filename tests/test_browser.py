"""In a real browser: JupyterLab serves the notebook, Chromium runs the explorer cell, a drag of
the lr slider redraws the figure and a click on the landscape moves the start there. Skips
(saying why) on a machine without Chromium."""

import os
import shutil
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "landscape.ipynb"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Chromium is not installed (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyter_lab(tmp_path):
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, LANDSCAPE_CIFAR_URL="http://127.0.0.1:9/offline",
               JUPYTER_CONFIG_DIR=str(tmp_path / ".jupyter"), JUPYTER_RUNTIME_DIR=str(tmp_path / ".runtime"))
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}"]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "lab.log", "w"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-2000:])
            time.sleep(0.5)
    yield f"{url}/lab/tree/{NOTEBOOK.name}?token={token}"
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def _run_cell(page, editors, index: int) -> None:
    """Shift+Enter in code cell ``index``, until its prompt shows it ran (a key pressed while
    JupyterLab is still settling can be lost)."""
    prompt = page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt").nth(index)
    for _ in range(5):
        editors.nth(index).click()
        page.keyboard.press("Shift+Enter")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if any(c.isdigit() or c == "*" for c in prompt.inner_text()):
                return
            page.wait_for_timeout(250)
    pytest.fail(f"code cell {index} did not start running")


def test_slider_drag_redraws_and_a_click_sets_the_start(jupyter_lab, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.goto(jupyter_lab)
            editors = page.locator(".jp-Notebook .jp-CodeCell .jp-InputArea-editor")
            editors.first.wait_for(timeout=180_000)  # generous: a loaded 2-core machine is slow here
            page.locator(".jp-StatusBar-TextItem", has_text="Idle").first.wait_for(timeout=180_000)
            _run_cell(page, editors, 0)  # imports
            _run_cell(page, editors, 1)  # the explorer
            handle = page.locator(".widget-slider .noUi-handle").first
            handle.wait_for(timeout=240_000)
            image = page.locator(".jp-OutputArea .widget-image").first
            image.wait_for(timeout=60_000)
            before = image.get_attribute("src"), image.screenshot()
            box = handle.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] / 2 + 120, box["y"] + box["height"] / 2, steps=8)
            page.mouse.up()
            page.wait_for_function("([element, old]) => element.getAttribute('src') !== old",
                                   arg=[image.element_handle(), before[0]], timeout=30_000)
            page.wait_for_timeout(500)
            after = image.screenshot()
            assert after != before[1], "the figure must change when the slider moves"

            x0 = page.locator(".widget-text").filter(has=page.locator("label", has_text="x₀")).locator("input")
            start = float(x0.input_value())
            box = image.bounding_box()  # two-well: x from -2 to 2 across the contour plot
            page.mouse.click(box["x"] + 0.2 * box["width"], box["y"] + 0.5 * box["height"])
            page.wait_for_function("([element, old]) => Number(element.value) !== old",
                                   arg=[x0.element_handle(), start], timeout=30_000)
            assert -2 <= float(x0.input_value()) <= 2, "the click lands inside the landscape"
            page.screenshot(path=str(tmp_path / "lab.png"))
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"))  # what the page showed
            raise
        finally:
            browser.close()
