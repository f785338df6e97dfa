#!/usr/bin/env bash
# clusterfuzzlite-smoke.sh — what ClusterFuzzLite does, without Docker: builds the fuzzer with
# .clusterfuzzlite/build.sh under the standard build variables (clang, libFuzzer, ASan+UBSan, a
# scratch $OUT and $SRC), runs it for a few seconds over its seed corpus, and replays every crash
# it finds through the differential (`fuzz --replay`, docs/fuzzing.md): the C loader crashing where
# the TS model predicts it (known kexec-tools bugs, explained by corpus/known-divergences.json) is
# expected; a crash the model does not predict is a finding and fails the run.
#
# Usage: scripts/clusterfuzzlite-smoke.sh [SECONDS]   (default 5; needs scripts/setup-toolchains.sh
#        --fuzz, kexec-tools 2.0.25 fetched, and the kexec-tools-2.0.25/x86_64+sanitize oracle built)
# Environment: CC CXX CFLAGS CXXFLAGS LIB_FUZZING_ENGINE override the defaults below; FUZZ_SEED
# (default 1) is libFuzzer's -seed; KEEP=1 keeps the scratch directory (fuzzer, crashes, reproducers).
# Exit codes: 0 ok; 1 the fuzzer did not run or a crash is an unexplained finding; 2 oracle missing.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_FUZZ="${1:-5}"
[[ "$SECONDS_TO_FUZZ" =~ ^[0-9]+$ && "$SECONDS_TO_FUZZ" -gt 0 ]] || { echo "usage: $0 [SECONDS]" >&2; exit 1; }
log() { printf 'clusterfuzzlite-smoke: %s\n' "$*" >&2; }

work="$(mktemp -d)"
[[ "${KEEP:-0}" == 1 ]] && log "scratch directory: $work" || trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$work/out" "$work/seeds" "$work/corpus" "$work/crashes"

SAN="-fsanitize=fuzzer-no-link,address,undefined"
export SRC="$work/src" OUT="$work/out"
export CC="${CC:-clang}" CXX="${CXX:-clang++}"
export CFLAGS="${CFLAGS:--O1 -g -fno-omit-frame-pointer $SAN}" CXXFLAGS="${CXXFLAGS:--O1 -g -fno-omit-frame-pointer $SAN}"
export LIB_FUZZING_ENGINE="${LIB_FUZZING_ENGINE:--fsanitize=fuzzer}"
bash .clusterfuzzlite/build.sh

fuzzer="$OUT/kexec_tools_elf_rel_fuzzer"
unzip -q "$OUT/kexec_tools_elf_rel_fuzzer_seed_corpus.zip" -d "$work/seeds"
# -fork=1 -ignore_crashes=1: keep fuzzing after a crash (kexec-tools has known ones), so that the
# whole budget is spent and every crash is written for the replay below.
rc=0
# -seed: the same start every run (what it reaches in the time still depends on the machine).
"$fuzzer" -seed="${FUZZ_SEED:-1}" -fork=1 -ignore_crashes=1 -max_total_time="$SECONDS_TO_FUZZ" -artifact_prefix="$work/crashes/" \
  "$work/corpus" "$work/seeds" >"$work/fuzz.log" 2>&1 || rc=$?
runs="$(grep -Eo '^#[0-9]+' "$work/fuzz.log" | tail -n1 | tr -d '#')"
crashes="$(find "$work/crashes" -type f | wc -l)"
log "libFuzzer: ${runs:-0} executions in ${SECONDS_TO_FUZZ} s, $crashes crash file(s), exit $rc"
if [[ -z "$runs" || "$runs" -eq 0 ]] || [[ $rc -ne 0 && $crashes -eq 0 ]]; then
  tail -n 30 "$work/fuzz.log" >&2
  log "the fuzzer did not run"
  exit 1
fi
[[ $crashes -gt 0 ]] || exit 0
node bin/purgatory-oracle.mjs fuzz --replay "$work/crashes" --oracle kexec-tools-2.0.25/x86_64+sanitize \
  --base 0x100000 --no-minimize --out "$work/reproducers"
