#!/usr/bin/env bash
# Runs every oracle script in scripts/oracles/ (each compares stemrun with a peer in a Python venv).
set -euo pipefail
cd "$(dirname "$0")/.."
pass=0; fail=0
for s in scripts/oracles/*.sh; do
  [ -e "$s" ] || continue
  echo "== $s"
  if bash "$s"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAILED: $s"; fi
done
echo "oracles: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
