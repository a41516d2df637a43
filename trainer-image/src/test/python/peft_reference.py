"""Reference side of the PEFT interop tests (transformers + PEFT, fp32, CPU).

The input JSON names a mode:
  make-model: {"dir", "seed", "config": {LlamaConfig kwargs}} saves a seeded random tiny Llama
              (config.json + model.safetensors) that both sides load.
  logits:     {"model_dir", "adapter_dir", "input_ids", "attention_mask"} loads our adapter with
              PeftModel.from_pretrained and returns the logits.
  train:      {"model_dir", "adapter_dir", "examples": [{"input_ids", "labels"}], "batch_size",
              "accumulation", "total_steps", "lr", "weight_decay", "betas", "eps",
              "max_grad_norm", "schedule", "warmup_steps", "pad_id"} trains our initial adapter with
              a plain torch loop (torch.optim.AdamW, transformers' schedule, clip_grad_norm_) in the
              data order given, with the Hugging Face Trainer's grouping of micro-batches into steps
              and its token-level loss normalisation, and returns the per-step loss.
"""
import json
import sys

import torch
import torch.nn.functional as F
from peft import PeftModel
from transformers import (LlamaConfig, LlamaForCausalLM, get_constant_schedule,
                          get_constant_schedule_with_warmup, get_cosine_schedule_with_warmup,
                          get_linear_schedule_with_warmup)

SCHEDULES = {
    "linear": lambda o, w, t: get_linear_schedule_with_warmup(o, w, t),
    "cosine": lambda o, w, t: get_cosine_schedule_with_warmup(o, w, t),
    "constant": lambda o, w, t: get_constant_schedule(o),
    "constant_with_warmup": lambda o, w, t: get_constant_schedule_with_warmup(o, w),
}


def make_model(cfg):
    torch.manual_seed(cfg["seed"])
    config = LlamaConfig(**cfg["config"])
    model = LlamaForCausalLM(config).float()
    # transformers initialises with std 0.02; larger weights make the logits less trivial.
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0.0, 0.2)
    model.save_pretrained(cfg["dir"], safe_serialization=True)
    return {"parameters": sum(p.numel() for p in model.parameters())}


def load(cfg, trainable):
    base = LlamaForCausalLM.from_pretrained(cfg["model_dir"], dtype=torch.float32,
                                            attn_implementation="eager")
    return PeftModel.from_pretrained(base, cfg["adapter_dir"], is_trainable=trainable)


def logits(cfg):
    model = load(cfg, False).eval()
    ids = torch.tensor(cfg["input_ids"], dtype=torch.long)
    mask = torch.tensor(cfg["attention_mask"], dtype=torch.long)
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask).logits
    return {"shape": list(out.shape), "logits": out.flatten().tolist()}


def collate(examples, pad_id):
    width = max(len(e["input_ids"]) for e in examples)
    ids, mask, labels = [], [], []
    for e in examples:
        n = len(e["input_ids"])
        ids.append(e["input_ids"] + [pad_id] * (width - n))
        mask.append([1] * n + [0] * (width - n))
        labels.append(e["labels"] + [-100] * (width - n))
    return torch.tensor(ids), torch.tensor(mask), torch.tensor(labels)


def groups(examples, batch_size, accumulation):
    """Yields optimizer steps as lists of micro-batches, epoch after epoch, in the given order."""
    while True:
        micro = [examples[i:i + batch_size] for i in range(0, len(examples), batch_size)]
        for i in range(0, len(micro), accumulation):
            yield micro[i:i + accumulation]


def train(cfg):
    model = load(cfg, True)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg["lr"], betas=tuple(cfg["betas"]), eps=cfg["eps"],
                            weight_decay=cfg["weight_decay"])
    sched = SCHEDULES[cfg["schedule"]](opt, cfg["warmup_steps"], cfg["total_steps"])
    losses, norms, lrs = [], [], []
    it = groups(cfg["examples"], cfg["batch_size"], cfg["accumulation"])
    for _ in range(cfg["total_steps"]):
        group = [collate(mb, cfg["pad_id"]) for mb in next(it)]
        n = sum(int((labels[:, 1:] != -100).sum()) for _, _, labels in group)
        step_loss = 0.0
        for ids, mask, labels in group:
            out = model(input_ids=ids, attention_mask=mask).logits.float()
            loss = F.cross_entropy(out[:, :-1].reshape(-1, out.shape[-1]),
                                   labels[:, 1:].reshape(-1), ignore_index=-100,
                                   reduction="sum") / max(n, 1)
            loss.backward()
            step_loss += loss.item()
        norm = torch.nn.utils.clip_grad_norm_(params, cfg["max_grad_norm"] if cfg["max_grad_norm"] > 0
                                              else float("inf"))
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(step_loss)
        norms.append(float(norm))
    return {"losses": losses, "grad_norms": norms, "lrs": lrs}


def main(inp, outp):
    cfg = json.load(open(inp))
    torch.set_num_threads(1)
    result = {"make-model": make_model, "logits": logits, "train": train}[cfg["mode"]](cfg)
    json.dump(result, open(outp, "w"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
