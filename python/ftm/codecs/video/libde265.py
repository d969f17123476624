"""libde265's dec265: an HEVC decoder independent of ffmpeg, x265 and HM.

FTM uses it to cross-check that its streams decode to the same frames in a
decoder that shares no code with the encoders. dec265 1.0.11 exits with
status 0 after a picture-hash mismatch and after decoding errors it
conceals; it says so in ``WARNING:`` lines on stderr, which FTM turns into
a :class:`ftm.errors.PayloadError`, as it does a failed exit status and
another number of frames than declared.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
from typing import ClassVar, Optional

from ftm.codecs.video import external, raw_frames
from ftm.codecs.video.base import HEVC, TIMEOUT_HINT, DecodedVideo, Decoder, check_timeout
from ftm.errors import CodecError, CodecNotFoundError, PayloadError

__all__ = ["Dec265Decoder", "find_dec265"]

# Debian and Ubuntu install dec265 as libde265-dec265 (package libde265-examples).
_NAMES = ("dec265", "libde265-dec265")


def find_dec265(executable: Optional[str] = None) -> str:
    if executable is not None:
        exe = os.fspath(executable)
        found = (
            exe if os.sep in exe and os.access(exe, os.X_OK) and os.path.isfile(exe) else shutil.which(exe)
        )
        if found is None:
            raise CodecNotFoundError(f"dec265 not found at {exe!r}")
        return found
    for name in _NAMES:
        found = shutil.which(name)
        if found is not None:
            return found
    raise CodecNotFoundError(
        "the libde265 decoder needs libde265's dec265 (dec265 or libde265-dec265) on PATH: "
        "install it (Debian/Ubuntu: apt-get install libde265-examples) or pass executable=<path>"
    )


@functools.lru_cache(maxsize=None)
def _version(exe: str) -> str:
    command = [exe, "--help"]
    done = external.run("dec265 --help", command, check=False)  # --help exits with status 1
    found = re.search(r"dec265\s+v(\S+)", (done.stdout + done.stderr).decode("utf-8", errors="replace"))
    if not found:
        raise CodecError("could not read dec265's version", command, external.tail(done.stderr + done.stdout))
    return "libde265 " + found.group(1)


class Dec265Decoder(Decoder):
    """libde265's dec265 (a cross-check decoder, see the module notes).

    Options:
        executable: the dec265 binary (default: dec265 or libde265-dec265 on PATH).
        timeout: seconds before the decoder is stopped (default: none).
    """

    name: ClassVar[str] = "libde265"

    def __init__(self, *, executable: Optional[str] = None, timeout: Optional[float] = None) -> None:
        self.exe = find_dec265(executable)
        self.timeout = check_timeout(timeout)

    def version(self) -> str:
        return _version(self.exe)

    def decode(self, bitstream, num_frames, height, width, bits, codec=HEVC, chroma_format=400) -> DecodedVideo:
        self.check_codec(codec)
        info = raw_frames.check_stream(bitstream, num_frames, height, width, bits, self.name, codec, chroma_format)
        with tempfile.TemporaryDirectory(prefix="ftm-dec265-") as tmp:
            stream_path = os.path.join(tmp, "stream.hevc")
            out_path = os.path.join(tmp, "decoded.yuv")
            with open(stream_path, "wb") as f:
                f.write(bitstream)
            # -q: no display; -c: check picture hashes; -t 0: decode on the calling thread, so the timing is the
            # decoder's own work
            command = [self.exe, "-q", "-c", "-t", "0", "-o", out_path, stream_path]
            expected = raw_frames.raw_size(num_frames, height, width, info.bit_depth)
            done = external.run(
                "dec265", command, timeout=self.timeout, cwd=tmp, check=False, file_size_limit=expected,
                timeout_hint=TIMEOUT_HINT,
            )  # fmt: skip
            if external.wrote_too_much(done):
                raise PayloadError(f"dec265 decoded more than the {num_frames} declared frames; stopped it", command)
            external.check_status("dec265", command, done, PayloadError)
            warnings = [line for line in done.stderr.splitlines() if line.startswith(b"WARNING")]
            if warnings:  # a concealed error or a hash mismatch: the frames are not the stream's
                first = warnings[0].decode("utf-8", errors="replace")
                raise PayloadError(f"dec265 reported {len(warnings)} stream error(s), first: {first}", command, external.tail(done.stderr))
            if not os.path.exists(out_path):
                raise PayloadError("dec265 wrote no pictures", command, external.tail(done.stderr))
            frames = raw_frames.from_raw(
                raw_frames.read_at_most(out_path, expected), "dec265", num_frames, height, width,
                info.bit_depth, bits, command, error=PayloadError,
            )  # fmt: skip
        return DecodedVideo(frames, done.seconds)
