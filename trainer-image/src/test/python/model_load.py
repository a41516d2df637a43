"""Loads model folders written by our Java fixtures with transformers, as users and PEFT would.

usage: model_load.py OUT.safetensors FOLDER...

For each folder: AutoModelForCausalLM + AutoTokenizer from the folder, the f32 logits of the
folder's tokenized probe text (saved as "<index>.logits" with "<index>.ids" in OUT), and the
rendered chat template. Prints JSON with ids and template text per folder.
"""
import json
import sys

import torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

PROBE = "hello world , what is the capital of france ?"
CHAT = [{"role": "system", "content": "you are a helpful model"},
        {"role": "user", "content": "what is the capital of france ?"}]


def main(out_path, folders):
    torch.set_num_threads(2)
    tensors, report = {}, []
    for i, folder in enumerate(folders):
        tok = AutoTokenizer.from_pretrained(folder)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
        ids = torch.tensor([tok(PROBE)["input_ids"]])
        with torch.no_grad():
            logits = model(input_ids=ids).logits
        tensors[f"{i}.logits"] = logits.contiguous()
        tensors[f"{i}.ids"] = ids
        report.append({
            "ids": ids[0].tolist(),
            "chat": tok.apply_chat_template(CHAT, tokenize=False, add_generation_prompt=True),
            "model_class": type(model).__name__,
        })
    save_file(tensors, out_path)
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
