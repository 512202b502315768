"""PyTorch's side of `finch bench train`: SmolLM2-135M at batch 4 x 256 tokens, a full-finetuning
step (AdamW) and a LoRA step (PEFT, rank 8, alpha 16 on q_proj and v_proj), in float32 and under
torch.autocast("cpu", dtype=torch.bfloat16), the four cases interleaved; prints medians as
`key: value` lines in tokens per second.

    python Benchmarks/torch_train_reference.py GGUF [--rounds N] [--threads T]

Needs torch, transformers, gguf and peft (in a virtualenv under /tmp, never a dependency of
Finch). The weights are SmolLM2's GGUF as Finch loads it, dequantised by transformers.
"""
import argparse
import os
import statistics
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

BATCH, SEQ = 4, 256


def load(gguf):
    model = AutoModelForCausalLM.from_pretrained(os.path.dirname(gguf), gguf_file=os.path.basename(gguf),
                                                 torch_dtype=torch.float32)
    model.config.use_cache = False
    return model.train()


def stepper(model, bf16):
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5)
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, model.config.vocab_size, (BATCH, SEQ), generator=gen)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=False)
    return step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gguf")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    full = load(args.gguf)
    lora = get_peft_model(load(args.gguf), LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], lora_dropout=0.0))
    cases = {"full_fp32": stepper(full, False), "full_bf16": stepper(full, True),
             "lora_fp32": stepper(lora, False), "lora_bf16": stepper(lora, True)}
    for step in cases.values():
        step()  # warm-up: allocations, optimiser state, oneDNN's kernels
    times = {k: [] for k in cases}
    for _ in range(args.rounds):
        for k, step in cases.items():
            t = time.perf_counter()
            step()
            times[k].append(time.perf_counter() - t)
    for k, ts in times.items():
        print(f"torch.{k}_tps: {BATCH * SEQ / statistics.median(ts):.1f}", flush=True)


if __name__ == "__main__":
    main()
