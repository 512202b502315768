#!/usr/bin/env python3
"""Reference logits and greedy continuations of SmolLM2-135M-Instruct, for
Tests/FinchModelTests/SmolLM2ForwardTests.swift.

An independent llama forward pass in numpy (float64) over the GGUF as llama.cpp reads it:
weights dequantised by the `gguf` package, q and k left in the file's permuted layout and
rotated in adjacent pairs (x[2i], x[2i+1]) — llama.cpp's "normal" rope. Finch un-permutes q
and k into the Hugging Face layout and rotates halves, so agreement checks the permutation too.
    /tmp/refvenv/bin/python scripts/reference/model_reference.py MODEL.gguf
Writes Tests/FinchModelTests/Fixtures/smollm2_forward.json (prompts, ids, greedy continuations)
and smollm2_logits.f32 (the last position's logits per prompt, little-endian float32)."""
import json, os, sys
import gguf, numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smollm_tokenizer

PROMPTS = [
    "The capital of France is",
    "<|im_start|>user\nWhat is finetuning?<|im_end|>\n<|im_start|>assistant\n",
    "def fibonacci(n):\n    ",
    "Finch is a small language for finetuning models on a CPU. In Finch, 3 + 4 =",
]
CONTINUE = 32

reader = gguf.GGUFReader(sys.argv[1])
tok, _ = smollm_tokenizer.build(reader)

def meta(name):
    return reader.fields[name].contents()

layers = meta("llama.block_count"); dim = meta("llama.embedding_length")
heads = meta("llama.attention.head_count"); kv_heads = meta("llama.attention.head_count_kv")
eps = meta("llama.attention.layer_norm_rms_epsilon"); base = meta("llama.rope.freq_base")
head_dim = dim // heads
W = {t.name: gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float64) for t in reader.tensors}
out_head = W.get("output.weight", W["token_embd.weight"])

def rms(x, w):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w

inv = base ** (-np.arange(0, head_dim, 2) / head_dim)
def rope_pairs(x, pos):  # x: (T, H, D); rotates (x[2i], x[2i+1]) by pos * inv[i]
    ang = pos[:, None] * inv[None, :]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    a, b = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = a * c - b * s
    out[..., 1::2] = a * s + b * c
    return out

def forward(ids, cache):
    """Logits for `ids` following the cached positions; appends their keys and values to `cache`."""
    start = len(cache[0][0]) if cache[0][0] is not None else 0
    T = len(ids)
    pos = np.arange(start, start + T, dtype=np.float64)
    x = W["token_embd.weight"][ids]
    for l in range(layers):
        p = f"blk.{l}."
        h = rms(x, W[p + "attn_norm.weight"])
        q = rope_pairs((h @ W[p + "attn_q.weight"].T).reshape(T, heads, head_dim), pos)
        k = rope_pairs((h @ W[p + "attn_k.weight"].T).reshape(T, kv_heads, head_dim), pos)
        v = (h @ W[p + "attn_v.weight"].T).reshape(T, kv_heads, head_dim)
        ck, cv = cache[l]
        ck = k if ck is None else np.concatenate([ck, k]); cv = v if cv is None else np.concatenate([cv, v])
        cache[l] = (ck, cv)
        S = len(ck)
        att = np.empty((T, heads, head_dim))
        for hd in range(heads):
            g = hd // (heads // kv_heads)
            scores = q[:, hd, :] @ ck[:, g, :].T / np.sqrt(head_dim)
            mask = np.arange(S)[None, :] > (start + np.arange(T))[:, None]
            scores[mask] = -np.inf
            scores = np.exp(scores - scores.max(-1, keepdims=True)); scores /= scores.sum(-1, keepdims=True)
            att[:, hd, :] = scores @ cv[:, g, :]
        x = x + att.reshape(T, dim) @ W[p + "attn_output.weight"].T
        h = rms(x, W[p + "ffn_norm.weight"])
        gate = h @ W[p + "ffn_gate.weight"].T
        x = x + ((gate / (1 + np.exp(-gate))) * (h @ W[p + "ffn_up.weight"].T)) @ W[p + "ffn_down.weight"].T
    return rms(x, W["output_norm.weight"]) @ out_head.T

fixtures = {"continue": CONTINUE, "prompts": []}
logits_out = []
for text in PROMPTS:
    ids = tok.encode(text, add_special_tokens=False).ids
    cache = [(None, None)] * layers
    logits = forward(np.array(ids), cache)
    logits_out.append(logits[-1].astype("<f4"))
    generated = []
    nxt = int(np.argmax(logits[-1]))
    for _ in range(CONTINUE):
        generated.append(nxt)
        nxt = int(np.argmax(forward(np.array([nxt]), cache)[-1]))
    fixtures["prompts"].append({"text": text, "ids": ids, "greedy": generated,
                                "greedy_text": tok.decode(generated, skip_special_tokens=False),
                                "top5": [int(i) for i in np.argsort(-logits[-1])[:5]]})
    print(repr(text), "->", repr(fixtures["prompts"][-1]["greedy_text"]))

here = "Tests/FinchModelTests/Fixtures/"
with open(here + "smollm2_forward.json", "w") as f:
    f.write(json.dumps(fixtures, indent=1, ensure_ascii=False) + "\n")
np.concatenate(logits_out).tofile(here + "smollm2_logits.f32")
print(f"wrote {len(PROMPTS)} prompts")
