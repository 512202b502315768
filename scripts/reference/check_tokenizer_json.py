#!/usr/bin/env python3
"""Checks that the Hugging Face `tokenizers` package loads a tokenizer.json written by Finch
(`tokenizer("smollm2-135m").save(DIR)`) and encodes the test corpus exactly as the reference does.
    /tmp/refvenv/bin/python scripts/reference/check_tokenizer_json.py DIR"""
import json, sys
from tokenizers import Tokenizer

tok = Tokenizer.from_file(sys.argv[1] + "/tokenizer.json")
fixtures = "Tests/FinchModelTests/Fixtures/"
ref = [json.loads(l)["ids"] for l in open(fixtures + "smollm2_ids.jsonl")]
docs = [json.loads(l)["text"] for l in open(fixtures + "corpus.jsonl")]
same = sum(tok.encode(d, add_special_tokens=False).ids == r for d, r in zip(docs, ref))
print(f"tokenizers loads the tokenizer.json: {same} of {len(docs)} documents identical")
sys.exit(0 if same == len(docs) else 1)
