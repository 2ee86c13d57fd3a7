#!/usr/bin/env python3
"""Trains the tiny Qwen-Image demo model on a `scenes` data set and writes a diffusers-layout snapshot.

Phases (one command, fixed seed):
  1. AutoencoderKLQwenImage as an autoencoder (L1 + MSE reconstruction, small KL) on the images;
  2. the per-channel latents_mean / latents_std of its encoder means over the data set (the pipeline's convention);
  3. the Qwen2.5-VL text encoder and QwenImageTransformer2DModel together, by rectified flow on the normalised,
     packed latents, with caption dropout to the negative prompt " " so that true CFG works;
  4. the snapshot: model_index.json, scheduler, tokenizer (the data set's), text_encoder, transformer, vae (fp16).

usage: /usr/bin/python3 tools/train/train.py --data DIR --out SNAPSHOT [--seed 0] [--vae-steps 2400]
       [--dit-steps 1700] [--threads 2] [--vae-checkpoint FILE]
"""
import argparse
import json
import math
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qwen_tiny as qt  # noqa: E402

TEXT_ENCODER = {
    "_class_name": "Qwen2_5_VLForConditionalGeneration", "architectures": ["Qwen2_5_VLForConditionalGeneration"],
    "model_type": "qwen2_5_vl", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "intermediate_size": 128, "hidden_act": "silu", "rms_norm_eps": 1e-6,
    "rope_theta": 1000000.0, "tie_word_embeddings": False, "use_sliding_window": False,
    "rope_scaling": {"type": "mrope", "rope_type": "default", "mrope_section": [2, 3, 3]}}
TRANSFORMER = {
    "_class_name": "QwenImageTransformer2DModel", "patch_size": 2, "in_channels": 64, "out_channels": 16,
    "num_layers": 6, "attention_head_dim": 32, "num_attention_heads": 4, "joint_attention_dim": 64,
    "guidance_embeds": False, "zero_cond_t": False, "axes_dims_rope": [8, 12, 12]}
VAE = {
    "_class_name": "AutoencoderKLQwenImage", "base_dim": 16, "z_dim": 16, "dim_mult": [1, 2, 4, 4],
    "num_res_blocks": 1, "attn_scales": [], "temperal_downsample": [False, True, True], "dropout": 0.0,
    "input_channels": 3}
SCHEDULER = {
    "_class_name": "FlowMatchEulerDiscreteScheduler", "num_train_timesteps": 1000, "shift": 1.0,
    "use_dynamic_shifting": True, "base_shift": 0.5, "max_shift": 0.9, "base_image_seq_len": 256,
    "max_image_seq_len": 8192, "shift_terminal": 0.02, "time_shift_type": "exponential", "invert_sigmas": False,
    "stochastic_sampling": False, "use_karras_sigmas": False, "use_exponential_sigmas": False,
    "use_beta_sigmas": False}
MODEL_INDEX = {
    "_class_name": "QwenImagePipeline", "_diffusers_version": "0.36.0",
    "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
    "text_encoder": ["transformers", "Qwen2_5_VLForConditionalGeneration"],
    "tokenizer": ["transformers", "Qwen2Tokenizer"], "transformer": ["diffusers", "QwenImageTransformer2DModel"],
    "vae": ["diffusers", "AutoencoderKLQwenImage"]}

SERVING_DEFAULTS = {"num_inference_steps": 20, "guidance": 4.0, "negative_prompt": " "}
CAPTION_DROPOUT = 0.1
KL_WEIGHT = 1e-6


class DataSet:
    """The `scenes` output: images.u8 (N x S x S x 3), captions.jsonl (caption, template ids), meta.json."""

    def __init__(self, folder):
        with open(os.path.join(folder, "meta.json")) as f:
            self.meta = json.load(f)
        self.size = self.meta["size"]
        self.images = np.memmap(os.path.join(folder, "images.u8"), dtype=np.uint8, mode="r").reshape(
            -1, self.size, self.size, 3)
        with open(os.path.join(folder, "captions.jsonl")) as f:
            rows = [json.loads(line) for line in f]
        self.captions = [r["caption"] for r in rows]
        self.ids = [r["ids"] for r in rows]
        self.folder = folder

    def pixels(self, index):
        """Images [B,3,S,S] in [-1, 1]."""
        x = torch.from_numpy(np.ascontiguousarray(self.images[index])).float()
        return x.permute(0, 3, 1, 2) / 127.5 - 1.0


def lr_at(step, total, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def train_vae(data, steps, rng, batch=16, peak=4e-4):
    vae = qt.QwenImageVae(dict(VAE))
    with torch.no_grad():
        # posterior std starts at exp(-3) instead of 1: unit noise on a fresh encoder's small means hides them from
        # the decoder, and the tiny KL weight takes thousands of steps to shrink it
        vae.quant_conv.bias[VAE["z_dim"]:].fill_(-6.0)
    opt = torch.optim.Adam(vae.parameters(), lr=peak)
    start = time.time()
    running = None
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, peak, 50)
        x = data.pixels(np.sort(rng.choice(len(data.images), batch, replace=False)))
        mean, logvar = vae.encode(x)
        logvar = logvar.clamp(-30, 20)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        # the served decoder clamps to [-1, 1]; training reads the raw output, or overshooting pixels get no gradient
        recon = vae.decoder(vae.post_quant_conv(z))
        rec = F.l1_loss(recon, x) + F.mse_loss(recon, x)
        kl = 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).mean()
        loss = rec + KL_WEIGHT * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        running = rec.item() if running is None else 0.98 * running + 0.02 * rec.item()
        if step % 100 == 0 or step == steps - 1:
            log(f"vae step {step}/{steps} rec {running:.5f} kl {kl.item():.3f} ({time.time() - start:.0f} s)")
    return vae.eval(), running, time.time() - start


@torch.no_grad()
def encode_all(vae, data, batch=64):
    means = []
    for i in range(0, len(data.images), batch):
        mean, _ = vae.encode(data.pixels(np.arange(i, min(i + batch, len(data.images)))))
        means.append(mean)
    return torch.cat(means)


@torch.no_grad()
def reconstruction_psnr(vae, data, count=256):
    x = data.pixels(np.arange(min(count, len(data.images))))
    mean, _ = vae.encode(x)
    recon = vae.decode(mean).clamp(-1, 1)
    mse = ((recon - x) * 127.5).pow(2).mean().item()
    return 10 * math.log10(255 ** 2 / mse)


def sample_sigmas(rng, batch, tokens):
    """Uniform u pushed through the schedule's time shift at this token count, so training sees high sigmas about as
    often as the sampler does (the sampler's shift_terminal stretch, a few percent, is left out)."""
    u = rng.random(batch)
    m = (SCHEDULER["max_shift"] - SCHEDULER["base_shift"]) / (
        SCHEDULER["max_image_seq_len"] - SCHEDULER["base_image_seq_len"])
    mu = tokens * m + SCHEDULER["base_shift"] - m * SCHEDULER["base_image_seq_len"]
    shift = math.exp(mu)
    return torch.from_numpy(shift * u / (1 + (shift - 1) * u)).float()


def train_dit(data, latents, steps, rng, batch=64, peak=5e-4, ema_decay=0.995):
    text = qt.QwenTextEncoder(dict(TEXT_ENCODER, vocab_size=data.meta["vocab_size"]))
    dit = qt.QwenImageTransformer(dict(TRANSFORMER))
    params = list(text.parameters()) + list(dit.parameters())
    opt = torch.optim.AdamW(params, lr=peak, betas=(0.9, 0.99), weight_decay=0.0)
    ema = [p.detach().clone() for p in params]
    negative = data.meta["negative_ids"]
    tokens = latents[:1].shape[2] * latents[:1].shape[3] // 4
    grid = (latents.shape[2] // 2, latents.shape[3] // 2)
    start = time.time()
    running = None
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, peak, 200)
        index = rng.choice(len(latents), batch, replace=False)
        drop = rng.random(batch) < CAPTION_DROPOUT
        ids = [negative if d else data.ids[i] for i, d in zip(index, drop)]
        txt, mask = qt.prompt_embeds(text, ids)
        x0 = qt.pack(latents[index])
        noise = torch.randn_like(x0)
        sigma = sample_sigmas(rng, batch, tokens)
        xt = (1 - sigma[:, None, None]) * x0 + sigma[:, None, None] * noise
        v = dit(xt, txt, mask, sigma, grid)
        loss = F.mse_loss(v, noise - x0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        with torch.no_grad():
            decay = min(ema_decay, (1 + step) / (10 + step))
            for e, p in zip(ema, params):
                e.mul_(decay).add_(p.detach(), alpha=1 - decay)
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if step % 100 == 0 or step == steps - 1:
            log(f"dit step {step}/{steps} loss {running:.4f} ({time.time() - start:.0f} s)")
    with torch.no_grad():
        for e, p in zip(ema, params):
            p.copy_(e)
    return text.eval(), dit.eval(), running, time.time() - start


def write_snapshot(out, data, text, dit, vae, vae_cfg):
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    # what the model is good at, read by dit-fn as the defaults of a request that gives only a prompt
    defaults = dict(SERVING_DEFAULTS, size=data.size)
    with open(os.path.join(out, "model_index.json"), "w") as f:
        json.dump(dict(MODEL_INDEX, _dit_fn_defaults=defaults), f, indent=2)
    os.makedirs(os.path.join(out, "scheduler"))
    with open(os.path.join(out, "scheduler", "scheduler_config.json"), "w") as f:
        json.dump(SCHEDULER, f, indent=2)
    shutil.copytree(os.path.join(data.folder, "tokenizer"), os.path.join(out, "tokenizer"))
    vae.cfg = vae_cfg
    qt.save_component(text, os.path.join(out, "text_encoder"), dtype="F16")
    qt.save_component(dit, os.path.join(out, "transformer"), dtype="F16")
    qt.save_component(vae, os.path.join(out, "vae"), dtype="F16")


def write_manifest(out):
    """files.txt: every file of the snapshot, relative, one per line (dit-fn copies an embedded model by it)."""
    files = sorted(os.path.relpath(os.path.join(d, f), out) for d, _, fs in os.walk(out) for f in fs)
    with open(os.path.join(out, "files.txt"), "w") as f:
        f.write("".join(p + "\n" for p in files if p != "files.txt"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--vae-steps", type=int, default=2400)
    ap.add_argument("--dit-steps", type=int, default=1700)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--vae-checkpoint", help="reuse (or write, if absent) the trained VAE state here")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    data = DataSet(a.data)
    if len(data.images) < 64:
        sys.exit(f"{a.data} has {len(data.images)} images; training takes batches of 64")
    report = {"data": os.path.abspath(a.data), "images": len(data.images), "size": data.size, "seed": a.seed,
              "vae_steps": a.vae_steps, "dit_steps": a.dit_steps, "threads": a.threads}
    began = time.time()

    if a.vae_checkpoint and os.path.exists(a.vae_checkpoint):
        vae = qt.QwenImageVae(dict(VAE))
        vae.load_state_dict(torch.load(a.vae_checkpoint))
        vae.eval()
        report["vae_checkpoint"] = os.path.abspath(a.vae_checkpoint)
        del report["vae_steps"]
        log(f"vae from {a.vae_checkpoint}")
    else:
        vae, rec, seconds = train_vae(data, a.vae_steps, rng)
        report.update(vae_final_reconstruction_loss=rec, vae_seconds=round(seconds))
        if a.vae_checkpoint:
            torch.save(vae.state_dict(), a.vae_checkpoint)
    report["vae_psnr_db"] = round(reconstruction_psnr(vae, data), 2)
    log(f"vae reconstruction PSNR {report['vae_psnr_db']} dB")

    means = encode_all(vae, data)
    latents_mean = means.mean(dim=(0, 2, 3))
    latents_std = means.std(dim=(0, 2, 3))
    vae_cfg = dict(VAE, latents_mean=[round(float(v), 5) for v in latents_mean],
                   latents_std=[round(float(v), 5) for v in latents_std])
    normalised = qt.normalize_latents(means, vae_cfg)
    log(f"encoded {len(normalised)} latents {tuple(normalised.shape[1:])}")

    text, dit, loss, seconds = train_dit(data, normalised, a.dit_steps, rng)
    report.update(dit_final_loss=loss, dit_seconds=round(seconds))
    write_snapshot(a.out, data, text, dit, vae, vae_cfg)
    report["total_seconds"] = round(time.time() - began)
    with open(os.path.join(a.out, "training.json"), "w") as f:
        json.dump(report, f, indent=2)
    write_manifest(a.out)
    log(f"wrote {a.out}: {json.dumps(report)}")


if __name__ == "__main__":
    main()
