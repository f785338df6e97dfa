#!/usr/bin/env bash
# ci-oracles.sh — everything the live kexec-tools oracles need, for CI and for a fresh machine:
# toolchains, kexec-tools sources from Debian, and the oracle builds. Safe to rerun; fast on a
# warm cache ($PURGATORY_ORACLE_CACHE or <repo>/.cache).
#
#   1. scripts/setup-toolchains.sh
#   2. kexec-tools 2.0.25 (bookworm) — required: failure stops here with a non-zero exit;
#      2.0.29 (trixie), 2.0.32 (sid), 2.0.20 (bullseye) — best effort: a version the mirror
#      cannot serve is reported and skipped (and not retried for a day: $CACHE/src/.unavailable-V)
#   3. scripts/build-oracle.sh for every fetched version × x86_64, ppc64, ppc64le, arm64, s390x
#      (and riscv64 for 2.0.32, the first release with a riscv loader)
#   4. the ASan+UBSan build of the x86_64 oracle for 2.0.25
# Prints a timing summary on stderr. Env: CI_ORACLES_OPTIONAL="2.0.29 2.0.32 2.0.20" to change
# the optional set, CI_ORACLES_NO_SANITIZE=1 to skip step 4.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
CACHE="${PURGATORY_ORACLE_CACHE:-$REPO_DIR/.cache}"
REQUIRED_VERSION=2.0.25
OPTIONAL="${CI_ORACLES_OPTIONAL:-2.0.29 2.0.32 2.0.20}"

log() { printf 'ci-oracles: %s\n' "$*" >&2; }
T0=$(date +%s.%N)
TIMES=()
lap() { # NAME START
  local now; now=$(date +%s.%N)
  TIMES+=("$(awk -v a="$2" -v b="$now" -v n="$1" 'BEGIN{printf "%-34s %6.1f s", n, b-a}')")
}

t=$(date +%s.%N)
bash "$SCRIPT_DIR/setup-toolchains.sh"
lap "toolchains" "$t"

t=$(date +%s.%N)
bash "$SCRIPT_DIR/fetch-kexec-tools.sh" "$REQUIRED_VERSION" >/dev/null
lap "fetch kexec-tools $REQUIRED_VERSION" "$t"

SKIPPED=()
mkdir -p "$CACHE/src"
for v in $OPTIONAL; do
  t=$(date +%s.%N)
  marker="$CACHE/src/.unavailable-$v"
  if [[ -f "$marker" && -n "$(find "$marker" -mmin -1440 2>/dev/null)" ]]; then
    log "kexec-tools $v: unavailable at $(cat "$marker" | head -n1) (retried after a day; delete $marker to retry now)"
    SKIPPED+=("$v")
    continue
  fi
  if DEBIAN_APT_TRIES="${DEBIAN_APT_TRIES:-2}" bash "$SCRIPT_DIR/fetch-kexec-tools.sh" "$v" >/dev/null; then
    rm -f "$marker"
  else
    rc=$?
    log "kexec-tools $v could not be fetched (exit $rc); its oracles are skipped"
    printf '%s exit %s\n' "$(date -u +%FT%TZ)" "$rc" >"$marker"
    SKIPPED+=("$v")
  fi
  lap "fetch kexec-tools $v" "$t"
done

t=$(date +%s.%N)
bash "$SCRIPT_DIR/build-oracle.sh" --kexec-tools all --target all >/dev/null
lap "build oracles (all fetched × targets)" "$t"

if [[ -z "${CI_ORACLES_NO_SANITIZE:-}" ]]; then
  t=$(date +%s.%N)
  bash "$SCRIPT_DIR/build-oracle.sh" --kexec-tools "$REQUIRED_VERSION" --sanitize >/dev/null
  lap "build x86_64 ASan+UBSan oracle" "$t"
fi

lap "total" "$T0"
{
  printf 'ci-oracles: timing\n'
  for l in "${TIMES[@]}"; do printf '  %s\n' "$l"; done
  [[ ${#SKIPPED[@]} -eq 0 ]] || printf '  skipped (not fetchable here): %s\n' "${SKIPPED[*]}"
  printf '  built: %s\n' "$(cd "$CACHE/build" && ls -d kexec-tools-* 2>/dev/null | grep -v '\.tmp$' | tr '\n' ' ')"
} >&2
