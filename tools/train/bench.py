"""Speed of one training-like step on 2 threads: transformer forward+backward, VAE encode+decode (+backward)."""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qwen_tiny as q  # noqa: E402

torch.set_num_threads(2)
torch.manual_seed(0)


def timeit(fn, reps=3):
    fn()
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


tr = q.QwenImageTransformer({"patch_size": 2, "in_channels": 64, "out_channels": 16, "num_layers": 6,
                             "attention_head_dim": 32, "num_attention_heads": 4, "joint_attention_dim": 32,
                             "axes_dims_rope": [8, 12, 12]})
print("transformer params", sum(p.numel() for p in tr.parameters()))
img = torch.randn(64, 36, 64)
txt = torch.randn(64, 20, 32)
mask = torch.ones(64, 20, dtype=torch.bool)
mask[::2, 15:] = False
sig = torch.rand(64)
opt = torch.optim.AdamW(tr.parameters(), lr=1e-4)


def tr_step():
    opt.zero_grad()
    v = tr(img, txt, mask, sig, (6, 6))
    loss = (v - img).pow(2).mean()
    loss.backward()
    opt.step()


print(f"transformer fwd+bwd+adam B=64 N=36 L=20 D=128 6 layers: {timeit(tr_step) * 1000:.1f} ms")

vae = q.QwenImageVae({"base_dim": 16, "z_dim": 16, "dim_mult": [1, 2, 4, 4], "num_res_blocks": 1,
                      "attn_scales": [], "temperal_downsample": [False, True, True]})
print("vae params", sum(p.numel() for p in vae.parameters()))
x = torch.rand(16, 3, 96, 96) * 2 - 1
vopt = torch.optim.AdamW(vae.parameters(), lr=1e-4)


def vae_fwd():
    with torch.no_grad():
        mu, lv = vae.encode(x)
        vae.decode(mu)


def vae_step():
    vopt.zero_grad()
    mu, lv = vae.encode(x)
    y = vae.decoder(vae.post_quant_conv(mu + torch.randn_like(mu) * (0.5 * lv).exp()))
    loss = (y - x).abs().mean() + 1e-6 * (mu.pow(2) + lv.exp() - lv).mean()
    loss.backward()
    vopt.step()


print(f"vae encode+decode (no grad) B=16 96x96 base 16 (num_res_blocks 1): {timeit(vae_fwd, 3) * 1000:.1f} ms")
print(f"vae encode+decode fwd+bwd+adam B=16 96x96 base 16 (num_res_blocks 1): {timeit(vae_step, 3) * 1000:.1f} ms")
