#!/usr/bin/env python3
"""Checks that the files Finch writes are readable by the pip `gguf` and `safetensors` packages
and hold the same model: every tensor of the safetensors directory matches the GGUF's
(dequantised by the gguf package), with llama's q and k permuted into rotary pairs in the GGUF
exactly as llama.cpp's convert_hf_to_gguf.py permutes them.
    /tmp/refvenv/bin/pip install gguf safetensors numpy
    finch run -e 'm = load_model(); m.save("/tmp/smol-hf"); m.save("/tmp/smol.gguf", type: "q8_0")'
    /tmp/refvenv/bin/python scripts/reference/check_model_files.py /tmp/smol-hf /tmp/smol.gguf"""
import json, sys
import numpy as np
import gguf
from safetensors.numpy import load_file

hf_dir, gguf_path = sys.argv[1], sys.argv[2]
config = json.load(open(f"{hf_dir}/config.json"))
weights = load_file(f"{hf_dir}/model.safetensors")
reader = gguf.GGUFReader(gguf_path)
arch = reader.fields["general.architecture"].contents()
assert arch == config["model_type"], (arch, config["model_type"])
for key, hf_key in [("block_count", "num_hidden_layers"), ("embedding_length", "hidden_size"),
                    ("attention.head_count", "num_attention_heads"), ("attention.head_count_kv", "num_key_value_heads"),
                    ("feed_forward_length", "intermediate_size"), ("context_length", "max_position_embeddings")]:
    assert reader.fields[f"{arch}.{key}"].contents() == config[hf_key], key

def permute(w, heads):  # convert_hf_to_gguf.py's LlamaModel.permute
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)

names = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}
layer = {"attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
         "attn_output": "self_attn.o_proj", "ffn_norm": "post_attention_layernorm", "ffn_gate": "mlp.gate_proj",
         "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}
worst = {}
for t in reader.tensors:
    parts = t.name.split(".")
    if parts[0] == "blk":
        hf = f"model.layers.{parts[1]}.{layer[parts[2]]}.{parts[3]}"
    else:
        hf = f"{names[parts[0]]}.{parts[1]}"
    expected = weights.pop(hf).astype(np.float32)
    if arch == "llama" and parts[-2] in ("attn_q", "attn_k"):
        expected = permute(expected, config["num_attention_heads"] if parts[-2] == "attn_q" else config["num_key_value_heads"])
    got = gguf.quants.dequantize(t.data, t.tensor_type).reshape(expected.shape)
    scale = float(np.abs(expected).max()) or 1.0
    diff = float(np.abs(got - expected).max()) / scale
    worst[t.tensor_type.name] = max(worst.get(t.tensor_type.name, 0), diff)
    tolerance = {"F32": 0, "F16": 1e-3, "Q8_0": 1 / 127}[t.tensor_type.name]
    assert diff <= tolerance, (t.name, t.tensor_type.name, diff)
assert not weights, f"tensors missing from the GGUF: {sorted(weights)[:5]}"
tokens = reader.fields["tokenizer.ggml.tokens"]
print(f"ok: {len(reader.tensors)} tensors agree; worst difference relative to each tensor's largest value: "
      + ", ".join(f"{k} {v:.2e}" for k, v in sorted(worst.items())) + f"; {len(tokens.data)} tokens")
