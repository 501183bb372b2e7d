#!/usr/bin/python3
"""Write the seed corpus of the safetensors fuzz target (fuzz/corpus/): valid files for the
target's networks and trainer, in every dtype the loader converts, and broken variants of them
(truncated, wrong lengths, malformed JSON, bad offsets, wrong dtypes and shapes, missing and extra
tensors). Deterministic; needs only the standard library.

    /usr/bin/python3 fuzz/make_corpus.py
"""

import json
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")

ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64",
         "I64", "U64"]
SIZE = {"F16": 2, "BF16": 2, "F32": 4, "F64": 8, "I64": 8, "I32": 4, "U8": 1}


def encode(dtype, values):
    if dtype == "F32":
        return struct.pack("<%df" % len(values), *values)
    if dtype == "F64":
        return struct.pack("<%dd" % len(values), *values)
    if dtype == "F16":
        return struct.pack("<%de" % len(values), *values)
    if dtype == "BF16":  # the top 16 bits of the float
        return b"".join(struct.pack("<f", v)[2:] for v in values)
    if dtype == "I64":
        return struct.pack("<%dq" % len(values), *[int(v) for v in values])
    raise ValueError(dtype)


def serialize(tensors, metadata=None):
    """tensors: {name: (dtype, shape, values)}, written like safetensors.torch.save_file."""
    items = sorted(tensors.items(), key=lambda kv: kv[0])
    items.sort(key=lambda kv: ORDER.index(kv[1][0]), reverse=True)
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, values) in items:
        data = encode(dtype, values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def values(rng, n):
    return [rng.uniform(-2, 2) for _ in range(n)]


def float_net(rng, dtype="F32"):
    return {"0.weight": (dtype, [4, 3], values(rng, 12)), "0.bias": (dtype, [4], values(rng, 4)),
            "1.weight": (dtype, [2, 4], values(rng, 8)), "1.bias": (dtype, [2], values(rng, 2))}


def double_net(rng):
    return {"0.0.weight": ("F64", [3, 3], values(rng, 9)), "0.0.bias": ("F64", [3], values(rng, 3)),
            "0.1.weight": ("F64", [3, 3], values(rng, 9)), "0.1.bias": ("F64", [3], values(rng, 3)),
            "1.weight": ("F64", [2, 3], values(rng, 6))}


def trainer(rng):
    t = float_net(rng)
    for array in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
        for name, (dtype, shape, v) in float_net(rng).items():
            t[f"optimizer.{array}.{name}"] = (dtype, shape, [abs(x) for x in v])
    t["trainer.step"] = ("I64", [], [7])
    t["trainer.rng"] = ("I64", [], [-1234567890123])
    return t


def split(b):
    n = struct.unpack("<Q", b[:8])[0]
    return b[8:8 + n].decode(), b[8 + n:]


def edit(header, old, new):
    assert old in header, old
    return header.replace(old, new, 1)


def join(header, data, length=None):
    h = header.encode() if isinstance(header, str) else header
    return struct.pack("<Q", len(h) if length is None else length) + h + data


def main():
    rng = random.Random(5)
    files = {
        "valid_f32": serialize(float_net(rng)),
        "valid_f16": serialize(float_net(rng, "F16")),
        "valid_bf16": serialize(float_net(rng, "BF16")),
        "valid_f64": serialize(float_net(rng, "F64")),
        "valid_double_net": serialize(double_net(rng)),
        "valid_trainer": serialize(trainer(rng)),
        "valid_metadata": serialize(float_net(rng), {"format": "pt"}),
        "valid_extra_tensor": serialize({**float_net(rng), "2.weight": ("F32", [1, 2], [1.0, 2.0])}),
        "valid_empty": serialize({}),
        "valid_specials": serialize({k: (d, s, ([float("nan"), float("inf"), -0.0, 1e-40] * 3)[:len(v)])
                                     for k, (d, s, v) in float_net(rng).items()}),
    }
    good = files["valid_f32"]
    header, data = split(good)
    files.update({
        "bad_empty_file": b"",
        "bad_short": good[:5],
        "bad_length_too_large": join(header, data, len(header) + len(data) + 1),
        "bad_length_huge": join(header, data, 1 << 63),
        "bad_truncated_data": good[:-3],
        "bad_trailing_bytes": good + b"\0\0\0\0",
        "bad_json": join(edit(header, "}}", "]}"), data),
        "bad_json_nul": join(header.rstrip() + "\0", data),
        "bad_not_object": join("[1,2,3] ", b""),
        "bad_unknown_dtype": join(edit(header, '"F32"', '"F33"'), data),
        "bad_dtype_i32": join(edit(header, '"F32"', '"I32"'), data),
        "bad_shape_negative": join(edit(header, '"shape":[4]', '"shape":[-4]'), data),
        "bad_shape_swapped": join(edit(header, '"shape":[4,3]', '"shape":[3,4]'), data),
        "bad_shape_overflow": join(edit(header, '"shape":[4]', '"shape":[4294967296,4294967296,4]'), data),
        "bad_offsets_outside": join(edit(header, '"data_offsets":[0,16]', '"data_offsets":[0,1600]'), data),
        "bad_offsets_reversed": join(edit(header, '"data_offsets":[0,16]', '"data_offsets":[16,0]'), data),
        "bad_offsets_arity": join(edit(header, '"data_offsets":[0,16]', '"data_offsets":[0]'), data),
        "bad_overlap": join('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                            '"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', bytes(12)),
        "bad_gap": join('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                        '"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}', bytes(20)),
        "bad_missing": serialize({k: v for k, v in float_net(rng).items() if k != "1.bias"}),
        "bad_metadata": join(edit(header, "{", '{"__metadata__":{"a":1},'), data),
        "bad_step_dtype": serialize({**trainer(rng), "trainer.step": ("F64", [], [7.0])}),
    })
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.remove(os.path.join(OUT, name))
    for name, b in sorted(files.items()):
        with open(os.path.join(OUT, name + ".safetensors"), "wb") as f:
            f.write(b)
    print(f"make_corpus: {len(files)} files in {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
