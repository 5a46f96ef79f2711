# SPDX-License-Identifier: MIT
"""Minimal safetensors reading and writing with numpy only.

A safetensors file is an 8-byte little-endian header length N, N bytes of
JSON ({name: {"dtype", "shape", "data_offsets": [begin, end]}, optional
"__metadata__"}), then the data; offsets are relative to the data start.
Only F32 and BF16 are produced or converted here (BF16 is the upper half of
a binary32, rounded to nearest even).
"""
import json
import os
import struct

import numpy as np

DTYPE_SIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4,
              "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


class FormatError(Exception):
    """A malformed checkpoint; the message names the file and tensor."""


def f32_to_bf16_bits(a):
    """binary32 -> bfloat16 bits (uint16), round to nearest even."""
    bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    nan = (bits & 0x7fffffff) > 0x7f800000
    rounded = (bits + 0x7fff + ((bits >> 16) & 1)) >> 16
    rounded = np.where(nan, (bits >> 16) | 0x40, rounded)
    return rounded.astype(np.uint16)


def bf16_bits_to_f32(b):
    """bfloat16 bits (uint16) -> binary32, exactly."""
    return (np.asarray(b, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def round_to_bf16(a):
    """The binary32 values a BF16 store keeps."""
    return bf16_bits_to_f32(f32_to_bf16_bits(a))


def write(path, tensors, dtype="F32", metadata=None):
    """Write {name: float array} as one safetensors file of @dtype."""
    header = {}
    blobs = []
    offset = 0
    for name, arr in tensors.items():
        arr = np.asarray(arr, dtype=np.float32)
        if dtype == "F32":
            raw = arr.astype("<f4").tobytes()
        elif dtype == "BF16":
            raw = f32_to_bf16_bits(arr).astype("<u2").tobytes()
        else:
            raise ValueError("unsupported dtype " + dtype)
        header[name] = {"dtype": dtype, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def read_header(path):
    """The parsed JSON header and the data start offset, checked."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise FormatError("%s: truncated: no header length" % path)
        (n,) = struct.unpack("<Q", head)
        if n < 2 or n > size - 8 or n > (100 << 20):
            raise FormatError("%s: header length %d does not fit in the file (%d bytes)"
                              % (path, n, size))
        try:
            header = json.loads(f.read(n).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise FormatError("%s: header is not valid JSON: %s" % (path, e))
    if not isinstance(header, dict):
        raise FormatError("%s: header is not a JSON object" % path)
    data_len = size - 8 - n
    spans = []
    for name, ent in header.items():
        if name == "__metadata__":
            continue
        try:
            dt = ent["dtype"]
            shape = [int(d) for d in ent["shape"]]
            b, e = (int(v) for v in ent["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise FormatError("%s: tensor '%s': bad entry" % (path, name))
        if b < 0 or e < b or e > data_len:
            raise FormatError("%s: tensor '%s': data_offsets [%d, %d] outside the data (%d bytes)"
                              % (path, name, b, e, data_len))
        if dt in DTYPE_SIZE and e - b != int(np.prod(shape, dtype=np.int64)) * DTYPE_SIZE[dt]:
            raise FormatError("%s: tensor '%s': %d bytes do not match shape %s of %s"
                              % (path, name, e - b, shape, dt))
        spans.append((b, e, name))
    spans.sort()
    for (b0, e0, n0), (b1, _, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise FormatError("%s: tensors '%s' and '%s' overlap" % (path, n0, n1))
    return header, 8 + n


class Checkpoint:
    """Every tensor of the *.safetensors files of a directory, by name."""

    def __init__(self, directory):
        self.where = {}
        files = sorted(f for f in os.listdir(directory) if f.endswith(".safetensors"))
        if not files:
            raise FormatError("%s: no *.safetensors file" % directory)
        for fname in files:
            path = os.path.join(directory, fname)
            header, start = read_header(path)
            for name, ent in header.items():
                if name == "__metadata__":
                    continue
                if name in self.where:
                    raise FormatError("tensor '%s' is in both %s and %s"
                                      % (name, self.where[name][0], path))
                self.where[name] = (path, start, ent)

    def __contains__(self, name):
        return name in self.where

    def get(self, name, shape):
        """Tensor @name as float32, checked against @shape."""
        if name not in self.where:
            raise FormatError("missing tensor '%s'" % name)
        path, start, ent = self.where[name]
        if list(ent["shape"]) != list(shape):
            raise FormatError("tensor '%s': shape %s, expected %s"
                              % (name, list(ent["shape"]), list(shape)))
        b, e = ent["data_offsets"]
        with open(path, "rb") as f:
            f.seek(start + b)
            raw = f.read(e - b)
        if len(raw) != e - b:
            raise FormatError("%s: tensor '%s': file truncated" % (path, name))
        if ent["dtype"] == "F32":
            arr = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        elif ent["dtype"] == "BF16":
            arr = bf16_bits_to_f32(np.frombuffer(raw, dtype="<u2"))
        else:
            raise FormatError("tensor '%s': dtype %s not supported (F32 or BF16)"
                              % (name, ent["dtype"]))
        return arr.reshape(shape)
