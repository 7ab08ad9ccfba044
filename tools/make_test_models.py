#!/usr/bin/python3
"""Build small random MIMOConv test models, export them with tools/export.py and write goldens.

    tools/make_test_models.py OUTDIR [--only SUBSTRING] [--batch 8]

Output layout (stable; the C test suite relies on it):

    OUTDIR/manifest.json                     {"models": [{"name", "file", "golden_dir", "valid_n",
                                               "capacity", "binding", "activation", "skip_init",
                                               "input_shape": [B, C, H, W], "checkpoint"}, ...],
                                              "tolerance": 1e-3}
    OUTDIR/<model-name>.safetensors          the exported model file (docs/model-format.md)
    OUTDIR/<model-name>/input.npy            float32 (B, C, H, W), random N(0,1), already "normalised"
    OUTDIR/<model-name>/logits_n{n}.npy      float32 (B - B mod n, K) PyTorch eval-mode logits, every valid n
    OUTDIR/<model-name>/golden.json          per-model details
    OUTDIR/checkpoints/<reference name>_model.pt   the reference-style checkpoint that was exported

Compare:  mimovk run OUTDIR/<m>.safetensors --n N --input OUTDIR/<m>/input.npy --output Y.npy
against OUTDIR/<m>/logits_n{N}.npy within 1e-3 absolute.

Models (all depth 10 = one block per stage, tiny widths): every binding (HRR, MBAT: Ncap 4) x every
block activation (relu, prelu, srelu) x both input shapes (1x28x28, 3x32x32), plus binding None with
Ncap 1 (plain WideResNet, no superpose node) and Ncap 2.  BN statistics, PReLU/SReLU parameters,
keys and biases are random; some models use skip_init with non-zero alpha; iw=2,w=1 models have a
layer1 downsample.  Deterministic (fixed seeds).
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mimoconv.model import MimoConfig, MimoConvNet, ACT_FAMILY, valid_ns  # noqa: E402
from mimoconv.selfcheck import randomize  # noqa: E402
import export  # noqa: E402


def model_specs():
    specs = []
    k = 0
    for binding in ("HRR", "MBAT"):
        for act in ("relu", "prelu", "srelu"):
            for in_ch, hw in ((1, 28), (3, 32)):
                specs.append(dict(binding=binding, ncap=4, act=act, in_ch=in_ch, hw=hw,
                                  iw=1 + (k % 2), width=1, skip=(k % 3 == 1)))
                k += 1
    specs += [
        dict(binding="None", ncap=1, act="relu", in_ch=1, hw=28, iw=1, width=1, skip=False),
        dict(binding="None", ncap=1, act="srelu", in_ch=3, hw=32, iw=2, width=1, skip=True),
        dict(binding="None", ncap=2, act="prelu", in_ch=1, hw=28, iw=2, width=1, skip=False),
        dict(binding="None", ncap=2, act="relu", in_ch=3, hw=32, iw=1, width=2, skip=True),
    ]
    for s in specs:
        s["name"] = (f"t-{s['binding'].lower()}-n{s['ncap']}-{s['act']}-{s['in_ch']}x{s['hw']}"
                     + ("-skip" if s["skip"] else ""))
    return specs


def reference_name(cfg, dataset):
    fields = ["Experiment0", cfg.model_name, dataset, cfg.binding, cfg.capacity, cfg.width,
              cfg.initial_width, None, cfg.skip_init, False, False, 0.1, 0.0001, 1.0, None, 128, 0, 1,
              0.2, 1e-05, 1.0, 10.0, 42]
    return "_".join(str(f) for f in fields) + "_model.pt"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--only", help="build only models whose name contains this")
    ap.add_argument("--batch", type=int, default=8, help="golden images per model (multiple of 4)")
    a = ap.parse_args()
    t0 = time.time()
    torch.set_num_threads(1)
    os.makedirs(os.path.join(a.outdir, "checkpoints"), exist_ok=True)
    manifest = {"models": [], "tolerance": 1e-3,
                "layout": "OUTDIR/<name>.safetensors, OUTDIR/<name>/input.npy, OUTDIR/<name>/logits_n{n}.npy"}
    for i, s in enumerate(model_specs()):
        if a.only and a.only not in s["name"]:
            continue
        cfg = MimoConfig(family=ACT_FAMILY[s["act"]], depth=10, width=s["width"], initial_width=s["iw"],
                         binding=s["binding"], capacity=s["ncap"], in_channels=s["in_ch"],
                         num_classes=10, skip_init=s["skip"])
        torch.manual_seed(1000 + i)
        model = MimoConvNet(cfg)
        gen = torch.Generator().manual_seed(2000 + i)
        randomize(model, gen)
        with torch.no_grad():
            if cfg.binding == "HRR":  # keys of roughly unit norm, like trained ones
                model.channelConv.weight.normal_(0, 1.0 / cfg.channels ** 0.5, generator=gen)
        dataset = "FashionMNIST" if s["in_ch"] == 1 else "CIFAR10"
        ck_path = os.path.join(a.outdir, "checkpoints", f"{s['name']}__" + reference_name(cfg, dataset))
        torch.save({"model_state_dict": model.state_dict(), "optimizer_state_dict": None,
                    "scheduler_state_dict": None, "epoch": 0}, ck_path)
        out_file = os.path.join(a.outdir, s["name"] + ".safetensors")
        gdir = os.path.join(a.outdir, s["name"])
        rc = export.main([ck_path, "-o", out_file, "--name", s["name"], "--golden", gdir,
                          "--random-input", "--golden-count", str(a.batch), "--seed", str(i),
                          "--threads", "1"])
        if rc:
            raise SystemExit(f"export failed for {s['name']}")
        ns = valid_ns(cfg.capacity) if not (cfg.binding == "None" and cfg.capacity == 1) else [1]
        manifest["models"].append({"name": s["name"], "file": s["name"] + ".safetensors",
                                   "golden_dir": s["name"], "valid_n": ns, "capacity": cfg.capacity,
                                   "binding": cfg.binding, "activation": cfg.activation,
                                   "skip_init": cfg.skip_init, "width": cfg.width,
                                   "initial_width": cfg.initial_width,
                                   "input_shape": [a.batch, s["in_ch"], s["hw"], s["hw"]],
                                   "checkpoint": os.path.relpath(ck_path, a.outdir)})
    tmp = os.path.join(a.outdir, "manifest.json.tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(tmp, os.path.join(a.outdir, "manifest.json"))
    print(f"{len(manifest['models'])} test models in {a.outdir} ({time.time() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
