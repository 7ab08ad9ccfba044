#!/bin/sh
# test_cam_window: mimovk-cam's window under Xvfb, presented with Vulkan on the device that
# computes (lavapipe here), validation layer on. Keys switch n (seen in the JSON-lines log), a
# screenshot (xwd -> PNG) must show the live frame, the header and the label strip, q quits
# cleanly, and so does closing the window.
#   tests/cam/window.sh BUILD_DIR     (MIMOVK_CAM_SHOT=FILE.png keeps the screenshot)
set -u
B=$1
CAM=$B/apps/mimovk-cam
TOOL=$B/tests/cam_test_tool
tmp=$(mktemp -d /tmp/mvk-test-cam-window-XXXXXX)
xpid=""
cpid=""
cleanup() {
    [ -n "$cpid" ] && kill "$cpid" 2>/dev/null
    [ -n "$xpid" ] && kill "$xpid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "test_cam_window: FAILED: $*" >&2
    [ -f "$tmp/err" ] && sed 's/^/  mimovk-cam: /' "$tmp/err" >&2
    exit 1
}
t0=$(date +%s.%N)
step() { echo "test_cam_window: $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $t0 }") s: $*"; }

# Model: the shipped one, else the exported test model (ctest fixture), else the tiny one.
M=${MIMOVK_SOURCE_DIR:-.}/models/fmnist-mimoconv16.safetensors
[ -f "$M" ] || M=$B/test-models/t-hrr-n4-prelu-1x28.safetensors
if [ ! -f "$M" ]; then
    M=$tmp/tiny.safetensors
    "$TOOL" tiny-model "$M" || fail "cannot write the tiny model"
fi
"$TOOL" make-source "$tmp/src" 40 || fail "cannot make the synthetic source"

# Xvfb picks a free display and tells its number on fd 3.
Xvfb -displayfd 3 -screen 0 1024x600x24 -nolisten tcp 3>"$tmp/display" 2>"$tmp/xvfb.err" &
xpid=$!
i=0
while [ ! -s "$tmp/display" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$tmp/display" ] || fail "Xvfb did not start: $(cat "$tmp/xvfb.err")"
DISPLAY=:$(cat "$tmp/display")
export DISPLAY
step "Xvfb on $DISPLAY, model $M"

# wait_for FILE PATTERN SECONDS: until the pattern shows up, while mimovk-cam runs.
wait_for() {
    i=0
    while [ $i -lt $(($3 * 10)) ]; do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        kill -0 "$cpid" 2>/dev/null || return 1
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# Sanitizer builds: LeakSanitizer reports leaks at exit; any report fails.
check_leaks() {
    grep -q "LeakSanitizer" "$tmp/err" && fail "memory leaked: $(grep SUMMARY "$tmp/err")"
    return 0
}

start() {
    "$CAM" "$M" --source "$tmp/src/png" --loop --fps 20 --n 2 --log "$tmp/log.jsonl" --seconds 100 2>"$tmp/err" &
    cpid=$!
    wait_for "$tmp/err" "first pass shown" 90 || fail "no pass shown within 90 s"
}

start
step "window up, first pass shown"
grep -q '"requested_n": 2' "$tmp/log.jsonl.part" || fail "the log has no n = 2 pass"
xdotool key 1
wait_for "$tmp/log.jsonl.part" '"requested_n": 1' 30 || fail "key 1 did not switch to n = 1"
step "key 1: n = 1"
xdotool key 2
wait_for "$tmp/err" "mimovk-cam: n = 2" 30 || fail "key 2 did not switch back to n = 2"
sleep 2 # a few n = 2 passes on screen
xwd -silent -name mimovk-cam -out "$tmp/shot.xwd" || fail "xwd could not grab the window"
xwdtopnm "$tmp/shot.xwd" 2>/dev/null | pnmtopng >"$tmp/shot.png" || fail "xwd -> PNG failed"
"$TOOL" check-shot "$tmp/shot.png" || fail "the screenshot is not the view"
[ -n "${MIMOVK_CAM_SHOT:-}" ] && cp "$tmp/shot.png" "$MIMOVK_CAM_SHOT"
step "screenshot checked"
xdotool key q
wait "$cpid"
rc=$?
cpid=""
[ $rc -eq 0 ] || fail "q: exit status $rc"
grep -q "validation:" "$tmp/err" && fail "validation messages"
check_leaks
[ -f "$tmp/log.jsonl" ] && [ ! -e "$tmp/log.jsonl.part" ] || fail "the log was not renamed into place"
step "q quit cleanly"

# Closing the window (what a window manager's close button sends) quits cleanly too.
start
"$TOOL" close-window mimovk-cam || fail "cannot send WM_DELETE_WINDOW"
wait "$cpid"
rc=$?
cpid=""
[ $rc -eq 0 ] || fail "closing the window: exit status $rc"
grep -q "validation:" "$tmp/err" && fail "validation messages"
check_leaks
step "closing the window quit cleanly"
echo "test_cam_window: passed"
