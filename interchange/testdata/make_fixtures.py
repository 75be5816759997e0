#!/usr/bin/python3
"""Writes the small interchange test fixtures.

Run with Debian's interpreter (python3-torch 1.13, python3-onnx 1.12):

    /usr/bin/python3 interchange/testdata/make_fixtures.py

It builds a tiny seeded conv net (conv 3->4 3x3, batch norm, ReLU, global
average pool, linear 4->2) and writes, next to each Go package that reads them:

  safetensors/testdata/tiny.safetensors   state_dict (F32 + I64) and metadata
  safetensors/testdata/halfs.safetensors  F16 / BF16 / F64 tensors
  torchpth/testdata/tiny.pth              torch.save(state_dict), zip format
  torchpth/testdata/tiny_legacy.pth       the same, legacy non-zip format
  torchpth/testdata/tiny_wrapped.pt       {"state_dict": ..., "epoch": 3}
  torchpth/testdata/tiny_params.pt        {"w": nn.Parameter} (_rebuild_parameter)
  onnx/testdata/tiny.onnx                 torch.onnx.export, opset 13
  onnx/testdata/tiny_logits.json          input and PyTorch logits for tiny.onnx
  onnx/testdata/zoo.onnx                  model-zoo style graph built with onnx.helper
                                          (data_0 input, LRN, MaxPool pads [0,0,1,1],
                                          Dropout, Softmax, float_data, IR 3 with
                                          initializers listed as inputs, opset 9)
  */testdata/expected.json                per-tensor dtype, shape, values

Debian has no python3-safetensors, so the .safetensors files are written by
save_safetensors below, which follows the reference layout (tensors sorted by
dtype size descending then name, header padded with spaces to 8 bytes).
"""
import collections
import json
import os
import struct

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16",
          torch.bfloat16: "BF16", torch.int64: "I64"}


def save_safetensors(tensors, path, metadata=None):
    items = sorted(tensors.items(), key=lambda kv: (-kv[1].element_size(), kv[0]))
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in items:
        t = t.contiguous()
        if t.dtype == torch.bfloat16:
            b = t.view(torch.int16).numpy().tobytes()
        else:
            b = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def describe(tensors):
    out = {}
    for name, t in tensors.items():
        out[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                     "values": t.double().flatten().tolist()}
    return out


def main():
    torch.manual_seed(5)
    m = Tiny()
    # Non-trivial running statistics and counter.
    m.train()
    for _ in range(3):
        m(torch.randn(2, 3, 5, 5))
    m.eval()
    sd = m.state_dict()
    expected = describe(sd)

    st = os.path.join(ROOT, "safetensors", "testdata")
    save_safetensors(sd, os.path.join(st, "tiny.safetensors"),
                     {"variant": "tiny", "classes": "2"})
    halfs = collections.OrderedDict()
    halfs["h"] = torch.tensor([1.0, -2.5, 65504.0, 6.1035156e-05, 5.96e-08, 0.0], dtype=torch.float16)
    halfs["b"] = torch.tensor([[1.0, -3.140625], [1e30, -0.0]], dtype=torch.bfloat16)
    halfs["d"] = torch.tensor([0.1, -7.25], dtype=torch.float64)
    save_safetensors(halfs, os.path.join(st, "halfs.safetensors"))
    with open(os.path.join(st, "expected.json"), "w") as f:
        json.dump({"tiny": expected, "halfs": describe(halfs)}, f, indent=1)

    pth = os.path.join(ROOT, "torchpth", "testdata")
    torch.save(sd, os.path.join(pth, "tiny.pth"))
    torch.save(sd, os.path.join(pth, "tiny_legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save({"state_dict": sd, "epoch": 3}, os.path.join(pth, "tiny_wrapped.pt"))
    params = collections.OrderedDict(w=nn.Parameter(torch.arange(6.0).reshape(2, 3)))
    torch.save(params, os.path.join(pth, "tiny_params.pt"))
    with open(os.path.join(pth, "expected.json"), "w") as f:
        json.dump({"tiny": expected, "params": describe({k: v.detach() for k, v in params.items()})}, f, indent=1)

    ox = os.path.join(ROOT, "onnx", "testdata")
    x = torch.randn(1, 3, 5, 5)
    torch.onnx.export(m, x, os.path.join(ox, "tiny.onnx"), opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      do_constant_folding=False)
    with torch.no_grad():
        y = m(x)
    with open(os.path.join(ox, "tiny_logits.json"), "w") as f:
        json.dump({"input_shape": list(x.shape), "input": x.flatten().tolist(),
                   "logits": y.flatten().tolist(), "expected": expected}, f, indent=1)
    with open(os.path.join(ox, "zoo_expected.json"), "w") as f:
        json.dump(zoo(os.path.join(ox, "zoo.onnx")), f, indent=1)


def zoo(path):
    import numpy as np
    from onnx import TensorProto, checker, helper, save
    rng = np.random.RandomState(7)
    w = rng.randn(2, 3, 3, 3).astype(np.float32)
    b = rng.randn(2).astype(np.float32)
    inits = [
        helper.make_tensor("conv1_w_0", TensorProto.FLOAT, w.shape, w.flatten().tolist()),
        helper.make_tensor("conv1_b_0", TensorProto.FLOAT, b.shape, b.tolist()),
        helper.make_tensor("shape_0", TensorProto.INT64, [2], [1, -1]),
    ]
    nodes = [
        helper.make_node("Conv", ["data_0", "conv1_w_0", "conv1_b_0"], ["conv1_1"], name="conv1",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("Relu", ["conv1_1"], ["conv1_2"]),
        helper.make_node("MaxPool", ["conv1_2"], ["pool1_1"], kernel_shape=[3, 3],
                         pads=[0, 0, 1, 1], strides=[2, 2]),
        helper.make_node("LRN", ["pool1_1"], ["norm1_1"], size=5, alpha=0.0001, beta=0.75, bias=1.0),
        helper.make_node("Dropout", ["norm1_1"], ["drop_1", "drop_mask"], ratio=0.4),
        helper.make_node("Reshape", ["drop_1", "shape_0"], ["flat_1"]),
        helper.make_node("Softmax", ["flat_1"], ["prob_1"]),
    ]
    inputs = [helper.make_tensor_value_info("data_0", TensorProto.FLOAT, [1, 3, 6, 6])]
    inputs += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in inits]
    graph = helper.make_graph(nodes, "zoo_style", inputs,
                              [helper.make_tensor_value_info("prob_1", TensorProto.FLOAT, [1, 18])],
                              initializer=inits)
    model = helper.make_model(graph, producer_name="make_fixtures.py",
                              opset_imports=[helper.make_opsetid("", 9)])
    model.ir_version = 3
    checker.check_model(model)
    save(model, path)
    return {"conv1_w_0": w.flatten().tolist(), "conv1_b_0": b.tolist()}


if __name__ == "__main__":
    main()
