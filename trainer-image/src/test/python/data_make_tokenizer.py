"""Writes a tiny byte-level BPE tokenizer.json (trained on a few sentences) into a folder.

Usage: data_make_tokenizer.py OUT_DIR BOS_TOKEN|- [OUT_DIR BOS_TOKEN|- ...]
The special tokens cover ChatML and Llama-3 templates. When BOS_TOKEN is given, the post-processor
prepends it (as Llama tokenizers do) so add_special_tokens=True inserts it. The test writes
tokenizer_config.json itself.
"""

import sys

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

SPECIALS = [
    "<unk>",
    "<s>",
    "</s>",
    "<|im_start|>",
    "<|im_end|>",
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
]

CORPUS = [
    "You are a helpful assistant. Answer briefly and politely.",
    "What is the capital of France? The capital of France is Paris.",
    "Translate hello into German. Hallo! Thank you, that is right.",
    "Kubernetes schedules pods onto nodes; the operator reconciles resources.",
    "Fine-tuning with LoRA trains small adapter matrices while the base model stays frozen.",
    "system user assistant Cutting Knowledge Date: December 2023",
    "Numbers 0123456789 and symbols: {}[]()<>!?.,;:'\"-_/\\ accents: é à ü ß ñ.",
]


def main() -> None:
    args = sys.argv[1:]
    for out, bos in zip(args[0::2], args[1::2]):
        make(out, bos)


def make(out: str, bos: str) -> None:
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS * 3, trainer=trainer)
    if bos != "-":
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A",
            pair=f"{bos} $A {bos} $B",
            special_tokens=[(bos, tok.token_to_id(bos))],
        )
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.save(f"{out}/tokenizer.json")


if __name__ == "__main__":
    main()
