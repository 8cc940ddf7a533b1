"""The explorer as a standalone web page, served by Voilà: ``python -m landscape app`` (``make app``).

Students open a page, not a notebook: no code cells, no file browser. Files travel through the
browser (``Explorer(in_page=True)``): Export GIF and Save offer downloads, Load is an upload.

A lecturer's link opens a saved setting: ``…/?setting=exercise1.json`` names a JSON file in the
settings folder, which is ``LANDSCAPE_SETTINGS`` if set, else the page's folder (Voilà runs the
kernel there and hands it the query string as ``QUERY_STRING``). ``app --setting F`` serves F's
folder and prints the link to F. A name outside the folder is refused in the page.

A page opens with its picture ready: ``app`` keeps ``--preheat`` kernels (default ``PREHEAT``)
in which Voilà has already run the notebook up to the page's request. The first cell computes
the default setting's explorer (``preheated_explorer``); the second (``page``) waits for the
request, then shows that explorer, or gives it the linked setting before showing it, so that a
linked page never shows the default first.

The page's notebook is ``notebook()``; ``notebooks/explorer.ipynb`` is its copy in the repository,
for Binder and JupyterHub (``voila/render/notebooks/explorer.ipynb``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

import ipywidgets as widgets
import nbformat

from .common import SETTINGS_FOLDER, settings_folder
from .explorer import Explorer
from ..setting import Setting

TITLE = "# Loss landscapes: optimizers on a surface"
INTRODUCTION = ("Drag the sliders, click the landscape to start from there, press play; Export GIF "
                "and Save offer files to download, Load takes a saved setting.")
AHEAD = "from landscape.app.standalone import page, preheated_explorer\n\nexplorer = preheated_explorer()"
CODE = "page(explorer=explorer)"
KEEP_UNCONNECTED = 300  # s: how long a page's kernel outlives its browser gone without a goodbye
# Kernels kept ready, the notebook run: the next page shows its picture in ~1 s instead of ~6 s on
# 2 cores (docs/benchmarks.md). Each holds ~0.55 GB (0.43 GB its own) while it waits and is
# refilled once taken; one serves a page at a time (a laptop, a reload, a student arriving late);
# a class opening the link at once gets the rest from kernels started on request (docs/class.md).
PREHEAT = 1
PREHEATED = "VOILA_PREHEAT"  # Voilà sets it to "True" in the kernels of its pool (voila.utils.ENV_VARIABLE)


def linked_setting(query: str, folder: Path) -> tuple[Setting, str] | None:
    """The setting that a page's query string (``setting=NAME``) names in ``folder``, and which
    values it shows at the nearest slider value (``Setting.moved_from``); None when it names none.
    ``ValueError`` for a name outside ``folder`` or a file that is not a setting."""
    names = urllib.parse.parse_qs(query.lstrip("?")).get("setting")
    if not names:
        return None
    folder = folder.resolve()
    path = (folder / names[-1]).resolve()
    if not path.is_relative_to(folder):
        raise ValueError(f"the link's setting {names[-1]!r} is not in the settings folder {folder.name!r}")
    return Setting.read(path, f"the link's setting {names[-1]!r} (in the settings folder {folder.name!r})")


def preheated() -> bool:
    """Whether this kernel is one Voilà preheats: it runs the notebook before any page asks for it."""
    return os.environ.get(PREHEATED) == "True"


def preheated_explorer() -> Explorer | None:
    """In a kernel Voilà preheats, the explorer of the default setting, computed and drawn before a
    page asks for the kernel (``page`` shows it); elsewhere None: a kernel started for a page
    computes only what the page's link names."""
    return Explorer(in_page=True) if preheated() else None


def page_query() -> str:
    """The query string of the page's request (its link). Voilà hands a kernel it starts for a
    request the request's ``QUERY_STRING``; a preheated kernel ran the notebook before any request,
    so it waits here until Voilà gives it a page, and is then told the request
    (``voila.utils.get_query_string``). ``ValueError`` if it could not be told."""
    if not preheated():
        return os.environ.get("QUERY_STRING", "")
    from voila.utils import get_query_string

    query = get_query_string()
    if query is None:  # Voilà's request-info socket did not answer
        raise ValueError("the page could not read its link from the server: reload the page to open it")
    return query


def page(query: str | None = None, folder: str | os.PathLike | None = None,
         explorer: Explorer | None = None) -> widgets.Widget:
    """The explorer for a standalone page, with the setting of the page's link if it names one
    (``query``: default, the request's, ``page_query()``; ``folder``: default ``settings_folder()``).
    A wrong link leaves the default setting and says why on the page. ``explorer``: the default
    setting's, computed ahead (``preheated_explorer``), is given the linked setting and its picture
    before it is shown; without it, the page computes its own."""
    try:
        query = page_query() if query is None else query
        linked, problem = linked_setting(query, Path(folder) if folder else settings_folder()), None
    except ValueError as error:
        linked, problem = None, error
    if explorer is None:
        explorer = Explorer(linked[0] if linked else None, in_page=True)
    elif linked is not None:  # what Load does, before anything is shown: the page never shows the default
        explorer.recompute(linked[0])
        explorer.landscape.wait()
    if problem is not None:
        explorer.status.error(problem)
    elif linked is not None:
        moved = f"{linked[1]}; " if linked[1] else ""
        explorer.status.say(f"opened the link's setting; {moved}{explorer.status.text}")
    return explorer.widget()


def notebook() -> nbformat.NotebookNode:
    """The notebook Voilà renders as the page: a title, the default explorer computed ahead (only
    in a preheated kernel; no output) and the page's explorer."""
    return nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell(f"{TITLE}\n\n{INTRODUCTION}", id="title"),
               nbformat.v4.new_code_cell(AHEAD, id="ahead"),
               nbformat.v4.new_code_cell(CODE, id="explorer")],
        metadata={"title": "Loss landscapes", "kernelspec": {"name": "python3", "display_name": "Python 3",
                                                              "language": "python"}})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def page_url(port: int, setting_name: str | None = None) -> str:
    query = f"?{urllib.parse.urlencode({'setting': setting_name})}" if setting_name else ""
    return f"http://127.0.0.1:{port}/{query}"


def voila_command(notebook_path: Path, port: int, open_browser: bool = False,
                  keep_unconnected: int = KEEP_UNCONNECTED, preheat: int = PREHEAT) -> list[str]:
    """Voilà serving the page (``voila_page``: Voilà setting the cookie that a closing page's
    shutdown request needs). A closed or reloaded tab shuts its kernel down, but a browser that
    goes away without saying so (a laptop closed, a lost network) leaves it running: a kernel with
    no page connected is shut down after ``keep_unconnected`` seconds idle (Jupyter's culling; a
    connected page is never culled). ``preheat`` kernels wait with the notebook run (Voilà's pool;
    they are not culled while they wait: Voilà's kernel manager skips them); 0: none."""
    pool = ["--VoilaConfiguration.preheat_kernel=True", f"--VoilaConfiguration.default_pool_size={preheat}"]
    return [sys.executable, "-m", "landscape.app.voila_page", str(notebook_path), f"--port={port}",
            "--Voila.ip=127.0.0.1",
            "--Voila.port_retries=0", "--show_tracebacks=False", "--strip_sources=True",
            f"--MappingKernelManager.cull_idle_timeout={keep_unconnected}",
            f"--MappingKernelManager.cull_interval={max(1, min(60, keep_unconnected // 2))}",
            *(pool if preheat > 0 else []),
            *([] if open_browser else ["--no-browser"])]


def serve(port: int | None = None, setting: str | os.PathLike | None = None, open_browser: bool = False,
          keep_unconnected: int | None = None, preheat: int | None = None) -> int:
    """Serve the page on 127.0.0.1 (``port``, default a free one) until Ctrl-C; print its URL.
    ``setting``: a saved setting the URL opens (its folder becomes the settings folder);
    ``keep_unconnected``, ``preheat``: see ``voila_command`` (default ``KEEP_UNCONNECTED``,
    ``PREHEAT``)."""
    keep_unconnected = KEEP_UNCONNECTED if keep_unconnected is None else keep_unconnected
    preheat = PREHEAT if preheat is None else preheat
    if keep_unconnected < 1:
        raise ValueError(f"--keep-unconnected must be at least 1 second, not {keep_unconnected}")
    if preheat < 0:
        raise ValueError(f"--preheat must be 0 (no kernel kept ready) or more, not {preheat}")
    environment = dict(os.environ)
    name = None
    if setting is not None:
        path = Path(setting).expanduser().resolve()
        Setting.read(path, f"the setting {path}")  # a wrong file stops here, before any server
        environment[SETTINGS_FOLDER], name = str(path.parent), path.name
    else:
        environment[SETTINGS_FOLDER] = str(settings_folder())
    if port is None:
        port = free_port()
    elif not port_is_free(port):
        raise ValueError(f"port {port} is in use (another server?): give another, or none for a free one")
    with tempfile.TemporaryDirectory(prefix="landscape-app-") as folder:
        path = Path(folder) / "explorer.ipynb"
        nbformat.write(notebook(), path)
        ready = f"{preheat} kernel{'s' * (preheat != 1)} kept ready for the next pages (--preheat)"
        print(f"landscape explorer: {page_url(port, name)}  (Ctrl-C stops it)\n"
              f"settings folder (links ?setting=NAME.json): {environment[SETTINGS_FOLDER]}\n{ready}", flush=True)
        server = subprocess.Popen(voila_command(path, port, open_browser, keep_unconnected, preheat),
                                  env=environment)
        try:
            return server.wait()
        except KeyboardInterrupt:  # Ctrl-C (Voilà had it too) or SIGTERM: stop the server, then return
            server.terminate()
            server.wait()
            return 0
