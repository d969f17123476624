"""Training step time of the seed 001 networks: torch's fused Adam kernel against its single-tensor Adam.

    OMP_NUM_THREADS=1 python benchmarks/bench_fused_adam.py [STEPS] [OUT.json]

``ftm.train.loop.fit`` steps Adam with ``fused=True``. The baseline is the
Adam a plain ``torch.optim.Adam(params)`` gives on the CPU, the
single-tensor loop, which reads and writes every parameter several times a
step. Both train the same PRO network (seed 001 eq. 5, batch 32, one
thread) from the same initial weights on the same batches, interleaved in
one process, at the latent widths FTM uses: K = D and K = 4D (the
recommended ``LatentDims : 5120``), and the SQ-E network. The figures are
median milliseconds a step (forward, backward, update) and their ratio;
the last lines say how far apart the two optimizers' weights are after the
run, which is rounding only: the update is the same formula.
"""

import json
import statistics
import sys
import time

import torch

torch.set_num_threads(1)

from ftm.train.networks import ProNetwork, SqEnhancer  # noqa: E402

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 40
out = sys.argv[2] if len(sys.argv) > 2 else None
D = 1280


def make(kind: str):
    torch.manual_seed(0)
    if kind == "sq-e":
        return SqEnhancer(D, D)
    return ProNetwork(D, D, {"pro K=D": D, "pro K=4D": 4 * D}[kind], 20.0)


def loss_of(kind, net, xb, generator):
    if kind == "sq-e":
        return ((net(xb) - xb) ** 2).sum(1).mean()
    f_rec, c = net(xb, generator)
    return ((xb - f_rec) ** 2).sum(1).mean() + 0.01 * c.abs().sum(1).mean()


rows = {}
batches = torch.randn(steps, 32, D, generator=torch.Generator().manual_seed(1))
for kind in ("pro K=D", "pro K=4D", "sq-e"):
    runs = {}
    for name, extra in (("single-tensor", {}), ("fused", {"fused": True})):
        net = make(kind)
        runs[name] = (net, torch.optim.Adam(net.parameters(), lr=1e-4, **extra), torch.Generator().manual_seed(0), [])
    for step in range(steps):
        for net, optimizer, generator, times in runs.values():  # interleaved: both see the same machine load
            t0 = time.perf_counter()
            loss = loss_of(kind, net, batches[step], generator)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            times.append(time.perf_counter() - t0)
    base, fused = (statistics.median(runs[n][3][2:]) * 1e3 for n in ("single-tensor", "fused"))
    gap = max(float((a - b).abs().max()) for a, b in zip(runs["single-tensor"][0].parameters(), runs["fused"][0].parameters()))
    params = sum(p.numel() for p in runs["fused"][0].parameters())
    rows[kind] = {"parameters": params, "single_tensor_ms": round(base, 2), "fused_ms": round(fused, 2),
                  "speedup": round(base / fused, 2), "max_weight_difference": gap}  # fmt: skip
    print(f"{kind:>9}: {params / 1e6:5.1f} M parameters, single-tensor Adam {base:7.1f} ms a step, fused {fused:7.1f} ms, "
          f"x{base / fused:.2f}; weights after {steps} steps differ by at most {gap:.2g}")  # fmt: skip

if out:
    with open(out, "w") as f:
        json.dump({"steps": steps, "batch": 32, "threads": 1, "torch": torch.__version__, "rows": rows}, f, indent=1)
