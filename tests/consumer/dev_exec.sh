#!/usr/bin/env bash
# Behind example_regression_dev_exec (see CMakeLists.txt): a user's project in a folder outside
# the clone, built and run through tools/dev as the README's "Use vkgrad in your project" says.
# Usage: dev_exec.sh REPO PRESET CXX_FLAGS
set -euo pipefail
repo=$1 preset=$2 flags=$3
work=$(mktemp -d /tmp/vkgrad-dev-exec.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$repo/examples/regression" "$work/regression"
cd "$work/regression"
"$repo/tools/dev" install "$work/prefix" --preset "$preset"
"$repo/tools/dev" exec -- cmake -S . -B build -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_CXX_FLAGS="$flags" >/dev/null
"$repo/tools/dev" exec -- cmake --build build >/dev/null
"$repo/tools/dev" exec -- build/regression 80 0.05 "$work/regression.safetensors"
