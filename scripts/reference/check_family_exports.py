#!/usr/bin/env python3
"""By hand: what Finch writes for every family loads in transformers and PEFT and computes the same.

Finch finetunes each tiny model of Fixtures/families (make_family_fixtures.py) — fully, then with
LoRA on the family's default targets — and saves the Hugging Face folder and the PEFT adapter;
transformers loads the folder, PEFT puts the adapter on the fixture's base model, and both
logits are compared with Finch's (tolerance 1e-4).

    /tmp/refvenv/bin/python scripts/reference/check_family_exports.py [path/to/finch]"""
import json, os, subprocess, sys, tempfile
import numpy as np
import torch
import transformers
from peft import PeftModel

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
FIXTURES = os.path.abspath(os.path.join(ROOT, "Tests", "FinchModelTests", "Fixtures", "families"))
FAMILIES = ["llama", "mistral", "qwen2", "qwen3", "gemma2", "gemma3_text", "phi3", "gpt_neox", "gpt2"]
PROMPT = [5, 17, 42, 99, 3, 250, 7]
SCRIPT = """
data = dataset([{"question": "What is Finch?", "answer": "A finetuning lab."},
                {"question": "What does LoRA train?", "answer": "Two small matrices."}])
for family in FAMILIES {
  full = load_model("ROOT/" + family)
  train(full, data, steps: 3, batch: 2, lr: 1e-2, max_length: 64, print_every: 100)
  full.save("OUT/" + family + "/full")
  write_text("OUT/" + family + "/full_logits.json", str(full.forward(PROMPT).tolist()))
  adapted = load_model("ROOT/" + family)
  adapted.lora(rank: 4, alpha: 8)
  train(adapted, data, steps: 3, batch: 2, lr: 5e-2, max_length: 64, print_every: 100)
  adapted.save_adapter("OUT/" + family + "/adapter")
  write_text("OUT/" + family + "/adapter_logits.json", str(adapted.forward(PROMPT).tolist()))
}
"""


def logits(model):
    with torch.no_grad():
        return model(torch.tensor([PROMPT])).logits[0].float().numpy()


def main():
    finch = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "release", "finch")
    out = tempfile.mkdtemp(prefix="finch-family-exports-")
    script = SCRIPT.replace("FAMILIES", json.dumps(FAMILIES)).replace("ROOT", FIXTURES).replace("OUT", out).replace("PROMPT", str(PROMPT))
    with open(os.path.join(out, "exports.finch"), "w") as f:
        f.write(script)
    subprocess.run([finch, "run", os.path.join(out, "exports.finch")], check=True, stdout=subprocess.DEVNULL)
    worst = 0.0
    for family in FAMILIES:
        d = os.path.join(out, family)
        full = transformers.AutoModelForCausalLM.from_pretrained(os.path.join(d, "full"), attn_implementation="eager").float().eval()
        a = np.abs(logits(full) - np.array(json.load(open(os.path.join(d, "full_logits.json"))))).max()
        base = transformers.AutoModelForCausalLM.from_pretrained(os.path.join(FIXTURES, family), attn_implementation="eager").float().eval()
        adapted = PeftModel.from_pretrained(base, os.path.join(d, "adapter")).eval()
        adapted_logits = logits(adapted)
        b = np.abs(adapted_logits - np.array(json.load(open(os.path.join(d, "adapter_logits.json"))))).max()
        # The comparison means something only if training moved the logits.
        with adapted.disable_adapter():
            base_logits = logits(adapted)
        moved = min(np.abs(logits(full) - base_logits).max(), np.abs(adapted_logits - base_logits).max())
        targets = json.load(open(os.path.join(d, "adapter", "adapter_config.json")))["target_modules"]
        print(f"{family:11s} finetuned model in transformers: max |Δlogit| {a:.2e}   Finch LoRA ({', '.join(targets)}) in PEFT: {b:.2e}"
              f"   (training moved the logits by {moved:.2f})")
        worst = max(worst, a, b, 1 if moved < 1e-2 else 0)
    print("all within 1e-4" if worst < 1e-4 else f"WORST {worst:.2e} exceeds 1e-4")
    return 0 if worst < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
