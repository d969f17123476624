"""The goal of issue 17: no input of up to 1 MB makes ftm-decode use more than 256 MB beyond the
decoded output it is allowed to produce, or more than 2 s beyond the external decoder's own time.

    python benchmarks/bench_hostile.py [--out benchmarks/results/hostile.json]

Builds the hostile streams the issue lists and a few more (each at most 1 MB), runs
``ftm-decode -b STREAM`` on each in a child process with the default limits, and reports: the
outcome (decoded, or the error's first words), the stream's size, the child's peak RSS (its own,
not the external decoder's), the decoded output's bytes (codes and features of the records; the
frames too for feature maps), the overhead (peak RSS less the output), the wall time, and the
external decoder's time on the same payload alone (ffmpeg on the whole payload).
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Tuple

import numpy as np

import ftm
from ftm import _core
from ftm.codecs import video
from ftm.codecs.video.ffmpeg import find_ffmpeg

MB = 1 << 20


def vector_stream(n: int, d: int, payload: bytes, extra: bytes = b"") -> bytes:
    r = _core.TensorRecord()
    r.name, r.kind, r.dims = "v", _core.FeatureKind.VECTOR, [n, d]
    q = _core.ScalarQuantBox()
    q.qp = 22
    r.scalar_quant, r.cabac = q, payload
    s = _core.Stream()
    s.tensors = [r]
    data = _core.write_stream(s)
    return data[:-8] + extra + data[-8:]


def zeros(n: int, d: int) -> bytes:
    return vector_stream(n, d, ftm.encode_levels(np.zeros((n, d), np.int32)))


def map_stream(payload: bytes, n: int, side: int) -> bytes:
    r = _core.TensorRecord()
    r.name, r.kind, r.dims = "m", _core.FeatureKind.MAP, [n, 1, side, side]
    q = _core.LogQuantBox()
    q.bit_depth, q.max_log = 8, 4.0
    r.log_quant, r.pack = q, _core.PackBox()
    h = _core.HevcBox()
    h.coded_bit_depth, h.qp, h.encoder_id, h.payload = 8, 22, 0, payload
    r.hevc = h
    s = _core.Stream()
    s.tensors = [r]
    return _core.write_stream(s)


def frame_bomb(carried: int) -> Tuple[bytes, bytes]:
    """One flat 2048 x 2048 IDR picture repeated: declared once, carried ``carried`` times."""
    one = video.make_encoder("x265-ffmpeg", preset="ultrafast").encode(np.zeros((1, 2048, 2048), np.uint8), 8, 22)
    payload = one.bitstream
    first_slice = payload.index(b"\x00\x00\x01\x26") if b"\x00\x00\x01\x26" in payload else payload.index(b"\x00\x00\x01\x28")
    headers, picture = payload[:first_slice], payload[first_slice:]
    return map_stream(headers + picture * carried, 1, 2048), headers + picture * carried


def ancillary(count: int) -> bytes:
    letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    types = (bytes([letters[26 + i % 26], letters[i // 26 % 52], letters[i // 1352 % 52], letters[i // 70304]]) for i in range(count))
    return vector_stream(1, 4, ftm.encode_levels(np.zeros((1, 4), np.int32)), b"".join(struct.pack("<I", 0) + t for t in types))


def many_records(count: int) -> bytes:
    r = zeros(1, 1)
    record = r[8:-8]
    at = record.index(b"\x01\x00v")
    body = []
    for i in range(count):
        rec = record[:at] + struct.pack("<H", 4) + b"%04x" % i + record[at + 3 :]
        body.append(struct.pack("<I", struct.unpack_from("<I", rec)[0] + 3) + rec[4:])
    return r[:8] + b"".join(body) + b"\x00\x00\x00\x00FEND"


TINY = "baseline: one level"


def cases() -> Dict[str, Tuple[bytes, int, bytes]]:
    """name -> (stream, output bytes if it decodes, HEVC payload or b"")."""
    bomb, bomb_payload = frame_bomb(500)
    return {
        TINY: (zeros(1, 1), 8, b""),
        "levels N=1 D=2^26 zeros (was 52 B/dim state, twice)": (zeros(1, 1 << 26), 8 << 26, b""),
        "levels N=2 D=2^21 zeros (state 109 MB)": (zeros(2, 1 << 21), 16 << 21, b""),
        "levels N=2 D=2^23 zeros (state 436 MB: refused)": (zeros(2, 1 << 23), 0, b""),
        "zero bomb 2^28 levels (1,540 B class)": (zeros(1, 1 << 28), 8 << 28, b""),
        "zero bomb 2^31 levels asked (11,880 B class)": (vector_stream(1 << 16, 1 << 15, b"\x59\x0d" + bytes(8200)), 0, b""),
        "100k distinct ancillary boxes (800 KB)": (ancillary(100_000), 32, b""),
        "20,000 records (1 MB; 65,535 take 3.2 MB)": (many_records(20_000), 20_000 * 8, b""),
        "HEVC: 1 frame 2048x2048 declared, 500 carried": (bomb, 0, bomb_payload),
    }


def run(path: str) -> Tuple[str, float, int]:
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "ftm.cli.decode", "-b", path, "--quiet"], stderr=subprocess.PIPE)
    err = child.stderr.read().decode()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = status
    seconds = time.perf_counter() - start
    outcome = "decoded" if status == 0 else err.strip().split("error: ", 1)[-1][:90]
    return outcome, seconds, usage.ru_maxrss * 1024


def external_seconds(payload: bytes) -> float:
    if not payload:
        return 0.0
    start = time.perf_counter()
    subprocess.run([find_ffmpeg(), "-loglevel", "quiet", "-f", "hevc", "-i", "pipe:", "-f", "null", "-"], input=payload, check=False)
    return time.perf_counter() - start


def make(folder: str) -> None:
    """Write every case's stream and payload to ``folder`` (run in a child: see main)."""
    index = {}
    for i, (name, (data, output, payload)) in enumerate(cases().items()):
        assert len(data) <= MB, (name, len(data))
        for suffix, blob in ((".ftm", data), (".hevc", payload)):
            with open(os.path.join(folder, f"{i}{suffix}"), "wb") as f:
                f.write(blob)
        index[name] = (i, output)
    with open(os.path.join(folder, "index.json"), "w") as f:
        json.dump(index, f)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=None, help="also write the rows as JSON here")
    parser.add_argument("--make", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        make(args.make)
        return 0
    rows: List[Dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        # Made in a child: Linux carries a parent's peak RSS into the children it forks, so the
        # measuring process must never have grown.
        subprocess.run([sys.executable, __file__, "--make", tmp], check=True)
        with open(os.path.join(tmp, "index.json")) as f:
            index = json.load(f)
        _, baseline_seconds, baseline_rss = run(os.path.join(tmp, f"{index[TINY][0]}.ftm"))
        print(f"baseline (a 1-level stream): {baseline_rss / MB:.0f} MB peak RSS, {baseline_seconds:.2f} s")
        print(f"{'stream':<52} {'bytes':>8} {'outcome':<34} {'RSS MB':>7} {'out MB':>7} {'over MB':>7} {'s':>6} {'ext s':>6}")
        for name, (i, output) in index.items():
            path = os.path.join(tmp, f"{i}.ftm")
            with open(os.path.join(tmp, f"{i}.hevc"), "rb") as f:
                payload = f.read()
            data_size = os.path.getsize(path)
            outcome, seconds, rss = run(path)
            ext = external_seconds(payload)
            out = output if outcome == "decoded" else 0
            row = dict(stream=name, bytes=data_size, outcome=outcome, peak_rss=rss, output=out, overhead=rss - out, seconds=seconds, external_seconds=ext)
            rows.append(row)
            print(f"{name:<52} {data_size:>8} {outcome[:34]:<34} {rss / MB:>7.0f} {out / MB:>7.0f} {(rss - out) / MB:>7.0f} {seconds:>6.2f} {ext:>6.2f}")
    worst_overhead = max(r["overhead"] for r in rows)
    worst_time = max(r["seconds"] - r["external_seconds"] for r in rows)
    print(f"worst overhead {worst_overhead / MB:.0f} MB (goal 256), worst time beyond the external decoder {worst_time:.2f} s (goal 2)")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"baseline_rss": baseline_rss, "baseline_seconds": baseline_seconds, "rows": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
