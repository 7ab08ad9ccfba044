#!/bin/sh
# Runs every mimovk subcommand of a sanitizer build (cmake -DMIMOVK_SANITIZE=ON) on small inputs;
# LeakSanitizer makes a command fail if it leaks. Also checks that bad input gives a clean error.
#   tools/leakcheck.sh BUILD_DIR        (models from BUILD_DIR/test-models or build/test-models)
set -eu
B=${1:-build-asan}
MVK="$B/apps/mimovk"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
models=$B/test-models
[ -f "$models/manifest.json" ] || models=build/test-models
M=$models/t-hrr-n4-prelu-1x28.safetensors
[ -f "$M" ] || { echo "leakcheck: $M is missing (run the test suite first)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "leakcheck: $* ok"; }
"$MVK" devices >/dev/null && ok devices
"$MVK" info "$M" >/dev/null && ok info
"$MVK" run "$M" --n 4 --input "$models/t-hrr-n4-prelu-1x28/input.npy" --output "$tmp/y.npy" && ok run
"$MVK" eval "$M" --data /usr/share/datasets/fashion-mnist --limit 37 --n 1,2,4 --json >/dev/null && ok eval
"$MVK" classify "$M" tests/fuzz/corpus/image/gray28.png tests/fuzz/corpus/image/gray28.jpg --n 2 >/dev/null && ok classify
"$MVK" bench "$M" --n 1,4 --batch 2 --passes 1 --runs 5 >/dev/null && ok bench
# Failures must be clean too: a status and a message, no leak, no crash.
printf 'garbage' > "$tmp/bad.safetensors"
if "$MVK" info "$tmp/bad.safetensors" 2>"$tmp/err"; then echo "leakcheck: a malformed model was accepted" >&2; exit 1; fi
grep -q "malformed" "$tmp/err" && ok "malformed model"
if "$MVK" run "$M" --n 3 --input "$models/t-hrr-n4-prelu-1x28/input.npy" --output "$tmp/z.npy" 2>"$tmp/err"; then
    echo "leakcheck: n = 3 was accepted" >&2; exit 1
fi
grep -q "does not divide" "$tmp/err" && [ ! -e "$tmp/z.npy" ] && ok "bad n"
