#!/usr/bin/env bash
# setup-toolchains.sh — install the host and cross toolchains the live oracles need.
#
# Idempotent and fast when everything is present (one dpkg-query). Otherwise, as root with apt,
# runs `apt-get update` (with retries) once and installs the missing packages from the machine's
# own Debian sources. Not root: prints the exact command and exits 1.
#
# Usage: scripts/setup-toolchains.sh [--check] [--fuzz]
#   --check  only report, exit 1 if anything is missing
#   --fuzz   also the coverage-guided fuzzing toolchain (libclang-rt-dev for libFuzzer, afl++) that
#            scripts/build-fuzz-harness.sh needs, and zip/unzip for the ClusterFuzzLite seed corpus
#            (.clusterfuzzlite/build.sh, scripts/clusterfuzzlite-smoke.sh)
# Exit codes: 0 all present, 1 missing and not installable here, 2 apt failure after retries.
set -euo pipefail

PACKAGES=(
  gcc make dpkg-dev
  gcc-powerpc64-linux-gnu gcc-powerpc64le-linux-gnu
  libc6-dev-ppc64-cross libc6-dev-ppc64el-cross
  binutils-powerpc64-linux-gnu binutils-powerpc64le-linux-gnu
  gcc-aarch64-linux-gnu gcc-s390x-linux-gnu gcc-riscv64-linux-gnu
  libc6-dev-arm64-cross libc6-dev-s390x-cross libc6-dev-riscv64-cross
  binutils-aarch64-linux-gnu binutils-s390x-linux-gnu binutils-riscv64-linux-gnu
  qemu-user-static clang lld
  lz4 zstd xz-utils
)
TRIES="${SETUP_APT_TRIES:-4}"
BACKOFF=(5 15 45 90)

log() { printf 'setup-toolchains: %s\n' "$*" >&2; }

check_only=0
for arg in "$@"; do
  case "$arg" in
    --check) check_only=1 ;;
    --fuzz) PACKAGES+=(libclang-rt-dev afl++ zip unzip) ;;
    *) log "unknown argument: $arg (usage: setup-toolchains.sh [--check] [--fuzz])"; exit 1 ;;
  esac
done

missing() { # one dpkg-query for all packages; prints those not installed
  local installed
  installed="$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null | awk '$2 ~ /^ii/ {print $1}' || true)"
  local p
  for p in "${PACKAGES[@]}"; do
    grep -qxF "$p" <<<"$installed" || printf '%s\n' "$p"
  done
}

if ! command -v dpkg-query >/dev/null 2>&1; then
  log "this machine has no dpkg; install by hand: ${PACKAGES[*]}"
  exit 1
fi

mapfile -t MISSING < <(missing)
if [[ ${#MISSING[@]} -eq 0 ]]; then
  log "all ${#PACKAGES[@]} packages present"
  exit 0
fi
log "missing: ${MISSING[*]}"
CMD="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${MISSING[*]}"
if [[ $check_only -eq 1 ]]; then
  log "install with: $CMD"
  exit 1
fi
if [[ $EUID -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  log "not root (or no apt-get); run as root: $CMD"
  exit 1
fi

attempt=1
while :; do
  logf="$(mktemp)"
  rc=0
  LC_ALL=C apt-get -q update >"$logf" 2>&1 || rc=$?
  if [[ $rc -eq 0 ]] && ! grep -qE '^(Err:|E: |W: Failed to fetch)' "$logf"; then rm -f "$logf"; break; fi
  if ((attempt >= TRIES)); then
    log "apt-get update failed after $TRIES attempts; the failing indexes:"
    grep -E '^(Err:|E: |W: Failed|  )' "$logf" | sed 's/^/setup-toolchains: /' >&2 || tail -n 20 "$logf" >&2
    # A failing index of a suite we do not need must not stop the install: try anyway below.
    rm -f "$logf"
    break
  fi
  wait="${BACKOFF[attempt - 1]}"
  log "apt-get update attempt $attempt/$TRIES failed ($(grep -m1 -E '^(Err:|E: )' "$logf" || echo "exit $rc")); retrying in ${wait}s"
  rm -f "$logf"
  sleep "$wait"
  attempt=$((attempt + 1))
done

attempt=1
while :; do
  rc=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${MISSING[@]}" >&2 || rc=$?
  [[ $rc -eq 0 ]] && break
  if ((attempt >= TRIES)); then
    log "apt-get install failed (exit $rc) after $TRIES attempts: ${MISSING[*]}"
    exit 2
  fi
  wait="${BACKOFF[attempt - 1]}"
  log "apt-get install attempt $attempt/$TRIES failed; retrying in ${wait}s"
  sleep "$wait"
  attempt=$((attempt + 1))
done

mapfile -t STILL < <(missing)
if [[ ${#STILL[@]} -ne 0 ]]; then
  log "still missing after install: ${STILL[*]}"
  exit 2
fi
log "installed: ${MISSING[*]}"
