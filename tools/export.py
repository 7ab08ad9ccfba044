#!/usr/bin/python3
"""Export a MIMOConv / WideResNet checkpoint to a mimovk model file (docs/model-format.md).

    tools/export.py CHECKPOINT -o MODEL.safetensors [--data DIR] [--golden DIR] [flags]

CHECKPOINT is a reference-style torch.save dict with `model_state_dict` (IBM MIMONets
train_superposition.py, or tools/train.py) or a bare state_dict.  The model config is inferred
from the tensors (mimoconv.md §3.3); the reference file name
(`…_<model>_<dataset>_<binding>_<num>_<width>_<iw>_<relu init>_<skip_init>_…_<seed>_model.pt`) is
parsed when present (skip_init, model family, dataset); flags override both.

BatchNorm is folded in float64 (mimoconv.md §4.2): stem BN into conv1 (+bias); block BN2 into the
block's conv1 (+bias); block BN1 becomes the `pre` scale/shift + activation of conv1; shortcut BN
into the 1x1 downsample conv (+bias).  Binding becomes per-n `superpose` matrices (C, n·C) =
[A_0 … A_{n-1}], A_i = Σ_ρ K_{ρn+i}, from HRR circulants / MBAT matrices / identities.

The written file is checked with a float64 numpy interpreter of the graph (tools/mimovk_ref.py)
against PyTorch in float64 (graph == model) and float32 (what goldens hold).

--data DIR  : PyTorch eval-mode test accuracy per valid n, recorded in "reference" (Fashion-MNIST
              / MNIST IDX files in DIR).
--golden DIR: DIR/input.npy (float32 NCHW, preprocessed test images or --random-input),
              DIR/logits_n{n}.npy per valid n (PyTorch eval-mode fp32 logits, CPU),
              DIR/labels.npy (real images only), DIR/golden.json (model, n list, counts).
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mimoconv.model import MimoConfig, MimoConvNet, infer_config, valid_ns, hrr_circulants, FAMILY_ACT  # noqa
from mimoconv import data as fmnist_data  # noqa: E402
import mimovk_ref  # noqa: E402

EPS = 1e-5
REF_FIELDS = ["experiment", "model", "dataset", "binding", "num", "width", "initial_width",
              "relu_param_init", "skip_init", "dirac_init", "bn_disabled", "binding_reg", "ortho_reg",
              "sup_frequency", "sup_low", "batch", "cpus", "epochs", "lr", "wd", "mixup", "clip", "seed"]

DATASETS = {
    # name: (channels, size, mean, std, labels, polarity)
    "fashion-mnist": (1, 28, [fmnist_data.MEAN], [fmnist_data.STD], fmnist_data.LABELS, "light_on_dark"),
    "mnist": (1, 20, [0.1307], [0.3081], [str(i) for i in range(10)], "light_on_dark"),
    "cifar10": (3, 32, [0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616],
                ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
                "natural"),
    "cifar100": (3, 32, [0.5071, 0.4867, 0.4408], [0.2675, 0.2565, 0.2761],
                 [str(i) for i in range(100)], "natural"),
    "svhn": (3, 32, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [str(i) for i in range(10)], "natural"),
}
DATASET_ALIASES = {"fashionmnist": "fashion-mnist", "fmnist": "fashion-mnist", "fashion-mnist": "fashion-mnist",
                   "mnist": "mnist", "cifar10": "cifar10", "cifar100": "cifar100", "svhn": "svhn"}


def parse_reference_name(path):
    """Parse the reference checkpoint file name; returns dict of fields or None."""
    base = os.path.basename(path)
    if not base.endswith("_model.pt"):
        return None
    parts = base[:-len("_model.pt")].split("_")
    if len(parts) < len(REF_FIELDS):
        return None
    parts = ["_".join(parts[:len(parts) - len(REF_FIELDS) + 1])] + parts[len(parts) - len(REF_FIELDS) + 1:]
    d = dict(zip(REF_FIELDS, parts))
    if d["skip_init"] not in ("True", "False") or "-" not in d["model"]:
        return None
    return d


# ---------------------------------------------------------------------------------------------
# safetensors writer (by hand: json + struct)

def write_safetensors(path, tensors, metadata):
    """tensors: ordered dict name -> float32 ndarray.  Atomic (tmp + rename)."""
    header = {}
    blobs = []
    off = 0
    for name, arr in tensors.items():
        a = np.ascontiguousarray(arr, dtype="<f4")
        nb = a.nbytes
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + nb]}
        blobs.append(a.tobytes())
        off += nb
    header["__metadata__"] = metadata
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((8 - len(hj) % 8) % 8)  # keep the data 8-byte aligned
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# graph construction

def bn_affine(sd, p):
    g = sd[p + ".weight"]; b = sd[p + ".bias"]
    m = sd[p + ".running_mean"]; v = sd[p + ".running_var"]
    a = g / np.sqrt(v + EPS)
    return a, b - m * a


def act_param(sd, p, act):
    if act == "prelu":
        return sd[p + ".weight"].reshape(-1)
    if act == "srelu":
        return sd[p + ".srelu_bias"].reshape(-1)
    return None


def superpose_matrices(sd, cfg):
    """-> {n: (C, n*C) float64} or None for the plain (None, Ncap=1) model."""
    C, N = cfg.channels, cfg.capacity
    if cfg.binding == "None" and N == 1:
        return None
    if cfg.binding == "HRR":
        K = hrr_circulants(torch.from_numpy(sd["channelConv.weight"])).numpy()
    elif cfg.binding == "MBAT":
        K = sd["channelLinear.weight"][:, :, 0, 0].reshape(N, C, C)
    else:
        K = np.broadcast_to(np.eye(C), (N, C, C)).copy()
    out = {}
    for n in valid_ns(N):
        r = N // n
        A = K.reshape(r, n, C, C).sum(0)  # (n, Cout, Cin)
        out[n] = np.concatenate([A[i] for i in range(n)], axis=1)  # (C, n*C)
    return out


def build_graph(sd, cfg):
    """sd: name -> float64 ndarray.  Returns (nodes, tensors (name -> float64 ndarray))."""
    T = {}
    nodes = []
    act = cfg.activation
    a, b = bn_affine(sd, "bn1")
    T["stem.weight"] = sd["conv1.weight"] * a.reshape(-1, 1, 1, 1)
    T["stem.bias"] = b
    nodes.append({"op": "conv2d", "inputs": ["input"], "output": "stem", "weight": "stem.weight",
                  "bias": "stem.bias", "stride": 1, "pad": 1, "act": "relu"})
    cur = "stem"
    sup = superpose_matrices(sd, cfg)
    if sup is not None:
        for n, Wn in sup.items():
            T[f"superpose.n{n}"] = Wn
        nodes.append({"op": "superpose", "inputs": [cur], "output": "superposed",
                      "weights": {str(n): f"superpose.n{n}" for n in sup}})
        cur = "superposed"
    nb = {10: 1, 16: 2, 28: 4}[cfg.depth]
    for L in (1, 2, 3):
        for bi in range(nb):
            p = f"layer{L}.{bi}"
            stride = 2 if (L > 1 and bi == 0) else 1
            s1, t1 = bn_affine(sd, p + ".bn1")
            T[p + ".pre.scale"] = s1
            T[p + ".pre.shift"] = t1
            pre = {"scale": p + ".pre.scale", "shift": p + ".pre.shift", "act": act}
            ap1 = act_param(sd, p + ".relu1", act)
            if ap1 is not None:
                T[p + ".pre.act_param"] = ap1
                pre["act_param"] = p + ".pre.act_param"
            s2, t2 = bn_affine(sd, p + ".bn2")
            T[p + ".conv1.weight"] = sd[p + ".conv1.weight"] * s2.reshape(-1, 1, 1, 1)
            T[p + ".conv1.bias"] = t2
            n1 = {"op": "conv2d", "inputs": [cur], "output": p + ".h", "weight": p + ".conv1.weight",
                  "bias": p + ".conv1.bias", "stride": stride, "pad": 1, "pre": pre, "act": act}
            ap2 = act_param(sd, p + ".relu2", act)
            if ap2 is not None:
                T[p + ".act2_param"] = ap2
                n1["act_param"] = p + ".act2_param"
            nodes.append(n1)
            if p + ".downsample.0.weight" in sd:
                sd_, td_ = bn_affine(sd, p + ".downsample.1")
                T[p + ".downsample.weight"] = sd[p + ".downsample.0.weight"] * sd_.reshape(-1, 1, 1, 1)
                T[p + ".downsample.bias"] = td_
                nodes.append({"op": "conv2d", "inputs": [cur], "output": p + ".shortcut",
                              "weight": p + ".downsample.weight", "bias": p + ".downsample.bias",
                              "stride": stride, "pad": 0, "act": "none"})
                resid = p + ".shortcut"
            else:
                resid = cur
            T[p + ".conv2.weight"] = sd[p + ".conv2.weight"]
            rs = float(sd[p + ".alpha"]) if cfg.skip_init else 1.0
            nodes.append({"op": "conv2d", "inputs": [p + ".h", resid], "output": p + ".out",
                          "weight": p + ".conv2.weight", "stride": 1, "pad": 1, "act": "none",
                          "residual_scale": rs})
            cur = p + ".out"
    nodes.append({"op": "global_avgpool", "inputs": [cur], "output": "pooled"})
    cur = "pooled"
    if "unbind.0.weight" in sd:
        T["unbind.weight"] = sd["unbind.0.weight"][:, :, 0, 0]
        T["unbind.bias"] = sd["unbind.0.bias"]
        nodes.append({"op": "linear", "inputs": [cur], "output": "unbound", "weight": "unbind.weight",
                      "bias": "unbind.bias", "act": "relu"})
        nodes.append({"op": "unsuperpose", "inputs": ["unbound"], "output": "features"})
        cur = "features"
    T["fc.weight"] = sd["fc.weight"]
    T["fc.bias"] = sd["fc.bias"]
    nodes.append({"op": "linear", "inputs": [cur], "output": "logits", "weight": "fc.weight",
                  "bias": "fc.bias", "act": "none"})
    return nodes, T


# ---------------------------------------------------------------------------------------------

def load_checkpoint(path):
    ck = torch.load(path, map_location="cpu")
    meta = {}
    if isinstance(ck, dict) and "model_state_dict" in ck:
        sd = ck["model_state_dict"]
        meta = {k: ck[k] for k in ("epoch", "step", "global_step", "config") if k in ck}
    elif isinstance(ck, dict) and "conv1.weight" in ck:
        sd = ck
    else:
        raise SystemExit(f"{path}: neither a checkpoint dict with model_state_dict nor a state_dict")
    return dict(sd), meta


@torch.no_grad()
def torch_logits(model, x, n, dtype=torch.float32):
    m = model.to(dtype)
    out = m(torch.as_tensor(x, dtype=dtype), n)
    model.float()
    return out.double().numpy()


@torch.no_grad()
def accuracy(model, x, y, n, batch=1000):
    correct = total = 0
    for i in range(0, x.shape[0], batch):
        out = model(torch.from_numpy(x[i:i + batch]), n)
        yb = y[i:i + batch][:out.shape[0]]
        correct += int((out.argmax(1).numpy() == yb).sum())
        total += len(yb)
    return correct / total


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--name", help="model name (default: from the checkpoint / output file name)")
    ap.add_argument("--description")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--skip-init", dest="skip_init", action="store_true", default=None)
    g.add_argument("--no-skip-init", dest="skip_init", action="store_false")
    ap.add_argument("--model-family", choices=sorted(FAMILY_ACT), help="override the family name")
    ap.add_argument("--dataset", help="fashion-mnist | mnist | cifar10 | cifar100 | svhn")
    ap.add_argument("--labels", help="comma-separated class names")
    ap.add_argument("--mean", help="comma-separated per-channel mean")
    ap.add_argument("--std", help="comma-separated per-channel std")
    ap.add_argument("--input-size", type=int, help="input height = width")
    ap.add_argument("--data", help="IDX dataset dir: record eval-mode test accuracy per n")
    ap.add_argument("--limit", type=int, default=None, help="test images for --data (default all)")
    ap.add_argument("--golden", help="write golden input/logits to this directory")
    ap.add_argument("--golden-count", type=int, default=256)
    ap.add_argument("--random-input", action="store_true", help="golden input is random N(0,1) data")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tol", type=float, default=1e-4, help="max |fp32 torch - fp64 graph| allowed")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)

    sd_t, ckmeta = load_checkpoint(a.checkpoint)
    sd = {k: v.detach().double().numpy() for k, v in sd_t.items() if not k.endswith("num_batches_tracked")}
    ref = parse_reference_name(a.checkpoint)
    tcfg = ckmeta.get("config", {}) or {}

    skip = a.skip_init
    if skip is None and ref is not None:
        skip = ref["skip_init"] == "True"
    if skip is None and "skip_init" in tcfg:
        skip = bool(tcfg["skip_init"])
    alphas = [float(v) for k, v in sd.items() if k.endswith(".alpha")]
    if skip is None:
        skip = any(x != 0.0 for x in alphas)
        print(f"note: skip_init not given; inferred {skip} from alpha values", file=sys.stderr)
    family = a.model_family or (ref["model"].rsplit("-", 1)[0] if ref else tcfg.get("family"))
    cfg = infer_config(sd_t, skip_init=skip, family=family)
    if ref is not None:
        for key, val in (("binding", cfg.binding), ("num", cfg.capacity), ("width", cfg.width),
                         ("initial_width", cfg.initial_width), ("model", cfg.model_name)):
            if str(ref[key]) != str(val):
                print(f"warning: file name says {key}={ref[key]}, tensors say {val}", file=sys.stderr)
    if not skip and any(x != 0.0 for x in alphas):
        print("warning: skip_init off but some alpha != 0 (alpha is ignored)", file=sys.stderr)

    # dataset / preprocessing
    ds = a.dataset or (ref["dataset"] if ref else None) or tcfg.get("dataset")
    ds_key = DATASET_ALIASES.get((ds or "").lower().replace("_", "-")) if ds else None
    if ds_key is None:
        ds_key = "fashion-mnist" if cfg.in_channels == 1 else "cifar10"
        if not ds:
            print(f"note: dataset unknown, assuming {ds_key} preprocessing", file=sys.stderr)
    ch, size, mean, std, labels, polarity = DATASETS[ds_key]
    if tcfg.get("mean"):
        mean, std = list(tcfg["mean"]), list(tcfg["std"])
    if tcfg.get("labels"):
        labels = list(tcfg["labels"])
    if a.mean:
        mean = [float(v) for v in a.mean.split(",")]
    if a.std:
        std = [float(v) for v in a.std.split(",")]
    if a.labels:
        labels = [s.strip() for s in a.labels.split(",")]
    if a.input_size:
        size = a.input_size
    if ch != cfg.in_channels:
        raise SystemExit(f"dataset {ds_key} has {ch} channels, model takes {cfg.in_channels}")
    if len(mean) != ch or len(std) != ch:
        raise SystemExit("--mean/--std need one value per input channel")
    if len(labels) != cfg.num_classes:
        raise SystemExit(f"{len(labels)} labels for {cfg.num_classes} classes")

    name = a.name or tcfg.get("name") or os.path.basename(a.output).split(".")[0]
    actname = cfg.activation
    desc = a.description or (f"{cfg.model_name}-{cfg.width}, iw {cfg.initial_width}, {cfg.binding}, "
                             f"Ncap {cfg.capacity}, {actname}" + (", skip_init" if cfg.skip_init else "")
                             + (f" (trained on {ds_key})" if (ref or tcfg) else ""))

    model = MimoConvNet(cfg)
    model.load_state_dict(sd_t)
    model.eval()
    ns = valid_ns(cfg.capacity) if not (cfg.binding == "None" and cfg.capacity == 1) else [1]

    nodes, T = build_graph(sd, cfg)
    config = {"model": cfg.family, "depth": cfg.depth, "width": cfg.width,
              "initial_width": cfg.initial_width, "binding": cfg.binding, "capacity": cfg.capacity,
              "activation": actname, "skip_init": cfg.skip_init, "num_classes": cfg.num_classes,
              "source": os.path.basename(a.checkpoint)}
    for k in ("epoch", "step", "global_step"):
        if k in ckmeta:
            config["checkpoint_" + k] = int(ckmeta[k])
    if tcfg.get("epochs"):
        config["trained_epochs_planned"] = int(tcfg["epochs"])
    graph = {"format_version": 1, "family": "mimoconv", "name": name, "description": desc,
             "config": config, "capacity": cfg.capacity,
             "input": {"channels": ch, "height": size, "width": size, "mean": mean, "std": std,
                       "polarity": polarity, "labels": labels}}

    # reference accuracy
    test = None
    if a.data or (a.golden and not a.random_input):
        if ch != 1 or ds_key not in ("fashion-mnist", "mnist"):
            raise SystemExit("--data / real golden images only for Fashion-MNIST-style IDX data")
        if ds_key == "mnist" and size != 28:
            raise SystemExit("MNIST centre crop not implemented; use --input-size 28")
        ddir = a.data or fmnist_data.DEFAULT_DIR
        xi, yi = fmnist_data.load_split(ddir, "test")
        test = (fmnist_data.normalise(xi, mean[0], std[0]), yi)
    if a.data:
        lim = a.limit or test[0].shape[0]
        accs = {}
        for n in ns:
            accs[str(n)] = round(accuracy(model, test[0][:lim], test[1][:lim], n), 6)
            print(f"eval-mode accuracy n={n}: {accs[str(n)] * 100:.2f}% ({lim} images)")
        graph["reference"] = {"dataset": f"{ds_key} test", "images": int(lim), "accuracy": accs,
                              "mode": "PyTorch eval mode, fp32, CPU"}
    graph["nodes"] = nodes
    graph["output"] = "logits"

    tensors = {k: v.astype(np.float32) for k, v in T.items()}
    metadata = {"format": "mimovk", "mimovk": json.dumps(graph, separators=(",", ":"))}
    os.makedirs(os.path.dirname(os.path.abspath(a.output)), exist_ok=True)
    write_safetensors(a.output, tensors, metadata)
    size_b = os.path.getsize(a.output)
    print(f"wrote {a.output}: {len(nodes)} nodes, {len(tensors)} tensors, {size_b / 1e6:.2f} MB; "
          f"{cfg.model_name}-{cfg.width} iw={cfg.initial_width} {cfg.binding} Ncap={cfg.capacity} "
          f"{actname} skip_init={cfg.skip_init}; valid n {ns}")

    # check: interpret the file we wrote
    g2, t2 = mimovk_ref.load_model(a.output)
    rng = np.random.default_rng(a.seed)
    if a.golden and not a.random_input:
        xg = test[0][:a.golden_count]
        yg = test[1][:a.golden_count]
    else:
        xg = rng.standard_normal((a.golden_count if a.golden else 16, ch, size, size)).astype(np.float32)
        yg = None
    xc = xg[:16 if not a.golden else len(xg)]
    worst32 = worst64 = 0.0
    golden_logits = {}
    for n in ns:
        y_ref = mimovk_ref.run(g2, t2, xc, n)           # the file as written (fp32 tensors)
        y_exact = mimovk_ref.run(g2, T, xc, n)           # same graph, fp64 folded tensors
        y64 = torch_logits(model, xc, n, torch.float64)
        y32 = torch_logits(model, xg, n, torch.float32)
        golden_logits[n] = y32.astype(np.float32)
        d64 = float(np.abs(y_exact - y64).max())
        d32 = float(np.abs(y_ref - y32[:len(y_ref)]).max())
        worst32, worst64 = max(worst32, d32), max(worst64, d64)
        print(f"check n={n}: graph with fp64 folding vs torch fp64 max|d|={d64:.2e}; "
              f"file (fp32 tensors, fp64 math) vs torch fp32 max|d|={d32:.2e} "
              f"(max|logit| {np.abs(y_ref).max():.2f}, {len(xc)} images)")
    if worst32 > a.tol or worst64 > 1e-8:
        print("EXPORT CHECK FAILED", file=sys.stderr)
        return 1

    if a.golden:
        os.makedirs(a.golden, exist_ok=True)
        np.save(os.path.join(a.golden, "input.npy"), np.ascontiguousarray(xg, dtype=np.float32))
        for n in ns:
            np.save(os.path.join(a.golden, f"logits_n{n}.npy"), golden_logits[n])
        info = {"model": name, "model_file": os.path.basename(a.output), "valid_n": ns,
                "images": int(len(xg)), "random_input": bool(a.random_input),
                "rows_per_n": {str(n): int(golden_logits[n].shape[0]) for n in ns},
                "generated_by": "tools/export.py (PyTorch eval mode, fp32, CPU)",
                "max_abs_diff_graph_vs_torch_fp32": worst32}
        if yg is not None:
            np.save(os.path.join(a.golden, "labels.npy"), yg.astype(np.int64))
            info["accuracy_on_these"] = {str(n): float((golden_logits[n].argmax(1) == yg[:len(golden_logits[n])]).mean())
                                        for n in ns}
        with open(os.path.join(a.golden, "golden.json"), "w") as f:
            json.dump(info, f, indent=1)
        print(f"golden files in {a.golden}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
