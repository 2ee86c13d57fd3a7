#!/usr/bin/env python3
"""Developer tool: writes the image-input goldens of dev.ditfn.engine.image under
src/test/resources/edit-goldens/. Needs Pillow (Debian: apt-get install python3-pil); the
Java tests read only the files written here and never run Python.

Inputs are deterministic drawings (gradients + shapes). For each resize case the input and
PIL's output are stored as 8-bit RGB PNG (lossless). Decode cases store the encoded file and
the RGB PIL gives after ImageOps.exif_transpose + convert("RGB") (what diffusers' load_image
does). cases.json lists every case.
"""
import io, json, os, struct, sys, zlib
import PIL
from PIL import Image, ImageDraw, ImageOps

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "src", "test", "resources", "edit-goldens")
os.makedirs(OUT, exist_ok=True)


def drawing(w, h, seed):
    im = Image.new("RGB", (w, h))
    px = im.load()
    for y in range(h):
        for x in range(w):
            px[x, y] = ((x * 255) // max(1, w - 1), (y * 255) // max(1, h - 1),
                        ((x + y) * 7 + seed * 40) % 256)
    d = ImageDraw.Draw(im)
    d.rectangle([w // 5, h // 4, w // 2, h // 2], fill=(250, 20, 30))
    d.ellipse([w // 2, h // 3, w - 3, h - 2], outline=(0, 0, 0), fill=(30, 200, 90))
    d.line([0, h - 1, w - 1, 0], fill=(255, 255, 255), width=1)
    return im


def save_png(im, name):
    im.save(os.path.join(OUT, name), format="PNG", optimize=True)


cases = {"pillow": PIL.__version__, "resize": [], "decode": []}

# --- resize cases: (input, filter, out_w, out_h) -------------------------------------------
FILTERS = {"lanczos": Image.LANCZOS, "bicubic": Image.BICUBIC}
big = drawing(300, 170, 1)
small = drawing(37, 23, 2)
save_png(big, "in_300x170.png")
save_png(small, "in_37x23.png")
# Edit Plus condition image of a 300x170 input: calculate_dimensions(384*384, 300/170) = 512x288
# (Lanczos, stored as out_300x170_lanczos_512x288.png); its VL resize smart_resize(288, 512) = 280x504 (bicubic, done on PIL's Lanczos output).
cond = big.resize((512, 288), Image.LANCZOS)
jobs = [
    ("in_300x170.png", big, "lanczos", 512, 288),
    ("in_300x170.png", big, "bicubic", 512, 288),
    ("in_300x170.png", big, "lanczos", 97, 55),
    ("in_300x170.png", big, "bicubic", 97, 55),
    ("in_37x23.png", small, "lanczos", 59, 41),
    ("in_37x23.png", small, "bicubic", 59, 41),
    ("in_37x23.png", small, "lanczos", 32, 32),
    ("in_37x23.png", small, "bicubic", 28, 56),
]
for src_name, src, f, w, h in jobs:
    out = src.resize((w, h), FILTERS[f])
    name = "out_%s_%s_%dx%d.png" % (src_name[3:-4], f, w, h)
    save_png(out, name)
    cases["resize"].append({"input": src_name, "filter": f, "width": w, "height": h, "expected": name})
vl = cond.resize((504, 280), Image.BICUBIC)
save_png(vl, "out_cond_bicubic_504x280.png")
cases["resize"].append({"input": "out_300x170_lanczos_512x288.png", "filter": "bicubic", "width": 504, "height": 280,
                        "expected": "out_cond_bicubic_504x280.png"})


# --- decode cases -----------------------------------------------------------------------
def decode_case(name, data, note):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    im = Image.open(io.BytesIO(data))
    im = ImageOps.exif_transpose(im)
    rgb = im.convert("RGB")
    exp = name.rsplit(".", 1)[0] + ".expected.png"
    save_png(rgb, exp)
    cases["decode"].append({"file": name, "expected": exp, "width": rgb.width, "height": rgb.height,
                            "mode": Image.open(io.BytesIO(data)).mode, "note": note})


def encoded(im, fmt, **kw):
    b = io.BytesIO()
    im.save(b, format=fmt, **kw)
    return b.getvalue()


base = drawing(61, 37, 3)
decode_case("rgb.png", encoded(base, "PNG"), "8-bit RGB PNG")
rgba = base.convert("RGBA")
a = Image.new("L", base.size)
a.putdata([(x * 255) // 60 if y < 30 else 0 for y in range(37) for x in range(61)])
rgba.putalpha(a)
decode_case("rgba.png", encoded(rgba, "PNG"),
            "RGBA PNG; rows >= 30 fully transparent but keep their colours; PIL convert(RGB) drops alpha")
decode_case("palette.png", encoded(base.quantize(colors=16), "PNG"), "palette PNG, 16 colours")
decode_case("gray.png", encoded(base.convert("L"), "PNG"), "8-bit grayscale PNG")
decode_case("base.jpg", encoded(base, "JPEG", quality=90), "baseline JPEG 4:2:0, no EXIF")
for o in range(2, 9):
    ex = Image.Exif()
    ex[0x0112] = o
    decode_case("orient%d.jpg" % o, encoded(base, "JPEG", quality=90, exif=ex.tobytes()),
                "JPEG with EXIF orientation %d" % o)
decode_case("gray_jpeg.jpg", encoded(base.convert("L"), "JPEG", quality=90), "grayscale JPEG")
# CMYK JPEG (Adobe APP14): PIL converts it, the JDK reader cannot; stored for the refusal test only.
with open(os.path.join(OUT, "cmyk.jpg"), "wb") as f:
    f.write(encoded(base.convert("CMYK"), "JPEG", quality=90))
decode_case("lossless.webp", encoded(base, "WEBP", lossless=True), "lossless WebP")
decode_case("lossy.webp", encoded(base, "WEBP", quality=90), "lossy WebP (VP8)")


# 16-bit RGB PNG written by hand (Pillow cannot write RGB;16). PIL reads it as RGB keeping the
# high byte of each sample; the expected file is what PIL gives.
def png_chunk(t, body):
    return struct.pack(">I", len(body)) + t + body + struct.pack(">I", zlib.crc32(t + body) & 0xffffffff)


w16, h16 = 19, 11
raw = b""
for y in range(h16):
    raw += b"\0"
    for x in range(w16):
        for c in range(3):
            v = (x * 3001 + y * 977 + c * 20011) % 65536
            raw += struct.pack(">H", v)
png16 = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w16, h16, 16, 2, 0, 0, 0))
         + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b""))
decode_case("rgb16.png", png16, "16-bit RGB PNG (hand-written); PIL keeps the high byte")

with open(os.path.join(OUT, "cases.json"), "w") as f:
    json.dump(cases, f, indent=1)
print("wrote", OUT)


# --- Qwen2-VL patch layout ------------------------------------------------------------------
# Upstream: patches [T=2, C=3, H, W] (frame repeated) .reshape(gt, tp, c, gh/m, m, p, gw/m, m, p)
# .permute(0, 3, 6, 4, 7, 2, 1, 5, 8).reshape(gt*gh*gw, c*tp*p*p). Done here with a generic
# reshape/permute on flat indices; the golden stores, for every 7th flat output position, the
# index c*H*W + y*W + x of the source pixel (the temporal copy t is dropped: both frames equal).
def permuted_sources(H, W, p=14, m=2, tp=2, C=3):
    gh, gw = H // p, W // p
    shape = [1, tp, C, gh // m, m, p, gw // m, m, p]
    perm = [0, 3, 6, 4, 7, 2, 1, 5, 8]
    out_shape = [shape[i] for i in perm]
    strides = [0] * 9
    s = 1
    for i in range(8, -1, -1):
        strides[i] = s
        s *= shape[i]
    total = s
    result = []
    for flat in range(total):
        rem = flat
        idx = [0] * 9
        for i in range(8, -1, -1):
            idx[i] = rem % out_shape[i]
            rem //= out_shape[i]
        src = sum(idx[k] * strides[perm[k]] for k in range(9))  # flat index into [1, tp, C, H, W]
        chw = src % (C * H * W)  # drop the temporal copy
        result.append(chw)
    return result


src = permuted_sources(28, 56)
cases["patches_56x28"] = {"width": 56, "height": 28, "stride": 7, "rows": 8, "cols": 1176,
                          "source_chw_index": src[::7]}
with open(os.path.join(OUT, "cases.json"), "w") as f:
    json.dump(cases, f, indent=1)
