#!/bin/sh
# The main job of `make run`: evaluate the shipped MIMOConv (and its WideResNet baseline) on the
# Fashion-MNIST test set at n = 1, 2, 4 with mimovk, benchmark them, and print one table.
set -eu
BUILD=${1:-build}
MVK="$BUILD/apps/mimovk"
DATA=/usr/share/datasets/fashion-mnist
MIMO=models/fmnist-mimoconv16.safetensors
BASE=models/fmnist-wrn16.safetensors

"$MVK" devices | head -n 12
for m in "$MIMO" "$BASE"; do
    if [ ! -f "$m" ]; then
        echo "make run: $m is missing (see docs/training.md to train and export it)" >&2
        exit 1
    fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "evaluating on the 10000 Fashion-MNIST test images and benchmarking (median of 7 runs)..."
"$MVK" eval "$BASE" --data "$DATA" --json > "$tmp/base_eval.json"
"$MVK" bench "$BASE" --json > "$tmp/base_bench.json"
"$MVK" eval "$MIMO" --data "$DATA" --n 1,2,4 --json > "$tmp/mimo_eval.json"
"$MVK" bench "$MIMO" --n 1,2,4 --json > "$tmp/mimo_bench.json"
/usr/bin/python3 - "$tmp" <<'PY'
import json, sys, os
d = sys.argv[1]
load = lambda f: json.load(open(os.path.join(d, f)))
be, bb, me, mb = (load(f) for f in ("base_eval.json", "base_bench.json", "mimo_eval.json", "mimo_bench.json"))
base_ips = bb["results"][0]["images_per_s"]
print(f"\n{me['model']} vs {be['model']} on {mb['device']} ({mb['kernels']} kernels)")
print(f"{'model':<22}{'n':>3}{'accuracy':>11}{'images/s':>11}{'vs n=1':>9}{'vs baseline':>13}")
r = be["results"][0]
print(f"{be['model']:<22}{1:>3}{100*r['accuracy']:>10.2f}%{base_ips:>11.1f}{1.0:>8.2f}x{1.0:>12.2f}x")
acc = {x["n"]: x["accuracy"] for x in me["results"]}
for x in mb["results"]:
    print(f"{me['model']:<22}{x['n']:>3}{100*acc[x['n']]:>10.2f}%{x['images_per_s']:>11.1f}"
          f"{x['speedup']:>8.2f}x{x['images_per_s']/base_ips:>12.2f}x")
PY
