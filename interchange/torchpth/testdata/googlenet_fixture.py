#!/usr/bin/python3
"""Writes a randomly initialised torchvision GoogLeNet state dict for the
parity test in torchpth_test.go (run at test time; nothing is committed).

usage: /usr/bin/python3 googlenet_fixture.py OUT_DIR

OUT_DIR/googlenet.pth  torch.save(state_dict) (zip format, aux heads included)
OUT_DIR/sums.json      {name: [shape, sum of values, first value]}
"""
import json
import os
import sys

import torch
import torchvision

out = sys.argv[1]
torch.manual_seed(0)
m = torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=True,
                                 transform_input=False).eval()
sd = m.state_dict()
torch.save(sd, os.path.join(out, "googlenet.pth"))
with open(os.path.join(out, "sums.json"), "w") as f:
    json.dump({k: [list(v.shape), float(v.double().sum()), float(v.flatten()[0])]
               for k, v in sd.items()}, f)
