#!/usr/bin/env python3
"""Tiny randomly initialised models of every family Finch builds, made by transformers, and what
transformers computes with them: Tests/FinchModelTests/Fixtures/families/NAME/.

Each family's real options are switched on (Llama 3 rope scaling, Mistral's and Phi-3's sliding
window shorter than the prompts, Qwen2's biases and untied head, Qwen3's q/k norms and its own
head_dim, Gemma's (1 + w) norms, scaled embedding, query_pre_attn_scalar and pre/post norms with
Gemma 2's soft caps and Gemma 3's q/k norms, alternating sliding layers and local rope base,
Phi-3's fused projections and partial rotary, GPT-NeoX's partial rotary and parallel
residual, GPT-2's Conv1D layout and learned positions). Every parameter is drawn at random —
norms and biases too — so a tensor Finch reads wrongly shows in the logits.

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch transformers peft safetensors tokenizers numpy
    /tmp/refvenv/bin/python scripts/reference/make_family_fixtures.py

Per family it writes the Hugging Face folder (config.json, safetensors — sharded for llama —,
tokenizer.json, tokenizer_config.json), reference.json (prompts, greedy continuations, smallest
top-1 margin), logits.f32 (every position of every prompt, float32 little-endian), and a PEFT
adapter with random A and B (adapter/) with adapter_logits.f32 (every position of the first prompt)."""
import json, os, shutil, sys
import numpy as np
import torch
import transformers
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers
from peft import LoraConfig, get_peft_model

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "Tests", "FinchModelTests", "Fixtures", "families")
VOCAB = 320
COMMON = dict(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=64)


def configs():
    t = transformers
    return {
        "llama": (t.LlamaConfig(**COMMON, intermediate_size=64, num_key_value_heads=2, tie_word_embeddings=False, rms_norm_eps=1e-5,
                                rope_parameters={"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0, "low_freq_factor": 1.0,
                                                 "high_freq_factor": 4.0, "original_max_position_embeddings": 16}),
                  ["q_proj", "v_proj"]),
        "mistral": (t.MistralConfig(**COMMON, intermediate_size=64, num_key_value_heads=2, sliding_window=6, tie_word_embeddings=False),
                    ["q_proj", "k_proj", "v_proj", "o_proj"]),
        "qwen2": (t.Qwen2Config(**COMMON, intermediate_size=64, num_key_value_heads=2, tie_word_embeddings=False, use_sliding_window=False),
                  ["q_proj", "v_proj", "gate_proj"]),
        "qwen3": (t.Qwen3Config(**COMMON, intermediate_size=64, num_key_value_heads=2, head_dim=16, tie_word_embeddings=True,
                                use_sliding_window=False),
                  ["q_proj", "k_proj", "down_proj"]),
        "gemma2": (t.Gemma2Config(**COMMON, intermediate_size=64, num_key_value_heads=2, head_dim=16, query_pre_attn_scalar=12,
                                  sliding_window=5, attn_logit_softcapping=3.0, final_logit_softcapping=5.0, tie_word_embeddings=True,
                                  pad_token_id=0, bos_token_id=1, eos_token_id=2),
                   ["q_proj", "o_proj", "up_proj"]),
        "gemma3_text": (t.Gemma3TextConfig(**{**COMMON, "num_hidden_layers": 3}, intermediate_size=64, num_key_value_heads=2, head_dim=16,
                                           query_pre_attn_scalar=16, sliding_window=5, tie_word_embeddings=True, pad_token_id=0, bos_token_id=1,
                                           eos_token_id=2, layer_types=["sliding_attention", "full_attention", "sliding_attention"]),
                        ["q_proj", "v_proj"]),
        "phi3": (t.Phi3Config(**COMMON, intermediate_size=64, num_key_value_heads=2, sliding_window=7, tie_word_embeddings=False,
                              pad_token_id=0, bos_token_id=1, eos_token_id=2, partial_rotary_factor=0.5),
                 ["qkv_proj", "o_proj", "gate_up_proj"]),
        "gpt_neox": (t.GPTNeoXConfig(**COMMON, intermediate_size=128, rotary_pct=0.25, partial_rotary_factor=0.25, use_parallel_residual=True,
                                     tie_word_embeddings=False, hidden_act="gelu", bos_token_id=1, eos_token_id=2),
                     ["query_key_value", "dense_4h_to_h"]),
        "gpt2": (t.GPT2Config(vocab_size=VOCAB, n_positions=64, n_embd=32, n_layer=2, n_head=4, activation_function="gelu_new",
                              tie_word_embeddings=True, bos_token_id=1, eos_token_id=2),
                 ["c_attn", "c_proj"]),
    }


def train_tokenizer(path):
    """A byte-level BPE over this script's own description (fixed text: the fixtures change only
    when the script does), VOCAB tokens with <|endoftext|> as 0."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    text = (__doc__ * 3).splitlines()
    tok.train_from_iterator(text, trainer)
    tok.save(path)
    return tok


def randomise(model, seed):
    """Every parameter random: weights and biases N(0, 0.15²), norm weights 1 + N(0, 0.1²)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g)
            is_norm = "norm" in name or ".ln_" in name or "layernorm" in name or "ln_f" in name
            p.copy_(1 + 0.1 * noise if is_norm and name.endswith("weight") else 0.15 * noise)


def logits(model, ids):
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].float().numpy()


def greedy(model, ids, n):
    """n tokens by argmax over full forward passes, and the smallest gap between the top two logits."""
    ids, margin = list(ids), 1e9
    for _ in range(n):
        last = logits(model, ids)[-1]
        top = np.sort(last)[-2:]
        margin = min(margin, float(top[1] - top[0]))
        ids.append(int(np.argmax(last)))
    return ids[-n:], margin


def main():
    torch.manual_seed(0)
    tmp = "/tmp/finch-family-tokenizer.json"
    tok = train_tokenizer(tmp)
    rng = np.random.default_rng(7)
    prompts = [tok.encode("Finch finetunes a model").ids, [int(x) for x in rng.integers(1, VOCAB, 13)],
               [int(x) for x in rng.integers(1, VOCAB, 21)]]
    for family, (config, targets) in configs().items():
        out = os.path.join(OUT, family)
        shutil.rmtree(out, ignore_errors=True)
        config._attn_implementation = "eager"
        model = transformers.AutoModelForCausalLM.from_config(config, attn_implementation="eager").float().eval()
        randomise(model, seed=sum(map(ord, family)))
        if config.tie_word_embeddings:
            model.tie_weights()
        # Llama is written in shards, as the Hub's larger models are.
        model.save_pretrained(out, max_shard_size="40KB" if family == "llama" else "50MB")
        shutil.copy(tmp, os.path.join(out, "tokenizer.json"))
        with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
            json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "eos_token": "<|endoftext|>", "model_max_length": 64}, f, indent=1)
        all_logits = [logits(model, p) for p in prompts]
        continuations, margins = zip(*[greedy(model, p, 8) for p in prompts])
        np.concatenate([l.reshape(-1) for l in all_logits]).astype("<f4").tofile(os.path.join(out, "logits.f32"))

        peft_config = LoraConfig(r=4, lora_alpha=8, target_modules=targets, init_lora_weights=False, lora_dropout=0.0,
                                 fan_in_fan_out=family == "gpt2")
        adapted = get_peft_model(model, peft_config).eval()
        adapted.save_pretrained(os.path.join(out, "adapter"))
        os.remove(os.path.join(out, "adapter", "README.md"))
        logits(adapted, prompts[0]).astype("<f4").tofile(os.path.join(out, "adapter_logits.f32"))
        reference = {"family": family, "transformers": transformers.__version__, "prompts": prompts, "greedy": list(continuations),
                     "min_margin": min(margins), "lora_targets": targets}
        with open(os.path.join(out, "reference.json"), "w") as f:
            json.dump(reference, f, indent=1)
        size = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(out) for n in ns)
        print(f"{family}: {sum(p.numel() for p in model.parameters())} parameters, {size // 1024} KB, greedy margin {min(margins):.4f}")


if __name__ == "__main__":
    sys.exit(main())
