#!/usr/bin/env python3
"""Refines a trained VAE's decoder alone (train.py's last phase) from a saved VAE state, and optionally installs it
in a snapshot whose transformer was trained on that VAE's latents (the encoder, hence the latents, do not change).

usage: /usr/bin/python3 tools/train/refine_decoder.py --data DIR --vae-state FILE --out FILE [--steps 1000]
       [--seed 0] [--threads 2] [--snapshot SNAPSHOT]
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qwen_tiny as qt  # noqa: E402
import train  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--vae-state", required=True, help="train.py --vae-checkpoint output")
    ap.add_argument("--out", required=True, help="where to save the refined VAE state")
    ap.add_argument("--steps", type=int, default=train.DECODER_STEPS)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--snapshot", help="write the refined VAE into this snapshot's vae/ (keeping its config)")
    a = ap.parse_args()
    train.set_threads(a.threads, 1)
    data = train.DataSet(a.data)
    vae = qt.QwenImageVae(dict(train.VAE))
    vae.load_state_dict(torch.load(a.vae_state))
    before = train.reconstruction_psnr(vae.eval(), data)
    vae, rec, seconds = train.refine_decoder_seeded(vae, data, a.steps, a.seed)
    after = train.reconstruction_psnr(vae, data)
    torch.save(vae.state_dict(), a.out)
    report = {"decoder_steps": a.steps, "decoder_final_reconstruction_loss": rec, "decoder_seconds": round(seconds),
              "vae_psnr_db": round(before, 2), "refined_vae_psnr_db": round(after, 2)}
    train.log(f"refined decoder: {json.dumps(report)}")
    if a.snapshot:
        vae.cfg = qt.read_config(os.path.join(a.snapshot, "vae"))
        qt.save_component(vae, os.path.join(a.snapshot, "vae"), dtype="F16")
        path = os.path.join(a.snapshot, "training.json")
        with open(path) as f:
            training = json.load(f)
        training.update(report)
        with open(path, "w") as f:
            json.dump(training, f, indent=2)
        train.write_manifest(a.snapshot)
        train.log(f"installed in {a.snapshot}")


if __name__ == "__main__":
    main()
