#!/usr/bin/env python3
"""Asks a running dit-fn for captions and writes them side by side, each picture above its caption (README's
example picture).

usage: /usr/bin/python3 tools/train/examples.py --out docs/images/embedded-model.png [--url http://localhost:8080]
       [--seed 1] [--scale 2] "caption" ...
"""
import argparse
import base64
import io
import json
import textwrap
import urllib.request

from PIL import Image, ImageDraw


def generate(url, caption, seed):
    body = json.dumps({"prompt": caption, "seed": seed}).encode()
    request = urllib.request.Request(url + "/generate", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as r:
        answer = json.load(r)
    return Image.open(io.BytesIO(base64.b64decode(answer["data"][0]["b64_json"]))).convert("RGB")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--url", default="http://localhost:8080")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scale", type=int, default=2)
    ap.add_argument("captions", nargs="+")
    a = ap.parse_args()
    pictures = [generate(a.url, c, a.seed) for c in a.captions]
    side = pictures[0].width * a.scale
    lines = [textwrap.wrap(c, width=max(12, side // 6)) for c in a.captions]
    text_height = 12 * max(len(l) for l in lines) + 6
    sheet = Image.new("RGB", (len(pictures) * (side + 8) + 8, side + text_height + 16), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (picture, caption_lines) in enumerate(zip(pictures, lines)):
        x = 8 + i * (side + 8)
        sheet.paste(picture.resize((side, side), Image.NEAREST), (x, 8))
        for j, line in enumerate(caption_lines):
            draw.text((x, side + 12 + 12 * j), line, fill="black")
    sheet.save(a.out)
    print("wrote", a.out)


if __name__ == "__main__":
    main()
