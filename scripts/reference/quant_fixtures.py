#!/usr/bin/env python3
"""Random blocks of every GGUF type Finch reads, dequantised by the `gguf` package, for
Tests/FinchModelTests/DequantizeTests.swift.
    /tmp/refvenv/bin/python scripts/reference/quant_fixtures.py"""
import json
import numpy as np
from gguf import GGMLQuantizationType as T, quants

rng = np.random.default_rng(7)
# (type, bytes per block, offsets of f16 scale fields)
layouts = [(T.Q4_0, 18, [0]), (T.Q4_1, 20, [0, 2]), (T.Q8_0, 34, [0]), (T.Q4_K, 144, [0, 2]), (T.Q6_K, 210, [208])]
out = {}
for t, size, halves in layouts:
    raw = rng.integers(0, 256, size=size * 2, dtype=np.uint8)
    for b in range(2):
        for h in halves:
            raw[b * size + h: b * size + h + 2] = np.frombuffer(np.float16(rng.uniform(-0.1, 0.1)).tobytes(), dtype=np.uint8)
    values = quants.dequantize(raw, t).reshape(-1)
    out[t.name] = {"hex": raw.tobytes().hex(), "values": [float(v) for v in values]}
x = rng.normal(size=64).astype(np.float32)
out["BF16"] = {"hex": (x.view(np.uint32) >> 16).astype(np.uint16).tobytes().hex(),
               "values": [float(v) for v in ((x.view(np.uint32) >> 16) << 16).view(np.float32)]}
out["F16"] = {"hex": x.astype(np.float16).tobytes().hex(), "values": [float(v) for v in x.astype(np.float16).astype(np.float32)]}
with open("Tests/FinchModelTests/Fixtures/quant_blocks.json", "w") as f:
    json.dump(out, f)
print("wrote", ", ".join(out))
