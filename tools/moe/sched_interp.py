#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Run an LPU schedule file on the host, instruction by instruction.

A check of lpu-compile's output that needs no card: the program is read
from the file and executed with the numerics of reference.py (the rules of
uapi/lpu_hw.h), on buffers laid out exactly as the slots say. If the
compiler got an address, a shape, a dtype or the order of the blocks wrong,
its outputs differ from reference.py's, which computes the same model from
the checkpoint without any schedule.

  sched_interp.py SCHEDULE.lpus --input x.npy --out DIR
"""
import argparse
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as ref  # noqa: E402
import safetensors_io  # noqa: E402

F32, I32 = np.dtype("<f4"), np.dtype("<i4")
DT_F32, DT_BF16, DT_I8, DT_I32 = 1, 2, 3, 4
SLOT_SHIFT = 32


class Schedule:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.raw = f.read()
        r = self.raw
        if r[:8] != b"LPUSCHED":
            raise SystemExit("sched_interp: %s: not a schedule" % path)
        nsec, table = struct.unpack_from("<IQ", r, 28)
        self.sec = {}
        for i in range(nsec):
            typ, _, off, size, _ = struct.unpack_from("<IIQQI", r, table + 32 * i)
            self.sec[typ] = (i, off, size)
        _, off, _ = self.sec[1]
        m = struct.unpack_from("<16I2Q", r, off)
        keys = ("arch blocks hidden ffn experts top_k num_shared shared_ffn tokens "
                "capacity weight_dtype act_dtype router_flags rms_eps capacity_factor "
                "insn_count program stats").split()
        self.m = dict(zip(keys, m))
        _, off, size = self.sec[2]
        self.slots = [struct.unpack_from("<QIIIIQ", r, off + 32 * i) for i in range(size // 32)]
        _, off, size = self.sec[3]
        self.tensors = []
        for i in range(size // 96):
            name = r[off + 96 * i:off + 96 * i + 48].split(b"\0")[0].decode()
            slot, dt, toff, nbytes, rank = struct.unpack_from("<IIQQI", r, off + 96 * i + 48)
            shape = struct.unpack_from("<4I", r, off + 96 * i + 76)[:rank]
            self.tensors.append((name, slot, dt, toff, nbytes, shape))
        _, off, size = self.sec[4]
        self.program = [struct.unpack_from("<BBH5I5Q", r, off + 64 * i) for i in range(size // 64)]
        _, off, size = self.sec[5]
        self.io = [struct.unpack_from("<4I", r, off + 16 * i) for i in range(size // 16)]


class Machine:
    def __init__(self, s):
        self.mem = []
        index_of = {sec[0]: typ for typ, sec in s.sec.items()}
        for size, _, _, init, _, init_off in s.slots:
            buf = bytearray(size)
            if init != 0xffffffff:
                _, off, sec_size = s.sec[index_of[init]]
                n = min(size, sec_size - init_off)
                buf[:n] = s.raw[off + init_off:off + init_off + n]
            self.mem.append(buf)

    def view(self, addr, nbytes):
        slot, off = (addr >> SLOT_SHIFT) - 1, addr & 0xffffffff
        buf = self.mem[slot]
        if off + nbytes > len(buf):
            raise SystemExit("sched_interp: access 0x%x + %d outside slot %d" % (addr, nbytes, slot))
        return memoryview(buf)[off:off + nbytes]

    def f32(self, addr, shape):
        n = int(np.prod(shape))
        return np.frombuffer(self.view(addr, 4 * n), dtype=F32).reshape(shape).copy()

    def i32(self, addr, shape):
        n = int(np.prod(shape))
        return np.frombuffer(self.view(addr, 4 * n), dtype=I32).reshape(shape).copy()

    def put(self, addr, arr):
        b = np.ascontiguousarray(arr).tobytes()
        self.view(addr, len(b))[:] = b

    def weights(self, addr, dtype, g, n, k):
        """[g] list of reference Weight-like objects of [n, k]."""
        out = []
        if dtype == DT_I8:
            vals = np.frombuffer(self.view(addr, g * n * k), dtype=np.int8).reshape(g, n, k)
            soff = (g * n * k + 63) // 64 * 64
            scales = self.f32(addr + soff, (g, n))
            for i in range(g):
                w = ref.Weight.__new__(ref.Weight)
                w.dtype, w.q, w.s = "int8", vals[i].astype(np.float64), scales[i]
                w.qt = np.ascontiguousarray(w.q.T)
                out.append(w)
            return out
        if dtype == DT_BF16:
            bits = np.frombuffer(self.view(addr, 2 * g * n * k), dtype="<u2")
            arr = safetensors_io.bf16_bits_to_f32(bits).reshape(g, n, k)
        else:
            arr = self.f32(addr, (g, n, k))
        for i in range(g):
            w = ref.Weight.__new__(ref.Weight)
            w.dtype, w.w = "f32", arr[i]
            out.append(w)
        return out


def execute(s, mach):
    for pc, (op, dt, flags, *rest) in enumerate(s.program):
        d, a = rest[:5], rest[5:]
        if op == 0x01:  # COPY
            mach.view(a[1], d[0])[:] = bytes(mach.view(a[0], d[0]))
        elif op == 0x10:  # MATMUL
            m_, n_, k_, g_ = d[:4]
            x = mach.f32(a[0], (g_, m_, k_))
            ws = mach.weights(a[1], dt, g_, n_, k_)
            mach.put(a[2], np.stack([ref.matmul(x[i], ws[i]) for i in range(g_)]))
        elif op == 0x11:  # EXPERT_FFN
            g_, c_, h_, f_ = d[:4]
            x = mach.f32(a[0], (g_, c_, h_))
            w13 = mach.weights(a[1], dt, g_, 2 * f_, h_)
            w2 = mach.weights(a[2], dt, g_, h_, f_)
            tok = mach.i32(a[4], (g_, c_)) if a[4] else np.zeros((g_, c_), np.int32)
            out = np.zeros((g_, c_, h_), np.float32)
            for i in range(g_):
                used = tok[i] != -1
                if used.any():
                    out[i][used] = ref.ffn(x[i][used], w13[i], w2[i], f_)
            mach.put(a[3], out)
        elif op == 0x20:  # ADD
            mach.put(a[2], mach.f32(a[0], (d[0],)) + mach.f32(a[1], (d[0],)))
        elif op == 0x30:  # RMSNORM
            m_, n_ = d[:2]
            eps = np.frombuffer(struct.pack("<I", d[2]), dtype=F32)[0]
            mach.put(a[2], ref.rmsnorm(mach.f32(a[0], (m_, n_)), mach.f32(a[1], (n_,)), eps))
        elif op == 0x40:  # TOPK
            t_, e_, k_ = d[:3]
            idx, w = ref.topk(mach.f32(a[0], (t_, e_)), k_, bool(flags & 1), bool(flags & 2))
            mach.put(a[1], idx.astype(I32))
            mach.put(a[2], w)
        elif op == 0x41:  # DISPATCH
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
            mach.put(a[4], np.concatenate([tok.ravel().view(np.uint32), wt.ravel().view(np.uint32),
                                           load.view(np.uint32), dropped.view(np.uint32)]))
        elif op == 0x42:  # COMBINE
            t_, h_, e_, c_ = d[:4]
            ye = mach.f32(a[0], (e_, c_, h_))
            tok = mach.i32(a[1], (e_, c_))
            wt = mach.f32(a[1] + 4 * e_ * c_, (e_, c_))
            x = mach.f32(a[2], (t_, h_))
            for e in range(e_):
                used = tok[e] != -1
                x[tok[e][used]] = x[tok[e][used]] + wt[e][used][:, None] * ye[e][used]
            mach.put(a[2], x)
        else:
            raise SystemExit("sched_interp: instruction %d: opcode 0x%x not emitted by lpu-compile"
                             % (pc, op))


def main(argv):
    p = argparse.ArgumentParser(description="run an LPU schedule on the host")
    p.add_argument("schedule")
    p.add_argument("--input", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    s = Schedule(a.schedule)
    mach = Machine(s)
    x = np.load(a.input).astype(np.float32)
    for tensor, direction, _, _ in s.io:
        name, slot, _, off, nbytes, shape = s.tensors[tensor]
        if direction == 1:
            if x.shape != tuple(shape):
                raise SystemExit("sched_interp: input %s is %s, not %s" % (name, x.shape, shape))
            mach.put(((slot + 1) << SLOT_SHIFT) + off, x)
    execute(s, mach)
    os.makedirs(a.out, exist_ok=True)
    for tensor, direction, _, _ in s.io:
        name, slot, dt, off, nbytes, shape = s.tensors[tensor]
        if direction == 2:
            addr = ((slot + 1) << SLOT_SHIFT) + off
            arr = mach.f32(addr, shape) if dt == DT_F32 else mach.i32(addr, shape)
            np.save(os.path.join(a.out, name + ".npy"), arr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
