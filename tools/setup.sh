#!/bin/sh
# Installs the Debian bookworm packages mimovk needs (clang for the fuzzers; GLFW, Xlib, Xvfb, xwd, netpbm
# and xdotool for mimovk-cam and its window test); does nothing when all are present.
# Run as root (or with sudo available). Idempotent: `make run` and `make test` call it.
set -eu

PACKAGES="
build-essential cmake pkg-config
libvulkan1 libvulkan-dev libvulkan-volk-dev libvkfft-dev
glslang-tools glslang-dev spirv-tools
libstb-dev libcmocka-dev libcjson-dev zlib1g-dev
mesa-vulkan-drivers vulkan-validationlayers vulkan-tools
python3 python3-torch python3-numpy python3-tqdm
dataset-fashion-mnist
clang libclang-rt-14-dev
libglfw3-dev libx11-dev xvfb x11-apps netpbm xdotool
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "mimovk setup: installing$missing"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "mimovk setup: missing Debian packages:$missing" >&2
    echo "mimovk setup: run as root: apt-get install$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
