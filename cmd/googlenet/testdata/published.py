#!/usr/bin/python3
"""Weight files laid out like the three published GoogLeNets, with random
weights calibrated on photographs, and each publisher's own answers on those
photographs, for predict's parity test (pretrained_test.go). Run with
Debian's interpreter (python3-torch, python3-torchvision, python3-onnx,
python3-pil).

usage: published.py OUT_DIR KIND IMAGE...   (KIND all: each kind into OUT_DIR/KIND/)

KIND torchvision: OUT_DIR/googlenet.pth, torchvision.models.googlenet's
  state dict as the published googlenet-1378be20.pth holds it (aux heads,
  batch-norm statistics, num_batches_tracked); its model runs with
  transform_input=True, as torchvision runs the published weights.
KIND zoo: OUT_DIR/googlenet.onnx, a paper-faithful GoogLeNet written in the
  ONNX model zoo's style (opset 9, input data_0, output prob_0 after a
  Softmax; make_models.py in interchange/convert/testdata).
KIND caffe: OUT_DIR/googlenet.caffemodel, the same network as a Caffe
  NetParameter (interchange/caffe's caffe_subset.proto, compiled with protoc
  at run time; written by interchange/caffe/testdata/write_caffemodel.py).

Weights are random, then calibrated on the photographs so that answers
depend on the input: batch-norm statistics from the photographs
(torchvision), or each convolution rescaled to unit output deviation on them
(paper network, a one-pass data-dependent initialisation); the classifier is
scaled so that logits spread over a few units. OUT_DIR/probs.json holds, per
image, the softmax probabilities of the publisher's documented pipeline
(torchvision's transforms; the zoo README's preprocess; Caffe's resize,
crop and mean) run through the PyTorch model.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..")
sys.path.insert(0, os.path.join(ROOT, "interchange", "convert", "testdata"))
sys.path.insert(0, os.path.join(ROOT, "preprocess", "testdata"))
import make_models  # noqa: E402  PaperGoogLeNet, zoo_style
import pipelines  # noqa: E402  the publishers' preprocessing


def spread_fc(fc, feats, target=3.0):
    with torch.no_grad():
        y = F.linear(feats, fc.weight)
        s = y.std().item()
        fc.weight.mul_(target / s)
        fc.bias.uniform_(-0.5, 0.5)


def torchvision_model(out, images):
    import torchvision
    torch.manual_seed(0)
    m = torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=True, transform_input=True)
    x = torch.stack([torch.from_numpy(pipelines.torchvision_input(p).copy()) for p in images])
    # The model applies transform_input itself: undo it on the pipeline's
    # output (pipelines.py returns the transformed input).
    x = torch.cat([(x[:, 0:1] - (0.485 - 0.5) / 0.5) / (0.229 / 0.5),
                   (x[:, 1:2] - (0.456 - 0.5) / 0.5) / (0.224 / 0.5),
                   (x[:, 2:3] - (0.406 - 0.5) / 0.5) / (0.225 / 0.5)], 1)
    calib = torch.cat([x, torch.flip(x, [3])])
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.momentum = None  # cumulative average over the calibration batch
            nn.init.uniform_(mod.weight, 0.5, 1.5)
            nn.init.uniform_(mod.bias, -0.2, 0.2)
    m.train()
    with torch.no_grad():
        m(calib)
    m.eval()
    feats = []
    h = m.dropout.register_forward_hook(lambda mod, i, o: feats.append(o))
    with torch.no_grad():
        m(calib)
    h.remove()
    spread_fc(m.fc, feats[0])
    torch.save(m.state_dict(), os.path.join(out, "googlenet.pth"))
    with torch.no_grad():
        return torch.softmax(m(x), 1)


def calibrated_paper(inputs):
    torch.manual_seed(1)
    m = make_models.PaperGoogLeNet()
    for mod in m.modules():
        if isinstance(mod, nn.Conv2d):
            nn.init.kaiming_normal_(mod.weight, nonlinearity="relu")
            nn.init.uniform_(mod.bias, -0.1, 0.1)
    m.eval()

    def unit(mod, inp, out):
        s = out.std().item()
        mod.weight.data.div_(s)
        mod.bias.data.div_(s)
        return out / s

    hs = [mod.register_forward_hook(unit) for mod in m.modules() if isinstance(mod, nn.Conv2d)]
    with torch.no_grad():
        m.features(inputs)
    for h in hs:
        h.remove()
    with torch.no_grad():
        feats = torch.flatten(m.pool(m.features(inputs)), 1)
    spread_fc(m.fc, feats)
    return m


def zoo_model(out, images):
    import onnx
    x = torch.stack([torch.from_numpy(pipelines.zoo_input(p).copy()) for p in images])
    m = calibrated_paper(torch.cat([x, torch.flip(x, [3])]))
    path = os.path.join(out, "paper.onnx")
    torch.onnx.export(m, x[:1], path, opset_version=13, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    zoo = make_models.zoo_style(onnx.load(path), 224)
    for n in zoo.graph.node:
        n.output[:] = ["prob_0" if o == "prob_1" else o for o in n.output]
    zoo.graph.output[0].name = "prob_0"
    onnx.checker.check_model(zoo, full_check=True)
    onnx.save(zoo, os.path.join(out, "googlenet.onnx"))
    os.remove(path)
    with torch.no_grad():
        return torch.softmax(m(x), 1)


def caffe_model(out, images):
    sys.path.insert(0, os.path.join(ROOT, "interchange", "caffe", "testdata"))
    import write_caffemodel
    x = torch.stack([torch.from_numpy(pipelines.caffe_input(p).copy()) for p in images])
    m = calibrated_paper(torch.cat([x, torch.flip(x, [3])]))
    write_caffemodel.write(m, os.path.join(out, "googlenet.caffemodel"), os.path.join(out, "proto"))
    with torch.no_grad():
        return torch.softmax(m(x), 1)


def main():
    out, kind, images = sys.argv[1], sys.argv[2], sys.argv[3:]
    torch.set_num_threads(2)
    makers = {"torchvision": torchvision_model, "zoo": zoo_model, "caffe": caffe_model}
    kinds = list(makers) if kind == "all" else [kind]
    for k in kinds:
        d = os.path.join(out, k) if kind == "all" else out
        os.makedirs(d, exist_ok=True)
        p = makers[k](d, images)
        with open(os.path.join(d, "probs.json"), "w") as f:
            json.dump({"images": images, "probs": p.double().numpy().tolist()}, f)


if __name__ == "__main__":
    main()
