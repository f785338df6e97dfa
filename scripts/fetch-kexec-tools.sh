#!/usr/bin/env bash
# fetch-kexec-tools.sh — fetch kexec-tools sources for the live oracle.
#
# Usage:
#   scripts/fetch-kexec-tools.sh VERSION|all        Debian source package, unpacked with Debian's patches
#   scripts/fetch-kexec-tools.sh --kexec-tools-src PATH   a local checkout (directory) or tarball
#   KEXEC_TOOLS_SRC=PATH scripts/fetch-kexec-tools.sh     same as --kexec-tools-src
#
# VERSION is an upstream version; each comes from one Debian suite:
#   2.0.20 bullseye   2.0.25 bookworm   2.0.29 trixie   2.0.32 sid
# The tree goes to $CACHE/src/kexec-tools-<version>/ ($CACHE: $PURGATORY_ORACLE_CACHE or <repo>/.cache),
# and $CACHE/src/kexec-tools-<version>.json records what was fetched (package version, .dsc sha256,
# sha256 of the files the oracle compiles). The last stdout line of each fetch is the tree's path.
# A local checkout is used in place; a local tarball is unpacked under $CACHE/src/local/.
# Exit codes: 0 ok; 1 usage; 2 network/mirror; 3 version not in its suite; 4 verification/unpack.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
CACHE="${PURGATORY_ORACLE_CACHE:-$REPO_DIR/.cache}"
SRC_DIR="$CACHE/src"

# version → suite (keep in step with src/oracle/registry.ts KEXEC_TOOLS_VERSIONS)
declare -A SUITE_OF=([2.0.20]=bullseye [2.0.25]=bookworm [2.0.29]=trixie [2.0.32]=sid)
ALL_VERSIONS=(2.0.20 2.0.25 2.0.29 2.0.32)

# The files the oracle compiles or includes; their hash identifies a source tree.
ORACLE_FILES=(
  kexec/kexec-elf.c kexec/kexec-elf-rel.c kexec/kexec-elf.h kexec/kexec.h kexec/crashdump.h
  kexec/arch/x86_64/kexec-elf-rel-x86_64.c kexec/arch/ppc64/kexec-elf-rel-ppc64.c
  kexec/arch/ppc64/kexec-ppc64.h include/elf.h include/boot/elf_boot.h include/unused.h
)

log() { printf 'fetch-kexec-tools: %s\n' "$*" >&2; }
die() { local c="$1"; shift; printf 'fetch-kexec-tools: error: %s\n' "$*" >&2; exit "$c"; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 1; }

json_str() { # minimal JSON string escaping
  local s="$1"
  s="${s//\\/\\\\}"; s="${s//\"/\\\"}"; s="${s//$'\t'/\\t}"; s="${s//$'\n'/\\n}"
  printf '"%s"' "$s"
}

tree_sha() { # sha256 over the oracle's files (path + content), in a fixed order
  local dir="$1" f
  for f in "${ORACLE_FILES[@]}"; do
    if [[ -f "$dir/$f" ]]; then printf '%s %s\n' "$(sha256sum "$dir/$f" | awk '{print $1}')" "$f"; fi
  done | sha256sum | awk '{print $1}'
}

check_tree() {
  local dir="$1" f
  for f in kexec/kexec-elf.c kexec/kexec-elf-rel.c kexec/arch/x86_64/kexec-elf-rel-x86_64.c kexec/arch/ppc64/kexec-elf-rel-ppc64.c; do
    [[ -f "$dir/$f" ]] || die 4 "$dir does not look like a kexec-tools tree: $f missing"
  done
}

upstream_version_of() { # from configure.ac's AC_INIT: AC_INIT(kexec-tools, 2.0.25) or AC_INIT([kexec-tools],[2.0.32])
  sed -n 's/^AC_INIT(\[\{0,1\}kexec-tools\]\{0,1\}, *\[\{0,1\}\([^],)]*\).*/\1/p' "$1/configure.ac" 2>/dev/null | head -n1 | tr -d '[:space:]'
}

fetch_debian() {
  local version="$1"
  local suite="${SUITE_OF[$version]:-}"
  [[ -n "$suite" ]] || die 1 "unknown version '$version' (known: ${ALL_VERSIONS[*]}; or use --kexec-tools-src PATH)"
  local out="$SRC_DIR/kexec-tools-$version" meta="$SRC_DIR/kexec-tools-$version.json"
  if [[ -d "$out" && -f "$meta" ]] && grep -q "\"tree_sha256\": \"$(tree_sha "$out")\"" "$meta"; then
    if ! grep -q '"variant": "upstream-tarball"' "$meta" || [[ -z "$(find "$meta" -mmin +1440)" ]]; then
      log "$version already fetched ($out)"
      printf '%s\n' "$out"
      return 0
    fi
    log "$version was fetched without Debian's patches more than a day ago; trying the full source again"
  fi
  local cand
  cand="$("$SCRIPT_DIR/debian-apt.sh" showsrc "$suite" kexec-tools)" || die $? "cannot read the kexec-tools source version of $suite (see above)"
  local up="${cand#*:}"; up="${up%-*}"
  if [[ "$up" != "$version" ]]; then
    die 3 "Debian $suite now has kexec-tools $cand, not $version; pass another version or --kexec-tools-src PATH"
  fi
  mkdir -p "$SRC_DIR"
  local tree rc=0 variant="debian" note="" dsc="" dsc_sha=""
  tree="$("$SCRIPT_DIR/debian-apt.sh" source "$suite" kexec-tools "$SRC_DIR" | tail -n1)" || rc=$?
  local srclog; srclog="$("$SCRIPT_DIR/debian-apt.sh" dir "$suite" "$(dpkg --print-architecture 2>/dev/null || echo amd64)")/source.log"
  if [[ $rc -eq 2 ]] && [[ -f "$srclog" ]] && grep -qE '^Err:.*\(tar\)' "$srclog"; then
    die 2 "the mirror does not serve kexec-tools $cand from $suite at all (its upstream tarball fails too; see above)"
  fi
  if [[ $rc -eq 2 ]]; then
    # The mirror would not serve the whole source package (e.g. the Debian tarball answered 404
    # mid-sync). Fall back to the upstream tarball alone, still checked against the signed Sources
    # index, and say so: Debian's patches never touched the files the oracle compiles in the
    # versions we could inspect (see oracle/kexec-tools/NOTES.md), but this tree lacks them.
    log "the full Debian source of $cand is not available; falling back to its upstream tarball (no Debian patches)"
    rc=0
    tree="$("$SCRIPT_DIR/debian-apt.sh" source --tar-only "$suite" kexec-tools "$SRC_DIR" | tail -n1)" || rc=$?
    [[ $rc -eq 0 ]] || die "$rc" "fetching kexec-tools $version from $suite failed, even its upstream tarball (see above)"
    rm -rf "$out"
    mv "$tree" "$out"
    variant="upstream-tarball"
    note="Debian source package incomplete on the mirror; upstream tarball only, Debian patches not applied"
    local orig="$SRC_DIR/kexec-tools_$version.orig.tar.xz"
    [[ -f "$orig" ]] || orig="$(find "$SRC_DIR" -maxdepth 1 -name "kexec-tools_$version.orig.tar.*" | head -n1)"
    dsc="$(basename "$orig")"
    dsc_sha="$(sha256sum "$orig" | awk '{print $1}')"
  elif [[ $rc -ne 0 ]]; then
    die "$rc" "fetching kexec-tools $version from $suite failed (see above)"
  else
    [[ "$tree" == "$out" ]] || die 4 "unexpected tree path $tree (wanted $out)"
    dsc="$SRC_DIR/kexec-tools_${cand#*:}.dsc"
    [[ -f "$dsc" ]] || die 4 "missing $dsc"
    dsc_sha="$(sha256sum "$dsc" | awk '{print $1}')"
    dsc="$(basename "$dsc")"
  fi
  check_tree "$out"
  local patches="null"
  if [[ -f "$out/debian/patches/series" ]]; then
    patches="[$(grep -vE '^\s*(#|$)' "$out/debian/patches/series" | while read -r p _; do json_str "$p"; printf ','; done | sed 's/,$//')]"
  fi
  local tmp="$meta.tmp"
  {
    printf '{\n'
    printf '  "kind": "debian",\n'
    printf '  "version": %s,\n' "$(json_str "$version")"
    printf '  "suite": %s,\n' "$(json_str "$suite")"
    printf '  "package_version": %s,\n' "$(json_str "$cand")"
    printf '  "variant": %s,\n' "$(json_str "$variant")"
    [[ -z "$note" ]] || printf '  "note": %s,\n' "$(json_str "$note")"
    if [[ "$variant" == "debian" ]]; then
      printf '  "dsc": %s,\n' "$(json_str "$dsc")"
      printf '  "dsc_sha256": %s,\n' "$(json_str "$dsc_sha")"
    else
      printf '  "orig_tarball": %s,\n' "$(json_str "$dsc")"
      printf '  "orig_tarball_sha256": %s,\n' "$(json_str "$dsc_sha")"
    fi
    printf '  "path": %s,\n' "$(json_str "$out")"
    printf '  "tree_sha256": %s,\n' "$(json_str "$(tree_sha "$out")")"
    printf '  "debian_patches": %s,\n' "$patches"
    printf '  "fetched_at": %s\n' "$(json_str "$(date -u +%FT%TZ)")"
    printf '}\n'
  } >"$tmp"
  mv "$tmp" "$meta"
  log "kexec-tools $cand ($suite) → $out"
  printf '%s\n' "$out"
}

# A local tree's version label, never equal to a released version (it always has a +suffix):
#   a git checkout       <version>+git-<short hash>[-dirty]   (dirty: tracked files differ from HEAD)
#   a tarball            <version>+tar-<hash of the oracle's files, 12 hex>
#   any other directory  <version>+src-<hash of the oracle's files, 12 hex>
# <version>: configure.ac's AC_INIT, else the newest tag `git describe` finds (v2.0.32 → 2.0.32),
# else the tarball's or directory's name (kexec-tools-2.0.32.tar.xz → 2.0.32), else "unknown".
version_from_name() { # NAME → x.y.z found in it, or nothing
  printf '%s\n' "$1" | grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)+' | head -n1 || true
}

fetch_local() {
  local path="$1"
  [[ -e "$path" ]] || die 1 "no such file or directory: $path"
  local dir kind origin
  origin="$(cd "$(dirname "$path")" && pwd)/$(basename "$path")"
  if [[ -d "$path" ]]; then
    dir="$(cd "$path" && pwd)"
    kind=src
    if git -C "$dir" rev-parse --is-inside-work-tree >/dev/null 2>&1 && git -C "$dir" rev-parse --verify -q HEAD >/dev/null 2>&1; then kind=git; fi
  else
    local sha; sha="$(sha256sum "$path" | awk '{print $1}')"
    local into="$SRC_DIR/local/${sha:0:16}"
    if [[ ! -d "$into/tree" ]]; then
      rm -rf "$into.tmp"; mkdir -p "$into.tmp"
      tar -xf "$path" -C "$into.tmp" || { rm -rf "$into.tmp"; die 4 "cannot unpack $path"; }
      local top; top="$(find "$into.tmp" -mindepth 1 -maxdepth 1 -type d | head -n1)"
      [[ -n "$top" ]] || { rm -rf "$into.tmp"; die 4 "$path has no top directory"; }
      mkdir -p "$into"; mv "$top" "$into/tree"; rm -rf "$into.tmp"
    fi
    dir="$into/tree"
    kind=tar
  fi
  check_tree "$dir"
  local tsha; tsha="$(tree_sha "$dir")"
  local up commit="" dirty=false describe=""
  up="$(upstream_version_of "$dir")"
  if [[ "$kind" == git ]]; then
    commit="$(git -C "$dir" rev-parse HEAD)"
    describe="$(git -C "$dir" describe --tags --always --dirty 2>/dev/null || true)"
    # Tracked files under the tree only, as git describe --dirty: a build directory or editor backup does not count.
    git -C "$dir" diff --quiet HEAD -- . 2>/dev/null || dirty=true
    if [[ -z "$up" ]]; then up="$(git -C "$dir" describe --tags --abbrev=0 2>/dev/null || true)"; up="$(version_from_name "$up")"; fi
  fi
  [[ -n "$up" ]] || up="$(version_from_name "$(basename "$path")")"
  [[ -n "$up" ]] || up="unknown"
  local label
  case "$kind" in
    git) label="$up+git-$(git -C "$dir" rev-parse --short HEAD)"; [[ "$dirty" == false ]] || label="$label-dirty" ;;
    *) label="$up+$kind-${tsha:0:12}" ;;
  esac
  mkdir -p "$SRC_DIR/local"
  {
    printf '{\n'
    printf '  "kind": "local",\n'
    printf '  "version": %s,\n' "$(json_str "$label")"
    printf '  "upstream_version": %s,\n' "$(json_str "$up")"
    printf '  "source_kind": %s,\n' "$(json_str "$kind")"
    printf '  "origin": %s,\n' "$(json_str "$origin")"
    printf '  "path": %s,\n' "$(json_str "$dir")"
    printf '  "tree_sha256": %s,\n' "$(json_str "$tsha")"
    printf '  "git_commit": %s,\n' "$(if [[ -n "$commit" ]]; then json_str "$commit"; else echo null; fi)"
    printf '  "git_describe": %s,\n' "$(if [[ -n "$describe" ]]; then json_str "$describe"; else echo null; fi)"
    printf '  "git_dirty": %s,\n' "$([[ "$kind" == git ]] && echo "$dirty" || echo null)"
    printf '  "fetched_at": %s\n' "$(json_str "$(date -u +%FT%TZ)")"
    printf '}\n'
  } >"$SRC_DIR/local/$label.json"
  log "local kexec-tools $up ($label) at $dir"
  printf '%s\n' "$dir"
}

LOCAL="${KEXEC_TOOLS_SRC:-}"
ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --kexec-tools-src) [[ $# -ge 2 ]] || usage; LOCAL="$2"; shift 2 ;;
    --kexec-tools-src=*) LOCAL="${1#*=}"; shift ;;
    -h | --help) usage ;;
    *) ARGS+=("$1"); shift ;;
  esac
done

if [[ -n "$LOCAL" ]]; then
  [[ ${#ARGS[@]} -eq 0 ]] || die 1 "give either a VERSION or a local source, not both"
  fetch_local "$LOCAL"
  exit 0
fi
[[ ${#ARGS[@]} -eq 1 ]] || usage
if [[ "${ARGS[0]}" == "all" ]]; then
  failed=()
  for v in "${ALL_VERSIONS[@]}"; do
    (fetch_debian "$v") || failed+=("$v")
  done
  if [[ ${#failed[@]} -ne 0 ]]; then die 2 "could not fetch: ${failed[*]}"; fi
else
  fetch_debian "${ARGS[0]}"
fi
