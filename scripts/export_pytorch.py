#!/usr/bin/python3
"""Train a small model in PyTorch and export it for ctnn, in the safetensors format.

    /usr/bin/python3 scripts/export_pytorch.py            # (re)write the files below
    /usr/bin/python3 scripts/export_pytorch.py --check    # exit 1 if a committed file differs

Writes (the tests and examples only read these committed files; CI needs no torch):

  examples/data/pytorch_interop.safetensors     model.state_dict() of the trained nn.Sequential
  examples/data/pytorch_interop_io.safetensors  "inputs" [64, 3] (F32), PyTorch's "outputs" [64, 2]
                                                for them (F32), and "outputs_f64" (F64) from
                                                model.double() on the same inputs
  tests/reference/safetensors/*.safetensors     conversion references: a state dict with special
                                                values stored as F16 / BF16 / F64, and PyTorch's
                                                conversion of it to F32 (and of F16/BF16 to F64)

The model is the ctnn network
    ctnn::network<float, ctnn::input<3>, ctnn::dense<16>, ctnn::batch_norm, ctnn::tanh,
                  ctnn::dense<16>, ctnn::gelu, ctnn::dropout<0.1>, ctnn::dense<2>>
trained by Adam to fit y = (sin(x0) + x1 x2, cos(x1) - x0^2 / 2) on x uniform in [-1.5, 1.5]^3.
Its state dict has parameters and buffers, including batch norm's int64 num_batches_tracked.

The `safetensors` package is not in Debian, so save_file below writes the format itself, exactly as
safetensors.torch.save_file does: 8-byte little-endian header length; a compact JSON header mapping
each name to {"dtype", "shape", "data_offsets"}, with the tensors sorted by descending dtype (the
order of the format's Dtype enum) and then by name; the header padded with spaces to a multiple of
8 bytes; then the tensors' little-endian bytes in that order. ctnn's save_safetensors writes the
same bytes for the same tensors (a test checks it on the exported file).

The output is deterministic (fixed seeds, one thread).
"""

import argparse
import json
import math
import os
import struct
import sys
import tempfile

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))

# The Dtype enum of the safetensors format, in its order (the writer sorts by it, descending).
DTYPE_ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32",
               "F32", "F64", "I64", "U64"]
TORCH_DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16",
                torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8",
                torch.int8: "I8", torch.int16: "I16", torch.bool: "BOOL"}


def tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.view(torch.int16)  # numpy has no bfloat16: move the 16-bit patterns
    a = t.numpy()
    return a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()


def serialize(tensors):
    """The bytes safetensors.torch.save_file(tensors, path) writes (no metadata)."""
    items = sorted(tensors.items(), key=lambda kv: kv[0])
    items.sort(key=lambda kv: DTYPE_ORDER.index(TORCH_DTYPES[kv[1].dtype]), reverse=True)  # stable
    header, chunks, offset = {}, [], 0
    for name, t in items:
        data = tensor_bytes(t)
        header[name] = {"dtype": TORCH_DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def self_test():
    """serialize() against the byte layouts the format's reference implementation pins in its
    own tests: the header length, the compact JSON, the space padding, the data."""
    data = torch.arange(6, dtype=torch.float32)
    out = serialize({"attn.0": data.reshape(1, 2, 3)})
    header = b'{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}'
    assert out == struct.pack("<Q", 64) + header + data.numpy().tobytes(), out
    out = serialize({"attn0": data.reshape(1, 1, 2, 3)})
    header = b'{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}' + b" " * 7
    assert out == struct.pack("<Q", 72) + header + data.numpy().tobytes(), out
    assert serialize({}) == struct.pack("<Q", 8) + b"{}" + b" " * 6


def build_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 16), nn.BatchNorm1d(16), nn.Tanh(), nn.Linear(16, 16), nn.GELU(),
                         nn.Dropout(0.1), nn.Linear(16, 2))


def target(x):
    return torch.stack([torch.sin(x[:, 0]) + x[:, 1] * x[:, 2], torch.cos(x[:, 1]) - x[:, 0] ** 2 / 2], dim=1)


def train(model):
    g = torch.Generator().manual_seed(1)
    x = torch.rand(512, 3, generator=g) * 3 - 1.5
    y = target(x)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for epoch in range(300):
        perm = torch.randperm(512, generator=g)
        for b in range(0, 512, 64):
            idx = perm[b:b + 64]
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        return nn.functional.mse_loss(model(x), y).item()


def interop_files():
    model = build_model()
    loss = train(model)
    model.eval()
    g = torch.Generator().manual_seed(2)
    inputs = torch.rand(64, 3, generator=g) * 3 - 1.5
    with torch.no_grad():
        outputs = model(inputs)
        outputs_f64 = model.double()(inputs.double())
    model.float()
    print(f"export_pytorch: trained, final mse {loss:.3g}", file=sys.stderr)
    return {
        "examples/data/pytorch_interop.safetensors": model.state_dict(),
        "examples/data/pytorch_interop_io.safetensors":
            {"inputs": inputs, "outputs": outputs, "outputs_f64": outputs_f64},
    }


def conversion_files():
    """A state dict for ctnn::network<T, input<3>, dense<4>, dense<2>> full of values that test
    the conversions: specials, subnormals of each format, values that round, overflow, underflow."""
    g = torch.Generator().manual_seed(3)
    shapes = {"0.weight": (4, 3), "0.bias": (4,), "1.weight": (2, 4), "1.bias": (2,)}
    special = [math.inf, -math.inf, math.nan, -0.0, 0.0, 1.0, -2.5, 65504.0, 70000.0, 1e-5, 6e-8,
               -3e-8, 1e-40, 3.4e38, 1e39, 1e-300, 0.1, 1 / 3, 2 ** -149, 2 ** -126 * 0.75]
    out = {}
    for base in ("f16", "bf16", "f64"):
        values = {}
        k = 0
        for name, shape in shapes.items():
            n = math.prod(shape)
            v = torch.randn(n, generator=g, dtype=torch.float64) * 10
            for i in range(n):
                if (k + i) % 2 == 0:
                    v[i] = special[((k + i) // 2) % len(special)]
            k += n
            values[name] = v.reshape(shape)
        if base == "f64":
            out["f64.safetensors"] = values
            out["f64_as_f32.safetensors"] = {n: t.float() for n, t in values.items()}
        else:
            low = torch.float16 if base == "f16" else torch.bfloat16
            stored = {n: t.float().to(low) for n, t in values.items()}
            out[f"{base}.safetensors"] = stored
            out[f"{base}_as_f32.safetensors"] = {n: t.float() for n, t in stored.items()}
            out[f"{base}_as_f64.safetensors"] = {n: t.double() for n, t in stored.items()}
    return {os.path.join("tests/reference/safetensors", n): v for n, v in out.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    args = ap.parse_args()
    torch.set_num_threads(1)
    self_test()
    files = {**interop_files(), **conversion_files()}
    stale = []
    for rel, tensors in files.items():
        data = serialize(tensors)
        path = os.path.join(ROOT, rel)
        if args.check:
            with open(path, "rb") as f:
                if f.read() != data:
                    stale.append(rel)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        print(f"export_pytorch: wrote {rel} ({len(data)} bytes)", file=sys.stderr)
    if stale:
        print("export_pytorch: stale: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
