"""The x265 command-line encoder, with the settings of the x265-ffmpeg back end."""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
from typing import Callable, ClassVar, List, Mapping, Optional, Tuple

import numpy as np

from ftm.codecs.video import external, raw_frames
from ftm.codecs.video.base import Encoder, check_timeout
from ftm.codecs.video.x265_options import X265Options, ctu_size
from ftm.errors import CodecError, CodecNotFoundError

__all__ = ["X265Encoder", "find_x265"]

_FLAGS = ("info", "repeat-headers")
# x265 keeps running (or crashes) after some failures: its first error line ends the run.
_FATAL = external.compile_fatal(r"x265 \[error\]|unrecognized option")


def find_x265(executable: Optional[str] = None) -> str:
    if executable is not None:
        exe = os.fspath(executable)
        if os.sep in exe:
            if os.path.isfile(exe) and os.access(exe, os.X_OK):
                return exe
            raise CodecNotFoundError(f"x265 not found at {exe!r}")
        found = shutil.which(exe)
    else:
        found = shutil.which("x265")
    if found is None:
        raise CodecNotFoundError(
            f"the x265 back end needs the x265 command-line encoder ({executable or 'x265'}) on PATH: "
            "install it (Debian/Ubuntu: apt-get install x265) or pass executable=<path>"
        )
    return found


@functools.lru_cache(maxsize=None)
def _version(exe: str) -> Tuple[str, Tuple[int, ...]]:
    """(version, bit depths of the build, main build's first) from ``x265 --version``."""
    command = [exe, "--version"]
    done = external.run("x265 --version", command)
    text = (done.stderr + done.stdout).decode("utf-8", errors="replace")
    version = re.search(r"HEVC encoder version (\S+)", text)
    build = re.search(r"build info .*?((?:\d+bit\+?)+)\s*$", text, re.MULTILINE)
    if not (version and build):
        raise CodecError(
            "could not read x265's version and build depths",
            command,
            external.tail(done.stderr + done.stdout),
        )
    return version.group(1), tuple(int(d) for d in re.findall(r"(\d+)bit", build.group(1)))


class X265Encoder(X265Options, Encoder):
    """The ``x265`` command-line encoder found on PATH.

    Same settings as :class:`X265FfmpegEncoder`. Options:
        preset, tune, intra_period, inter_coding, picture_hash, threads, x265_params, timeout:
            as for x265-ffmpeg (``x265_params`` become ``--name=value``; a value
            of True is a bare ``--name`` flag).
        reconstruction: also return x265's reconstructed frames (``--recon``).
        executable: the x265 binary (default: ``x265`` on PATH).
    """

    name: ClassVar[str] = "x265"
    stream_id = 1

    def __init__(
        self,
        *,
        preset: str = "slower",
        tune: Optional[str] = "psnr",
        intra_period: int = 1,
        inter_coding: str = "randomaccess",
        picture_hash: bool = False,
        threads: Optional[int] = None,
        x265_params: Optional[Mapping[str, object]] = None,
        reconstruction: bool = False,
        executable: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> None:
        self._set_x265_options(preset, tune, intra_period, picture_hash, threads, x265_params, inter_coding)
        self.reconstruction = bool(reconstruction)
        self.timeout = check_timeout(timeout)
        self.exe = find_x265(executable)

    @property
    def coded_depths(self) -> Tuple[int, ...]:  # type: ignore[override]
        return tuple(sorted(_version(self.exe)[1]))

    def version(self) -> str:
        return "x265 " + _version(self.exe)[0]

    def _check_recon_depth(self, coded_bits: int) -> None:
        # A multilib x265 writes --recon through its main build's writer, which
        # mangles pictures of the other depths (x265 3.5, 8bit+10bit+12bit:
        # half-size files at 10 and 12 bits).
        main = _version(self.exe)[1][0]
        if (main > 8) != (coded_bits > 8):
            raise CodecError(
                f"{self.version()} is a multilib build whose main depth is {main} bits; its --recon output "
                f"is unreliable at {coded_bits} bits, so the x265 back end returns reconstructions only at "
                f"{'8' if main == 8 else 'more than 8'} bits"
            )

    def command(
        self, height: int, width: int, coded_bits: int, qp: int, output: str, recon: Optional[str]
    ) -> List[str]:
        # fmt: off
        cmd = [
            self.exe, "--input", "-", f"--input-res={width}x{height}", "--fps=25", "--input-csp=i400",
            f"--input-depth={coded_bits}", f"--output-depth={coded_bits}", f"--preset={self.preset}",
        ]
        # fmt: on
        if self.tune is not None:
            cmd.append(f"--tune={self.tune}")
        if "ctu" not in self.x265_params:
            cmd.append(f"--ctu={ctu_size(height, width)}")
        for key, value in self.x265_settings(qp).items():
            if key in _FLAGS:  # x265's command line takes these as --name / --no-name
                cmd.append(f"--{key}" if value == "1" else f"--no-{key}")
            else:
                cmd.append(f"--{key}={value}")
        for key, value in self.x265_params.items():
            cmd.append(f"--{key}" if value is None else f"--{key}={value}")
        cmd += ["--log-level=error", "--no-progress", f"--output={output}"]
        if recon is not None:
            cmd += [f"--recon={recon}", f"--recon-depth={coded_bits}"]
        return cmd

    def _can_batch(self) -> bool:
        return self.intra_period == 1 and not self.reconstruction  # x265's --recon holds one file per run

    def _run_x265(self, raw: np.ndarray, coded_bits: int, bits: int, qp: int, progress: Optional[Callable[[int], None]], size):
        """x265 on raw frames; ``progress`` hears only of the end (x265 draws its own on a terminal)."""
        if self.reconstruction:
            self._check_recon_depth(coded_bits)
        count, coded_height, coded_width = raw.shape
        with tempfile.TemporaryDirectory(prefix="ftm-x265-") as tmp:
            output = os.path.join(tmp, "stream.hevc")
            recon = os.path.join(tmp, "recon.yuv") if self.reconstruction else None
            command = self.command(coded_height, coded_width, coded_bits, qp, output, recon)
            seconds = external.run("x265", command, stdin=raw.tobytes(), timeout=self.timeout, fatal=_FATAL).seconds
            with open(output, "rb") as f:
                stream = f.read()
            reconstructed = None
            if recon is not None:
                with open(recon, "rb") as f:
                    reconstructed = raw_frames.from_raw(
                        f.read(), "x265 --recon", count, coded_height, coded_width, coded_bits,
                        bits, command, crop=size,
                    )  # fmt: skip
        if progress is not None:
            progress(count)
        return stream, seconds, command, reconstructed
