#!/usr/bin/python3
"""Float64 numpy interpreter of a mimovk model file (docs/model-format.md).

Reads the .safetensors container (header JSON + raw little-endian tensors) without the safetensors
package and executes the graph nodes literally.  Used by tools/export.py to check an export
against PyTorch, and usable as a CPU oracle:

    tools/mimovk_ref.py MODEL.safetensors --n 4 --input X.npy --output Y.npy

Batch rule (as the reference): with n > 1, the last B mod n images are dropped.
Zero padding of a conv is applied after its `pre` prologue (the prologue maps the stored
tensor to the conv's real input, which is then zero padded).
"""
import argparse
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8", "I32": "<i4"}


def read_safetensors(path):
    """-> (tensors: dict name -> np.ndarray (copy), metadata: dict)"""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError("file too short")
    (hlen,) = struct.unpack("<Q", blob[:8])
    if 8 + hlen > len(blob):
        raise ValueError("header length beyond file")
    header = json.loads(blob[8:8 + hlen].decode("utf-8"))
    data = blob[8 + hlen:]
    meta = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        dt = np.dtype(DTYPES[info["dtype"]])
        shape = tuple(info["shape"])
        if not (0 <= b <= e <= len(data)) or (e - b) != int(np.prod(shape, dtype=np.int64)) * dt.itemsize:
            raise ValueError(f"tensor {name}: bad offsets/shape")
        tensors[name] = np.frombuffer(data[b:e], dtype=dt).reshape(shape).copy()
    return tensors, meta


def load_model(path):
    tensors, meta = read_safetensors(path)
    if meta.get("format") != "mimovk":
        raise ValueError("not a mimovk model file")
    graph = json.loads(meta["mimovk"])
    return graph, tensors


def _act(x, kind, param, axis=1):
    if kind in (None, "none"):
        return x
    if kind == "relu":
        return np.maximum(x, 0.0)
    shape = [1] * x.ndim
    shape[axis] = -1
    if kind == "prelu":
        a = param.reshape(shape)
        return np.where(x >= 0, x, a * x)
    if kind == "srelu":
        return np.maximum(x, param.reshape(shape))
    if kind == "gelu":
        from math import erf, sqrt
        verf = np.vectorize(erf)
        return 0.5 * x * (1.0 + verf(x / sqrt(2.0)))
    raise ValueError(f"unknown activation {kind}")


def _conv(x, w, b, stride, pad):
    N, Ci, H, W = x.shape
    Co, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho = (H + 2 * pad - kh) // stride + 1
    Wo = (W + 2 * pad - kw) // stride + 1
    # gather patches (N, Ci, kh, kw, Ho, Wo) and contract with the weight
    cols = np.empty((N, Ci, kh, kw, Ho, Wo))
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i:i + stride * Ho:stride, j:j + stride * Wo:stride]
    out = np.tensordot(cols, w, axes=([1, 2, 3], [1, 2, 3]))  # (N, Ho, Wo, Co)
    out = out.transpose(0, 3, 1, 2)
    if b is not None:
        out = out + b.reshape(1, -1, 1, 1)
    return out


def run(graph, tensors, x, n):
    """Execute the graph on x (B, C, H, W) for superposition count n; returns float64 logits."""
    T = {k: v.astype(np.float64) for k, v in tensors.items()}
    cap = int(graph["capacity"])
    nodes = graph["nodes"]
    has_sup = any(nd["op"] == "superpose" for nd in nodes)
    if n < 1 or cap % n or (not has_sup and n != 1):
        raise ValueError(f"n={n} is not valid for this model")
    x = np.asarray(x, dtype=np.float64)
    B = x.shape[0] - x.shape[0] % n
    env = {"input": x[:B]}

    def g(name):
        return None if name is None else T[name]

    for nd in nodes:
        op = nd["op"]
        ins = [env[i] for i in nd["inputs"]]
        if op == "conv2d":
            v = ins[0]
            pre = nd.get("pre")
            if pre:
                sh = (1, -1, 1, 1)
                v = v * T[pre["scale"]].reshape(sh) + T[pre["shift"]].reshape(sh)
                v = _act(v, pre.get("act", "none"), g(pre.get("act_param")))
            v = _conv(v, T[nd["weight"]], g(nd.get("bias")), int(nd.get("stride", 1)), int(nd.get("pad", 0)))
            v = _act(v, nd.get("act", "none"), g(nd.get("act_param")))
            if len(ins) > 1:
                v = float(nd.get("residual_scale", 1.0)) * v + ins[1]
            out = v
        elif op == "superpose":
            Wn = T[nd["weights"][str(n)]]  # (C, n*C)
            v = ins[0]
            Bv, C, H, W = v.shape
            G = Bv // n
            v = v.reshape(G, n * C, H, W)
            out = np.einsum("ok,gkhw->gohw", Wn, v)
        elif op == "global_avgpool":
            out = ins[0].mean(axis=(2, 3))
        elif op == "linear":
            out = ins[0] @ T[nd["weight"]].T
            if nd.get("bias"):
                out = out + T[nd["bias"]]
            out = _act(out, nd.get("act", "none"), g(nd.get("act_param")))
        elif op == "unsuperpose":
            v = ins[0]
            G = v.shape[0]
            Fe = v.shape[1] // cap
            r = cap // n
            out = v.reshape(G, r, n, Fe).mean(axis=1).reshape(G * n, Fe)
        else:
            raise ValueError(f"unknown op {op}")
        env[nd["output"]] = out
    return env[graph.get("output", "logits")]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--n", type=int, default=1)
    ap.add_argument("--input", required=False, help=".npy float32 NCHW, normalised")
    ap.add_argument("--output", help=".npy to write float32 logits")
    ap.add_argument("--info", action="store_true")
    a = ap.parse_args()
    graph, tensors = load_model(a.model)
    if a.info or not a.input:
        print(json.dumps({k: v for k, v in graph.items() if k != "nodes"}, indent=1))
        print(f"{len(graph['nodes'])} nodes, {len(tensors)} tensors, "
              f"{sum(t.size for t in tensors.values())} values")
        return 0
    x = np.load(a.input)
    y = run(graph, tensors, x, a.n)
    if a.output:
        np.save(a.output, y.astype(np.float32))
    else:
        print(y)
    return 0


if __name__ == "__main__":
    sys.exit(main())
