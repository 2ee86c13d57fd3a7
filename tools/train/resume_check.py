#!/usr/bin/env python3
"""Checks that the transformer phase resumed from its checkpoint ends with the same weights as an uninterrupted run
(a few steps on random latents). usage: /usr/bin/python3 tools/train/resume_check.py DATA_DIR; exit 1 on a mismatch.
"""
import os
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402

STEPS, EVERY = 9, 4


def run(data, latents, checkpoint=None):
    torch.manual_seed(0)
    text, dit, _, _ = train.train_dit(data, latents, STEPS, np.random.default_rng(0), checkpoint=checkpoint,
                                      checkpoint_every=EVERY, batch=8)
    return [t.clone() for t in list(text.state_dict().values()) + list(dit.state_dict().values())]


def main():
    train.set_threads(1, 2)
    data = train.DataSet(sys.argv[1])
    latents = torch.randn(64, 16, data.size // 8, data.size // 8, generator=torch.Generator().manual_seed(0))
    whole = run(data, latents)
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = os.path.join(tmp, "dit.ckpt")
        run(data, latents, checkpoint)  # saves after steps 3 and 7
        resumed = run(data, latents, checkpoint)  # goes on after step 7
    worst = max(float((a - b).abs().max()) for a, b in zip(whole, resumed))
    print(f"resumed vs uninterrupted: max abs weight difference {worst:.3e}")
    sys.exit(0 if worst == 0 else 1)


if __name__ == "__main__":
    main()
