"""Reference data processing with HF transformers, for ChatTemplateInteropTest.

Usage: data_chat_reference.py REQUEST_JSON RESPONSE_JSON [REQUEST_JSON RESPONSE_JSON ...]
(one interpreter for several requests: importing transformers dominates the run time)

The request names a tokenizer folder and lists conversations, instruction pairs and texts. For
each conversation and add_generation_prompt in (False, True) the response holds
apply_chat_template's text and token ids; for conversations ending with an assistant turn also the
assistant mask from return_assistant_tokens_mask, computed with a variant of the template that marks
assistant text with {% generation %} (an independent route to the labels). Instruction pairs give
tokenizer(prompt + completion) ids (EOS appended unless present) and a completion mask from the
offsets; texts give tokenizer(text) ids.
"""

import json
import sys

from transformers import AutoTokenizer


def main() -> None:
    args = sys.argv[1:]
    for request, response in zip(args[0::2], args[1::2]):
        answer(request, response)


def answer(request: str, response: str) -> None:
    with open(request, encoding="utf-8") as f:
        req = json.load(f)
    tok = AutoTokenizer.from_pretrained(req["model_dir"])
    out = {"chats": [], "instructions": [], "texts": [], "templates": []}
    for conv in req.get("conversations", []):
        entry = {}
        for gen in (False, True):
            key = "gen" if gen else "plain"
            entry[key + "_text"] = tok.apply_chat_template(
                conv, tokenize=False, add_generation_prompt=gen
            )
            entry[key + "_ids"] = list(
                tok.apply_chat_template(
                    conv, tokenize=True, add_generation_prompt=gen, return_dict=True
                )["input_ids"]
            )
        if conv[-1]["role"] == "assistant" and req.get("marked_template"):
            res = tok.apply_chat_template(
                conv,
                chat_template=req["marked_template"],
                tokenize=True,
                return_dict=True,
                return_assistant_tokens_mask=True,
            )
            entry["mask_ids"] = list(res["input_ids"])
            entry["mask"] = list(res["assistant_masks"])
        out["chats"].append(entry)
    for t in req.get("templates", []):
        # Extra templates exercising Jinja features; rendering only.
        out["templates"].append(
            [
                tok.apply_chat_template(
                    conv, chat_template=t, tokenize=False, add_generation_prompt=gen
                )
                for conv in req.get("conversations", [])
                for gen in (False, True)
            ]
        )
    eos = tok.eos_token_id
    for pair in req.get("instructions", []):
        prompt, completion = pair["prompt"], pair["completion"]
        enc = tok(prompt + completion, return_offsets_mapping=True)
        ids = list(enc["input_ids"])
        start = len(prompt)
        # A token is learned when its characters overlap the completion; special tokens added by
        # the tokenizer (BOS) have empty offsets and are not.
        mask = [1 if (e > s and e > start) else 0 for (s, e) in enc["offset_mapping"]]
        if eos is not None and (not ids or ids[-1] != eos):
            ids.append(eos)
            mask.append(1)
        elif ids and ids[-1] == eos:
            mask[-1] = 1
        out["instructions"].append({"ids": ids, "mask": mask})
    for text in req.get("texts", []):
        out["texts"].append({"ids": list(tok(text)["input_ids"])})
    with open(response, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
