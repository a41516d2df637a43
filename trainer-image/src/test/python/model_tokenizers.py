"""Tokenizer interop: trains small tokenizers of the kinds real Llama-family models ship and
reports the ids transformers gives, so the Java side can compare its ids on the same files.

usage: model_tokenizers.py WORKDIR

Writes WORKDIR/bytelevel (Llama 3 style: byte-level BPE, regex split, BOS template) and
WORKDIR/metaspace (Llama 2 / Mistral style: Metaspace BPE, BOS template), each through
PreTrainedTokenizerFast.save_pretrained. Prints JSON {name: [{text, with_special,
without_special, decoded}]}.
"""
import json
import os
import sys

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Paris is the capital of France; Berlin is the capital of Germany.",
    "def add(a, b):\n    return a + b\n",
    "Numbers like 12345 and 3.14159 appear in text.",
    "Café, naïve, jalapeño: accents matter. 日本語のテキスト。",
] * 20

TEXTS = [
    "Hello world!",
    "  leading and   inner spaces",
    "unicode: café ñ 日本語 🙂 emoji",
    "line1\nline2\n\n\tindented",
    "numbers 12345 678 3.14",
    "special <|eot|> inside text",
    "",
]

LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def bytelevel():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    specials = ["<|bos|>", "<|eot|>", "<|pad|>"]
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    bos = tok.token_to_id("<|bos|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|bos|> $A", pair="<|bos|> $A <|bos|> $B",
                                      special_tokens=[("<|bos|>", bos)]),
    ])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|bos|>", eos_token="<|eot|>",
                                   pad_token="<|pad|>")


def metaspace():
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first")
    specials = ["<unk>", "<s>", "</s>"]
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=specials)
    tok.train_from_iterator(CORPUS, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", tok.token_to_id("<s>"))])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                   unk_token="<unk>")


def main(work):
    out = {}
    for name, make in (("bytelevel", bytelevel), ("metaspace", metaspace)):
        folder = os.path.join(work, name)
        make().save_pretrained(folder)
        tok = AutoTokenizer.from_pretrained(folder)
        rows = []
        for text in TEXTS:
            ids = tok(text)["input_ids"]
            rows.append({"text": text, "with_special": ids,
                         "without_special": tok(text, add_special_tokens=False)["input_ids"],
                         "decoded": tok.decode(ids, skip_special_tokens=True)})
        out[name] = rows
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
