"""PRO's rate after each training epoch, for one lambda and latent width (issue 13: which lambdas span 0.5-8 bits per dimension).

    OMP_NUM_THREADS=1 python benchmarks/bench_pro_rate.py LAMBDA LATENT_DIMS EPOCHS OUT.json

Trains PRO (seed 001 eq. 5; Adam, learning rate 1e-4, batch 32, Glorot,
seed 0) on FTM's default labelled set (Fashion-MNIST through
EfficientNet-Lite0, 12,000 training vectors of 1280 dimensions; extracted
and cached on first use) with torch on one thread, and records after every
epoch the rate the training's own epoch report computes: the empirical
entropy of the rounded latent of 2,000 training vectors, summed over the
latent dimensions, per input dimension (the progress bar's "rate"; the real
stream is a little above it). It wraps the function that report calls, so
the figures are exactly those of ``ftm-train``'s bar. OUT.json is rewritten
after every epoch, so a long run can be read while it goes.
"""

import json
import sys
import time

import torch

torch.set_num_threads(1)

import ftm.train.methods as methods  # noqa: E402
from ftm.extract.fashion_mnist import default_embedding_set  # noqa: E402
from ftm.train.loop import TrainSettings  # noqa: E402

lam, k, epochs = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
out = sys.argv[4]
log = []
rate_of = methods.latent_bits_per_dimension
t0 = time.time()


def logged(levels, r_clip, dims):
    r = rate_of(levels, r_clip, dims)
    log.append({"epoch": len(log) + 1, "rate_bpd": r, "seconds": time.time() - t0})
    with open(out, "w") as f:
        json.dump({"lambda": lam, "latent_dims": k, "epochs": epochs, "per_epoch": log}, f, indent=1)
    return r


methods.latent_bits_per_dimension = logged
data = default_embedding_set()
model = methods.train_pro(data, lam, TrainSettings(epochs=epochs, progress=False), latent_dims=k)
res = {"lambda": lam, "latent_dims": k, "epochs": epochs, "per_epoch": log, "losses": model.fit.losses,
       "final_report": model.fit.report, "seconds": time.time() - t0}
with open(out, "w") as f:
    json.dump(res, f, indent=1)
print(json.dumps(res["final_report"]), flush=True)
