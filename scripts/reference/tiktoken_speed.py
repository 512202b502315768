#!/usr/bin/env python3
"""tiktoken built from a byte-level tokenizer.json (same vocabulary, same Split pattern), timed for
`finch bench tokenizer`: reads documents (JSON list of strings) from the file given, encodes them all
once to warm up, then once timed, and writes the seconds to the output file.
    FINCH_BENCH_PYTHON=/tmp/refvenv/bin/python finch bench tokenizer   (pip install tiktoken there)"""
import json, sys, time
import tiktoken

tokenizer_json, docs_path, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
data = json.load(open(tokenizer_json, encoding="utf-8"))
pre = data["pre_tokenizer"]
steps = pre.get("pretokenizers", [pre])
pattern = next((s["pattern"]["Regex"] for s in steps if s["type"] == "Split"),
               r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
if any(s["type"] == "Digits" and s.get("individual_digits") for s in steps):
    # SmolLM2's: every digit on its own, then GPT-2's pattern on the rest.
    pattern = r"""\p{N}|'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
cs, n = bs[:], 0
for b in range(256):
    if b not in bs:
        bs.append(b); cs.append(256 + n); n += 1
to_byte = {chr(c): b for b, c in zip(bs, cs)}
ranks = {bytes(to_byte[ch] for ch in t): i for t, i in data["model"]["vocab"].items() if all(ch in to_byte for ch in t)}
enc = tiktoken.Encoding("finch-bench", pat_str=pattern, mergeable_ranks=ranks, special_tokens={})
docs = json.load(open(docs_path, encoding="utf-8"))
for d in docs:
    enc.encode_ordinary(d)
start = time.perf_counter()
for d in docs:
    enc.encode_ordinary(d)
open(out_path, "w").write(str(time.perf_counter() - start))
