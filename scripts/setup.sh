#!/usr/bin/env bash
# Installs the Debian packages lipscope builds and tests against, only when missing.
# Swift itself (6.x) is expected on PATH.
set -euo pipefail
packages=(
  libopenblas-dev liblapacke-dev   # BLAS/LAPACK (link lapacke + openblas)
  libdsdp-dev                      # DSDP: in-process SDP solver
  coinor-libclp-dev                # COIN-OR CLP: LP solver
  libsuitesparse-dev               # SuiteSparse AMD: the ordering of CLP's barrier Cholesky
  coinor-libcbc-dev                # COIN-OR CBC: MILP solver (exact ℓ∞ constant, LipMIP form)
  coinor-csdp                      # csdp binary: independent SDP cross-check
  libncurses-dev                   # ncursesw for the workbench
  zlib1g-dev                       # zlib for compressed .mat/.npz
  tmux                             # end-to-end tests of the workbench
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6 toolchain required)" >&2; exit 1; }
