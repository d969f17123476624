"""libx265 through ffmpeg (the default encoder) and ffmpeg's decoders (HEVC, VVC, AVS2).

The ffmpeg binary is the one the ``imageio-ffmpeg`` package ships (or the
one its IMAGEIO_FFMPEG_EXE environment variable names, or ``ffmpeg=``).
Frames go in through a pipe as raw gray / gray10le / gray12le video and the
elementary stream comes back through a pipe: no temporary files.
"""

from __future__ import annotations

import functools
import os
import re
from typing import Callable, ClassVar, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ftm.codecs.video import batching, external, raw_frames, vvc_syntax
from ftm.codecs.video.base import (
    AVS2,
    CODECS,
    HEVC,
    TIMEOUT_HINT,
    VVC,
    DecodedVideo,
    Decoder,
    Encoder,
    EncodedVideo,
    check_qp,
    check_timeout,
)
from ftm.codecs.video.x265_options import X265_MIN_SIDE, X265Options, ctu_size, finish_stream
from ftm.errors import CodecError, CodecNotFoundError, PayloadError

__all__ = ["X265FfmpegEncoder", "FfmpegDecoder", "find_ffmpeg", "ffmpeg_version", "read_output"]

# Gray pixel formats by coded bit depth; ffmpeg's HEVC decoder outputs 4:0:0
# streams in exactly these, so naming them asks for no conversion.
_GRAY = {8: "gray", 9: "gray9le", 10: "gray10le", 12: "gray12le"}

def find_ffmpeg(path: Optional[str] = None) -> str:
    """The ffmpeg executable: ``path`` if given, else imageio-ffmpeg's."""
    if path is not None:
        exe = os.fspath(path)
        if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
            raise CodecNotFoundError(
                f"ffmpeg not found at {exe!r}: pass the path of an ffmpeg binary with libx265"
            )
        return exe
    try:
        import imageio_ffmpeg
    except ImportError as exc:
        raise CodecNotFoundError(
            "the x265-ffmpeg and ffmpeg back ends need the imageio-ffmpeg package: pip install imageio-ffmpeg"
        ) from exc
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:
        raise CodecNotFoundError(
            f"imageio-ffmpeg found no ffmpeg binary ({exc}); reinstall imageio-ffmpeg "
            "or set IMAGEIO_FFMPEG_EXE to an ffmpeg built with libx265"
        ) from exc


def _ffmpeg_python():
    try:
        import ffmpeg
    except ImportError as exc:
        raise CodecNotFoundError(
            "the x265-ffmpeg back end needs the ffmpeg-python package: pip install ffmpeg-python"
        ) from exc
    return ffmpeg


@functools.lru_cache(maxsize=None)
def _probe(exe: str) -> Tuple[str, str, Tuple[int, ...]]:
    """(ffmpeg version, libx265 version, bit depths libx265 was built for), from a one-frame encode."""
    # fmt: off
    command = [
        exe, "-nostdin", "-f", "rawvideo", "-pix_fmt", "gray", "-s", "64x64", "-r", "25", "-i", "pipe:",
        "-c:v", "libx265", "-x265-params", "log-level=info", "-f", "null", "-",
    ]
    # fmt: on
    try:
        err = external.run("ffmpeg (libx265 probe)", command, stdin=bytes(64 * 64)).stderr
    except CodecNotFoundError:
        raise
    except CodecError as exc:
        raise CodecNotFoundError(
            f"the ffmpeg at {exe!r} cannot encode with libx265; install imageio-ffmpeg's build "
            "or set IMAGEIO_FFMPEG_EXE to an ffmpeg built with --enable-libx265",
            exc.command,
            exc.stderr_tail,
        ) from exc
    text = err.decode("utf-8", errors="replace")
    ffmpeg_found = re.search(r"ffmpeg version (\S+)", text)
    x265_version = re.search(r"HEVC encoder version (\S+)", text)
    build = re.search(r"build info .*?((?:\d+bit\+?)+)\s*$", text, re.MULTILINE)
    if not (ffmpeg_found and x265_version and build):
        raise CodecError(
            "could not read ffmpeg's and libx265's versions from a probe encode", command, external.tail(err)
        )
    depths = tuple(sorted(int(d) for d in re.findall(r"(\d+)bit", build.group(1))))
    return ffmpeg_found.group(1), x265_version.group(1), depths


def read_output(path: str, what: str, command) -> bytes:
    """The stream an encoder wrote to ``path``; CodecError when it wrote nothing."""
    try:
        with open(path, "rb") as f:
            stream = f.read()
    except FileNotFoundError:
        stream = b""
    if not stream:
        raise CodecError(f"{what} wrote an empty bitstream", command)
    return stream


@functools.lru_cache(maxsize=None)
def ffmpeg_version(exe: str) -> str:
    command = [exe, "-hide_banner", "-version"]
    out = external.run("ffmpeg -version", command).stdout
    found = re.search(r"ffmpeg version (\S+)", out.decode("utf-8", errors="replace"))
    if not found:
        raise CodecError("could not read ffmpeg's version", command, external.tail(out))
    return "ffmpeg " + found.group(1)


class X265FfmpegEncoder(X265Options, Encoder):
    """libx265 through the ffmpeg binary; the default back end.

    Options:
        preset: x265 speed/efficiency preset (default ``"slower"``, the fastest
            with HM-like intra decisions: full RDO (rd 6), RDOQ, TU depth 3;
            veryslow and placebo code intra pictures identically). See x265_options.X265_PRESETS.
        tune: x265 tuning (default ``"psnr"``: no psycho-visual optimisations, so
            that rate-distortion decisions minimise squared error, as HM's do);
            None for x265's untuned defaults.
        intra_period: distance between intra pictures (default 1: all intra).
        inter_coding: ``"randomaccess"`` (x265's B pictures) or ``"lowdelay"``
            (P pictures only, in input order), when intra_period > 1.
        picture_hash: add an MD5 decoded-picture-hash SEI to every picture
            (default False: it costs about 25 bytes a picture).
        threads: x265 worker threads (default: x265's choice).
        x265_params: further x265 parameters, {name: value}.
        ffmpeg: path of the ffmpeg binary (default: imageio-ffmpeg's).
        timeout: seconds before the encoder is stopped (default: none).
    """

    name: ClassVar[str] = "x265-ffmpeg"
    stream_id = 0

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
        ffmpeg: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> None:
        self._set_x265_options(preset, tune, intra_period, picture_hash, threads, x265_params, inter_coding)
        self.timeout = check_timeout(timeout)
        self.exe = find_ffmpeg(ffmpeg)
        self._ffmpeg = _ffmpeg_python()
        _probe(self.exe)  # fail here, not at the first encode, when this ffmpeg has no libx265

    @property
    def coded_depths(self) -> Tuple[int, ...]:  # type: ignore[override]
        return _probe(self.exe)[2]

    def version(self) -> str:
        ffmpeg_release, x265_version, _ = _probe(self.exe)
        return f"libx265 {x265_version} (ffmpeg {ffmpeg_release})"

    def command(self, height: int, width: int, coded_bits: int, qp: int, pixel_format: str = "") -> list:
        params = self.x265_settings(qp)
        params["ctu"] = str(ctu_size(height, width))  # explicit: older ffmpeg wrappers do not shrink it
        params["log-level"] = "error"
        params.update({k: "1" if v is None else v for k, v in self.x265_params.items()})  # user's ctu wins
        ff = self._ffmpeg
        options = {"format": "hevc", "vcodec": "libx265", "preset": self.preset}
        if self.tune is not None:
            options["tune"] = self.tune
        options["x265-params"] = ":".join(f"{k}={v}" for k, v in params.items())
        stream = ff.input("pipe:", format="rawvideo", pix_fmt=pixel_format or _GRAY[coded_bits], s=f"{width}x{height}", r=25)
        stream = ff.output(stream, "pipe:", **options)
        # warnings are kept: ffmpeg reports an unknown x265 parameter only as a warning
        return ff.compile(stream, cmd=[self.exe, "-nostdin", "-hide_banner", "-loglevel", "warning"])

    def _run_x265(self, raw: np.ndarray, coded_bits: int, bits: int, qp: int, progress: Optional[Callable[[int], None]], size):
        count, height, width = raw.shape
        command = self.command(height, width, coded_bits, qp)
        report = None
        if progress is not None:  # ffmpeg's key=value progress lines, on a pipe of their own
            command[1:1] = ["-progress", "pipe:{progress_fd}", "-stats_period", "0.5"]
            report = functools.partial(_report_frames, progress)
        done = external.run("ffmpeg (libx265)", command, stdin=raw.tobytes(), timeout=self.timeout, progress=report)
        rejected = re.findall(
            r"(Unknown option: .*|Invalid value for .*)", done.stderr.decode("utf-8", errors="replace")
        )
        if rejected:
            raise CodecError(
                "libx265 rejected a parameter: " + "; ".join(rejected), command, external.tail(done.stderr)
            )
        if progress is not None:
            progress(count)
        return done.stdout, done.seconds, command, None

    def encode_colour(self, luma, chroma, qp, progress=None) -> EncodedVideo:
        """8-bit 4:2:0 pictures through libx265 (yuv420p), all intra, cropped back to their size by the SPS's window."""
        count, height, width = luma.shape
        qp = check_qp(qp, 8)
        luma = raw_frames.pad_to(np.asarray(luma, np.uint8), X265_MIN_SIDE)
        chroma = raw_frames.pad_to(np.asarray(chroma, np.uint8).reshape(2 * count, height // 2, width // 2), X265_MIN_SIDE // 2)
        raw = raw_frames.yuv420_raw(luma, chroma.reshape(count, 2, *chroma.shape[1:]))
        command = self.command(luma.shape[1], luma.shape[2], 8, qp, pixel_format="yuv420p")
        done = external.run("ffmpeg (libx265)", command, stdin=raw.tobytes(), timeout=self.timeout)
        if progress is not None:
            progress(count)
        stream = finish_stream(done.stdout, height, width, 8, self.name, command, chroma_format_idc=1)
        return EncodedVideo(stream, self.name, self.version(), 8, done.seconds, codec=HEVC, chroma_format=420)


def _report_frames(progress: Callable[[int], None], line: bytes) -> None:
    if line.startswith(b"frame="):
        try:
            progress(int(line[6:]))
        except ValueError:
            pass  # a line this ffmpeg writes differently: progress is informative only


# What ffmpeg is told about each payload: its input format, and the decoder when not the format's default.
_INPUT = {HEVC: ["-f", "hevc"], VVC: ["-f", "vvc"], AVS2: ["-c:v", "libdavs2", "-f", "avs2"]}
# 4:2:0 pixel formats by coded bit depth (the carriers of vvenc and xavs2); ffmpeg's VVC decoder and
# libdavs2 output exactly these
_YUV420 = {8: "yuv420p", 10: "yuv420p10le", 12: "yuv420p12le"}


class FfmpegDecoder(Decoder):
    """ffmpeg's decoders: HEVC, VVC (its native decoder) and AVS2 (libdavs2); the default decoder.

    Decoding errors are fatal (``-err_detect explode``) rather than concealed,
    and HEVC's MD5 picture-hash SEI messages are checked when a stream carries
    them; either is a :class:`ftm.errors.PayloadError`, and so is a stream
    that decodes to more pictures than declared (ffmpeg is stopped at the
    first byte past them).

    Options:
        ffmpeg: path of the ffmpeg binary (default: imageio-ffmpeg's).
        timeout: seconds per stream before the decoder is stopped (default:
            none; :meth:`from_options` takes the decode limits').
    """

    name: ClassVar[str] = "ffmpeg"
    codecs = (HEVC, VVC, AVS2)

    @classmethod
    def from_options(cls, options) -> "FfmpegDecoder":
        return cls(timeout=options.limits.timeout)

    def __init__(self, *, ffmpeg: Optional[str] = None, timeout: Optional[float] = None) -> None:
        self.exe = find_ffmpeg(ffmpeg)
        self.timeout = check_timeout(timeout)

    def version(self) -> str:
        return ffmpeg_version(self.exe)

    def decode(self, bitstream, num_frames, height, width, bits, codec=HEVC, chroma_format=400) -> DecodedVideo:
        return self.decode_sequences([bitstream], [num_frames], height, width, bits, codec, chroma_format)[0]

    def decode_sequences(
        self, bitstreams: Sequence[bytes], counts: Sequence[int], height: int, width: int, bits: int,
        codec: str = HEVC, chroma_format: int = 400,
    ) -> List[DecodedVideo]:  # fmt: skip
        """One ffmpeg process for all the streams: each is checked, then they are decoded back to back."""
        self.check_codec(codec)
        infos = [
            raw_frames.check_stream(b, n, height, width, bits, self.name, codec, chroma_format)
            for b, n in zip(bitstreams, counts)
        ]
        formats = {(info.bit_depth, info.height, info.width) for info in infos}
        # one raw output format per process; AVS2 streams one by one: libdavs2 given several video
        # sequences back to back returned another sequence's picture for a one-picture sequence
        if len(formats) > 1 or (codec == AVS2 and len(bitstreams) > 1):
            return [self.decode_sequences([b], [n], height, width, bits, codec, chroma_format)[0]
                    for b, n in zip(bitstreams, counts)]  # fmt: skip
        ((depth, coded_height, coded_width),) = formats
        pixel_formats = _GRAY if chroma_format == 400 else _YUV420
        if depth not in pixel_formats:
            raise CodecError(f"ffmpeg decodes {CODECS[codec]} {chroma_format} streams of {sorted(pixel_formats)} "
                             f"bits; this one is coded at {depth}")  # fmt: skip
        # fmt: off
        command = [
            self.exe, "-nostdin", "-hide_banner", "-loglevel", "error", "-xerror",
            "-err_detect", "crccheck+explode", *_INPUT[codec], "-i", "pipe:",
            "-f", "rawvideo", "-pix_fmt", pixel_formats[depth], "pipe:",
        ]
        # fmt: on
        stream, extra = _concatenated(list(bitstreams), codec, sum(counts))
        what = f"ffmpeg ({CODECS[codec]} decoder)"
        total = sum(counts)
        # Exactly the declared pictures are read: one byte more stops ffmpeg (a
        # picture bomb costs one picture's decoding, not all of them).
        done = external.run(
            what, command, stdin=stream, error=PayloadError,
            timeout=None if self.timeout is None else self.timeout * len(bitstreams),
            timeout_hint=TIMEOUT_HINT,
            stdout_size=raw_frames.raw_size(total + extra, coded_height, coded_width, depth, chroma_format),
        )  # fmt: skip
        frames = raw_frames.from_raw(done.stdout, what, total + extra, coded_height, coded_width, depth, bits, command,
                                     crop=(height, width), error=PayloadError, chroma_format=chroma_format)[:total]  # fmt: skip
        # the process's time, shared out by frames: what each stream would take is not measurable apart
        return [DecodedVideo(part, done.seconds * len(part) / total) for part in batching.split_frames(frames, counts)]

    def decode_colour(self, bitstream, num_pictures, height, width):
        """The pictures of a 4:2:0 8-bit HEVC stream, as checked and bounded as :meth:`decode_sequences`."""
        raw_frames.check_colour_stream(bitstream, num_pictures, height, width, self.name)
        command = [self.exe, "-nostdin", "-hide_banner", "-loglevel", "error", "-xerror", "-err_detect", "crccheck+explode",
                   *_INPUT[HEVC], "-i", "pipe:", "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:"]  # fmt: skip
        size = raw_frames.raw_size(num_pictures, height, width, 8, 420)
        done = external.run("ffmpeg (HEVC decoder)", command, stdin=bytes(bitstream), error=PayloadError,
                            timeout=self.timeout, timeout_hint=TIMEOUT_HINT, stdout_size=size)  # fmt: skip
        luma, chroma = raw_frames.colour_pictures(done.stdout, "ffmpeg (HEVC decoder)", num_pictures, height, width, command)
        return luma, chroma, done.seconds


def _concatenated(bitstreams: List[bytes], codec: str, pictures: int) -> Tuple[bytes, int]:
    """The decoder's input for several standalone streams, and how many pictures in it are extra.

    HEVC: FTM's streams each begin with an IDR picture and its parameter
    sets, so they follow each other as they are. VVC: an end-of-sequence NAL
    unit between two streams makes the next one's first picture start a new
    coded video sequence, as it did alone (a CRA picture would otherwise
    continue the previous stream's picture order count). AVS2: one stream.

    An AVS2 stream of one picture is followed by a second copy of itself,
    whose picture is decoded and dropped (``extra``): libdavs2 parses a
    picture once the next unit arrives, and ffmpeg's parser attaches the end
    code to the picture before it, so a one-picture input is parsed only when
    ffmpeg drains the decoder; libdavs2 then reports the sequence header
    first, and ffmpeg's wrapper (libavcodec/libdavs2.c, send_delayed_frame)
    ends draining on that report without asking for the picture: no frame
    comes out (docs/codecs.md). The stored stream is left as it is.
    """
    if codec == VVC:
        return vvc_syntax.EOS_NAL_UNIT.join(bytes(b) for b in bitstreams), 0
    stream = b"".join(bytes(b) for b in bitstreams)
    if codec == AVS2 and pictures == 1:
        return stream + stream, 1
    return stream, 0
