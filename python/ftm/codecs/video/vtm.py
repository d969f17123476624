"""VTM, the VVC reference software: EncoderApp and DecoderApp.

FTM does not ship VTM. Point the ``vtm_dir`` option (or the FTM_VTM_DIR
environment variable) at a folder holding its binaries or at a VTM build
tree; they are looked up as EncoderApp / EncoderAppStatic (and .exe) in
that folder, its bin/, and anywhere below, release builds first. VTM codes
4:0:0 natively, at the samples' own bit depth (8 to 10: VVC's Main 10
profile), all intra (``cfg/vtm/encoder_intra_400.cfg``); for inter coding
use the vvenc back end, whose structures FTM configures.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from pathlib import Path
from typing import Callable, ClassVar, List, Optional, Sequence, Tuple

import numpy as np

from ftm.codecs.video import external, raw_frames, vvc_syntax
from ftm.codecs.video.base import (
    TIMEOUT_HINT,
    VVC,
    DecodedVideo,
    Decoder,
    EncodedVideo,
    Encoder,
    check_frames,
    check_qp,
    check_timeout,
)
from ftm.codecs.video.raw_frames import read_at_most
from ftm.codecs.video.tool_folders import find_tool
from ftm.data import shipped
from ftm.errors import CodecError, CodecNotFoundError, ConfigError, PayloadError
from ftm.settings import Key, plain_text

__all__ = ["VTMDecoder", "VTMEncoder", "VTM_DIR_ENV", "default_vtm_config"]

VTM_DIR_ENV = "FTM_VTM_DIR"
VTM_DIR_KEY = Key("VtmDir", "vtm_dir", plain_text, "folder holding VTM's EncoderApp/DecoderApp (empty: $FTM_VTM_DIR)")


def default_vtm_config() -> Path:
    """FTM's base VTM configuration: all-intra, 4:0:0."""
    path = shipped("cfg", "vtm", "encoder_intra_400.cfg")
    if not path.is_file():
        raise CodecNotFoundError(f"FTM's VTM configuration cfg/vtm/encoder_intra_400.cfg is missing from {path.parent}")
    return path


def find_vtm(tool: str, vtm_dir: Optional[str] = None) -> str:
    """Path of VTM's ``tool`` (EncoderApp or DecoderApp)."""
    return find_tool("VTM", tool, vtm_dir, VTM_DIR_ENV, "VtmDir", "vtm")


@functools.lru_cache(maxsize=None)
def _version(exe: str, role: str) -> str:
    command = [exe, "--help"]
    done = external.run(f"VTM {role}App --help", command, check=False)  # --help exits with status 1
    found = re.search(rf"VTM {role} Version (\S+)", (done.stdout + done.stderr).decode("utf-8", errors="replace"))
    if not found:
        raise CodecError(f"could not read VTM's version from {exe}", command, external.tail(done.stdout + done.stderr))
    return "VTM-" + found.group(1)


class VTMEncoder(Encoder):
    """VTM's EncoderApp: all-intra 4:0:0 VVC at the samples' own bit depth (8..10).

    Options:
        vtm_dir: folder holding VTM's binaries (default: $FTM_VTM_DIR).
        config: VTM configuration files, read in order (default: FTM's cfg/vtm/encoder_intra_400.cfg).
        extra_args: further ``--Key=Value`` options, given last so they win.
        picture_hash: MD5 decoded-picture-hash SEI in every picture (default False; VTM's decoder checks it).
        timeout: seconds before the encoder is stopped (default: none).
    """

    name: ClassVar[str] = "vtm"
    codec = VVC
    stream_id = 5
    inter_codings = ()
    coded_depths = (8, 9, 10)
    qp_range_name = "VVC's range"
    keys = (VTM_DIR_KEY,)

    @classmethod
    def from_config(cls, cfg) -> "VTMEncoder":
        if cfg.intra_period != 1:
            raise ConfigError("Encoder : vtm codes all-intra only (IntraPeriod 1); for inter coding use Encoder : vvenc")
        return cls(vtm_dir=cfg.vtm_dir or None)

    def __init__(
        self,
        *,
        vtm_dir: Optional[str] = None,
        config: Optional[Sequence[str]] = None,
        extra_args: Sequence[str] = (),
        picture_hash: bool = False,
        timeout: Optional[float] = None,
    ) -> None:
        self.exe = find_vtm("EncoderApp", vtm_dir)
        if isinstance(config, (str, os.PathLike)):
            config = [config]
        self.config = tuple(os.fspath(c) for c in config) if config is not None else (str(default_vtm_config()),)
        for path in self.config:
            if not os.path.isfile(path):
                raise CodecNotFoundError(f"VTM configuration file {path!r} does not exist")
        for arg in extra_args:
            if not isinstance(arg, str) or not arg.startswith("--") or "=" not in arg:
                raise ValueError(f"VTM options are given as '--Key=Value', got {arg!r}")
        self.extra_args = tuple(extra_args)
        self.picture_hash = bool(picture_hash)
        self.timeout = check_timeout(timeout)

    @classmethod
    def qp_limits(cls, coded_bits: int) -> Tuple[int, int]:
        return -6 * (coded_bits - 8), 63

    def version(self) -> str:
        return _version(self.exe, "Encoder")

    def command(self, count: int, height: int, width: int, coded_bits: int, qp: int, tmp: str) -> List[str]:
        cmd = [self.exe]
        for path in self.config:
            cmd += ["-c", os.path.abspath(path)]
        # fmt: off
        cmd += [
            "-i", os.path.join(tmp, "frames.yuv"), "-b", os.path.join(tmp, "stream.vvc"),
            f"--SourceWidth={width}", f"--SourceHeight={height}", f"--FramesToBeEncoded={count}", "--FrameRate=25",
            f"--InputBitDepth={coded_bits}", f"--MSBExtendedBitDepth={coded_bits}",
            f"--InternalBitDepth={coded_bits}", f"--OutputBitDepth={coded_bits}",
            "--InputChromaFormat=400", "--ChromaFormatIDC=400", f"--QP={qp}",
            f"--SEIDecodedPictureHash={1 if self.picture_hash else 0}",
        ]
        # fmt: on
        return cmd + list(self.extra_args)

    def encode(
        self, frames: np.ndarray, bits: int, qp: int, progress: Optional[Callable[[int], None]] = None
    ) -> EncodedVideo:
        frames = check_frames(frames, bits)
        coded_bits = self.coded_bits(bits)
        qp = check_qp(qp, coded_bits, self.qp_limits(coded_bits))
        count, height, width = frames.shape
        coded = [0]

        def picture_done(line: bytes) -> None:  # VTM logs one "POC n ..." line per coded picture
            if line.startswith(b"POC"):
                coded[0] += 1
                progress(coded[0])

        with tempfile.TemporaryDirectory(prefix="ftm-vtm-") as tmp:
            raw_frames.to_raw(frames, coded_bits).tofile(os.path.join(tmp, "frames.yuv"))
            command = self.command(count, height, width, coded_bits, qp, tmp)
            seconds = external.run("VTM EncoderApp", command, timeout=self.timeout, cwd=tmp,
                                   stdout_lines=picture_done if progress is not None else None).seconds  # fmt: skip
            with open(os.path.join(tmp, "stream.vvc"), "rb") as f:
                stream = f.read()
        try:
            raw_frames.check_stream(stream, count, height, width, bits, "VTM EncoderApp", VVC)
            pictures = vvc_syntax.picture_count(stream)
        except CodecError as exc:
            raise CodecError(f"VTM wrote an unexpected stream: {exc.message}", command) from exc
        if pictures != count:
            raise CodecError(f"VTM wrote {pictures} pictures for {count} frames", command)
        return EncodedVideo(stream, self.name, self.version(), coded_bits, seconds, codec=VVC)


class VTMDecoder(Decoder):
    """VTM's DecoderApp; an MD5 picture-hash mismatch is an error.

    Options:
        vtm_dir: folder holding VTM's binaries (default: $FTM_VTM_DIR).
        timeout: seconds before the decoder is stopped (default: none).
    """

    name: ClassVar[str] = "vtm"
    keys = (VTM_DIR_KEY,)
    codecs = (VVC,)

    @classmethod
    def from_options(cls, options) -> "VTMDecoder":
        return cls(vtm_dir=options.vtm_dir or None)

    def __init__(self, *, vtm_dir: Optional[str] = None, timeout: Optional[float] = None) -> None:
        self.exe = find_vtm("DecoderApp", vtm_dir)
        self.timeout = check_timeout(timeout)

    def version(self) -> str:
        return _version(self.exe, "Decoder")

    def decode(self, bitstream, num_frames, height, width, bits, codec=VVC, chroma_format=400) -> DecodedVideo:
        self.check_codec(codec)
        info = raw_frames.check_stream(bitstream, num_frames, height, width, bits, self.name, codec, chroma_format)
        with tempfile.TemporaryDirectory(prefix="ftm-vtm-") as tmp:
            stream_path, out_path = os.path.join(tmp, "stream.vvc"), os.path.join(tmp, "decoded.yuv")
            with open(stream_path, "wb") as f:
                f.write(bitstream)
            command = [self.exe, "-b", stream_path, "-o", out_path, "-d", str(info.bit_depth)]
            expected = raw_frames.raw_size(num_frames, height, width, info.bit_depth, chroma_format)
            # a hash mismatch is reported in the log; check it before the exit status to say so
            done = external.run(
                "VTM DecoderApp", command, timeout=self.timeout, cwd=tmp, check=False,
                file_size_limit=expected, timeout_hint=TIMEOUT_HINT,
            )  # fmt: skip
            log = done.stdout.decode("utf-8", errors="replace")
            if external.wrote_too_much(done):
                raise PayloadError(f"VTM DecoderApp decoded more than the {num_frames} declared frames; stopped it", command)
            failed = len(re.findall(r"\*\*\*ERROR\*\*\*", log))
            if failed:
                raise PayloadError(f"VTM DecoderApp: {failed} decoded picture(s) do not match their MD5 hash",
                                   command, log[-2000:])  # fmt: skip
            external.check_status("VTM DecoderApp", command, done, PayloadError)
            if not os.path.exists(out_path):
                raise PayloadError("VTM DecoderApp wrote no pictures", command, log[-2000:])
            frames = raw_frames.from_raw(
                read_at_most(out_path, expected), "VTM DecoderApp", num_frames, height, width, info.bit_depth,
                bits, command, error=PayloadError, chroma_format=chroma_format,
            )  # fmt: skip
        return DecodedVideo(frames, done.seconds)
