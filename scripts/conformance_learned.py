"""Learned conformance streams: tiny deterministic models, the streams they code, and broken variants.

Used by scripts/make_conformance.py. The models are not trained: their
weights come from seeded numpy generators (PCG64), so that they are small,
the same on every regeneration, and exercise every part of the learned
record syntax (SPEC.md 3.12-3.14; DMOFC both ways) and decoding process; they code 16-d
vectors. Their files go in conformance/models/, the float32 reconstructions
in conformance/reference/ (checked with a tolerance: a network's float output
depends on the platform's arithmetic), the integer codes by MD5.
"""

from __future__ import annotations

import struct
from typing import Callable, Dict, Tuple

import numpy as np

import ftm
from ftm import _core
from ftm.codecs.learned.model_file import model_bytes
from ftm.kernels.level_coder import encode_levels

D = 16
TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}  # |decoded - reference| <= atol + rtol * |reference|


def _fc(rng, prefix: str, n_in: int, n_out: int, gain: float = 1.0) -> Dict[str, np.ndarray]:
    w = rng.standard_normal((n_out, n_in)) * gain / np.sqrt(n_in)
    return {f"{prefix}.weight": w.astype(np.float32), f"{prefix}.bias": (0.1 * rng.standard_normal(n_out)).astype(np.float32)}


def _gdn(rng, prefix: str, n: int) -> Dict[str, np.ndarray]:
    beta = 1.0 + 0.1 * np.abs(rng.standard_normal(n))
    gamma = 0.1 * np.eye(n) + 0.01 * np.abs(rng.standard_normal((n, n)))
    return {f"{prefix}.beta": beta.astype(np.float32), f"{prefix}.gamma": gamma.astype(np.float32)}


def _pro(rng, hidden: int, latent: int, gain: float) -> Dict[str, np.ndarray]:
    return {**_fc(rng, "enc.fc1", D, hidden), **_gdn(rng, "enc.gdn", hidden), **_fc(rng, "enc.fc2", hidden, latent, gain),
            **_fc(rng, "dec.fc1", latent, hidden), **_gdn(rng, "dec.igdn", hidden), **_fc(rng, "dec.fc2", hidden, D)}  # fmt: skip


def _header(method: str, arch: dict) -> dict:
    return {"method": method, "dims": D, "architecture": arch, "ftm_version": "conformance",
            "hyperparameters": {"weights": "seeded numpy PCG64 draws, not trained (conformance only)"},
            "training_set": None, "seed": 0, "software": {}, "training": None, "command": "scripts/make_conformance.py"}  # fmt: skip


def tiny_models() -> Dict[str, bytes]:
    """name -> model file bytes, the same on every call."""
    pro_arch = {"hidden": 12, "latent_dims": 8, "r_clip": 20.0}
    high_arch = {"hidden": 10, "latent_dims": 10, "r_clip": 12.0}
    pro = _pro(np.random.default_rng(101), 12, 8, 6.0)
    high = _pro(np.random.default_rng(102), 10, 10, 4.0)
    rng = np.random.default_rng(103)
    enhancer = {**_fc(rng, "enh.fc1", 8, 6), **_gdn(rng, "enh.gdn", 6), **_fc(rng, "enh.fc2", 6, 10)}
    pro_e = {**{k: v for k, v in pro.items() if k.startswith("enc.")}, **enhancer,
             **{k: v for k, v in high.items() if k.startswith("dec.")}}  # fmt: skip
    rng = np.random.default_rng(104)
    sq_e = {**_fc(rng, "fc1", D, 8), **_gdn(rng, "gdn", 8), **_fc(rng, "fc2", 8, D, 0.2)}
    rng = np.random.default_rng(105)
    pq = {"pq.centroids": (1.5 * rng.standard_normal((4, 8, 4))).astype(np.float32)}
    rng = np.random.default_rng(106)
    q, r = np.linalg.qr(rng.standard_normal((D, D)))
    opq = {"pq.centroids": (1.5 * rng.standard_normal((8, 32, 2))).astype(np.float32),
           "opq.rotation": (q * np.sign(np.diag(r))).astype(np.float32)}  # fmt: skip
    rng = np.random.default_rng(107)  # a latent of 6 elements, some beyond [-1, 1] (clipped to codes 0 and 255)
    dmofc = {**_fc(rng, "enc", D, 6, 0.8), **_fc(rng, "dec", 6, D, 2.0)}
    return {
        "tiny_pro": model_bytes(_header("pro", pro_arch), pro),
        "tiny_pro_e": model_bytes(_header("pro-e", {"low": pro_arch, "high": high_arch, "enhancer_hidden": 6}), pro_e),
        "tiny_sq_e": model_bytes(_header("sq-e", {"hidden": 8, "qp": 28, "normalization": "scale", "scale": 0.25,
                                                  "reconstruction": "floor"}), sq_e),  # fmt: skip
        "tiny_pq": model_bytes(_header("pq", {"num_subquantizers": 4, "code_bits": 3}), pq),
        "tiny_opq": model_bytes(_header("opq", {"num_subquantizers": 8, "code_bits": 5}), opq),
        "tiny_dmofc": model_bytes(_header("dmofc", {"latent_dims": 6, "latent_bits": 8, "latent_clip": 1.0}), dmofc),
    }


def _vectors(n: int, seed: int) -> Dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"embeddings": (rng.laplace(0.0, 1.0, size=(n, D)) * rng.uniform(0.3, 2.0, size=D)).astype(np.float32)}


# stream name -> (description, model name, tensors)
VALID: Dict[str, Tuple[str, str, Callable[[], Dict[str, np.ndarray]]]] = {
    "learned_pro": ("PRO (seed 001 3.1): 12 Laplacian 16-d vectors, latent 8 levels of r_clip 20", "tiny_pro", lambda: _vectors(12, 11)),
    "learned_pro_e": ("PRO-E (seed 001 3.2): the same low-rate latent, enhanced into a 10-d latent of r_clip 12", "tiny_pro_e",
                      lambda: _vectors(12, 11)),
    "learned_sq_e": ("SQ-E (seed 001 Fig. 3): QP 28, scale 0.25, floor reconstruction, residual enhancement", "tiny_sq_e",
                     lambda: _vectors(9, 12)),
    "learned_pq": ("PQ: 13 vectors, 4 codes of 3 bits each (padding bits in the last byte)", "tiny_pq", lambda: _vectors(13, 13)),
    "learned_opq": ("OPQ: 7 vectors, a 16 x 16 rotation, 8 codes of 5 bits", "tiny_opq", lambda: _vectors(7, 14)),
    "learned_pro_empty_n0": ("PRO with N = 0 vectors", "tiny_pro", lambda: {"embeddings": np.zeros((0, D), np.float32)}),
    "learned_dmofc": ("DMOFC (seed 000): 11 vectors, a 6-byte latent as fixed-length 8-bit codes (PQCD)", "tiny_dmofc",
                      lambda: _vectors(11, 15)),
    "learned_dmofc_cabac": ("DMOFC: the same latent level-coded (LATN r_clip 128, CABC)", "tiny_dmofc", lambda: _vectors(11, 15)),
}  # fmt: skip
KEYS = {"learned_dmofc_cabac": {"LatentCoding": "cabac"}}  # coding keys beyond the model


def encode(name: str, model_path: str) -> bytes:
    _, _, make = VALID[name]
    return ftm.encode_tensors(make(), {"FeatureKind": "learned", "Model": model_path, **KEYS.get(name, {})}, progress=False).data


def _box(data: bytes, kind: str) -> Tuple[int, int]:
    pos = 8
    while pos + 8 <= len(data):
        size = struct.unpack_from("<I", data, pos)[0]
        if data[pos + 4 : pos + 8] == kind.encode():
            return pos + 8, size
        pos += 8 + size
    raise KeyError(kind)


def _edit(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new) :]


def malformed(valid: Dict[str, bytes]) -> Dict[str, Tuple[str, str, str, bytes]]:
    """name -> (description, expected error text, model name, bytes)."""
    pro, pq = valid["learned_pro"], valid["learned_pq"]
    lmod, _ = _box(pro, "LMOD")
    latn, _ = _box(pro, "LATN")
    stream = _core.bitstream.parse_stream(pro)
    record = stream.tensors[0]
    levels = np.zeros((12, 8), np.int32)
    levels[5, 3] = 21
    record.cabac = encode_levels(levels)
    record.hash = None
    stream.tensors = [record]
    beyond = _core.bitstream.write_stream(stream)
    pqcd, size = _box(pq, "PQCD")  # the writer refuses short codes: the box is cut by hand
    short = pq[: pqcd - 8] + struct.pack("<I", size - 1) + pq[pqcd - 4 : pqcd + size - 1] + pq[pqcd + size :]
    cabac = valid["learned_dmofc_cabac"]
    dmofc_latn, _ = _box(cabac, "LATN")
    return {
        "learned_dmofc_latent_clip.ftm": ("a level-coded DMOFC latent with LATN r_clip 20", "an entropy-coded DMOFC latent has r_clip 128",
                                          "tiny_dmofc", _edit(cabac, dmofc_latn + 4, struct.pack("<f", 20.0))),
        "learned_other_model.ftm": ("LMOD names another model (one digest byte changed)", "give the model it was coded with",
                                    "tiny_pro", _edit(pro, lmod, bytes([pro[lmod] ^ 0x01]))),
        "learned_method_7.ftm": ("LMOD method 7", "method: 7 outside [0, 5]", "tiny_pro", _edit(pro, lmod + 32, b"\x07")),
        "learned_latent_mismatch.ftm": ("LATN latent_dims 9 where the model's latent has 8", "does not match the model's",
                                        "tiny_pro", _edit(pro, latn, struct.pack("<I", 9))),
        "learned_level_beyond_clip.ftm": ("a latent level of 21 with r_clip 20", "a latent level beyond +-20", "tiny_pro", beyond),
        "learned_pq_codes_short.ftm": ("PQCD one byte short of N * M codes", "box PQCD", "tiny_pq", short),
    }  # fmt: skip
