"""Reference for OptimizerInteropTest: torch.optim.AdamW, clip_grad_norm_ and transformers' schedules.

Input: {"params": [{"shape": [...], "values": [...]}], "grads": [[flat grad per param] per step],
"lr", "weight_decay", "betas", "eps", "max_grad_norm", "schedule", "warmup_steps", "total_steps"}.
Output: {"params": [[flat values per param] per step], "norms": [...], "lrs": [...],
"multipliers": {schedule: [...]}}.
"""
import json
import sys

import torch
from transformers import (get_constant_schedule, get_constant_schedule_with_warmup,
                          get_cosine_schedule_with_warmup, get_linear_schedule_with_warmup)

SCHEDULES = {
    "linear": lambda o, w, t: get_linear_schedule_with_warmup(o, w, t),
    "cosine": lambda o, w, t: get_cosine_schedule_with_warmup(o, w, t),
    "constant": lambda o, w, t: get_constant_schedule(o),
    "constant_with_warmup": lambda o, w, t: get_constant_schedule_with_warmup(o, w),
}


def main(inp, outp):
    cfg = json.load(open(inp))
    params = [torch.tensor(p["values"], dtype=torch.float32).reshape(p["shape"]).requires_grad_()
              for p in cfg["params"]]
    opt = torch.optim.AdamW(params, lr=cfg["lr"], betas=tuple(cfg["betas"]), eps=cfg["eps"],
                            weight_decay=cfg["weight_decay"])
    sched = SCHEDULES[cfg["schedule"]](opt, cfg["warmup_steps"], cfg["total_steps"])
    history, norms, lrs = [], [], []
    for step_grads in cfg["grads"]:
        for p, g in zip(params, step_grads):
            p.grad = torch.tensor(g, dtype=torch.float32).reshape(p.shape)
        if cfg["max_grad_norm"] > 0:
            norms.append(float(torch.nn.utils.clip_grad_norm_(params, cfg["max_grad_norm"])))
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
        opt.zero_grad()
        history.append([p.detach().flatten().tolist() for p in params])

    multipliers = {}
    for name, make in SCHEDULES.items():
        dummy = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=1.0)
        s = make(dummy, cfg["warmup_steps"], cfg["total_steps"])
        values = []
        for _ in range(cfg["total_steps"] + 2):
            values.append(dummy.param_groups[0]["lr"])
            dummy.step()
            s.step()
        multipliers[name] = values
    json.dump({"params": history, "norms": norms, "lrs": lrs, "multipliers": multipliers},
              open(outp, "w"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
