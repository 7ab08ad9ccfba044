#!/bin/sh
# The main job of `make run`: the devices, then the kernel benchmark.
set -eu
BUILD=${1:-build}
"$BUILD/apps/mimovk" devices
"$BUILD/apps/mimovk" bench-kernels
