#!/usr/bin/env bash
# Oracle: stemrun's CIF reader, symmetry expansion, electron scattering factors and structure factors against
# gemmi (StructureFactorCalculatorE, which uses the same International Tables Vol. C Table 4.3.2.2 coefficients).
# CIFs are written here for Al, Cu, Au (Fm-3m), Si (Fd-3m origin 2), α-Fe (Im-3m), LiFePO4 (Pnma), graphite
# (P6_3/mmc) and a made-up monoclinic P2_1/c structure with partial occupancies and U_iso; half of them carry
# gemmi's symmetry operations as a loop, the others only the Hermann–Mauguin symbol (exercising stemrun's own
# generators). Also compares the full operation list of every built-in space group with gemmi's (same settings:
# origin choice 2, hexagonal axes for R groups, unique axis b). PASS when the atoms per cell agree, every F(hkl),
# |h|,|k|,|l| ≤ 4, agrees within 1e-5 of the largest |F| of its structure, and every group has gemmi's operations.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.venv-crystal
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import gemmi, numpy" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q gemmi numpy
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$VENV/bin/python" - "$WORK" <<'PY'
import itertools, json, sys
import gemmi
work = sys.argv[1]
# name, cell (a b c alpha beta gamma), space group (gemmi name), symop loop?, sites (label, element, x, y, z, occ, B)
structures = [
    ("Al", (4.0495,) * 3 + (90,) * 3, "F m -3 m", False, [("Al1", "Al", 0, 0, 0, 1, 0.80)]),
    ("Cu", (3.6149,) * 3 + (90,) * 3, "F m -3 m", True, [("Cu1", "Cu", 0, 0, 0, 1, 0.55)]),
    ("Au", (4.0782,) * 3 + (90,) * 3, "F m -3 m", True, [("Au1", "Au", 0, 0, 0, 1, 0.62)]),
    ("Si", (5.4309,) * 3 + (90,) * 3, "F d -3 m:2", True, [("Si1", "Si", 0.125, 0.125, 0.125, 1, 0.46)]),
    ("Si-symbol", (5.4309,) * 3 + (90,) * 3, "F d -3 m:2", False, [("Si1", "Si", 0.125, 0.125, 0.125, 1, 0.46)]),
    ("Fe", (2.8665,) * 3 + (90,) * 3, "I m -3 m", False, [("Fe1", "Fe", 0, 0, 0, 1, 0.35)]),
    ("LiFePO4", (10.332, 6.010, 4.692, 90, 90, 90), "P n m a", True,
     [("Li1", "Li", 0, 0, 0, 1, 1.0), ("Fe1", "Fe", 0.28222, 0.25, 0.97472, 1, 0.5), ("P1", "P", 0.09486, 0.25, 0.41820, 1, 0.4),
      ("O1", "O", 0.09678, 0.25, 0.74279, 1, 0.6), ("O2", "O", 0.45710, 0.25, 0.20602, 1, 0.6),
      ("O3", "O", 0.16558, 0.04660, 0.28485, 1, 0.6)]),
    ("LiFePO4-symbol", (10.332, 6.010, 4.692, 90, 90, 90), "P n m a", False,
     [("Li1", "Li", 0, 0, 0, 1, 1.0), ("Fe1", "Fe", 0.28222, 0.25, 0.97472, 1, 0.5), ("P1", "P", 0.09486, 0.25, 0.41820, 1, 0.4),
      ("O1", "O", 0.09678, 0.25, 0.74279, 1, 0.6), ("O2", "O", 0.45710, 0.25, 0.20602, 1, 0.6),
      ("O3", "O", 0.16558, 0.04660, 0.28485, 1, 0.6)]),
    ("graphite", (2.464, 2.464, 6.711, 90, 90, 120), "P 63/m m c", False,
     [("C1", "C", 0, 0, 0.25, 1, 0.6), ("C2", "C", 1 / 3, 2 / 3, 0.25, 1, 0.6)]),
    ("monoclinic", (5.21, 7.93, 6.14, 90, 103.7, 90), "P 1 21/c 1", True,
     [("Zn1", "Zn", 0.1213, 0.2734, 0.3811, 1, 0.7), ("S1", "S", 0.4120, 0.0570, 0.1920, 0.85, 0.9),
      ("Sn1", "Sn", 0.7450, 0.3650, 0.0810, 0.4, 1.1), ("O1", "O", 0.2010, 0.6100, 0.9120, 1, 1.3)]),
]
jobs, reference = [], []
hkl = [list(t) for t in itertools.product(range(-4, 5), repeat=3) if t != (0, 0, 0)]
for name, cell, sg, with_ops, sites in structures:
    group = gemmi.find_spacegroup_by_name(sg)
    lines = [f"data_{name}"]
    for tag, v in zip(["a", "b", "c"], cell[:3]):
        lines.append(f"_cell_length_{tag} {v}")
    for tag, v in zip(["alpha", "beta", "gamma"], cell[3:]):
        lines.append(f"_cell_angle_{tag} {v}")
    lines.append(f"_symmetry_space_group_name_H-M '{group.xhm()}'")
    lines.append(f"_space_group_IT_number {group.number}")
    if with_ops:
        lines += ["loop_", "_space_group_symop_operation_xyz"] + [f"'{op.triplet()}'" for op in group.operations()]
    lines += ["loop_", "_atom_site_label", "_atom_site_type_symbol", "_atom_site_fract_x", "_atom_site_fract_y",
              "_atom_site_fract_z", "_atom_site_occupancy", "_atom_site_B_iso_or_equiv"]
    lines += [f"{l} {e} {x:.6f} {y:.6f} {z:.6f} {o} {b}" for l, e, x, y, z, o, b in sites]
    path = f"{work}/{name}.cif"
    open(path, "w").write("\n".join(lines) + "\n")
    small = gemmi.read_small_structure(path)
    small.change_occupancies_to_crystallographic()
    calc = gemmi.StructureFactorCalculatorE(small.cell)
    values = [calc.calculate_sf_from_small_structure(small, tuple(h)) for h in hkl]
    jobs.append({"cif": f"{name}.cif", "hkl": hkl})
    reference.append({"cif": f"{name}.cif", "atoms": len(small.get_all_unit_cell_sites()),
                      "operations": len(group.operations()), "F": [[v.real, v.imag] for v in values]})
json.dump(jobs, open(f"{work}/input.json", "w"))
json.dump(reference, open(f"{work}/gemmi.json", "w"))
PY

swift build -c release --build-tests >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log"; echo "FAIL: build"; exit 1; }
STEMRUN_GEMMI_ORACLE_DIR="$WORK" swift test -c release --skip-build --filter "gemmiOracleBridge" >"$WORK/test.log" 2>&1 || {
  cat "$WORK/test.log"; echo "FAIL: the stemrun side did not run"; exit 1; }
[ -f "$WORK/stemrun.json" ] || { cat "$WORK/test.log"; echo "FAIL: stemrun wrote no output"; exit 1; }

"$VENV/bin/python" - "$WORK" <<'PY'
import json, sys
import numpy as np
work = sys.argv[1]
stemrun = json.load(open(f"{work}/stemrun.json"))
ours = {r["cif"]: r for r in stemrun["structures"]}
ok = True
print(f"{'structure':22s} {'atoms':>11s} {'ops':>9s} {'max|F| (A)':>11s} {'max diff':>10s}  check")
for ref in json.load(open(f"{work}/gemmi.json")):
    o = ours[ref["cif"]]
    a, b = np.array(o["F"]), np.array(ref["F"])
    scale = np.abs(b[:, 0] + 1j * b[:, 1]).max()
    diff = np.abs((a[:, 0] - b[:, 0]) + 1j * (a[:, 1] - b[:, 1])).max()
    good = o["atoms"] == ref["atoms"] and o["operations"] == ref["operations"] and diff < 1e-5 * scale
    ok &= good
    print(f"{ref['cif']:22s} {o['atoms']:>5d}/{ref['atoms']:<5d} {o['operations']:>4d}/{ref['operations']:<4d} {scale:11.4f} {diff / scale:10.2e}  {'ok' if good else 'MISMATCH'}")
import gemmi
settings = {14: "P 1 21/c 1", 15: "C 1 2/c 1", 141: "I 41/a m d:2", 166: "R -3 m:H", 167: "R -3 c:H", 227: "F d -3 m:2"}
def key(op):
    return (tuple(v for row in op.rot for v in row), tuple(t % gemmi.Op.DEN for t in op.tran))
bad = []
for number, ops in sorted(stemrun["groups"].items(), key=lambda kv: int(kv[0])):
    n = int(number)
    group = gemmi.find_spacegroup_by_name(settings[n]) if n in settings else gemmi.find_spacegroup_by_number(n)
    theirs = {key(op) for op in group.operations()}
    mine = {key(gemmi.Op(t)) for t in ops}
    if mine != theirs or len(ops) != len(theirs):
        bad.append(f"No. {n} {group.xhm()}: {len(ops)} vs {len(theirs)} operations, {len(mine ^ theirs)} differ")
print(f"space groups: {len(stemrun['groups'])} built-in groups compared with gemmi, {len(bad)} differ")
for b in bad:
    print("  " + b)
ok &= not bad
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
