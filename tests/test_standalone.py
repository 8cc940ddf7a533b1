"""The explorer's standalone page (``landscape.app.standalone``) on the Python side: the
lecturer's link, the page's notebook, the ``app`` command, and the page served from a clean
virtual environment made from pyproject.toml. The page in a browser: test_browser_page.py."""

import asyncio
import base64
import datetime
import html
import re
import socket
import subprocess
import sys
import threading
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest

from browser import App
from landscape.app import LEARNING_RATES, MOMENTA, Explorer, Setting, page
from landscape.setting import nearest
from landscape.app.common import SETTINGS_FOLDER, settings_folder
from landscape.app.standalone import (KEEP_UNCONNECTED, PREHEAT, PREHEATED, free_port, linked_setting, notebook,
                                      page_query, page_url, preheated_explorer, voila_command)
from landscape.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "ex1.json").write_text(Setting(surface="quadratic", lr=0.1).to_json())
    return tmp_path


def test_a_link_names_a_setting_in_the_settings_folder(folder):
    assert linked_setting("", folder) is None
    assert linked_setting("theme=dark", folder) is None
    setting, moved = linked_setting("?setting=exercises%2Fex1.json&theme=dark", folder)
    assert setting == Setting(surface="quadratic", lr=0.1) and moved == ""


def test_a_linked_value_between_slider_values_is_shown_at_the_nearest_and_says_so(folder):
    (folder / "between.json").write_text('{"lr": 0.0015, "momentum": 0.93, "beta2": 0.999}')
    setting, moved = linked_setting("setting=between.json", folder)
    assert (setting.lr, setting.momentum) == (nearest(LEARNING_RATES, 0.0015, log=True), nearest(MOMENTA, 0.93))
    assert setting.lr != 0.0015 and setting.momentum != 0.93
    assert moved == (f"lr 0.0015 is shown as {setting.lr:.3g}, momentum 0.93 is shown as {setting.momentum:.3g} "
                     f"(the nearest values the sliders offer)")
    assert f"{moved}; computed" in _status(page("setting=between.json", folder))


@pytest.mark.parametrize("query, message", [
    ("setting=../ex1.json", "is not in the settings folder"),
    ("setting=/etc/passwd", "is not in the settings folder"),
    ("setting=exercises/none.json", "cannot read the link's setting 'exercises/none.json'"),
    ("setting=exercises", "cannot read the link's setting 'exercises'"),
])
def test_a_link_outside_the_folder_or_to_no_file_is_refused(folder, query, message):
    with pytest.raises(ValueError, match=message):
        linked_setting(query, folder)


def test_a_link_to_a_wrong_setting_names_it_and_what_is_wrong(folder):
    (folder / "bad.json").write_text('{"surface": "nowhere"}')
    with pytest.raises(ValueError, match=r"the link's setting 'bad.json'.*nowhere"):
        linked_setting("setting=bad.json", folder)


@pytest.mark.parametrize("content, message", [
    ('{"surface": {"name": "quadratic"}}', "surface is {'name': 'quadratic'}; expected one of quadratic"),
    ('{"surface": ["quadratic"]}', "surface is ['quadratic']; expected one of quadratic"),
    ('{"schedule": ["cosine"]}', "schedule is ['cosine']; expected one of none, step"),
    ("[" * 5_000 + "]" * 5_000, "is not a setting: nested too deeply"),
    ('{"seed": 18446744073709551616}', "seed is 18446744073709551616; expected an integer from 0 to 2**63 - 1"),
    ('{"seed": -1}', "seed is -1; expected an integer from 0 to 2**63 - 1"),
    ('{"optimizers": "sgd", "lr": 0.1, "x": "' + "a" * 200_000 + '"}', "is not a setting: 200,"),
])
def test_a_malformed_setting_is_refused_and_the_page_opens_the_default_with_why(folder, content, message):
    (folder / "odd.json").write_text(content)
    with pytest.raises(ValueError) as error:
        linked_setting("setting=odd.json", folder)
    assert message in str(error.value)
    tabs = page("setting=odd.json", folder)
    assert _status(tabs).startswith("⚠ the link's setting 'odd.json'") and message in _status(tabs)


def test_the_page_opens_the_linked_setting_or_says_why_not(folder):
    tabs = page("setting=exercises/ex1.json", folder)
    status = _status(tabs)
    assert "opened the link's setting" in status and "on quadratic" in status
    tabs = page("setting=missing.json", folder)
    assert _status(tabs).startswith("⚠ cannot read the link's setting 'missing.json'")


def test_an_explorer_computed_ahead_is_given_the_linked_setting_and_its_picture_before_it_is_shown(folder):
    """A preheated kernel computed the default setting before the page asked: the link's setting
    replaces it, picture included, before the page shows anything; a page without a link, or with
    a wrong one, shows it as it is."""
    ahead = Explorer(in_page=True)
    default_picture = ahead.landscape.image.value
    tabs = page("setting=exercises/ex1.json", folder, explorer=ahead)
    assert ahead.landscape.image in _descendants(tabs), "the explorer computed ahead is the page's"
    status = _status(tabs)
    assert status.startswith("opened the link's setting; computed") and "on quadratic" in status
    linked = Explorer(Setting(surface="quadratic", lr=0.1), in_page=True)
    assert ahead.setting == linked.setting and ahead.landscape.image.value != default_picture
    assert ahead.landscape.image.value == linked.landscape.image.value, "the link's picture, already drawn"
    ahead = Explorer(in_page=True)
    tabs = page("setting=missing.json", folder, explorer=ahead)
    assert _status(tabs).startswith("⚠ cannot read the link's setting 'missing.json'")
    assert ahead.landscape.image.value == default_picture and ahead.landscape.image in _descendants(tabs)
    ahead.wait()
    linked.wait()


@contextmanager
def _voila_request_info(kernel: str, request: dict):
    """Voilà's own request-info socket (what ``app`` serves with --preheat) on a free port,
    holding ``request`` for the kernel ``kernel``, as Voilà does once a page asks for it."""
    import tornado.web
    from voila.request_info_handler import RequestInfoSocketHandler

    port, started, loop = free_port(), threading.Event(), asyncio.new_event_loop()

    def serve():
        asyncio.set_event_loop(loop)
        tornado.web.Application([(r"/voila/query/(.*)", RequestInfoSocketHandler)]).listen(port, "127.0.0.1")
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    started.wait(10)
    RequestInfoSocketHandler.send_updates({"kernel_id": kernel, "payload": request})
    try:
        yield port
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def test_the_page_notebook_in_a_preheated_kernel_computes_the_explorer_then_waits_for_the_link(folder, monkeypatch):
    """What Voilà's pool does with the page's notebook: it runs the cells before any page asks,
    in a kernel whose environment is the server's (``VOILA_PREHEAT=True``, no ``QUERY_STRING``).
    The first cell computes and draws the default setting's explorer; the second waits for the
    request (Voilà's request-info socket, ``get_query_string``) and shows that explorer with the
    link's setting, or says that it could not read the link. A kernel started for a page reads
    the link from its environment and computes only what it names."""
    monkeypatch.delenv(PREHEATED, raising=False)
    assert preheated_explorer() is None, "a kernel started for a page computes only what its link names"
    monkeypatch.setenv("QUERY_STRING", "setting=exercises/ex1.json")
    assert page_query() == "setting=exercises/ex1.json"
    ahead, shown = [cell.source for cell in notebook().cells if cell.cell_type == "code"]
    monkeypatch.setenv(PREHEATED, "True")
    monkeypatch.setenv(SETTINGS_FOLDER, str(folder))
    monkeypatch.delenv("QUERY_STRING")  # none yet: a preheated kernel's environment is the server's
    monkeypatch.setenv("VOILA_KERNEL_ID", "kernel-1")
    kernel = {}
    exec(ahead, kernel)  # before any request
    explorer = kernel["explorer"]
    default = Setting()
    assert isinstance(explorer, Explorer), "the default setting, computed ahead"
    assert (explorer.setting.surface, explorer.setting.optimizers) == (default.surface, default.optimizers)
    assert explorer.landscape.image.value, "and its picture drawn"
    with _voila_request_info("kernel-1", {"QUERY_STRING": "setting=exercises/ex1.json"}) as port:
        monkeypatch.setenv("VOILA_APP_PORT", str(port))
        tabs = eval(shown, kernel)  # the page's request arrives
    assert explorer.landscape.image in _descendants(tabs), "the page shows the explorer computed ahead"
    assert explorer.setting.surface == "quadratic" and explorer.sweep.setting is explorer.setting
    assert _status(tabs).startswith("opened the link's setting; computed")
    monkeypatch.delenv("QUERY_STRING")  # wait_for_request put the request's into the environment
    monkeypatch.setenv("VOILA_APP_PORT", str(free_port()))  # nothing answers there
    with pytest.warns(UserWarning, match="Failed to connect"):
        tabs = eval(shown, kernel)
    assert _status(tabs).startswith("⚠ the page could not read its link from the server: reload the page")
    explorer.wait()


def _status(tabs) -> str:
    """The text of the Landscape tab's status line."""
    found = [child for child in _descendants(tabs) if "lsc-message" in getattr(child, "_dom_classes", ())]
    return html.unescape(re.sub("<[^>]+>", "", found[0].value))


def _descendants(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _descendants(child)


def test_the_repository_notebook_is_the_page_the_app_serves():
    checked_in = nbformat.read(ROOT / "notebooks" / "explorer.ipynb", as_version=4)
    served = notebook()
    assert [(c.cell_type, c.source) for c in checked_in.cells] == [(c.cell_type, c.source) for c in served.cells]
    assert checked_in.metadata == served.metadata and served.metadata.title == "Loss landscapes"


def test_the_app_command_refuses_a_wrong_setting_or_port_before_serving(tmp_path, capsys):
    wrong = tmp_path / "wrong.json"
    wrong.write_text("{")
    assert main(["app", "--setting", str(wrong)]) == 2
    assert "is not JSON" in capsys.readouterr().err
    assert main(["app", "--setting", str(tmp_path / "none.json")]) == 2
    assert "cannot read the setting" in capsys.readouterr().err
    assert main(["app", "--port", "70000"]) == 2
    assert "Invalid port: 70000" in capsys.readouterr().err
    assert main(["app", "--keep-unconnected", "0"]) == 2
    assert "--keep-unconnected must be at least 1 second, not 0" in capsys.readouterr().err
    assert main(["app", "--preheat", "-1"]) == 2
    assert "--preheat must be 0 (no kernel kept ready) or more, not -1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["app", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"default {KEEP_UNCONNECTED})" in help_text and f"default {PREHEAT})" in help_text, "the defaults"
    with socket.socket() as taken:  # Voilà would quietly move to the next port: the printed URL would be wrong
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["app", "--port", str(port)]) == 2
        assert f"port {port} is in use" in capsys.readouterr().err


@pytest.mark.parametrize("preheat", [0, 1, 3])
def test_the_app_keeps_preheat_kernels_ready_with_the_page_run_or_none(preheat):
    """The server's configuration as Voilà reads it from ``app``'s command line: a pool of
    ``preheat`` kernels that run the page's notebook ahead (default ``PREHEAT``), or none. The
    pool cannot go with progressive rendering or a prelaunch hook (Voilà refuses both)."""
    from voila.app import Voila
    from voila.configuration import VoilaConfiguration

    def configuration(command: list[str]) -> VoilaConfiguration:
        assert command[1:3] == ["-m", "landscape.app.voila_page"]
        voila = Voila()
        voila.parse_command_line(command[3:])
        return VoilaConfiguration(config=voila.config)

    read = configuration(voila_command(Path("page.ipynb"), 8866, preheat=preheat))
    assert read.preheat_kernel is (preheat > 0)
    assert not read.progressive_rendering and read.prelaunch_hook is None
    if preheat:
        assert read.default_pool_size == preheat
    default = configuration(voila_command(Path("page.ipynb"), 8866))
    assert PREHEAT == 1 and default.preheat_kernel and default.default_pool_size == PREHEAT


def test_page_urls_carry_the_setting_name():
    assert page_url(8866) == "http://127.0.0.1:8866/"
    assert page_url(8866, "ex 1.json") == "http://127.0.0.1:8866/?setting=ex+1.json"


def test_the_page_starts_from_a_clean_virtual_environment_made_from_pyproject(tmp_path):
    """What a class server does: install the package (not editable, no test extras) into a new
    environment, then serve the page with a lecturer's link; the page runs the explorer without
    an error."""
    environment = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(environment)], check=True)
    python = environment / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-c", str(ROOT / "constraints.txt"),
                              str(ROOT)], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-3000:]
    settings = tmp_path / "settings"
    settings.mkdir()
    (settings / "ex1.json").write_text(Setting(surface="quadratic").to_json())
    app = App(settings, python=str(python), env={"PYTHONPATH": ""})
    try:
        html = urllib.request.urlopen(app.page("ex1.json"), timeout=300).read().decode()
    finally:
        app.close()
    # Voilà sends the widgets' state over the kernel's websocket: the page holds the cell's result,
    # the explorer's tabs (what they draw: test_browser_page.py)
    assert "application/vnd.jupyter.widget-view+json" in html and "Tab(children=" in html, html[-3000:]
    assert "lsc-surface" in html, "the explorer's first control"
    assert "Traceback" not in html and "application/vnd.jupyter.error" not in html
    assert "from landscape.app import page" not in html, "no code on the page"


def test_on_a_page_save_offers_the_setting_as_a_download_and_a_change_withdraws_it():
    explorer = Explorer(in_page=True)
    explorer.select(0.05, 0.5)
    explorer.offer_setting()
    link = explorer.setting_download.widget
    href = re.search(r'download="(two-well_[^"]+\.json)" href="data:application/json;base64,([^"]+)"', link.value)
    assert link.layout.display is None and href, link.value
    assert Setting.from_json(base64.b64decode(href.group(2)).decode()) == explorer.setting
    explorer.select(0.1, 0.5)  # the link would hand out the setting as it was
    assert link.layout.display == "none"
    explorer.wait()


def test_a_binary_file_is_not_a_setting_whether_read_or_uploaded(tmp_path):
    now = datetime.datetime.now(datetime.timezone.utc)
    picture = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"
    (tmp_path / "picture.json").write_bytes(picture)
    with pytest.raises(ValueError, match=r"^picture.json is not a setting: not a text file$"):
        Setting.read(tmp_path / "picture.json", "picture.json")
    explorer = Explorer(in_page=True)
    before = explorer.setting
    explorer.upload.value = ({"name": "picture.png", "type": "image/png", "size": len(picture),
                              "content": memoryview(picture), "last_modified": now},)
    assert explorer.status.text == "⚠ picture.png is not a setting: not a text file"
    assert explorer.setting == before and explorer.upload.value == ()
    explorer.upload.value = ({"name": "ex.json", "type": "application/json", "size": 2,
                              "content": memoryview(b'{"surface": "quadratic"}'), "last_modified": now},)
    assert explorer.status.text.startswith("loaded the setting from ex.json; computed") and \
        explorer.setting.surface == "quadratic"
    explorer.wait()


def test_save_and_the_link_agree_on_one_settings_folder_and_a_refusal_names_it(tmp_path, monkeypatch):
    """The notebook's Save writes a plain name where the app's link looks: inside a checkout its
    settings/ folder (the notebook runs in notebooks/, the app in the checkout's top folder)."""
    checkout = tmp_path / "checkout"
    for folder in ("gifs", "landscape", "notebooks"):
        (checkout / folder).mkdir(parents=True)
    (checkout / "landscape" / "__init__.py").write_text("")
    monkeypatch.delenv(SETTINGS_FOLDER, raising=False)
    monkeypatch.chdir(checkout / "notebooks")
    explorer = Explorer(surface="quadratic", optimizers="gd", steps=10)
    explorer.save_state("exercise.json")
    assert (checkout / "settings" / "exercise.json").is_file()
    assert explorer.status.text.endswith("the app opens it as …/?setting=exercise.json")
    monkeypatch.chdir(checkout)  # where make app runs
    assert settings_folder() == checkout / "settings"
    setting, _ = linked_setting("setting=exercise.json", settings_folder())
    assert setting == explorer.setting
    with pytest.raises(ValueError, match=r"cannot read the link's setting 'missing.json' \(in the settings folder "
                                         r"'settings'\)"):
        linked_setting("setting=missing.json", settings_folder())
