"""The explorer as a standalone web page, served by Voilà: ``python -m landscape app`` (``make app``).

Students open a page, not a notebook: no code cells, no file browser. Files travel through the
browser (``Explorer(in_page=True)``): Export GIF and Save offer downloads, Load is an upload.

A lecturer's link opens a saved setting: ``…/?setting=exercise1.json`` names a JSON file in the
settings folder, which is ``LANDSCAPE_SETTINGS`` if set, else the page's folder (Voilà runs the
kernel there and hands it the query string as ``QUERY_STRING``). ``app --setting F`` serves F's
folder and prints the link to F. A name outside the folder is refused in the page.

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
CODE = "from landscape.app import page\n\npage()"
KEEP_UNCONNECTED = 300  # s: how long a page's kernel outlives its browser gone without a goodbye


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


def page(query: str | None = None, folder: str | os.PathLike | None = None) -> widgets.Widget:
    """The explorer for a standalone page, with the setting of the page's link if it names one
    (``query``: default, what Voilà hands the kernel; ``folder``: default ``settings_folder()``).
    A wrong link leaves the default setting and says why on the page."""
    query = os.environ.get("QUERY_STRING", "") if query is None else query
    try:
        linked, problem = linked_setting(query, Path(folder) if folder else settings_folder()), None
    except ValueError as error:
        linked, problem = None, error
    explorer = Explorer(linked[0] if linked else None, in_page=True)
    if problem is not None:
        explorer.status.error(problem)
    elif linked is not None:
        moved = f"{linked[1]}; " if linked[1] else ""
        explorer.status.say(f"opened the link's setting; {moved}{explorer.status.text}")
    return explorer.widget()


def notebook() -> nbformat.NotebookNode:
    """The notebook Voilà renders as the page: a title and the explorer."""
    return nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell(f"{TITLE}\n\n{INTRODUCTION}", id="title"),
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
                  keep_unconnected: int = KEEP_UNCONNECTED) -> list[str]:
    """Voilà serving the page (``voila_page``: Voilà setting the cookie that a closing page's
    shutdown request needs). A closed or reloaded tab shuts its kernel down, but a browser that
    goes away without saying so (a laptop closed, a lost network) leaves it running: a kernel with
    no page connected is shut down after ``keep_unconnected`` seconds idle (Jupyter's culling; a
    connected page is never culled)."""
    return [sys.executable, "-m", "landscape.app.voila_page", str(notebook_path), f"--port={port}",
            "--Voila.ip=127.0.0.1",
            "--Voila.port_retries=0", "--show_tracebacks=False", "--strip_sources=True",
            f"--MappingKernelManager.cull_idle_timeout={keep_unconnected}",
            f"--MappingKernelManager.cull_interval={max(1, min(60, keep_unconnected // 2))}",
            *([] if open_browser else ["--no-browser"])]


def serve(port: int | None = None, setting: str | os.PathLike | None = None, open_browser: bool = False,
          keep_unconnected: int | None = None) -> int:
    """Serve the page on 127.0.0.1 (``port``, default a free one) until Ctrl-C; print its URL.
    ``setting``: a saved setting the URL opens (its folder becomes the settings folder);
    ``keep_unconnected``: see ``voila_command`` (default ``KEEP_UNCONNECTED``)."""
    keep_unconnected = KEEP_UNCONNECTED if keep_unconnected is None else keep_unconnected
    if keep_unconnected < 1:
        raise ValueError(f"--keep-unconnected must be at least 1 second, not {keep_unconnected}")
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
        print(f"landscape explorer: {page_url(port, name)}  (Ctrl-C stops it)\n"
              f"settings folder (links ?setting=NAME.json): {environment[SETTINGS_FOLDER]}", flush=True)
        server = subprocess.Popen(voila_command(path, port, open_browser, keep_unconnected), env=environment)
        try:
            return server.wait()
        except KeyboardInterrupt:  # Ctrl-C (Voilà had it too) or SIGTERM: stop the server, then return
            server.terminate()
            server.wait()
            return 0
