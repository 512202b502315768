#!/usr/bin/env python3
"""Builds the tokenizer test corpus (Tests/FinchModelTests/Fixtures/corpus.jsonl): documents
mixing English prose, source code, numbers and dates, whitespace runs, punctuation clusters,
non-Latin scripts, emoji and control characters, over 1 MB. Deterministic (seeded); prose and code come
from files given on the command line (this project's docs and sources when it was made)."""
import json, random, sys

random.seed(20261125)
docs = []
for path in sys.argv[1:]:
    text = open(path, encoding="utf-8").read()
    for i in range(0, len(text), 4000):
        docs.append(text[i:i + 4000])

scripts = [
    "Привет, как дела? Всё хорошо, спасибо.",
    "你好，你今天怎么样？我很好，谢谢。",
    "こんにちは、元気ですか？カタカナとひらがな。",
    "مرحبا، كيف حالك؟ أنا بخير.",
    "नमस्ते, आप कैसे हैं?",
    "Γειά σου Κόσμε, τι κάνεις;",
    "שלום עולם, מה שלומך?",
    "안녕하세요, 잘 지내세요?",
    "e\u0301 combining ñ n\u0303 Å A\u030a",
    "emoji 🐦🐦 👩‍💻 🇫🇷 ❤️‍🔥 1️⃣",
]
punct = ["!!!", "?!", "...", "---", "=>", "::", "{{}}", "''", '""', "(...)", "#!/", "&&||", "<|>", "``", "~~~"]
for d in range(1000):
    parts = []
    for _ in range(random.randint(20, 60)):
        kind = random.random()
        if kind < 0.2:
            parts.append(f"{random.randint(1900, 2030)}-{random.randint(1, 12):02d}-{random.randint(1, 28):02d}")
        elif kind < 0.35:
            parts.append(str(random.randint(0, 10 ** random.randint(1, 12))) + random.choice(["", ".5", ",000", "%", "e-3"]))
        elif kind < 0.5:
            parts.append(random.choice(scripts))
        elif kind < 0.62:
            parts.append(random.choice(punct) * random.randint(1, 3))
        elif kind < 0.74:
            parts.append(random.choice([" " * random.randint(2, 9), "\t" * random.randint(1, 3), "\n" * random.randint(1, 4), " \n \n", "\r\n"]))
        elif kind < 0.8:
            parts.append("".join(chr(random.choice([0, 1, 7, 8, 11, 12, 27, 127, 0x85, 0xA0, 0x2028])) for _ in range(random.randint(1, 3))))
        else:
            parts.append(random.choice(["I'm", "you're", "they've", "it's", "we'll", "he'd", "DON'T", "O'Neil", "rock'n'roll"]) + " " +
                         random.choice(["the", "model", "learns", "from", "data", "fine-tuning", "LoRA", "tokens"]))
        parts.append(random.choice([" ", "", "  ", "\n"]))
    docs.append("".join(parts))

with open("Tests/FinchModelTests/Fixtures/corpus.jsonl", "w", encoding="utf-8") as f:
    for d in docs:
        f.write(json.dumps({"text": d}, ensure_ascii=False) + "\n")
print(f"{len(docs)} documents, {sum(len(d.encode()) for d in docs)} bytes")
