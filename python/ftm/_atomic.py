"""Atomic file output: the bytes are written where no name points at them, then put in place.

A reader never sees a half-written file, and a write that fails or is
killed leaves nothing behind:

- On Linux the data goes into an unnamed file (``O_TMPFILE``) in the
  target's folder, which the kernel deletes if the process dies, and is
  given a name only once complete: linked to a temporary name and renamed
  over the target at once.
- Where ``O_TMPFILE`` is missing (other systems, some file systems) the data
  goes into a named temporary, ``.<target>.<pid>.<random>.tmp``, removed on
  every path Python controls. One that a killed process left behind is
  removed by the next write of the same target, once no process has that
  pid (checked with signal 0; on a folder shared between machines a pid can
  be alive elsewhere, and that temporary then waits for a later write).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Iterator, Union

from ftm.errors import ConfigError

__all__ = ["check_output_path", "remove_stale_temporaries", "write_bytes_atomic", "write_text_atomic"]

PathLike = Union[str, "os.PathLike[str]"]

# Errors by which a system or file system says it has no O_TMPFILE.
_NO_TMPFILE = {errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT}
_NO_LINK = {errno.EXDEV, errno.ENOENT, errno.EPERM, errno.EOPNOTSUPP, errno.EACCES}


def check_output_path(path: PathLike, what: str = "output") -> None:
    """A ConfigError naming ``path`` unless a file can be written there: tools call it before long work."""
    target = Path(path)
    if str(path) == "" or target.is_dir():
        raise ConfigError(f"{what} {str(path)!r} is a folder; give a file name")
    folder = target.parent
    if not folder.is_dir():
        raise ConfigError(f"{what} {str(path)!r}: the folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{what} {str(path)!r}: cannot write in the folder {str(folder)!r}")


def _temporary_pattern(target: Path) -> "re.Pattern[str]":
    return re.compile(rf"\.{re.escape(target.name)}\.(\d+)\.[A-Za-z0-9_]+\.tmp")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def remove_stale_temporaries(target: PathLike) -> int:
    """Remove the temporaries of ``target`` whose writer's pid is gone; returns how many."""
    target = Path(target)
    pattern, removed = _temporary_pattern(target), 0
    try:
        names = os.listdir(target.parent)
    except OSError:
        return 0
    for name in names:
        found = pattern.fullmatch(name)
        if found and int(found.group(1)) != os.getpid() and not _alive(int(found.group(1))):
            try:
                os.unlink(target.parent / name)
                removed += 1
            except OSError:
                pass  # another writer removed it first, or it is not ours to remove
    return removed


def _write_all(fd: int, data: bytes) -> None:
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)  # temporaries are private; the output is an ordinary file
    with os.fdopen(fd, "wb", closefd=False) as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _named_temporary(target: Path) -> "tuple[int, str]":
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp")
    return fd, tmp


def _unnamed(target: Path) -> int:
    """An O_TMPFILE descriptor in the target's folder, or -1 where the system has none."""
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag or not os.path.isdir("/proc/self/fd"):  # linking it into place goes through /proc
        return -1
    try:
        return os.open(target.parent, flag | os.O_WRONLY, 0o600)
    except OSError as exc:
        if exc.errno in _NO_TMPFILE:
            return -1
        raise


def write_bytes_atomic(path: PathLike, data: bytes) -> None:
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"cannot write {str(path)!r}: it is a folder")
    remove_stale_temporaries(target)
    tmp = None
    try:
        tmp = _link_unnamed(target, data)
        if tmp is None:
            fd, tmp = _named_temporary(target)
            try:
                _write_all(fd, data)
            finally:
                os.close(fd)
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:  # name the user's path, not the temporary one
        raise type(exc)(exc.errno, f"cannot write {str(path)!r}: {exc.strerror}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass


def _link_empty_path(fd: int, path: str) -> bool:
    """linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH): the direct way, for a privileged process;
    Python's os.link has no AT_EMPTY_PATH."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.linkat(fd, b"", -100, os.fsencode(path), 0x1000) == 0  # AT_FDCWD, AT_EMPTY_PATH
    except (OSError, AttributeError):
        return False


def _link_unnamed(target: Path, data: bytes) -> "str | None":
    """The data in an O_TMPFILE file linked to a temporary name, or None where that cannot be done."""
    fd = _unnamed(target)
    if fd < 0:
        return None
    try:
        _write_all(fd, data)
        # A name only for the instant between link and rename; a crash there
        # leaves a pid-named temporary that the next write removes.
        tmp = os.path.join(target.parent, f".{target.name}.{os.getpid()}.{os.urandom(6).hex()}.tmp")
        if _link_empty_path(fd, tmp):
            return tmp
        try:
            os.link(f"/proc/self/fd/{fd}", tmp, follow_symlinks=True)
        except OSError as exc:
            if exc.errno in _NO_LINK:  # some kernels and file systems open such files but cannot link them
                return None
            raise
        return tmp
    finally:
        os.close(fd)


def write_text_atomic(path: PathLike, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


@contextlib.contextmanager
def folder_atomic(path: PathLike) -> Iterator[Path]:
    """A temporary folder beside ``path`` to fill; when the block ends without error it becomes ``path``.

    An existing ``path`` is moved aside, the new folder renamed into place,
    then the old one removed: a reader sees the old folder or the new one,
    never a half-written one. On an error (or Ctrl-C) the temporary folder
    is removed; a killed process leaves a ``.NAME.tmp-*`` folder beside it.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the result is an ordinary folder
        yield tmp
        if target.exists():
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
            os.rename(target, old / "set")
            os.rename(tmp, target)
            shutil.rmtree(old)
        else:
            os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
