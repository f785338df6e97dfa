#!/usr/bin/env bash
# build-kernel-oracle.sh — build the kernel oracle (oracle/kernel/harness.c + the kernel's own
# purgatory loader functions) per kernel version and variant.
#
# Usage:
#   scripts/build-kernel-oracle.sh [VERSION|all] [--variant x86_64|ppc64le|s390x|riscv64|all] [--kernel-src PATH]
#     VERSION: 5.10 | 6.1 | 6.12 | all (default all)
#     variant x86_64:  the x86_64 loader (arch_kexec_apply_relocations_add of machine_kexec_64.c),
#                      PAGE_SIZE 4K
#     variant ppc64le: the generic loader with no RELA hook, as arch/powerpc builds it, PAGE_SIZE
#                      64K (Debian ppc64el); only meaningful for little-endian purgatories
#     variant s390x:   arch/s390's hook (machine_kexec_file.c + machine_kexec_reloc.c), PAGE_SIZE 4K,
#                      built with s390x-linux-gnu-gcc -static, run under qemu-s390x-static
#     variant riscv64: arch/riscv's hook (elf_kexec.c; 6.1 and 6.12 only), PAGE_SIZE 4K, built with
#                      riscv64-linux-gnu-gcc -static, run under qemu-riscv64-static
#     (all: every variant the version has; s390x and riscv64 take the `ports` source set)
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
case "$VARIANT" in all) VARIANTS=(x86_64 ppc64le s390x riscv64) ;; x86_64 | ppc64le | s390x | riscv64) VARIANTS=("$VARIANT") ;; *) die "unknown variant $VARIANT" ;; esac
[[ -z "$KSRC" || "$TARGET" != all ]] || die "--kernel-src / KERNEL_SRC names one tree: give one VERSION, not 'all'"

# Per variant (src/oracle/kernel.ts KERNEL_VARIANT_INFO keeps the same table): source set, compiler,
# emulator, PAGE_SHIFT, and whether VERSION has the loader.
set_of() { case "$1" in s390x | riscv64) echo ports ;; *) echo amd64 ;; esac; }
cc_of() { case "$1" in s390x) echo s390x-linux-gnu-gcc ;; riscv64) echo riscv64-linux-gnu-gcc ;; *) echo "$CC" ;; esac; }
emulator_of() { case "$1" in s390x) echo qemu-s390x-static ;; riscv64) echo qemu-riscv64-static ;; *) echo "" ;; esac; }
has_loader() { [[ "$2" != riscv64 || "$1" != 5.10 ]]; } # VERSION VARIANT: riscv64 kexec_file arrived in 5.19
src_of() { if [[ "$(set_of "$2")" == ports ]]; then echo "$CACHE/kernel/src/$1-ports"; else echo "$CACHE/kernel/src/$1"; fi; }

for v in "${VERSIONS[@]}"; do
  sets=()
  for variant in "${VARIANTS[@]}"; do
    has_loader "$v" "$variant" || continue
    s="$(set_of "$variant")"; [[ " ${sets[*]} " == *" $s "* ]] || sets+=("$s")
  done
  for s in "${sets[@]}"; do
    if [[ -n "$KSRC" ]]; then
      "$SCRIPT_DIR/fetch-kernel.sh" "$v" --set "$s" --kernel-src "$KSRC"
    else
      KERNEL_SRC= "$SCRIPT_DIR/fetch-kernel.sh" "$v" --set "$s"
    fi
  done
done

for v in "${VERSIONS[@]}"; do
  for variant in "${VARIANTS[@]}"; do
    has_loader "$v" "$variant" || continue
    # Through the CLI launcher: the compiled generator (dist/) in an installed package, the sources in a checkout.
    node "$REPO_DIR/bin/purgatory-oracle.mjs" oracle gen-kernel-sources --cache "$CACHE" --versions "$v" --variants "$variant"
  done
done

harness_rev="$(git -C "$REPO_DIR" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git -C "$REPO_DIR" status --porcelain -- oracle/kernel src/oracle/kernel-gen.ts src/oracle/kernel-extract.ts 2>/dev/null)" ]]; then
  harness_rev="$harness_rev-dirty"
fi

for v in "${VERSIONS[@]}"; do
  for variant in "${VARIANTS[@]}"; do
    has_loader "$v" "$variant" || continue
    src="$(src_of "$v" "$variant")"
    out="$CACHE/build/kernel-$v-$variant"
    cc="$(cc_of "$variant")"; emulator="$(emulator_of "$variant")"
    command -v "$cc" >/dev/null || die "$cc not found (scripts/setup-toolchains.sh)"
    [[ -z "$emulator" ]] || command -v "$emulator" >/dev/null || die "$emulator not found (scripts/setup-toolchains.sh)"
    cc_version="$("$cc" --version | head -n1)"
    flags=("${CFLAGS_COMMON[@]}")
    case "$variant" in
      x86_64 | s390x | riscv64) flags+=(-DSHIM_PAGE_SHIFT=12) ;;
      ppc64le) flags+=(-DSHIM_PAGE_SHIFT=16) ;;
    esac
    # Under qemu-user every mmap/munmap of a reserved range costs time in proportion to its size
    # (measured: 160 ms per request with 1 GiB guards, 0.15 ms with 1 MiB): emulated oracles guard
    # their blocks with 1 MiB of PROT_NONE on each side (oracle/kernel/NOTES.md, "Memory").
    [[ -z "$emulator" ]] || flags+=(-static '-DSHIM_GUARD_BYTES=(1UL<<20)')
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
    "$cc" "${flags[@]}" -I "$REPO_DIR/oracle/kernel" -o "$out/oracle.tmp" \
      "$REPO_DIR/oracle/kernel/harness.c" "$out/kernel_functions.c"
    # Smoke test: an end-of-stream record must make it exit 0 with nothing on stdout.
    smoke="$(printf 'PEND\0\0\0\0' | $emulator "$out/oracle.tmp" | wc -c)" || die "$v $variant: the built oracle fails on PEND"
    [[ "$smoke" == 0 ]] || die "$v $variant: the built oracle wrote $smoke bytes on PEND"
    # The protocol extensions it implements (oracle/PROTOCOL.md), as its --info lists them.
    info="$($emulator "$out/oracle.tmp" --info)" || die "$v $variant: the built oracle fails on --info"
    mv -f "$out/oracle.tmp" "$out/oracle"
    node -e '
      const [src, out, key, variant, cc, rev, flags, emulator, version, info] = process.argv.slice(1);
      const s = require(src + "/source.json");
      const fns = require(out + "/functions.json");
      const j = {
        kernelVersion: version, variant,
        pageSize: variant === "ppc64le" ? 65536 : 4096, emulator: emulator || null,
        source: s.source, packageVersion: s.packageVersion, dsc: s.dsc ?? null, dscSha256: s.dscSha256 ?? null,
        checkout: s.path ?? null, functions: fns, compiler: cc, cflags: flags, harnessRevision: rev,
        features: JSON.parse(info).features, builtAt: new Date().toISOString(), key,
      };
      require("fs").writeFileSync(out + "/build.json", JSON.stringify(j, null, 2) + "\n");
    ' "$src" "$out" "$key" "$variant" "$cc_version" "$harness_rev" "${flags[*]}" "$emulator" "$v" "$info"
    log "$v $variant: built $out/oracle"
  done
done
