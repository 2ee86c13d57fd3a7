"""Self-checks without Java traces: names/shapes vs a Java-written snapshot, save/load round trip, packing,
schedule, uint8 rounding, text-padding invariance. usage: /usr/bin/python3 tools/train/selftest.py SNAPSHOT_DIR"""
import sys, os, torch
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
torch.set_num_threads(2)
import qwen_tiny as q, safetensors_io as s
snap = sys.argv[1]
for comp, cls in [('text_encoder', q.QwenTextEncoder), ('transformer', q.QwenImageTransformer), ('vae', q.QwenImageVae)]:
    d = os.path.join(snap, comp)
    m = cls(q.read_config(d))
    mine = {k: list(v.shape) for k, v in q.export_state(m).items()}
    theirs = {}
    import glob
    for p in glob.glob(d + '/*.safetensors'):
        theirs.update({k: v['shape'] for k, v in s.read_header(p).items()})
    miss = sorted(set(theirs) - set(mine)); extra = sorted(set(mine) - set(theirs))
    bad = [(k, mine[k], theirs[k]) for k in mine if k in theirs and mine[k] != theirs[k]]
    print(comp, len(mine), len(theirs), 'missing', miss[:5], 'extra', extra[:5], 'bad', bad[:5])
    q.load_component(m, d)
    st = q.export_state(m)
    ref = s.load(glob.glob(d + '/*.safetensors')[0])
    diffs = [k for k in ref if k in st and not (('time_conv' in k) or torch.equal(st[k], ref[k]))]
    print('  round trip differs (non-time_conv; VAE causal convs expected: only the last time tap is kept):', len(diffs))
print(q.flow_sigmas(4, 4096))
s50 = q.flow_sigmas(50, 4096); print(s50[:3], s50[-4:])
# pack vs Java index formula
C,h,w=3,4,6; z=torch.arange(C*h*w).float().view(1,C,h,w); p=q.pack(z)[0].reshape(-1).numpy()
ref=np.zeros(C*h*w)
w2=w//2
for ch in range(C):
  for y in range(h):
    for x in range(w):
      ref[((y//2)*w2+x//2)*C*4+ch*4+(y%2)*2+(x%2)] = (ch*h+y)*w+x
print('pack ok', np.array_equal(ref,p), torch.equal(q.unpack(q.pack(z),h,w),z))
print('uint8', q.to_uint8(torch.tensor([[[[-1.0, 1.0, 0.0, 1/255-1, 2.0, float('nan')]]]]).expand(1,3,1,6)))
# mask test: padded text must not change output
te, tr, vae = q.load_snapshot(sys.argv[1])
torch.manual_seed(0)
img = torch.randn(2, 16, 64); txt = torch.randn(2, 7, 32); sig = torch.tensor([0.7, 0.3])
m = torch.ones(2, 7, dtype=torch.bool); m[1, 5:] = False
with torch.no_grad():
    v = tr(img, txt, m, sig, (4, 4))
    v1 = tr(img[1:], txt[1:, :5], None, sig[1:], (4, 4))
    print('mask diff', (v[1] - v1[0]).abs().max().item())
    ids = [list(range(40)), list(range(3, 50))]
    e, mk = q.prompt_embeds(te, ids)
    e1, _ = q.prompt_embeds(te, [ids[0]])
    print('te pad diff', (e[0, :6] - e1[0]).abs().max().item(), e.shape, mk.sum(1))
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    mu, lv = vae.encode(x); print('vae enc', mu.shape, lv.shape, vae.decode(mu).shape)
