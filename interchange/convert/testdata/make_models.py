#!/usr/bin/python3
"""Makes the PyTorch reference models for parity_test.go at test time (nothing
large is committed). Run with Debian's interpreter, which has python3-torch,
python3-torchvision and python3-onnx.

usage: /usr/bin/python3 make_models.py OUT_DIR BATCH SIZE

writes OUT_DIR/torchvision/... and OUT_DIR/paper/... (below).

OUT_DIR/torchvision: torchvision.models.googlenet with random weights (eval mode,
  transform_input=False, init_weights=True, aux_logits=True), its batch-norm
  running statistics set from one training-mode batch (so that activations keep
  their scale), saved as tv.pth (torch.save of the state_dict) and
  tv.safetensors (written here: Debian has no python3-safetensors), and
  without the auxiliary heads' tensors (what aux_logits=False saves) as
  tv_noaux.pth and tv_noaux.safetensors; and exported with torch.onnx at
  opset 13 as tv.onnx (each batch norm folded into its convolution).
OUT_DIR/paper: a paper-faithful GoogLeNet (Caffe's bvlc_googlenet: LRN, 5x5 branches,
  ceil-mode max pools, 7x7 average pool, dropout 0.4, biases, no batch norm)
  exported with torch.onnx at opset 13 as paper.onnx, and the same
  weights rewritten in the ONNX model zoo's style as zoo.onnx: opset 9,
  input "data_0", max pools with pads [0,0,1,1] instead of ceil_mode, a 7x7
  AveragePool, Dropout and Reshape before the Gemm, and a Softmax output
  "prob_1".

Each folder also holds x.bin (the input batch, float32 little-endian NCHW) and
logits.bin (PyTorch's logits, float32 [BATCH, 1000]); paper/ also prob.bin
(softmax of the logits).
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def save_bin(path, t):
    t.detach().numpy().astype("<f4").tofile(path)


def save_safetensors(path, sd):
    header, blobs, off = {}, [], 0
    for k, v in sd.items():
        a = v.detach().contiguous().numpy()
        dt = {np.dtype("float32"): "F32", np.dtype("int64"): "I64"}[a.dtype]
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[k] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def torchvision_models(out, batch, size):
    import torchvision
    torch.manual_seed(0)
    m = torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=True,
                                     transform_input=False)
    # Running statistics from one batch (momentum 1), so that the random
    # network's activations keep their scale through 57 layers.
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.momentum = 1.0
            nn.init.uniform_(mod.weight, 0.5, 1.5)
            nn.init.uniform_(mod.bias, -0.2, 0.2)
    m.train()
    with torch.no_grad():
        m(torch.randn(8, 3, size, size))
    m.eval()
    sd = m.state_dict()
    # With aux_logits=False torchvision's state dict is the same minus the
    # aux1.* and aux2.* entries.
    noaux = {k: v for k, v in sd.items() if not k.startswith(("aux1.", "aux2."))}
    torch.save(sd, os.path.join(out, "tv.pth"))
    save_safetensors(os.path.join(out, "tv.safetensors"), sd)
    torch.save(noaux, os.path.join(out, "tv_noaux.pth"))
    save_safetensors(os.path.join(out, "tv_noaux.safetensors"), noaux)
    # torch.onnx folds each batch norm into its convolution (eval mode).
    torch.onnx.export(m, torch.randn(1, 3, size, size), os.path.join(out, "tv.onnx"), opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    x = torch.randn(batch, 3, size, size)
    with torch.no_grad():
        y = m(x)
    save_bin(os.path.join(out, "x.bin"), x)
    save_bin(os.path.join(out, "logits.bin"), y)


class LRNFn(torch.autograd.Function):
    """Caffe's and ONNX's LRN across channels; exported as one ONNX LRN node
    (torch.onnx would otherwise decompose nn.LocalResponseNorm)."""

    @staticmethod
    def forward(ctx, x):
        return F.local_response_norm(x, 5, alpha=1e-4, beta=0.75, k=1.0)

    @staticmethod
    def symbolic(g, x):
        return g.op("LRN", x, size_i=5, alpha_f=1e-4, beta_f=0.75, bias_f=1.0)


class LRN(nn.Module):
    def forward(self, x):
        return LRNFn.apply(x)


def conv(cin, cout, k, s=1, p=0):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, p), nn.ReLU(inplace=False))


class Inception(nn.Module):
    # Figure 2(b): 1x1, 3x3, 5x5, pool projection, concatenated in this order.
    def __init__(self, cin, c1, c3r, c3, c5r, c5, pp):
        super().__init__()
        self.b1 = conv(cin, c1, 1)
        self.b2 = nn.Sequential(conv(cin, c3r, 1), conv(c3r, c3, 3, p=1))
        self.b3 = nn.Sequential(conv(cin, c5r, 1), conv(c5r, c5, 5, p=2))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), conv(cin, pp, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


TABLE1 = [  # name, in, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj, max pool before
    ("3a", 192, 64, 96, 128, 16, 32, 32, False), ("3b", 256, 128, 128, 192, 32, 96, 64, False),
    ("4a", 480, 192, 96, 208, 16, 48, 64, True), ("4b", 512, 160, 112, 224, 24, 64, 64, False),
    ("4c", 512, 128, 128, 256, 24, 64, 64, False), ("4d", 512, 112, 144, 288, 32, 64, 64, False),
    ("4e", 528, 256, 160, 320, 32, 128, 128, False), ("5a", 832, 256, 160, 320, 32, 128, 128, True),
    ("5b", 832, 384, 192, 384, 48, 128, 128, False),
]


class PaperGoogLeNet(nn.Module):
    """GoogLeNet as Caffe's bvlc_googlenet (the paper's release), inference
    path only (no auxiliary heads)."""

    def __init__(self, classes=1000):
        super().__init__()
        layers = [conv(3, 64, 7, 2, 3), nn.MaxPool2d(3, 2, ceil_mode=True), LRN(),
                  conv(64, 64, 1), conv(64, 192, 3, p=1), LRN(), nn.MaxPool2d(3, 2, ceil_mode=True)]
        for name, cin, c1, c3r, c3, c5r, c5, pp, pool in TABLE1:
            if pool:
                layers.append(nn.MaxPool2d(3, 2, ceil_mode=True))
            layers.append(Inception(cin, c1, c3r, c3, c5r, c5, pp))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(0.4)
        self.fc = nn.Linear(1024, classes)

    def forward(self, x):
        return self.fc(self.drop(torch.flatten(self.pool(self.features(x)), 1)))


def zoo_style(model, size):
    """Rewrites a torch.onnx export in the ONNX model zoo's style."""
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    g = model.graph
    rename = {g.input[0].name: "data_0"}
    shapes = {}  # value name -> spatial size, tracked through the main path
    nodes = []
    for n in g.node:
        n.input[:] = [rename.get(i, i) for i in n.input]
        if n.op_type == "MaxPool":
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            if attrs.get("ceil_mode", 0):
                # Same windows without ceil_mode: pad the bottom/right so
                # that floor mode yields the ceil-mode output size.
                k, s, p = attrs["kernel_shape"][0], attrs["strides"][0], list(attrs.get("pads", [0, 0, 0, 0]))
                h = shapes[n.input[0]]
                out_ceil = -(-(h + p[0] + p[2] - k) // s) + 1
                if (out_ceil - 1) * s >= h + p[0]:
                    out_ceil -= 1
                extra = (out_ceil - 1) * s + k - (h + p[0] + p[2])
                p[2] += max(extra, 0)
                p[3] += max(extra, 0)
                del n.attribute[:]
                n.attribute.extend([helper.make_attribute("kernel_shape", [k, k]),
                                    helper.make_attribute("strides", [s, s]),
                                    helper.make_attribute("pads", p)])
                shapes[n.output[0]] = out_ceil
            else:
                k, s, p = attrs["kernel_shape"][0], attrs["strides"][0], attrs.get("pads", [0, 0, 0, 0])
                shapes[n.output[0]] = (shapes[n.input[0]] + p[0] + p[2] - k) // s + 1
        elif n.op_type == "Conv":
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            k, s, p = attrs["kernel_shape"][0], attrs["strides"][0], attrs["pads"]
            h = shapes.get(n.input[0], size)
            shapes[n.output[0]] = (h + p[0] + p[2] - k) // s + 1
        elif n.op_type == "GlobalAveragePool":
            h = shapes[n.input[0]]
            n.op_type = "AveragePool"
            n.attribute.extend([helper.make_attribute("kernel_shape", [h, h]),
                                helper.make_attribute("strides", [1, 1])])
        elif n.op_type == "Flatten":
            # Dropout (opset 9: ratio attribute) and a Reshape, as in the zoo.
            nodes.append(helper.make_node("Dropout", [n.input[0]], ["pool5_drop"], ratio=0.4, name="pool5/drop_7x7_s1"))
            g.initializer.append(numpy_helper.from_array(np.array([-1, 1024], dtype=np.int64), "reshape_shape"))
            n = helper.make_node("Reshape", ["pool5_drop", "reshape_shape"], list(n.output), name="reshape")
        elif len(n.input) > 0 and n.input[0] in shapes:
            shapes[n.output[0]] = shapes[n.input[0]]
        if n.op_type == "Conv" and n.input[0] == "data_0":
            shapes[n.output[0]] = (size + 6 - 7) // 2 + 1
        if n.op_type in ("Relu", "LRN") or n.op_type == "Concat":
            shapes[n.output[0]] = shapes.get(n.input[0], size)
        nodes.append(n)
    logits = g.output[0].name
    nodes.append(helper.make_node("Softmax", [logits], ["prob_1"], axis=1, name="prob"))
    graph = helper.make_graph(nodes, "googlenet_zoo_style",
                              [helper.make_tensor_value_info("data_0", TensorProto.FLOAT, ["N", 3, size, size])],
                              [helper.make_tensor_value_info("prob_1", TensorProto.FLOAT, ["N", 1000])],
                              list(g.initializer))
    zoo = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)], producer_name="make_models.py zoo style")
    zoo.ir_version = 4
    onnx.checker.check_model(zoo, full_check=True)
    return zoo


def paper_models(out, batch, size):
    import onnx
    torch.manual_seed(1)
    m = PaperGoogLeNet()
    for mod in m.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(mod.weight, nonlinearity="relu")
            nn.init.uniform_(mod.bias, -0.1, 0.1)
    m.eval()
    path = os.path.join(out, "paper.onnx")
    torch.onnx.export(m, torch.randn(1, 3, size, size), path, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    onnx.save(zoo_style(onnx.load(path), size), os.path.join(out, "zoo.onnx"))
    x = torch.randn(batch, 3, size, size)
    with torch.no_grad():
        y = m(x)
    save_bin(os.path.join(out, "x.bin"), x)
    save_bin(os.path.join(out, "logits.bin"), y)
    save_bin(os.path.join(out, "prob.bin"), torch.softmax(y, 1))


def main():
    out, batch, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(2)
    for kind, make in (("torchvision", torchvision_models), ("paper", paper_models)):
        d = os.path.join(out, kind)
        os.makedirs(d, exist_ok=True)
        make(d, batch, size)


if __name__ == "__main__":
    main()
