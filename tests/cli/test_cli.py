#!/usr/bin/python3
"""test_cli: the `mimovk` command line against the exporter's goldens and its documented formats.

    test_cli.py MIMOVK TEST_MODELS_DIR

Uses the random models that tools/make_test_models.py wrote (fixture test_models_data) and the
Fashion-MNIST test set. Checks: `run` logits against PyTorch at every valid n (tail groups
included); `eval --json` and `bench --json` field by field, and eval's accuracy against argmax of
`run` on the same preprocessed images; `classify` on PNG files against `run`; `info`; and that
bad input (n not dividing the capacity, a malformed file, a missing image) exits 1 with a message
naming the problem and leaves no output file behind.
"""
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np

from common import require_device

MVK, MODELS = sys.argv[1], sys.argv[2]
DATA = "/usr/share/datasets/fashion-mnist"
failures = []
# Sanitizer builds report leaks at exit (LeakSanitizer); any report fails the check.
ENV = dict(os.environ, MIMOVK_VALIDATION="1")


def leaked(stderr):
    return "LeakSanitizer" in stderr


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def mimovk(*args, expect=0):
    p = subprocess.run([MVK, *args], capture_output=True, text=True, timeout=600, env=ENV)
    if "validation:" in p.stderr:  # the engine logs each validation-layer message so
        failures.append(f"validation message from mimovk {args[0]}: {p.stderr.strip()}")
    if leaked(p.stderr):
        failures.append(f"mimovk {args[0]} leaked memory: {p.stderr.strip()}")
        print(f"FAIL mimovk {' '.join(args)} leaked memory:\n{p.stderr}")
    if p.returncode != expect:
        print(f"  $ mimovk {' '.join(args)}\n  exit {p.returncode}\n  stdout: {p.stdout}\n  stderr: {p.stderr}")
    return p


def header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(json.loads(f.read(n))["__metadata__"]["mimovk"])


def idx(name, count):
    with gzip.open(os.path.join(DATA, name + ".gz")) as f:
        raw = f.read()
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    a = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)
    return a[:count]


def write_png(path, img):
    """8-bit grayscale PNG, no filter: enough for stb_image."""
    h, w = img.shape
    rows = b"".join(b"\0" + img[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


require_device(MVK, ENV)

manifest = json.load(open(os.path.join(MODELS, "manifest.json")))
by_name = {m["name"]: m for m in manifest["models"]}
tmp = tempfile.mkdtemp(prefix="mvk-cli-")

# 1. run: logits equal PyTorch's at every valid n, for superposing models and a plain one. The input
# has one row fewer than the goldens (7 of 8), so at n = 2 and 4 the last group is a tail: it must
# run at the next smaller valid n (no image dropped), e.g. rows 4-5 at n = 2 and row 6 at n = 1.
def expected(m, n, rows):
    want, pos, ns = [], 0, sorted(m["valid_n"], reverse=True)
    gold = {k: np.load(os.path.join(MODELS, m["golden_dir"], f"logits_n{k}.npy")) for k in ns}
    while pos < rows:
        k = next(k for k in ns if k <= n and k <= rows - pos)
        take = (rows - pos) // k * k if k == n else k
        want.append(gold[k][pos:pos + take])
        pos += take
    return np.concatenate(want)


for name in ("t-hrr-n4-prelu-1x28", "t-mbat-n4-srelu-3x32", "t-none-n1-relu-1x28"):
    m = by_name[name]
    model = os.path.join(MODELS, m["file"])
    x = np.load(os.path.join(MODELS, m["golden_dir"], "input.npy"))[:7]
    xin = os.path.join(tmp, f"{name}-in.npy")
    np.save(xin, x)
    for n in m["valid_n"]:
        out = os.path.join(tmp, f"{name}-n{n}.npy")
        p = mimovk("run", model, "--n", str(n), "--input", xin, "--output", out)
        ok = p.returncode == 0 and os.path.exists(out)
        y = np.load(out) if ok else None
        ref = expected(m, n, x.shape[0])
        ok = ok and y.shape == ref.shape and y.dtype == np.float32
        d = float(np.abs(y - ref).max()) if ok else float("inf")
        check(ok and d <= 1e-3, f"run {name} n={n}: {x.shape[0]} rows, max |diff| vs PyTorch {d:.2e}")

# 2. bad input: exit status 1, a message naming the problem, no output file.
hrr = os.path.join(MODELS, by_name["t-hrr-n4-prelu-1x28"]["file"])
hrr_in = os.path.join(MODELS, by_name["t-hrr-n4-prelu-1x28"]["golden_dir"], "input.npy")
out = os.path.join(tmp, "bad.npy")
p = mimovk("run", hrr, "--n", "3", "--input", hrr_in, "--output", out, expect=1)
check(p.returncode == 1 and "3" in p.stderr and "capacity" in p.stderr.lower() and not os.path.exists(out),
      f"run --n 3 on capacity 4: exit 1, names n and the capacity: {p.stderr.strip()!r}")
trunc = os.path.join(tmp, "truncated.safetensors")
with open(hrr, "rb") as f, open(trunc, "wb") as g:
    g.write(f.read()[:-100])
p = mimovk("run", trunc, "--n", "1", "--input", hrr_in, "--output", out, expect=1)
check(p.returncode == 1 and "truncated.safetensors" in p.stderr and not os.path.exists(out),
      f"run on a truncated file: exit 1 with a message: {p.stderr.strip()!r}")
wrong = os.path.join(tmp, "wrong.npy")
np.save(wrong, np.zeros((2, 3, 32, 32), np.float32))
p = mimovk("run", hrr, "--n", "1", "--input", wrong, "--output", out, expect=1)
check(p.returncode == 1 and "wrong.npy" in p.stderr and not os.path.exists(out),
      f"run on an input of the wrong shape: exit 1 with a message: {p.stderr.strip()!r}")
p = mimovk("classify", hrr, os.path.join(tmp, "no-such.png"), expect=1)
check(p.returncode == 1 and "no-such.png" in p.stderr, f"classify a missing image: {p.stderr.strip()!r}")

# 3. info: architecture, valid n, FLOPs per n.
p = mimovk("info", hrr)
check(p.returncode == 0 and "valid n: 1 2 4" in p.stdout and "MFLOP per image" in p.stdout
      and all(f"\n   {n} " in p.stdout for n in (1, 2, 4)), "info lists capacity, valid n and FLOPs per n")

# 4. eval --json on real test images: format, and accuracy == argmax of `run` on the same input.
meta = header(hrr)
mean, std = meta["input"]["mean"][0], meta["input"]["std"][0]
count = 40  # 40 = 10 groups of 4: at n = 4 no tail; the tail path is covered by `run` above
imgs, labels = idx("t10k-images-idx3-ubyte", count), idx("t10k-labels-idx1-ubyte", count)
xin = ((imgs.astype(np.float32) / 255.0 - mean) / std).astype(np.float32)[:, None]
np.save(os.path.join(tmp, "fm.npy"), xin)
p = mimovk("eval", hrr, "--data", DATA, "--n", "1,4", "--limit", str(count), "--json")
ev = json.loads(p.stdout) if p.returncode == 0 else {}
check(set(ev) >= {"model", "device", "results"} and [r["n"] for r in ev.get("results", [])] == [1, 4],
      "eval --json: model, device, results for n = 1 and 4")
for r in ev.get("results", []):
    o = os.path.join(tmp, f"fm-n{r['n']}.npy")
    mimovk("run", hrr, "--n", str(r["n"]), "--input", os.path.join(tmp, "fm.npy"), "--output", o)
    acc = float((np.load(o).argmax(1) == labels).mean())
    check(r["images"] == count and abs(r["accuracy"] - acc) < 1e-9 and "pytorch_accuracy" not in r,
          f"eval n={r['n']}: accuracy {r['accuracy']:.4f} == argmax of run {acc:.4f} over {r['images']} images")

# 5. classify PNGs: the top label is argmax of `run` on the same image.
y1 = np.load(os.path.join(tmp, "fm-n1.npy"))
pngs = []
for i in range(3):
    pngs.append(os.path.join(tmp, f"img{i}.png"))
    write_png(pngs[-1], imgs[i])
p = mimovk("classify", hrr, *pngs, "--n", "1", "--top", "2")
lines = [ln for ln in p.stdout.splitlines() if ln.strip()]
for i, png in enumerate(pngs):
    want = meta["input"]["labels"][int(y1[i].argmax())]
    line = next((ln for ln in lines if ln.startswith(png + ": ")), "")
    top = line[len(png) + 2:].split(",")[0]
    prob = np.exp(y1[i] - y1[i].max())
    prob = f"{100 * prob.max() / prob.sum():.1f}%"
    check(p.returncode == 0 and top == f"{want} {prob}", f"classify img{i}.png: {top!r}, from run: {want} {prob}")

# 6. bench --json: format; n = 1 is the speed-up's unit.
p = mimovk("bench", hrr, "--n", "1,2", "--batch", "2", "--passes", "1", "--runs", "5", "--json")
be = json.loads(p.stdout) if p.returncode == 0 else {}
res = be.get("results", [])
check("device" in be and [r["n"] for r in res] == [1, 2] and all(r["images_per_s"] > 0 for r in res)
      and abs(res[0]["speedup"] - 1.0) < 1e-9
      and abs(res[1]["speedup"] - res[1]["images_per_s"] / res[0]["images_per_s"]) < 1e-2,
      "bench --json: device, images_per_s > 0 per n, speedup against n = 1")

print(f"{len(failures)} failed" if failures else "all CLI checks passed")
sys.exit(1 if failures else 0)
