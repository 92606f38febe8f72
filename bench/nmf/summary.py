"""Summary table of bench/nmf/run.sh. Usage: summary.py OUT N P RATE2 RATE1 KSUM."""
import json, re, sys
import numpy as np
out, n, p, rate2, rate1, ksum = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
sk = json.load(open(f"{out}/sklearn.json"))
times = {l.split()[0]: float(l.split()[1]) for l in open(f"{out}/stemrun-times.txt")}
def errors(name):
    import subprocess
    txt = subprocess.run(["h5dump", "-d", "/nmf/raw/frobenius_relative_error", "-y", "-w", "0", f"{out}/{name}.h5"],
                         capture_output=True, text=True).stdout
    body = re.sub(r"\(\d+\):", " ", txt[txt.index("DATA {") + 6:])
    return [float(v) for v in re.findall(r"[-+]?\d+\.?\d*(?:[eE][-+]?\d+)?", body)]
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
