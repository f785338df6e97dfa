#!/usr/bin/env bash
# fetch-kernel.sh — fetch the few Linux source files the kernel oracle compiles or cites.
#
# Usage:
#   scripts/fetch-kernel.sh VERSION|all [--set amd64|ports] [--kernel-src PATH] [--refresh]
#     VERSION: 5.10 (bullseye) | 6.1 (bookworm) | 6.12 (trixie)
#     --set amd64 (default): the generic loader, x86_64's hook and the powerpc files, into
#                       $CACHE/kernel/src/VERSION
#     --set ports: the generic loader, s390's and riscv's hooks, their purgatories and Debian's
#                       s390x/riscv64 configs, into $CACHE/kernel/src/VERSION-ports. It takes the
#                       package version the amd64 set holds when the mirror still serves it, so
#                       every oracle of one VERSION compiles the same kexec_file.c.
#     --kernel-src PATH (or env KERNEL_SRC): copy the files from a user's checkout instead of
#                       Debian's source package (one VERSION only; recorded as such)
#     --refresh: ask the mirror again even if the cache already holds this version
#
# What it does, per version: `debian-apt.sh source --download-only SUITE linux=<newest served>`
# (the suite's main component through the private APT of scripts/debian-apt.sh; apt checks every
# file against the signed Sources index), extracts only the files listed below from the orig tarball, applies
# those Debian patches (debian/patches/series) that touch them, records provenance in source.json
# and deletes the tarballs. Nothing is unpacked beyond these files.
#
# Output: $CACHE/kernel/src/VERSION/{linux/<path>..., debian/..., source.json}
#   CACHE = $PURGATORY_ORACLE_CACHE or <repo>/.cache
# A rerun with the files present does no network access (use --refresh to re-check the mirror).
# Exit codes: 0 ok; 1 usage/local error; 2 network/mirror failure; 3 not found; 4 verify/extract failure.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
CACHE="${PURGATORY_ORACLE_CACHE:-$REPO_DIR/.cache}"
DEBIAN_APT="$SCRIPT_DIR/debian-apt.sh"
ARCH=amd64

# Files the harness compiles from (REQUIRED) and files NOTES.md cites (OPTIONAL: absent in some
# versions, e.g. include/linux/align.h appeared in 5.11).
REQUIRED=(
  kernel/kexec_file.c
  arch/x86/kernel/machine_kexec_64.c
  include/linux/kexec.h
)
OPTIONAL=(
  Makefile
  kernel/kexec_internal.h
  kernel/kexec_core.c
  arch/x86/include/asm/kexec.h
  arch/x86/kernel/kexec-bzimage64.c
  arch/x86/purgatory/Makefile
  arch/x86/purgatory/kexec-purgatory.S
  arch/powerpc/Kconfig
  arch/powerpc/kexec/Makefile
  arch/powerpc/kexec/file_load_64.c
  arch/powerpc/kexec/elf_64.c
  arch/powerpc/include/asm/kexec.h
  arch/powerpc/purgatory/Makefile
  arch/powerpc/purgatory/trampoline_64.S
  include/linux/align.h
  include/linux/kernel.h
  include/linux/minmax.h
  include/uapi/linux/const.h
  include/uapi/linux/kernel.h
  mm/vmalloc.c
)
# The ports set (s390x, riscv64): arch/riscv has no kexec_file in 5.10, elf_kexec.c in 6.1,
# machine_kexec_file.c + kexec_elf.c in 6.12, hence OPTIONAL; directories are extracted whole.
PORTS_REQUIRED=(
  kernel/kexec_file.c
  include/linux/kexec.h
  arch/s390/kernel/machine_kexec_file.c
  arch/s390/kernel/machine_kexec_reloc.c
)
PORTS_OPTIONAL=(
  Makefile
  kernel/kexec_internal.h
  arch/s390/include/asm/kexec.h
  arch/s390/include/asm/purgatory.h
  arch/s390/purgatory
  arch/riscv/kernel/elf_kexec.c
  arch/riscv/kernel/kexec_elf.c
  arch/riscv/kernel/machine_kexec_file.c
  arch/riscv/include/asm/kexec.h
  arch/riscv/purgatory
  arch/riscv/Kconfig
  arch/riscv/Makefile
  arch/s390/Kconfig
  include/linux/align.h
  mm/vmalloc.c
)
# From debian.tar.xz: the patch series, and the configs that say which kernels enable KEXEC_FILE.
DEBIAN_FILES=(
  debian/patches/series
  debian/config/amd64/config
  debian/config/kernelarch-powerpc/config
  debian/config/kernelarch-powerpc/config-arch-64
  debian/config/ppc64el/config
  debian/config/config
)
PORTS_DEBIAN_FILES=(
  debian/patches/series
  debian/config/config
  debian/config/s390x
  debian/config/riscv64
)

log() { printf 'fetch-kernel: %s\n' "$*" >&2; }
die() { local code="$1"; shift; printf 'fetch-kernel: error: %s\n' "$*" >&2; exit "$code"; }

suite_of() {
  case "$1" in
    5.10) echo bullseye ;;
    6.1) echo bookworm ;;
    6.12) echo trixie ;;
    *) die 1 "unknown kernel version '$1' (expected 5.10, 6.1, 6.12 or all)" ;;
  esac
}

json() { # json KEY=VALUE... (values are strings; KEY:=RAW for raw JSON) → stdout
  node -e '
    const o = {};
    for (const a of process.argv.slice(1)) {
      const raw = a.indexOf(":=");
      const eq = a.indexOf("=");
      if (raw > 0 && raw < eq) o[a.slice(0, raw)] = JSON.parse(a.slice(raw + 2));
      else o[a.slice(0, eq)] = a.slice(eq + 1);
    }
    process.stdout.write(JSON.stringify(o, null, 2) + "\n");
  ' -- "$@"
}

json_list() { node -e 'process.stdout.write(JSON.stringify(process.argv.slice(1)))' -- "$@"; }

have_all_required() {
  local dir="$1" f
  [[ -f "$dir/source.json" ]] || return 1
  for f in "${REQUIRED[@]}"; do [[ -f "$dir/linux/$f" ]] || return 1; done
}

# Download the newest listed version whose files the mirror actually serves: the index can name a
# version the pool does not hold (seen: trixie listing 6.12.117-1 and 6.12.113-1, pool answering
# 404). A 404 is tried once; any other failure gets debian-apt.sh's own retries.
# Sets PKGVER and SKIPPED (versions listed but answered 404).
apt_source_download() { # SUITE DEST
  local suite="$1" dest="$2" v rc aptdir versions
  versions="$("$DEBIAN_APT" showsrc --all "$suite" linux)" || exit $?
  if [[ -n "${PREFER:-}" ]] && grep -qxF "$PREFER" <<<"$(tr ' ' '\n' <<<"$versions")"; then
    versions="$PREFER $(tr ' ' '\n' <<<"$versions" | grep -vxF "$PREFER" | tr '\n' ' ')"
  fi
  aptdir="$("$DEBIAN_APT" dir "$suite" "$ARCH")"
  SKIPPED=()
  for v in $versions; do
    rm -rf "$dest" && mkdir -p "$dest"
    rc=0
    DEBIAN_APT_TRIES=1 "$DEBIAN_APT" source --download-only "$suite" "linux=$v" "$dest" >/dev/null 2>"$dest/apt.err" || rc=$?
    if [[ $rc -eq 2 ]] && grep -q ' 404 ' "$aptdir/source.log" 2>/dev/null; then
      log "linux $v is listed in $suite but the mirror answers 404; trying the next listed version"
      SKIPPED+=("$v"); continue
    fi
    if [[ $rc -eq 2 ]]; then # not a 404: let debian-apt.sh retry as it does
      rc=0; "$DEBIAN_APT" source --download-only "$suite" "linux=$v" "$dest" >/dev/null 2>"$dest/apt.err" || rc=$?
    fi
    if [[ $rc -ne 0 ]]; then cat "$dest/apt.err" >&2; exit "$rc"; fi
    rm -f "$dest/apt.err"
    PKGVER="$v"; return 0
  done
  die 2 "no listed linux version of $suite could be downloaded (404 for: ${SKIPPED[*]})"
}

# Keep only the per-file sections of a unified diff whose target is one of our files.
filter_patch() { # PATCH FILELIST → stdout
  awk -v list="$2" '
    BEGIN { while ((getline l < list) > 0) want[l] = 1 }
    /^diff / { keep = 0; pending = ""; hdr = 1 }
    /^--- / { pending = pending $0 "\n"; next }
    /^\+\+\+ / {
      p = $2; sub(/^[^\/]*\//, "", p); sub(/\t.*/, "", p)
      keep = (p in want)
      if (keep) printf "%s%s\n", pending, $0
      pending = ""; next
    }
    { if (keep) print }
  ' "$1"
}

extract_from_tarballs() { # DLDIR OUTDIR → sets PATCHES_APPLIED (array)
  local dl="$1" out="$2" dsc orig debtar upstream top
  dsc="$(find "$dl" -maxdepth 1 -name '*.dsc' | head -n1)"
  orig="$(find "$dl" -maxdepth 1 -name '*.orig.tar.*' | head -n1)"
  debtar="$(find "$dl" -maxdepth 1 -name '*.debian.tar.*' | head -n1)"
  [[ -n "$dsc" && -n "$orig" && -n "$debtar" ]] || die 4 "download in $dl lacks .dsc, orig or debian tarball"
  upstream="$(basename "$orig")"; upstream="${upstream#linux_}"; upstream="${upstream%.orig.tar.*}"
  top="linux-$upstream"
  local members=() f
  for f in "${REQUIRED[@]}" "${OPTIONAL[@]}"; do members+=("$top/$f"); done
  rm -rf "$out.tmp" && mkdir -p "$out.tmp/linux" "$out.tmp/debian"
  local rc=0
  tar -xf "$orig" -C "$out.tmp/linux" --strip-components=1 "${members[@]}" 2>"$out.tmp/tar.err" || rc=$?
  if [[ $rc -ne 0 ]] && grep -vq 'Not found in archive\|Exiting with failure status' "$out.tmp/tar.err"; then
    cat "$out.tmp/tar.err" >&2; die 4 "tar failed on $orig"
  fi
  for f in "${REQUIRED[@]}"; do
    [[ -f "$out.tmp/linux/$f" ]] || die 4 "$f is not in $(basename "$orig") (looked for $top/$f)"
  done
  rc=0
  tar -xf "$debtar" -C "$out.tmp" "${DEBIAN_FILES[@]}" debian/patches 2>"$out.tmp/tar.err" || rc=$?
  if [[ $rc -ne 0 ]] && grep -vq 'Not found in archive\|Exiting with failure status' "$out.tmp/tar.err"; then
    cat "$out.tmp/tar.err" >&2; die 4 "tar failed on $debtar"
  fi
  [[ -f "$out.tmp/debian/patches/series" ]] || die 4 "no debian/patches/series in $(basename "$debtar")"
  # Which patches of the series touch our files? Apply those (filtered to our files), in order.
  (cd "$out.tmp/linux" && find . -type f | sed 's|^\./||' | sort) >"$out.tmp/ours.txt"
  PATCHES_APPLIED=()
  local p n=0
  while read -r p _; do
    [[ -z "$p" || "$p" == \#* ]] && continue
    n=$((n + 1))
    local pf="$out.tmp/debian/patches/$p"
    [[ -f "$pf" ]] || die 4 "series names $p but debian/patches/$p is missing"
    filter_patch "$pf" "$out.tmp/ours.txt" >"$out.tmp/filtered.patch"
    if [[ -s "$out.tmp/filtered.patch" ]]; then
      (cd "$out.tmp/linux" && patch -p1 --no-backup-if-mismatch -s <"$out.tmp/filtered.patch") ||
        die 4 "Debian patch $p does not apply to the extracted files"
      local touched
      touched="$(awk '/^\+\+\+ /{f=$2; sub(/^[^\/]*\//,"",f); sub(/\t.*/,"",f); print f}' "$out.tmp/filtered.patch" | sort -u | tr '\n' ' ')"
      PATCHES_APPLIED+=("$p: ${touched% }")
      log "applied Debian patch $p (touches ${touched% })"
    fi
  done <"$out.tmp/debian/patches/series"
  PATCHES_CONSIDERED=$n
  # patchesApplied entries read "PATCH: FILE...". Keep the series (provenance) and the configs; drop the rest of debian/patches.
  mv "$out.tmp/debian/patches/series" "$out.tmp/debian/series"
  rm -rf "$out.tmp/debian/patches" "$out.tmp/tar.err" "$out.tmp/filtered.patch" "$out.tmp/ours.txt"
  mkdir -p "$out.tmp/debian/patches" && mv "$out.tmp/debian/series" "$out.tmp/debian/patches/series"
  DSC_PATH="$dsc"; UPSTREAM="$upstream"
}

fetch_debian() { # VERSION
  local ver="$1" suite out dl pkgver
  suite="$(suite_of "$ver")"
  out="$CACHE/kernel/src/$ver$SUFFIX"
  if [[ -f "$out/source.json" ]] && [[ "$(node -p 'require(process.argv[1]).source' "$out/source.json")" != debian ]]; then
    log "$ver: the cache holds a checkout's files; replacing them with Debian's"
    rm -rf "$out"
  fi
  if [[ $REFRESH -eq 0 ]] && have_all_required "$out"; then
    log "$ver: cached ($(node -p 'require(process.argv[1]).packageVersion' "$out/source.json")) in $out"
    return 0
  fi
  dl="$CACHE/kernel/dl/$suite$SUFFIX"
  PREFER=""
  if [[ -n "$SUFFIX" && -f "$CACHE/kernel/src/$ver/source.json" ]]; then
    PREFER="$(node -p 'require(process.argv[1]).packageVersion' "$CACHE/kernel/src/$ver/source.json")"
  fi
  log "$ver: downloading the linux source package of $suite — about 140 MB"
  apt_source_download "$suite" "$dl"
  local pkgver="$PKGVER"
  if [[ $REFRESH -eq 1 ]] && have_all_required "$out" &&
    [[ "$(node -p 'require(process.argv[1]).packageVersion' "$out/source.json")" == "$pkgver" ]]; then
    log "$ver: cache already holds linux $pkgver"
    rm -rf "$dl"
    rmdir "$CACHE/kernel/dl" 2>/dev/null || true
    return 0
  fi
  log "$ver: extracting ${#REQUIRED[@]}+${#OPTIONAL[@]} files"
  extract_from_tarballs "$dl" "$out"
  local sha; sha="$(sha256sum "$DSC_PATH" | awk '{print $1}')"
  cp "$DSC_PATH" "$out.tmp/"
  json source=debian suite="$suite" package=linux packageVersion="$pkgver" upstream="$UPSTREAM" \
    dsc="$(basename "$DSC_PATH")" dscSha256="$sha" \
    listedButMissing:="$(json_list "${SKIPPED[@]}")" \
    patchesConsidered:="$PATCHES_CONSIDERED" \
    patchesApplied:="$(json_list "${PATCHES_APPLIED[@]}")" \
    files:="$(cd "$out.tmp/linux" && json_list $(find . -type f | sed 's|^\./||' | sort))" \
    fetchedAt="$(date -u +%FT%TZ)" >"$out.tmp/source.json"
  rm -rf "$out" && mv "$out.tmp" "$out"
  rm -rf "$dl"
  rmdir "$CACHE/kernel/dl" 2>/dev/null || true
  log "$ver: linux $pkgver ready in $out (dsc sha256 $sha; ${#PATCHES_APPLIED[@]} Debian patch(es) touch our files)"
}

fetch_checkout() { # VERSION PATH
  local ver="$1" src="$2" out f
  suite_of "$ver" >/dev/null
  [[ -d "$src" ]] || die 1 "--kernel-src $src is not a directory"
  out="$CACHE/kernel/src/$ver$SUFFIX"
  rm -rf "$out.tmp" && mkdir -p "$out.tmp/linux"
  for f in "${REQUIRED[@]}"; do [[ -f "$src/$f" ]] || die 4 "$src/$f not found (is it a Linux tree?)"; done
  for f in "${REQUIRED[@]}" "${OPTIONAL[@]}"; do
    if [[ -e "$src/$f" ]]; then mkdir -p "$out.tmp/linux/$(dirname "$f")" && cp -r "$src/$f" "$out.tmp/linux/$f"; fi
  done
  local mkver rev=""
  mkver="$(awk -F' = ' '$1=="VERSION"{v=$2} $1=="PATCHLEVEL"{p=$2} $1=="SUBLEVEL"{s=$2} END{print v"."p"."s}' "$src/Makefile" 2>/dev/null || true)"
  rev="$(git -C "$src" describe --always --dirty 2>/dev/null || true)"
  json source=checkout path="$(cd "$src" && pwd)" packageVersion="checkout-$mkver" upstream="$mkver" gitDescribe="$rev" \
    patchesConsidered:=0 patchesApplied:='[]' \
    files:="$(cd "$out.tmp/linux" && json_list $(find . -type f | sed 's|^\./||' | sort))" \
    fetchedAt="$(date -u +%FT%TZ)" >"$out.tmp/source.json"
  rm -rf "$out" && mv "$out.tmp" "$out"
  log "$ver: copied from checkout $src (Makefile says $mkver) into $out"
}

TARGET=""; KSRC="${KERNEL_SRC:-}"; REFRESH=0; SET=amd64
while [[ $# -gt 0 ]]; do
  case "$1" in
    --kernel-src) [[ $# -ge 2 ]] || die 1 "--kernel-src needs a PATH"; KSRC="$2"; shift 2 ;;
    --kernel-src=*) KSRC="${1#*=}"; shift ;;
    --refresh) REFRESH=1; shift ;;
    --set) [[ $# -ge 2 ]] || die 1 "--set needs amd64 or ports"; SET="$2"; shift 2 ;;
    --set=*) SET="${1#*=}"; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
    -*) die 1 "unknown option $1" ;;
    *) [[ -z "$TARGET" ]] || die 1 "one VERSION or 'all'"; TARGET="$1"; shift ;;
  esac
done
[[ -n "$TARGET" ]] || die 1 "usage: fetch-kernel.sh VERSION|all [--set amd64|ports] [--kernel-src PATH] [--refresh]"
case "$SET" in
  amd64) SUFFIX="" ;;
  ports) SUFFIX="-ports"; REQUIRED=("${PORTS_REQUIRED[@]}"); OPTIONAL=("${PORTS_OPTIONAL[@]}"); DEBIAN_FILES=("${PORTS_DEBIAN_FILES[@]}") ;;
  *) die 1 "unknown --set '$SET' (expected amd64 or ports)" ;;
esac
if [[ -n "$KSRC" ]]; then
  [[ "$TARGET" != all ]] || die 1 "--kernel-src / KERNEL_SRC names one tree: give one VERSION, not 'all'"
  fetch_checkout "$TARGET" "$KSRC"
elif [[ "$TARGET" == all ]]; then
  for v in 5.10 6.1 6.12; do fetch_debian "$v"; done
else
  fetch_debian "$TARGET"
fi
