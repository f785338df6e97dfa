#!/usr/bin/env bash
# build-kernel-oracle.sh — build the kernel oracle (oracle/kernel/harness.c + the kernel's own
# purgatory loader functions) per kernel version and variant.
#
# Usage:
#   scripts/build-kernel-oracle.sh [VERSION|all] [--variant x86_64|ppc64le|all] [--kernel-src PATH]
#     VERSION: 5.10 | 6.1 | 6.12 | all (default all)
#     variant x86_64:  the x86_64 loader (arch_kexec_apply_relocations_add of machine_kexec_64.c),
#                      PAGE_SIZE 4K
#     variant ppc64le: the generic loader with no RELA hook, as arch/powerpc builds it, PAGE_SIZE
#                      64K (Debian ppc64el); only meaningful for little-endian purgatories
#     --kernel-src PATH (or env KERNEL_SRC): take the sources from a checkout (one VERSION)
#
# Output: $CACHE/build/kernel-VERSION-VARIANT/{oracle,build.json,kernel_functions.c,functions.json}
#   CACHE = $PURGATORY_ORACLE_CACHE or <repo>/.cache. A rerun with unchanged inputs compiles nothing.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
CACHE="${PURGATORY_ORACLE_CACHE:-$REPO_DIR/.cache}"
CC="${CC:-gcc}"
CFLAGS_COMMON=(-O2 -g -std=gnu11 -Wall -Wno-format -Werror=implicit-function-declaration
  -Werror=incompatible-pointer-types -fno-strict-aliasing -fwrapv)

log() { printf 'build-kernel-oracle: %s\n' "$*" >&2; }
die() { printf 'build-kernel-oracle: error: %s\n' "$*" >&2; exit 1; }

TARGET=all; VARIANT=all; KSRC="${KERNEL_SRC:-}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --variant) [[ $# -ge 2 ]] || die "--variant needs a value"; VARIANT="$2"; shift 2 ;;
    --variant=*) VARIANT="${1#*=}"; shift ;;
    --kernel-src) [[ $# -ge 2 ]] || die "--kernel-src needs a PATH"; KSRC="$2"; shift 2 ;;
    --kernel-src=*) KSRC="${1#*=}"; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) TARGET="$1"; shift ;;
  esac
done
case "$TARGET" in all) VERSIONS=(5.10 6.1 6.12) ;; 5.10 | 6.1 | 6.12) VERSIONS=("$TARGET") ;; *) die "unknown version $TARGET" ;; esac
case "$VARIANT" in all) VARIANTS=(x86_64 ppc64le) ;; x86_64 | ppc64le) VARIANTS=("$VARIANT") ;; *) die "unknown variant $VARIANT" ;; esac
command -v "$CC" >/dev/null || die "$CC not found (apt-get install -y gcc)"
[[ -z "$KSRC" || "$TARGET" != all ]] || die "--kernel-src / KERNEL_SRC names one tree: give one VERSION, not 'all'"

for v in "${VERSIONS[@]}"; do
  if [[ -n "$KSRC" ]]; then
    "$SCRIPT_DIR/fetch-kernel.sh" "$v" --kernel-src "$KSRC"
  else
    KERNEL_SRC= "$SCRIPT_DIR/fetch-kernel.sh" "$v"
  fi
done

vlist="$(IFS=,; echo "${VERSIONS[*]}")"
varlist="$(IFS=,; echo "${VARIANTS[*]}")"
# Through the CLI launcher: the compiled generator (dist/) in an installed package, the sources in a checkout.
node "$REPO_DIR/bin/purgatory-oracle.mjs" oracle gen-kernel-sources --cache "$CACHE" --versions "$vlist" --variants "$varlist"

cc_version="$("$CC" --version | head -n1)"
harness_rev="$(git -C "$REPO_DIR" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git -C "$REPO_DIR" status --porcelain -- oracle/kernel src/oracle/kernel-gen.ts src/oracle/kernel-extract.ts 2>/dev/null)" ]]; then
  harness_rev="$harness_rev-dirty"
fi

for v in "${VERSIONS[@]}"; do
  src="$CACHE/kernel/src/$v"
  for variant in "${VARIANTS[@]}"; do
    out="$CACHE/build/kernel-$v-$variant"
    flags=("${CFLAGS_COMMON[@]}")
    case "$variant" in
      x86_64) flags+=(-DSHIM_PAGE_SHIFT=12) ;;
      ppc64le) flags+=(-DSHIM_PAGE_SHIFT=16) ;;
    esac
    # The key covers what is compiled and where it came from (a checkout and Debian's package
    # with the same text still get their own build.json).
    key="$( { cat "$REPO_DIR/oracle/kernel/harness.c" "$REPO_DIR/oracle/kernel/shim.h" "$out/kernel_functions.c";
      node -p 'const s=require(process.argv[1]); [s.source, s.packageVersion, s.dscSha256 ?? s.path].join(" ")' "$src/source.json";
      echo "${flags[*]}"; echo "$cc_version"; } | sha256sum | awk '{print $1}')"
    if [[ -x "$out/oracle" && -f "$out/build.json" ]] && grep -q "\"key\": \"$key\"" "$out/build.json"; then
      log "$v $variant: up to date ($out/oracle)"
      continue
    fi
    log "$v $variant: compiling"
    "$CC" "${flags[@]}" -I "$REPO_DIR/oracle/kernel" -o "$out/oracle.tmp" \
      "$REPO_DIR/oracle/kernel/harness.c" "$out/kernel_functions.c"
    # Smoke test: an end-of-stream record must make it exit 0 with nothing on stdout.
    smoke="$(printf 'PEND\0\0\0\0' | "$out/oracle.tmp" | wc -c)" || die "$v $variant: the built oracle fails on PEND"
    [[ "$smoke" == 0 ]] || die "$v $variant: the built oracle wrote $smoke bytes on PEND"
    mv -f "$out/oracle.tmp" "$out/oracle"
    node -e '
      const [src, out, key, variant, cc, rev, flags] = process.argv.slice(1);
      const s = require(src + "/source.json");
      const fns = require(out + "/functions.json");
      const j = {
        kernelVersion: require("path").basename(src), variant,
        pageSize: variant === "ppc64le" ? 65536 : 4096,
        source: s.source, packageVersion: s.packageVersion, dsc: s.dsc ?? null, dscSha256: s.dscSha256 ?? null,
        checkout: s.path ?? null, functions: fns, compiler: cc, cflags: flags, harnessRevision: rev,
        builtAt: new Date().toISOString(), key,
      };
      require("fs").writeFileSync(out + "/build.json", JSON.stringify(j, null, 2) + "\n");
    ' "$src" "$out" "$key" "$variant" "$cc_version" "$harness_rev" "${flags[*]}"
    log "$v $variant: built $out/oracle"
  done
done
