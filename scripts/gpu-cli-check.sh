#!/usr/bin/env bash
# gpu-cli-check.sh GOOGLENET OUTDIR: the commands users run with --device gpu
# (cuda.Net), end to end on a GPU machine, on a small synthetic dataset and
# the mini variant: train 2 epochs with Polyak averaging, resume it onto the
# device for a third, eval (1 and 10 crops) on the GPU in strict FP32 and on
# the CPU, whose top-1 and top-5 counts must agree within 2 of the 64
# images, then infer and predict on the GPU. Files go to OUTDIR/cli.
# scripts/gpu-check.sh run calls it (step googlenet-cli) with the gpu build
# of googlenet; it needs python3 (GOOGLENET_PYTHON).
set -euo pipefail
g=$1
o=$2
data=synthetic:classes=4,train=256,val=64,size=28,channels=1,seed=5
rm -rf "$o/cli"
mkdir -p "$o/cli"
run=$o/cli/run
echo "== train --device gpu (2 epochs)"
"$g" train --device gpu --variant mini --data "$data" --epochs 2 --batch 32 --steps 6 --polyak \
  --progress log --seed 3 --out "$run"
echo "== train --device gpu --resume (a third epoch, from the device's checkpoint)"
"$g" train --device gpu --variant mini --data "$data" --epochs 3 --batch 32 --steps 6 --polyak \
  --progress log --seed 3 --out "$run" --resume
echo "== eval, GPU (strict FP32) and CPU"
"$g" eval --device gpu --strict-fp32 --weights "$run/model.safetensors" --data "$data" --crops 1,10 --json \
  --progress none >"$o/cli/eval-gpu.json"
"$g" eval --device cpu --weights "$run/model.safetensors" --data "$data" --crops 1,10 --json \
  --progress none >"$o/cli/eval-cpu.json"
"${GOOGLENET_PYTHON:-python3}" - "$o/cli/eval-gpu.json" "$o/cli/eval-cpu.json" <<'PY'
import json, sys
gpu, cpu = (json.load(open(p)) for p in sys.argv[1:3])
bad = False
for a, b in zip(gpu, cpu):
    for k in ("top1", "top5"):
        da, db = a["score"][k + "_correct"], b["score"][k + "_correct"]
        print(f'{a["scheme"]} crops {k}: GPU {da}, CPU {db} of {a["score"]["images"]}')
        bad |= abs(da - db) > 2
sys.exit(1 if bad else 0)
PY
echo "== infer and predict, GPU"
"${GOOGLENET_PYTHON:-python3}" - "$o/cli/x.npy" <<'PY'
import sys, struct
n = 3 * 1 * 28 * 28
hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1, 28, 28), }"
hdr += " " * (63 - len(hdr) % 64) + "\n"
with open(sys.argv[1], "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
    f.write(struct.pack("<%df" % n, *[((i * 37) % 101) / 50.0 - 1 for i in range(n)]))
PY
"$g" infer --device gpu --weights "$run/model.safetensors" --in "$o/cli/x.npy" --out "$o/cli/y.npy"
"${GOOGLENET_PYTHON:-python3}" - "$o/cli/img.png" <<'PY'
import sys, struct, zlib
w, h = 40, 30
raw = b"".join(b"\x00" + bytes((7 * x + 5 * y) % 256 for x in range(w)) for y in range(h))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
with open(sys.argv[1], "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
PY
"$g" predict --device gpu --weights "$run/model.safetensors" --crops 10 "$o/cli/img.png"
echo "gpu-cli-check: passed"
