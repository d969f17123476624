"""Atomic file output: write to a temporary name in the same folder, then rename.

A reader never sees a half-written file, and a failed write leaves no file
behind (the temporary one is removed on every path).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Union

from ftm.errors import ConfigError

__all__ = ["check_output_path", "write_bytes_atomic", "write_text_atomic"]

PathLike = Union[str, "os.PathLike[str]"]


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


def write_bytes_atomic(path: PathLike, data: bytes) -> None:
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"cannot write {str(path)!r}: it is a folder")
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:  # name the user's path, not the temporary one
        raise type(exc)(exc.errno, f"cannot write {str(path)!r}: {exc.strerror}") from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; the output is an ordinary file
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_text_atomic(path: PathLike, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))
