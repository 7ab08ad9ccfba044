#!/bin/sh
# ctest: installs the build into a temporary prefix and builds a consumer against it.
set -eu
build=$1
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$src" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/consumer/consumer"
PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs mimovk | grep -q -- "-lmimovk"
cc -o "$tmp/pc" "$src/consumer.c" $(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs mimovk)
LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/pc"
echo "install: CMake package and pkg-config both work"
