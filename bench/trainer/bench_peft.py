"""Reference side of the LoRA training benchmark (transformers + PEFT, fp32, CPU).

  prepare <work> <seq_len> <examples>: saves a seeded ~31M-parameter Llama (config.json +
      model.safetensors) and a JSON list of training examples that both sides train on.
  train <work> <threads> <batch> <warmup> <steps> <rank>: LoRA (all-linear, alpha 2r, dropout 0)
      with torch.optim.AdamW; prints one JSON line with tokens/s over the measured steps and the
      peak RSS of this process.
"""
import json
import os
import resource
import sys
import time

CONFIG = dict(vocab_size=8000, hidden_size=512, intermediate_size=1376, num_hidden_layers=8,
              num_attention_heads=8, num_key_value_heads=4, max_position_embeddings=1024,
              tie_word_embeddings=False)


def prepare(work, seq_len, examples):
    import random

    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(**CONFIG)).float()
    model.save_pretrained(os.path.join(work, "model"), safe_serialization=True)
    rng = random.Random(0)
    data = []
    for _ in range(examples):
        ids = [rng.randrange(3, CONFIG["vocab_size"]) for _ in range(seq_len)]
        # Loss on the second half, like a prompt/completion pair.
        labels = [-100] * (seq_len // 2) + ids[seq_len // 2:]
        data.append({"input_ids": ids, "labels": labels})
    json.dump(data, open(os.path.join(work, "data.json"), "w"))
    print(json.dumps({"parameters": sum(p.numel() for p in model.parameters())}))


def rss_mib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def train(work, threads, batch, warmup, steps, rank):
    import torch
    import torch.nn.functional as F
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaForCausalLM
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(threads)
    torch.manual_seed(0)
    base = LlamaForCausalLM.from_pretrained(os.path.join(work, "model"), dtype=torch.float32)
    model = get_peft_model(base, LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0,
                                            target_modules="all-linear", task_type="CAUSAL_LM"))
    model.train()
    setup_rss = rss_mib("VmRSS:")
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)
    data = json.load(open(os.path.join(work, "data.json")))
    tokens, start, durations = 0, None, []
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
            tokens = 0
        began = time.perf_counter()
        mb = data[(step * batch) % len(data):][:batch]
        ids = torch.tensor([e["input_ids"] for e in mb])
        labels = torch.tensor([e["labels"] for e in mb])
        n = int((labels[:, 1:] != -100).sum())
        logits = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits.float()
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]),
                               labels[:, 1:].reshape(-1), ignore_index=-100, reduction="sum") / n
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad()
        if step >= warmup:
            durations.append(time.perf_counter() - began)
        tokens += ids.numel()
    seconds = time.perf_counter() - start
    durations.sort()
    print(json.dumps({"tokensPerSecond": tokens / seconds, "seconds": seconds, "tokens": tokens,
                      "medianStepTokensPerSecond": ids.numel() / durations[len(durations) // 2],
                      "bestStepTokensPerSecond": ids.numel() / durations[0],
                      "finalLoss": float(loss.detach()), "setupRssMiB": setup_rss,
                      "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        prepare(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        train(sys.argv[2], *(int(a) for a in sys.argv[3:8]))
