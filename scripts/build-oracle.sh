#!/usr/bin/env bash
# build-oracle.sh — build the live kexec-tools oracle (and its bench-load timing binary).
#
# Usage:
#   scripts/build-oracle.sh [--kexec-tools VERSION|all|PATH] [--target x86_64|ppc64|ppc64le|arm64|s390x|riscv64|all]
#                           [--sanitize] [--force]
#
#   --kexec-tools  an upstream version fetched by scripts/fetch-kexec-tools.sh (fetched on demand),
#                  "all" (every version already fetched), or a local tree/tarball PATH.
#                  Default: 2.0.25. Env KEXEC_TOOLS_SRC=PATH is the same as passing PATH.
#   --target       default all. x86_64 is built with the host gcc and runs natively; ppc64
#                  (ELFv1, big-endian) and ppc64le (ELFv2) are static cross builds run under
#                  qemu-ppc64-static / qemu-ppc64le-static; arm64, s390x and riscv64 the same with
#                  aarch64/s390x/riscv64-linux-gnu-gcc under qemu-aarch64/s390x/riscv64-static.
#                  riscv64 exists from kexec-tools 2.0.32 (all: skipped for older trees).
#   --sanitize     (x86_64 only) an ASan+UBSan build, in a separate directory (…-x86_64-sanitize).
#   --force        rebuild even when up to date.
#
# Output: $CACHE/build/kexec-tools-<version>-<target>[-sanitize]/{oracle,bench-load,build.json}
# A local tree's <version> is its label (scripts/fetch-kexec-tools.sh: 2.0.32+git-<hash>[-dirty],
# <version>+tar-<hash>, <version>+src-<hash>) and its build.json says "local": true.
# ($CACHE: $PURGATORY_ORACLE_CACHE or <repo>/.cache). The upstream files
# kexec/kexec-elf.c, kexec/kexec-elf-rel.c and kexec/arch/<arch>/kexec-elf-rel-<arch>.c are
# compiled unmodified (arm64 and riscv keep machine_verify_elf_rel/machine_apply_elf_rel in a file
# with the rest of their loader: kexec-arm64.c, kexec-elf-riscv.c; the lines from
# machine_verify_elf_rel to the end of machine_apply_elf_rel are copied verbatim, with a #line
# directive, into the build directory and compiled alone); oracle/kexec-tools/ holds our harness and shim. The one post-processing
# step is renaming the upstream objects' references to free() so that the shim can track the
# blocks kexec-tools frees itself (objcopy --redefine-sym free=harness_free).
# Rerunnable: skips a build whose inputs (sources, flags, compiler) have not changed.
# Each built oracle path is printed on stdout.
# Exit codes: 0 ok; 1 usage or missing tool (the message names the fix); 2 fetch failed; 4 build failed.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
CACHE="${PURGATORY_ORACLE_CACHE:-$REPO_DIR/.cache}"
HARNESS_DIR="$REPO_DIR/oracle/kexec-tools"
HARNESS_FILES=(harness.c shim.c shim.h load.c po.h bench-load.c compat/config.h)

log() { printf 'build-oracle: %s\n' "$*" >&2; }
die() { local c="$1"; shift; printf 'build-oracle: error: %s\n' "$*" >&2; exit "$c"; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 1; }

KT="${KEXEC_TOOLS_SRC:-2.0.25}"
TARGETS="all"
SANITIZE=0
FORCE=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --kexec-tools) [[ $# -ge 2 ]] || usage; KT="$2"; shift 2 ;;
    --kexec-tools=*) KT="${1#*=}"; shift ;;
    --target) [[ $# -ge 2 ]] || usage; TARGETS="$2"; shift 2 ;;
    --target=*) TARGETS="${1#*=}"; shift ;;
    --sanitize) SANITIZE=1; shift ;;
    --force) FORCE=1; shift ;;
    -h | --help) usage ;;
    *) log "unknown argument: $1"; usage ;;
  esac
done
ALL_TARGETS="x86_64 ppc64 ppc64le arm64 s390x riscv64"
EXPLICIT_TARGETS=1
[[ "$TARGETS" == "all" ]] && { TARGETS="$ALL_TARGETS"; EXPLICIT_TARGETS=0; }
TARGETS="${TARGETS//,/ }"
for t in $TARGETS; do
  case " $ALL_TARGETS " in *" $t "*) ;; *) die 1 "unknown target '$t' (${ALL_TARGETS// /, }, all)" ;; esac
done
if [[ $SANITIZE -eq 1 ]]; then
  [[ "$TARGETS" == *x86_64* ]] || die 1 "--sanitize is for the native x86_64 oracle only"
  TARGETS="x86_64"
fi
[[ "$(uname -m)" == "x86_64" ]] || log "warning: host is $(uname -m); the x86_64 target assumes an x86_64 host"

sha256() { sha256sum "$@" | awk '{print $1}'; }
json_str() {
  local s="$1"
  s="${s//\\/\\\\}"; s="${s//\"/\\\"}"; s="${s//$'\t'/\\t}"; s="${s//$'\n'/\\n}"
  printf '"%s"' "$s"
}
json_field() { # FILE KEY → string value of a top-level "KEY": "value"
  sed -n "s/^  \"$2\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p" "$1" | head -n1
}

# Resolve the source trees: sets TREES (paths) and LABELS (version labels) and METAS (json).
TREES=(); LABELS=(); METAS=()
add_version() {
  local v="$1" meta="$CACHE/src/kexec-tools-$1.json"
  if [[ ! -f "$meta" || ! -d "$CACHE/src/kexec-tools-$v" ]]; then
    log "kexec-tools $v is not fetched yet; fetching"
    "$SCRIPT_DIR/fetch-kexec-tools.sh" "$v" >/dev/null || die 2 "could not fetch kexec-tools $v; see above (or run: scripts/fetch-kexec-tools.sh $v)"
  fi
  TREES+=("$(json_field "$meta" path)"); LABELS+=("$v"); METAS+=("$meta")
}
if [[ "$KT" == "all" ]]; then
  shopt -s nullglob
  for meta in "$CACHE"/src/kexec-tools-*.json; do
    v="$(basename "$meta" .json)"; v="${v#kexec-tools-}"
    [[ -d "$CACHE/src/kexec-tools-$v" ]] && add_version "$v"
  done
  shopt -u nullglob
  [[ ${#TREES[@]} -gt 0 ]] || die 1 "no kexec-tools version fetched yet; run: scripts/fetch-kexec-tools.sh all"
elif [[ "$KT" =~ ^[0-9]+(\.[0-9]+)+$ ]]; then
  add_version "$KT"
else
  tree="$("$SCRIPT_DIR/fetch-kexec-tools.sh" --kexec-tools-src "$KT" | tail -n1)" || die 2 "cannot use $KT as a kexec-tools source"
  meta="$(grep -l "\"path\": $(json_str "$tree")" "$CACHE"/src/local/*.json | xargs ls -t | head -n1)"
  TREES+=("$tree"); LABELS+=("$(json_field "$meta" version)"); METAS+=("$meta")
fi

harness_sha() {
  local f
  for f in "${HARNESS_FILES[@]}"; do printf '%s %s\n' "$(sha256 "$HARNESS_DIR/$f")" "$f"; done | sha256
}
harness_rev() {
  local rev dirty=""
  rev="$(git -C "$REPO_DIR" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
  if [[ "$rev" != unknown ]] && [[ -n "$(git -C "$REPO_DIR" status --porcelain -- oracle/kexec-tools 2>/dev/null)" ]]; then dirty="+dirty"; fi
  printf '%s%s' "$rev" "$dirty"
}

need_tool() { # TOOL PACKAGE
  command -v "$1" >/dev/null 2>&1 || die 1 "'$1' not found; run: scripts/setup-toolchains.sh (installs $2)"
}

build_one() { # TREE LABEL META TARGET
  local tree="$1" label="$2" meta="$3" target="$4"
  local arch cc objcopy emulator ldflags cflags
  cflags="-O2 -g -fno-strict-aliasing -Wall"
  case "$target" in
    x86_64) arch=x86_64; cc=gcc; objcopy=objcopy; emulator=""; ldflags="" ;;
    ppc64) arch=ppc64; cc=powerpc64-linux-gnu-gcc; objcopy=powerpc64-linux-gnu-objcopy; emulator=qemu-ppc64-static; ldflags="-static" ;;
    ppc64le) arch=ppc64; cc=powerpc64le-linux-gnu-gcc; objcopy=powerpc64le-linux-gnu-objcopy; emulator=qemu-ppc64le-static; ldflags="-static" ;;
    arm64) arch=arm64; cc=aarch64-linux-gnu-gcc; objcopy=aarch64-linux-gnu-objcopy; emulator=qemu-aarch64-static; ldflags="-static" ;;
    s390x) arch=s390; cc=s390x-linux-gnu-gcc; objcopy=s390x-linux-gnu-objcopy; emulator=qemu-s390x-static; ldflags="-static" ;;
    riscv64) arch=riscv; cc=riscv64-linux-gnu-gcc; objcopy=riscv64-linux-gnu-objcopy; emulator=qemu-riscv64-static; ldflags="-static" ;;
  esac
  # The file holding machine_verify_elf_rel/machine_apply_elf_rel; "" when this tree has no such arch.
  local relfile="kexec/arch/$arch/kexec-elf-rel-$arch.c"
  case "$target" in
    arm64) relfile=kexec/arch/arm64/kexec-arm64.c ;;
    riscv64) relfile=kexec/arch/riscv/kexec-elf-riscv.c ;;
  esac
  if [[ ! -f "$tree/$relfile" ]]; then
    [[ $EXPLICIT_TARGETS -eq 1 ]] && die 1 "$tree has no $relfile: kexec-tools $label has no $target loader"
    log "skipping $target for kexec-tools $label: no $relfile"
    return 0
  fi
  local suffix="$target"
  if [[ $SANITIZE -eq 1 ]]; then
    suffix="$target-sanitize"
    cflags="-O1 -g -fno-strict-aliasing -Wall -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=address"
    ldflags="-fsanitize=address,undefined"
  fi
  # Build-path independence: __FILE__ strings (assert messages) otherwise embed the cache and
  # checkout paths, and their length moves the static binary's data end, hence the heap start under
  # qemu-user, hence host_buf, which ppc64 REL32 bytes depend on: stored references must not
  # depend on where the cache or the checkout lives.
  cflags="$cflags -ffile-prefix-map=$tree=kexec-tools-$label -ffile-prefix-map=$HARNESS_DIR=oracle/kexec-tools"
  need_tool "$cc" "the cross compiler for $target"
  need_tool "$objcopy" "binutils for $target"
  [[ -z "$emulator" ]] || need_tool "$emulator" qemu-user-static
  local out="$CACHE/build/kexec-tools-$label-$suffix"
  local tree_sha; tree_sha="$(json_field "$meta" tree_sha256)"
  local ccver; ccver="$("$cc" --version | head -n1)"
  local key; key="$(printf '%s\n' "$tree_sha" "$(harness_sha)" "$ccver" "$cflags" "$ldflags" "$target" "$tree" | sha256)"
  if [[ $FORCE -eq 0 && -x "$out/oracle" && -x "$out/bench-load" && -f "$out/build.json" ]] &&
    grep -q "\"build_key\": \"$key\"" "$out/build.json"; then
    log "up to date: $out"
    printf '%s\n' "$out/oracle"
    return 0
  fi
  local t0; t0=$(date +%s.%N)
  rm -rf "$out.tmp"; mkdir -p "$out.tmp/obj"
  local o="$out.tmp/obj" blog="$out.tmp/build.log"
  local up_inc=(-I"$HARNESS_DIR/compat" -I"$tree/include" -I"$tree/util_lib/include" -I"$tree/kexec/arch/$arch/include")
  local upstream=(kexec/kexec-elf.c kexec/kexec-elf-rel.c "$relfile")
  local f objs=()
  : >"$blog"
  for f in "${upstream[@]}"; do
    local obj="$o/up-$(basename "$f" .c).o" src="$tree/$f" inc=("${up_inc[@]}")
    if [[ "$f" == "$relfile" && "$relfile" != */kexec-elf-rel-*.c ]]; then
      src="$o/up-$(basename "$f" .c)-rel.c"
      bash "$SCRIPT_DIR/extract-rel-functions.sh" "$tree" "$f" >"$src" || die 4 "no machine_verify_elf_rel..machine_apply_elf_rel in $tree/$f"
      inc+=(-I"$tree/kexec")
    fi
    # shellcheck disable=SC2086
    if ! (set -x; "$cc" $cflags "${inc[@]}" -c "$src" -o "$obj") >>"$blog" 2>&1; then
      cat "$blog" >&2; die 4 "compiling $tree/$f for $target failed (log above)"
    fi
    "$objcopy" --redefine-sym free=harness_free "$obj" || die 4 "objcopy on $obj failed"
    objs+=("$obj")
  done
  local defs=(-DPO_KEXEC_TOOLS_VERSION="\"$label\"" -DPO_TARGET="\"$target\"" -DPO_SANITIZE="$SANITIZE")
  for f in shim load harness bench-load; do
    # shellcheck disable=SC2086
    if ! (set -x; "$cc" $cflags -Wextra -Wno-unused-parameter "${defs[@]}" -I"$HARNESS_DIR" "${up_inc[@]}" -I"$tree/kexec" \
      -c "$HARNESS_DIR/$f.c" -o "$o/$f.o") >>"$blog" 2>&1; then
      cat "$blog" >&2; die 4 "compiling oracle/kexec-tools/$f.c against $tree for $target failed (log above)"
    fi
  done
  # shellcheck disable=SC2086
  (set -x; "$cc" $ldflags -o "$out.tmp/oracle" "$o/harness.o" "$o/load.o" "$o/shim.o" "${objs[@]}") >>"$blog" 2>&1 ||
    { cat "$blog" >&2; die 4 "linking the $target oracle failed (log above)"; }
  # shellcheck disable=SC2086
  (set -x; "$cc" $ldflags -o "$out.tmp/bench-load" "$o/bench-load.o" "$o/load.o" "$o/shim.o" "${objs[@]}") >>"$blog" 2>&1 ||
    { cat "$blog" >&2; die 4 "linking the $target bench-load failed (log above)"; }
  local run=("$out.tmp/oracle")
  [[ -z "$emulator" ]] || run=("$emulator" "$out.tmp/oracle")
  local info
  info="$("${run[@]}" --info)" || die 4 "the freshly built $target oracle does not run: ${run[*]} --info"
  local warnings; warnings="$(grep -c 'warning:' "$blog" || true)"
  local t1; t1=$(date +%s.%N)
  {
    printf '{\n'
    printf '  "oracle": "kexec-tools",\n'
    printf '  "version": %s,\n' "$(json_str "$label")"
    printf '  "target": %s,\n' "$(json_str "$target")"
    printf '  "sanitize": %s,\n' "$([[ $SANITIZE -eq 1 ]] && echo true || echo false)"
    printf '  "source_path": %s,\n' "$(json_str "$tree")"
    printf '  "source_meta": %s,\n' "$(json_str "$meta")"
    printf '  "source_sha256": %s,\n' "$(json_str "$tree_sha")"
    # local: built from a tree or tarball named by path (not a released Debian version); listing,
    # pruning and plain validate/gate tell the two apart by this field.
    printf '  "local": %s,\n' "$([[ "$(json_field "$meta" kind)" == local ]] && echo true || echo false)"
    if [[ "$(json_field "$meta" kind)" == local ]]; then
      printf '  "source_kind": %s,\n' "$(json_str "$(json_field "$meta" source_kind)")"
      printf '  "origin": %s,\n' "$(json_str "$(json_field "$meta" origin)")"
      printf '  "upstream_version": %s,\n' "$(json_str "$(json_field "$meta" upstream_version)")"
      printf '  "git_commit": %s,\n' "$(c="$(json_field "$meta" git_commit)"; if [[ -n "$c" ]]; then json_str "$c"; else echo null; fi)"
    fi
    printf '  "upstream_files": [%s],\n' "$(for f in "${upstream[@]}"; do json_str "$f"; printf ','; done | sed 's/,$//')"
    printf '  "compiler": %s,\n' "$(json_str "$cc")"
    printf '  "compiler_version": %s,\n' "$(json_str "$ccver")"
    printf '  "cflags": %s,\n' "$(json_str "$cflags")"
    printf '  "ldflags": %s,\n' "$(json_str "$ldflags")"
    printf '  "emulator": %s,\n' "$(if [[ -n "$emulator" ]]; then json_str "$emulator"; else echo null; fi)"
    printf '  "emulator_version": %s,\n' "$(if [[ -n "$emulator" ]]; then json_str "$("$emulator" --version | head -n1)"; else echo null; fi)"
    printf '  "harness_revision": %s,\n' "$(json_str "$(harness_rev)")"
    printf '  "harness_sha256": %s,\n' "$(json_str "$(harness_sha)")"
    printf '  "build_key": %s,\n' "$(json_str "$key")"
    printf '  "compiler_warnings": %s,\n' "$warnings"
    printf '  "build_seconds": %s,\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')"
    printf '  "built_at": %s,\n' "$(json_str "$(date -u +%FT%TZ)")"
    printf '  "info": %s\n' "$info"
    printf '}\n'
  } >"$out.tmp/build.json"
  rm -rf "$out"
  mv "$out.tmp" "$out"
  log "built $out ($(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s)"
  printf '%s\n' "$out/oracle"
}

for i in "${!TREES[@]}"; do
  for t in $TARGETS; do
    build_one "${TREES[$i]}" "${LABELS[$i]}" "${METAS[$i]}" "$t"
  done
done
