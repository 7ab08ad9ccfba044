#!/usr/bin/python3
"""Self-check: torch MimoConvNet (eval mode) vs the independent float64 numpy reference for
every binding x activation x capacity 1..4 x valid n, with randomised BN stats / act params /
alpha.  Also checks the HRR circulant form against the reference's circular Conv1d form.
Exit status 1 if any max |diff| >= tolerance."""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from mimoconv.model import MimoConfig, MimoConvNet, ACT_FAMILY, DEPTH_BLOCKS, valid_ns  # noqa: E402
from mimoconv import reference_np  # noqa: E402


def randomize(model, gen):
    """Random BN stats/affine, activation params, alpha; in place."""
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("running_mean"):
                t.copy_(torch.randn(t.shape, generator=gen) * 0.3)
            elif name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=gen) * 1.5 + 0.3)
            elif ".bn" in name or "bn1" in name or "downsample.1" in name:
                if name.endswith(".weight"):
                    t.copy_(1.0 + 0.3 * torch.randn(t.shape, generator=gen))
                elif name.endswith(".bias"):
                    t.copy_(0.2 * torch.randn(t.shape, generator=gen))
            if name.endswith("srelu_bias"):
                t.copy_(-0.5 + 0.5 * torch.randn(t.shape, generator=gen))
            elif ".relu" in name and name.endswith(".weight"):
                t.copy_(0.5 + 0.3 * torch.randn(t.shape, generator=gen))
            elif name.endswith(".alpha"):
                t.copy_(0.5 + 0.5 * torch.rand(t.shape, generator=gen))
            elif name.startswith("unbind.0.bias") or name == "fc.bias":
                t.copy_(0.1 * torch.randn(t.shape, generator=gen))


def hrr_conv1d_reference(w, x):
    """The reference's literal Conv1d form: circular pad C/2, cross-correlate, drop output 0.
    w (N,1,C); x (M, N, C) slot-major channel vectors -> (M, N, C)."""
    C = w.shape[-1]
    xp = F.pad(x, (C // 2, C // 2), mode="circular")
    return F.conv1d(xp, w, groups=w.shape[0])[:, :, 1:]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    gen = torch.Generator().manual_seed(args.seed)
    worst = 0.0
    failures = 0
    # HRR circulant vs Conv1d form
    from mimoconv.model import hrr_circulants
    for C in (16, 64):
        w = torch.randn(4, 1, C, generator=gen, dtype=torch.float64)
        x = torch.randn(5, 4, C, generator=gen, dtype=torch.float64)
        a = torch.einsum("soc,msc->mso", hrr_circulants(w), x)
        b = hrr_conv1d_reference(w, x)
        d = (a - b).abs().max().item()
        print(f"HRR circulant vs circular-Conv1d C={C}: max|diff| = {d:.3e}")
        failures += d > 1e-10
    case = 0
    for binding in ("HRR", "MBAT", "None"):
        for act in ("relu", "prelu", "srelu"):
            for ncap in (1, 2, 3, 4):
                case += 1
                in_ch = 1 if case % 2 else 3
                hw = 28 if in_ch == 1 else 32
                iw = 1 + case % 2
                width = 1 + (case // 2) % 2
                skip = case % 3 == 0
                cfg = MimoConfig(family=ACT_FAMILY[act], depth=args.depth, width=width,
                                 initial_width=iw, binding=binding, capacity=ncap,
                                 in_channels=in_ch, num_classes=10, skip_init=skip)
                torch.manual_seed(args.seed * 1000 + case)
                model = MimoConvNet(cfg)
                randomize(model, gen)
                model.eval()
                sd = {k: v.double().numpy() for k, v in model.state_dict().items()
                      if not k.endswith("num_batches_tracked")}
                x = torch.randn(args.batch, in_ch, hw, hw, generator=gen)
                for n in valid_ns(ncap):
                    with torch.no_grad():
                        yt = model(x, n).double().numpy()
                    yr = reference_np.forward(sd, x.double().numpy(), n, binding=binding,
                                              capacity=ncap, act_kind=act, skip_init=skip,
                                              depth_blocks=DEPTH_BLOCKS[args.depth])
                    d = float(np.abs(yt - yr).max())
                    worst = max(worst, d)
                    ok = d < args.tol
                    failures += not ok
                    print(f"{binding:4s} {act:5s} Ncap={ncap} n={n} in={in_ch}x{hw} iw={iw} w={width} "
                          f"skip={int(skip)}  max|logit|={np.abs(yr).max():8.3f}  max|diff|={d:.2e}"
                          f"{'' if ok else '  FAIL'}")
    print(f"worst max|diff| = {worst:.3e} (tol {args.tol}); failures: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
