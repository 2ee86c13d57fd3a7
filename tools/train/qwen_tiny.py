"""PyTorch modules for (tiny) Qwen-Image with the exact diffusers/transformers tensor names and shapes that dit-fn's
Java ONNX graphs load (docs: /work/shared/docs/qwen-image-spec.md).

- QwenTextEncoder: Qwen2.5-VL language model, text only (names `model.*`, no lm_head, as Java's write-model).
- QwenImageTransformer: QwenImageTransformer2DModel (spec §2), with a text key-padding mask.
- QwenImageVae: AutoencoderKLQwenImage for single images: every causal 3-D conv runs as a 2-D conv with its last time
  tap (W[:, :, k-1]); save/load convert to/from the 5-D diffusers weights.
- Pipeline glue: prompt_embeds, pack/unpack, (de)normalize_latents, euler_sample (true CFG as engine/TrueCfg.java),
  to_uint8 (engine/DecodedPixels.toByte), sigmas (scheduler/FlowMatchEulerScheduler).
"""
import glob
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    from . import safetensors_io as stio
except ImportError:  # run as a script from tools/train
    import safetensors_io as stio

DROP_INDEX = 34
MAX_SEQUENCE_LENGTH = 512


def _neg_big(dtype):
    return torch.finfo(dtype).min


# ============================================================================ text encoder (spec §4)

def _text_cfg(cfg, key, default=None):
    if key in cfg:
        return cfg[key]
    tc = cfg.get("text_config") or {}
    return tc.get(key, default)


class _RMSNorm(nn.Module):
    """Qwen2RMSNorm / diffusers RMSNorm: w * (x * rsqrt(mean(x^2) + eps))."""

    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class _TextAttention(nn.Module):
    def __init__(self, hidden, heads, kv_heads):
        super().__init__()
        self.heads, self.kv_heads, self.hd = heads, kv_heads, hidden // heads
        self.q_proj = nn.Linear(hidden, heads * self.hd, bias=True)
        self.k_proj = nn.Linear(hidden, kv_heads * self.hd, bias=True)
        self.v_proj = nn.Linear(hidden, kv_heads * self.hd, bias=True)
        self.o_proj = nn.Linear(heads * self.hd, hidden, bias=False)


class _TextMlp(nn.Module):
    def __init__(self, hidden, inter):
        super().__init__()
        self.gate_proj = nn.Linear(hidden, inter, bias=False)
        self.up_proj = nn.Linear(hidden, inter, bias=False)
        self.down_proj = nn.Linear(inter, hidden, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class _TextLayer(nn.Module):
    def __init__(self, hidden, inter, heads, kv_heads, eps):
        super().__init__()
        self.input_layernorm = _RMSNorm(hidden, eps)
        self.self_attn = _TextAttention(hidden, heads, kv_heads)
        self.post_attention_layernorm = _RMSNorm(hidden, eps)
        self.mlp = _TextMlp(hidden, inter)

    def forward(self, h, cos, sin, bias):
        a = self.self_attn
        B, L, _ = h.shape
        n = self.input_layernorm(h)
        q = a.q_proj(n).view(B, L, a.heads, a.hd).transpose(1, 2)  # [B, H, L, hd]
        k = a.k_proj(n).view(B, L, a.kv_heads, a.hd).transpose(1, 2)
        v = a.v_proj(n).view(B, L, a.kv_heads, a.hd).transpose(1, 2)
        q = _rotate_half_rope(q, cos, sin)
        k = _rotate_half_rope(k, cos, sin)
        rep = a.heads // a.kv_heads
        if rep > 1:
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        s = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(a.hd)) + bias
        o = torch.matmul(torch.softmax(s, dim=-1), v).transpose(1, 2).reshape(B, L, a.heads * a.hd)
        h = h + a.o_proj(o)
        return h + self.mlp(self.post_attention_layernorm(h))


def _rotate_half_rope(x, cos, sin):
    """x [B, H, L, hd]; cos/sin [B, 1, L, hd] (rotate-half layout)."""
    half = x.shape[-1] // 2
    rot = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rot * sin


def _text_rope_tables(positions, head_dim, theta):
    """positions int64 [B, L] -> cos, sin [B, 1, L, hd] float32, as Java QwenTextInputs.rope (fp32 angle products)."""
    half = head_dim // 2
    inv = np.array([np.float32(1.0 / math.pow(theta, (2.0 * j) / head_dim)) for j in range(half)], dtype=np.float32)
    pos = positions.detach().cpu().numpy().astype(np.float32)
    ang = (pos[..., None] * inv).astype(np.float32)  # fp32 product
    c = np.cos(ang.astype(np.float64)).astype(np.float32)
    s = np.sin(ang.astype(np.float64)).astype(np.float32)
    c = np.concatenate([c, c], -1)
    s = np.concatenate([s, s], -1)
    return torch.from_numpy(c)[:, None], torch.from_numpy(s)[:, None]


class QwenTextEncoder(nn.Module):
    """Qwen2.5-VL language model (text only). forward -> post-final-norm hidden states [B, L, hidden]."""

    def __init__(self, cfg: dict):
        super().__init__()
        self.cfg = dict(cfg)
        hidden = _text_cfg(cfg, "hidden_size")
        heads = _text_cfg(cfg, "num_attention_heads")
        kv = _text_cfg(cfg, "num_key_value_heads", heads)
        inter = _text_cfg(cfg, "intermediate_size")
        layers = _text_cfg(cfg, "num_hidden_layers")
        vocab = _text_cfg(cfg, "vocab_size")
        self.eps = float(_text_cfg(cfg, "rms_norm_eps", 1e-6))
        self.theta = float(_text_cfg(cfg, "rope_theta", 1000000.0))
        self.hidden, self.head_dim = hidden, hidden // heads
        self.model = nn.Module()
        self.model.embed_tokens = nn.Embedding(vocab, hidden)
        self.model.layers = nn.ModuleList([_TextLayer(hidden, inter, heads, kv, self.eps) for _ in range(layers)])
        self.model.norm = _RMSNorm(hidden, self.eps)

    def forward(self, input_ids, attention_mask=None):
        B, L = input_ids.shape
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        m = attention_mask.to(torch.long)
        pos = torch.cumsum(m, dim=1) - 1
        pos = torch.where(m == 0, torch.ones_like(pos), pos)
        cos, sin = _text_rope_tables(pos, self.head_dim, self.theta)
        h = self.model.embed_tokens(input_ids)
        cos, sin = cos.to(h.dtype), sin.to(h.dtype)
        causal = torch.ones(L, L, dtype=torch.bool).tril()
        allowed = causal[None, None] & (m[:, None, None, :] != 0)  # [B, 1, L, L]
        # a query with nothing allowed (left padding) attends to itself only, to stay finite
        allowed = allowed | (~allowed.any(-1, keepdim=True) & torch.eye(L, dtype=torch.bool)[None, None])
        bias = torch.zeros(allowed.shape, dtype=h.dtype).masked_fill(~allowed, _neg_big(h.dtype))
        for layer in self.model.layers:
            h = layer(h, cos, sin, bias)
        return self.model.norm(h)


def prompt_embeds(encoder, ids_list, drop_index=DROP_INDEX, max_sequence_length=MAX_SEQUENCE_LENGTH, pad_id=0):
    """_get_qwen_prompt_embeds: template ids per sample -> (embeds [B, Lmax, H], mask [B, Lmax] bool)."""
    lens = [len(x) for x in ids_list]
    L = max(lens)
    dev = next(encoder.parameters()).device
    ids = torch.full((len(ids_list), L), pad_id, dtype=torch.long, device=dev)
    am = torch.zeros((len(ids_list), L), dtype=torch.long, device=dev)
    for b, x in enumerate(ids_list):
        ids[b, :len(x)] = torch.as_tensor(list(x), dtype=torch.long)
        am[b, :len(x)] = 1
    hidden = encoder(ids, am)
    rows = []
    for b, n in enumerate(lens):
        if n <= drop_index:
            raise ValueError(f"sample {b} has {n} tokens; more than {drop_index} are needed")
        rows.append(hidden[b, drop_index:n][:max_sequence_length])
    Lm = max(r.shape[0] for r in rows)
    out = hidden.new_zeros((len(rows), Lm, hidden.shape[-1]))
    mask = torch.zeros((len(rows), Lm), dtype=torch.bool, device=dev)
    for b, r in enumerate(rows):
        out[b, :r.shape[0]] = r
        mask[b, :r.shape[0]] = True
    return out, mask


# ============================================================================ transformer (spec §2)

def _rope_omegas(d, theta=10000.0):
    # as Java QwenRope: exponent fp32 (2j)/d, pow in double rounded to fp32, 1/pow in fp32
    out = []
    for j in range(d // 2):
        e = np.float32(2 * j) / np.float32(d)
        p = np.float32(math.pow(theta, float(e)))
        out.append(np.float32(1.0) / p)
    return np.array(out, dtype=np.float32)


_ROPE_CACHE = {}


def qwen_rope_tables(axes_dims, h2, w2, txt_len):
    """(img_cos, img_sin [N, hd/2], txt_cos, txt_sin [L, hd/2]) float32 torch, as Java QwenRope."""
    key = (tuple(axes_dims), h2, w2, txt_len)
    if key in _ROPE_CACHE:
        return _ROPE_CACHE[key]
    om = [_rope_omegas(d) for d in axes_dims]
    r = np.arange(h2) - (h2 - h2 // 2)
    c = np.arange(w2) - (w2 - w2 // 2)
    rr, cc = np.meshgrid(r, c, indexing="ij")
    img_pos = [np.zeros(h2 * w2), rr.reshape(-1), cc.reshape(-1)]
    start = max(h2 // 2, w2 // 2)
    tp = np.arange(txt_len) + start
    txt_pos = [tp, tp, tp]

    def table(pos):
        ang = np.concatenate([(pos[a].astype(np.float32)[:, None] * om[a][None, :]).astype(np.float32)
                              for a in range(3)], axis=1)
        return (torch.from_numpy(np.cos(ang.astype(np.float64)).astype(np.float32)),
                torch.from_numpy(np.sin(ang.astype(np.float64)).astype(np.float32)))

    res = table(img_pos) + table(txt_pos)
    if len(_ROPE_CACHE) > 256:
        _ROPE_CACHE.clear()
    _ROPE_CACHE[key] = res
    return res


def _rotate_pairs(x, cos, sin):
    """x [B, H, S, hd]; cos/sin [S, hd/2]: interleaved pairs (2k, 2k+1)."""
    x2 = x.reshape(*x.shape[:-1], -1, 2)
    a, b = x2[..., 0], x2[..., 1]
    re = a * cos - b * sin
    im = a * sin + b * cos
    return torch.stack([re, im], dim=-1).reshape(x.shape)


def timestep_sinusoid(sigma):
    """[B] sigma -> [B, 256]: concat(cos, sin) of (sigma * f_k) * 1000, f_k = exp(-ln(1e4) k / 128) (fp32)."""
    half = 128
    lp = np.float32(-math.log(10000.0))
    f = np.array([np.float32(math.exp(float(np.float32(lp * np.float32(k)) / np.float32(half))))
                  for k in range(half)], dtype=np.float32)
    # Java: (float) Math.exp(logPeriod * k / half) with float arithmetic for logPeriod*k/half
    f = torch.from_numpy(f).to(sigma.device)
    args = (sigma.float()[:, None] * f[None, :]) * 1000.0
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class _Attn(nn.Module):
    def __init__(self, d, hd):
        super().__init__()
        self.to_q, self.to_k, self.to_v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.add_q_proj, self.add_k_proj, self.add_v_proj = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.to_out = nn.ModuleList([nn.Linear(d, d), nn.Dropout(0.0)])
        self.to_add_out = nn.Linear(d, d)
        self.norm_q, self.norm_k = _RMSNorm(hd), _RMSNorm(hd)
        self.norm_added_q, self.norm_added_k = _RMSNorm(hd), _RMSNorm(hd)


class _GeluProj(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.proj = nn.Linear(d_in, d_out)

    def forward(self, x):
        return F.gelu(self.proj(x), approximate="tanh")


class _FeedForward(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.net = nn.ModuleList([_GeluProj(d, 4 * d), nn.Dropout(0.0), nn.Linear(4 * d, d)])

    def forward(self, x):
        return self.net[2](self.net[0](x))


class _Block(nn.Module):
    def __init__(self, d, heads, hd):
        super().__init__()
        self.heads, self.hd, self.d = heads, hd, d
        self.img_mod = nn.Sequential(nn.SiLU(), nn.Linear(d, 6 * d))
        self.txt_mod = nn.Sequential(nn.SiLU(), nn.Linear(d, 6 * d))
        self.attn = _Attn(d, hd)
        self.img_mlp = _FeedForward(d)
        self.txt_mlp = _FeedForward(d)

    def forward(self, x, e, silu_temb, rope, bias):
        d, H, hd = self.d, self.heads, self.hd
        im = self.img_mod[1](silu_temb)[:, None].chunk(6, dim=-1)
        tm = self.txt_mod[1](silu_temb)[:, None].chunk(6, dim=-1)
        xi = _ln(x) * (1 + im[1]) + im[0]
        ei = _ln(e) * (1 + tm[1]) + tm[0]
        a = self.attn
        B, N, _ = x.shape
        L = e.shape[1]
        img_cos, img_sin, txt_cos, txt_sin = rope

        def heads(t, S):
            return t.view(B, S, H, hd).transpose(1, 2)

        # fused projections (one GEMM per stream; same weights/names), then per-stream QK-norm, joint RoPE
        iqkv = F.linear(xi, torch.cat([a.to_q.weight, a.to_k.weight, a.to_v.weight]),
                        torch.cat([a.to_q.bias, a.to_k.bias, a.to_v.bias]))
        tqkv = F.linear(ei, torch.cat([a.add_q_proj.weight, a.add_k_proj.weight, a.add_v_proj.weight]),
                        torch.cat([a.add_q_proj.bias, a.add_k_proj.bias, a.add_v_proj.bias]))
        iq, ik, iv = iqkv.split(d, dim=-1)
        tq, tk, tv = tqkv.split(d, dim=-1)
        q = torch.cat([a.norm_added_q(heads(tq, L)), a.norm_q(heads(iq, N))], dim=2)
        k = torch.cat([a.norm_added_k(heads(tk, L)), a.norm_k(heads(ik, N))], dim=2)
        v = torch.cat([heads(tv, L), heads(iv, N)], dim=2)
        cos = torch.cat([txt_cos, img_cos], dim=0)
        sin = torch.cat([txt_sin, img_sin], dim=0)
        q = _rotate_pairs(q, cos, sin)
        k = _rotate_pairs(k, cos, sin)
        s = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
        if bias is not None:
            s = s + bias
        o = torch.matmul(torch.softmax(s, dim=-1), v).transpose(1, 2).reshape(B, L + N, d)
        a_txt = a.to_add_out(o[:, :L])
        a_img = a.to_out[0](o[:, L:])
        x = x + im[2] * a_img
        e = e + tm[2] * a_txt
        x = x + im[5] * self.img_mlp(_ln(x) * (1 + im[4]) + im[3])
        e = e + tm[5] * self.txt_mlp(_ln(e) * (1 + tm[4]) + tm[3])
        return x, e


def _ln(x):
    return F.layer_norm(x, (x.shape[-1],), eps=1e-6)


class QwenImageTransformer(nn.Module):
    """QwenImageTransformer2DModel. forward(img [B,N,in], txt [B,L,joint], txt_mask [B,L] bool|None, sigma [B],
    grid (h2, w2)) -> velocity [B, N, patch^2 * out_channels]."""

    def __init__(self, cfg: dict):
        super().__init__()
        self.cfg = dict(cfg)
        for k in ("zero_cond_t", "use_additional_t_cond", "use_layer3d_rope", "guidance_embeds"):
            if cfg.get(k):
                raise ValueError(f"transformer config {k} = true is not supported")
        p = cfg.get("patch_size", 2)
        cin = cfg.get("in_channels", 64)
        cout = cfg.get("out_channels") or cin
        heads = cfg.get("num_attention_heads", 24)
        hd = cfg.get("attention_head_dim", 128)
        joint = cfg.get("joint_attention_dim", 3584)
        d = heads * hd
        self.axes = list(cfg.get("axes_dims_rope", [16, 56, 56]))
        if sum(self.axes) != hd:
            raise ValueError("sum(axes_dims_rope) must equal attention_head_dim")
        self.d, self.hd, self.heads = d, hd, heads
        self.img_in = nn.Linear(cin, d)
        self.txt_norm = _RMSNorm(joint, 1e-6)
        self.txt_in = nn.Linear(joint, d)
        self.time_text_embed = nn.Module()
        self.time_text_embed.timestep_embedder = nn.Module()
        self.time_text_embed.timestep_embedder.linear_1 = nn.Linear(256, d)
        self.time_text_embed.timestep_embedder.linear_2 = nn.Linear(d, d)
        self.transformer_blocks = nn.ModuleList([_Block(d, heads, hd) for _ in range(cfg.get("num_layers", 60))])
        self.norm_out = nn.Module()
        self.norm_out.linear = nn.Linear(d, 2 * d)
        self.proj_out = nn.Linear(d, p * p * cout)

    def temb(self, sigma):
        te = self.time_text_embed.timestep_embedder
        proj = timestep_sinusoid(sigma).to(self.img_in.weight.dtype)
        return te.linear_2(F.silu(te.linear_1(proj)))

    def forward(self, img, txt, txt_mask, sigma, grid):
        h2, w2 = int(grid[0]), int(grid[1])
        B, N, _ = img.shape
        L = txt.shape[1]
        if N != h2 * w2:
            raise ValueError(f"{N} image tokens for grid {h2}x{w2}")
        if sigma.dim() == 0:
            sigma = sigma.expand(B)
        x = self.img_in(img)
        e = self.txt_in(self.txt_norm(txt))
        temb = self.temb(sigma)
        silu_temb = F.silu(temb)
        rope = [t.to(img.device) for t in qwen_rope_tables(self.axes, h2, w2, L)]
        bias = None
        if txt_mask is not None and not bool(txt_mask.all()):
            keys = torch.cat([txt_mask.bool(), torch.ones(B, N, dtype=torch.bool, device=img.device)], dim=1)
            bias = torch.zeros(B, 1, 1, L + N, dtype=x.dtype, device=img.device)
            bias = bias.masked_fill(~keys[:, None, None, :], _neg_big(x.dtype))
        for blk in self.transformer_blocks:
            x, e = blk(x, e, silu_temb, rope, bias)
        scale, shift = self.norm_out.linear(silu_temb)[:, None].chunk(2, dim=-1)
        return self.proj_out(_ln(x) * (1 + scale) + shift)


# ============================================================================ VAE (spec §3)

class CausalConv(nn.Module):
    """QwenImageCausalConv3d on one frame: a 2-D conv with weight W[:, :, k-1] (stored [out, in, k, k, k])."""

    def __init__(self, cin, cout, k):
        super().__init__()
        self.k = k
        self.weight = nn.Parameter(torch.empty(cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(cout))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        bound = 1 / math.sqrt(cin * k * k)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, padding=self.k // 2)


class VaeRMSNorm(nn.Module):
    """QwenImageRMS_norm: F.normalize over channels * sqrt(C) * gamma (gamma [C,1,1,1] or [C,1,1] with images)."""

    def __init__(self, c, images=False):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones((c, 1, 1) if images else (c, 1, 1, 1)))
        self.scale = c ** 0.5

    def forward(self, x):
        return F.normalize(x, dim=1) * self.scale * self.gamma.reshape(1, -1, 1, 1)


class ResidualBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1 = VaeRMSNorm(cin)
        self.conv1 = CausalConv(cin, cout, 3)
        self.norm2 = VaeRMSNorm(cout)
        self.conv2 = CausalConv(cout, cout, 3)
        self.conv_shortcut = CausalConv(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        h = self.conv_shortcut(x) if self.conv_shortcut is not None else x
        y = self.conv1(F.silu(self.norm1(x)))
        y = self.conv2(F.silu(self.norm2(y)))
        return y + h


class AttentionBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm = VaeRMSNorm(c, images=True)
        self.to_qkv = nn.Conv2d(c, 3 * c, 1)
        self.proj = nn.Conv2d(c, c, 1)

    def forward(self, x):
        B, C, H, W = x.shape
        qkv = self.to_qkv(self.norm(x)).reshape(B, 3 * C, H * W).transpose(1, 2)  # [B, HW, 3C]
        q, k, v = qkv.split(C, dim=-1)
        a = torch.softmax(torch.matmul(q, k.transpose(1, 2)) * (1.0 / math.sqrt(C)), dim=-1)
        o = torch.matmul(a, v).transpose(1, 2).reshape(B, C, H, W)
        return x + self.proj(o)


class MidBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.resnets = nn.ModuleList([ResidualBlock(c, c), ResidualBlock(c, c)])
        self.attentions = nn.ModuleList([AttentionBlock(c)])

    def forward(self, x):
        return self.resnets[1](self.attentions[0](self.resnets[0](x)))


class _Up2x(nn.Module):
    def forward(self, x):
        return F.interpolate(x, scale_factor=2.0, mode="nearest")


class Resample(nn.Module):
    """upsample2d/3d: nearest x2 then conv3x3 C->C/2; downsample2d/3d: pad right/bottom 1, conv3x3 stride 2.
    3d modes keep the (unused on images) time_conv weights as buffers so the snapshot round-trips."""

    def __init__(self, c, mode):
        super().__init__()
        self.mode = mode
        if mode.startswith("up"):
            self.resample = nn.Sequential(_Up2x(), nn.Conv2d(c, c // 2, 3, padding=1))
        else:
            self.resample = nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(c, c, 3, stride=2))
        if mode == "upsample3d":
            self.time_conv = nn.Module()
            self.time_conv.register_buffer("weight", torch.zeros(2 * c, c, 3, 1, 1))
            self.time_conv.register_buffer("bias", torch.zeros(2 * c))
        elif mode == "downsample3d":
            self.time_conv = nn.Module()
            self.time_conv.register_buffer("weight", torch.zeros(c, c, 3, 1, 1))
            self.time_conv.register_buffer("bias", torch.zeros(c))

    def forward(self, x):
        return self.resample(x)


class UpBlock(nn.Module):
    def __init__(self, cin, cout, n_res, mode):
        super().__init__()
        self.resnets = nn.ModuleList([ResidualBlock(cin if r == 0 else cout, cout) for r in range(n_res + 1)])
        self.upsamplers = nn.ModuleList([Resample(cout, mode)]) if mode else None

    def forward(self, x):
        for r in self.resnets:
            x = r(x)
        if self.upsamplers is not None:
            x = self.upsamplers[0](x)
        return x


class Encoder(nn.Module):
    def __init__(self, base, zc, dim_mult, n_res, attn_scales, tds):
        super().__init__()
        if attn_scales:
            raise ValueError("attn_scales must be [] (diffusers' encoder cannot run attention down blocks)")
        dims = [base * u for u in [1] + list(dim_mult)]
        self.conv_in = CausalConv(3, dims[0], 3)
        blocks = []
        for i, (cin, cout) in enumerate(zip(dims[:-1], dims[1:])):
            for _ in range(n_res):
                blocks.append(ResidualBlock(cin, cout))
                cin = cout
            if i != len(dim_mult) - 1:
                blocks.append(Resample(cout, "downsample3d" if tds[i] else "downsample2d"))
        self.down_blocks = nn.ModuleList(blocks)
        self.mid_block = MidBlock(dims[-1])
        self.norm_out = VaeRMSNorm(dims[-1])
        self.conv_out = CausalConv(dims[-1], zc, 3)

    def forward(self, x):
        x = self.conv_in(x)
        for b in self.down_blocks:
            x = b(x)
        x = self.mid_block(x)
        return self.conv_out(F.silu(self.norm_out(x)))


class Decoder(nn.Module):
    def __init__(self, base, z_dim, dim_mult, n_res, tds):
        super().__init__()
        dims = [base * u for u in [dim_mult[-1]] + list(dim_mult[::-1])]
        tus = list(tds[::-1])
        self.conv_in = CausalConv(z_dim, dims[0], 3)
        self.mid_block = MidBlock(dims[0])
        ups = []
        for i, (cin, cout) in enumerate(zip(dims[:-1], dims[1:])):
            if i > 0:
                cin = cin // 2
            mode = None
            if i != len(dim_mult) - 1:
                mode = "upsample3d" if tus[i] else "upsample2d"
            ups.append(UpBlock(cin, cout, n_res, mode))
        self.up_blocks = nn.ModuleList(ups)
        self.norm_out = VaeRMSNorm(dims[-1])
        self.conv_out = CausalConv(dims[-1], 3, 3)

    def forward(self, z):
        x = self.mid_block(self.conv_in(z))
        for b in self.up_blocks:
            x = b(x)
        return self.conv_out(F.silu(self.norm_out(x)))


class QwenImageVae(nn.Module):
    """AutoencoderKLQwenImage for single images (diffusers names: encoder, quant_conv, post_quant_conv, decoder)."""

    def __init__(self, cfg: dict):
        super().__init__()
        self.cfg = dict(cfg)
        base = cfg.get("base_dim", 96)
        z = cfg.get("z_dim", 16)
        dm = list(cfg.get("dim_mult", [1, 2, 4, 4]))
        nr = cfg.get("num_res_blocks", 2)
        tds = list(cfg.get("temperal_downsample", [False, True, True]))
        if cfg.get("input_channels", 3) != 3:
            raise ValueError("input_channels must be 3")
        self.z_dim = z
        self.encoder = Encoder(base, 2 * z, dm, nr, cfg.get("attn_scales", []), tds)
        self.quant_conv = CausalConv(2 * z, 2 * z, 1)
        self.post_quant_conv = CausalConv(z, z, 1)
        self.decoder = Decoder(base, z, dm, nr, tds)

    def encode(self, x):
        h = self.quant_conv(self.encoder(x))
        mean, logvar = h[:, :self.z_dim], h[:, self.z_dim:]
        return mean, torch.clamp(logvar, -30.0, 20.0)

    def decode(self, z):
        return torch.clamp(self.decoder(self.post_quant_conv(z)), -1.0, 1.0)


def _latent_stats(vae_cfg, z):
    c = z.shape[1]
    mean = torch.tensor(vae_cfg.get("latents_mean", [0.0] * c), dtype=torch.float32, device=z.device)
    std = torch.tensor(vae_cfg.get("latents_std", [1.0] * c), dtype=torch.float32, device=z.device)
    return mean.view(1, -1, 1, 1).to(z.dtype), std.view(1, -1, 1, 1).to(z.dtype)


def normalize_latents(z, vae_cfg):
    """(mu - latents_mean) / latents_std (edit pipeline's _encode_vae_image; Java VaePixels.normalize)."""
    mean, std = _latent_stats(vae_cfg, z)
    return (z - mean) / std


def denormalize_latents(z, vae_cfg):
    """latents / (1 / latents_std) + latents_mean (pipeline; Java VaePixels.denormalize)."""
    mean, std = _latent_stats(vae_cfg, z)
    return z / (1.0 / std) + mean


# ============================================================================ packing, schedule, sampling

def pack(z):
    """[B, C, h, w] -> [B, (h/2)(w/2), 4C]; latent (ch, 2r+dy, 2c+dx) -> token r*w2+c, channel ch*4+dy*2+dx."""
    B, C, h, w = z.shape
    return z.view(B, C, h // 2, 2, w // 2, 2).permute(0, 2, 4, 1, 3, 5).reshape(B, (h // 2) * (w // 2), 4 * C)


def unpack(tokens, h, w):
    """Inverse of pack: [B, (h/2)(w/2), 4C] -> [B, C, h, w] (h, w: latent size)."""
    B, N, C4 = tokens.shape
    C = C4 // 4
    return tokens.view(B, h // 2, w // 2, C, 2, 2).permute(0, 3, 1, 4, 2, 5).reshape(B, C, h, w)


def true_cfg(cond, uncond, scale):
    """engine/TrueCfg.combine: c = u + s (cond - u), then c * ||cond|| / ||c|| per token (last axis)."""
    c = uncond + scale * (cond - uncond)
    ratio = (torch.linalg.vector_norm(cond.double(), dim=-1, keepdim=True)
             / torch.linalg.vector_norm(c.double(), dim=-1, keepdim=True)).to(c.dtype)
    return c * ratio


@torch.no_grad()
def euler_sample(transformer, txt, txt_mask, neg_txt, neg_mask, noise_tokens, sigmas, cfg_scale, grid):
    """Java QwenImagePipeline denoising loop: flow-match Euler over sigmas (steps+1, ending in 0); true CFG only when
    neg_txt is given and cfg_scale > 1. noise_tokens [B, N, 4C] packed; returns the packed latents."""
    x = noise_tokens.float().clone()
    sig = [float(np.float32(s)) for s in (sigmas.tolist() if hasattr(sigmas, "tolist") else sigmas)]
    B = x.shape[0]
    use_cfg = neg_txt is not None and cfg_scale > 1
    for i in range(len(sig) - 1):
        t = float(np.float32(np.float32(sig[i]) * np.float32(1000.0)) / np.float32(1000.0))
        s = torch.full((B,), t, dtype=torch.float32, device=x.device)
        v = transformer(x, txt, txt_mask, s, grid)
        if use_cfg:
            vn = transformer(x, neg_txt, neg_mask, s, grid)
            v = true_cfg(v, vn, float(cfg_scale))
        dt = float(np.float32(np.float32(sig[i + 1]) - np.float32(sig[i])))
        x = x + dt * v
    return x


def flow_sigmas(steps, image_tokens, sched_cfg=None):
    """FlowMatchEulerScheduler.sigmas for the Qwen-Image scheduler config (dynamic exponential shift, terminal)."""
    c = {"use_dynamic_shifting": True, "base_shift": 0.5, "max_shift": 0.9, "base_image_seq_len": 256,
         "max_image_seq_len": 8192, "shift_terminal": 0.02, "shift": 1.0}
    if sched_cfg:
        c.update({k: v for k, v in sched_cfg.items() if v is not None})
    base = np.array([1.0 if steps == 1 else 1.0 + (1.0 / steps - 1.0) * i / (steps - 1) for i in range(steps)],
                    dtype=np.float32)
    m = (c["max_shift"] - c["base_shift"]) / (c["max_image_seq_len"] - c["base_image_seq_len"])
    b = c["base_shift"] - m * c["base_image_seq_len"]
    mu = np.float32(image_tokens * m + b)
    if c["use_dynamic_shifting"]:
        s = np.exp(mu) / (np.exp(mu) + (1.0 / base - 1.0))
    else:
        s = c["shift"] * base / (1 + (c["shift"] - 1) * base)
    s = s.astype(np.float32)
    if c.get("shift_terminal"):
        one_minus = 1.0 - s
        sc = one_minus[-1] / (1.0 - c["shift_terminal"])
        s = (1.0 - one_minus / sc).astype(np.float32)
    return np.concatenate([s, [0.0]]).astype(np.float32)


def to_uint8(image):
    """[B,3,H,W] (or [3,H,W]) in [-1,1] -> uint8 NHWC (HWC), as DecodedPixels.toByte (round half to even)."""
    x = image.detach().float().cpu()
    u = x * 0.5 + 0.5
    u = torch.nan_to_num(u, nan=0.0).clamp(0.0, 1.0)
    v = torch.round(u * 255.0).to(torch.uint8)  # torch.round is half-to-even
    return v.permute(0, 2, 3, 1).contiguous() if v.dim() == 4 else v.permute(1, 2, 0).contiguous()


# ============================================================================ component I/O

_COMPONENT_FILE = {"QwenTextEncoder": "model.safetensors", "QwenImageTransformer": "diffusion_pytorch_model.safetensors",
                   "QwenImageVae": "diffusion_pytorch_model.safetensors"}


def _causal_names(module):
    return {name + ".weight": m.k for name, m in module.named_modules() if isinstance(m, CausalConv)}


def export_state(module, dtype=torch.float32):
    """The state dict with diffusers/transformers names and shapes (causal convs expanded to 5-D)."""
    causal = _causal_names(module)
    out = {}
    for name, t in module.state_dict().items():
        t = t.detach().cpu().float()
        if name in causal:
            k = causal[name]
            w5 = torch.zeros(t.shape[0], t.shape[1], k, k, k)
            w5[:, :, k - 1] = t
            t = w5
        out[name] = t.to(dtype)
    return out


def save_component(module, directory, dtype="F32"):
    """Writes <dir>/config.json and one safetensors file (F32 or F16)."""
    os.makedirs(directory, exist_ok=True)
    cls = type(module).__name__
    tensors = export_state(module)
    stio.save(tensors, os.path.join(directory, _COMPONENT_FILE[cls]), dtype=dtype, metadata={"format": "pt"})
    cfg = dict(module.cfg)
    cfg.setdefault("_class_name", {"QwenTextEncoder": "Qwen2_5_VLForConditionalGeneration",
                                   "QwenImageTransformer": "QwenImageTransformer2DModel",
                                   "QwenImageVae": "AutoencoderKLQwenImage"}[cls])
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


def read_tensors(directory):
    tensors = {}
    for p in sorted(glob.glob(os.path.join(directory, "*.safetensors"))):
        tensors.update(stio.load(p))
    return tensors


def load_component(module, directory, strict=True):
    """Loads <dir>/*.safetensors into module (names as diffusers/transformers; text encoder accepts `model.` and
    `model.language_model.`; lm_head/visual tensors ignored; causal 5-D convs take the last time tap)."""
    tensors = read_tensors(directory)
    if isinstance(module, QwenTextEncoder):
        t2 = {}
        for k, v in tensors.items():
            if k.startswith("model.language_model."):
                t2["model." + k[len("model.language_model."):]] = v
            elif k.startswith("model."):
                t2[k] = v
        tensors = t2
    causal = _causal_names(module)
    own = module.state_dict()
    new = {}
    for name, ref in own.items():
        if name not in tensors:
            if strict:
                raise KeyError(f"{directory}: missing tensor {name}")
            continue
        t = tensors[name]
        if name in causal:
            k = causal[name]
            if t.dim() != 5:
                raise ValueError(f"{name}: expected 5-D causal conv weight, got {list(t.shape)}")
            t = t[:, :, k - 1]
        if list(t.shape) != list(ref.shape):
            raise ValueError(f"{name}: shape {list(t.shape)} != expected {list(ref.shape)}")
        new[name] = t.to(ref.dtype)
    extra = [k for k in tensors if k not in own]
    if strict and extra:
        raise KeyError(f"{directory}: unexpected tensors {extra[:5]}")
    module.load_state_dict(new, strict=strict)
    return module


def read_config(directory):
    with open(os.path.join(directory, "config.json")) as f:
        return json.load(f)


def load_snapshot(snapshot):
    """(text_encoder, transformer, vae, configs) from a diffusers snapshot directory, fp32, eval mode."""
    te = load_component(QwenTextEncoder(read_config(os.path.join(snapshot, "text_encoder"))),
                        os.path.join(snapshot, "text_encoder"))
    tr = load_component(QwenImageTransformer(read_config(os.path.join(snapshot, "transformer"))),
                        os.path.join(snapshot, "transformer"))
    vae = load_component(QwenImageVae(read_config(os.path.join(snapshot, "vae"))), os.path.join(snapshot, "vae"))
    return te.eval(), tr.eval(), vae.eval()
