#!/bin/sh
# Train (or resume) the two shipped Fashion-MNIST models, side by side on the 2 cores.
# Safe to re-run at any time: finished runs are skipped, unfinished ones resume exactly from their
# last checkpoint (saved every epoch and every 10 minutes).  Only one driver runs at a time (lock).
#
# Start in the background from the repo root:
#   mkdir -p runs && nohup tools/train_shipped.sh > runs/train_shipped.log 2>&1 &
# Logs: runs/fmnist-wrn16/train.log, runs/fmnist-mimoconv16/train.log
# Config is FIXED (OneCycle needs the total step count): changing any flag below starts a new run.
#
# Why side by side: on this 2-core machine a WideResNet-16-2 step takes 0.43 s on one thread and
# no less on two, so the baseline gets one core and the MIMOConv the other; the MIMOConv trainer
# probes 1 vs 2 threads every 3 minutes and takes both cores once the baseline is done.
# Why no mixup: these runs are 10-15 epochs, not the reference's 1200; mixup (alpha 1) cost the
# 10-epoch baseline about a point (92.44 % at 10 epochs with it).
set -eu
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
mkdir -p runs
exec 9>runs/.train_shipped.lock
if ! flock -n 9; then
    echo "another tools/train_shipped.sh is already running" >&2
    exit 1
fi

run() {  # run NAME ARGS...
    name=$1; shift
    dir=runs/$name
    mkdir -p "$dir"
    if [ -f "$dir/status.json" ] && grep -q '"finished": true' "$dir/status.json"; then
        echo "$(date '+%F %T') $name: finished already"
        return 0
    fi
    echo "$(date '+%F %T') $name: training (log $dir/train.log)"
    rc=0
    $PY tools/train.py --name "$name" --out "$dir" --resume "$@" >> "$dir/train.log" 2>&1 || rc=$?
    echo "$(date '+%F %T') $name: train.py exited with status $rc"
}

# a. WideResNet-16-2 baseline (binding None, Ncap 1, iw 1), one core
run fmnist-wrn16 --model WideResNet-16 --binding None --num 1 --width 2 --initial-width 1 \
    --epochs 10 --mixup 0 --threads 1 --fixed-threads --eval-limit 10000 &
a=$!

# b. MIMOConv: MIMONet-16-2, iw 2 (binding dimension C = 32), HRR, Ncap 4, dynamic n in {4,2,1},
#    up to both cores.  Why iw 2: the stem and the bind cost the same per image at every n, so they
#    cap the speed-up; at w 2 the FLOP model gives 3.58x at n = 4 with iw 4 and 3.85x with iw 2.
run fmnist-mimoconv16 --model MIMONet-16 --binding HRR --num 4 --width 2 --initial-width 2 \
    --sup-schedule 4:0.6,2:0.2,1:0.2 --epochs 18 --mixup 0 --threads 2 --eval-limit 2000 &
b=$!

wait $a || true
wait $b || true
