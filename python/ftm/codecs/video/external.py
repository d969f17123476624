"""Running external codec tools: every exit status checked, failures typed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from typing import Callable, List, NamedTuple, Optional, Pattern, Sequence, Type, Union

from ftm.errors import CodecError, CodecNotFoundError

try:
    import resource
except ImportError:  # not POSIX: no file-size cap, the size check after the run remains
    resource = None  # type: ignore[assignment]

STDERR_TAIL_CHARS = 2000
# How long a tool that has reported a fatal error may take to exit by itself.
FATAL_GRACE_SECONDS = 2.0


def tail(data: bytes, limit: int = STDERR_TAIL_CHARS) -> str:
    text = data.decode("utf-8", errors="replace")
    return text[-limit:]


def _exit_reason(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed by {name}"
    return f"exited with status {returncode}"


class Completed(NamedTuple):
    stdout: Union[bytes, bytearray]  # a bytearray when ``stdout_size`` was given
    stderr: bytes
    seconds: float  # wall time of the process alone, from spawn to exit
    returncode: int


def check_status(what: str, command: Sequence[str], done: Completed, error: Type[CodecError] = CodecError) -> None:
    """``error`` (CodecError, or PayloadError for a decoder) unless the process exited with status 0."""
    if done.returncode != 0:
        # HM reports some errors on stdout only
        raise error(f"{what} {_exit_reason(done.returncode)}", command, tail(done.stderr or done.stdout))


def wrote_too_much(done: Completed) -> bool:
    """Whether the tool was stopped for writing past ``file_size_limit`` (SIGXFSZ)."""
    return done.returncode == -getattr(signal, "SIGXFSZ", -1)


def _cap_file_size(pid: int, size: int) -> None:
    # Set on the running child rather than in a preexec_fn, which is unsafe
    # in a process with threads. A write past the cap before it is set is
    # still caught by the caller's size check, only not stopped early.
    if resource is not None and hasattr(resource, "prlimit"):
        try:
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (size, size))
        except (OSError, ValueError):
            pass  # the child has exited already, or the cap is above the hard limit


def run(
    what: str,
    command: Sequence[str],
    *,
    stdin: Optional[bytes] = None,
    timeout: Optional[float] = None,
    cwd: Optional[str] = None,
    fatal: Optional[Pattern[bytes]] = None,
    check: bool = True,
    progress: Optional[Callable[[bytes], None]] = None,
    stdout_lines: Optional[Callable[[bytes], None]] = None,
    stdout_size: Optional[int] = None,
    file_size_limit: Optional[int] = None,
    error: Type[CodecError] = CodecError,
    timeout_hint: str = "",
) -> Completed:
    """Run ``command`` to completion.

    A line of stderr matching ``fatal`` means the tool has failed even if it
    does not exit (x265 3.5 can hang after its encoder failed to open): it
    gets a short grace period, then is killed. A missing executable raises
    CodecNotFoundError; a non-zero exit status, a fatal message, a signal or
    a timeout raises CodecError carrying the command and the tail of stderr.
    ``check=False`` accepts any exit status (for tools whose --help fails).

    ``progress``: the tool reports progress on a pipe of its own, whose
    write end replaces ``{progress_fd}`` in the command (ffmpeg's
    ``-progress pipe:{progress_fd}``); each line goes to the callback, from
    a reader thread. ``stdout_lines``: each line of stdout goes to the
    callback as it comes (for tools that log progress there, such as HM).

    ``stdout_size``: stdout is read into a buffer of exactly that many bytes
    (the declared frames), and the tool is stopped as soon as one byte more
    arrives: the error names what was expected. ``file_size_limit``: no file
    the tool writes may grow past it (RLIMIT_FSIZE; the tool dies of
    SIGXFSZ, see :func:`wrote_too_much`). ``error`` is the class raised for a
    failed exit status or a fatal message: :class:`ftm.errors.PayloadError`
    for a decoder, whose failure says the payload is malformed.
    ``timeout_hint`` ends the timeout's message (how to lift the limit).
    """
    command = [os.fspath(c) for c in command]
    progress_read, progress_write = os.pipe() if progress is not None else (-1, -1)
    if progress is not None:
        command = [c.replace("{progress_fd}", str(progress_write)) for c in command]
    start = time.perf_counter()
    try:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            pass_fds=(progress_write,) if progress is not None else (),
        )
    except (FileNotFoundError, PermissionError) as exc:
        if progress is not None:
            os.close(progress_read)
        problem = "cannot run" if isinstance(exc, FileNotFoundError) else "cannot execute"
        raise CodecNotFoundError(f"{what}: {problem} {command[0]!r}: {exc.strerror}", command) from exc
    finally:
        if progress is not None:
            os.close(progress_write)  # the child holds its copy; the reader sees EOF when the child exits
    if file_size_limit is not None:
        _cap_file_size(proc.pid, file_size_limit)

    out: List[bytes] = []
    err: List[bytes] = []
    fatal_line: List[bytes] = []
    overflow: List[bool] = []
    buffer = bytearray(stdout_size) if stdout_size is not None else None
    filled = [0]
    stderr_closed = threading.Event()

    def feed() -> None:
        try:
            proc.stdin.write(stdin)
        except OSError:
            pass  # the tool stopped reading; its exit status says why
        finally:
            try:
                proc.stdin.close()
            except OSError:
                pass

    def fill_stdout() -> None:
        # Never more than the buffer: a stream that decodes to more frames
        # than declared costs one byte of reading, not all of them.
        view = memoryview(buffer)
        while filled[0] < len(buffer):
            got = proc.stdout.readinto(view[filled[0] :])
            if not got:
                return
            filled[0] += got
        if proc.stdout.read(1):
            overflow.append(True)
            proc.kill()
            stderr_closed.set()

    def drain_stdout() -> None:
        if buffer is not None:
            fill_stdout()
            return
        if stdout_lines is None:
            out.append(proc.stdout.read())
            return
        for line in iter(proc.stdout.readline, b""):
            out.append(line)
            stdout_lines(line)

    def drain_stderr() -> None:
        for line in iter(proc.stderr.readline, b""):
            err.append(line)
            if fatal is not None and not fatal_line and fatal.search(line):
                fatal_line.append(line)
                stderr_closed.set()
        stderr_closed.set()

    def read_progress() -> None:
        with os.fdopen(progress_read, "rb") as lines:
            for line in lines:
                progress(line)

    workers = [
        threading.Thread(target=drain_stdout, daemon=True),
        threading.Thread(target=drain_stderr, daemon=True),
    ]
    if progress is not None:
        workers.append(threading.Thread(target=read_progress, daemon=True))
    if stdin is not None:
        workers.append(threading.Thread(target=feed, daemon=True))
    timed_out = False
    try:
        for worker in workers:
            worker.start()
        if not stderr_closed.wait(timeout):
            timed_out = True
            proc.kill()
        elif fatal_line:
            try:
                proc.wait(FATAL_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
        remaining = None if timeout is None else max(0.0, timeout - (time.perf_counter() - start))
        try:
            proc.wait(remaining)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.kill()
            proc.wait()
    finally:
        if proc.poll() is None:  # interrupted: leave no orphan behind
            proc.kill()
            proc.wait()
        for worker in workers:
            worker.join()
        for stream in (proc.stdout, proc.stderr):
            stream.close()
    seconds = time.perf_counter() - start
    stderr = b"".join(err)
    if buffer is not None:
        stdout = buffer if filled[0] == len(buffer) else buffer[: filled[0]]
    else:
        stdout = b"".join(out)
    if overflow:
        raise error(f"{what} wrote more than the {stdout_size} bytes of the declared frames; stopped it", command, tail(stderr))
    if timed_out:
        raise CodecError(f"{what} did not finish within {timeout} s{timeout_hint}", command, tail(stderr))
    if fatal_line:
        message = fatal_line[0].decode("utf-8", errors="replace").strip()
        raise error(f"{what} failed: {message}", command, tail(stderr))
    done = Completed(stdout, stderr, seconds, proc.returncode)
    if check:
        check_status(what, command, done, error)
    return done


def compile_fatal(pattern: str) -> Pattern[bytes]:
    return re.compile(pattern.encode())
