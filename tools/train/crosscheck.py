"""Cross-checks the torch modules (qwen_tiny) against a Java `trace` dump of the same snapshot.

usage: /usr/bin/python3 tools/train/crosscheck.py --model SNAPSHOT_DIR --trace TRACE_DIR [--min-psnr 40]

Runs the whole pipeline in torch (fp32) from the trace's ids, noise and sigmas and prints the max abs diff of the
prompt embeddings, of the VAE decoder probe and of the final image (uint8 max abs diff, PSNR). Exit 1 if the image
PSNR is below --min-psnr.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qwen_tiny as q  # noqa: E402


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--trace", required=True)
    ap.add_argument("--min-psnr", type=float, default=40.0)
    a = ap.parse_args()
    torch.set_num_threads(2)
    tr_dir = a.trace
    meta = json.load(open(os.path.join(tr_dir, "meta.json")))
    te, tr, vae = q.load_snapshot(a.model)
    vae_cfg = vae.cfg

    def load(name):
        p = os.path.join(tr_dir, name)
        return np.load(p) if os.path.exists(p) else None

    with torch.no_grad():
        ids = load("prompt_ids.npy").astype(np.int64).reshape(-1).tolist()
        emb, mask = q.prompt_embeds(te, [ids])
        jemb = load("prompt_embeds.npy")
        d_emb = float(np.abs(emb[0].numpy() - jemb.reshape(emb.shape[1:])).max())
        print(f"prompt embeds   {list(emb.shape[1:])}: max abs diff {d_emb:.3e}")
        neg_ids = load("negative_ids.npy")
        neg = neg_mask = None
        if neg_ids is not None:
            neg, neg_mask = q.prompt_embeds(te, [neg_ids.astype(np.int64).reshape(-1).tolist()])
            jn = load("negative_embeds.npy")
            if jn is not None:
                d_neg = float(np.abs(neg[0].numpy() - jn.reshape(neg.shape[1:])).max())
                print(f"negative embeds {list(neg.shape[1:])}: max abs diff {d_neg:.3e}")

        pin, pout = load("vae_probe_in.npy"), load("vae_probe_out.npy")
        if pin is not None:
            zin = torch.from_numpy(pin.astype(np.float32))
            if zin.dim() == 5:
                zin = zin[:, :, 0]
            dec = vae.decode(q.denormalize_latents(zin, vae_cfg)).numpy()
            d_vae = float(np.abs(dec - pout.reshape(dec.shape)).max())
            raw = vae.decode(zin).numpy()
            d_raw = float(np.abs(raw - pout.reshape(raw.shape)).max())
            print(f"vae probe       {list(dec.shape)}: max abs diff {d_vae:.3e} (denormalised input); "
                  f"{d_raw:.3e} (input fed raw)")

        noise = torch.from_numpy(load("noise.npy").astype(np.float32))
        if noise.dim() == 5:
            noise = noise[:, :, 0]
        sigmas = load("sigmas.npy").astype(np.float32)
        _, C, h, w = noise.shape
        grid = (h // 2, w // 2)
        ours = q.flow_sigmas(len(sigmas) - 1, grid[0] * grid[1])
        print(f"sigmas          {len(sigmas)}: max abs diff vs torch schedule {np.abs(ours - sigmas).max():.3e}")
        cfg_scale = float(meta["cfg_scale"] if meta.get("cfg_scale") is not None else 1.0)
        use_cfg = bool(meta.get("cfg", neg is not None)) and neg is not None
        txt_mask = None if bool(mask.all()) else mask
        nm = None if neg_mask is None or bool(neg_mask.all()) else neg_mask
        lat = q.euler_sample(tr, emb, txt_mask, neg if use_cfg else None, nm, q.pack(noise), sigmas, cfg_scale, grid)
        z = q.denormalize_latents(q.unpack(lat, h, w), vae_cfg)
        img = q.to_uint8(vae.decode(z))[0].numpy()
        jimg = load("image.npy")
        diff = np.abs(img.astype(np.int32) - jimg.astype(np.int32))
        p = psnr(img, jimg)
        print(f"image           {list(img.shape)} (cfg {'on, scale ' + str(cfg_scale) if use_cfg else 'off'}): "
              f"max abs diff {diff.max()} levels, {np.mean(diff > 0) * 100:.3f}% differ, PSNR {p:.2f} dB")
    if p < a.min_psnr:
        print(f"FAIL: PSNR {p:.2f} < {a.min_psnr}")
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
