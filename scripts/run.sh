#!/usr/bin/env bash
# Sets up a fresh Debian machine, builds lipscope and opens it on a bundled example network.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# A rebuild only when the sources changed. SwiftPM keys its caches on two things besides them:
# - the compile flags, and it adds -color-diagnostics to every compile when stdout is a
#   terminal: a terminal build after a piped one (CI, `| tee`, an editor) recompiles every
#   module, and back again. --no-color-diagnostics keeps the flags of a non-terminal build;
# - the whole environment, for its up-front compile of the dependencies' plugins
#   (swift-protobuf's, swift-argument-parser's): the `cd` above set OLDPWD to wherever this
#   script was started from, so it is dropped.
unset OLDPWD
swift build -c release --no-color-diagnostics
exec .build/release/lipscope "${1:-examples/tiny_relu_1.json}"
