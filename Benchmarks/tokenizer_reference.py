#!/usr/bin/env python3
"""Encode speed of the Hugging Face `tokenizers` package and `tiktoken` on the same text
and SmolLM2's vocabulary, to compare with `finch bench tokenizer`.

    python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install tokenizers gguf tiktoken
    /tmp/refvenv/bin/python Benchmarks/tokenizer_reference.py MODEL.gguf TEXT_FILE

tiktoken cannot fetch its own files offline, so its Encoding is built from the GGUF:
byte tokens rank 0..255, each merge's result ranks 256 + its position, and the
pattern puts SmolLM's digit split first (and keeps whitespace before a digit whole). Ids are mapped back to SmolLM2's and compared:
tiktoken merges any adjacent pair whose bytes form a ranked token, while BPE with a merge
list only applies listed merges, so a few documents can differ; the count is printed."""
import statistics, sys, time
import gguf, tiktoken
from tokenizers import Tokenizer, models, pre_tokenizers

reader = gguf.GGUFReader(sys.argv[1])
def strings(name):
    f = reader.fields[name]
    return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
tokens, merges = strings("tokenizer.ggml.tokens"), strings("tokenizer.ggml.merges")
text = open(sys.argv[2], encoding="utf-8", errors="replace").read()
docs, cur = [], []
size = 0
for line in text.split("\n"):
    cur.append(line); size += len(line.encode()) + 1
    if size >= 16384: docs.append("\n".join(cur) + "\n"); cur, size = [], 0
if cur: docs.append("\n".join(cur))
nbytes = sum(len(d.encode()) for d in docs)

hf = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=[tuple(m.split(" ", 1)) for m in merges]))
hf.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])

byte_of = {}
n = 256
for b in list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256)): byte_of[chr(b)] = b
for b in range(256):
    if chr(b) not in byte_of and b not in byte_of.values(): byte_of[chr(n)] = b; n += 1
def raw(tok): return bytes(byte_of[c] for c in tok)
ranks, rank_to_id = {}, {}
for b in range(256):
    t = next((t for t, v in byte_of.items() if v == b), None)
    if t in tokens: ranks[bytes([b])] = b; rank_to_id[b] = tokens.index(t)
for i, m in enumerate(merges):
    left, right = m.split(" ", 1)
    r = raw(left + right)
    if r not in ranks: ranks[r] = 256 + i; rank_to_id[256 + i] = tokens.index(left + right)
# SmolLM splits digits before GPT-2's pattern runs, so a whitespace run before a digit ends its
# segment and is taken whole: \s+(?=\p{N}) says that in a single pattern.
pattern = r"""\p{N}|'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?[^\s\p{L}\p{N}]+|\s+(?=\p{N})|\s+(?!\S)|\s+"""
tt = tiktoken.Encoding("smollm2", pat_str=pattern, mergeable_ranks=ranks, special_tokens={})

def timed(f, rounds=3):
    times = []
    for _ in range(rounds):
        t = time.perf_counter(); f(); times.append(time.perf_counter() - t)
    return statistics.median(times)

sample = docs
hf_ids = [e.ids for e in hf.encode_batch(sample)]
tt_ids = [[rank_to_id[r] for r in tt.encode_ordinary(d)] for d in sample]
print(f"tiktoken_same_ids_docs: {sum(a == b for a, b in zip(hf_ids, tt_ids))} of {len(sample)}")
print(f"text_mb: {nbytes / 1e6:.1f}")
print(f"hf_encode_mbps: {nbytes / timed(lambda: [hf.encode(d) for d in docs]) / 1e6:.2f}")
print(f"tiktoken_encode_mbps: {nbytes / timed(lambda: [tt.encode_ordinary(d) for d in docs]) / 1e6:.2f}")
