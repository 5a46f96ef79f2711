# SPDX-License-Identifier: MIT
"""What a Hugging Face MoE checkpoint describes: dimensions, router, and
which decoder layers are MoE blocks, in both namings (Mixtral;
DeepSeek-MoE / Qwen-MoE). The rules are the ones uapi/lpu_schedule.md
gives for lpu-compile; this is the numpy reference's own reading of them.
"""
import json
import os


class ConfigError(Exception):
    """A missing or bad config.json field; the message names it."""


def _int(cfg, key, default=None, minimum=1):
    if key not in cfg:
        if default is None:
            raise ConfigError("config.json: missing field '%s'" % key)
        return default
    v = cfg[key]
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise ConfigError("config.json: field '%s' must be an integer >= %d" % (key, minimum))
    return v


class MoeConfig:
    def __init__(self, directory):
        path = os.path.join(directory, "config.json")
        try:
            with open(path) as f:
                cfg = json.load(f)
        except OSError as e:
            raise ConfigError("%s: %s" % (path, e.strerror))
        except ValueError as e:
            raise ConfigError("config.json: not valid JSON: %s" % e)
        if not isinstance(cfg, dict):
            raise ConfigError("config.json: not a JSON object")
        self.hidden = _int(cfg, "hidden_size")
        self.layers = _int(cfg, "num_hidden_layers")
        self.top_k = _int(cfg, "num_experts_per_tok")
        eps = cfg.get("rms_norm_eps")
        if eps is None:
            raise ConfigError("config.json: missing field 'rms_norm_eps'")
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or eps < 0:
            raise ConfigError("config.json: field 'rms_norm_eps' must be a number >= 0")
        self.eps = float(eps)
        self.sigmoid = False
        self.renorm = False
        self.num_shared = 0
        self.shared_ffn = 0
        if "num_local_experts" in cfg:
            self.arch = "mixtral"
            self.experts = _int(cfg, "num_local_experts")
            self.ffn = _int(cfg, "intermediate_size")
            self.renorm = True
            self.moe_layers = list(range(self.layers))
            return
        self.arch = "deepseek"
        if "n_routed_experts" in cfg:
            self.experts = _int(cfg, "n_routed_experts")
        elif "num_experts" in cfg:
            self.experts = _int(cfg, "num_experts")
        else:
            raise ConfigError("config.json: missing field 'num_local_experts', "
                              "'n_routed_experts' or 'num_experts'")
        self.ffn = _int(cfg, "moe_intermediate_size")
        scoring = cfg.get("scoring_func", "softmax")
        if scoring not in ("softmax", "sigmoid"):
            raise ConfigError("config.json: field 'scoring_func' must be softmax or sigmoid")
        self.sigmoid = scoring == "sigmoid"
        norm = cfg.get("norm_topk_prob", False)
        if not isinstance(norm, bool):
            raise ConfigError("config.json: field 'norm_topk_prob' must be true or false")
        self.renorm = norm
        if cfg.get("routed_scaling_factor", 1.0) != 1.0:
            raise ConfigError("config.json: field 'routed_scaling_factor' other than 1 "
                              "is not supported")
        if cfg.get("topk_method", "greedy") != "greedy":
            raise ConfigError("config.json: field 'topk_method' other than greedy "
                              "is not supported")
        if "n_shared_experts" in cfg and cfg["n_shared_experts"] is not None:
            self.num_shared = _int(cfg, "n_shared_experts", minimum=0)
            self.shared_ffn = self.ffn if self.num_shared else 0
            self.shared_prefix = "mlp.shared_experts."
        elif cfg.get("shared_expert_intermediate_size"):
            self.num_shared = 1
            self.shared_ffn = _int(cfg, "shared_expert_intermediate_size")
            self.shared_prefix = "mlp.shared_expert."
        first = _int(cfg, "first_k_dense_replace", 0, 0)
        freq = _int(cfg, "moe_layer_freq", 1)
        step = _int(cfg, "decoder_sparse_step", 1)
        dense = cfg.get("mlp_only_layers", []) or []
        self.moe_layers = [
            l for l in range(self.layers)
            if l >= first and l % freq == 0 and (l + 1) % step == 0 and l not in dense]
        if not self.moe_layers:
            raise ConfigError("config.json: no decoder layer is an MoE block")
        if self.top_k > self.experts:
            raise ConfigError("config.json: field 'num_experts_per_tok' larger than the experts")

    def names(self, layer):
        """Checkpoint names of one MoE layer's tensors."""
        pre = "model.layers.%d." % layer
        n = {"gamma": pre + "post_attention_layernorm.weight"}
        if self.arch == "mixtral":
            moe = pre + "block_sparse_moe."
            n["gate"] = moe + "gate.weight"
            n["expert"] = lambda e: (moe + "experts.%d.w1.weight" % e,
                                     moe + "experts.%d.w3.weight" % e,
                                     moe + "experts.%d.w2.weight" % e)
            return n
        moe = pre + "mlp."
        n["gate"] = moe + "gate.weight"
        n["expert"] = lambda e: (moe + "experts.%d.gate_proj.weight" % e,
                                 moe + "experts.%d.up_proj.weight" % e,
                                 moe + "experts.%d.down_proj.weight" % e)
        if self.num_shared:
            sh = pre + self.shared_prefix
            n["shared"] = (sh + "gate_proj.weight", sh + "up_proj.weight",
                           sh + "down_proj.weight")
            n["shared_gate"] = moe + "shared_expert_gate.weight"
        return n
