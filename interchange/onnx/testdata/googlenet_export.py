#!/usr/bin/python3
"""Exports a randomly initialised torchvision GoogLeNet (eval mode,
transform_input=False) to ONNX at opset 13 for the test in parity_test.go
(run at test time; nothing is committed).

usage: /usr/bin/python3 googlenet_export.py OUT_DIR

OUT_DIR/googlenet.onnx
"""
import os
import sys

import torch
import torchvision

out = sys.argv[1]
torch.manual_seed(0)
m = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True,
                                 transform_input=False).eval()
torch.onnx.export(m, torch.randn(1, 3, 224, 224), os.path.join(out, "googlenet.onnx"),
                  opset_version=13, input_names=["input"], output_names=["logits"])
