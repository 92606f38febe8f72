# Sourced by fuzz/run.sh: compiles STEMCore plus the
# Readers sources that do not need HDF5 directly with swiftc, so small tools (the fuzzers)
# can be built without changing Package.swift.
#   standalone_build OUT MAIN.swift [extra swiftc flags...]
standalone_build() {
  local out="$1" main="$2"; shift 2
  local root; root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  local lib; lib="$(dirname "$out")/standalone-lib"
  mkdir -p "$lib"
  swiftc -parse-as-library -emit-library -static -module-name STEMCore -emit-module \
    -emit-module-path "$lib/STEMCore.swiftmodule" -o "$lib/libSTEMCore.a" "$@" "$root"/Sources/STEMCore/*.swift
  local readers
  readers=$(grep -L -E '^import (HDF5|CHDF5|MPIShim|Foundation)' "$root"/Sources/Readers/*.swift "$root"/Sources/Readers/Formats/*.swift)
  # shellcheck disable=SC2086
  swiftc -parse-as-library -I "$lib" -L "$lib" -lSTEMCore -I "$root/Sources/CPNG" -lpng16 "$@" \
    -module-name ReadersStandalone $readers "$main" -o "$out"
}
