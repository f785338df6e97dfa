#!/usr/bin/env bash
# build-fuzz-harness.sh — coverage-guided fuzzing binaries for the native x86_64 kexec-tools loader.
#
# Usage:
#   scripts/build-fuzz-harness.sh [--kexec-tools VERSION] [--engine libfuzzer|afl|all|env] [--force]
#
#   --kexec-tools  a version fetched by scripts/fetch-kexec-tools.sh (default 2.0.25).
#   --engine       libfuzzer: clang -fsanitize=fuzzer,address,undefined (needs clang and
#                  libclang-rt-<N>-dev); afl: afl-clang-fast with the same libFuzzer-style entry
#                  (needs afl++). all (default): both; an engine whose tools are missing is an error.
#                  env: the OSS-Fuzz / ClusterFuzzLite build (.clusterfuzzlite/build.sh): compiles
#                  with $CC $CFLAGS, links with $CXX $CXXFLAGS $LIB_FUZZING_ENGINE, and writes
#                  $OUT/kexec_tools_elf_rel_fuzzer (always rebuilt; nothing written to the cache).
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
  case "$e" in libfuzzer | afl | env) ;; *) die 1 "unknown engine '$e' (libfuzzer, afl, all, env)" ;; esac
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

BUILD="$CACHE/build/kexec-tools-$V-x86_64-fuzz"
UPSTREAM=(kexec/kexec-elf.c kexec/kexec-elf-rel.c kexec/arch/x86_64/kexec-elf-rel-x86_64.c)
INC=(-I"$HARNESS_DIR/compat" -I"$TREE/include" -I"$TREE/util_lib/include" -I"$TREE/kexec/arch/x86_64/include")
inputs_sha() {
  { for f in "${INPUT_FILES[@]}"; do printf '%s %s\n' "$(sha256 "$HARNESS_DIR/$f")" "$f"; done
    for f in "${UPSTREAM[@]}"; do printf '%s %s\n' "$(sha256 "$TREE/$f")" "$f"; done; } | sha256
}

build_engine() { # ENGINE
  local engine="$1" cc cflags ldflags ld="" dest
  case "$engine" in
    env)
      local v
      for v in CC CXX OUT LIB_FUZZING_ENGINE; do [[ -n "${!v:-}" ]] || die 1 "--engine env needs \$$v (OSS-Fuzz/ClusterFuzzLite build variables)"; done
      cc="$CC"; ld="$CXX"
      command -v "${cc%% *}" >/dev/null || die 1 "\$CC ($cc) not found"
      # kexec-tools is built with -fno-strict-aliasing and stores 32-bit values at unaligned offsets;
      # unsigned wrap-around is defined C (OSS-Fuzz's UBSan build enables that check); every check
      # of the undefined group ends the input, as in the libfuzzer engine.
      cflags="${CFLAGS:-} -fno-strict-aliasing -fno-sanitize=alignment,unsigned-integer-overflow -fno-sanitize-recover=undefined"
      ldflags="${CXXFLAGS:-} $LIB_FUZZING_ENGINE" ;;
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
  if [[ "$engine" == env ]]; then
    dest="$OUT/kexec_tools_elf_rel_fuzzer"
  else
    dest="$BUILD/$engine"
  fi
  if [[ $FORCE -eq 0 && "$engine" != env && -x "$dest" && -f "$dest.key" ]] && [[ "$(cat "$dest.key")" == "$key" ]]; then
    log "up to date: $dest"
    printf '%s\n' "$dest"
    return 0
  fi
  [[ "$engine" == env ]] || ld="$cc"
  mkdir -p "$(dirname "$dest")"
  local o; o="$(mktemp -d)"
  local blog="$o/build.log" objs=() f
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
  (set -x; AFL_QUIET=1 "$ld" $ldflags -o "$dest.tmp" "$o/fuzz-entry.o" "$o/load.o" "$o/shim.o" "${objs[@]}") >>"$blog" 2>&1 ||
    { cat "$blog" >&2; die 4 "linking the $engine fuzzer failed (log above)"; }
  mv -f "$dest.tmp" "$dest"
  if [[ "$engine" != env ]]; then
    mv -f "$blog" "$dest.build.log"
    printf '%s\n' "$key" >"$dest.key"
  fi
  rm -rf "$o"
  log "built $dest ($ccver)"
  printf '%s\n' "$dest"
}

for e in $ENGINES; do build_engine "$e"; done
[[ "$ENGINES" == env ]] && exit 0
{
  printf '{\n'
  printf '  "oracle": "kexec-tools-fuzz",\n'
  printf '  "version": %s,\n' "$(json_str "$V")"
  printf '  "target": "x86_64",\n'
  printf '  "source_path": %s,\n' "$(json_str "$TREE")"
  printf '  "upstream_files": [%s],\n' "$(for f in "${UPSTREAM[@]}"; do json_str "$f"; printf ','; done | sed 's/,$//')"
  printf '  "inputs_sha256": %s,\n' "$(json_str "$(inputs_sha)")"
  printf '  "engines": [%s]\n' "$(for e in libfuzzer afl; do [[ -x "$BUILD/$e" ]] && { json_str "$e"; printf ','; }; done | sed 's/,$//')"
  printf '}\n'
} >"$BUILD/build.json"
