"""PyTorch MIMOConv model with the state_dict layout of the reference SuperWideResnet /
SuperWideISONet (see /work/shared/design/mimoconv.md §1-3).

Written from the specification; eval-mode semantics follow §1 and §8 of that document.
"""
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F

# Model family -> block activation (mimoconv.md §0, §1.5)
FAMILY_ACT = {
    "WideResNet": "relu",
    "WideISOReLUNet": "relu",
    "WideISONet": "srelu",
    "MIMONet": "prelu",
}
ACT_FAMILY = {"relu": "WideResNet", "srelu": "WideISONet", "prelu": "MIMONet"}
DEPTH_BLOCKS = {10: 1, 16: 2, 28: 4}
BINDINGS = ("HRR", "MBAT", "None")


@dataclass
class MimoConfig:
    family: str = "MIMONet"        # WideResNet | WideISOReLUNet | WideISONet | MIMONet
    depth: int = 16                # 10, 16, 28
    width: int = 2                 # w
    initial_width: int = 4         # iw
    binding: str = "HRR"           # HRR | MBAT | None
    capacity: int = 4              # Ncap
    in_channels: int = 1
    num_classes: int = 10
    skip_init: bool = False
    relu_param_init: float = None  # PReLU slope (0.5) / SReLU bias (-1) at init

    @property
    def activation(self):
        return FAMILY_ACT[self.family]

    @property
    def model_name(self):
        return f"{self.family}-{self.depth}"

    @property
    def channels(self):
        return 16 * self.initial_width

    @property
    def features(self):
        return 64 * self.width

    def to_dict(self):
        return asdict(self)


class SReLU(nn.Module):
    """Shifted ReLU max(x - b, 0) + b == max(x, b) with a per-channel b (key `srelu_bias`)."""

    def __init__(self, channels, init=-1.0):
        super().__init__()
        self.srelu_bias = nn.Parameter(torch.full((1, channels, 1, 1), float(init)))

    def forward(self, x):
        return torch.maximum(x, self.srelu_bias)


def make_activation(kind, channels, init=None):
    if kind == "relu":
        return nn.ReLU()
    if kind == "prelu":
        return nn.PReLU(num_parameters=channels, init=0.5 if init is None else init)
    if kind == "srelu":
        return SReLU(channels, -1.0 if init is None else init)
    raise ValueError(kind)


class Block(nn.Module):
    """Pre-activation residual block; shortcut conv reads the raw block input."""

    def __init__(self, cin, planes, stride, act, skip_init, act_init=None):
        super().__init__()
        self.skip_init = skip_init
        self.alpha = nn.Parameter(torch.zeros(()))  # present always (reference layout)
        self.bn1 = nn.BatchNorm2d(cin)
        self.relu1 = make_activation(act, cin, act_init)
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu2 = make_activation(act, planes, act_init)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, 0, bias=False),
                                            nn.BatchNorm2d(planes))
        else:
            self.downsample = None

    def forward(self, x):
        v = self.conv1(self.relu1(self.bn1(x)))
        v = self.conv2(self.relu2(self.bn2(v)))
        identity = x if self.downsample is None else self.downsample(x)
        if self.skip_init:
            return self.alpha * v + identity
        return v + identity


def hrr_circulants(w):
    """HRR keys (Ncap, 1, C) -> per-slot binding matrices K (Ncap, C, C) with
    K_s[o][c] = w_s[(c - o - 1 + C/2) mod C]  (mimoconv.md §2.2)."""
    ncap, _, c = w.shape
    o = torch.arange(c).view(c, 1)
    cc = torch.arange(c).view(1, c)
    idx = (cc - o - 1 + c // 2) % c  # (C, C)
    return w[:, 0, :][:, idx]


class MimoConvNet(nn.Module):
    def __init__(self, cfg: MimoConfig):
        super().__init__()
        if cfg.depth not in DEPTH_BLOCKS:
            raise ValueError(f"depth must be one of {sorted(DEPTH_BLOCKS)}")
        if cfg.binding not in BINDINGS:
            raise ValueError(f"binding must be one of {BINDINGS}")
        self.cfg = cfg
        C, Fe, N = cfg.channels, cfg.features, cfg.capacity
        if C % 2:
            raise ValueError("binding dimension C must be even")
        # binding keys and unbind come first (reference insertion order)
        if cfg.binding == "HRR":
            self.channelConv = nn.Conv1d(N, N, kernel_size=C, groups=N, bias=False)
        elif cfg.binding == "MBAT":
            self.channelLinear = nn.Conv2d(N * C, N * C, 1, groups=N, bias=False)
            nn.init.kaiming_normal_(self.channelLinear.weight, mode="fan_out", nonlinearity="relu")
        if cfg.binding == "None" and N == 1:
            self.unbind = nn.Identity()
        else:
            self.unbind = nn.Sequential(nn.Conv2d(Fe, N * Fe, 1, bias=True), nn.ReLU())
        self.conv1 = nn.Conv2d(cfg.in_channels, C, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(C)
        nb = DEPTH_BLOCKS[cfg.depth]
        act = cfg.activation
        cin = C
        for li, (planes, stride) in enumerate(((16 * cfg.width, 1), (32 * cfg.width, 2),
                                               (64 * cfg.width, 2)), start=1):
            blocks = []
            for b in range(nb):
                blocks.append(Block(cin, planes, stride if b == 0 else 1, act, cfg.skip_init,
                                    cfg.relu_param_init))
                cin = planes
            setattr(self, f"layer{li}", nn.Sequential(*blocks))
        self.fc = nn.Linear(Fe, cfg.num_classes)
        self._init_weights()

    def _init_weights(self):
        for name, m in self.named_modules():
            if isinstance(m, nn.Conv2d) and name != "channelLinear":
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    # --- superposition -------------------------------------------------------------------
    def slot_matrices(self):
        """Per-slot binding matrices (Ncap, C, C), or None for binding None."""
        C, N = self.cfg.channels, self.cfg.capacity
        if self.cfg.binding == "HRR":
            return hrr_circulants(self.channelConv.weight)
        if self.cfg.binding == "MBAT":
            return self.channelLinear.weight.view(N, C, C)
        return None

    def superpose(self, x, n):
        """x: (G*n, C, H, W) stem output -> (G, C, H, W): tile r times, bind slot s with key s,
        sum over slots.  Computed with merged matrices A_i = sum_rho K_{rho n + i}."""
        N = self.cfg.capacity
        r = N // n
        B, C, H, W = x.shape
        G = B // n
        xg = x.view(G, n, C, H, W)
        K = self.slot_matrices()
        if K is None:
            return xg.sum(1) * r
        A = K.view(r, n, C, C).sum(0)  # (n, C_out, C_in)
        # [A_0 ... A_{n-1}] as one (C, n*C) 1x1 convolution over the group's channels
        Wt = A.permute(1, 0, 2).reshape(C, n * C, 1, 1)
        return F.conv2d(x.reshape(G, n * C, H, W), Wt)

    def forward(self, x, n=None):
        cfg = self.cfg
        N = cfg.capacity
        n = N if n is None else int(n)
        if n < 1 or N % n:
            raise ValueError(f"n={n} must divide capacity {N}")
        B = x.shape[0] - x.shape[0] % n
        x = x[:B]
        x = F.relu(self.bn1(self.conv1(x)))
        if not (cfg.binding == "None" and N == 1):
            x = self.superpose(x, n)
        x = self.layer3(self.layer2(self.layer1(x)))
        x = x.mean(dim=(2, 3))  # (G, F)
        if isinstance(self.unbind, nn.Identity):
            feats = x
        else:
            G, Fe = x.shape
            u = self.unbind(x.view(G, Fe, 1, 1)).view(G, N // n, n, Fe)
            feats = u.mean(1).reshape(G * n, Fe)
        return self.fc(feats)

    # --- regularisers ----------------------------------------------------------------------
    def binding_regularization(self):
        """HRR only (mimoconv.md §7.3): mean squared off-diagonal cosine between keys
        (pairs i<j) plus mean (||w_s|| - 1)^2.  Zero for MBAT / None."""
        if self.cfg.binding != "HRR":
            return torch.zeros(())
        w = self.channelConv.weight[:, 0, :]
        norms = w.norm(dim=1)
        N = w.shape[0]
        reg = ((norms - 1.0) ** 2).mean()
        if N > 1:
            wn = w / norms.unsqueeze(1)
            gram = wn @ wn.t()
            iu = torch.triu_indices(N, N, offset=1)
            reg = reg + (gram[iu[0], iu[1]] ** 2).sum() / (N * (N - 1) / 2)
        return reg

    def activation_parameters(self):
        """PReLU / SReLU parameters (weight decay 0)."""
        out = []
        for name, p in self.named_parameters():
            if name.endswith("srelu_bias") or (".relu" in name and name.endswith(".weight")):
                out.append(p)
        return out


def infer_config(sd, skip_init=None, family=None):
    """Infer a MimoConfig from a reference-style state_dict (mimoconv.md §3.3)."""
    C, cin = sd["conv1.weight"].shape[:2]
    width = sd["layer1.0.conv1.weight"].shape[0] // 16
    nb = 0
    while f"layer1.{nb}.conv1.weight" in sd:
        nb += 1
    depth = {v: k for k, v in DEPTH_BLOCKS.items()}[nb]
    Fe = 64 * width
    if "channelConv.weight" in sd:
        binding = "HRR"
    elif "channelLinear.weight" in sd:
        binding = "MBAT"
    else:
        binding = "None"
    ncap = sd["unbind.0.weight"].shape[0] // Fe if "unbind.0.weight" in sd else 1
    if "layer1.0.relu1.weight" in sd:
        act = "prelu"
    elif "layer1.0.relu1.srelu_bias" in sd:
        act = "srelu"
    else:
        act = "relu"
    if family is None or FAMILY_ACT.get(family) != act:
        family = ACT_FAMILY[act]
    if skip_init is None:
        alphas = [v for k, v in sd.items() if k.endswith(".alpha")]
        skip_init = any(float(a) != 0.0 for a in alphas)
    return MimoConfig(family=family, depth=depth, width=width, initial_width=C // 16,
                      binding=binding, capacity=ncap, in_channels=cin,
                      num_classes=sd["fc.weight"].shape[0], skip_init=bool(skip_init))


def valid_ns(capacity):
    return [d for d in range(1, capacity + 1) if capacity % d == 0]
