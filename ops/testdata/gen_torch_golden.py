#!/usr/bin/python3
"""Generates torch_golden.json: PyTorch's forward values and gradients for
the ops in package ops, in float64.

Run with Debian's interpreter (python3-torch 1.13):
    /usr/bin/python3 ops/testdata/gen_torch_golden.py > ops/testdata/torch_golden.json

Each case gives the inputs, a weight tensor R, the output y and the
gradients of sum(R * y) with respect to every differentiable input.
"""
import json

import torch
import torch.nn.functional as F

torch.manual_seed(0)
D = torch.float64


def r12(v):
    """Rounds to 12 significant digits (the Go test's tolerance is 1e-9)."""
    if isinstance(v, list):
        return [r12(x) for x in v]
    return float(f"{v:.12g}")


def rnd(*shape, lo=-1.0, hi=1.0):
    t = torch.rand(*shape, dtype=D) * (hi - lo) + lo
    return torch.tensor(r12(t.tolist()), dtype=D).requires_grad_(True)


cases = []


def add(name, op, params, inputs, fn, nograd=(), extra=None):
    y = fn(*inputs)
    r = torch.rand(y.shape, dtype=D) * 2 - 1 if y.dim() > 0 else torch.ones((), dtype=D)
    r = torch.tensor(r12(r.tolist()), dtype=D)
    (y * r).sum().backward()
    case = {
        "name": name,
        "op": op,
        "params": params,
        "inputs": [{"shape": list(t.shape), "data": t.detach().flatten().tolist()} for t in inputs],
        "weights": r.flatten().tolist() if r.dim() > 0 else [r.item()],
        "output": {"shape": list(y.shape), "data": r12(y.detach().flatten().tolist())},
        "grads": [None if i in nograd else r12(inputs[i].grad.flatten().tolist()) for i in range(len(inputs))],
    }
    if extra:
        case.update(extra())
    cases.append(case)


for (n, c, h, w), k, s, p, ceil in [
    ((1, 2, 7, 7), 3, 2, 0, True),
    ((2, 2, 8, 8), 3, 2, 1, True),
    ((1, 3, 6, 5), 3, 1, 1, False),
    ((1, 1, 9, 9), 2, 2, 1, True),
]:
    add(f"maxpool/{h}x{w}/k{k}s{s}p{p}/ceil={ceil}", "maxpool",
        {"k": k, "s": s, "p": p, "ceil": ceil}, [rnd(n, c, h, w)],
        lambda x: F.max_pool2d(x, k, s, p, ceil_mode=ceil))

for (n, c, h, w), k, s, p, ceil, inc in [
    ((1, 2, 6, 6), 3, 2, 1, True, True),
    ((1, 2, 6, 6), 3, 2, 1, True, False),
    ((2, 1, 7, 7), 3, 2, 1, True, True),
    ((1, 2, 7, 7), 7, 1, 0, False, True),
    ((1, 1, 14, 14), 5, 3, 0, False, True),
    ((1, 1, 8, 8), 3, 3, 1, True, True),
]:
    add(f"avgpool/{h}x{w}/k{k}s{s}p{p}/ceil={ceil}/include={inc}", "avgpool",
        {"k": k, "s": s, "p": p, "ceil": ceil, "include": inc}, [rnd(n, c, h, w)],
        lambda x: F.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=inc))

for (n, c, h, w), (oh, ow) in [((1, 1, 14, 14), (4, 4)), ((1, 2, 5, 7), (3, 4)), ((2, 3, 7, 7), (1, 1))]:
    add(f"adaptive/{h}x{w}->{oh}x{ow}", "adaptive", {"oh": oh, "ow": ow}, [rnd(n, c, h, w)],
        lambda x: F.adaptive_avg_pool2d(x, (oh, ow)))

for size, alpha, beta, k in [(5, 1e-4, 0.75, 1.0), (3, 0.5, 0.75, 2.0), (5, 2.0, 0.6, 1.5)]:
    add(f"lrn/size{size}/alpha{alpha}", "lrn", {"size": size, "alpha": alpha, "beta": beta, "lrn_k": k},
        [rnd(2, 7, 3, 3, lo=-2, hi=2)],
        lambda x: F.local_response_norm(x, size, alpha, beta, k))

for (n, c, h, w), (kk, r, s), st, p, relu in [
    ((1, 3, 11, 11), (4, 7, 7), 2, 3, False),
    ((2, 4, 6, 6), (5, 3, 3), 1, 1, True),
    ((2, 3, 5, 5), (2, 1, 1), 1, 0, True),
    ((1, 2, 9, 9), (3, 5, 5), 1, 2, False),
]:
    def conv(x, wt, b, st=st, p=p, relu=relu):
        y = F.conv2d(x, wt, b, stride=st, padding=p)
        return F.relu(y) if relu else y
    add(f"conv/{r}x{s}/s{st}p{p}/relu={relu}", "conv", {"s": st, "p": p, "relu": relu},
        [rnd(n, c, h, w), rnd(kk, c, r, s), rnd(kk)], conv)

for training in [True, False]:
    rm = torch.tensor(r12((torch.rand(3, dtype=D) - 0.5).tolist()), dtype=D)
    rv = torch.tensor(r12((torch.rand(3, dtype=D) + 0.5).tolist()), dtype=D)
    rm0, rv0 = rm.clone(), rv.clone()

    def bn(x, g, b, rm=rm, rv=rv, training=training):
        return F.batch_norm(x, rm, rv, g, b, training=training, momentum=0.1, eps=1e-3)
    add(f"batchnorm/training={training}", "batchnorm",
        {"training": training, "mean0": rm0.tolist(), "var0": rv0.tolist(), "momentum": 0.1, "eps": 1e-3},
        [rnd(2, 3, 2, 3), rnd(3, lo=0.5, hi=1.5), rnd(3)], bn,
        extra=lambda rm=rm, rv=rv: {"running_mean": r12(rm.tolist()), "running_var": r12(rv.tolist())})

labels = torch.tensor([3, 0, 4, 1], dtype=D)
add("cross_entropy", "sce", {}, [rnd(4, 5, lo=-3, hi=3), labels.clone().requires_grad_(False)],
    lambda z, l: F.cross_entropy(z, l.long()), nograd=(1,))
add("softmax", "softmax", {}, [rnd(3, 6, lo=-3, hi=3)], lambda z: F.softmax(z, dim=1))
add("linear", "linear", {}, [rnd(3, 4), rnd(5, 4), rnd(5)], F.linear)

print(json.dumps({"generator": "gen_torch_golden.py", "torch": torch.__version__, "cases": cases}))
