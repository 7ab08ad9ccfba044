#!/bin/sh
# Train (or resume) the two shipped Fashion-MNIST models, one after the other.
# Safe to re-run at any time: finished runs are skipped, unfinished ones resume exactly from their
# last checkpoint (saved every epoch and every 10 minutes).  Only one driver runs at a time (lock).
#
# Start in the background from the repo root:
#   mkdir -p runs && nohup nice -n 15 tools/train_shipped.sh > runs/train_shipped.log 2>&1 &
# Logs: runs/fmnist-wrn16/train.log, runs/fmnist-mimoconv16/train.log
# Config is FIXED (OneCycle needs the total step count): changing any flag below starts a new run.
set -eu
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
THREADS=${THREADS:-2}
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
    $PY tools/train.py --name "$name" --out "$dir" --threads "$THREADS" --resume "$@" >> "$dir/train.log" 2>&1 || rc=$?
    echo "$(date '+%F %T') $name: train.py exited with status $rc"
}

# a. WideResNet-16-2 baseline (binding None, Ncap 1, iw 1)
run fmnist-wrn16 --model WideResNet-16 --binding None --num 1 --width 2 --initial-width 1 \
    --epochs 10 --eval-limit 10000

# b. MIMOConv: MIMONet-16-2, iw 4, HRR, Ncap 4, dynamic n in {4,2,1}
run fmnist-mimoconv16 --model MIMONet-16 --binding HRR --num 4 --width 2 --initial-width 4 \
    --sup-schedule 4:0.6,2:0.2,1:0.2 --epochs 24 --eval-limit 2000
