#!/usr/bin/env bash
# Oracle: stemrun's orientation conventions against orix (the convention stemrun follows for ANG export and
# ground truth): Bunge Euler -> quaternion, quaternion -> Euler, and the symmetry-reduced misorientation angle
# (disorientation) for all eleven proper point groups, on random orientations.
# stemrun's axis settings: monoclinic 2-fold along y (orix C2y), 32 and 622 with a 2-fold along x (orix D3x, D6).
# PASS when every quaternion agrees to 1e-9 (up to sign), every Euler triple reproduces the rotation to 1e-9 and
# every disorientation angle agrees to 1e-7 rad.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.venv-crystal
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import orix, numpy" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q orix numpy
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$VENV/bin/python" - "$WORK" <<'PY'
import json, sys
import numpy as np
from orix.quaternion import Orientation, symmetry as S
work = sys.argv[1]
rng = np.random.default_rng(11)
euler = np.column_stack([rng.uniform(0, 2 * np.pi, 200), np.arccos(rng.uniform(-1, 1, 200)), rng.uniform(0, 2 * np.pi, 200)])
euler[:3] = [[np.pi / 2, 0, 0], [0.3, np.pi, 1.1], [0.1, 0.2, 0.3]]
q = rng.normal(size=(200, 4))
q /= np.linalg.norm(q, axis=1, keepdims=True)
groups = {"1": S.C1, "2": S.C2y, "222": S.D2, "4": S.C4, "422": S.D4, "3": S.C3, "32": S.D3x, "6": S.C6,
          "622": S.D6, "23": S.T, "432": S.O}
pairs, reference = [], []
for name, sym in groups.items():
    for _ in range(40):
        a, b = rng.normal(size=4), rng.normal(size=4)
        a /= np.linalg.norm(a); b /= np.linalg.norm(b)
        oa, ob = Orientation(a, symmetry=sym), Orientation(b, symmetry=sym)
        pairs.append({"group": name, "a": a.tolist(), "b": b.tolist()})
        reference.append(float(oa.angle_with(ob)[0] if np.ndim(oa.angle_with(ob)) else oa.angle_with(ob)))
json.dump({"euler": euler.tolist(), "quaternions": q.tolist(), "pairs": pairs}, open(f"{work}/input.json", "w"))
json.dump({"quaternion_from_euler": Orientation.from_euler(euler).data.tolist(),
           "euler_from_quaternion": Orientation(q).to_euler().tolist(),
           "disorientation": reference}, open(f"{work}/orix.json", "w"))
PY

swift build -c release --build-tests >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log"; echo "FAIL: build"; exit 1; }
STEMRUN_ORIX_ORACLE_DIR="$WORK" swift test -c release --skip-build --filter "orixOracleBridge" >"$WORK/test.log" 2>&1 || {
  cat "$WORK/test.log"; echo "FAIL: the stemrun side did not run"; exit 1; }
[ -f "$WORK/stemrun.json" ] || { cat "$WORK/test.log"; echo "FAIL: stemrun wrote no output"; exit 1; }

"$VENV/bin/python" - "$WORK" <<'PY'
import json, sys
import numpy as np
from orix.quaternion import Orientation
work = sys.argv[1]
ours, ref = json.load(open(f"{work}/stemrun.json")), json.load(open(f"{work}/orix.json"))
ok = True
qa, qb = np.array(ours["quaternion_from_euler"]), np.array(ref["quaternion_from_euler"])
dq = np.minimum(np.abs(qa - qb).max(axis=1), np.abs(qa + qb).max(axis=1)).max()
print(f"Euler -> quaternion: {len(qa)} orientations, largest difference {dq:.2e}")
ok &= dq < 1e-9
# Euler angles are not unique at Φ = 0 or π: compare the rotations they describe.
ea, eb = np.array(ours["euler_from_quaternion"]), np.array(ref["euler_from_quaternion"])
ra, rb = Orientation.from_euler(ea).data, Orientation.from_euler(eb).data
de = np.abs(np.abs(np.sum(ra * rb, axis=1)) - 1).max()
dang = np.abs(ea - eb)
dang = np.minimum(dang, 2 * np.pi - dang).max()
print(f"quaternion -> Euler: {len(ea)} orientations, rotation mismatch {de:.2e}, largest angle difference {dang:.2e} rad")
ok &= de < 1e-9 and dang < 1e-7
da, db = np.array(ours["disorientation"]), np.array(ref["disorientation"])
dd = np.abs(da - db).max()
print(f"disorientation: {len(da)} pairs over 11 point groups, largest difference {dd:.2e} rad (angles up to {np.degrees(db.max()):.1f} deg)")
ok &= dd < 1e-7
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
