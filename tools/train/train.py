#!/usr/bin/env python3
"""Trains the tiny Qwen-Image demo model on a `scenes` data set and writes a diffusers-layout snapshot.

Phases (one command, fixed seed):
  1. AutoencoderKLQwenImage as an autoencoder (edge-weighted L1 + MSE reconstruction, small KL) on the images;
  2. the per-channel latents_mean / latents_std of its encoder means over the data set (the pipeline's convention);
  3. the Qwen2.5-VL text encoder and QwenImageTransformer2DModel together, by rectified flow on the normalised,
     packed latents, with caption dropout to the negative prompt " " so that true CFG works;
  4. the VAE decoder alone on the frozen encoder (the transformer's latents do not change);
  5. the snapshot: model_index.json, scheduler, tokenizer (the data set's), text_encoder, transformer, vae (fp16).

usage: /usr/bin/python3 tools/train/train.py --data DIR --out SNAPSHOT [--seed 0] [--vae-steps 4000]
       [--dit-steps 4000] [--decoder-steps 1000] [--threads 2] [--vae-checkpoint FILE] [--vae-init FILE]
       [--dit-checkpoint FILE] [--dit-init SNAPSHOT] [--eval DIR --eval-every N]

A run longer than a working session: --vae-checkpoint keeps the trained VAE, --dit-checkpoint the transformer phase
every 500 steps; the same command started again resumes where the last checkpoint left off.

--eval DIR (a `scenes --split eval` data set) samples its first 100 captions with the EMA weights every N transformer
steps and at the end (20 steps, CFG 4, as served), into SNAPSHOT.samples/step-N/ in the data set layout, so that
`java -jar target/quarkus-app/quarkus-run.jar fidelity --data SNAPSHOT.samples/step-N` scores the model as it trains.
"""
import ctypes
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

SERVING_DEFAULTS = {"num_inference_steps": 20, "guidance": 2.0, "negative_prompt": " "}
CAPTION_DROPOUT = 0.1
KL_WEIGHT = 1e-6
EDGE_WEIGHT = 4.0
DECODER_STEPS = 1000


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


def set_threads(torch_threads, blas_threads):
    """Intra-op threads for torch and for OpenBLAS (its own pool). Measured on 2 cores: the VAE's convolutions run
    fastest as 2 torch threads over a 1-thread BLAS, the transformer's matmuls as 1 torch thread over a 2-thread
    BLAS (1.09 s a step against 1.38 s the other way round); both pools at 2 oversubscribe the cores."""
    torch.set_num_threads(torch_threads)
    for name in ("libopenblas.so.0", "libopenblasp.so.0", "libblas.so.3"):
        try:
            ctypes.CDLL(name).openblas_set_num_threads(blas_threads)
            return
        except (OSError, AttributeError):
            continue


def lr_at(step, total, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def edge_weights(x):
    """1 on flat pixels, 1 + EDGE_WEIGHT where a 4-neighbour differs: shape outlines are a few percent of the pixels,
    and without the extra weight the decoder rounds stars' spikes and crosses' arms into blobs."""
    edge = torch.zeros_like(x[:, :1])
    dx = (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().amax(1, keepdim=True) > 0.02
    dy = (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().amax(1, keepdim=True) > 0.02
    edge[:, :, :, 1:] += dx
    edge[:, :, :, :-1] += dx
    edge[:, :, 1:, :] += dy
    edge[:, :, :-1, :] += dy
    return 1 + EDGE_WEIGHT * (edge > 0).float()


def train_vae(data, steps, rng, init=None, batch=16, peak=4e-4):
    vae = qt.QwenImageVae(dict(VAE))
    if init:
        vae.load_state_dict(torch.load(init))
    else:
        with torch.no_grad():
            # posterior std starts at exp(-3) instead of 1: unit noise on a fresh encoder's small means hides them
            # from the decoder, and the tiny KL weight takes thousands of steps to shrink it
            vae.quant_conv.bias[VAE["z_dim"]:].fill_(-6.0)
    return fit_vae(vae, vae.parameters(), data, steps, rng, batch, peak, "vae", with_kl=True)


def refine_decoder(vae, data, steps, rng, batch=16, peak=2e-4):
    """Trains the decoder alone on the frozen encoder's posterior: the latents the transformer learns stay exactly
    the same, so this can run before, after or beside the transformer's training."""
    for p in vae.encoder.parameters():
        p.requires_grad_(False)
    for p in vae.quant_conv.parameters():
        p.requires_grad_(False)
    params = list(vae.post_quant_conv.parameters()) + list(vae.decoder.parameters())
    rec = fit_vae(vae, params, data, steps, rng, batch, peak, "decoder", with_kl=False)
    for p in vae.parameters():
        p.requires_grad_(True)
    return rec


def refine_decoder_seeded(vae, data, steps, seed):
    """refine_decoder with its own random streams (seed + 1), so that it gives the same decoder whether it runs at
    the end of train.py or alone from the saved VAE state (refine_decoder.py)."""
    torch.manual_seed(seed + 1)
    return refine_decoder(vae, data, steps, np.random.default_rng(seed + 1))


def fit_vae(vae, params, data, steps, rng, batch, peak, name, with_kl):
    """(trained vae in eval mode, final running reconstruction loss, seconds)."""
    vae.train()
    opt = torch.optim.Adam(params, lr=peak)
    start = time.time()
    running = None
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, peak, 50)
        x = data.pixels(np.sort(rng.choice(len(data.images), batch, replace=False)))
        with torch.set_grad_enabled(with_kl):
            mean, logvar = vae.encode(x)
            logvar = logvar.clamp(-30, 20)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        # the served decoder clamps to [-1, 1]; training reads the raw output, or overshooting pixels get no gradient
        recon = vae.decoder(vae.post_quant_conv(z))
        err = (recon - x).abs()
        rec = ((err + err.pow(2)) * edge_weights(x)).mean()
        loss = rec
        if with_kl:
            kl = 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).mean()
            loss = rec + KL_WEIGHT * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        running = rec.item() if running is None else 0.98 * running + 0.02 * rec.item()
        if step % 100 == 0 or step == steps - 1:
            log(f"{name} step {step}/{steps} rec {running:.5f} ({time.time() - start:.0f} s)")
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


class Sampler:
    """Samples the first EVAL_CAPTIONS captions of an eval data set as served (20 steps, CFG 4, negative " ") into
    folders laid out as that data set, for the Java `fidelity` command."""

    def __init__(self, folder, out, vae, vae_cfg, count=100):
        self.eval = DataSet(folder)
        self.count = min(count, len(self.eval.ids))
        self.out = out
        self.vae = vae
        self.vae_cfg = vae_cfg
        gen = torch.Generator().manual_seed(1)
        side = self.eval.size // 8
        self.shape = (side, side)
        self.noise = qt.pack(torch.randn(self.count, VAE["z_dim"], side, side, generator=gen))

    @torch.no_grad()
    def write(self, name, text, dit):
        folder = os.path.join(self.out, name)
        os.makedirs(folder, exist_ok=True)
        txt, mask = qt.prompt_embeds(text, self.eval.ids[:self.count])
        neg, neg_mask = qt.prompt_embeds(text, [self.eval.meta["negative_ids"]] * self.count)
        h, w = self.shape
        sigmas = qt.flow_sigmas(SERVING_DEFAULTS["num_inference_steps"], h * w // 4, SCHEDULER)
        lat = qt.euler_sample(dit, txt, mask, neg, neg_mask, self.noise, sigmas, SERVING_DEFAULTS["guidance"],
                              (h // 2, w // 2))
        pixels = self.vae.decode(qt.denormalize_latents(qt.unpack(lat, h, w), self.vae_cfg))
        qt.to_uint8(pixels).numpy().tofile(os.path.join(folder, "images.u8"))
        with open(os.path.join(self.eval.folder, "captions.jsonl")) as f:
            rows = f.readlines()[:self.count]
        with open(os.path.join(folder, "captions.jsonl"), "w") as f:
            f.writelines(rows)
        shutil.copy(os.path.join(self.eval.folder, "meta.json"), folder)
        log(f"samples of {self.count} eval captions in {folder}")


def save_checkpoint(path, step, text, dit, ema, opt, rng, running, seconds):
    """Everything the transformer phase needs to go on after `step` exactly as if it had not stopped (written to a
    temporary file and renamed, so a kill mid-write leaves the previous checkpoint)."""
    state = {"step": step, "text": text.state_dict(), "dit": dit.state_dict(), "ema": ema,
             "opt": opt.state_dict(), "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
             "running": running, "seconds": seconds}
    torch.save(state, path + ".tmp")
    os.replace(path + ".tmp", path)


def train_dit(data, latents, steps, rng, sampler=None, every=0, checkpoint=None, checkpoint_every=500, batch=64,
              peak=1e-3, ema_decay=0.995, init=None):
    text = qt.QwenTextEncoder(dict(TEXT_ENCODER, vocab_size=data.meta["vocab_size"]))
    dit = qt.QwenImageTransformer(dict(TRANSFORMER))
    if init:
        qt.load_component(text, os.path.join(init, "text_encoder"))
        qt.load_component(dit, os.path.join(init, "transformer"))
        log(f"text encoder and transformer start from {init}")
    params = list(text.parameters()) + list(dit.parameters())
    opt = torch.optim.AdamW(params, lr=peak, betas=(0.9, 0.99), weight_decay=0.0)
    ema = [p.detach().clone() for p in params]
    negative = data.meta["negative_ids"]
    tokens = latents[:1].shape[2] * latents[:1].shape[3] // 4
    grid = (latents.shape[2] // 2, latents.shape[3] // 2)
    first, running, before = 0, None, 0.0
    if checkpoint and os.path.exists(checkpoint):
        state = torch.load(checkpoint)
        text.load_state_dict(state["text"])
        dit.load_state_dict(state["dit"])
        opt.load_state_dict(state["opt"])
        ema = state["ema"]
        rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        first, running, before = state["step"] + 1, state["running"], state["seconds"]
        log(f"dit resumes after step {state['step']} from {checkpoint}")
    start = time.time() - before
    for step in range(first, steps):
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
        if sampler and every and (step + 1) % every == 0 and step + 1 < steps:
            with torch.no_grad():
                live = [p.detach().clone() for p in params]
                for e, p in zip(ema, params):
                    p.copy_(e)
                sampler.write(f"step-{step + 1}", text.eval(), dit.eval())
                for saved, p in zip(live, params):
                    p.copy_(saved)
            text.train()
            dit.train()
        if checkpoint and (step + 1) % checkpoint_every == 0 and step + 1 < steps:
            save_checkpoint(checkpoint, step, text, dit, ema, opt, rng, running, time.time() - start)
    seconds = time.time() - start
    with torch.no_grad():
        for e, p in zip(ema, params):
            p.copy_(e)
    text.eval()
    dit.eval()
    if sampler:
        sampler.write(f"step-{steps}", text, dit)
    return text, dit, running, seconds


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
    ap.add_argument("--vae-steps", type=int, default=4000)
    ap.add_argument("--dit-steps", type=int, default=4000)
    ap.add_argument("--decoder-steps", type=int, default=DECODER_STEPS)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--vae-checkpoint", help="reuse (or write, if absent) the trained VAE state here")
    ap.add_argument("--vae-init", help="start the VAE's training from this state instead of from scratch")
    ap.add_argument("--eval", help="a `scenes --split eval` data set to sample while the transformer trains")
    ap.add_argument("--eval-every", type=int, default=1000)
    ap.add_argument("--dit-init", help="start the text encoder and transformer from this snapshot (trained on the "
                    "same VAE's latents) instead of from scratch, for a further round of the same schedule")
    ap.add_argument("--dit-checkpoint", help="save the transformer phase here every 500 steps, and resume from it if "
                    "it exists (with the same arguments, a resumed run goes on as an uninterrupted one)")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    data = DataSet(a.data)
    if len(data.images) < 64:
        sys.exit(f"{a.data} has {len(data.images)} images; training takes batches of 64")
    report = {"data": os.path.abspath(a.data), "images": len(data.images), "size": data.size, "seed": a.seed,
              "vae_steps": a.vae_steps, "dit_steps": a.dit_steps, "threads": a.threads,
              "vae_init": a.vae_init and os.path.abspath(a.vae_init),
              "dit_init": a.dit_init and os.path.abspath(a.dit_init)}
    began = time.time()

    set_threads(a.threads, 1)
    if a.vae_checkpoint and os.path.exists(a.vae_checkpoint):
        vae = qt.QwenImageVae(dict(VAE))
        vae.load_state_dict(torch.load(a.vae_checkpoint))
        vae.eval()
        report["vae_checkpoint"] = os.path.abspath(a.vae_checkpoint)
        del report["vae_steps"]
        log(f"vae from {a.vae_checkpoint}")
    else:
        vae, rec, seconds = train_vae(data, a.vae_steps, rng, a.vae_init)
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

    sampler = Sampler(a.eval, a.out.rstrip("/") + ".samples", vae, vae_cfg) if a.eval else None
    set_threads(1, a.threads)
    text, dit, loss, seconds = train_dit(data, normalised, a.dit_steps, rng, sampler, a.eval_every,
                                         a.dit_checkpoint, init=a.dit_init)
    report.update(dit_final_loss=loss, dit_seconds=round(seconds))
    if a.decoder_steps:
        set_threads(a.threads, 1)
        vae, rec, seconds = refine_decoder_seeded(vae, data, a.decoder_steps, a.seed)
        report.update(decoder_steps=a.decoder_steps, decoder_final_reconstruction_loss=rec,
                      decoder_seconds=round(seconds), refined_vae_psnr_db=round(reconstruction_psnr(vae, data), 2))
    write_snapshot(a.out, data, text, dit, vae, vae_cfg)
    report["total_seconds"] = round(time.time() - began)
    with open(os.path.join(a.out, "training.json"), "w") as f:
        json.dump(report, f, indent=2)
    write_manifest(a.out)
    log(f"wrote {a.out}: {json.dumps(report)}")


if __name__ == "__main__":
    main()
