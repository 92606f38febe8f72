#!/usr/bin/env bash
# Installs the Debian packages stemrun builds and tests with, when missing. Idempotent; needs root (or sudo).
set -euo pipefail
pkgs=(libopenmpi-dev openmpi-bin libhdf5-openmpi-dev libopenblas-dev hdf5-tools libpng-dev zlib1g-dev pkg-config
      python3-venv hdf5-filter-plugin bitshuffle "$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Optional: what some tests use (headless Chromium renders the run report; slurm-wlm and munge make the
# one-node SLURM cluster of scripts/test-slurm.sh). A failure here only warns.
optional=(chromium slurm-wlm munge)
missing=()
for p in "${optional[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing optional: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null || echo "warning: could not install ${missing[*]} (report rendering and SLURM tests need them)"
fi
