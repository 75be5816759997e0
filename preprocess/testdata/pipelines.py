"""The publishers' preprocessing pipelines, written as their documentation
gives them, for preprocess's peer test.

usage: pipelines.py OUTDIR IMAGE...

For each image i and pipeline P (torchvision, zoo, caffe) writes
OUTDIR/P-i.f32: the model input, 3x224x224 float32 little-endian, CHW.
"""
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms as T

def torchvision_input(path):
    # torchvision's documented ImageNet evaluation transform for GoogLeNet
    # (GoogLeNet_Weights.IMAGENET1K_V1.transforms: resize 256, crop 224,
    # bilinear), then the model's _transform_input (transform_input=True is
    # set whenever the published weights are loaded).
    img = Image.open(path).convert("RGB")
    t = T.Compose([T.Resize(256, interpolation=T.InterpolationMode.BILINEAR), T.CenterCrop(224), T.ToTensor(),
                   T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
    x = t(img).unsqueeze(0)
    x_ch0 = torch.unsqueeze(x[:, 0], 1) * (0.229 / 0.5) + (0.485 - 0.5) / 0.5
    x_ch1 = torch.unsqueeze(x[:, 1], 1) * (0.224 / 0.5) + (0.456 - 0.5) / 0.5
    x_ch2 = torch.unsqueeze(x[:, 2], 1) * (0.225 / 0.5) + (0.406 - 0.5) / 0.5
    return torch.cat((x_ch0, x_ch1, x_ch2), 1)[0].numpy()


def zoo_input(path):
    # The ONNX model zoo's googlenet README: preprocess(img).
    img = np.asarray(Image.open(path).convert("RGB"))
    img = np.array(Image.fromarray(img).resize((224, 224))).astype(np.float32)
    img[:, :, 0] -= 123.68
    img[:, :, 1] -= 116.779
    img[:, :, 2] -= 103.939
    img[:, :, [0, 1, 2]] = img[:, :, [2, 1, 0]]
    return img.transpose((2, 0, 1))


def caffe_input(path):
    # Caffe: convert_imageset --resize_height=256 --resize_width=256
    # (cv::resize INTER_LINEAR, stored as uint8), the TEST phase's centre
    # crop 224 (offset (256-224)/2), BGR, mean_value 104 117 123.
    img = np.asarray(Image.open(path).convert("RGB")).astype(np.float32)
    x = torch.from_numpy(img).permute(2, 0, 1).unsqueeze(0)
    x = F.interpolate(x, size=(256, 256), mode="bilinear", align_corners=False, antialias=False)
    x = torch.clamp(torch.floor(x + 0.5), 0, 255)[0].numpy()
    x = x[::-1, 16:240, 16:240]
    return (x - np.array([104, 117, 123], np.float32)[:, None, None]).astype(np.float32)


if __name__ == "__main__":
    out = sys.argv[1]
    for i, path in enumerate(sys.argv[2:]):
        for name, f in (("torchvision", torchvision_input), ("zoo", zoo_input), ("caffe", caffe_input)):
            np.ascontiguousarray(f(path), dtype="<f4").tofile("%s/%s-%d.f32" % (out, name, i))
