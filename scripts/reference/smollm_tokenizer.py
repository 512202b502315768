"""The reference tokenizer for SmolLM2, built with the Hugging Face `tokenizers` package from a
GGUF's tokens and merges with SmolLM's pre-tokenizer (every digit its own piece, then GPT-2's
byte-level pattern) — what llama.cpp does for tokenizer.ggml.pre = "smollm"."""
import gguf
from tokenizers import Tokenizer, AddedToken, models, pre_tokenizers, decoders


def field(reader, name):
    f = reader.fields[name]
    if f.types[0] == gguf.GGUFValueType.ARRAY and f.types[-1] == gguf.GGUFValueType.STRING:
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
    return [int(f.parts[i][0]) for i in f.data]


def build(reader):
    """(tokenizer, tokens) for the GGUF that `reader` reads."""
    tokens = field(reader, "tokenizer.ggml.tokens")
    merges = field(reader, "tokenizer.ggml.merges")
    types = field(reader, "tokenizer.ggml.token_type")
    vocab = {t: i for i, t in enumerate(tokens)}
    bpe = models.BPE(vocab=vocab, merges=[tuple(m.split(" ", 1)) for m in merges], fuse_unk=False)
    tok = Tokenizer(bpe)
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(tokens[i], special=True, normalized=False) for i, t in enumerate(types) if t in (3, 4)])
    return tok, tokens
