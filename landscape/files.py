"""Files written by landscape appear whole or not at all."""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def check_writable(path: str | os.PathLike) -> Path:
    """The path, if a file can be written there; otherwise ``ValueError`` saying why."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ValueError(f"cannot write {path}: it is a folder")
    if not folder.is_dir():
        raise ValueError(f"cannot write {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"cannot write {path}: the folder {folder} is not writable")
    return path


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``), raised where the program is, like Ctrl-C, so that cleanup runs."""


def _raise_terminated(signum, frame):
    raise Terminated()


@contextmanager
def termination_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises ``Terminated`` instead of ending the process at once
    (so ``finally`` blocks run and temporaries are removed). Only in the main thread, and only
    where SIGTERM still has its default action (a program's own handler is left alone)."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` only if the block succeeds.

    On an exception, Ctrl-C or SIGTERM the temporary is removed and ``path`` is left as it was."""
    with termination_raises():
        yield from _atomic_path(path)


def _atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    path = check_writable(path)
    try:  # the folder may still refuse files (a read-only mount, /proc, root's os.access)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}",
                                             dir=path.parent)
    except OSError as error:
        raise ValueError(f"cannot write {path}: {error.strerror}") from None
    os.close(handle)
    try:
        yield Path(temporary)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
