#!/usr/bin/env python3
"""Builds the quick-start texts from Debian packages (wordnet-base, fortunes); no downloads.

usage: build_corpus.py OUT_DIR

Writes into OUT_DIR:
  corpus-train.txt    pre-training documents, one per line: every WordNet synset as
                      "word (pos): gloss. Synonyms: .... Example: ..." plus the fortunes
  corpus-heldout.txt  about 1% of the synsets, never used for pre-training (perplexity check)
  define-train.jsonl  chat examples "Define the word X." -> WordNet definition of X
  define-valid.jsonl  the same for words that are NOT in define-train.jsonl

The fine-tuning words are taken from the pre-training synsets: the base model has read their
glosses as plain text, and fine-tuning teaches it to answer a chat question with them. Held-out
validation words show whether that generalises beyond the words seen during fine-tuning.
Everything is deterministic (fixed seed, sorted inputs).
"""
import hashlib
import json
import os
import random
import re
import sys

WORDNET = "/usr/share/wordnet"
FORTUNES = "/usr/share/games/fortunes"
POS = {"noun": "noun", "verb": "verb", "adj": "adjective", "adv": "adverb"}
FINETUNE_TRAIN = 1500
FINETUNE_VALID = 120


def synsets():
    """Yields (offset, pos, lemmas, definition, examples) for every synset of WordNet."""
    for suffix, pos in POS.items():
        with open(os.path.join(WORDNET, "data." + suffix), encoding="latin-1") as f:
            for line in f:
                if line.startswith(" "):
                    continue  # license header
                head, _, gloss = line.partition(" | ")
                fields = head.split()
                count = int(fields[3], 16)
                lemmas = []
                for i in range(count):
                    word = fields[4 + 2 * i]
                    word = re.sub(r"\(.*\)$", "", word)  # adjective markers such as (a)
                    lemmas.append(word.replace("_", " "))
                parts = [p.strip() for p in gloss.strip().split(";")]
                definition = parts[0].strip()
                examples = [p.strip().strip('"') for p in parts[1:] if p.strip().startswith('"')]
                if definition:
                    yield fields[0] + suffix, pos, lemmas, definition, examples


def document(pos, lemmas, definition, examples):
    text = f"{lemmas[0]} ({pos}): {definition}."
    if len(lemmas) > 1:
        text += " Synonyms: " + ", ".join(lemmas[1:]) + "."
    for e in examples[:2]:
        text += " Example: " + e
    return text


def held_out(key):
    # A hash, not random(): the held-out slice stays the same when the seed or order changes.
    return hashlib.sha256(key.encode()).digest()[0] < 3  # ~1.2%


def fortunes():
    out = []
    for name in sorted(os.listdir(FORTUNES)):
        path = os.path.join(FORTUNES, name)
        if "." in name or not os.path.isfile(path):
            continue  # .dat indexes and .u8 copies
        with open(path, encoding="utf-8", errors="replace") as f:
            for entry in f.read().split("\n%\n"):
                text = " ".join(entry.split())
                if 20 <= len(text) <= 600:
                    out.append(text)
    return out


def chat(word, pos, definition):
    # The answer takes the dictionary form the base model read during pre-training, so that
    # fine-tuning only has to connect the question to knowledge the model already has.
    return json.dumps({"messages": [
        {"role": "user", "content": f"Define the word \"{word}\"."},
        {"role": "assistant", "content": f"{word} ({pos}): {definition}."},
    ]})


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    train, heldout, candidates, seen = [], [], [], set()
    for key, pos, lemmas, definition, examples in synsets():
        doc = document(pos, lemmas, definition, examples)
        if held_out(key):
            heldout.append(doc)
            continue
        train.append(doc)
        word = lemmas[0]
        # One sense per word, single plain words with a short definition: the question is then
        # unambiguous and the answer fits the quick start's sequence length.
        if word.isalpha() and word.islower() and word not in seen and len(definition) <= 80:
            seen.add(word)
            candidates.append((word, pos, definition))
    train.extend(fortunes())
    rng = random.Random(7)
    rng.shuffle(train)
    rng.shuffle(candidates)
    with open(os.path.join(out_dir, "corpus-train.txt"), "w", encoding="utf-8") as f:
        f.writelines(d + "\n" for d in train)
    with open(os.path.join(out_dir, "corpus-heldout.txt"), "w", encoding="utf-8") as f:
        f.writelines(d + "\n" for d in heldout)
    with open(os.path.join(out_dir, "define-train.jsonl"), "w", encoding="utf-8") as f:
        f.writelines(chat(*c) + "\n" for c in candidates[:FINETUNE_TRAIN])
    with open(os.path.join(out_dir, "define-valid.jsonl"), "w", encoding="utf-8") as f:
        end = FINETUNE_TRAIN + FINETUNE_VALID
        f.writelines(chat(*c) + "\n" for c in candidates[FINETUNE_TRAIN:end])
    print(f"{len(train)} pre-training documents, {len(heldout)} held out,"
          f" {len(candidates)} definition candidates", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
