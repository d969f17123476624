"""Time FTM's HEVC wrappers spend outside the external encoder and decoder.

EncodedVideo.seconds and DecodedVideo.seconds are the wall time of the
external processes (spawn to exit). What a call takes beyond that is the
wrapper's own work: input checks, building the command, moving samples
through pipes or files, parsing and tidying the stream. The helpers below
measure it per call; `python benchmarks/bench_codec_overhead.py` prints a
table for feature tensors of 1x1280x7x7 and 1x144x56x56 (channel packing,
8-bit log quantizer) at QP 22 with every back end available here.

    python benchmarks/bench_codec_overhead.py [--repeats 5] [--qp 22]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

import ftm
from ftm.codecs import video as codecs


@dataclass(frozen=True)
class Timing:
    """One call: its wall time and the time inside external tools."""

    wall: float
    tool: float

    @property
    def outside(self) -> float:
        return self.wall - self.tool

    @property
    def outside_share(self) -> float:
        return self.outside / self.wall if self.wall > 0 else 0.0


def timed(call: Callable[[], object], tool_seconds: Callable[[object], float]) -> Tuple[object, Timing]:
    start = time.perf_counter()
    result = call()
    wall = time.perf_counter() - start
    return result, Timing(wall, tool_seconds(result))


def time_encode(
    encoder: codecs.Encoder, frames: np.ndarray, bits: int, qp: int
) -> Tuple[codecs.EncodedVideo, Timing]:
    return timed(lambda: encoder.encode(frames, bits, qp), lambda r: r.seconds)


def time_decode(
    decoder: codecs.Decoder, coded: codecs.EncodedVideo, shape: Sequence[int], bits: int
) -> Tuple[codecs.DecodedVideo, Timing]:
    return timed(lambda: decoder.decode(coded.bitstream, *shape, bits), lambda r: r.seconds)


def median_timing(timings: List[Timing]) -> Timing:
    return Timing(statistics.median(t.wall for t in timings), statistics.median(t.tool for t in timings))


def packed_features(shape: Tuple[int, int, int, int], bits: int = 8, seed: int = 0) -> np.ndarray:
    """Frames of a ReLU-like random tensor, log-quantized and packed one channel a frame."""
    rng = np.random.default_rng(seed)
    features = np.maximum(rng.standard_normal(shape), 0).astype(np.float32)
    q, _ = ftm.quantize(features, method="log", bits=bits)
    frames, _ = ftm.pack(q, "channel")
    return frames


def _available(make: Callable, name: str) -> Optional[object]:
    try:
        return make(name)
    except codecs.CodecNotFoundError:
        return None


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--qp", type=int, default=22)
    args = parser.parse_args(argv)

    cases = {"1x1280x7x7": (1, 1280, 7, 7), "1x144x56x56": (1, 144, 56, 56)}
    encoders = [e for e in (_available(codecs.make_encoder, n) for n in codecs.ENCODERS) if e is not None]
    decoders = [d for d in (_available(codecs.make_decoder, n) for n in codecs.DECODERS) if d is not None]
    print(
        f"QP {args.qp}, median of {args.repeats} calls; 'outside' = wall time of the call minus time in the tool"
    )
    print(
        f"{'tensor':12s} {'frames':>13s} {'step':22s} {'wall ms':>9s} {'tool ms':>9s} {'outside ms':>10s} {'share':>7s}"
    )
    for label, shape in cases.items():
        frames = packed_features(shape)
        geometry = "x".join(str(v) for v in frames.shape)
        for encoder in encoders:
            for _ in range(1):  # warm caches (version probes) outside the measurement
                coded, _ = time_encode(encoder, frames, 8, args.qp)
            enc_t = median_timing([time_encode(encoder, frames, 8, args.qp)[1] for _ in range(args.repeats)])
            print(
                f"{label:12s} {geometry:>13s} {'encode ' + encoder.name:22s} {enc_t.wall * 1e3:9.1f} "
                f"{enc_t.tool * 1e3:9.1f} {enc_t.outside * 1e3:10.2f} {enc_t.outside_share:7.2%}"
            )
            for decoder in decoders:
                time_decode(decoder, coded, frames.shape, 8)
                dec_t = median_timing(
                    [time_decode(decoder, coded, frames.shape, 8)[1] for _ in range(args.repeats)]
                )
                print(
                    f"{label:12s} {geometry:>13s} {'  decode ' + decoder.name:22s} {dec_t.wall * 1e3:9.1f} "
                    f"{dec_t.tool * 1e3:9.1f} {dec_t.outside * 1e3:10.2f} {dec_t.outside_share:7.2%}"
                )


if __name__ == "__main__":
    main()
