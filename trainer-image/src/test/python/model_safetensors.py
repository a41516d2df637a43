"""Safetensors interop with the reference `safetensors` package.

  check FILE  read a file written by our Java writer; print its header facts, the stored values as
              f32 bit patterns, and how many f16/bf16 values differ from torch's rounding of the
              f32 source tensor stored next to them ("<name>.src").
  make FILE   write seeded F32/F16/BF16 tensors (with special values) through safetensors.torch and
              print their values widened to f32, as bit patterns, for the Java reader to match.
"""
import json
import sys

import torch
from safetensors import safe_open
from safetensors.torch import save_file


def bits(t):
    return t.to(torch.float32).contiguous().view(torch.int32).flatten().tolist()


def check(path):
    out = {"tensors": {}}
    with safe_open(path, framework="pt") as f:
        out["metadata"] = f.metadata()
        names = list(f.keys())
        tensors = {n: f.get_tensor(n) for n in names}
    with open(path, "rb") as raw:
        header_len = int.from_bytes(raw.read(8), "little")
        out["header_len"] = header_len
        header = json.loads(raw.read(header_len))
    out["header_keys"] = list(header.keys())
    for name, t in tensors.items():
        entry = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "bits": bits(t)}
        src = tensors.get(name.rsplit(".", 1)[0] + ".src") if not name.endswith(".src") else None
        if src is not None and t.dtype in (torch.float16, torch.bfloat16):
            ref = src.to(t.dtype)
            mine = t.view(torch.int16)
            theirs = ref.view(torch.int16)
            same = (mine == theirs) | (torch.isnan(t) & torch.isnan(ref))
            entry["rounding_mismatches"] = int((~same).sum())
        out["tensors"][name] = entry
    print(json.dumps(out))


def make(path):
    g = torch.Generator().manual_seed(1234)
    special = torch.tensor(
        [0.0, -0.0, 1.0, -2.5, 65504.0, 1e-8, 6.1e-5, 3.0e38, float("inf"), float("-inf"), float("nan")],
        dtype=torch.float32,
    )
    tensors = {
        "f32.matrix": torch.randn(7, 5, generator=g),
        "f16.matrix": (torch.randn(3, 4, 6, generator=g) * 100).to(torch.float16),
        "bf16.matrix": (torch.randn(9, 3, generator=g) * 1e3).to(torch.bfloat16),
        "f16.special": special.to(torch.float16),
        "bf16.special": special.to(torch.bfloat16),
        "f32.special": special.clone(),
        "f32.scalar": torch.tensor(3.25),
        "f32.empty": torch.zeros(0, 4),
    }
    save_file(tensors, path, metadata={"format": "pt", "origin": "python"})
    print(json.dumps({n: {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "bits": bits(t)}
                      for n, t in tensors.items()}))


if __name__ == "__main__":
    {"check": check, "make": make}[sys.argv[1]](sys.argv[2])
