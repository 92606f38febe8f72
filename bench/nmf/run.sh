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
if [ "${SKIP_SKLEARN:-0}" = 1 ] && [ -f "$OUT/sklearn.json" ]; then echo "(reusing $OUT/sklearn.json)"; else
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
fi

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

# The floor is the best sgemm rate seen (the machine is shared: measure again after the runs).
RATE2=$(python3 -c "print(max($RATE2, $(OPENBLAS_NUM_THREADS=2 "$OUT/sgemm_rate" $N $P $KSUM 5 | awk '{print $2}')))")
RATE1=$(python3 -c "print(max($RATE1, $(OPENBLAS_NUM_THREADS=1 "$OUT/sgemm_rate" $N $P $KSUM 5 | awk '{print $2}')))")

"$VENV/bin/python" bench/nmf/summary.py "$OUT" "$N" "$P" "$RATE2" "$RATE1" "$KSUM" | tee "$OUT/results.txt"
