"""The explorer's standalone page (``python -m landscape app``, Voilà) in Chromium, as a student
uses it: no code, no file browser. Each journey opens the page afresh, which is a fresh kernel:
Voilà gives each page load one of the kernels it keeps ready (the app's default ``--preheat``;
one started for the page when none is left), and shuts it down when its tab is closed, as each
journey does at its end. Files are judged as the browser downloads them.

Needs Chromium, as test_browser.py."""

import json
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from browser import (CHROMIUM, SLOW, App, click_the_left_of_the_two_well, close_the_tab, drag, drawn, image_source,
                     open_html_page, status_text, wait_for_new_image, wait_for_picture, wait_for_status, widget)
from landscape.app import Setting

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Chromium is not installed (apt-get install chromium)")

EXERCISE = Setting(surface="quadratic", optimizers="gd, momentum", lr=0.1, momentum=0.5, steps=60, start=(1.5, 1.0))


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("app") / "settings"
    root.mkdir()
    (root / "exercise1.json").write_text(EXERCISE.to_json())
    (root / "broken.json").write_text('{"surface": "two-well", "lr": "fast"}')
    server = App(root)
    yield server
    server.close()


@pytest.fixture
def page(page, request):
    """The journey's page (conftest's). When the journey ends, passed or failed, its tab is closed,
    and then the app must run no kernel but those it keeps ready: a page's kernel (~500 MB) left
    behind would run until culled (KEEP_UNCONNECTED, 5 minutes) beside the next journeys'. The
    page's own goodbye does it (a shutdown request with the page's ``_xsrf`` cookie, which
    ``voila_page`` makes Voilà set)."""
    yield page
    if "app" in request.fixturenames:  # a journey with a server of its own stops it, kernels and all
        app = request.getfixturevalue("app")
        kernel = _kernel_id(page) if page.locator("#jupyter-config-data").count() else None
        close_the_tab(page)
        assert app.wait_for_kernels(app.preheat) == app.preheat, "the closed page's kernel is shut down"
        assert kernel not in app.kernel_ids(), "the closed page's kernel is shut down, not one kept ready"


def _open(page, url: str, status: str = "computed") -> None:
    """Open the page; wait for the explorer's first picture and a status matching ``status``."""
    page.goto(url)
    _shown(page, status)


def _shown(page, status: str = "computed") -> None:
    """The page shows the explorer: its first picture and a status matching ``status``."""
    widget(page, "figure").wait_for(timeout=SLOW)
    wait_for_status(page, status)
    wait_for_picture(page)


def _nothing_but_the_explorer(page) -> None:
    text = page.locator("body").inner_text()
    assert "Traceback" not in text and "Error" not in text, text[-2000:]
    assert "import" not in text and "page()" not in text, "no code"
    assert page.locator(".jp-CodeCell .jp-InputArea, .jp-InputPrompt, .cm-editor").count() == 0, "no code cell"
    assert page.locator("[data-mime-type='application/vnd.jupyter.error']").count() == 0
    for folder_field in ("gif-folder", "setting-file"):  # a student has no folders to name
        assert widget(page, folder_field).count() == 0


def _download(page, name: str, into: Path) -> Path:
    """Click the download link ``name`` as a user does; where the browser saved the file."""
    link = widget(page, name).locator("a[download]")
    link.wait_for(timeout=SLOW)
    with page.expect_download(timeout=60_000) as download:
        link.click()
    path = into / download.value.suggested_filename
    download.value.save_as(path)
    return path


def _upload_label(page) -> list:
    """What the Load button shows: the text it draws after its icon, and the on-screen width of
    ipywidgets' own label text ("Load (0)"), 0 when hidden."""
    return widget(page, "upload").evaluate("""button => {
        const text = [...button.childNodes].find(node => node.nodeType === Node.TEXT_NODE && node.textContent.trim());
        const range = document.createRange();
        if (text) range.selectNode(text);
        return [getComputedStyle(button, '::after').content.replaceAll('"', ''),
                text ? range.getBoundingClientRect().width : 0]; }""")


def _upload(page, path: Path) -> None:
    """Load: the button opens the browser's file chooser, where the user picks ``path``."""
    with page.expect_file_chooser(timeout=30_000) as chooser:
        widget(page, "upload").click()
    chooser.value.set_files(str(path))


def test_the_page_shows_only_the_explorer_and_a_slider_move_or_a_click_redraws(app, page):
    """The page is given a kernel kept ready (the app's default ``--preheat``), which computed and
    drew the explorer before the page asked: the kernel had done nearly all of its work by the
    request (~9 CPU s: Python, torch, the sweep, the picture and its neighbours), and showing the
    page takes a small part of that (~0.1 s); a kernel started for the page does it all after."""
    assert app.preheat > 0
    ready = app.wait_until_quiet(app.preheat)  # the CPU seconds each kernel kept ready has used
    _open(page, app.page())
    kernel = _kernel_id(page)
    assert kernel in ready, "the page is given a kernel that was started before it asked"
    shown = sum(app.kernel_processes()[kernel].cpu_times()[:2]) - ready[kernel]
    assert shown < 0.25 * ready[kernel], f"the kernel ran the page ahead ({ready[kernel]:.1f} CPU s), not after ({shown:.1f})"
    assert page.title() == "Loss landscapes"
    _nothing_but_the_explorer(page)
    drawn(page, 4)
    before = image_source(page)
    drag(page, widget(page, "lr").locator(".noUi-handle"), 15)
    wait_for_new_image(page, before)
    page.wait_for_timeout(1500)  # the last frame of the drag
    drawn(page, 4)
    click_the_left_of_the_two_well(page)
    wait_for_status(page, r"computed .* from \(-")
    drawn(page, 4)
    page.reload()  # a reload is a fresh kernel: the page comes back with the default setting
    _shown(page)
    drawn(page, 4)
    _nothing_but_the_explorer(page)


def test_export_gif_offers_a_download_with_many_frames(app, page, tmp_path):
    _open(page, app.page())
    widget(page, "export").click()
    wait_for_status(page, r"the GIF \(151 frames", timeout=120_000)
    path = _download(page, "gif-download", tmp_path)
    assert path.name.startswith("two-well_") and path.suffix == ".gif"
    frames = iio.imread(path, index=None)
    assert frames.shape[0] == 151 and frames.shape[1:3] == (540, 960)
    assert len({frame.tobytes() for frame in frames}) > 100, "the paths grow from frame to frame"
    _nothing_but_the_explorer(page)


def test_export_page_offers_a_download_that_opens_offline_and_loads_back(app, page, tmp_path):
    _open(page, app.page())
    widget(page, "export-page").click()
    wait_for_status(page, r"the page \(\d\.\d MB\)", timeout=120_000)
    path = _download(page, "page-download", tmp_path)
    assert path.name.startswith("two-well_") and path.suffix == ".html"
    described, outside = open_html_page(page, path)
    assert described.startswith("iteration 150, lr ") and described.count(" · ") == 3, described
    assert outside == []
    _upload(page, path)
    wait_for_status(page, rf"loaded the setting from {re.escape(path.name)}")
    assert Setting.read(path)[0].optimizers == "sgd, momentum, nesterov, adam"
    _nothing_but_the_explorer(page)


def test_save_offers_the_setting_and_loading_a_changed_one_redraws(app, page, tmp_path):
    _open(page, app.page())
    widget(page, "save").click()
    saved = json.loads(_download(page, "setting-download", tmp_path).read_text())
    assert Setting.checked(saved).surface == "two-well"
    changed = tmp_path / "mine.json"
    changed.write_text(json.dumps({**saved, "surface": "quadratic", "start": [1.5, 1.0]}))
    before = image_source(page)
    assert _upload_label(page) == ["Load", 0], "the button shows Load, not 'Load (0)': no count of files held"
    _upload(page, changed)
    wait_for_status(page, r"loaded the setting from mine.json; computed .* on quadratic from \(1.5, 1.0\)")
    assert _upload_label(page) == ["Load", 0], "and after a file was loaded"
    wait_for_new_image(page, before)
    assert widget(page, "surface").locator("select").input_value() == "quadratic"
    page.wait_for_timeout(1000)
    drawn(page, 4)


def test_a_wrong_setting_file_says_why_on_the_page_and_keeps_the_figure(app, page, tmp_path):
    _open(page, app.page())
    before = image_source(page)
    wrong = tmp_path / "notes.json"
    wrong.write_text("lr = 0.1, please")
    _upload(page, wrong)
    message = wait_for_status(page, "⚠")
    assert "notes.json is not JSON" in message and "Traceback" not in message
    assert image_source(page) == before, "the figure stays as it was"


# What the page shows, from its first moment: each surface its selector shows and each picture.
SEEN = """window.surfaces = []; window.pictures = [];
(function look() {
    const surface = document.querySelector('.lsc-surface select'), figure = document.querySelector('.lsc-figure');
    if (surface !== null && surface.value !== window.surfaces.at(-1)) window.surfaces.push(surface.value);
    if (figure !== null && figure.naturalWidth > 0 && figure.src !== window.pictures.at(-1))
        window.pictures.push(figure.src);
    setTimeout(look, 10);
})();"""


def test_a_lecturers_link_opens_the_exercise_and_never_shows_the_default_first(app, page):
    """The kernel kept ready computed the default setting before the page asked for it: the page
    shows the link's setting from its first moment, not the default and then a jump."""
    page.add_init_script(SEEN)
    _open(page, app.page("exercise1.json"), status="opened the link's setting; computed")
    assert widget(page, "surface").locator("select").input_value() == "quadratic"
    assert re.search(r"computed 2 optimizers .* on quadratic from \(1\.5, 1\.0\)", status_text(page))
    drawn(page, 2)
    _nothing_but_the_explorer(page)
    assert page.evaluate("window.surfaces") == ["quadratic"], "the surface shown from the first moment"
    assert len(page.evaluate("window.pictures")) == 1, "one picture shown: the exercise's, no default before it"


@pytest.mark.parametrize("setting, problem", [("broken.json", r"'broken.json'.*lr"),
                                              ("missing.json", "cannot read the link's setting 'missing.json'"),
                                              ("../outside.json", "not in the settings folder")])
def test_a_wrong_link_says_why_on_the_page_and_shows_the_default(app, page, setting, problem):
    _open(page, app.page(setting), status="⚠")
    assert re.search(problem, status_text(page)), status_text(page)
    assert widget(page, "surface").locator("select").input_value() == "two-well"
    assert np.asarray(drawn(page, 4)[0]).std() > 10


def test_a_reload_gives_the_old_kernel_back_and_a_cross_site_shutdown_is_still_refused(app, page):
    _open(page, app.page())
    old = _kernel_id(page)
    page.reload()  # the old page says goodbye (its kernel is shut down), the new one gets its own
    _shown(page)
    kernel = _kernel_id(page)
    assert kernel != old and app.wait_for_kernels(1 + app.preheat) == 1 + app.preheat
    assert old not in app.kernel_ids(), "one page, one kernel: the reloaded page's kernel was shut down"
    assert any(cookie["name"] == "_xsrf" for cookie in page.context.cookies()), "the page set its xsrf cookie"
    request = urllib.request.Request(f"{app.url}/voila/api/shutdown/{kernel}", data=b"", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:  # what another site's page could send: no token
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 403 and kernel in app.kernel_ids(), "the server's xsrf check still holds"
    drawn(page, 4)


def _kernel_id(page) -> str:
    """The page's kernel id, as Voilà writes it into the page's configuration."""
    return json.loads(page.locator("#jupyter-config-data").inner_text())["kernelId"]


def test_a_page_whose_browser_went_away_without_closing_it_gives_its_kernel_back(page, tmp_path):
    """Closing a tab shuts its kernel down; a browser that goes away without closing the page
    (a laptop lid, a lost network: here a page closed without unloading) leaves it running until
    ``--keep-unconnected`` seconds with no page connected. A page still open keeps its own, and a
    kernel kept ready for the next page (no page connected yet) is kept for it."""
    root = tmp_path / "settings"
    root.mkdir()
    server = App(root, options=("--keep-unconnected=2",))
    try:
        assert server.preheat == 1
        _open(page, server.page())
        leaving = page.context.browser.new_context().new_page()
        _open(leaving, server.page())
        staying, gone = _kernel_id(page), _kernel_id(leaving)
        assert server.wait_for_kernels(3) == 3, "two pages' kernels and one kept ready"
        leaving.context.close()  # no beforeunload: the page cannot say goodbye
        deadline = time.monotonic() + 60
        while gone in server.kernel_ids() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert gone not in server.kernel_ids(), "the unconnected page's kernel is shut down"
        time.sleep(5)
        kept = server.kernel_ids()
        assert staying in kept and len(kept) == 2, "the open page's kernel is kept, and the one kept ready"
        before = image_source(page)
        drag(page, widget(page, "lr").locator(".noUi-handle"), 15)
        wait_for_new_image(page, before)
        drawn(page, 4)
        arriving = page.context.browser.new_context().new_page()
        _open(arriving, server.page())
        assert _kernel_id(arriving) in kept - {staying}, "the kernel kept ready, never connected, serves the next page"
        drawn(arriving, 4)
        arriving.context.close()
    finally:
        server.close()
