#!/usr/bin/env bash
# Sets up a fresh Debian machine and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build
swift test
