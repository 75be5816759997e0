#!/usr/bin/python3
"""Writes a paper-faithful PyTorch GoogLeNet (PaperGoogLeNet of
interchange/convert/testdata/make_models.py) as a Caffe .caffemodel, with
Debian's python3-protobuf and the project's caffe_subset.proto compiled by
protoc at run time, laid out as BVLC's bvlc_googlenet: Caffe's layer names
(conv1/7x7_s2, inception_3a/3x3_reduce, loss3/classifier), the deploy
topology (Convolution, ReLU, Pooling, LRN, Concat, Dropout, InnerProduct,
Softmax with their parameters) and each learnable layer's weight and bias
blobs.

write(model, path, workdir, legacy=False): legacy writes the V1 form (the
`layers` field with enum types, blobs with num/channels/height/width).

usage: write_caffemodel.py OUT_DIR
  writes OUT_DIR/googlenet.caffemodel (current form), googlenet_v1.caffemodel
  (legacy form) of one random model, x.bin (two random 224x224 inputs) and
  logits.bin (PyTorch's logits), float32 little-endian.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.path.join(HERE, "..", "internal", "pb")


def compile_proto(workdir):
    if workdir in sys.path:
        import caffe_subset_pb2
        return caffe_subset_pb2
    os.makedirs(workdir, exist_ok=True)
    subprocess.run(["protoc", "-I", PROTO_DIR, "--python_out", workdir, "caffe_subset.proto"], check=True)
    sys.path.insert(0, workdir)
    import caffe_subset_pb2
    return caffe_subset_pb2


BRANCHES = [("b1.0", "1x1"), ("b2.0.0", "3x3_reduce"), ("b2.1.0", "3x3"), ("b3.0.0", "5x5_reduce"),
            ("b3.1.0", "5x5"), ("b4.1.0", "pool_proj")]


def write(model, path, workdir, legacy=False):
    import torch.nn as nn
    pb = compile_proto(workdir)
    net = pb.NetParameter(name="GoogleNet")
    V1 = pb.V1LayerParameter
    v1types = {"Convolution": V1.CONVOLUTION, "ReLU": V1.RELU, "Pooling": V1.POOLING, "LRN": V1.LRN,
               "Concat": V1.CONCAT, "Dropout": V1.DROPOUT, "InnerProduct": V1.INNER_PRODUCT, "Softmax": V1.SOFTMAX}

    def layer(name, typ, bottom, top, blobs=()):
        if legacy:
            l = net.layers.add(name=name, type=v1types[typ], bottom=bottom, top=top)
        else:
            l = net.layer.add(name=name, type=typ, bottom=bottom, top=top)
        for t in blobs:
            b = l.blobs.add()
            a = t.detach().numpy()
            if legacy:
                s = [1] * (4 - a.ndim) + list(a.shape)
                b.num, b.channels, b.height, b.width = s
            else:
                b.shape.dim.extend(a.shape)
            b.data.extend(a.reshape(-1).tolist())
        return l

    def conv(name, m, bottom, stride=1, pad=0):
        l = layer(name, "Convolution", [bottom], [name], [m.weight, m.bias])
        p = l.convolution_param
        p.num_output = m.out_channels
        p.kernel_size.append(m.kernel_size[0])
        if stride != 1:
            p.stride.append(stride)
        if pad:
            p.pad.append(pad)
        layer(name.split("/")[0] + "/relu_" + name.split("/")[-1], "ReLU", [name], [name])
        return name

    def pool(name, bottom, k, s, method=0, pad=0):
        l = layer(name, "Pooling", [bottom], [name])
        l.pooling_param.pool = method
        l.pooling_param.kernel_size = k
        l.pooling_param.stride = s
        if pad:
            l.pooling_param.pad = pad
        return name

    def lrn(name, bottom):
        l = layer(name, "LRN", [bottom], [name])
        l.lrn_param.local_size, l.lrn_param.alpha, l.lrn_param.beta = 5, 1e-4, 0.75
        return name

    if not legacy:
        net.input.append("data")
        net.input_shape.add(dim=[10, 3, 224, 224])
    f = model.features
    x = conv("conv1/7x7_s2", f[0][0], "data", 2, 3)
    x = pool("pool1/3x3_s2", x, 3, 2)
    x = lrn("pool1/norm1", x)
    x = conv("conv2/3x3_reduce", f[3][0], x)
    x = conv("conv2/3x3", f[4][0], x, 1, 1)
    x = lrn("conv2/norm2", x)
    x = pool("pool2/3x3_s2", x, 3, 2)
    names = ["3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"]
    blocks = [m for m in f if m.__class__.__name__ == "Inception"]
    for i, (n, blk) in enumerate(zip(names, blocks)):
        if n == "4a":
            x = pool("pool3/3x3_s2", x, 3, 2)
        if n == "5a":
            x = pool("pool4/3x3_s2", x, 3, 2)
        p = "inception_" + n + "/"
        mods = dict(blk.named_modules())
        b1 = conv(p + "1x1", mods["b1.0"], x)
        r3 = conv(p + "3x3_reduce", mods["b2.0.0"], x)
        b2 = conv(p + "3x3", mods["b2.1.0"], r3, 1, 1)
        r5 = conv(p + "5x5_reduce", mods["b3.0.0"], x)
        b3 = conv(p + "5x5", mods["b3.1.0"], r5, 1, 2)
        pp = pool(p + "pool", x, 3, 1, 0, 1)
        b4 = conv(p + "pool_proj", mods["b4.1.0"], pp)
        x = p + "output"
        layer(x, "Concat", [b1, b2, b3, b4], [x])
    x = pool("pool5/7x7_s1", x, 7, 1, 1)
    l = layer("pool5/drop_7x7_s1", "Dropout", [x], [x])
    l.dropout_param.dropout_ratio = 0.4
    l = layer("loss3/classifier", "InnerProduct", [x], ["loss3/classifier"], [model.fc.weight, model.fc.bias])
    l.inner_product_param.num_output = model.fc.out_features
    layer("prob", "Softmax", ["loss3/classifier"], ["prob"])
    with open(path, "wb") as fh:
        fh.write(net.SerializeToString())


def main():
    import torch
    import torch.nn as nn
    sys.path.insert(0, os.path.join(HERE, "..", "..", "convert", "testdata"))
    import make_models
    out = sys.argv[1]
    torch.set_num_threads(2)
    torch.manual_seed(1)
    m = make_models.PaperGoogLeNet()
    for mod in m.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(mod.weight, nonlinearity="relu")
            nn.init.uniform_(mod.bias, -0.1, 0.1)
    m.eval()
    write(m, os.path.join(out, "googlenet.caffemodel"), os.path.join(out, "proto"))
    write(m, os.path.join(out, "googlenet_v1.caffemodel"), os.path.join(out, "proto"), legacy=True)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        y = m(x)
    x.numpy().astype("<f4").tofile(os.path.join(out, "x.bin"))
    y.numpy().astype("<f4").tofile(os.path.join(out, "logits.bin"))


if __name__ == "__main__":
    main()
