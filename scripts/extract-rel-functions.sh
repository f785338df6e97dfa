#!/usr/bin/env bash
# extract-rel-functions.sh TREE FILE — print FILE's lines from `int machine_verify_elf_rel` to the
# closing brace of `void machine_apply_elf_rel` (unmodified, with what lies between them: arm64's
# enum aarch64_rel_type and get_bits), after the headers they need and a #line directive.
# kexec-tools keeps these two functions in a file of their own on most arches
# (kexec/arch/<arch>/kexec-elf-rel-<arch>.c); arm64 (kexec-arm64.c) and riscv (kexec-elf-riscv.c)
# keep them beside the rest of their loader, which the oracle does not build. Used by
# scripts/build-oracle.sh and by `mutate` (src/mutate/build.ts) for a mutated copy.
# Exit 1 when FILE has no such pair.
set -euo pipefail
tree="$1" f="$2"
first="$(grep -n '^int machine_verify_elf_rel' "$tree/$f" | head -n1 | cut -d: -f1)"
[[ -n "$first" ]] || exit 1
grep -q '^void machine_apply_elf_rel' "$tree/$f" || exit 1
printf '#include <stdint.h>\n#include <stdio.h>\n#include <elf.h>\n#include "kexec.h"\n#include "kexec-elf.h"\n'
printf '#line %s "%s"\n' "$first" "$f"
awk -v first="$first" 'NR >= first { print } NR >= first && /^void machine_apply_elf_rel/ { inapply = 1 } inapply && /^}/ { exit }' "$tree/$f"
