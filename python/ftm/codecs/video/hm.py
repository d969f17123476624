"""HM, the HEVC reference software: TAppEncoder and TAppDecoder.

FTM does not ship HM. Point the ``hm_dir`` option (or the FTM_HM_DIR
environment variable) at a folder holding HM's binaries or at an HM build
tree; the binaries are looked up as TAppEncoder / TAppEncoderStatic (and
.exe) in that folder, its bin/, and anywhere below, release builds first.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from pathlib import Path
from typing import Callable, ClassVar, List, Optional, Sequence, Tuple

import numpy as np

from ftm.codecs.video import external, raw_frames
from ftm.codecs.video.raw_frames import read_at_most
from ftm.codecs.video.tool_folders import find_tool
from ftm.data import shipped
from ftm.codecs.video.base import (
    HEVC,
    TIMEOUT_HINT,
    DecodedVideo,
    Decoder,
    EncodedVideo,
    Encoder,
    check_frames,
    check_qp,
    check_timeout,
)
from ftm.errors import CodecError, CodecNotFoundError, ConfigError, PayloadError
from ftm.settings import Key, boolean, plain_text

__all__ = ["HMEncoder", "HMDecoder", "find_hm", "default_hm_config", "HM_DIR_ENV"]

HM_DIR_ENV = "FTM_HM_DIR"
HM_DIR_KEY = Key("HmDir", "hm_dir", plain_text, "folder holding HM's TAppEncoder/TAppDecoder (empty: $FTM_HM_DIR)")
_DIR_KEY = "HmDir"

# Valid when the HM build has RExt__HIGH_BIT_DEPTH_SUPPORT; a build without it
# rejects more than 12 bits itself, and that error is passed on.
HM_CODED_DEPTHS = tuple(range(8, 17))


def default_hm_config() -> Path:
    """FTM's base HM configuration: all-intra, 4:0:0, range extensions."""
    path = shipped("cfg", "hm", "encoder_intra_400.cfg")
    if not path.is_file():
        raise CodecNotFoundError(f"FTM's HM configuration cfg/hm/encoder_intra_400.cfg is missing from {path.parent}")
    return path


def find_hm(tool: str, hm_dir: Optional[str] = None) -> str:
    """Path of HM's ``tool`` (TAppEncoder or TAppDecoder)."""
    return find_tool("HM", tool, hm_dir, HM_DIR_ENV, _DIR_KEY, "hm")


@functools.lru_cache(maxsize=None)
def _version(exe: str, role: str) -> str:
    command = [exe, "--help"]
    # HM prints its banner first and then exits with status 1 after --help
    done = external.run(f"HM {role} --help", command, check=False)
    found = re.search(rf"{role} Version \[([^\]]+)\]", done.stdout.decode("utf-8", errors="replace"))
    if not found:
        raise CodecError(
            f"could not read HM's version from {exe}", command, external.tail(done.stdout + done.stderr)
        )
    return "HM-" + found.group(1)


def _check_args(args: Sequence[str]) -> Tuple[str, ...]:
    for arg in args:
        if not isinstance(arg, str) or not arg.startswith("--") or "=" not in arg:
            raise ValueError(f"HM options are given as '--Key=Value', got {arg!r}")
    return tuple(args)


class HMEncoder(Encoder):
    """HM's TAppEncoder: all-intra 4:0:0, main-RExt profile (images in colour: 4:2:0, Main), MD5 picture hashes.

    Options:
        hm_dir: folder holding HM's binaries (default: $FTM_HM_DIR).
        config: HM configuration files, read in order (default: FTM's
            cfg/hm/encoder_intra_400.cfg).
        extra_args: further ``--Key=Value`` options, given last so they win.
        picture_hash: MD5 decoded-picture-hash SEI in every picture (default
            True: HM's decoder verifies it; it costs about 25 bytes a picture).
        reconstruction: also return HM's reconstructed frames.
        timeout: seconds before the encoder is stopped (default: none).
    """

    name: ClassVar[str] = "hm"
    stream_id = 2
    inter_codings = ()  # FTM configures HM all-intra only (cfg/hm/encoder_intra_400.cfg)
    keys = (
        HM_DIR_KEY,
        Key("HmPictureHash", "hm_picture_hash", boolean, "HM writes MD5 picture-hash SEI (25 bytes a picture, counted in the rate)"),
    )
    coded_depths = HM_CODED_DEPTHS

    @classmethod
    def from_config(cls, cfg) -> "HMEncoder":
        if cfg.intra_period != 1:
            raise ConfigError("Encoder : hm codes all-intra only; IntraPeriod must be 1")
        return cls(hm_dir=cfg.hm_dir or None, picture_hash=cfg.hm_picture_hash)

    def __init__(
        self,
        *,
        hm_dir: Optional[str] = None,
        config: Optional[Sequence[str]] = None,
        extra_args: Sequence[str] = (),
        picture_hash: bool = True,
        reconstruction: bool = False,
        timeout: Optional[float] = None,
    ) -> None:
        self.exe = find_hm("TAppEncoder", hm_dir)
        if isinstance(config, (str, os.PathLike)):
            config = [config]
        self.config = (
            tuple(os.fspath(c) for c in config) if config is not None else (str(default_hm_config()),)
        )
        for path in self.config:
            if not os.path.isfile(path):
                raise CodecNotFoundError(f"HM configuration file {path!r} does not exist")
        self.extra_args = _check_args(extra_args)
        self.picture_hash = bool(picture_hash)
        self.reconstruction = bool(reconstruction)
        self.timeout = check_timeout(timeout)

    def version(self) -> str:
        return _version(self.exe, "Encoder")

    def command(self, count: int, height: int, width: int, coded_bits: int, qp: int, tmp: str, chroma_format: int = 400) -> List[str]:
        cmd = [self.exe]
        for path in self.config:
            cmd += ["-c", os.path.abspath(path)]
        # fmt: off
        cmd += [
            "-i", os.path.join(tmp, "frames.yuv"), "-b", os.path.join(tmp, "stream.hevc"),
            f"--SourceWidth={width}", f"--SourceHeight={height}", f"--FramesToBeEncoded={count}", "--FrameRate=25",
            f"--InputBitDepth={coded_bits}", f"--MSBExtendedBitDepth={coded_bits}",
            f"--InternalBitDepth={coded_bits}", f"--OutputBitDepth={coded_bits}",
            f"--InputChromaFormat={chroma_format}", f"--ChromaFormatIDC={chroma_format}",
            # 4:0:0 needs a range extensions profile; 8-bit 4:2:0 pictures (images) are Main profile
            "--Profile=main-RExt" if chroma_format == 400 else "--Profile=main",
            f"--QP={qp}", f"--SEIDecodedPictureHash={1 if self.picture_hash else 0}",
        ]
        # fmt: on
        if self.reconstruction:
            cmd += ["-o", os.path.join(tmp, "recon.yuv")]
        return cmd + list(self.extra_args)

    def encode(
        self, frames: np.ndarray, bits: int, qp: int, progress: Optional[Callable[[int], None]] = None
    ) -> EncodedVideo:
        frames = check_frames(frames, bits)
        coded_bits = self.coded_bits(bits)
        qp = check_qp(qp, coded_bits)
        count, height, width = frames.shape
        return self._encode_raw(raw_frames.to_raw(frames, coded_bits), count, height, width, coded_bits, bits, qp, progress)

    def encode_colour(self, luma, chroma, qp, progress=None) -> EncodedVideo:
        """8-bit 4:2:0 pictures (images, SPEC.md 3.16), Main profile."""
        count, height, width = luma.shape
        raw = raw_frames.yuv420_raw(luma, chroma)
        return self._encode_raw(raw, count, height, width, 8, 8, check_qp(qp, 8), progress, chroma_format=420)

    def _encode_raw(self, raw: np.ndarray, count: int, height: int, width: int, coded_bits: int, bits: int, qp: int,
                    progress, chroma_format: int = 400) -> EncodedVideo:  # fmt: skip
        coded_pictures = [0]

        def picture_done(line: bytes) -> None:  # HM logs one "POC n ..." line per coded picture
            if line.startswith(b"POC"):
                coded_pictures[0] += 1
                progress(coded_pictures[0])

        with tempfile.TemporaryDirectory(prefix="ftm-hm-") as tmp:
            raw.tofile(os.path.join(tmp, "frames.yuv"))
            command = self.command(count, height, width, coded_bits, qp, tmp, chroma_format)
            seconds = external.run(
                "HM TAppEncoder", command, timeout=self.timeout, cwd=tmp,
                stdout_lines=picture_done if progress is not None else None,
            ).seconds  # fmt: skip
            with open(os.path.join(tmp, "stream.hevc"), "rb") as f:
                stream = f.read()
            reconstructed = None
            if self.reconstruction and chroma_format == 400:
                with open(os.path.join(tmp, "recon.yuv"), "rb") as f:
                    reconstructed = raw_frames.from_raw(
                        f.read(), "HM's reconstruction", count, height, width, coded_bits, bits, command
                    )
        try:
            raw_frames.check_stream(stream, count, height, width, bits, "HM TAppEncoder", chroma_format=chroma_format)
        except CodecError as exc:
            raise CodecError(f"HM wrote an unexpected stream: {exc.message}", command) from exc
        return EncodedVideo(stream, self.name, self.version(), coded_bits, seconds, reconstructed, chroma_format=chroma_format)


class HMDecoder(Decoder):
    """HM's TAppDecoder; checks every MD5 picture hash the stream carries.

    A hash mismatch is an error. Options:
        hm_dir: folder holding HM's binaries (default: $FTM_HM_DIR).
        require_hash: also fail when a picture carries no MD5 hash, so that
            every picture is verified (default False: x265 streams carry none).
        timeout: seconds before the decoder is stopped (default: none).
    """

    name: ClassVar[str] = "hm"
    keys = (HM_DIR_KEY,)

    @classmethod
    def from_options(cls, options) -> "HMDecoder":
        return cls(hm_dir=options.hm_dir or None, timeout=options.limits.timeout)

    def __init__(
        self, *, hm_dir: Optional[str] = None, require_hash: bool = False, timeout: Optional[float] = None
    ):
        self.exe = find_hm("TAppDecoder", hm_dir)
        self.require_hash = bool(require_hash)
        self.timeout = check_timeout(timeout)

    def version(self) -> str:
        return _version(self.exe, "Decoder")

    def decode(self, bitstream, num_frames, height, width, bits, codec=HEVC, chroma_format=400) -> DecodedVideo:
        self.check_codec(codec)
        info = raw_frames.check_stream(bitstream, num_frames, height, width, bits, self.name, codec, chroma_format)
        data, command, seconds = self._decode_raw(bitstream, num_frames, height, width, info.bit_depth, chroma_format)
        frames = raw_frames.from_raw(data, "HM TAppDecoder", num_frames, height, width, info.bit_depth, bits, command,
                                     error=PayloadError, chroma_format=chroma_format)  # fmt: skip
        return DecodedVideo(frames, seconds)

    def decode_colour(self, bitstream, num_pictures, height, width):
        """The pictures of a 4:2:0 8-bit HEVC stream (images, SPEC.md 3.16), MD5 hashes checked as :meth:`decode` does."""
        raw_frames.check_colour_stream(bitstream, num_pictures, height, width, self.name)
        data, command, seconds = self._decode_raw(bitstream, num_pictures, height, width, 8, 420)
        return (*raw_frames.colour_pictures(data, "HM TAppDecoder", num_pictures, height, width, command), seconds)

    def _decode_raw(self, bitstream, num_frames: int, height: int, width: int, depth: int, chroma_format: int):
        """TAppDecoder's output file (at most the declared pictures' bytes + 1), its command and seconds."""
        with tempfile.TemporaryDirectory(prefix="ftm-hm-") as tmp:
            stream_path = os.path.join(tmp, "stream.hevc")
            recon_path = os.path.join(tmp, "decoded.yuv")
            with open(stream_path, "wb") as f:
                f.write(bitstream)
            command = [self.exe, "-b", stream_path, "-o", recon_path, "-d", str(depth)]
            expected = raw_frames.raw_size(num_frames, height, width, depth, chroma_format)
            # a hash mismatch makes HM exit with status 1: check the log first to say so
            done = external.run(
                "HM TAppDecoder", command, timeout=self.timeout, cwd=tmp, check=False,
                file_size_limit=expected, timeout_hint=TIMEOUT_HINT,
            )  # fmt: skip
            log = done.stdout.decode("utf-8", errors="replace")
            if external.wrote_too_much(done):
                raise PayloadError(f"HM TAppDecoder decoded more than the {num_frames} declared frames; stopped it", command)
            verified = len(re.findall(r"\[MD5:[0-9a-f]+,\(OK\)\]", log))
            failed = len(re.findall(r",\(\*\*\*ERROR\*\*\*\)\]", log))
            unhashed = len(re.findall(r",\(unk\)\]", log))
            if failed:
                raise PayloadError(
                    f"HM TAppDecoder: {failed} decoded picture(s) do not match their MD5 hash",
                    command,
                    log[-2000:],
                )
            # HM aborts (SIGABRT) on some corrupted slices: a malformed payload too
            external.check_status("HM TAppDecoder", command, done, PayloadError)
            if self.require_hash and verified != num_frames:
                raise PayloadError(
                    f"HM TAppDecoder verified {verified} MD5 picture hashes, expected {num_frames} "
                    f"({unhashed} picture(s) carry none)",
                    command,
                    log[-2000:],
                )
            if not os.path.exists(recon_path):
                raise PayloadError("HM TAppDecoder wrote no pictures", command, log[-2000:])
            return read_at_most(recon_path, expected), command, done.seconds
