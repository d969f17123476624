"""Seed corpora of the fuzz targets, from the conformance streams.

    python cpp/fuzz/make_seeds.py OUT_DIR [conformance]

Writes OUT_DIR/container/ (every valid and malformed conformance stream)
and OUT_DIR/level_decoder/ (N, D and the CABC payload of each vector
record, the input layout of fuzz_level_decoder.cpp, plus a few edges).
Reads the bytes only: no FTM import, so it runs before FTM is built.
"""

from __future__ import annotations

import hashlib
import os
import struct
import sys
from pathlib import Path


def boxes(data: bytes):
    """(type, payload) of every box of a stream, as far as the bytes allow."""
    pos = 8
    while pos + 8 <= len(data):
        size = struct.unpack_from("<I", data, pos)[0]
        yield data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + size]
        pos += 8 + size


def vector_payloads(data: bytes):
    dims = None
    for kind, payload in boxes(data):
        if kind == b"TENS" and len(payload) >= 2:
            name_length = struct.unpack_from("<H", payload)[0]
            rest = payload[2 + name_length :]
            if len(rest) >= 3 and rest[0] == 1 and rest[2] == 2 and len(rest) >= 11:
                dims = struct.unpack_from("<II", rest, 3)
            else:
                dims = None
        elif kind == b"CABC" and dims is not None and max(dims) < 1 << 16:
            yield dims, payload


def save(folder: Path, data: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def main() -> int:
    out = Path(sys.argv[1])
    conformance = Path(sys.argv[2] if len(sys.argv) > 2 else Path(__file__).resolve().parents[2] / "conformance")
    streams = sorted((conformance / "streams").glob("*.ftm")) + sorted((conformance / "malformed").glob("*.ftm"))
    if not streams:
        raise SystemExit(f"no conformance streams under {conformance}")
    for path in streams:
        data = path.read_bytes()
        save(out / "container", data)
        for (n, d), payload in vector_payloads(data):
            save(out / "level_decoder", struct.pack("<HH", n, d) + payload)
    for n, d, payload in ((0, 0, b"\x59\x0d"), (1, 1, b"\x59\x0d\x00\x00\x00\x00"), (3, 5, b"\x59\x0d\x7f\xff\xff\xff")):
        save(out / "level_decoder", struct.pack("<HH", n, d) + payload)
    print(f"seeds: {len(os.listdir(out / 'container'))} container, {len(os.listdir(out / 'level_decoder'))} level decoder")
    return 0


if __name__ == "__main__":
    sys.exit(main())
