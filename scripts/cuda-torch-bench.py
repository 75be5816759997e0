#!/usr/bin/env python3
"""GPU peer benchmark: torchvision GoogLeNet with PyTorch + cuDNN, fp32.

Run it on the GPU machine beside the Go benchmarks (docs/GPU.md):

    python3 scripts/cuda-torch-bench.py --mode train --batch 128
    python3 scripts/cuda-torch-bench.py --mode infer --batch 128
    python3 scripts/cuda-torch-bench.py --mode train --batch 128 --strict-fp32

Prints one JSON line per run: peer, device, mode, batch, tf32, img_per_s,
ms_per_batch, max_mem_bytes (torch.cuda.max_memory_allocated; reserved is
reported too). Training is forward + backward + SGD momentum with both
auxiliary heads (weight 0.3), as the paper trains; inference is eval-mode
forward under no_grad. PyTorch lets cuDNN use TF32 tensor cores for fp32
convolutions by default; --strict-fp32 turns that (and TF32 matmuls) off.
--device cpu runs the same loop on the CPU (a smoke test of the script).
"""
import argparse
import json
import statistics
import time

import torch
import torchvision


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["infer", "train"], default="train")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--device", default="cuda")
    p.add_argument("--strict-fp32", action="store_true")
    p.add_argument("--time-limit", type=float, default=60,
                   help="seconds for the timed iterations; fewer are run past it (0: no limit)")
    a = p.parse_args()
    start = time.perf_counter()
    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.allow_tf32 = not a.strict_fp32
        torch.backends.cuda.matmul.allow_tf32 = not a.strict_fp32
    torch.manual_seed(0)
    train = a.mode == "train"
    model = torchvision.models.googlenet(weights=None, aux_logits=train, init_weights=True).to(dev)
    model.train(train)
    x = torch.randn(a.batch, 3, a.size, a.size, device=dev)
    y = torch.randint(0, 1000, (a.batch,), device=dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=2e-4)
    lossf = torch.nn.CrossEntropyLoss()

    def step():
        if train:
            opt.zero_grad(set_to_none=True)
            out = model(x)
            loss = lossf(out.logits, y) + 0.3 * (lossf(out.aux_logits1, y) + lossf(out.aux_logits2, y))
            loss.backward()
            opt.step()
        else:
            with torch.no_grad():
                model(x)

    def sync():
        if cuda:
            torch.cuda.synchronize()

    for _ in range(a.warmup):
        step()
    sync()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(a.iters):
        if times and a.time_limit > 0 and time.perf_counter() - start > a.time_limit:
            break
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    rec = {
        "peer": "torchvision-googlenet",
        "device": torch.cuda.get_device_name(dev) if cuda else "cpu",
        "torch": torch.__version__,
        "mode": a.mode,
        "batch": a.batch,
        "iters": len(times),
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "tf32": bool(cuda and not a.strict_fp32),
        "img_per_s": round(a.batch / med, 1),
        "ms_per_batch": round(med * 1e3, 2),
    }
    if cuda:
        rec["max_mem_bytes"] = torch.cuda.max_memory_allocated(dev)
        rec["reserved_bytes"] = torch.cuda.memory_reserved(dev)
    print(json.dumps(rec))


if __name__ == "__main__":
    main()
