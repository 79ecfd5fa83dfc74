#!/usr/bin/env python3
"""PyTorch CPU reference for bench/train_step.ts: the same decoder (the forward of
tests/fixtures/make_tiny_transformer.py, in float32), same config, AdamW, timed per step.
Prints one JSON line: {"torch": version, "threads": n, "step_ms": [...], "params": n}."""
import json
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures"))
from make_tiny_transformer import forward  # noqa: E402  (one definition of the architecture)


def main():
    c = json.loads(sys.argv[1])
    threads, steps = int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    d, hid, v = c["dim"], c["hidden"], c["vocab"]
    shapes = {"embed": (v, d), "final_norm": (d,), "lm_head": (v, d)}
    for l in range(c["layers"]):
        shapes.update({f"layers.{l}.{n}": s for n, s in {
            "attn_norm": (d,), "wq": (d, d), "wk": (d, d), "wv": (d, d), "wo": (d, d), "mlp_norm": (d,),
            "w_gate": (hid, d), "w_up": (hid, d), "w_down": (d, hid)}.items()})
    params = {n: (torch.ones(s) if n.endswith("norm") else torch.randn(s) / math.sqrt(s[-1])).requires_grad_(True)
              for n, s in shapes.items()}
    opt = torch.optim.AdamW(params.values(), lr=1e-3, weight_decay=0.1)
    tokens = torch.randint(0, v, (c["batch"], c["seq"]))
    targets = torch.randint(0, v, (c["batch"], c["seq"]))
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = forward(params, tokens, targets, c)
        loss.backward()
        opt.step()
        times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "step_ms": times,
                      "params": sum(p.numel() for p in params.values()), "loss": loss.item()}))


if __name__ == "__main__":
    main()
