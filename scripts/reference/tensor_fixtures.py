#!/usr/bin/env python3
"""Reference values of a few SmolLM2 tensors (one per GGUF type the file uses), dequantised
by the `gguf` package, for Tests/FinchModelTests/DequantizeTests.swift.
    /tmp/refvenv/bin/python scripts/reference/tensor_fixtures.py MODEL.gguf"""
import json, sys
import gguf, numpy as np

reader = gguf.GGUFReader(sys.argv[1])
names = ("token_embd.weight", "blk.0.attn_q.weight", "blk.0.ffn_down.weight", "blk.0.attn_norm.weight", "output_norm.weight")
out = {}
for t in reader.tensors:
    if t.name in names:
        x = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float64)
        out[t.name] = {"type": t.tensor_type.name, "shape": [int(v) for v in x.shape], "sum": float(x.sum()),
                       "sumsq": float((x * x).sum()), "first": [float(v) for v in x.reshape(-1)[:8]], "last": float(x.reshape(-1)[-1])}
with open("Tests/FinchModelTests/Fixtures/smollm2_tensors.json", "w") as f:
    f.write(json.dumps(out, indent=1) + "\n")
print(f"wrote {len(out)} tensors")
