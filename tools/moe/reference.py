#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Numpy reference of the MoE blocks an LPU schedule computes.

Written from the NUMERICS rules and instruction semantics of uapi/lpu_hw.h
and the program structure of uapi/lpu_schedule.md, not from the device
code, so the two can check each other. Per MoE block b, on x [T, H]:

  h = RMSNORM(x, gamma_b); logits = h W_gate^T; idx, w = TOPK(logits);
  slots = DISPATCH(idx, w) (C per expert, later tokens dropped);
  ye = EXPERT_FFN over the slots; x = x + shared_ffn(h) (if any);
  x = COMBINE: for e, then slot c: x[t] = x[t] + w * ye[e][c]

Outputs (one .npy each in --out): y, block{b}.router_idx,
block{b}.expert_load, block{b}.expert_dropped.

Scope: finite values only. uapi/lpu_hw.h does not say what the engine does
with NaN or infinity (the device happens to quantise NaN to 0 and never to
rank a NaN score first), and this reference does not guess from the device
code. So it refuses, with exit status 3 and a message naming the block and
the value, an input, a stored weight or an intermediate result (normed
activations, router logits, expert outputs, the block's output) that is not
finite; there is then nothing to compare a device run against.
"""
import argparse
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from moe_config import ConfigError, MoeConfig  # noqa: E402

F32 = np.float32
F64 = np.float64

_libm_exp = np.frompyfunc(math.exp, 1, 1)


def exp_libm(x):
    """exp() of the C library, as the rules say: numpy's own vector exp
    differs from it by one binary64 ulp for about a fifth of inputs."""
    return _libm_exp(x).astype(F64)


EXP = {"libm": exp_libm, "numpy": np.exp}
exp = exp_libm

# exit status when the inputs are outside the reference's scope
EXIT_OUT_OF_SCOPE = 3


class OutOfScope(Exception):
    """A non-finite value: the rules define no result to compare against."""


def finite(what, arr):
    """Refuse @arr unless every value is finite."""
    bad = ~np.isfinite(arr)
    if bad.any():
        at = np.unravel_index(int(np.argmax(bad)), bad.shape)
        raise OutOfScope("%s is not finite at %s (%r): non-finite values are "
                         "outside the reference's scope"
                         % (what, list(map(int, at)), float(arr[at])))


# ---- the NUMERICS rules --------------------------------------------------

def quant_rows(v):
    """The LPU quant rule on each row of v (binary32): int8 values (held in
    float64, where the integer products are exact) and binary32 scales."""
    v = np.asarray(v, dtype=F32)
    amax = np.max(np.abs(v), axis=1)
    scale = np.where(amax == 0, F32(1.0), amax / F32(127.0)).astype(F32)
    q = np.clip(np.rint(v / scale[:, None]), -127, 127)
    return q.astype(F64), scale


class Weight:
    """A Linear weight [N, K] in the schedule's dtype."""

    def __init__(self, w, dtype, name="weight"):
        self.dtype = dtype
        w = np.asarray(w, dtype=F32)
        finite("tensor '%s'" % name, w)
        if dtype == "f32":
            self.w = w
        elif dtype == "bf16":
            self.w = safetensors_io.round_to_bf16(w)
            finite("tensor '%s' rounded to bf16" % name, self.w)
        else:
            self.q, self.s = quant_rows(w)
            self.qt = np.ascontiguousarray(self.q.T)

    def stored_bytes(self):
        """What lpu-compile stores for this weight alone (a qblock for I8)."""
        if self.dtype == "f32":
            return self.w.astype("<f4").tobytes()
        if self.dtype == "bf16":
            return safetensors_io.f32_to_bf16_bits(self.w).astype("<u2").tobytes()
        q = self.q.astype(np.int8).tobytes()
        return q + b"\0" * (-len(q) % 64) + self.s.astype("<f4").tobytes()


def matmul(a, w):
    """out[m][n] = sum_k a[m][k] w[n][k] with the weight's dtype."""
    if w.dtype != "int8":
        return np.matmul(a, w.w.T)
    qa, sa = quant_rows(a)
    acc = np.matmul(qa, w.qt)  # exact: |acc| <= K * 127 * 127 < 2^53
    return (acc.astype(F32) * sa[:, None]) * w.s[None, :]


def silu(x):
    x64 = x.astype(F64)
    return (x64 / (1.0 + exp(-x64))).astype(F32)


def rmsnorm(x, gamma, eps):
    x64 = x.astype(F64)
    ss = np.cumsum(x64 * x64, axis=1)[:, -1]  # in index order
    r = 1.0 / np.sqrt(ss / x.shape[1] + F64(F32(eps)))
    return (x64 * r[:, None]).astype(F32) * gamma


def router_scores(logits, sigmoid):
    x64 = logits.astype(F64)
    if sigmoid:
        return (1.0 / (1.0 + exp(-x64))).astype(F32)
    e = exp(x64 - logits.max(axis=1).astype(F64)[:, None])
    s = np.cumsum(e, axis=1)[:, -1]
    return (e / s[:, None]).astype(F32)


def topk(logits, k, sigmoid, renorm):
    s = router_scores(logits, sigmoid)
    # descending, the lower expert first among equal scores
    idx = np.argsort(-s, axis=1, kind="stable")[:, :k]
    w = np.take_along_axis(s, idx, axis=1)
    if renorm:
        w64 = w.astype(F64)
        d = np.cumsum(w64, axis=1)[:, -1]  # in rank order
        w = (w64 / d[:, None]).astype(F32)
    return idx.astype(np.int32), w


def dispatch(idx, w, experts, capacity):
    """Slots per expert, in token then rank order; the rest dropped."""
    flat_e = idx.reshape(-1)
    order = np.argsort(flat_e, kind="stable")
    sorted_e = flat_e[order]
    starts = np.searchsorted(sorted_e, np.arange(experts))
    rank = np.arange(len(order)) - starts[sorted_e]
    load = np.bincount(flat_e, minlength=experts).astype(np.int32)
    keep = rank < capacity
    slots = []
    k = idx.shape[1]
    for e in range(experts):
        sel = order[keep & (sorted_e == e)]
        slots.append((sel // k, w.reshape(-1)[sel]))
    dropped = np.maximum(load - capacity, 0).astype(np.int32)
    return slots, load, dropped


def ffn(x, w13, w2, f):
    gu = matmul(x, w13)
    a = silu(gu[:, :f]) * gu[:, f:]
    return matmul(a, w2)


def capacity_for(cf, tokens, k, experts):
    """C = ceil(cf * T * k / E) in binary64 from the binary32 factor, 1..T."""
    c = math.ceil(float(F32(cf)) * tokens * k / experts)
    return max(1, min(tokens, c))


# ---- the model -----------------------------------------------------------

class Block:
    def __init__(self, cfg, ck, layer, dtype):
        h, f, e = cfg.hidden, cfg.ffn, cfg.experts
        n = cfg.names(layer)
        self.gamma = ck.get(n["gamma"], [h])
        finite("tensor '%s'" % n["gamma"], self.gamma)
        self.gate = Weight(ck.get(n["gate"], [e, h]), dtype, n["gate"])
        self.w13, self.w2 = [], []
        for i in range(e):
            g_name, u_name, d_name = n["expert"](i)
            w13 = np.concatenate([ck.get(g_name, [f, h]), ck.get(u_name, [f, h])])
            self.w13.append(Weight(w13, dtype, "%s + %s" % (g_name, u_name)))
            self.w2.append(Weight(ck.get(d_name, [h, f]), dtype, d_name))
        self.shared = None
        if cfg.num_shared:
            if n["shared_gate"] in ck:
                raise ConfigError("tensor '%s': the gated shared expert is not supported"
                                  % n["shared_gate"])
            fs = cfg.num_shared * cfg.shared_ffn
            g_name, u_name, d_name = n["shared"]
            w13 = np.concatenate([ck.get(g_name, [fs, h]), ck.get(u_name, [fs, h])])
            self.shared = (Weight(w13, dtype, "%s + %s" % (g_name, u_name)),
                           Weight(ck.get(d_name, [h, fs]), dtype, d_name), fs)

    def weights(self):
        """Schedule tensor name -> this reference's stored bytes."""
        out = {"gamma": self.gamma.astype("<f4").tobytes(),
               "router": self.gate.stored_bytes()}
        out["w13"] = pack([w for w in self.w13])
        out["w2"] = pack([w for w in self.w2])
        if self.shared:
            out["shared_w13"] = pack([self.shared[0]])
            out["shared_w2"] = pack([self.shared[1]])
        return out


def pack(ws):
    """Several [N, K] weights as one [G, N, K] tensor of the schedule."""
    if ws[0].dtype != "int8":
        return b"".join(w.stored_bytes() for w in ws)
    q = b"".join(w.q.astype(np.int8).tobytes() for w in ws)
    s = b"".join(w.s.astype("<f4").tobytes() for w in ws)
    return q + b"\0" * (-len(q) % 64) + s


class Model:
    def __init__(self, directory, dtype, blocks=None):
        self.cfg = MoeConfig(directory)
        layers = self.cfg.moe_layers
        if blocks is not None:
            if blocks < 1 or blocks > len(layers):
                raise ConfigError("--blocks %d: the checkpoint has %d MoE blocks"
                                  % (blocks, len(layers)))
            layers = layers[:blocks]
        ck = safetensors_io.Checkpoint(directory)
        self.blocks = [Block(self.cfg, ck, layer, dtype) for layer in layers]

    def run(self, x, capacity):
        cfg = self.cfg
        x = np.array(x, dtype=F32)
        finite("input x", x)
        out = {}
        for b, blk in enumerate(self.blocks):
            h = rmsnorm(x, blk.gamma, cfg.eps)
            finite("block %d: rmsnorm(x)" % b, h)
            logits = matmul(h, blk.gate)
            finite("block %d: router logits" % b, logits)
            idx, w = topk(logits, cfg.top_k, cfg.sigmoid, cfg.renorm)
            slots, load, dropped = dispatch(idx, w, cfg.experts, capacity)
            ye = [ffn(h[tok], blk.w13[e], blk.w2[e], cfg.ffn) if len(tok) else None
                  for e, (tok, _) in enumerate(slots)]
            for e, y in enumerate(ye):
                if y is not None:
                    finite("block %d: expert %d output" % (b, e), y)
            if blk.shared:
                ys = ffn(h, blk.shared[0], blk.shared[1], blk.shared[2])
                finite("block %d: shared expert output" % b, ys)
                x = x + ys
            for e, (tok, wt) in enumerate(slots):
                if len(tok):
                    x[tok] = x[tok] + wt[:, None] * ye[e]
            finite("block %d: output" % b, x)
            out["block%d.router_idx" % b] = idx
            out["block%d.expert_load" % b] = load
            out["block%d.expert_dropped" % b] = dropped
        out["y"] = x
        return out


def main(argv):
    p = argparse.ArgumentParser(
        description="numpy reference of an LPU MoE schedule",
        epilog="Exit status: 0 done, 1 bad checkpoint or input, 2 usage, 3 a "
               "value that is not finite (input, weight or intermediate): "
               "outside the reference's scope, nothing to compare against.")
    p.add_argument("checkpoint")
    p.add_argument("--input", help="x.npy [T, H] float32 (default CHECKPOINT/x.npy)")
    p.add_argument("--out", help="directory for the .npy outputs")
    p.add_argument("--dtype", choices=["f32", "bf16", "int8"], default="f32")
    p.add_argument("--capacity-factor", type=float, default=1.25)
    p.add_argument("--blocks", type=int)
    p.add_argument("--exp", choices=sorted(EXP), default="libm",
                   help="libm: the C library's exp, exactly as the rules say "
                        "(default); numpy: numpy's faster vector exp (for timing)")
    p.add_argument("--time", type=int, metavar="N",
                   help="run N times and print tokens/s")
    p.add_argument("--dump-weight", nargs=2, metavar=("NAME", "FILE"),
                   help="write the stored bytes of schedule tensor NAME "
                        "(e.g. block0.w13) as lpu-compile would")
    a = p.parse_args(argv)
    global exp
    exp = EXP[a.exp]
    if not a.capacity_factor > 0 or not math.isfinite(a.capacity_factor):
        p.error("--capacity-factor must be > 0")
    try:
        model = Model(a.checkpoint, a.dtype, a.blocks)
    except (ConfigError, safetensors_io.FormatError) as e:
        print("reference: %s" % e, file=sys.stderr)
        return 1
    except OutOfScope as e:
        print("reference: %s" % e, file=sys.stderr)
        return EXIT_OUT_OF_SCOPE
    if a.dump_weight:
        name, path = a.dump_weight
        blk, _, field = name.partition(".")
        try:
            data = model.blocks[int(blk[len("block"):])].weights()[field]
        except (ValueError, IndexError, KeyError):
            print("reference: no weight tensor '%s'" % name, file=sys.stderr)
            return 1
        with open(path, "wb") as f:
            f.write(data)
        return 0
    x = np.load(a.input or os.path.join(a.checkpoint, "x.npy"))
    if x.dtype != F32 or x.ndim != 2 or x.shape[1] != model.cfg.hidden:
        print("reference: input must be float32 [T, %d], not %s %s"
              % (model.cfg.hidden, x.dtype, x.shape), file=sys.stderr)
        return 1
    tokens = x.shape[0]
    cap = capacity_for(a.capacity_factor, tokens, model.cfg.top_k, model.cfg.experts)
    try:
        # overflow shows up as a non-finite value, reported by finite()
        with np.errstate(over="ignore", invalid="ignore"):
            out = model.run(x, cap)
    except OutOfScope as e:
        print("reference: %s" % e, file=sys.stderr)
        return EXIT_OUT_OF_SCOPE
    if a.time:
        t0 = time.perf_counter()
        for _ in range(a.time):
            model.run(x, cap)
        dt = time.perf_counter() - t0
        print("reference: %d tokens x %d runs in %.3f s: %.1f tokens/s (exp %s, threads %s)"
              % (tokens, a.time, dt, tokens * a.time / dt, a.exp,
                 os.environ.get("OPENBLAS_NUM_THREADS", "default")))
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        for name, arr in out.items():
            np.save(os.path.join(a.out, name + ".npy"), arr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
