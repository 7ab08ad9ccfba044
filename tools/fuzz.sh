#!/bin/sh
# Builds the libFuzzer harnesses (clang, ASan + UBSan + LeakSanitizer) and runs each for SECONDS.
# The committed seeds in tests/fuzz/corpus/<harness> are read-only inputs; what the fuzzer finds
# goes to build-fuzz/corpus/<harness>, and crashes to build-fuzz/crashes/.
#   tools/fuzz.sh [SECONDS] [HARNESS...]     (default 60 s, all harnesses)
# FUZZ_SEED=N fixes libFuzzer's seed: with the same binary and corpus the run is then the same
# sequence of inputs on every machine (CI uses it, so a CI result can be reproduced locally);
# unset, every run explores anew (long local runs).
set -eu
secs=${1:-60}
[ $# -gt 0 ] && shift
harnesses=${*:-model npy idx image}
B=build-fuzz
cmake -S . -B $B -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DMIMOVK_FUZZ=ON \
      -DMIMOVK_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
for h in $harnesses; do cmake --build $B --target fuzz_$h -j "$(nproc)" >/dev/null; done
mkdir -p $B/crashes
status=0
for h in $harnesses; do
    mkdir -p $B/corpus/$h
    log=$B/fuzz_$h.log
    if $B/tests/fuzz/fuzz_$h ${FUZZ_SEED:+-seed=$FUZZ_SEED} -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix=$B/crashes/$h- $B/corpus/$h tests/fuzz/corpus/$h >"$log" 2>&1; then
        execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
        echo "fuzz_$h: ${secs} s, ${execs:-?} executions, no crash, hang or leak"
    else
        echo "fuzz_$h: FAILED (see $log and $B/crashes/)"
        tail -n 30 "$log"
        status=1
    fi
done
exit $status
