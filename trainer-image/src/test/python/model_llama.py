"""Reference outputs of tiny random Llama-family models from HF transformers.

usage: model_llama.py WORKDIR TOKENIZER_DIR

Creates seeded random models under WORKDIR/<case>/ with save_pretrained (one case sharded, one
stored in bf16), then writes WORKDIR/<case>/reference.safetensors holding a right-padded batch
(input_ids, attention_mask) and transformers' f32 logits for it. Prints JSON with greedy
generate() outputs per case and the token ids AutoTokenizer gives for some texts.
"""
import copy
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import (AutoTokenizer, LlamaConfig, LlamaForCausalLM, MistralConfig,
                          MistralForCausalLM, Qwen2Config, Qwen2ForCausalLM)

VOCAB = 64
BASE = dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
            num_attention_heads=4, max_position_embeddings=256, rms_norm_eps=1e-5,
            bos_token_id=1, eos_token_id=2, pad_token_id=0)

CASES = {
    # name: (config class, model class, overrides, save options)
    "gqa_sharded": (LlamaConfig, LlamaForCausalLM,
                    dict(num_key_value_heads=2, tie_word_embeddings=False), dict(max_shard_size="20KB")),
    "tied_llama3": (LlamaConfig, LlamaForCausalLM,
                    dict(hidden_size=64, num_key_value_heads=1, tie_word_embeddings=True,
                         rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                           high_freq_factor=4.0, original_max_position_embeddings=16)),
                    {}),
    "mha_linear_bias": (LlamaConfig, LlamaForCausalLM,
                        dict(num_key_value_heads=4, head_dim=12, tie_word_embeddings=False,
                             attention_bias=True, mlp_bias=True,
                             rope_scaling=dict(rope_type="linear", factor=2.0)),
                        {}),
    "gqa_bf16": (LlamaConfig, LlamaForCausalLM,
                 dict(num_key_value_heads=2, tie_word_embeddings=False, rope_theta=500000.0), dict(bf16=True)),
    "qwen2": (Qwen2Config, Qwen2ForCausalLM,
              dict(num_key_value_heads=2, tie_word_embeddings=True, use_sliding_window=False), {}),
    "mistral": (MistralConfig, MistralForCausalLM,
                dict(num_key_value_heads=2, tie_word_embeddings=False, sliding_window=None), {}),
}


def make_model(name, config_cls, model_cls, overrides, seed):
    cfg = config_cls(**{**BASE, **overrides})
    torch.manual_seed(seed)
    model = model_cls(cfg).eval()
    # Default init (std 0.02, unit norms) gives near-uniform logits; spread them so the
    # comparison is meaningful.
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if "norm" in pname:
                p.copy_(1 + 0.1 * torch.randn_like(p))
            else:
                p.normal_(0.0, 0.15)
    return model


def batch(seed):
    g = torch.Generator().manual_seed(seed)
    lengths = [7, 4, 2]
    ids = torch.randint(3, VOCAB, (len(lengths), max(lengths)), generator=g)
    ids[:, 0] = 1
    mask = torch.zeros_like(ids)
    for row, n in enumerate(lengths):
        mask[row, :n] = 1
        ids[row, n:] = 0
    return ids, mask


def main(work, tokdir):
    torch.set_num_threads(2)
    out = {"models": {}, "tokens": []}
    for i, (name, (config_cls, model_cls, overrides, save)) in enumerate(CASES.items()):
        model = make_model(name, config_cls, model_cls, overrides, seed=100 + i)
        folder = os.path.join(work, name)
        if save.get("bf16"):
            # The reference computes in f32 on exactly the bf16-rounded weights we will read; a
            # whole-model .to(bfloat16) would also round the rotary inv_freq buffer, so round the
            # parameters only and save a bf16 copy.
            with torch.no_grad():
                for p in model.parameters():
                    p.copy_(p.to(torch.bfloat16).to(torch.float32))
            copy.deepcopy(model).to(torch.bfloat16).save_pretrained(folder)
        else:
            kwargs = {"max_shard_size": save["max_shard_size"]} if "max_shard_size" in save else {}
            model.save_pretrained(folder, **kwargs)
        ids, mask = batch(seed=200 + i)
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask).logits.float()
        save_file({"input_ids": ids, "attention_mask": mask, "logits": logits.contiguous()},
                  os.path.join(folder, "reference.safetensors"))
        gens = []
        for row in range(2):
            n = int(mask[row].sum())
            prompt = ids[row:row + 1, : min(n, 4)]
            with torch.no_grad():
                seq = model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False,
                                     max_new_tokens=12, eos_token_id=2, pad_token_id=0)
            gens.append({"prompt": prompt[0].tolist(), "output": seq[0, prompt.shape[1]:].tolist()})
        out["models"][name] = {"generate": gens, "files": sorted(os.listdir(folder))}

    tok = AutoTokenizer.from_pretrained(tokdir)
    long_text = " ".join(["the sky is blue and the sea is green ."] * 80)
    texts = ["hello world", "what is the capital of france ?", "Hello, World!",
             "<|im_start|>user\nhello<|im_end|>\n", "zebra unknown words", long_text, ""]
    for text in texts:
        out["tokens"].append({"text": text,
                              "with_special": tok(text)["input_ids"],
                              "without_special": tok(text, add_special_tokens=False)["input_ids"]})
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
