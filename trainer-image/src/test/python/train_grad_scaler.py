"""Reference for GradScalerInteropTest: torch.amp.GradScaler with torch.optim.AdamW and clip_grad_norm_.

Input: {"params": [{"shape": [...], "values": [...]}], "grads": [[flat true grad per param] per
step], "poison": {step: "inf" | "nan"} (element 0 of param 0 of that step's scaled gradient),
"lr", "weight_decay", "betas", "eps", "max_grad_norm", "init_scale", "growth_interval"}.
Each step's gradient is the true gradient times the current scale, as backward of a scaled loss
gives it. Output: {"scales": [scale after each update], "skipped": [bool per step],
"params": [[flat values per param] per step]}.
"""
import json
import sys

import torch


def main(inp, outp):
    cfg = json.load(open(inp))
    params = [torch.tensor(p["values"], dtype=torch.float32).reshape(p["shape"]).requires_grad_()
              for p in cfg["params"]]
    opt = torch.optim.AdamW(params, lr=cfg["lr"], betas=tuple(cfg["betas"]), eps=cfg["eps"],
                            weight_decay=cfg["weight_decay"])
    scaler = torch.amp.GradScaler("cpu", init_scale=cfg["init_scale"],
                                  growth_interval=cfg["growth_interval"])
    poison = {int(k): v for k, v in cfg["poison"].items()}
    scales, skipped, history = [], [], []
    for s, step_grads in enumerate(cfg["grads"]):
        # backward of the scaled loss sum(p * g) leaves g * scale in each gradient.
        loss = sum((p * torch.tensor(g, dtype=torch.float32).reshape(p.shape)).sum()
                   for p, g in zip(params, step_grads))
        scaler.scale(loss).backward()
        if s in poison:
            with torch.no_grad():
                params[0].grad.view(-1)[0] = float(poison[s])
        scaler.unscale_(opt)
        found_inf = sum(v.item() for v in scaler._found_inf_per_device(opt).values()) > 0
        if not found_inf:
            torch.nn.utils.clip_grad_norm_(params, cfg["max_grad_norm"])
        scaler.step(opt)
        scaler.update()
        opt.zero_grad()
        scales.append(scaler.get_scale())
        skipped.append(bool(found_inf))
        history.append([p.detach().flatten().tolist() for p in params])
    json.dump({"scales": scales, "skipped": skipped, "params": history}, open(outp, "w"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
