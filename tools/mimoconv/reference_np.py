"""Independent float64 numpy forward pass of a MIMOConv state_dict, written from
mimoconv.md §1-2 and §8 (literal formulas: circular-index HRR, explicit tiling and slot sum)."""
import numpy as np

EPS = 1e-5


def conv2d(x, w, stride, pad):
    """x (N,Ci,H,W), w (Co,Ci,kh,kw); zero padding; float64."""
    N, Ci, H, W = x.shape
    Co, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho = (H + 2 * pad - kh) // stride + 1
    Wo = (W + 2 * pad - kw) // stride + 1
    out = np.zeros((N, Co, Ho, Wo))
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i:i + stride * (Ho - 1) + 1:stride, j:j + stride * (Wo - 1) + 1:stride]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    return out


def bn(x, sd, p):
    g = sd[p + ".weight"]; b = sd[p + ".bias"]
    m = sd[p + ".running_mean"]; v = sd[p + ".running_var"]
    sh = (1, -1, 1, 1)
    return (x - m.reshape(sh)) / np.sqrt(v.reshape(sh) + EPS) * g.reshape(sh) + b.reshape(sh)


def act(x, sd, p, kind):
    if kind == "relu":
        return np.maximum(x, 0.0)
    if kind == "prelu":
        a = sd[p + ".weight"].reshape(1, -1, 1, 1)
        return np.where(x >= 0, x, a * x)
    if kind == "srelu":
        b = sd[p + ".srelu_bias"].reshape(1, -1, 1, 1)
        return np.maximum(x - b, 0.0) + b
    raise ValueError(kind)


def hrr_bind(x, w):
    """x (..., C, H, W) values of one slot, w (C,) stored key.
    z[o] = sum_j w[j] x[(o + j + 1 - C/2) mod C]"""
    C = w.shape[0]
    z = np.zeros_like(x)
    for o in range(C):
        for j in range(C):
            z[:, o] += w[j] * x[:, (o + j + 1 - C // 2) % C]
    return z


def forward(sd, x, n, *, binding, capacity, act_kind, skip_init, depth_blocks):
    """sd: dict name -> float64 ndarray; x: (B,Cin,H,W) float64 normalised input."""
    sd = {k: np.asarray(v, dtype=np.float64) for k, v in sd.items()}
    x = np.asarray(x, dtype=np.float64)
    N = capacity
    assert N % n == 0
    B = x.shape[0] - x.shape[0] % n
    x = x[:B]
    h = np.maximum(bn(conv2d(x, sd["conv1.weight"], 1, 1), sd, "bn1"), 0.0)
    C = h.shape[1]
    plain = binding == "None" and N == 1
    if not plain:
        G = B // n
        s_total = np.zeros((G,) + h.shape[1:])
        for g in range(G):
            for s in range(N):
                img = h[g * n + (s % n)][None]
                if binding == "HRR":
                    z = hrr_bind(img, sd["channelConv.weight"][s, 0])
                elif binding == "MBAT":
                    M = sd["channelLinear.weight"][s * C:(s + 1) * C, :, 0, 0]
                    z = np.einsum("oc,nchw->nohw", M, img)
                else:
                    z = img
                s_total[g] += z[0]
        h = s_total
    for L in (1, 2, 3):
        for b in range(depth_blocks):
            p = f"layer{L}.{b}"
            stride = 2 if (L > 1 and b == 0) else 1
            u = act(bn(h, sd, p + ".bn1"), sd, p + ".relu1", act_kind)
            v = conv2d(u, sd[p + ".conv1.weight"], stride, 1)
            v = act(bn(v, sd, p + ".bn2"), sd, p + ".relu2", act_kind)
            v = conv2d(v, sd[p + ".conv2.weight"], 1, 1)
            if p + ".downsample.0.weight" in sd:
                ident = bn(conv2d(h, sd[p + ".downsample.0.weight"], stride, 0), sd, p + ".downsample.1")
            else:
                ident = h
            h = (sd[p + ".alpha"] * v + ident) if skip_init else (v + ident)
    pooled = h.mean(axis=(2, 3))
    if plain:
        feats = pooled
    else:
        Fe = pooled.shape[1]
        Wu = sd["unbind.0.weight"][:, :, 0, 0]
        u = np.maximum(pooled @ Wu.T + sd["unbind.0.bias"], 0.0)  # (G, N*F)
        r = N // n
        G = pooled.shape[0]
        feats = np.zeros((G * n, Fe))
        for g in range(G):
            for i in range(n):
                acc = np.zeros(Fe)
                for rho in range(r):
                    s = rho * n + i
                    acc += u[g, s * Fe:(s + 1) * Fe]
                feats[g * n + i] = acc / r
    return feats @ sd["fc.weight"].T + sd["fc.bias"]
