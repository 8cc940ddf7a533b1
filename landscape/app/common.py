"""What the explorer's views share: a status line, callbacks that report instead of raise,
muting of callbacks, a latest-only background worker for rendering, and the folders files go
to (exported GIFs, saved settings)."""

from __future__ import annotations

import atexit
import base64
import functools
import html
import io
import os
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import ipywidgets as widgets

CSS_PREFIX = "lsc-"  # every widget a user acts on carries a class "lsc-<name>" (browser tests)


def named(widget: widgets.DOMWidget, name: str) -> widgets.DOMWidget:
    """``widget`` with the CSS class ``lsc-<name>``."""
    widget.add_class(CSS_PREFIX + name)
    return widget


class StatusLine:
    """One line of text under a view: what happened last ("computed …", "⚠ …")."""

    COLOURS = {"info": "#333", "error": "#b00020", "busy": "#555"}

    def __init__(self, name: str):
        self.widget = named(widgets.HTML(layout={"min_height": "1.4em"}), name)
        self.text = ""

    def say(self, text: str, kind: str = "info") -> None:
        self.text = text
        self.widget.value = (f'<div style="color:{self.COLOURS[kind]};white-space:pre-wrap;'
                             f'line-height:1.3">{html.escape(text)}</div>')

    def error(self, error: BaseException) -> None:
        if isinstance(error, ValueError):
            self.say(f"⚠ {error}", "error")
        else:  # a bug: say where, briefly
            self.say(f"⚠ {type(error).__name__}: {error}\n{traceback.format_exc(limit=3)}", "error")


class Download:
    """A link that offers a file as a download in the page: a student on a standalone page has
    no file browser. The file travels inside the link (a ``data:`` URL)."""

    def __init__(self, name: str):
        self.widget = named(widgets.HTML(layout={"display": "none"}), name)

    def offer(self, filename: str, data: bytes, mime: str) -> None:
        href = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        size = f"{len(data) / 1e6:.2f} MB" if len(data) >= 100_000 else f"{len(data) / 1e3:.1f} kB"
        self.widget.value = (f'<a download="{html.escape(filename)}" href="{href}" style="color:#1565c0;'
                             f'text-decoration:underline;overflow-wrap:anywhere">⬇ {html.escape(filename)} '
                             f'({size})</a>')
        self.widget.layout.display = None

    def hide(self) -> None:
        self.widget.layout.display = "none"


def show_gif(path: str | Path, preview: widgets.Image, download: Download) -> int:
    """An exported GIF in its ``preview`` and offered by ``download``; its size in bytes."""
    data = Path(path).read_bytes()
    preview.value, preview.layout.display = data, None
    download.offer(Path(path).name, data, "image/gif")
    return len(data)


class OneAtATime:
    """A job on a thread of its own, one at a time: starting another while one runs says ``busy``
    on ``status`` instead (the widgets stay live meanwhile)."""

    def __init__(self, status: StatusLine, busy: str):
        self.status, self.busy = status, busy
        self.thread: threading.Thread | None = None

    def start(self, job: Callable, *args, starting: str | None = None) -> threading.Thread | None:
        """Run ``job(*args)`` in the background, first saying ``starting``; None if one still runs."""
        if self.thread is not None and self.thread.is_alive():
            self.status.say(self.busy)
            return None
        if starting is not None:
            self.status.say(starting, "busy")
        self.thread = threading.Thread(target=job, args=args, daemon=True)
        self.thread.start()
        return self.thread

    def join(self, timeout: float | None = None) -> None:
        if self.thread is not None:
            self.thread.join(timeout)


def reported(method):
    """A widget callback that shows any error on ``self.status`` instead of raising (an
    exception in a callback would only reach the browser's log)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as error:  # noqa: BLE001 - shown to the user
            self.status.error(error)
            return None

    return wrapper


class Mute:
    """``with mute():`` sets widgets without their callbacks acting; ``if mute:`` inside a
    callback tells whether to ignore the change. Nests, and always unmutes (``finally``)."""

    def __init__(self):
        self._depth = 0

    def __bool__(self) -> bool:
        return self._depth > 0

    @contextmanager
    def __call__(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1


class LatestOnly:
    """Runs ``render(request)`` in one background thread for the newest request only: requests
    made while it is busy replace each other, and a result whose request was superseded while it
    was being rendered is dropped, never published. ``publish(result)`` and ``on_error(error)``
    run on that thread too. Once no request has come for ``quiet`` seconds, ``idle()`` may hand
    it background work (a callable, or None when there is none): e.g. drawing the frames a slider
    move will ask for; not during a drag, where it would slow the kernel and the browser down.

    While a slider is dragged the kernel thus answers each value at once (the browser sends the
    next one without waiting), and the figure shows the newest value as fast as it can be drawn.
    """

    def __init__(self, render: Callable, publish: Callable, on_error: Callable[[BaseException], None],
                 idle: Callable[[], Callable[[], None] | None] | None = None, quiet: float = 0.4):
        self._render, self._publish, self._on_error, self._idle = render, publish, on_error, idle
        self._quiet = quiet
        self._condition = threading.Condition()
        self._request, self._requested_at = None, 0.0
        self._pending = self._busy = self._stopped = False
        self.dropped = 0  # superseded requests (for the benchmark)
        self._thread = threading.Thread(target=self._loop, daemon=True, name="landscape-render")
        self._thread.start()
        _WORKERS.add(self)

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the work in hand, then end the thread (before the interpreter exits: a thread
        killed inside torch or matplotlib at exit aborts the process)."""
        with self._condition:
            self._stopped = True
            self._condition.notify_all()
        self._thread.join(timeout)

    def submit(self, request) -> None:
        with self._condition:
            if self._pending:
                self.dropped += 1
            self._request, self._pending, self._requested_at = request, True, time.monotonic()
            self._condition.notify_all()

    def wait(self, timeout: float = 60.0) -> None:
        """Block until every request made so far is rendered (tests, scripts)."""
        with self._condition:
            if not self._condition.wait_for(lambda: not (self._pending or self._busy), timeout):
                raise TimeoutError(f"rendering did not finish within {timeout} s")

    def _next(self):
        """The newest request, or background work (None, callable) when there is none."""
        with self._condition:
            while not self._pending:
                if self._stopped:
                    return None, None
                quiet_for = time.monotonic() - self._requested_at
                if self._idle is None:
                    self._condition.wait()
                elif quiet_for < self._quiet:
                    self._condition.wait(self._quiet - quiet_for)
                else:
                    work = self._idle()
                    if work is not None:
                        return None, work
                    self._condition.wait()  # all done: until the next request
            request, self._pending, self._busy = self._request, False, True
            return request, None

    def _loop(self) -> None:
        while not self._stopped:
            request, work = self._next()
            if request is None and work is None:
                return
            try:
                if work is not None:
                    work()
                    continue
                result = self._render(request)
                with self._condition:
                    superseded = self._pending
                if superseded:
                    self.dropped += 1
                else:
                    self._publish(result)
            except Exception as error:  # noqa: BLE001 - shown to the user by on_error
                self._on_error(error)
            finally:
                with self._condition:
                    self._busy = False
                    self._condition.notify_all()


_WORKERS: weakref.WeakSet[LatestOnly] = weakref.WeakSet()


@atexit.register
def _stop_workers() -> None:
    for worker in list(_WORKERS):
        worker.stop()


def jpeg(image, quality: int = 90) -> bytes:
    """A PIL image as JPEG bytes (what an Image widget shows)."""
    buffer = io.BytesIO()
    image.save(buffer, format="jpeg", quality=quality)
    return buffer.getvalue()


SETTINGS_FOLDER = "LANDSCAPE_SETTINGS"  # the variable that names the settings folder


def _checkout(here: Path) -> Path | None:
    """The landscape checkout ``here`` lies in (its top folder), or None."""
    for folder in (here, *here.parents):
        if (folder / "gifs").is_dir() and (folder / "landscape" / "__init__.py").is_file():
            return folder
    return None


def default_gif_folder(here: Path | None = None) -> Path:
    """The repository's ``gifs/exports/`` (made if missing; git ignores it, so exports leave a
    checkout clean) when ``here`` (default: the working folder, i.e. the notebook's) is inside a
    landscape checkout, else ``here``."""
    here = (here or Path.cwd()).resolve()
    checkout = _checkout(here)
    if checkout is None:
        return here
    exports = checkout / "gifs" / "exports"
    exports.mkdir(exist_ok=True)
    return exports


def settings_folder(here: Path | None = None) -> Path:
    """Where the explorer saves settings and a page's link (``?setting=NAME``) finds them, one
    folder for both: ``$LANDSCAPE_SETTINGS`` if set, else the repository's ``settings/`` (made if
    missing; git ignores the settings saved there) when ``here`` (default: the working folder) is
    inside a landscape checkout, else ``here``."""
    if os.environ.get(SETTINGS_FOLDER):
        return Path(os.environ[SETTINGS_FOLDER]).expanduser().resolve()
    here = (here or Path.cwd()).resolve()
    checkout = _checkout(here)
    if checkout is None:
        return here
    folder = checkout / "settings"
    folder.mkdir(exist_ok=True)
    return folder
