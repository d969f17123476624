"""Running external codec tools: every exit status checked, failures typed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from typing import Callable, List, NamedTuple, Optional, Pattern, Sequence

from ftm.errors import CodecError, CodecNotFoundError

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
    stdout: bytes
    stderr: bytes
    seconds: float  # wall time of the process alone, from spawn to exit
    returncode: int


def check_status(what: str, command: Sequence[str], done: Completed) -> None:
    """CodecError unless the process exited with status 0."""
    if done.returncode != 0:
        # HM reports some errors on stdout only
        raise CodecError(f"{what} {_exit_reason(done.returncode)}", command, tail(done.stderr or done.stdout))


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

    out: List[bytes] = []
    err: List[bytes] = []
    fatal_line: List[bytes] = []
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

    def drain_stdout() -> None:
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
    stdout, stderr = b"".join(out), b"".join(err)
    if timed_out:
        raise CodecError(f"{what} did not finish within {timeout} s", command, tail(stderr))
    if fatal_line:
        message = fatal_line[0].decode("utf-8", errors="replace").strip()
        raise CodecError(f"{what} failed: {message}", command, tail(stderr))
    done = Completed(stdout, stderr, seconds, proc.returncode)
    if check:
        check_status(what, command, done)
    return done


def compile_fatal(pattern: str) -> Pattern[bytes]:
    return re.compile(pattern.encode())
