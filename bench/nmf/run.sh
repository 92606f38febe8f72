#!/usr/bin/env bash
# NMF k-sweep benchmark, side by side on the same cores: scikit-learn's NMF (k = 2..10, 200 iterations,
# Frobenius, NNDSVD, solvers 'cd' and 'mu') against `stemrun nmf` on the same 4096 x 4096 float32 matrix, with
# 1 rank (2 BLAS threads) and 2 ranks (1 BLAS thread each); stacked vs separate k fits; per-iteration time against
# the BLAS floor (flops of the iteration's two big products / sgemm rate measured here, same threads).
# Usage: bench/nmf/run.sh [N] [P]   (default 4096 4096). Results: bench-out/nmf/results.txt
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/mpi-env.sh
N=${1:-4096}; P=${2:-4096}
SIDE_SCAN=$(python3 -c "import math; n=$N; r=int(math.isqrt(n)); print(f'{r}x{n//r}')")
SIDE_DET=$(python3 -c "import math; n=$P; r=int(math.isqrt(n)); print(f'{r}x{n//r}')")
OUT=bench-out/nmf; mkdir -p "$OUT"
VENV=.venv-sklearn
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import sklearn" 2>/dev/null; then
  python3 -m venv "$VENV"; "$VENV/bin/pip" install -q scikit-learn numpy
fi
swift build -c release >/dev/null
cc -O2 -o "$OUT/sgemm_rate" bench/nmf/sgemm_rate.c $(pkg-config --cflags --libs openblas)
BIN=.build/release/stemrun
KS="2 3 4 5 6 7 8 9 10"; KSUM=54

# The matrix: planted rank 12 plus uniform noise, scaled to [0, 1], float32 row-major.
"$VENV/bin/python" - "$OUT/X.f32" "$N" "$P" <<'PY'
import sys, numpy as np
path, n, p = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.RandomState(0)
W = rng.gamma(0.5, 1, (n, 12)).astype(np.float32); H = rng.gamma(0.5, 1, (12, p)).astype(np.float32)
X = W @ H + 0.1 * rng.uniform(size=(n, p)).astype(np.float32)
(X / X.max()).astype("<f4").tofile(path)
PY

echo "== BLAS floor (OpenBLAS sgemm, the two products of one iteration)"
RATE2=$(OPENBLAS_NUM_THREADS=2 "$OUT/sgemm_rate" $N $P $KSUM 5 | awk '{print $2}')
RATE1=$(OPENBLAS_NUM_THREADS=1 "$OUT/sgemm_rate" $N $P $KSUM 5 | awk '{print $2}')
echo "sgemm K=$KSUM: $RATE2 GFLOP/s on 2 threads, $RATE1 GFLOP/s on 1 thread"

echo "== scikit-learn"
OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 "$VENV/bin/python" - "$OUT/X.f32" "$N" "$P" "$OUT/sklearn.json" <<'PY'
import json, sys, time, warnings
import numpy as np
from sklearn.decomposition import NMF
path, n, p, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
X = np.fromfile(path, dtype="<f4").reshape(n, p)
norm = float(np.linalg.norm(X.astype(np.float64)))
res = {}
for solver in ("cd", "mu"):
    rows = []
    start = time.perf_counter()
    for k in range(2, 11):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = NMF(n_components=k, init="nndsvd", solver=solver, max_iter=200, tol=0.0, random_state=0)
            m.fit_transform(X)
        rows.append({"k": k, "relative_error": float(m.reconstruction_err_) / norm, "iterations": int(m.n_iter_)})
    res[solver] = {"seconds": time.perf_counter() - start, "fits": rows}
    print(f"scikit-learn {solver}: k-sweep 2..10 in {res[solver]['seconds']:.1f} s")
json.dump(res, open(out, "w"))
PY

run_stemrun() {  # name ranks blas-threads extra-args...
  local name=$1 ranks=$2 threads=$3; shift 3
  local start end
  start=$(date +%s.%N)
  OPENBLAS_NUM_THREADS=$threads mpirun -np "$ranks" $BIN nmf "$OUT/X.f32" --format raw --scan-shape "$SIDE_SCAN" \
    --detector-shape "$SIDE_DET" --dtype float32 --k-range 2-10 --max-iter 200 --tol 0 --no-component-loss \
    --restarts 0 --k 6 -o "$OUT/$name.h5" "$@" > "$OUT/$name.log"
  end=$(date +%s.%N)
  local sweep
  sweep=$(awk '/^raw /{print $7}' "$OUT/$name.log")
  echo "$name $sweep $(python3 -c "print(f'{$end-$start:.2f}')")" >> "$OUT/stemrun-times.txt"
  echo "stemrun $name: sweep $sweep s (command $(python3 -c "print(f'{$end-$start:.1f}')") s)"
}
echo "== stemrun"
rm -f "$OUT/stemrun-times.txt"
run_stemrun cd-1rank 1 2 --solver cd
run_stemrun cd-2ranks 2 1 --solver cd
run_stemrun cd-1rank-separate 1 2 --solver cd --no-stack
run_stemrun mu-1rank 1 2 --solver mu
run_stemrun mu-2ranks 2 1 --solver mu

"$VENV/bin/python" - "$OUT" "$N" "$P" "$RATE2" "$RATE1" "$KSUM" <<'PY' | tee "$OUT/results.txt"
import json, sys
import numpy as np
out, n, p, rate2, rate1, ksum = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
sk = json.load(open(f"{out}/sklearn.json"))
times = {l.split()[0]: float(l.split()[1]) for l in open(f"{out}/stemrun-times.txt")}
def errors(name):
    import subprocess
    txt = subprocess.run(["h5dump", "-d", "/nmf/raw/frobenius_relative_error", "-y", "-w", "0", f"{out}/{name}.h5"],
                         capture_output=True, text=True).stdout
    body = txt[txt.index("DATA {") + 6: txt.rindex("}")]
    return [float(v) for v in body.replace(",", " ").split()]
flops = 4.0 * n * p * ksum  # per stacked iteration: X H^T and W^T X over all k
print(f"NMF k-sweep k = 2..10, 200 iterations, Frobenius, NNDSVD, {n} x {p} float32 matrix, 2 cores")
print(f"BLAS floor: sgemm {rate2:.0f} GFLOP/s (2 threads), {rate1:.0f} GFLOP/s (1 thread); "
      f"{flops/1e9:.2f} GFLOP per stacked iteration -> floor {flops/rate2/1e6:.1f} ms/iteration on 2 threads")
print()
print(f"{'run':30s} {'sweep s':>8s} {'ms/iter':>8s} {'x floor':>8s} {'speed-up':>9s} {'max rel.err diff':>17s}")
for solver in ("cd", "mu"):
    base = sk[solver]["seconds"]
    ref = [r["relative_error"] for r in sk[solver]["fits"]]
    print(f"{'scikit-learn ' + solver:30s} {base:8.1f} {1000*base/200:8.1f} {base/200/(flops/rate2/1e9):8.2f} {1.0:9.2f} {0.0:17.5f}")
    for name in sorted(k for k in times if k.startswith(solver)):
        s = times[name]
        e = errors(name)
        diff = max((a - b) / b for a, b in zip(e, ref))
        print(f"{'stemrun ' + name:30s} {s:8.1f} {1000*s/200:8.1f} {s/200/(flops/rate2/1e9):8.2f} {base/s:9.2f} {diff:+17.5f}")
if "cd-1rank" in times and "cd-2ranks" in times:
    print(f"\nstemrun cd: 1 rank x 2 BLAS threads -> 2 ranks x 1 thread: {times['cd-1rank']/times['cd-2ranks']:.2f}x")
if "cd-1rank-separate" in times:
    print(f"stemrun cd: stacked k fits vs separate: {times['cd-1rank-separate']/times['cd-1rank']:.2f}x faster stacked")
print("(ms/iter = sweep seconds / 200: all nine k per iteration; 'max rel.err diff' = largest (stemrun - sklearn) / sklearn"
      " relative error over k: negative means stemrun reached a lower objective)")
PY
