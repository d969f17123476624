"""Regenerate the conformance streams and their expected values.

    python scripts/make_conformance.py [--out conformance] [--recode] [--learned-only]

This is the only thing that writes conformance/expected.json: tests and
ftm-conformance read it. Valid streams are coded from fixed inputs (seeded
random tensors and the bundled real features) with x265, vvenc and xavs2
through ffmpeg; their expected MD5s come from decoding what was written.
A valid stream already in the folder is kept byte for byte (streams written
by earlier versions must go on decoding to the same values) unless
``--recode`` is given. Malformed streams are valid ones with targeted byte
edits, each checked to be rejected with its stated error before anything
is written.

Learned streams (scripts/conformance_learned.py) come with the tiny models
that code them (models/) and their float32 reconstructions (reference/),
checked with a tolerance. ``--learned-only`` regenerates those alone and
keeps every other stream as committed (x265 builds differ in the bytes they
write, not in what the streams decode to).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import sys
import tempfile
from typing import Callable, Dict, List, Tuple

import numpy as np

import ftm
from ftm import _core
from ftm.stream.conformance import MANIFEST, check_malformed, check_stream
from ftm.data import default_features
from ftm.stream.records import md5
from ftm.stream.coding import RecordDecoder, encode_tensors, join_streams
from ftm.codecs.options import DecodeOptions

import conformance_learned  # scripts/, beside this file

SUBFOLDERS = ("streams", "malformed", "models", "reference")


def relu_features(shape, seed, signed=False):
    rng = np.random.default_rng(seed)
    x = rng.gamma(1.5, 1.0, size=shape) * (rng.random(shape) > 0.4)
    return (x - 1.0 if signed else x).astype(np.float32)


def laplace_vectors(shape, seed):
    rng = np.random.default_rng(seed)
    return (rng.laplace(0.0, 1.0, size=shape) * rng.uniform(0.1, 2.0, size=shape[1])).astype(np.float32)


def grey_photos() -> np.ndarray:
    from skimage import data

    camera = data.camera()
    return np.stack([camera[r : r + 28, c : c + 20] for r, c in ((100, 200), (250, 300), (400, 120))])[:, None]


def rgb_photo(h: int, w: int) -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(np.moveaxis(data.astronaut()[100 : 100 + h, 180 : 180 + w], 2, 0)[None])


# name -> (description, tensors, config keys); keys None: the function gives the stream's bytes

VALID: Dict[str, Tuple[str, Callable[[], Dict[str, np.ndarray]], Dict[str, str]]] = {
    "log8_channel_default": (
        "bundled real features (EfficientNet-Lite0 block4, 1x40x28x28), seed 002 test condition at QP 22",
        lambda: {"features": default_features()},
        {"QP": "22"},
    ),
    "log8_channel_odd_shape": (
        "log 8-bit, channel packing, 1x5x7x9 (padding on both sides), QP 12",
        lambda: {"features": relu_features((1, 5, 7, 9), 1)},
        {"QP": "12"},
    ),
    "log10_tiled_permuted_n2": (
        "log 10-bit, tiled 2x3 near-square grid with a channel permutation, N = 2, 2x6x5x11, QP 22",
        lambda: {"features": relu_features((2, 6, 5, 11), 2)},
        {"QP": "22", "BitDepth": "10", "Packing": "tiled", "ChannelOrder": "5,3,1,0,2,4"},
    ),
    "minmax8_tiled_per_channel_n3": (
        "min-max 8-bit with one range per channel, tiled 4x3 grid (two empty tiles), N = 3, 3x10x4x6 signed, QP 32",
        lambda: {"features": relu_features((3, 10, 4, 6), 3, signed=True)},
        {"QP": "32", "Quantizer": "minmax", "MinMaxRange": "channel", "Packing": "tiled", "TileGrid": "4x3"},
    ),
    "minmax10_channel_fixed_range_n2": (
        "min-max 10-bit over the fixed range [-2, 2] (values clipped), channel packing, 2x3x13x1, QP 27",
        lambda: {"features": relu_features((2, 3, 13, 1), 4, signed=True) * 1.5},
        {"QP": "27", "Quantizer": "minmax", "MinMaxRange": "fixed", "MinMaxLow": "-2", "MinMaxHigh": "2", "BitDepth": "10"},
    ),
    "log12_nonnegative_1x1_n4": (
        "log 12-bit with m fixed at 0 (the authors' log2(x + 1)), 1x1 maps, N = 4, 4x16x1x1, QP 17",
        lambda: {"features": relu_features((4, 16, 1, 1), 5)},
        {"QP": "17", "BitDepth": "12", "LogNonNegative": "1"},
    ),
    "vector_l2_floor": (
        "feature vectors 40x128 (Laplacian, per-dimension scales), L2 normalization with the norms sent, floor reconstruction, QP 22",
        lambda: {"embeddings": laplace_vectors((40, 128), 8)},
        {"FeatureKind": "vector", "Normalization": "l2", "QP": "22"},
    ),
    "vector_scale_midpoint": (
        "feature vectors 7x1280 (sparse, non-negative, like pooled CNN descriptors), fixed scale 0.25, midpoint reconstruction, QP 30",
        lambda: {"descriptors": relu_features((7, 1280), 9)},
        {"FeatureKind": "vector", "Normalization": "scale", "Scale": "0.25", "Reconstruction": "midpoint", "QP": "30"},
    ),
    "vector_empty_n0": (
        "an empty set of feature vectors, N = 0, D = 128",
        lambda: {"embeddings": np.zeros((0, 128), np.float32)},
        {"FeatureKind": "vector", "QP": "22"},
    ),
    "two_tensors": (
        "two named tensors in one stream (an .npz input): 1x8x14x14 and 1x24x7x7, log 8-bit, QP 32",
        lambda: {"early": relu_features((1, 8, 14, 14), 6), "late": relu_features((1, 24, 7, 7), 7)},
        {"QP": "32"},
    ),
    "vvc_log8_channel_odd_shape": (
        "VVC (vvenc) in a VIDC box, 4:0:0, log 8-bit, channel packing, 1x5x7x9, QP 22",
        lambda: {"features": relu_features((1, 5, 7, 9), 10)},
        {"QP": "22", "Encoder": "vvenc", "Preset": "faster"},
    ),
    "vvc_log10_tiled_randomaccess_n3": (
        "VVC (vvenc) random access (IntraPeriod 16), log 10-bit, tiled 2x3, N = 3, 3x6x5x11, QP 27",
        lambda: {"features": relu_features((3, 6, 5, 11), 11)},
        {"QP": "27", "Encoder": "vvenc", "Preset": "faster", "BitDepth": "10", "Packing": "tiled", "IntraPeriod": "16"},
    ),
    "vvc_lowdelay_similarity_order": (
        "VVC (vvenc) low delay, channels in the encoder's similarity order (PACK permutation), 2x12x6x6, QP 32",
        lambda: {"features": relu_features((2, 12, 6, 6), 12)},
        {"QP": "32", "Encoder": "vvenc", "Preset": "faster", "IntraPeriod": "8", "InterCoding": "lowdelay",
         "ChannelOrder": "similarity"},
    ),
    "avs2_log8_channel_odd_shape": (
        "AVS2 (xavs2) in a VIDC box, frames in the luma plane of 4:2:0 pictures padded to 32 x 32, 1x5x7x9, QP 22",
        lambda: {"features": relu_features((1, 5, 7, 9), 13)},
        {"QP": "22", "Encoder": "xavs2"},
    ),
    "avs2_one_picture_tiled": (
        "AVS2 (xavs2), one picture (tiled, N = 1): the case libdavs2 through ffmpeg gives no frame for alone, 1x9x7x7, QP 27",
        lambda: {"features": relu_features((1, 9, 7, 7), 14)},
        {"QP": "27", "Encoder": "xavs2", "Packing": "tiled"},
    ),
    "avs2_minmax_lowdelay_n2": (
        "AVS2 (xavs2) low delay (IntraPeriod 4), min-max 8-bit, channel packing, 2x6x12x20, QP 37",
        lambda: {"features": relu_features((2, 6, 12, 20), 15, signed=True)},
        {"QP": "37", "Encoder": "xavs2", "Quantizer": "minmax", "IntraPeriod": "4", "InterCoding": "lowdelay"},
    ),
    "image_grey_n3": (
        "three grey 28x20 photo crops (image records, seed 003's texture): HEVC intra 4:0:0 pictures of 32 x 24, QP 32",
        lambda: {"image": grey_photos()},
        {"FeatureKind": "image", "QP": "32"},
    ),
    "image_rgb_odd_5x7": (
        "one 5x7 RGB photo crop as a 4:2:0 picture of 8 x 8, coded 16 x 16 and cropped by the SPS's window, QP 22",
        lambda: {"image": rgb_photo(5, 7)},
        {"FeatureKind": "image", "QP": "22"},
    ),
    "image_and_feature_pair": (
        "seed 003's pair: a 24x16 RGB image record (QP 37) and its 1x64 feature vector record (QP 22) in one stream",
        lambda: join_streams([
            encode_tensors({"image": rgb_photo(24, 16)}, ftm.Config.from_values({"FeatureKind": "image", "QP": "37"}), progress=False).data,
            encode_tensors({"feature": laplace_vectors((1, 64), 16)}, ftm.Config.from_values({"FeatureKind": "vector", "QP": "22"}),
                           progress=False).data,
        ]),  # fmt: skip
        None,
    ),
}


def boxes(data: bytes) -> List[Tuple[int, str, int]]:
    """(offset, type, payload size) of every box, from the bytes alone."""
    out, pos = [], 8
    while pos + 8 <= len(data):
        size = struct.unpack_from("<I", data, pos)[0]
        out.append((pos, data[pos + 4 : pos + 8].decode("latin-1"), size))
        pos += 8 + size
    return out


def box_at(data: bytes, kind: str, index: int = 0) -> Tuple[int, int]:
    """Offset of the payload of the index-th box of this type, and its size."""
    found = [(off + 8, size) for off, t, size in boxes(data) if t == kind]
    return found[index]


def edit(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new) :]


def insert_box(data: bytes, before: int, kind: str, payload: bytes) -> bytes:
    return data[:before] + struct.pack("<I", len(payload)) + kind.encode() + payload + data[before:]


def malformed_cases(valid: Dict[str, bytes]) -> Dict[str, Tuple[str, str, bytes]]:
    """name -> (description, expected error text, bytes)."""
    odd, tiled, vec = valid["log8_channel_odd_shape"], valid["log10_tiled_permuted_n2"], valid["vector_l2_floor"]
    vvc, avs2 = valid["vvc_log8_channel_odd_shape"], valid["avs2_log8_channel_odd_shape"]
    vvc_at, vvc_size = box_at(vvc, "VIDC")
    avs2_at, _ = box_at(avs2, "VIDC")
    cabac, cabac_size = box_at(vec, "CABC")
    norm, _ = box_at(vec, "NORM")
    qlog, _ = box_at(odd, "QLOG")
    hevc, hevc_size = box_at(odd, "HEVC")
    hash_at, _ = box_at(odd, "hash")
    pack, _ = box_at(tiled, "PACK")
    rgb = valid["image_rgb_odd_5x7"]
    txtr, txtr_size = box_at(rgb, "TXTR")
    tens_off = boxes(odd)[0][0]
    name_at = box_at(odd, "TENS")[0] + 2
    return {
        "bad_magic.ftm": ("first byte of the magic changed", "not an FTM stream", edit(odd, 0, b"G")),
        "version_2.ftm": ("version_major 2", "unsupported version 2", edit(odd, 4, b"\x02")),
        "reserved_bits_set.ftm": ("reserved_zero_16bits is 1", "reserved_zero_16bits", edit(odd, 6, b"\x01")),
        "truncated_payload.ftm": ("cut in the middle of the HEVC payload", "exceeds", odd[: hevc + hevc_size // 2]),
        "missing_end_box.ftm": ("the FEND box removed", "FEND", odd[:-8]),
        "trailing_bytes.ftm": ("a byte after the FEND box", "FEND must be the last box", odd + b"\x00"),
        "unknown_critical_box.ftm": ("an unknown critical box ZZZZ", "unknown or misplaced critical box", insert_box(odd, len(odd) - 8, "ZZZZ", b"")),
        "box_before_tens.ftm": ("a QLOG box before the first TENS", "the first box must be TENS", insert_box(odd, tens_off, "QLOG", odd[qlog : qlog + 10])),
        "repeated_quantizer.ftm": ("QLOG twice", "out of order or repeated", insert_box(odd, hevc - 8, "QLOG", odd[qlog : qlog + 10])),
        "bit_depth_17.ftm": ("QLOG bit_depth 17", "bit_depth: 17 outside [8, 16]", edit(odd, qlog, b"\x11")),
        "max_log_nan.ftm": ("QLOG max_log NaN", "max_log: must be finite", edit(odd, qlog + 6, struct.pack("<f", float("nan")))),
        "qp_out_of_range.ftm": ("HEVC qp 60", "qp: 60 outside", edit(odd, hevc + 1, b"\x3c")),
        "bad_tile_grid.ftm": ("PACK grid 1x3 for 6 channels", "not a valid grid", edit(tiled, pack + 1, struct.pack("<I", 1))),
        "identity_permutation.ftm": (
            "permutation_flag 1 with the identity",
            "identity",
            edit(tiled, pack + 10, struct.pack("<6I", 0, 1, 2, 3, 4, 5)),
        ),
        "name_not_utf8.ftm": ("a tensor name with the byte 0x80", "is not valid UTF-8", edit(odd, name_at, b"\x80")),
        "hash_mismatch.ftm": ("one byte of codes_md5 changed", "MD5 of the decoded codes", edit(odd, hash_at + 1, bytes([odd[hash_at + 1] ^ 0xFF]))),
        "vector_levels_corrupt.ftm": (
            "the entropy-coded levels with their last 16 bytes zeroed",
            "box CABC: level payload",
            edit(vec, cabac + cabac_size - 16, bytes(16)),
        ),
        "vector_norm_negative.ftm": ("a negative L2 norm", "norm[0]: must be >= 0", edit(vec, norm, struct.pack("<f", -1.0))),
        "vector_norms_missing.ftm": (
            "normalization 1 (L2) without a NORM box",
            "box NORM (record at byte 8): missing",
            vec[:norm - 8] + vec[norm + 4 * 40 :],
        ),
        "hevc_payload_zeroed.ftm": (
            "the HEVC payload overwritten with zeros",
            "HEVC",
            edit(odd, hevc + 3, bytes(hevc_size - 3)),
        ),
        "vidc_codec_id_3.ftm": ("VIDC codec_id 3", "codec_id: 3 outside [0, 2]", edit(vvc, vvc_at, b"\x03")),
        "vidc_avs2_4_0_0.ftm": ("AVS2 payload declared 4:0:0", "4:2:0 pictures only", edit(avs2, avs2_at + 1, b"\x00")),
        "vidc_vvc_qp_64.ftm": ("VIDC VVC qp 64", "qp: 64 outside [0, 63]", edit(vvc, vvc_at + 3, b"\x40")),
        "vidc_declared_avs2.ftm": (
            "a VVC payload declared AVS2 (codec_id 2, 4:2:0)",
            "AVS2",
            edit(vvc, vvc_at, b"\x02\x01"),
        ),
        "image_colour_transform_0_for_rgb.ftm": ("TXTR colour_transform 0 (grey) in a record of 3 channels", "colour_transform",
                                                 edit(rgb, txtr, b"\x00")),  # fmt: skip
        "image_codec_id_1.ftm": ("TXTR codec_id 1 (reserved for images)", "codec_id", edit(rgb, txtr + 1, b"\x01")),
        "image_payload_zeroed.ftm": ("the image's HEVC payload overwritten with zeros", "HEVC", edit(rgb, txtr + 4, bytes(txtr_size - 4))),
        "vidc_payload_zeroed.ftm": (
            "the VVC payload overwritten with zeros",
            "VVC",
            edit(vvc, vvc_at + 5, bytes(vvc_size - 5)),
        ),
    }


def expected_of(data: bytes, model: str = "") -> Dict:
    stream = _core.bitstream.parse_stream(data)
    records = RecordDecoder(DecodeOptions(model=model))
    tensors = {}
    for record in stream.tensors:
        decoded = records.decode(record, verify=False)
        codes, features = decoded.codes, decoded.features
        tensors[record.name] = {"shape": list(features.shape), "codes_md5": md5(codes).hex(), "features_md5": md5(features).hex()}
    return tensors


def write_learned(work: str, manifest: Dict) -> None:
    """The tiny models, the learned streams, their references and broken variants, into ``work``."""
    for name, data in conformance_learned.tiny_models().items():
        with open(os.path.join(work, "models", f"{name}.safetensors"), "wb") as f:
            f.write(data)
    valid: Dict[str, bytes] = {}
    for name, (description, model, _) in conformance_learned.VALID.items():
        model_path = os.path.join(work, "models", f"{model}.safetensors")
        valid[name] = data = conformance_learned.encode(name, model_path)
        with open(os.path.join(work, "streams", f"{name}.ftm"), "wb") as f:
            f.write(data)
        tensors = expected_of(data, model_path)
        for tensor, entry in tensors.items():
            reference = f"reference/{name}.{tensor}.npy"
            decoded = ftm.decode_all(data, model=model_path)[tensor]
            np.save(os.path.join(work, reference), decoded, allow_pickle=False)
            entry.update(features_reference=reference, features_tolerance=conformance_learned.TOLERANCE)
        manifest["streams"][f"{name}.ftm"] = {"description": description, "model": f"models/{model}.safetensors",
                                              "bytes": len(data), "tensors": tensors}  # fmt: skip
    for name, (description, error, model, data) in conformance_learned.malformed(valid).items():
        with open(os.path.join(work, "malformed", name), "wb") as f:
            f.write(data)
        manifest["malformed"][name] = {"description": description, "error": error, "model": f"models/{model}.safetensors"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="conformance", help="conformance folder (default: ./conformance)")
    parser.add_argument("--recode", action="store_true", help="code every valid stream again, even those already there")
    parser.add_argument("--learned-only", action="store_true", help="regenerate the learned streams only; keep the others as committed")
    args = parser.parse_args()

    manifest: Dict = {"generator": "python scripts/make_conformance.py", "ftm_version": ftm.__version__, "streams": {}, "malformed": {}}
    valid: Dict[str, bytes] = {}
    if args.learned_only:
        with open(os.path.join(args.out, MANIFEST), encoding="utf-8") as f:
            old = json.load(f)
        manifest["streams"] = {k: v for k, v in old["streams"].items() if "model" not in v}
        manifest["malformed"] = {k: v for k, v in old["malformed"].items() if "model" not in v}
    else:
        for name, (description, make, keys) in VALID.items():
            existing = os.path.join(args.out, "streams", f"{name}.ftm")
            if os.path.isfile(existing) and not args.recode:
                with open(existing, "rb") as f:
                    data = f.read()
            else:
                data = make() if keys is None else encode_tensors(make(), ftm.Config.from_values(keys), progress=False).data
            valid[name] = data
            entry = {"description": description, "config": keys, "bytes": len(data), "tensors": expected_of(data)}
            manifest["streams"][f"{name}.ftm"] = {k: v for k, v in entry.items() if v is not None}

    # Build everything in a scratch folder, check it, then swap it in whole.
    work = tempfile.mkdtemp(prefix=".conformance-", dir=os.path.dirname(os.path.abspath(args.out)) or ".")
    try:
        for sub in SUBFOLDERS:
            os.makedirs(os.path.join(work, sub))
        if args.learned_only:
            for sub, entries in (("streams", manifest["streams"]), ("malformed", manifest["malformed"])):
                for name in entries:
                    shutil.copyfile(os.path.join(args.out, sub, name), os.path.join(work, sub, name))
        for name, data in valid.items():
            with open(os.path.join(work, "streams", f"{name}.ftm"), "wb") as f:
                f.write(data)
        for name, (description, error, data) in (malformed_cases(valid).items() if valid else ()):
            with open(os.path.join(work, "malformed", name), "wb") as f:
                f.write(data)
            manifest["malformed"][name] = {"description": description, "error": error}
        write_learned(work, manifest)
        for name, entry in manifest["malformed"].items():
            model = os.path.join(work, entry["model"]) if "model" in entry else None
            check = check_malformed(os.path.join(work, "malformed", name), entry["error"], model=model)
            if not check.passed:
                raise SystemExit(f"malformed case {name}: {'; '.join(check.problems)}")
        for name, expected in manifest["streams"].items():
            check = check_stream(os.path.join(work, "streams", name), expected)
            if not check.passed:
                raise SystemExit(f"stream {name}: {'; '.join(check.problems)}")
        with open(os.path.join(work, MANIFEST), "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=2)
            f.write("\n")
        for sub in SUBFOLDERS + (MANIFEST,):
            target = os.path.join(args.out, sub)
            if os.path.isdir(target):
                shutil.rmtree(target)
            elif os.path.exists(target):
                os.unlink(target)
            os.makedirs(args.out, exist_ok=True)
            os.replace(os.path.join(work, sub), target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {len(manifest['streams'])} streams and {len(manifest['malformed'])} malformed streams to {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
