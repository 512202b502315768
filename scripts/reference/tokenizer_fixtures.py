#!/usr/bin/env python3
"""Reference token ids for the tokenizer tests, from the Hugging Face `tokenizers` package.

The reference tokenizer is built from the GGUF's tokens and merges with SmolLM's
pre-tokenizer (every digit its own piece, then GPT-2's byte-level pattern) — what
llama.cpp does for tokenizer.ggml.pre = "smollm". Run it in a virtualenv:
    python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install tokenizers gguf
    /tmp/refvenv/bin/python scripts/reference/tokenizer_fixtures.py MODEL.gguf
It reads Tests/FinchModelTests/Fixtures/corpus.jsonl and writes smollm2_ids.jsonl beside it."""
import json, sys
import gguf
from tokenizers import Tokenizer, AddedToken, models, pre_tokenizers, decoders

reader = gguf.GGUFReader(sys.argv[1])
def field(name):
    f = reader.fields[name]
    return [bytes(f.parts[i]).decode("utf-8") for i in f.data] if f.types[0] == gguf.GGUFValueType.ARRAY and f.types[-1] == gguf.GGUFValueType.STRING else [int(f.parts[i][0]) for i in f.data]
tokens = field("tokenizer.ggml.tokens")
merges = field("tokenizer.ggml.merges")
types = field("tokenizer.ggml.token_type")

vocab = {t: i for i, t in enumerate(tokens)}
bpe = models.BPE(vocab=vocab, merges=[tuple(m.split(" ", 1)) for m in merges], fuse_unk=False)
tok = Tokenizer(bpe)
tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                             pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
tok.decoder = decoders.ByteLevel()
tok.add_special_tokens([AddedToken(tokens[i], special=True, normalized=False) for i, t in enumerate(types) if t in (3, 4)])

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
