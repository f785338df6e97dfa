#!/usr/bin/env bash
# ClusterFuzzLite / OSS-Fuzz build: the libFuzzer entry point for the unmodified kexec-tools ELF
# relocation loader (oracle/kexec-tools/fuzz-entry.c, docs/fuzzing.md), built from Debian's
# kexec-tools source with the compiler, flags and fuzzing engine of the environment.
#
# Run from the repository root with $CC $CFLAGS $CXX $CXXFLAGS $LIB_FUZZING_ENGINE $OUT set ($SRC
# is where the builder keeps sources; the kexec-tools tree comes from $PURGATORY_ORACLE_CACHE,
# fetched by scripts/fetch-kexec-tools.sh: in the Docker image, by its Debian stage).
#
# Writes $OUT/kexec_tools_elf_rel_fuzzer, its seed corpus $OUT/kexec_tools_elf_rel_fuzzer_seed_corpus.zip
# (the corpus's x86_64 ET_REL purgatories, as they are) and its .options.
# Crash files are raw ELF inputs: replay them with
#   npx purgatory-oracle fuzz --replay CRASH --oracle kexec-tools-2.0.25/x86_64+sanitize --base 0x100000
set -euo pipefail

[[ -f scripts/build-fuzz-harness.sh && -f oracle/kexec-tools/fuzz-entry.c ]] ||
  { echo "clusterfuzzlite/build.sh: run it from the purgatory-oracle repository root (cwd: $PWD)" >&2; exit 1; }
: "${OUT:?}" "${CC:?}" "${CXX:?}" "${LIB_FUZZING_ENGINE:?}"
V="${KEXEC_TOOLS_VERSION:-2.0.25}"
NAME=kexec_tools_elf_rel_fuzzer

bash scripts/fetch-kexec-tools.sh "$V" >/dev/null
bash scripts/build-fuzz-harness.sh --kexec-tools "$V" --engine env

seeds="$(mktemp -d)"
trap 'rm -rf "$seeds"' EXIT
n=0
for f in corpus/elf/*.ro; do
  # ET_REL (e_type 1) for x86-64 (e_machine 62): the loader the entry point was built for.
  [[ "$(od -An -tu2 -j16 -N4 "$f" | tr -s ' ')" == " 1 62" ]] || continue
  cp "$f" "$seeds/"
  n=$((n + 1))
done
[[ $n -gt 0 ]] || { echo "clusterfuzzlite/build.sh: no x86_64 ET_REL purgatory in corpus/elf" >&2; exit 1; }
rm -f "$OUT/${NAME}_seed_corpus.zip"
(cd "$seeds" && zip -q -j "$OUT/${NAME}_seed_corpus.zip" ./*.ro)
cat >"$OUT/$NAME.options" <<'OPTIONS'
[libfuzzer]
max_len = 65536
OPTIONS
echo "clusterfuzzlite/build.sh: $OUT/$NAME, $n seeds in ${NAME}_seed_corpus.zip" >&2
