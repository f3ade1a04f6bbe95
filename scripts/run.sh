#!/usr/bin/env bash
# Sets up a fresh Debian machine, builds lipscope and opens it on a bundled example network.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release
exec .build/release/lipscope "${1:-examples/tiny_relu_1.json}"
