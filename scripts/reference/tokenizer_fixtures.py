#!/usr/bin/env python3
"""Reference token ids for the tokenizer tests, from the Hugging Face `tokenizers` package.

The reference tokenizer is in smollm_tokenizer.py. Run it in a virtualenv:
    python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install tokenizers gguf
    /tmp/refvenv/bin/python scripts/reference/tokenizer_fixtures.py MODEL.gguf
It reads Tests/FinchModelTests/Fixtures/corpus.jsonl and writes smollm2_ids.jsonl beside it."""
import json, os, sys
import gguf
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smollm_tokenizer

reader = gguf.GGUFReader(sys.argv[1])
tok, tokens = smollm_tokenizer.build(reader)

out_path = "Tests/FinchModelTests/Fixtures/smollm2_ids.jsonl"
with open("Tests/FinchModelTests/Fixtures/corpus.jsonl", encoding="utf-8") as f, open(out_path, "w") as out:
    n = 0
    for line in f:
        text = json.loads(line)["text"]
        ids = tok.encode(text, add_special_tokens=False).ids
        out.write(json.dumps({"ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False)}, ensure_ascii=False) + "\n")
        n += 1
print(f"wrote {out_path}: {n} documents")

# The course's batch examples: padding with the end-of-sequence token, truncation to 3 on either side.
texts = ["Hi, how are you?", "I'm good", "Yes"]
eos = int(reader.fields["tokenizer.ggml.eos_token_id"].parts[-1][0])
cases = {}
for name, pad, trunc in [("padding", "right", None), ("truncation_right", None, "right"), ("truncation_left", None, "left"),
                         ("padding_left_truncation_right", "left", "right")]:
    tok.no_padding(); tok.no_truncation()
    if pad: tok.enable_padding(direction=pad, pad_id=eos, pad_token=tokens[eos])
    if trunc: tok.enable_truncation(max_length=3, direction=trunc)
    enc = tok.encode_batch(texts, add_special_tokens=False)
    cases[name] = {"ids": [e.ids for e in enc], "attention_mask": [e.attention_mask for e in enc]}
with open("Tests/FinchModelTests/Fixtures/smollm2_batch.json", "w") as out:
    json.dump(cases, out, indent=1)
print("wrote the batch examples")
