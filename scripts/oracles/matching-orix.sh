#!/usr/bin/env bash
# Oracle: stemrun's EDAX/TSL .ang writer against orix's reader.
# A Swift test writes a two-phase map of known random orientations (and not-indexed points) with AngWriter plus a
# CSV of the expected phase ids and quaternions; orix loads the .ang and every orientation must agree within
# 0.01 degrees (no symmetry: the exact rotation must survive), every phase id must match, and the
# not-indexed points must come back as not indexed.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.venv-orix
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip
  "$VENV/bin/pip" install --quiet orix
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
swift build -c release --build-tests >/dev/null
STEMRUN_ANG_ORACLE_DIR="$OUT" swift test -c release --skip-build --filter "MatchingTests.AngOracleExport" >/dev/null
"$VENV/bin/python" - "$OUT" <<'PY'
import sys, numpy as np
from orix import io
from orix.quaternion import Rotation
out = sys.argv[1]
xmap = io.load(f"{out}/known.ang")
expected = np.loadtxt(f"{out}/known.csv", delimiter=",", skiprows=1)
order = np.argsort(expected[:, 0])
expected = expected[order]
n = expected.shape[0]
assert xmap.size == n, f"orix read {xmap.size} points, expected {n}"
# orix orders points by (y, x) as written: rows outer, columns inner, like the scan index.
phase = xmap.phase_id
want_phase = expected[:, 1].astype(int)
bad_phase = int(np.sum(phase != want_phase))
names = {i: p.name for i, p in xmap.phases}
pg = {i: p.point_group.name for i, p in xmap.phases if i >= 0}
indexed = want_phase > 0
rot = xmap.rotations[indexed]
ref = Rotation(expected[indexed, 2:6])
angle = np.degrees((rot * ~ref).angle)
angle = np.minimum(angle, 360 - angle)
worst = float(np.max(angle))
print(f"orix phases: {names}, point groups {pg}")
print(f"points {n}, indexed {int(indexed.sum())}, phase mismatches {bad_phase}, largest misorientation {worst:.5f} deg")
ok = bad_phase == 0 and worst < 0.01 and all(g in ("432", "m-3m") for g in pg.values())
print("PASS: .ang orientations and phases round-trip through orix" if ok else "FAIL: .ang round-trip through orix")
sys.exit(0 if ok else 1)
PY
