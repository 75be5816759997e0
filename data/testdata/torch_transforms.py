#!/usr/bin/python3
"""Reference outputs for data/peer_test.go from torchvision 0.14 and PIL 9.4.

Run with Debian's interpreter from this folder:
    /usr/bin/python3 torch_transforms.py > torch_transforms.json
The input image is generated here and stored in the JSON, so the Go test
needs no Python.
"""
import json

import numpy as np
import torch
import torchvision.transforms.functional as F
from PIL import Image

rng = np.random.default_rng(20141017)
H, W = 17, 23
img = rng.integers(0, 256, size=(H, W, 3), dtype=np.uint8)
# a smooth part so resampling differences are not all noise
yy, xx = np.mgrid[0:H, 0:W]
img[:, :12, 0] = (xx[:, :12] * 11 + yy[:, :12] * 5).astype(np.uint8)

out = {"h": H, "w": W, "pixels": img.reshape(-1).tolist(), "photometric": [], "resize": []}

# Photometric: torchvision's functional ops on float images in [0, 1], in
# the order the Go transform applies them (each clamps).
t = torch.from_numpy(img).permute(2, 0, 1).double() / 255
for b, c, s in [(1.2, 0.7, 1.3), (0.65, 1.35, 0.6), (1.0, 1.0, 0.0)]:
    x = F.adjust_brightness(t, b)
    x = F.adjust_contrast(x, c)
    x = F.adjust_saturation(x, s)
    out["photometric"].append({"brightness": b, "contrast": c, "saturation": s,
                               "chw": [round(v, 3) for v in (x * 255).reshape(-1).tolist()]})

# Resampling with PIL (what torchvision uses for PIL images).
pil = Image.fromarray(img)
methods = {"bilinear": Image.BILINEAR, "cubic": Image.BICUBIC, "nearest": Image.NEAREST}
for name, m in methods.items():
    for w, h in [(10, 8), (46, 34), (12, 10)]:
        r = np.asarray(pil.resize((w, h), m))
        out["resize"].append({"interp": name, "w": w, "h": h,
                              "chw": r.transpose(2, 0, 1).reshape(-1).tolist()})


def area_reference(a, w, h):
    """Exact area averaging, computed from the integral image: the integral
    of the piecewise-constant image over [0,X)x[0,Y) is bilinear in X and Y
    within a pixel, so each footprint mean is four evaluations of it."""
    H, W, C = a.shape
    S = np.zeros((H + 1, W + 1, C))
    S[1:, 1:] = a.astype(np.float64).cumsum(0).cumsum(1)

    def integral(X, Y):
        x0, y0 = min(int(X), W - 1), min(int(Y), H - 1)
        fx, fy = X - x0, Y - y0
        return ((1 - fx) * (1 - fy) * S[y0, x0] + fx * (1 - fy) * S[y0, x0 + 1]
                + (1 - fx) * fy * S[y0 + 1, x0] + fx * fy * S[y0 + 1, x0 + 1])

    sx, sy = W / w, H / h
    r = np.zeros((h, w, C))
    for i in range(h):
        for j in range(w):
            X0, X1, Y0, Y1 = j * sx, (j + 1) * sx, i * sy, (i + 1) * sy
            r[i, j] = (integral(X1, Y1) - integral(X0, Y1) - integral(X1, Y0)
                       + integral(X0, Y0)) / (sx * sy)
    return r


# PIL's BOX counts edge pixels wholly (by their centres), so "area" is
# checked against exact area averaging instead (TensorFlow's ResizeArea,
# OpenCV's INTER_AREA when shrinking).
for w, h in [(10, 8), (12, 10), (23, 17), (5, 3)]:
    r = area_reference(img, w, h)
    out["resize"].append({"interp": "area", "w": w, "h": h,
                          "chw": [round(v, 3) for v in r.transpose(2, 0, 1).reshape(-1).tolist()]})

print(json.dumps(out))
