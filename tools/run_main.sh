#!/bin/sh
# The main job of `make run`: evaluate the shipped models on the Fashion-MNIST test set with
# mimovk (the MIMOConv at n = 1, 2, 4), benchmark them, and print one table. A model that is not
# in models/ yet (training takes CPU hours, docs/training.md) is named as missing, not skipped.
set -eu
BUILD=${1:-build}
MVK="$BUILD/apps/mimovk"
DATA=/usr/share/datasets/fashion-mnist
MIMO=models/fmnist-mimoconv16.safetensors
BASE=models/fmnist-wrn16.safetensors

"$MVK" devices | head -n 12
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
found=0
for m in "$BASE" "$MIMO"; do
    name=$(basename "$m" .safetensors)
    if [ ! -f "$m" ]; then
        echo "make run: $m is not there yet: it is still being trained (docs/training.md)" >&2
        continue
    fi
    found=1
    echo "$name: evaluating on the 10000 test images and benchmarking (median of 9 runs per n)..."
    "$MVK" eval "$m" --data "$DATA" --json > "$tmp/$name.eval.json"
    "$MVK" bench "$m" --json > "$tmp/$name.bench.json"
done
[ "$found" = 1 ] || { echo "make run: no shipped model in models/" >&2; exit 1; }
/usr/bin/python3 - "$tmp" <<'PY'
import json, sys, os
d = sys.argv[1]
rows, base_ips, device, bad = [], None, "", []
for name in ("fmnist-wrn16", "fmnist-mimoconv16"):
    e, b = (os.path.join(d, f"{name}.{k}.json") for k in ("eval", "bench"))
    if not os.path.exists(e):
        continue
    ev, be = json.load(open(e)), json.load(open(b))
    device = f"{be['device']} ({be['kernels']} kernels)"
    res = {r["n"]: r for r in ev["results"]}
    for r in be["results"]:
        er = res[r["n"]]
        pt = er.get("pytorch_accuracy")
        if pt is not None and abs(er["accuracy"] - pt) > 0.0005 + 1e-9:
            bad.append(f"{ev['model']} n={r['n']}: mimovk {100 * er['accuracy']:.2f} % vs PyTorch {100 * pt:.2f} %")
        rows.append((ev["model"], r["n"], er["accuracy"], pt, r["images_per_s"], r["speedup"]))
        if name == "fmnist-wrn16":
            base_ips = r["images_per_s"]
print(f"\nFashion-MNIST test set (10000 images) on {device}")
print(f"{'model':<22}{'n':>3}{'accuracy':>11}{'PyTorch':>10}{'images/s':>11}{'vs n=1':>9}{'vs baseline':>13}")
for model, n, a, pt, ips, sp in rows:
    vb = f"{ips / base_ips:>12.2f}x" if base_ips else f"{'-':>13}"
    pts = f"{100 * pt:>9.2f}%" if pt is not None else f"{'-':>10}"
    print(f"{model:<22}{n:>3}{100 * a:>10.2f}%{pts}{ips:>11.1f}{sp:>8.2f}x{vb}")
if bad:
    print("make run: mimovk and PyTorch differ by more than 0.05 points:\n  " + "\n  ".join(bad), file=sys.stderr)
    sys.exit(1)
PY
