#!/usr/bin/python3
"""Linear probe: fit a multinomial logistic-regression classifier on embeddings
written by `googlenet embed --data ...` and report its test accuracy.

usage: scripts/linear-probe.py TRAIN.npy TEST.npy [--l2 1e-4] [--iters 500]

Each F.npy ([N, D] float32) has its index file F.txt beside it (one line per
row: path, label index, class name). Features are standardised with the
training set's mean and standard deviation; the classifier (D x K weights and
K biases) is fitted by full-batch gradient descent with Nesterov momentum on
the mean cross-entropy plus l2/2 * |W|^2. Needs only numpy.
"""
import argparse
import sys

import numpy as np


def load(path):
    x = np.load(path).astype(np.float64)
    idx = path[:-4] + ".txt" if path.endswith(".npy") else path + ".txt"
    labels = []
    with open(idx) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                sys.exit(f"linear-probe: {idx}: a line without a label (embed images from --data)")
            labels.append(int(parts[1]))
    y = np.array(labels)
    if len(y) != x.shape[0]:
        sys.exit(f"linear-probe: {path} has {x.shape[0]} rows, {idx} {len(y)} lines")
    return x, y


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("--l2", type=float, default=1e-4)
    ap.add_argument("--iters", type=int, default=500)
    ap.add_argument("--lr", type=float, default=0.5)
    a = ap.parse_args()
    xtr, ytr = load(a.train)
    xte, yte = load(a.test)
    mu, sd = xtr.mean(0), xtr.std(0) + 1e-6
    xtr, xte = (xtr - mu) / sd, (xte - mu) / sd
    k = int(max(ytr.max(), yte.max())) + 1
    n, d = xtr.shape
    w, b = np.zeros((d, k)), np.zeros(k)
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    onehot = np.eye(k)[ytr]
    for _ in range(a.iters):
        # Nesterov look-ahead
        lw, lb = w + 0.9 * vw, b + 0.9 * vb
        z = xtr @ lw + lb
        z -= z.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        g = (p - onehot) / n
        gw, gb = xtr.T @ g + a.l2 * lw, g.sum(0)
        vw, vb = 0.9 * vw - a.lr * gw, 0.9 * vb - a.lr * gb
        w, b = w + vw, b + vb
    acc = lambda x, y: float(((x @ w + b).argmax(1) == y).mean())
    print(f"linear probe: {n} training rows of {d} features, {k} classes; "
          f"train top-1 {100 * acc(xtr, ytr):.2f}%, test top-1 {100 * acc(xte, yte):.2f}% on {len(yte)} rows")


if __name__ == "__main__":
    main()
