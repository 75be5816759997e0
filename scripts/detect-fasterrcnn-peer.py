#!/usr/bin/python3
"""Peer of googlenet detect: torchvision's Faster R-CNN trained from scratch.

Trains torchvision.models.detection.FasterRCNN (Debian's python3-torchvision;
no pretrained weights are available, so from scratch) on the train split of
a VOC-layout benchmark written by `googlenet detect make-data`, for a wall
time budget, then writes the test split's detections as a COCO results file
whose image and category ids are those of DIR/test.json. Score it with our
evaluator:

    googlenet detect eval --data voc:DIR --detections RESULTS.json

The backbone is small (four 3x3 convolution stages with batch norm, 128
channels at stride 8), matching the scale of the mini GoogLeNet; one feature
map with anchors of 16 to 128 pixels at three aspect ratios; RoIAlign 7x7;
images at their size (128-160 pixels).

usage: detect-fasterrcnn-peer.py --data DIR (--minutes M | --cpu-minutes M) --out RESULTS.json

--cpu-minutes bounds training by the CPU time of this process (all its
threads), so that the peer gets the compute another program used even on a
machine shared with other work; --minutes bounds it by wall time.
"""
import argparse
import json
import os
import time
import xml.etree.ElementTree as ET

import torch
import torchvision
from PIL import Image
from torch import nn
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.rpn import AnchorGenerator
from torchvision.ops import MultiScaleRoIAlign
import torchvision.transforms.functional as TF


def read_split(d, split):
    with open(os.path.join(d, "ImageSets", "Main", split + ".txt")) as f:
        ids = [l.split()[0] for l in f if l.strip()]
    items = []
    for i in ids:
        root = ET.parse(os.path.join(d, "Annotations", i + ".xml")).getroot()
        objs = []
        for o in root.findall("object"):
            b = o.find("bndbox")
            # VOC corners are 1-based inclusive: (xmin-1, ymin-1, xmax, ymax) in pixels
            box = [float(b.find(k).text) for k in ("xmin", "ymin", "xmax", "ymax")]
            objs.append((o.find("name").text.strip(), [box[0] - 1, box[1] - 1, box[2], box[3]]))
        items.append((i, os.path.join(d, "JPEGImages", root.find("filename").text), objs))
    return items


def backbone():
    def stage(i, o, s):
        return [nn.Conv2d(i, o, 3, s, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]
    net = nn.Sequential(*stage(3, 32, 2), *stage(32, 64, 2), *stage(64, 128, 2), *stage(128, 128, 1))
    net.out_channels = 128
    return net


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--minutes", type=float, default=0, help="wall-time budget of training")
    ap.add_argument("--cpu-minutes", type=float, default=0,
                    help="budget of training in CPU time of this process (all its threads): the same compute as another "
                         "program's CPU time, whatever else runs on the machine")
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--lr", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if (a.minutes > 0) == (a.cpu_minutes > 0):
        ap.error("give one of --minutes and --cpu-minutes")
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    coco = json.load(open(os.path.join(a.data, "test.json")))
    classes = [c["name"] for c in sorted(coco["categories"], key=lambda c: c["id"])]
    cat_id = {c["name"]: c["id"] for c in coco["categories"]}
    label = {n: i + 1 for i, n in enumerate(classes)}
    train = read_split(a.data, "train")
    test = read_split(a.data, "test")
    anchors = AnchorGenerator(sizes=((16, 32, 64, 128),), aspect_ratios=((0.5, 1.0, 2.0),))
    pool = MultiScaleRoIAlign(featmap_names=["0"], output_size=7, sampling_ratio=2)
    model = FasterRCNN(backbone(), num_classes=len(classes) + 1, rpn_anchor_generator=anchors, box_roi_pool=pool,
                       min_size=128, max_size=192, box_score_thresh=0.01, box_detections_per_img=100)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=a.lr, momentum=0.9, weight_decay=1e-4)
    imgs = {}

    def load(path):
        if path not in imgs:
            imgs[path] = TF.to_tensor(Image.open(path).convert("RGB"))
        return imgs[path]

    start = time.time()
    clock = time.time
    budget = a.minutes * 60
    if a.cpu_minutes > 0:
        clock, budget = time.process_time, a.cpu_minutes * 60
    begin = clock()
    step = epoch = seen = 0
    g = torch.Generator().manual_seed(a.seed)
    model.train()
    while clock() - begin < budget:
        order = torch.randperm(len(train), generator=g).tolist()
        for k in range(0, len(order) - a.batch + 1, a.batch):
            if clock() - begin >= budget:
                break
            batch = [train[j] for j in order[k:k + a.batch]]
            xs = [load(p) for _, p, _ in batch]
            ts = [{"boxes": torch.tensor([b for _, b in objs], dtype=torch.float32),
                   "labels": torch.tensor([label[n] for n, _ in objs], dtype=torch.int64)} for _, _, objs in batch]
            # linear warm-up over the first 100 steps
            for pg in opt.param_groups:
                pg["lr"] = a.lr * min(1.0, (step + 1) / 100)
            losses = model(xs, ts)
            loss = sum(losses.values())
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            seen += len(batch)
            if step % 20 == 0:
                print(f"epoch {epoch} step {step}: loss {loss.item():.4f} "
                      + " ".join(f"{k} {v.item():.3f}" for k, v in losses.items())
                      + f", {seen / (time.time() - start):.1f} img/s, {time.time() - start:.0f}s", flush=True)
        epoch += 1
    train_s = time.time() - start
    train_cpu_s = time.process_time()
    model.eval()
    ids = {im["file_name"]: im["id"] for im in coco["images"]}
    results = []
    t0 = time.time()
    with torch.no_grad():
        for i, path, _ in test:
            out = model([load(path)])[0]
            for b, l, s in zip(out["boxes"].tolist(), out["labels"].tolist(), out["scores"].tolist()):
                results.append({"image_id": ids[os.path.basename(path)], "category_id": cat_id[classes[l - 1]],
                                "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]], "score": s})
    json.dump(results, open(a.out, "w"))
    print(json.dumps({"train_seconds": train_s, "cpu_seconds": train_cpu_s, "steps": step, "epochs": epoch, "images_seen": seen,
                      "test_seconds": time.time() - t0, "detections": len(results)}))


if __name__ == "__main__":
    main()
