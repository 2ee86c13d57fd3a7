"""Minimal safetensors reader/writer (no external package).

Format: 8-byte little-endian header length, JSON header {name: {dtype, shape, data_offsets:[begin,end]}, optional
"__metadata__"}, then the raw little-endian tensor bytes (offsets relative to the end of the header).
Read: F32, F16, BF16 (BF16 widened to float32), also I64/I32/U8 for completeness. Write: F32, F16.
"""
import json
import struct

import numpy as np
import torch

_NP = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32,
       "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


def read_header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n).decode("utf-8"))
    header.pop("__metadata__", None)
    return header


def load(path, as_torch=True):
    """Returns {name: tensor} (torch tensors by default; BF16 becomes float32)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n).decode("utf-8"))
        data = f.read()
    header.pop("__metadata__", None)
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        raw = data[b:e]
        shape = tuple(info["shape"])
        dt = info["dtype"]
        if dt == "BF16":
            u16 = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            arr = u16.view(np.float32).reshape(shape)
        elif dt in _NP:
            arr = np.frombuffer(raw, dtype=np.dtype(_NP[dt]).newbyteorder("<")).reshape(shape).copy()
        else:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {dt}")
        out[name] = torch.from_numpy(np.ascontiguousarray(arr)) if as_torch else arr
    return out


def save(tensors, path, dtype="F32", metadata=None):
    """Writes {name: tensor/array} with float tensors stored as dtype ('F32' or 'F16'); names sorted."""
    if dtype not in ("F32", "F16"):
        raise ValueError("write supports F32 and F16 only")
    header = {}
    blobs = []
    off = 0
    for name in sorted(tensors):
        t = tensors[name]
        a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
        if a.dtype.kind == "f":
            a = a.astype(np.float32 if dtype == "F32" else np.float16)
            dt = dtype
        elif a.dtype == np.int64:
            dt = "I64"
        elif a.dtype == np.int32:
            dt = "I32"
        else:
            raise ValueError(f"tensor {name}: unsupported dtype {a.dtype}")
        raw = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)  # align data to 8 bytes, as the reference writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for raw in blobs:
            f.write(raw)
