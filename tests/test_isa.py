"""FTM_ISA caps the vector variant the core runs; every variant gives the same bytes."""

import os
import subprocess
import sys

# Quantizes, packs and ranks fixed data with the kernels that have ISA
# variants, and prints a digest of every output.
SCRIPT = r"""
import hashlib
import numpy as np
import ftm

rng = np.random.default_rng(7)
digest = hashlib.sha256()
for dtype in (np.float32, np.float64):
    x = np.maximum(rng.normal(0.0, 3.0, size=(2, 8, 33, 35)), 0.0).astype(dtype) - 0.5
    for bits in (8, 10, 16):
        q, params = ftm.quantize(x, bits=bits, method="log")
        digest.update(q.tobytes())
        q, params = ftm.quantize(x, bits=bits, method="minmax", per_channel=True)
        digest.update(q.tobytes())
p = rng.permutation(5693)
r = rng.permutation(5693)
digest.update(np.float64(ftm.bubble_index(p, r)).tobytes())
print(digest.hexdigest())
"""


def run(isa):
    env = dict(os.environ, FTM_ISA=isa)
    return subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True)


def test_every_variant_gives_the_same_bytes():
    results = {isa: run(isa) for isa in ("baseline", "x86-64-v3", "x86-64-v4", "")}
    for isa, done in results.items():
        assert done.returncode == 0, f"FTM_ISA={isa!r}: {done.stderr}"
    assert len({done.stdout for done in results.values()}) == 1


def test_an_unknown_level_is_an_error_that_names_it():
    done = run("avx9")
    assert done.returncode != 0
    assert "FTM_ISA must be baseline, x86-64-v3 or x86-64-v4, got 'avx9'" in done.stderr

