#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Write a small random Mixture-of-Experts checkpoint, Hugging Face style.

The directory gets config.json, the MoE weights split over two safetensors
shards (plus model.safetensors.index.json, as Hugging Face writes it), a
few tensors the MoE blocks do not use (embeddings, attention) that readers
must skip, and x.npy: a float32 [tokens, hidden] input.

  --style mixtral   block_sparse_moe.gate, experts.N.w1/w2/w3; softmax
                    router, renormalised top-k (Mixtral's)
  --style deepseek  mlp.gate, mlp.experts.N.{gate,up,down}_proj and
                    mlp.shared_experts.* (DeepSeek-MoE)
  --style qwen      mlp.shared_expert.* (singular, Qwen naming) without
                    Qwen's shared-expert gate

The defaults are the issue's: Mixtral-style hidden 256, 8 experts, top-2,
2 blocks; DeepSeek-style 16 routed experts, top-4, 1 shared expert.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

DEFAULTS = {
    "mixtral": dict(experts=8, top_k=2, ffn=512, shared=0, blocks=2),
    "deepseek": dict(experts=16, top_k=4, ffn=256, shared=1, blocks=2),
    "qwen": dict(experts=16, top_k=4, ffn=256, shared=1, blocks=2),
}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out", help="output directory (created)")
    p.add_argument("--style", choices=sorted(DEFAULTS), default="mixtral")
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--ffn", type=int, help="width of one routed expert")
    p.add_argument("--experts", type=int)
    p.add_argument("--top-k", type=int)
    p.add_argument("--shared", type=int, help="shared experts (deepseek, qwen)")
    p.add_argument("--shared-ffn", type=int,
                   help="width of one shared expert (default: --ffn)")
    p.add_argument("--blocks", type=int, help="MoE layers")
    p.add_argument("--tokens", type=int, default=32, help="rows of x.npy")
    p.add_argument("--scoring", choices=["softmax", "sigmoid"], default="softmax",
                   help="router scores (deepseek, qwen)")
    p.add_argument("--norm-topk", action="store_true",
                   help="renormalise the top-k weights (deepseek, qwen)")
    p.add_argument("--eps", type=float, default=1e-5)
    p.add_argument("--dtype", choices=["f32", "bf16"], default="f32",
                   help="storage dtype of the weights")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--tie-pairs", action="store_true",
                   help="router gate row 2j+1 = row 2j: experts 2j and 2j+1 "
                   "score the same for every token, so the top-k tie-break "
                   "(lower index first) decides every pair")
    a = p.parse_args(argv)
    for key, val in DEFAULTS[a.style].items():
        if getattr(a, key) is None:
            setattr(a, key, val)
    if a.shared_ffn is None:
        a.shared_ffn = a.ffn
    for key in ("hidden", "ffn", "experts", "top_k", "blocks", "tokens", "shared_ffn"):
        if getattr(a, key) < 1:
            p.error("--%s must be at least 1" % key.replace("_", "-"))
    if a.shared < 0 or a.top_k > a.experts:
        p.error("--shared must be >= 0 and --top-k at most --experts")
    if a.style == "mixtral" and a.shared:
        p.error("mixtral has no shared experts")
    return a


def config_for(a):
    common = {"hidden_size": a.hidden, "num_hidden_layers": a.blocks,
              "num_experts_per_tok": a.top_k, "rms_norm_eps": a.eps,
              "vocab_size": 64, "num_attention_heads": 4}
    if a.style == "mixtral":
        common.update(architectures=["MixtralForCausalLM"], model_type="mixtral",
                      intermediate_size=a.ffn, num_local_experts=a.experts)
    elif a.style == "deepseek":
        common.update(architectures=["DeepseekForCausalLM"], model_type="deepseek",
                      moe_intermediate_size=a.ffn, n_routed_experts=a.experts,
                      n_shared_experts=a.shared, scoring_func=a.scoring,
                      norm_topk_prob=a.norm_topk, first_k_dense_replace=0,
                      moe_layer_freq=1, intermediate_size=4 * a.hidden)
    else:
        common.update(architectures=["Qwen2MoeForCausalLM"], model_type="qwen2_moe",
                      moe_intermediate_size=a.ffn, num_experts=a.experts,
                      shared_expert_intermediate_size=a.shared * a.shared_ffn,
                      norm_topk_prob=a.norm_topk, decoder_sparse_step=1,
                      mlp_only_layers=[], intermediate_size=4 * a.hidden)
        if a.scoring != "softmax":
            raise SystemExit("gen_checkpoint: qwen routers use softmax")
    return common


def linear(rng, out_f, in_f):
    """A Linear weight [out, in] with unit-variance outputs."""
    return (rng.standard_normal((out_f, in_f)) / np.sqrt(in_f)).astype(np.float32)


def gate(a, rng):
    """The router's [E, H] gate; with --tie-pairs, rows 2j and 2j+1 equal."""
    g = linear(rng, a.experts, a.hidden)
    if a.tie_pairs:
        g[1::2] = g[0:a.experts - a.experts % 2:2]
    return g


def tensors_for(a, rng):
    t = {}
    h = a.hidden
    t["model.embed_tokens.weight"] = linear(rng, 64, h)
    for b in range(a.blocks):
        pre = "model.layers.%d." % b
        t[pre + "input_layernorm.weight"] = np.ones(h, np.float32)
        t[pre + "self_attn.q_proj.weight"] = linear(rng, h, h)
        t[pre + "post_attention_layernorm.weight"] = (
            1.0 + 0.1 * rng.standard_normal(h)).astype(np.float32)
        if a.style == "mixtral":
            moe = pre + "block_sparse_moe."
            t[moe + "gate.weight"] = gate(a, rng)
            for e in range(a.experts):
                ex = moe + "experts.%d." % e
                t[ex + "w1.weight"] = linear(rng, a.ffn, h)
                t[ex + "w3.weight"] = linear(rng, a.ffn, h)
                t[ex + "w2.weight"] = linear(rng, h, a.ffn)
            continue
        moe = pre + "mlp."
        t[moe + "gate.weight"] = gate(a, rng)
        for e in range(a.experts):
            ex = moe + "experts.%d." % e
            t[ex + "gate_proj.weight"] = linear(rng, a.ffn, h)
            t[ex + "up_proj.weight"] = linear(rng, a.ffn, h)
            t[ex + "down_proj.weight"] = linear(rng, h, a.ffn)
        if a.shared:
            sh = moe + ("shared_experts." if a.style == "deepseek" else "shared_expert.")
            width = a.shared * (a.ffn if a.style == "deepseek" else a.shared_ffn)
            t[sh + "gate_proj.weight"] = linear(rng, width, h)
            t[sh + "up_proj.weight"] = linear(rng, width, h)
            t[sh + "down_proj.weight"] = linear(rng, h, width)
    return t


def main(argv):
    a = parse_args(argv)
    rng = np.random.default_rng(a.seed)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config_for(a), f, indent=2)
        f.write("\n")
    tensors = tensors_for(a, rng)
    names = list(tensors)
    half = len(names) // 2
    shards = [names[:half], names[half:]]
    dtype = "F32" if a.dtype == "f32" else "BF16"
    weight_map = {}
    for i, part in enumerate(shards):
        fname = "model-%05d-of-%05d.safetensors" % (i + 1, len(shards))
        safetensors_io.write(os.path.join(a.out, fname),
                             {n: tensors[n] for n in part}, dtype,
                             metadata={"format": "pt"})
        weight_map.update({n: fname for n in part})
    with open(os.path.join(a.out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=1)
        f.write("\n")
    x = rng.standard_normal((a.tokens, a.hidden)).astype(np.float32)
    np.save(os.path.join(a.out, "x.npy"), x)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
