#!/usr/bin/python3
"""Train a MIMOConv / WideResNet model on Fashion-MNIST (CPU, plain PyTorch).

Recipe (docs/training.md, after mimoconv.md §7): SGD + OneCycleLR (max_lr 0.2, momentum cycled
0.95 -> 0.85), weight decay 1e-5 except PReLU/SReLU parameters, mixup (alpha 1) before
superposition, HRR binding regulariser 0.1, dynamic superposition (each step draws n from
--sup-schedule), random crop 28 with zero padding + horizontal flip, 128 superposed samples per
step (128*n images), gradient-norm skip filter.  One "epoch" = 60000//batch optimizer steps, so the
trunk cost per epoch does not depend on n.

Checkpoints are written atomically every epoch and every --ckpt-minutes inside an epoch to
<out>/<reference identifier>_model.pt; --resume continues exactly (model, optimizer, scheduler,
RNG, data position, epoch/step).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mimoconv.model import MimoConfig, MimoConvNet, FAMILY_ACT, valid_ns  # noqa: E402
from mimoconv import data as fmnist  # noqa: E402

try:
    from tqdm import tqdm
except ImportError:  # pragma: no cover
    tqdm = None


def parse_schedule(text, capacity):
    """'4:0.6,2:0.2,1:0.2' -> ([4,2,1], [0.6,0.2,0.2])"""
    ns, ps = [], []
    for part in text.split(","):
        n, p = part.split(":")
        n, p = int(n), float(p)
        if n < 1 or capacity % n:
            raise SystemExit(f"--sup-schedule: n={n} does not divide capacity {capacity}")
        ns.append(n)
        ps.append(p)
    tot = sum(ps)
    if tot <= 0:
        raise SystemExit("--sup-schedule: probabilities must sum > 0")
    return ns, [p / tot for p in ps]


def identifier(a, ns, ps):
    """Reference checkpoint naming (mimoconv.md §3): fields joined with '_'."""
    cap = a.num
    sup_freq = sum(p for n, p in zip(ns, ps) if n == cap)
    lows = [n for n in ns if n != cap]
    sup_low = min(lows) if lows else None
    fields = [f"Experiment{a.experiment}", a.model, "FashionMNIST", a.binding, a.num, a.width,
              a.initial_width, a.relu_param_init, a.skip_init, False, False, a.binding_reg, 0.0,
              round(sup_freq, 4), sup_low, a.batch, a.threads, a.epochs, a.lr, a.wd, a.mixup,
              a.grad_filter, a.seed]
    return "_".join(str(f) for f in fields)


def atomic_save(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


class Stream:
    """Endless stream of training indices: block b is a permutation seeded by (seed, b)."""

    def __init__(self, n_items, seed):
        self.n = n_items
        self.seed = seed
        self._block = -1
        self._perm = None

    def take(self, pos, count):
        out = []
        while count > 0:
            b, off = divmod(pos, self.n)
            if b != self._block:
                self._perm = np.random.default_rng([self.seed, 7, b]).permutation(self.n)
                self._block = b
            k = min(count, self.n - off)
            out.append(self._perm[off:off + k])
            pos += k
            count -= k
        return np.concatenate(out)


def augment(x, rng, pad, flip):
    """x float32 (B,1,28,28) in [0,1]: zero-pad + random crop, random horizontal flip."""
    B, _, H, W = x.shape
    if pad > 0:
        xp = F.pad(x, (pad, pad, pad, pad))
        oy = torch.from_numpy(rng.integers(0, 2 * pad + 1, size=B))
        ox = torch.from_numpy(rng.integers(0, 2 * pad + 1, size=B))
        rows = (oy.view(B, 1) + torch.arange(H).view(1, H))  # (B,H)
        cols = (ox.view(B, 1) + torch.arange(W).view(1, W))  # (B,W)
        bi = torch.arange(B).view(B, 1, 1)
        x = xp[bi, 0, rows.view(B, H, 1), cols.view(B, 1, W)].unsqueeze(1)
    if flip:
        m = torch.from_numpy(rng.random(B) < 0.5)
        x = torch.where(m.view(B, 1, 1, 1), x.flip(3), x)
    return x


@torch.no_grad()
def evaluate(model, x_test, y_test, ns, limit, batch=1000):
    model.eval()
    res = {}
    xs, ys = x_test[:limit], y_test[:limit]
    for n in ns:
        correct = total = 0
        for i in range(0, xs.shape[0], batch):
            xb, yb = xs[i:i + batch], ys[i:i + batch]
            out = model(xb, n)
            yb = yb[:out.shape[0]]
            correct += (out.argmax(1) == yb).sum().item()
            total += yb.shape[0]
        res[n] = correct / max(total, 1)
    model.train()
    return res


class ThreadTuner:
    """Adaptive intra-op thread count.  On shared, niced cores a 2-thread step stalls whenever
    another process takes one core (the starved thread holds every OpenMP barrier), and then one
    thread is faster.  Every `period` seconds, try the other thread count for `probe` steps and keep
    whichever did more work per second (work of a step ~ 1 + 0.36 (n-1), measured on MIMONet-16-2)."""

    def __init__(self, max_threads, period=180.0, probe=6):
        self.options = [max_threads, 1] if max_threads > 1 else [max_threads]
        self.cur = max_threads
        self.period, self.probe = period, probe
        self.t_last = time.time()
        self.recent = []   # (dt, work) at self.cur, most recent last
        self.trial = None  # (threads, [(dt, work)...]) while probing
        self.steps_at = {}
        torch.set_num_threads(self.cur)

    @staticmethod
    def work(n):
        return 1.0 + 0.36 * (n - 1)

    def record(self, dt, n):
        t = torch.get_num_threads()
        self.steps_at[t] = self.steps_at.get(t, 0) + 1
        if len(self.options) < 2:
            return
        w = self.work(n)
        if self.trial is not None:
            threads, meas = self.trial
            meas.append((dt, w))
            if len(meas) > self.probe:  # first step after a switch is warm-up, dropped
                m = meas[1:]
                rate_trial = sum(x[1] for x in m) / sum(x[0] for x in m)
                base = self.recent[-self.probe:]
                rate_cur = sum(x[1] for x in base) / max(1e-9, sum(x[0] for x in base))
                if rate_trial > rate_cur:
                    self.cur = threads
                    self.recent = m
                self.trial = None
                self.t_last = time.time()
                torch.set_num_threads(self.cur)
            return
        self.recent.append((dt, w))
        self.recent = self.recent[-self.probe:]
        if time.time() - self.t_last >= self.period and len(self.recent) >= self.probe:
            alt = [o for o in self.options if o != self.cur][0]
            self.trial = (alt, [])
            torch.set_num_threads(alt)

    def summary(self):
        s = ", ".join(f"{t}t:{c}" for t, c in sorted(self.steps_at.items()))
        self.steps_at = {}
        return s


def build_optimizer(model, a, total_steps):
    act_params = model.activation_parameters()
    act_ids = {id(p) for p in act_params}
    other = [p for p in model.parameters() if id(p) not in act_ids]
    groups = [{"params": other, "weight_decay": a.wd}]
    if act_params:
        groups.append({"params": act_params, "weight_decay": 0.0})
    opt = torch.optim.SGD(groups, lr=a.lr, momentum=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=total_steps)
    return opt, sched


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="MIMONet-16",
                    help="<family>-<depth>: WideResNet|WideISOReLUNet|WideISONet|MIMONet - 10|16|28")
    ap.add_argument("--binding", default="HRR", choices=["HRR", "MBAT", "None"])
    ap.add_argument("--num", type=int, default=4, help="superposition capacity Ncap")
    ap.add_argument("--width", "-w", type=int, default=2)
    ap.add_argument("--initial-width", "-i", type=int, default=4)
    ap.add_argument("--skip-init", action="store_true")
    ap.add_argument("--relu-param-init", type=float, default=None)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--epoch-steps", type=int, default=None,
                    help="optimizer steps per epoch (default 60000//batch)")
    ap.add_argument("--batch", type=int, default=128, help="superposed samples per step")
    ap.add_argument("--lr", type=float, default=0.2, help="OneCycle max_lr")
    ap.add_argument("--wd", type=float, default=1e-5)
    ap.add_argument("--mixup", type=float, default=1.0, help="mixup alpha (0 disables)")
    ap.add_argument("--binding-reg", type=float, default=0.1)
    ap.add_argument("--sup-schedule", default=None,
                    help="n:prob list, e.g. 4:0.6,2:0.2,1:0.2 (default: Ncap:0.8,1:0.2; Ncap=1: 1:1)")
    ap.add_argument("--crop-pad", type=int, default=2)
    ap.add_argument("--no-flip", action="store_true")
    ap.add_argument("--grad-filter", type=float, default=10.0,
                    help="skip update if grad norm >= this x mean norm of the previous epoch (0: off)")
    ap.add_argument("--threads", type=int, default=2, help="intra-op threads (maximum, see --fixed-threads)")
    ap.add_argument("--fixed-threads", action="store_true",
                    help="do not probe 1 thread when the shared cores are contended")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--experiment", type=int, default=1)
    ap.add_argument("--data-dir", default=fmnist.DEFAULT_DIR)
    ap.add_argument("--out", default=None, help="run directory (default runs/<name>)")
    ap.add_argument("--name", default=None, help="run name (default derived from model)")
    ap.add_argument("--resume", action="store_true", help="continue from the checkpoint if present")
    ap.add_argument("--init-from", default=None, metavar="CKPT",
                    help="start from the weights (and BN statistics) of this checkpoint, with a fresh "
                         "optimizer and schedule: a second, fine-tuning stage after a finished run")
    ap.add_argument("--ckpt-minutes", type=float, default=10.0)
    ap.add_argument("--eval-limit", type=int, default=10000, help="test images for per-epoch eval")
    ap.add_argument("--eval-every", type=int, default=1)
    ap.add_argument("--max-steps", type=int, default=None,
                    help="stop (after checkpointing) once this global step is reached (testing)")
    ap.add_argument("--time-steps", type=int, default=0,
                    help="only time this many training steps per n and exit")
    ap.add_argument("--no-progress", action="store_true")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    family, depth = a.model.rsplit("-", 1)
    if family not in FAMILY_ACT:
        raise SystemExit(f"unknown model family {family}")
    cfg = MimoConfig(family=family, depth=int(depth), width=a.width, initial_width=a.initial_width,
                     binding=a.binding, capacity=a.num, in_channels=1, num_classes=10,
                     skip_init=a.skip_init, relu_param_init=a.relu_param_init)
    if a.sup_schedule is None:
        a.sup_schedule = f"{a.num}:0.8,1:0.2" if a.num > 1 else "1:1"
    ns, ps = parse_schedule(a.sup_schedule, a.num)
    ident = identifier(a, ns, ps)
    name = a.name or f"fmnist-{family.lower()}{depth}-w{a.width}"
    out = a.out or os.path.join("runs", name)
    os.makedirs(out, exist_ok=True)
    ckpt_path = os.path.join(out, ident + "_model.pt")

    # data
    xtr_u8, ytr = fmnist.load_split(a.data_dir, "train")
    xte_u8, yte = fmnist.load_split(a.data_dir, "test")
    f = xtr_u8.astype(np.float64) / 255.0
    mean, std = float(f.mean()), float(f.std())
    del f
    x_train = torch.from_numpy(xtr_u8.astype(np.float32) / 255.0).unsqueeze(1)  # [0,1]
    y_train = torch.from_numpy(ytr)
    x_test = torch.from_numpy(fmnist.normalise(xte_u8, mean, std))
    y_test = torch.from_numpy(yte)

    steps_per_epoch = a.epoch_steps or (x_train.shape[0] // a.batch)
    total_steps = steps_per_epoch * a.epochs

    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    model = MimoConvNet(cfg)
    opt, sched = build_optimizer(model, a, total_steps)
    stream = Stream(x_train.shape[0], a.seed)

    config = {"model": a.model, "family": family, "depth": int(depth), "width": a.width,
              "initial_width": a.initial_width, "binding": a.binding, "capacity": a.num,
              "skip_init": a.skip_init, "activation": cfg.activation, "dataset": "FashionMNIST",
              "input_channels": 1, "num_classes": 10, "mean": [mean], "std": [std],
              "labels": fmnist.LABELS, "sup_schedule": dict(zip(ns, ps)), "epochs": a.epochs,
              "steps_per_epoch": steps_per_epoch, "batch": a.batch, "lr": a.lr, "wd": a.wd,
              "mixup": a.mixup, "binding_reg": a.binding_reg, "crop_pad": a.crop_pad,
              "flip": not a.no_flip, "grad_filter": a.grad_filter, "seed": a.seed,
              "identifier": ident, "name": name}

    state = {"epoch": 0, "step": 0, "pos": 0, "prev_mean_gnorm": float("inf"),
             "epoch_gnorm_sum": 0.0, "epoch_gnorm_cnt": 0, "epoch_skipped": 0,
             "epoch_loss_sum": 0.0, "epoch_loss_cnt": 0, "epoch_n_counts": {}, "history": [],
             "train_seconds": 0.0}
    if a.init_from and not os.path.exists(ckpt_path):
        init = torch.load(a.init_from, map_location="cpu")
        model.load_state_dict(init.get("model_state_dict", init))  # strict: same architecture
        print(f"initialised from {a.init_from}", flush=True)
    if a.init_from:
        config["init_from"] = os.path.basename(a.init_from)
    if os.path.exists(ckpt_path):
        if not a.resume:
            raise SystemExit(f"{ckpt_path} exists; pass --resume to continue it")
        ck = torch.load(ckpt_path, map_location="cpu")
        if ck["config"]["epochs"] != a.epochs or ck["config"]["steps_per_epoch"] != steps_per_epoch:
            raise SystemExit("checkpoint was made with a different epoch/step count")
        model.load_state_dict(ck["model_state_dict"])
        opt.load_state_dict(ck["optimizer_state_dict"])
        sched.load_state_dict(ck["scheduler_state_dict"])
        state.update(ck["train_state"])
        torch.set_rng_state(ck["rng"]["torch"])
        np.random.set_state(ck["rng"]["numpy"])
        print(f"resumed {ckpt_path}: epoch {state['epoch']} step {state['step']} "
              f"(global {state['epoch'] * steps_per_epoch + state['step']}/{total_steps})", flush=True)
    print(f"run {name}: {a.model} w={a.width} iw={a.initial_width} {a.binding} Ncap={a.num} "
          f"schedule={dict(zip(ns, ps))} params={sum(p.numel() for p in model.parameters())} "
          f"epochs={a.epochs}x{steps_per_epoch} steps threads={a.threads} mean/std={mean:.4f}/{std:.4f}",
          flush=True)
    print(f"checkpoint: {ckpt_path}", flush=True)

    def save_ckpt():
        atomic_save({"model_state_dict": model.state_dict(),
                     "optimizer_state_dict": opt.state_dict(),
                     "scheduler_state_dict": sched.state_dict(),
                     # reference meaning: index of the last completed epoch (-1: none);
                     # "step" counts optimizer steps already done inside the next epoch
                     "epoch": state["epoch"] - 1,
                     "step": state["step"], "global_step": state["epoch"] * steps_per_epoch + state["step"],
                     "config": config, "train_state": dict(state),
                     "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state()}},
                    ckpt_path)
        with open(os.path.join(out, "status.json.tmp"), "w") as fh:
            json.dump({"checkpoint": ckpt_path, "epoch": state["epoch"], "step": state["step"],
                       "epochs": a.epochs, "steps_per_epoch": steps_per_epoch,
                       "finished": state["epoch"] >= a.epochs, "history": state["history"]}, fh, indent=1)
        os.replace(os.path.join(out, "status.json.tmp"), os.path.join(out, "status.json"))

    model.train()

    def train_step(gstep):
        rng = np.random.default_rng([a.seed, 11, gstep])
        n = int(rng.choice(ns, p=ps)) if len(ns) > 1 else ns[0]
        count = a.batch * n
        idx = stream.take(state["pos"], count)
        xb = augment(x_train[idx], rng, a.crop_pad, not a.no_flip)
        xb = (xb - mean) / std
        yb = y_train[idx]
        if a.mixup > 0:
            lam = float(rng.beta(a.mixup, a.mixup))
            perm = torch.from_numpy(rng.permutation(count))
            xb = lam * xb + (1 - lam) * xb[perm]
            yb2 = yb[perm]
        else:
            lam, yb2 = 1.0, yb
        opt.zero_grad(set_to_none=True)
        outp = model(xb, n)
        loss = lam * F.cross_entropy(outp, yb) + (1 - lam) * F.cross_entropy(outp, yb2)
        if a.binding_reg and a.binding == "HRR":
            loss = loss + a.binding_reg * model.binding_regularization()
        loss.backward()
        gnorm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1e3))
        limit = a.grad_filter * state["prev_mean_gnorm"] if a.grad_filter > 0 else float("inf")
        if math.isfinite(gnorm) and gnorm < limit:
            opt.step()
            state["epoch_gnorm_sum"] += gnorm
            state["epoch_gnorm_cnt"] += 1
        else:
            state["epoch_skipped"] += 1
        sched.step()
        state["pos"] += count
        return n, float(loss)

    if a.time_steps:
        for n in sorted(set(ns), reverse=True):
            sched_backup = sched.state_dict()
            ts = []
            for k in range(a.time_steps + 1):
                t0 = time.time()
                rng_ns = ns
                ns_bak, ps_bak = ns[:], ps[:]
                ns[:] = [n]
                ps[:] = [1.0]
                train_step(10 ** 9 + k)
                ns[:], ps[:] = ns_bak, ps_bak
                ts.append(time.time() - t0)
            print(f"n={n}: {np.mean(ts[1:]):.3f} s/step (batch {a.batch} superposed, {a.batch * n} images)",
                  flush=True)
            sched.load_state_dict(sched_backup)
        t0 = time.time()
        evaluate(model, x_test, y_test, [max(ns)], 2000)
        print(f"eval 2000 images at n={max(ns)}: {time.time() - t0:.2f} s", flush=True)
        return

    tuner = ThreadTuner(1 if a.fixed_threads and a.threads == 1 else a.threads)
    if a.fixed_threads:
        tuner.options = [a.threads]
    last_ckpt = time.time()
    while state["epoch"] < a.epochs:
        ep = state["epoch"]
        t_ep = time.time()
        bar = None
        if tqdm is not None and not a.no_progress:
            bar = tqdm(total=steps_per_epoch, initial=state["step"], desc=f"epoch {ep + 1}/{a.epochs}",
                       mininterval=30, dynamic_ncols=False, ncols=100, file=sys.stderr)
        while state["step"] < steps_per_epoch:
            gstep = ep * steps_per_epoch + state["step"]
            if a.max_steps is not None and gstep >= a.max_steps:
                break
            t0 = time.time()
            n, loss = train_step(gstep)
            dt = time.time() - t0
            tuner.record(dt, n)
            state["train_seconds"] += dt
            state["step"] += 1
            if math.isfinite(loss):
                state["epoch_loss_sum"] += loss
                state["epoch_loss_cnt"] += 1
            key = str(n)
            state["epoch_n_counts"][key] = state["epoch_n_counts"].get(key, 0) + 1
            if bar is not None:
                bar.update(1)
                if state["step"] % 20 == 0:
                    bar.set_postfix(loss=f"{state['epoch_loss_sum'] / max(1, state['epoch_loss_cnt']):.3f}",
                                    lr=f"{sched.get_last_lr()[0]:.3g}", refresh=False)
            if time.time() - last_ckpt > a.ckpt_minutes * 60 and state["step"] < steps_per_epoch:
                save_ckpt()
                last_ckpt = time.time()
        if bar is not None:
            bar.close()
        if state["step"] < steps_per_epoch:  # stopped by --max-steps
            save_ckpt()
            print(f"stopped at epoch {ep} step {state['step']} (max-steps); checkpoint saved", flush=True)
            return
        # end of epoch
        mean_gnorm = (state["epoch_gnorm_sum"] / state["epoch_gnorm_cnt"]
                      if state["epoch_gnorm_cnt"] else state["prev_mean_gnorm"])
        rec = {"epoch": ep + 1, "loss": state["epoch_loss_sum"] / max(1, state["epoch_loss_cnt"]),
               "lr": sched.get_last_lr()[0], "mean_gnorm": mean_gnorm, "skipped": state["epoch_skipped"],
               "n_counts": dict(state["epoch_n_counts"]), "epoch_seconds": time.time() - t_ep,
               "threads": tuner.summary(),
               "train_seconds": state["train_seconds"]}
        final = ep + 1 == a.epochs
        if final or (ep + 1) % a.eval_every == 0:
            t0 = time.time()
            lim = 10000 if final else a.eval_limit
            acc = evaluate(model, x_test, y_test, valid_ns(a.num), lim)
            rec["eval_images"] = lim
            rec["eval_acc"] = {str(k): v for k, v in acc.items()}
            rec["eval_seconds"] = time.time() - t0
        if cfg.binding == "HRR":
            rec["binding_reg"] = float(model.binding_regularization())
        state["history"].append(rec)
        state["prev_mean_gnorm"] = mean_gnorm
        state.update(epoch=ep + 1, step=0, epoch_gnorm_sum=0.0, epoch_gnorm_cnt=0, epoch_skipped=0,
                     epoch_loss_sum=0.0, epoch_loss_cnt=0, epoch_n_counts={})
        save_ckpt()
        last_ckpt = time.time()
        accs = " ".join(f"n{k}={v * 100:.2f}%" for k, v in rec.get("eval_acc", {}).items())
        print(f"[{time.strftime('%Y-%m-%d %H:%M:%S')}] epoch {ep + 1}/{a.epochs} loss {rec['loss']:.4f} "
              f"lr {rec['lr']:.4g} gnorm {mean_gnorm:.3f} skipped {rec['skipped']} n-mix {rec['n_counts']} "
              f"eval[{rec.get('eval_images', 0)}] {accs} ({rec['epoch_seconds']:.0f} s; threads {rec['threads']})",
              flush=True)
    print(f"finished: {ckpt_path}", flush=True)


if __name__ == "__main__":
    main()
