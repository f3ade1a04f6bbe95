#!/usr/bin/env bash
# Sets up a fresh Debian machine and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Same flags with or without a terminal (see run.sh), so this never rebuilds what a piped or
# CI build just built.
unset OLDPWD
swift build --no-color-diagnostics
swift test --no-color-diagnostics
