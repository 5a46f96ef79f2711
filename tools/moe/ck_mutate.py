#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Break a generated checkpoint in one precise way, for the host tests of
lpu-compile (tools/tests/lpu-compile-bad-inputs.sh).

  ck_mutate.py DIR drop NAME            remove tensor NAME
  ck_mutate.py DIR shape NAME D0,D1     give NAME another shape, same bytes
  ck_mutate.py DIR dtype NAME F16       store NAME as another dtype
  ck_mutate.py DIR nan NAME             one element of NAME becomes NaN
  ck_mutate.py DIR fill NAME V          every element of NAME becomes V (F32)
  ck_mutate.py DIR offsets NAME B E     set NAME's data_offsets, data kept
  ck_mutate.py DIR overlap NAME OTHER   NAME's offsets = OTHER's
  ck_mutate.py DIR dup NAME             NAME also in the other shard
  ck_mutate.py DIR hlen N               header length field of shard 1 = N
  ck_mutate.py DIR garbage              shard 1's header is not JSON
  ck_mutate.py DIR truncate N           cut N bytes off the end of shard 2
  ck_mutate.py DIR keep N               keep only the first N bytes of shard 2
  ck_mutate.py DIR config KEY JSON      set (or with JSON "DELETE" remove) a
                                        config.json field
  ck_mutate.py DIR config-text TEXT     replace config.json by TEXT
"""
import json
import os
import struct
import sys

import numpy as np


def shards(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".safetensors"))


def load(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def save(path, header, data, exact_header=None):
    text = exact_header if exact_header is not None else json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        f.write(data)


def find(d, name):
    for path in shards(d):
        header, data = load(path)
        if name in header:
            return path, header, data
    raise SystemExit("ck_mutate: no tensor " + name)


def rebuild(path, header, data, changes):
    """Rewrite a shard with some tensors' bytes replaced: {name: (dtype, shape, raw)}."""
    tensors = []
    for name, ent in header.items():
        if name == "__metadata__":
            continue
        b, e = ent["data_offsets"]
        tensors.append((b, name, ent["dtype"], ent["shape"], data[b:e]))
    tensors.sort()
    out_header, blobs, off = {}, [], 0
    for _, name, dt, shape, raw in tensors:
        if name in changes:
            if changes[name] is None:
                continue
            dt, shape, raw = changes[name]
        out_header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    save(path, out_header, b"".join(blobs))


def main(argv):
    d, action, args = argv[0], argv[1], argv[2:]
    if action == "drop":
        path, header, data = find(d, args[0])
        rebuild(path, header, data, {args[0]: None})
    elif action in ("dtype", "nan"):
        path, header, data = find(d, args[0])
        ent = header[args[0]]
        b, e = ent["data_offsets"]
        vals = np.frombuffer(data[b:e], dtype="<f4").copy()
        if action == "nan":
            vals[len(vals) // 2] = np.nan
            raw, dt = vals.tobytes(), "F32"
        else:
            np_dt = {"F16": "<f2", "F64": "<f8", "I8": "i1", "I32": "<i4"}[args[1]]
            raw, dt = vals.astype(np_dt).tobytes(), args[1]
        rebuild(path, header, data, {args[0]: (dt, ent["shape"], raw)})
    elif action == "fill":
        path, header, data = find(d, args[0])
        ent = header[args[0]]
        n = int(np.prod(ent["shape"]))
        raw = np.full(n, float(args[1]), dtype="<f4").tobytes()
        rebuild(path, header, data, {args[0]: ("F32", ent["shape"], raw)})
    elif action == "shape":
        path, header, data = find(d, args[0])
        header[args[0]]["shape"] = [int(v) for v in args[1].split(",")]
        save(path, header, data)
    elif action == "offsets":
        path, header, data = find(d, args[0])
        header[args[0]]["data_offsets"] = [int(args[1]), int(args[2])]
        save(path, header, data)
    elif action == "overlap":
        path, header, data = find(d, args[0])
        other = header[args[1]]
        header[args[0]]["data_offsets"] = list(other["data_offsets"])
        header[args[0]]["shape"] = list(other["shape"])
        save(path, header, data)
    elif action == "dup":
        path, header, data = find(d, args[0])
        ent = header[args[0]]
        b, e = ent["data_offsets"]
        other = [p for p in shards(d) if p != path][0]
        oh, od = load(other)
        oh[args[0]] = {"dtype": ent["dtype"], "shape": ent["shape"],
                       "data_offsets": [len(od), len(od) + e - b]}
        save(other, oh, od + data[b:e])
    elif action == "hlen":
        path = shards(d)[0]
        with open(path, "r+b") as f:
            f.write(struct.pack("<Q", int(args[0])))
    elif action == "garbage":
        path = shards(d)[0]
        header, data = load(path)
        text = json.dumps(header).encode()
        save(path, None, data, exact_header=b"{" + b"x" * (len(text) - 1))
    elif action == "truncate":
        path = shards(d)[-1]
        size = os.path.getsize(path)
        os.truncate(path, size - int(args[0]))
    elif action == "keep":
        os.truncate(shards(d)[-1], int(args[0]))
    elif action == "config":
        p = os.path.join(d, "config.json")
        with open(p) as f:
            cfg = json.load(f)
        if args[1] == "DELETE":
            cfg.pop(args[0], None)
        else:
            cfg[args[0]] = json.loads(args[1])
        with open(p, "w") as f:
            json.dump(cfg, f)
    elif action == "config-text":
        with open(os.path.join(d, "config.json"), "w") as f:
            f.write(args[0])
    else:
        raise SystemExit("ck_mutate: unknown action " + action)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
