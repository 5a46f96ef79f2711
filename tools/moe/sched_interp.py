#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Run an LPU schedule file on the host, instruction by instruction.

A check of lpu-compile's output that needs no card: the program is
executed with the numerics of reference.py (the rules of uapi/lpu_hw.h),
on buffers laid out exactly as the slots say. If the compiler got an
address, a shape, a dtype or the order of the blocks wrong, its outputs
differ from reference.py's, which computes the same model from the
checkpoint without any schedule.

The file is read through `lpu-compile --describe`, which checks it with
the loader's parser and prints it as JSON: opcodes, dtypes, flags, roles
and directions by name, every operand as {slot, offset} (with the scales
of an int8 weight and the parts of a routing table), and the file offset
and length of each slot image. So nothing of the binary format (layouts,
magic, enum values, the address encoding) is written down here; the
headers in uapi/ stay its only definition.

  sched_interp.py SCHEDULE.lpus --input x.npy --out DIR [--lpu-compile PATH]
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reference as ref  # noqa: E402
import safetensors_io  # noqa: E402

# Element types by their uapi names: how numpy holds one element.
NP_DTYPE = {"F32": np.dtype("<f4"), "I32": np.dtype("<i4"),
            "BF16": np.dtype("<u2"), "I8": np.dtype("i1")}
F32, I32 = NP_DTYPE["F32"], NP_DTYPE["I32"]
DEFAULT_COMPILE = os.path.join(HERE, "..", "..", "build", "bin", "lpu-compile")


def fail(msg):
    raise SystemExit("sched_interp: " + msg)


def describe(compiler, path):
    """The schedule as lpu-compile --describe prints it (checked by the
    loader's parser: a refused file stops here with its message)."""
    try:
        r = subprocess.run([compiler, "--describe", path], capture_output=True)
    except OSError as e:
        fail("%s: %s (--lpu-compile PATH)" % (compiler, e.strerror))
    if r.returncode != 0:
        fail("%s --describe %s: exit %d: %s" % (compiler, path, r.returncode,
                                              r.stderr.decode(errors="replace").strip()))
    return json.loads(r.stdout)


class Machine:
    """One bytearray per slot, each starting with its image from the file."""

    def __init__(self, desc, raw):
        self.mem = []
        for s in desc["slots"]:
            buf = bytearray(s["size"])
            init = s["init"]
            if init is not None:
                at, n = init["file_offset"], init["length"]
                if at + n > len(raw):
                    fail("slot %d: image [%d, +%d) beyond the file" % (s["index"], at, n))
                buf[:n] = raw[at:at + n]
            self.mem.append(buf)

    def view(self, op, nbytes):
        if op is None or "slot" not in op:
            fail("operand %s is in no slot" % op)
        slot, off = op["slot"], op["offset"]
        buf = self.mem[slot]
        if off + nbytes > len(buf):
            fail("access slot %d offset %d + %d bytes outside the slot" % (slot, off, nbytes))
        return memoryview(buf)[off:off + nbytes]

    def read(self, op, dtype, shape):
        n = int(np.prod(shape))
        return np.frombuffer(self.view(op, dtype.itemsize * n), dtype=dtype).reshape(shape).copy()

    def f32(self, op, shape):
        return self.read(op, F32, shape)

    def i32(self, op, shape):
        return self.read(op, I32, shape)

    def put(self, op, arr):
        b = np.ascontiguousarray(arr).tobytes()
        self.view(op, len(b))[:] = b

    def weights(self, op, dtype, g, n, k):
        """[g] list of reference Weight-like objects of [n, k]."""
        out = []
        if dtype == "I8":
            if "scales" not in op:
                fail("int8 weight operand %s without scales" % op)
            vals = self.read(op, NP_DTYPE["I8"], (g, n, k))
            scales = self.f32(op["scales"], (g, n))
            for i in range(g):
                w = ref.Weight.__new__(ref.Weight)
                w.dtype, w.q, w.s = "int8", vals[i].astype(np.float64), scales[i]
                w.qt = np.ascontiguousarray(w.q.T)
                out.append(w)
            return out
        if dtype == "BF16":
            bits = self.read(op, NP_DTYPE["BF16"], (g * n * k,))
            arr = safetensors_io.bf16_bits_to_f32(bits).reshape(g, n, k)
        elif dtype == "F32":
            arr = self.f32(op, (g, n, k))
        else:
            fail("weight dtype %s" % dtype)
        for i in range(g):
            w = ref.Weight.__new__(ref.Weight)
            w.dtype, w.w = "f32", arr[i]
            out.append(w)
        return out


def routing(op):
    if op is None or "routing" not in op:
        fail("routing table operand %s without its parts" % op)
    return op["routing"]


def execute(desc, mach):
    for pc, insn in enumerate(desc["program"]):
        op, dt, flags = insn["opcode"], insn["dtype"], insn["flags"]
        d, a = insn["dims"], insn["ops"]
        if op == "COPY":
            mach.view(a[1], d[0])[:] = bytes(mach.view(a[0], d[0]))
        elif op == "MATMUL":
            m_, n_, k_, g_ = d[:4]
            x = mach.f32(a[0], (g_, m_, k_))
            ws = mach.weights(a[1], dt, g_, n_, k_)
            mach.put(a[2], np.stack([ref.matmul(x[i], ws[i]) for i in range(g_)]))
        elif op == "EXPERT_FFN":
            g_, c_, h_, f_ = d[:4]
            x = mach.f32(a[0], (g_, c_, h_))
            w13 = mach.weights(a[1], dt, g_, 2 * f_, h_)
            w2 = mach.weights(a[2], dt, g_, h_, f_)
            if a[4] is not None:
                tok = mach.i32(routing(a[4])["token"], (g_, c_))
            else:
                tok = np.zeros((g_, c_), np.int32)
            out = np.zeros((g_, c_, h_), np.float32)
            for i in range(g_):
                used = tok[i] != -1
                if used.any():
                    out[i][used] = ref.ffn(x[i][used], w13[i], w2[i], f_)
            mach.put(a[3], out)
        elif op == "ADD":
            mach.put(a[2], mach.f32(a[0], (d[0],)) + mach.f32(a[1], (d[0],)))
        elif op == "RMSNORM":
            m_, n_ = d[:2]
            eps = np.float32(insn["epsilon"])
            mach.put(a[2], ref.rmsnorm(mach.f32(a[0], (m_, n_)), mach.f32(a[1], (n_,)), eps))
        elif op == "TOPK":
            t_, e_, k_ = d[:3]
            idx, w = ref.topk(mach.f32(a[0], (t_, e_)), k_, "SIGMOID" in flags,
                              "RENORM" in flags)
            mach.put(a[1], idx.astype(I32))
            mach.put(a[2], w)
        elif op == "DISPATCH":
            t_, h_, e_, k_, c_ = d
            x = mach.f32(a[0], (t_, h_))
            idx, w = mach.i32(a[1], (t_, k_)), mach.f32(a[2], (t_, k_))
            slots, load, dropped = ref.dispatch(idx, w, e_, c_)
            xe = np.zeros((e_, c_, h_), np.float32)
            tok = np.full((e_, c_), -1, np.int32)
            wt = np.zeros((e_, c_), np.float32)
            for e, (ts, ws) in enumerate(slots):
                xe[e, :len(ts)] = x[ts]
                tok[e, :len(ts)] = ts
                wt[e, :len(ts)] = ws
            mach.put(a[3], xe)
            rt = routing(a[4])
            mach.put(rt["token"], tok)
            mach.put(rt["weight"], wt)
            mach.put(rt["load"], load.astype(I32))
            mach.put(rt["dropped"], dropped.astype(I32))
        elif op == "COMBINE":
            t_, h_, e_, c_ = d[:4]
            ye = mach.f32(a[0], (e_, c_, h_))
            rt = routing(a[1])
            tok = mach.i32(rt["token"], (e_, c_))
            wt = mach.f32(rt["weight"], (e_, c_))
            x = mach.f32(a[2], (t_, h_))
            for e in range(e_):
                used = tok[e] != -1
                x[tok[e][used]] = x[tok[e][used]] + wt[e][used][:, None] * ye[e][used]
            mach.put(a[2], x)
        else:
            fail("instruction %d: opcode %s not emitted by lpu-compile" % (pc, op))


def tensor_op(desc, io):
    t = desc["tensors"][io["tensor"]]
    return t, {"slot": t["slot"], "offset": t["offset"]}


def main(argv):
    p = argparse.ArgumentParser(description="run an LPU schedule on the host")
    p.add_argument("schedule")
    p.add_argument("--input", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--lpu-compile", default=os.environ.get("LPU_COMPILE", DEFAULT_COMPILE),
                   help="the lpu-compile that reads the file (default: build/bin/lpu-compile "
                   "of this tree, or $LPU_COMPILE)")
    a = p.parse_args(argv)
    desc = describe(a.lpu_compile, a.schedule)
    with open(a.schedule, "rb") as f:
        raw = f.read()
    mach = Machine(desc, raw)
    x = np.load(a.input).astype(np.float32)
    for io in desc["io"]:
        if io["direction"] == "INPUT":
            t, op = tensor_op(desc, io)
            if x.shape != tuple(t["shape"]):
                fail("input %s is %s, not %s" % (t["name"], x.shape, t["shape"]))
            mach.put(op, x)
    execute(desc, mach)
    os.makedirs(a.out, exist_ok=True)
    for io in desc["io"]:
        if io["direction"] == "OUTPUT":
            t, op = tensor_op(desc, io)
            if t["dtype"] not in ("F32", "I32"):
                fail("output %s of dtype %s" % (t["name"], t["dtype"]))
            arr = mach.read(op, NP_DTYPE[t["dtype"]], tuple(t["shape"]))
            np.save(os.path.join(a.out, t["name"] + ".npy"), arr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
