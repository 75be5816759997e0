"""Reference trajectories from PyTorch's SGD for solvers.TestAgainstPyTorch.

Reads a JSON object {"cases": [...]} on stdin and prints {"cases": [...]}
on stdout. Each case trains nn.Linear(in, out) on the loss
0.5 * sum((x W^T + b - y)^2) / batch, with the minibatch of step t being
batches[t % len(batches)], using torch.optim.SGD with weight decay on the
weight only, optional clip_grad_norm_ before each step, an optional
learning-rate scheduler stepped after each optimizer step, and optional
uniform Polyak averaging (swa_utils.AveragedModel) after steps past
avg_start. It records the learning rate used by each step and the weight
and bias after it.
"""
import json
import sys

import torch


def scheduler(opt, s):
    kind = s["kind"]
    sch = torch.optim.lr_scheduler
    if kind == "constant":
        return None
    if kind == "step":
        return sch.StepLR(opt, step_size=s["step_size"], gamma=s["gamma"])
    if kind == "poly":
        return sch.PolynomialLR(opt, total_iters=s["total"], power=s["power"])
    if kind == "warmup_step":
        return sch.ChainedScheduler([
            sch.LinearLR(opt, start_factor=s["start"], end_factor=1.0, total_iters=s["warm"]),
            sch.StepLR(opt, step_size=s["step_size"], gamma=s["gamma"]),
        ])
    raise ValueError("unknown schedule " + kind)


def run(c):
    dt = torch.float64 if c["dtype"] == "float64" else torch.float32
    w0 = torch.tensor(c["W0"], dtype=torch.float64)
    model = torch.nn.Linear(w0.shape[1], w0.shape[0]).to(dt)
    with torch.no_grad():
        model.weight.copy_(w0)
        model.bias.copy_(torch.tensor(c["b0"], dtype=torch.float64))
    opt = torch.optim.SGD(
        [{"params": [model.weight], "weight_decay": c["weight_decay"]},
         {"params": [model.bias], "weight_decay": 0.0}],
        lr=c["lr"], momentum=c["momentum"], nesterov=c["nesterov"])
    sched = scheduler(opt, c["schedule"])
    avg = torch.optim.swa_utils.AveragedModel(model) if c["avg_start"] >= 0 else None
    xs = [torch.tensor(b["x"], dtype=dt) for b in c["batches"]]
    ys = [torch.tensor(b["y"], dtype=dt) for b in c["batches"]]
    out = {"name": c["name"], "lr": [], "W": [], "b": []}
    for t in range(c["steps"]):
        x, y = xs[t % len(xs)], ys[t % len(ys)]
        opt.zero_grad()
        loss = 0.5 * ((model(x) - y) ** 2).sum() / x.shape[0]
        loss.backward()
        if c["clip"] > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), c["clip"])
        out["lr"].append(opt.param_groups[0]["lr"])
        opt.step()
        if sched is not None:
            sched.step()
        if avg is not None and t + 1 > c["avg_start"]:
            avg.update_parameters(model)
        out["W"].append(model.weight.detach().double().flatten().tolist())
        out["b"].append(model.bias.detach().double().flatten().tolist())
    if avg is not None:
        out["avgW"] = avg.module.weight.detach().double().flatten().tolist()
        out["avgb"] = avg.module.bias.detach().double().flatten().tolist()
    return out


def main():
    torch.set_num_threads(1)
    cfg = json.load(sys.stdin)
    json.dump({"torch": torch.__version__, "cases": [run(c) for c in cfg["cases"]]}, sys.stdout)


if __name__ == "__main__":
    main()
