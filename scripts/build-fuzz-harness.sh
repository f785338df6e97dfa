#!/usr/bin/env bash
# build-fuzz-harness.sh — coverage-guided fuzzing binaries for the native x86_64 kexec-tools loader.
#
# Usage:
#   scripts/build-fuzz-harness.sh [--kexec-tools VERSION] [--engine libfuzzer|afl|all] [--force]
#
#   --kexec-tools  a version fetched by scripts/fetch-kexec-tools.sh (default 2.0.25).
#   --engine       libfuzzer: clang -fsanitize=fuzzer,address,undefined (needs clang and
#                  libclang-rt-<N>-dev); afl: afl-clang-fast with the same libFuzzer-style entry
#                  (needs afl++). all (default): both; an engine whose tools are missing is an error.
#   --force        rebuild even when up to date.
#
# The entry point is oracle/kexec-tools/fuzz-entry.c: one input is one raw ELF file, loaded as the
# oracle loads a request (same upstream files, same shim, same window), so every crash file is
# replayable through the differential: purgatory-oracle fuzz --replay DIR --oracle ID.
# Output: $CACHE/build/kexec-tools-<version>-x86_64-fuzz/{libfuzzer,afl,build.json}.
# Exit codes: 0 ok; 1 usage or missing tool (the message names the package); 4 build failed.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
CACHE="${PURGATORY_ORACLE_CACHE:-$REPO_DIR/.cache}"
HARNESS_DIR="$REPO_DIR/oracle/kexec-tools"
INPUT_FILES=(fuzz-entry.c shim.c shim.h load.c po.h compat/config.h)

log() { printf 'build-fuzz-harness: %s\n' "$*" >&2; }
die() { local c="$1"; shift; printf 'build-fuzz-harness: error: %s\n' "$*" >&2; exit "$c"; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 1; }

V=2.0.25
ENGINES=all
FORCE=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --kexec-tools) [[ $# -ge 2 ]] || usage; V="$2"; shift 2 ;;
    --engine) [[ $# -ge 2 ]] || usage; ENGINES="$2"; shift 2 ;;
    --force) FORCE=1; shift ;;
    -h | --help) usage ;;
    *) log "unknown argument: $1"; usage ;;
  esac
done
[[ "$ENGINES" == all ]] && ENGINES="libfuzzer afl"
ENGINES="${ENGINES//,/ }"
for e in $ENGINES; do
  case "$e" in libfuzzer | afl) ;; *) die 1 "unknown engine '$e' (libfuzzer, afl, all)" ;; esac
done
[[ "$(uname -m)" == x86_64 ]] || die 1 "the fuzzing harness is built for the native x86_64 loader; host is $(uname -m)"
[[ "$V" =~ ^[0-9]+(\.[0-9]+)+$ ]] || die 1 "--kexec-tools takes a fetched version (e.g. 2.0.25), not '$V'"
TREE="$CACHE/src/kexec-tools-$V"
[[ -d "$TREE" ]] || die 1 "kexec-tools $V is not fetched; run: scripts/fetch-kexec-tools.sh $V"

sha256() { sha256sum "$@" | awk '{print $1}'; }
json_str() {
  local s="$1"
  s="${s//\\/\\\\}"; s="${s//\"/\\\"}"; s="${s//$'\t'/\\t}"; s="${s//$'\n'/\\n}"
  printf '"%s"' "$s"
}

OUT="$CACHE/build/kexec-tools-$V-x86_64-fuzz"
mkdir -p "$OUT"
UPSTREAM=(kexec/kexec-elf.c kexec/kexec-elf-rel.c kexec/arch/x86_64/kexec-elf-rel-x86_64.c)
INC=(-I"$HARNESS_DIR/compat" -I"$TREE/include" -I"$TREE/util_lib/include" -I"$TREE/kexec/arch/x86_64/include")
inputs_sha() {
  { for f in "${INPUT_FILES[@]}"; do printf '%s %s\n' "$(sha256 "$HARNESS_DIR/$f")" "$f"; done
    for f in "${UPSTREAM[@]}"; do printf '%s %s\n' "$(sha256 "$TREE/$f")" "$f"; done; } | sha256
}

build_engine() { # ENGINE
  local engine="$1" cc cflags ldflags
  case "$engine" in
    libfuzzer)
      cc=clang
      command -v clang >/dev/null || die 1 "clang not found; run: scripts/setup-toolchains.sh --fuzz (installs clang, libclang-rt-dev)"
      cflags="-O1 -g -fno-strict-aliasing -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=alignment -fno-sanitize-recover=all"
      ldflags="-fsanitize=fuzzer,address,undefined" ;;
    afl)
      cc=afl-clang-fast
      command -v afl-clang-fast >/dev/null || die 1 "afl-clang-fast not found; run: scripts/setup-toolchains.sh --fuzz (installs afl++)"
      cflags="-O1 -g -fno-strict-aliasing -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize=alignment -fno-sanitize-recover=all"
      ldflags="-fsanitize=fuzzer,address,undefined" ;;
  esac
  local ccver; ccver="$("$cc" --version 2>&1 | head -n1)"
  local key; key="$(printf '%s\n' "$(inputs_sha)" "$ccver" "$cflags" "$ldflags" | sha256)"
  if [[ $FORCE -eq 0 && -x "$OUT/$engine" && -f "$OUT/$engine.key" ]] && [[ "$(cat "$OUT/$engine.key")" == "$key" ]]; then
    log "up to date: $OUT/$engine"
    printf '%s\n' "$OUT/$engine"
    return 0
  fi
  local o; o="$(mktemp -d)"
  local blog="$OUT/$engine.build.log" objs=() f
  : >"$blog"
  for f in "${UPSTREAM[@]}"; do
    local obj="$o/up-$(basename "$f" .c).o"
    # shellcheck disable=SC2086
    (set -x; AFL_QUIET=1 "$cc" $cflags "${INC[@]}" -c "$TREE/$f" -o "$obj") >>"$blog" 2>&1 ||
      { cat "$blog" >&2; die 4 "compiling $TREE/$f with $cc failed (log above)"; }
    objcopy --redefine-sym free=harness_free "$obj" || die 4 "objcopy on $obj failed"
    objs+=("$obj")
  done
  for f in shim load fuzz-entry; do
    # shellcheck disable=SC2086
    (set -x; AFL_QUIET=1 "$cc" $cflags -DPO_KEXEC_TOOLS_VERSION="\"$V\"" -DPO_TARGET='"x86_64"' -DPO_SANITIZE=1 \
      -I"$HARNESS_DIR" "${INC[@]}" -I"$TREE/kexec" -c "$HARNESS_DIR/$f.c" -o "$o/$f.o") >>"$blog" 2>&1 ||
      { cat "$blog" >&2; die 4 "compiling oracle/kexec-tools/$f.c with $cc failed (log above)"; }
  done
  # shellcheck disable=SC2086
  (set -x; AFL_QUIET=1 "$cc" $ldflags -o "$OUT/$engine.tmp" "$o/fuzz-entry.o" "$o/load.o" "$o/shim.o" "${objs[@]}") >>"$blog" 2>&1 ||
    { cat "$blog" >&2; die 4 "linking the $engine fuzzer failed (log above)"; }
  rm -rf "$o"
  mv -f "$OUT/$engine.tmp" "$OUT/$engine"
  printf '%s\n' "$key" >"$OUT/$engine.key"
  log "built $OUT/$engine ($ccver)"
  printf '%s\n' "$OUT/$engine"
}

for e in $ENGINES; do build_engine "$e"; done
{
  printf '{\n'
  printf '  "oracle": "kexec-tools-fuzz",\n'
  printf '  "version": %s,\n' "$(json_str "$V")"
  printf '  "target": "x86_64",\n'
  printf '  "source_path": %s,\n' "$(json_str "$TREE")"
  printf '  "upstream_files": [%s],\n' "$(for f in "${UPSTREAM[@]}"; do json_str "$f"; printf ','; done | sed 's/,$//')"
  printf '  "inputs_sha256": %s,\n' "$(json_str "$(inputs_sha)")"
  printf '  "engines": [%s]\n' "$(for e in libfuzzer afl; do [[ -x "$OUT/$e" ]] && { json_str "$e"; printf ','; }; done | sed 's/,$//')"
  printf '}\n'
} >"$OUT/build.json"
