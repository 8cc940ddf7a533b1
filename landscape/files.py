"""Files written by landscape appear whole or not at all."""

from __future__ import annotations

import math
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


def check_writable(path: str | os.PathLike) -> Path:
    """The path, if a file can be written there; otherwise ``ValueError`` saying why."""
    if not str(path).strip():
        raise ValueError("cannot write to '': give a file name")
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


@contextmanager
def _signals_held() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM wait: one that arrives is delivered again after it (in
    the main thread; a process-wide signal may reach any thread, so masking one would not do)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived = []
    previous = {held: signal.signal(held, lambda signum, frame: arrived.append(signum))
                for held in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for held, handler in previous.items():
            signal.signal(held, handler)
        for signum in arrived:
            signal.raise_signal(signum)


def strict(value):
    """``value`` (nested dicts, lists, tuples) with every non-finite float replaced by None: what
    strict JSON and CSV readers take."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: strict(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(item) for item in value]
    return value


def check_results_folder(folder: str | os.PathLike, names: Sequence[str], what: str,
                         overwrite: bool = False) -> Path:
    """``folder``, if results (the files ``names``) can be written there; else ``ValueError``
    saying why. Earlier results there are replaced only with ``overwrite``. Creates nothing."""
    if not str(folder).strip():
        raise ValueError(f"cannot write the {what} to '': give a folder")
    folder = Path(folder)
    earlier = [name for name in names if (folder / name).exists()]
    if earlier and not overwrite:
        raise ValueError(f"{folder} already holds an earlier {what} ({', '.join(earlier)}); give "
                         f"--overwrite (Python: overwrite=True) to replace it, or choose another folder")
    existing = next(path for path in (folder.absolute(), *folder.absolute().parents) if path.exists())
    if not existing.is_dir():
        raise ValueError(f"cannot write results to {folder}: {existing} is a file")
    if not os.access(existing, os.W_OK):
        raise ValueError(f"cannot write results to {folder}: the folder {existing} is not writable")
    return folder


def write_together(folder: str | os.PathLike, names: Sequence[str], write: Callable[[Path], None],
                   what: str, overwrite: bool = False) -> list[Path]:
    """Results that always describe the same run: ``write(staging)`` writes the files ``names``
    into a temporary folder, which are then moved into ``folder`` together (``folder`` is created
    only now). See ``check_results_folder`` for what is refused. Returns the paths written."""
    folder = check_results_folder(folder, names, what, overwrite)
    existed = folder.is_dir()
    try:
        (folder if existed else folder.parent).mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name or 'results'}.", suffix=".tmp",
                                        dir=folder if existed else folder.parent))
    except OSError as error:
        raise ValueError(f"cannot write results to {folder}: {error.strerror}") from None
    try:
        write(staging)
        if existed:
            with _signals_held():  # Ctrl-C or SIGTERM between two renames would mix two runs
                for name in names:
                    os.replace(staging / name, folder / name)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes 0700; give the usual permissions
            os.rename(staging, folder)
    except OSError as error:
        raise ValueError(f"cannot write results to {folder}: {error.strerror}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [folder / name for name in names]
