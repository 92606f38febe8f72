#!/usr/bin/env bash
# Builds one libFuzzer target against the Readers parser sources and runs it for SECONDS.
#   fuzz/run.sh PARSER SECONDS      PARSER: merlin | blockfile | empad | dm | bmp | tiff
# Seeds come from fuzz/make-seeds.py (generated, not third-party files); the corpus grows in
# .build/fuzz/corpus/PARSER; crashes land in .build/fuzz/findings/PARSER. Prints libFuzzer's final
# statistics (executions, coverage) and exits non-zero on a finding.
set -euo pipefail
cd "$(dirname "$0")/.."
parser=${1:?parser: merlin, blockfile, empad, dm, bmp or tiff}
seconds=${2:-60}
case "$parser" in
  merlin) main=fuzz/FuzzMerlin.swift ;;
  blockfile) main=fuzz/FuzzBlockfile.swift ;;
  empad) main=fuzz/FuzzEMPAD.swift ;;
  dm) main=fuzz/FuzzDM.swift ;;
  bmp) main=fuzz/FuzzBMP.swift ;;
  tiff) main=fuzz/FuzzTIFF.swift ;;
  *) echo "unknown parser $parser" >&2; exit 2 ;;
esac
out=.build/fuzz
mkdir -p "$out/corpus/$parser" "$out/findings/$parser" "$out/seeds"
python3 fuzz/make-seeds.py "$out/seeds"
cp -n "$out/seeds/$parser"/* "$out/corpus/$parser/" 2>/dev/null || true
source fuzz/standalone.sh
standalone_build "$out/fuzz-$parser" "$main" -O -sanitize=fuzzer,address 2> "$out/build-$parser.log" \
  || { grep -E "error" "$out/build-$parser.log"; exit 1; }
# -rss_limit_mb / -malloc_limit_mb make any allocation a lying header could cause a finding.
set +e
"$out/fuzz-$parser" "$out/corpus/$parser" -max_total_time="$seconds" -max_len=8192 -timeout=5 \
  -rss_limit_mb=1024 -malloc_limit_mb=256 -print_final_stats=1 -artifact_prefix="$out/findings/$parser/" \
  > "$out/log-$parser.txt" 2>&1
status=$?
set -e
grep -E "^(stat::|SUMMARY)|ERROR|Test unit written|deadly signal" "$out/log-$parser.txt" || true
echo "fuzz $parser: exit status $status"
exit "$status"
