#!/usr/bin/env python3
"""Tokenizer fixtures in each family's configuration, built with the Hugging Face `tokenizers`
package and trained on the committed corpus (Tests/FinchModelTests/Fixtures/corpus.jsonl, 1.1 MB):
  llama3       byte-level, Llama 3's Split pattern, ignore_merges, <|begin_of_text|> template
  qwen2        NFC, byte-level with Qwen2's pattern, ChatML added tokens
  sentencepiece  Llama 2 (legacy): Prepend + Replace normalizer, BPE with byte fallback, fuse_unk
  metaspace    Mistral-style: Metaspace pre-tokenizer (prepend first), byte fallback
  normalized   NFKC + Lowercase + Replace(regex), Digits, Metaspace split, added tokens with
               lstrip/rstrip/single_word/normalized
Writes Tests/FinchTextTests/Fixtures/tokenizers/NAME/tokenizer.json and NAME.ids.jsonl: for every
corpus document and every extra case, an FNV-1a 64 hash of the ids and of the decoded text (the
tests recompute both), plus the full ids and text for the short extra cases.
    /tmp/refvenv/bin/python scripts/reference/make_tokenizer_families.py"""
import json, os
from tokenizers import Tokenizer, AddedToken, Regex, models, normalizers, pre_tokenizers, decoders, processors, trainers

ROOT = "Tests/FinchTextTests/Fixtures/tokenizers"
docs = [json.loads(l)["text"] for l in open("Tests/FinchModelTests/Fixtures/corpus.jsonl", encoding="utf-8")]
extra = [
    "Hello world", " Hello", "  two spaces", "trailing  ", "\n\nnew lines\r\n", "I'll've we'RE they'S",
    "1234567 12 3.14159", "<|im_start|>user\nHi<|im_end|>\n", "<|begin_of_text|>Hello<|eot_id|>",
    "a <mask> b", "x<mask>y", "hello [SEP] world", "hello [sep] world", "greetings", "wordgreetings greetings.",
    "Ünïcödé ﬁ ＡＢＣ ① ²", "😀😀 🇫🇷", "tab\tand\u00a0nbsp", "", " ", "ſ Kelvin K", "日本語のテキスト", "<s>x</s>",
]
LLAMA3 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"

def fnv(data: bytes) -> str:
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"

def byte_level(pattern, specials, ignore_merges, template_bos=None, nfc=False):
    tok = Tokenizer(models.BPE(ignore_merges=ignore_merges))
    if nfc:
        tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(pattern), "isolated"),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(docs, trainers.BpeTrainer(vocab_size=3000, special_tokens=specials,
                                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    if template_bos:
        tok.post_processor = processors.TemplateProcessing(single=f"{template_bos} $A", special_tokens=[(template_bos, tok.token_to_id(template_bos))])
    return tok

def sentencepiece_like(normalizer, pre, decoder, specials, limit_alphabet=200, added=()):
    """BPE with byte fallback: <0x00>..<0xFF> sit in the model's vocabulary (not added tokens), as in Llama 2."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    tok.train_from_iterator(docs, trainers.BpeTrainer(vocab_size=3000, special_tokens=specials, limit_alphabet=limit_alphabet, show_progress=False))
    data = json.loads(tok.to_str())
    vocab = data["model"]["vocab"]
    order = sorted(vocab, key=vocab.get)
    special = order[:len(specials)]
    rest = [t for t in order[len(specials):]]
    new = special + [f"<0x{b:02X}>" for b in range(256)] + [t for t in rest if not (len(t) == 6 and t.startswith("<0x"))]
    data["model"]["vocab"] = {t: i for i, t in enumerate(new)}
    for a in data["added_tokens"]:
        a["id"] = data["model"]["vocab"][a["content"]]
    data["decoder"] = json.loads(decoder.__getstate__()) if hasattr(decoder, "__getstate__") else None
    tok = Tokenizer.from_str(json.dumps(data))
    tok.decoder = decoder
    for a in added:
        tok.add_tokens([a])
    return tok

configs = {}
configs["llama3"] = byte_level(LLAMA3, ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"], True, template_bos="<|begin_of_text|>")
configs["qwen2"] = byte_level(QWEN2, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], False, nfc=True)
configs["sentencepiece"] = sentencepiece_like(
    normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")]), None,
    decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]),
    ["<unk>", "<s>", "</s>"])
configs["sentencepiece"].post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
configs["metaspace"] = sentencepiece_like(
    None, pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False),
    decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace(replacement="▁", prepend_scheme="first", split=False)]),
    ["<unk>", "<s>", "</s>"])
configs["normalized"] = sentencepiece_like(
    normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase(), normalizers.Replace(Regex(r"\s+"), " ")]),
    pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=False), pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)]),
    decoders.Sequence([decoders.ByteFallback(), decoders.Fuse(), decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)]),
    ["<unk>", "<s>", "</s>"], limit_alphabet=120,
    added=[AddedToken("<mask>", lstrip=True, rstrip=True, normalized=False, special=True),
           AddedToken("[sep]", normalized=True, special=False),
           AddedToken("greetings", single_word=True, normalized=False, special=False)])

for name, tok in configs.items():
    os.makedirs(f"{ROOT}/{name}", exist_ok=True)
    tok.save(f"{ROOT}/{name}/tokenizer.json")
    with open(f"{ROOT}/{name}.ids.jsonl", "w", encoding="utf-8") as out:
        for kind, texts in (("corpus", docs), ("extra", extra)):
            for text in texts:
                ids = tok.encode(text).ids  # with the post-processor's special tokens
                decoded = tok.decode(ids, skip_special_tokens=False)
                row = {"ids": fnv(",".join(map(str, ids)).encode()), "decoded": fnv(decoded.encode())}
                if kind == "extra":
                    row.update(text=text, full_ids=ids, full_decoded=decoded)
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{name}: {tok.get_vocab_size()} tokens")
