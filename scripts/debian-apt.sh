#!/usr/bin/env bash
# debian-apt.sh — a private APT for fetching Debian packages without touching /etc/apt.
#
# Every (suite, arch) pair gets its own directory under $CACHE/apt/SUITE-ARCH with its own
# sources.list, lists/, archives/ and an empty dpkg status file, so one failing index cannot
# make apt drop another suite, and nothing of the machine's APT state is read or written
# (system apt.conf.d settings such as proxies are still honoured).
#
# Usage:
#   debian-apt.sh update  [--force] SUITE ARCH      refresh the indexes (skipped when < 24 h old)
#   debian-apt.sh source  [--download-only] [--tar-only] SUITE PKG[=VER] DESTDIR
#                                                    fetch + verify + unpack a source package;
#                                                    last stdout line: the unpacked directory
#                                                    (--download-only: the .dsc path, nothing unpacked;
#                                                    --tar-only: only the upstream tarball, unpacked
#                                                    with tar into PKG-UPSTREAM.orig, no Debian changes)
#   debian-apt.sh download SUITE ARCH PKG[=VER] DESTDIR
#                                                    fetch a binary .deb of any architecture;
#                                                    last stdout line: the .deb path
#   debian-apt.sh show    SUITE ARCH PKG             print the candidate version of a binary package
#   debian-apt.sh showsrc [--all] SUITE PKG          print the newest (--all: every, newest first)
#                                                    listed version of a source package
#   debian-apt.sh dir     SUITE ARCH                 print the private APT directory
#
# SUITE: bullseye | bookworm | trixie | sid (others are passed through as given).
# Environment:
#   PURGATORY_ORACLE_CACHE   cache root (default: <repo>/.cache)
#   DEBIAN_MIRROR            mirror URI (default: http://deb.debian.org/debian)
#   DEBIAN_APT_TRIES         apt-get update attempts (default 4; waits 5, 15, 45 s between them)
#   DEBIAN_APT_MAX_AGE_MIN   index freshness in minutes (default 1440)
# Exit codes: 0 ok, 1 usage / local error, 2 network or mirror failure (after all retries),
#             3 package or version not found, 4 verification or unpack failure.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
SELF="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
CACHE="${PURGATORY_ORACLE_CACHE:-$REPO_DIR/.cache}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ARCHIVE_MIRROR="http://archive.debian.org/debian"
KEYRING="/usr/share/keyrings/debian-archive-keyring.gpg"
TRIES="${DEBIAN_APT_TRIES:-4}"
MAX_AGE_MIN="${DEBIAN_APT_MAX_AGE_MIN:-1440}"
BACKOFF=(5 15 45 90 180)

log() { printf 'debian-apt: %s\n' "$*" >&2; }
die() { local code="$1"; shift; printf 'debian-apt: error: %s\n' "$*" >&2; exit "$code"; }

usage() {
  sed -n '/^# Usage:/,/^# Exit codes/p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 1
}

need() { command -v "$1" >/dev/null 2>&1 || die 1 "'$1' not found; install it with: apt-get install -y $2 (or run scripts/setup-toolchains.sh)"; }

native_arch() { dpkg --print-architecture 2>/dev/null || echo amd64; }

check_name() { # reject anything that could escape a path or an apt option
  [[ "$2" =~ ^[A-Za-z0-9][A-Za-z0-9.+~:=_-]*$ ]] || die 1 "bad $1: '$2'"
}

# apt_dir SUITE ARCH → sets APTDIR and APT_OPTS (the private configuration)
set_apt() {
  local suite="$1" arch="$2"
  APTDIR="$CACHE/apt/$suite-$arch"
  APT_OPTS=(
    -o "Dir::Etc::SourceList=$APTDIR/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::Etc::Preferences=/dev/null"
    -o "Dir::Etc::PreferencesParts=/dev/null"
    -o "Dir::State=$APTDIR/state"
    -o "Dir::State::Lists=$APTDIR/lists"
    -o "Dir::State::status=$APTDIR/status"
    -o "Dir::Cache=$APTDIR/cache"
    -o "Dir::Cache::Archives=$APTDIR/archives"
    -o "Dir::Cache::pkgcache="
    -o "Dir::Cache::srcpkgcache="
    -o "APT::Architecture=$arch"
    -o "APT::Architectures::=$arch"
    -o "APT::Get::List-Cleanup=true"
    -o "Acquire::Languages=none"
    -o "Debug::NoLocking=false"
  )
  if [[ -f "$APTDIR/check-valid-until-off" ]]; then
    # archive.debian.org serves Release files whose Valid-Until has passed; signatures still checked.
    APT_OPTS+=(-o "Acquire::Check-Valid-Until=false")
  fi
}

prepare_dir() {
  local suite="$1" uri="$2"
  mkdir -p "$APTDIR/lists/partial" "$APTDIR/archives/partial" "$APTDIR/state" "$APTDIR/cache" "$APTDIR/stage"
  : >"$APTDIR/status" # no package is installed in this private APT
  local want
  want="$(printf 'deb [signed-by=%s] %s %s main\ndeb-src [signed-by=%s] %s %s main\n' \
    "$KEYRING" "$uri" "$suite" "$KEYRING" "$uri" "$suite")"
  if [[ ! -f "$APTDIR/sources.list" ]] || [[ "$(cat "$APTDIR/sources.list")" != "$want" ]]; then
    printf '%s\n' "$want" >"$APTDIR/sources.list"
    rm -f "$APTDIR/updated.stamp"
  fi
  # apt drops root to _apt for downloads: give it the partial directories it writes into.
  if [[ $EUID -eq 0 ]] && id _apt >/dev/null 2>&1; then
    chown _apt "$APTDIR/lists/partial" "$APTDIR/archives/partial" "$APTDIR/stage" 2>/dev/null || true
  fi
}

current_uri() { # the URI recorded in sources.list, or the default mirror
  if [[ -f "$APTDIR/sources.list" ]]; then
    awk 'NR==1 {print $3; exit}' "$APTDIR/sources.list"
  else
    echo "$MIRROR"
  fi
}

is_fresh() {
  [[ -f "$APTDIR/updated.stamp" ]] && [[ -n "$(find "$APTDIR/updated.stamp" -mmin "-$MAX_AGE_MIN" 2>/dev/null)" ]]
}

lock_dir() { # serialise concurrent users of one (suite, arch) directory
  mkdir -p "$APTDIR"
  # a nested call of this script (index refresh during a retry) runs under its parent's lock
  [[ "${DEBIAN_APT_HOLDS_LOCK:-}" == "$APTDIR" ]] && return 0
  exec 9>"$APTDIR/.lock"
  if command -v flock >/dev/null 2>&1; then
    flock -w 900 9 || die 1 "timed out waiting for the lock on $APTDIR"
  fi
  export DEBIAN_APT_HOLDS_LOCK="$APTDIR"
}

# One apt-get update attempt. Output goes to $APTDIR/update.log. Returns 0 only if every index
# the sources list asks for was fetched (apt-get's exit status alone is not trusted for that).
update_once() {
  local logf="$APTDIR/update.log" rc=0
  LC_ALL=C apt-get "${APT_OPTS[@]}" -q update >"$logf" 2>&1 || rc=$?
  if [[ $rc -ne 0 ]] || grep -qE '^(Err:|E: |W: Failed to fetch|W: Some index files failed|W: GPG error|W: The repository)' "$logf"; then
    return 1
  fi
  # positive check: the Release file and both index kinds are present
  local lists="$APTDIR/lists"
  compgen -G "$lists/*_dists_${SUITE}_InRelease" >/dev/null || compgen -G "$lists/*_dists_${SUITE}_Release" >/dev/null || return 1
  compgen -G "$lists/*_dists_${SUITE}_main_binary-${ARCH}_Packages*" >/dev/null || return 1
  compgen -G "$lists/*_dists_${SUITE}_main_source_Sources*" >/dev/null || return 1
  return 0
}

report_failure() {
  local logf="$APTDIR/update.log"
  log "apt-get update failed for suite=$SUITE arch=$ARCH ($(current_uri)) after $TRIES attempt(s)"
  local lines
  lines="$(grep -E '^(Err:|E: |W: |  )' "$logf" | grep -vE '^W: (Download is performed unsandboxed|Skipping acquire)' || true)"
  if [[ -z "$lines" ]]; then
    lines="$(tail -n 20 "$logf")"
    [[ -z "$lines" ]] || lines="$lines"$'\n'"(no Err:/E: line; an index is missing from $APTDIR/lists)"
  fi
  printf '%s\n' "$lines" | sed "s/^/debian-apt: [$SUITE $ARCH] /" >&2
  log "full log: $logf"
}

release_missing() { # the suite's Release file itself was not found on the mirror (404)
  grep -qE "^(Err:|E: ).*($SUITE (Release|InRelease)|$SUITE Release).*" "$APTDIR/update.log" &&
    grep -qiE "404|does not have a Release file" "$APTDIR/update.log"
}

do_update() {
  local force=0
  if [[ "${1:-}" == "--force" ]]; then force=1; shift; fi
  [[ $# -eq 2 ]] || usage
  SUITE="$1"; ARCH="$2"
  check_name suite "$SUITE"; check_name arch "$ARCH"
  need apt-get apt
  [[ -r "$KEYRING" ]] || die 1 "$KEYRING missing; install it with: apt-get install -y debian-archive-keyring"
  set_apt "$SUITE" "$ARCH"
  lock_dir
  local uri; uri="$(current_uri)"
  prepare_dir "$SUITE" "$uri"
  set_apt "$SUITE" "$ARCH"
  if [[ $force -eq 0 ]] && is_fresh; then
    log "indexes for $SUITE/$ARCH are fresh (< ${MAX_AGE_MIN} min); use --force to refresh"
    return 0
  fi
  local attempt
  for ((attempt = 1; attempt <= TRIES; attempt++)); do
    if update_once; then
      date -u +%FT%TZ >"$APTDIR/updated.stamp"
      log "updated $SUITE/$ARCH from $uri (attempt $attempt)"
      return 0
    fi
    if [[ "$uri" == "$MIRROR" && "$SUITE" == "bullseye" ]] && release_missing; then
      log "bullseye is no longer on $MIRROR (Release not found); switching to $ARCHIVE_MIRROR"
      uri="$ARCHIVE_MIRROR"
      : >"$APTDIR/check-valid-until-off"
      prepare_dir "$SUITE" "$uri"
      set_apt "$SUITE" "$ARCH"
      attempt=$((attempt - 1)) # the switch itself is not a failed try
      continue
    fi
    if ((attempt < TRIES)); then
      local wait="${BACKOFF[attempt - 1]:-180}"
      local first; first="$(grep -m1 -E '^(Err:|E: |W: Failed)' "$APTDIR/update.log" || echo 'missing index')"
      log "attempt $attempt/$TRIES for $SUITE/$ARCH failed ($first); retrying in ${wait}s"
      sleep "$wait"
    fi
  done
  report_failure
  exit 2
}

ensure_updated() { # quiet, non-forced update of SUITE/ARCH when needed
  local s="$1" a="$2"
  set_apt "$s" "$a"
  if ! is_fresh || [[ ! -f "$APTDIR/sources.list" ]]; then
    ("$SELF" update "$s" "$a") || exit $?
  fi
  set_apt "$s" "$a"
}

stage_dir() { # a fresh staging directory that apt's _apt user may write into
  local d; d="$(mktemp -d "$APTDIR/stage/dl.XXXXXX")"
  if [[ $EUID -eq 0 ]] && id _apt >/dev/null 2>&1; then chown _apt "$d" 2>/dev/null || true; fi
  chmod 755 "$d"
  printf '%s\n' "$d"
}

# run_fetch KIND LOGFILE CMD... — run an apt-get download command (source or download) in the
# current staging directory with retries. Transient mirror failures (404 for a pool file the index
# still names, "unexpected size", connection errors) are retried with backoff, refreshing the
# index in between (a mirror mid-sync may list a version before or after its pool holds it).
# Returns 0, or exits with the documented code after printing apt's own error lines.
run_fetch() {
  local what="$1" logf="$2"; shift 2
  local attempt rc
  for ((attempt = 1; attempt <= TRIES; attempt++)); do
    rc=0
    LC_ALL=C "$@" >"$logf" 2>&1 || rc=$?
    [[ $rc -eq 0 ]] && return 0
    if grep -qE "Unable to find a source package|Can not find a package|Unable to locate package|Version .* was not found|Can't select|Couldn't find package" "$logf"; then
      sed "s/^/debian-apt: [$what] /" "$logf" >&2
      return 3
    fi
    if grep -qE "Hash Sum mismatch|Size mismatch" "$logf" && ! grep -q "Mirror sync in progress" "$logf"; then
      sed "s/^/debian-apt: [$what] /" "$logf" >&2
      return 4
    fi
    if ((attempt < TRIES)); then
      local wait="${BACKOFF[attempt - 1]:-180}"
      log "[$what] attempt $attempt/$TRIES failed ($(grep -m1 -E '^(E: Failed to fetch|Err:)' "$logf" | cut -c1-200 || echo "exit $rc")); refreshing the index and retrying in ${wait}s"
      sleep "$wait"
      ("$SELF" update --force "$SUITE" "$ARCH") >/dev/null 2>&1 || log "[$what] index refresh failed; retrying with the old index"
    fi
  done
  log "[$what] failed after $TRIES attempt(s) (suite=$SUITE arch=$ARCH, $(current_uri)); apt said:"
  grep -E '^(Err:|E: |W: |  )' "$logf" | sed "s/^/debian-apt: [$what] /" >&2 || tail -n 20 "$logf" | sed "s/^/debian-apt: [$what] /" >&2
  return 2
}

# bullseye: when its pool has left deb.debian.org, point its private sources at archive.debian.org.
# Returns 0 if the switch worked (index fetched from the archive), 1 otherwise (sources restored).
try_archive_switch() {
  [[ "$SUITE" == "bullseye" && "$(current_uri)" == "$MIRROR" ]] || return 1
  grep -qE "404" "$1" || return 1
  log "bullseye's pool answers 404 on $MIRROR (moved to the archive?); trying $ARCHIVE_MIRROR"
  prepare_dir "$SUITE" "$ARCHIVE_MIRROR"
  : >"$APTDIR/check-valid-until-off"
  if DEBIAN_APT_TRIES=2 "$SELF" update --force "$SUITE" "$ARCH"; then
    set_apt "$SUITE" "$ARCH"
    return 0
  fi
  log "$ARCHIVE_MIRROR is not reachable from here either; restoring $MIRROR"
  rm -f "$APTDIR/check-valid-until-off"
  prepare_dir "$SUITE" "$MIRROR"
  ("$SELF" update --force "$SUITE" "$ARCH") >/dev/null 2>&1 || true
  set_apt "$SUITE" "$ARCH"
  return 1
}

do_source() {
  local download_only=0 tar_only=0
  while [[ "${1:-}" == --* ]]; do
    case "$1" in
      --download-only) download_only=1 ;;
      --tar-only) tar_only=1 ;;
      *) die 1 "unknown option $1" ;;
    esac
    shift
  done
  [[ $# -eq 3 ]] || usage
  local suite="$1" pkg="$2" dest="$3"
  check_name suite "$suite"; check_name package "$pkg"
  [[ $download_only -eq 1 || $tar_only -eq 1 ]] || need dpkg-source dpkg-dev
  local arch; arch="$(native_arch)"
  SUITE="$suite"; ARCH="$arch"
  ensure_updated "$suite" "$arch"
  mkdir -p "$dest"
  dest="$(cd "$dest" && pwd)"
  local extra=()
  [[ $tar_only -eq 1 ]] && extra+=(--tar-only)
  local stage rc what="$suite source $pkg"
  while :; do
    lock_dir
    stage="$(stage_dir)"
    rc=0
    (cd "$stage" && run_fetch "$what" "$APTDIR/source.log" apt-get "${APT_OPTS[@]}" -q source --download-only "${extra[@]}" "$pkg") || rc=$?
    if [[ $rc -eq 2 ]] && try_archive_switch "$APTDIR/source.log"; then
      rm -rf "$stage"; continue
    fi
    break
  done
  if [[ $rc -ne 0 ]]; then
    rm -rf "$stage"
    exit "$rc"
  fi
  # apt has checked every file against the signed Sources index; keep the downloaded files.
  local f files=()
  for f in "$stage"/*; do
    [[ -f "$f" ]] || continue
    mv -f "$f" "$dest/"
    files+=("$dest/$(basename "$f")")
  done
  rm -rf "$stage"
  [[ ${#files[@]} -gt 0 ]] || die 4 "apt-get source downloaded nothing for $pkg in $suite"
  if [[ $tar_only -eq 1 ]]; then
    # Upstream tarball only (no Debian changes): unpack it with tar into PKG-UPSTREAM.orig.
    local orig; orig="$(printf '%s\n' "${files[@]}" | grep -E '\.orig\.tar\.[a-z0-9]+$' | head -n1)"
    [[ -n "$orig" ]] || orig="$(printf '%s\n' "${files[@]}" | grep -E '\.tar\.[a-z0-9]+$' | head -n1)"
    [[ -n "$orig" ]] || die 4 "no tarball among: ${files[*]}"
    local base; base="$(basename "$orig")"; base="${base%%.orig.tar.*}"; base="${base%%.tar.*}"
    local out="$dest/${base/_/-}.orig" sha; sha="$(sha256sum "$orig" | awk '{print $1}')"
    if [[ $download_only -eq 1 ]]; then printf '%s\n' "$orig"; return 0; fi
    if [[ -d "$out" && -f "$out.tar-sha256" && "$(cat "$out.tar-sha256")" == "$sha" ]]; then
      log "already unpacked: $out"; printf '%s\n' "$out"; return 0
    fi
    rm -rf "$out" "$out.tmp"; mkdir -p "$out.tmp"
    tar -xf "$orig" -C "$out.tmp" || { rm -rf "$out.tmp"; die 4 "cannot unpack $orig"; }
    local top; top="$(find "$out.tmp" -mindepth 1 -maxdepth 1 -type d | head -n1)"
    [[ -n "$top" ]] || { rm -rf "$out.tmp"; die 4 "$orig has no top directory"; }
    mv "$top" "$out"; rm -rf "$out.tmp"
    printf '%s\n' "$sha" >"$out.tar-sha256"
    log "unpacked upstream tarball $(basename "$orig") (without Debian changes) into $out"
    printf '%s\n' "$out"
    return 0
  fi
  local dsc; dsc="$(printf '%s\n' "${files[@]}" | grep -E '\.dsc$' | head -n1)"
  [[ -n "$dsc" ]] || die 4 "apt-get source produced no .dsc for $pkg in $suite"
  if [[ $download_only -eq 1 ]]; then
    printf '%s\n' "$dsc"
    return 0
  fi
  local srcname version upstream
  srcname="$(awk -F': ' '$1=="Source"{print $2; exit}' "$dsc")"
  version="$(awk -F': ' '$1=="Version"{print $2; exit}' "$dsc")"
  upstream="${version#*:}"; upstream="${upstream%-*}"
  local out="$dest/$srcname-$upstream"
  local sha; sha="$(sha256sum "$dsc" | awk '{print $1}')"
  if [[ -d "$out" && -f "$out.dsc-sha256" && "$(cat "$out.dsc-sha256")" == "$sha" ]]; then
    log "already unpacked: $out ($(basename "$dsc"))"
    printf '%s\n' "$out"
    return 0
  fi
  rm -rf "$out" "$out.tmp"
  # dpkg-source -x re-checks every file against the .dsc checksums before unpacking.
  if ! (cd "$dest" && LC_ALL=C dpkg-source --no-copy -x "$(basename "$dsc")" "$(basename "$out").tmp" >"$APTDIR/dpkg-source.log" 2>&1); then
    sed "s/^/debian-apt: [dpkg-source] /" "$APTDIR/dpkg-source.log" >&2
    rm -rf "$out.tmp"
    die 4 "dpkg-source -x failed for $dsc"
  fi
  mv "$out.tmp" "$out"
  printf '%s\n' "$sha" >"$out.dsc-sha256"
  log "unpacked $srcname $version from $suite into $out"
  printf '%s\n' "$out"
}

do_download() {
  [[ $# -eq 4 ]] || usage
  local suite="$1" arch="$2" spec="$3" dest="$4"
  check_name suite "$suite"; check_name arch "$arch"; check_name package "$spec"
  SUITE="$suite"; ARCH="$arch"
  ensure_updated "$suite" "$arch"
  lock_dir
  mkdir -p "$dest"
  dest="$(cd "$dest" && pwd)"
  local stage; stage="$(stage_dir)"
  local rc=0
  (cd "$stage" && run_fetch "$suite $arch download $spec" "$APTDIR/download.log" apt-get "${APT_OPTS[@]}" -q download "$spec") || rc=$?
  if [[ $rc -ne 0 ]]; then
    rm -rf "$stage"
    exit "$rc"
  fi
  local deb; deb="$(find "$stage" -maxdepth 1 -name '*.deb' | head -n1)"
  [[ -n "$deb" ]] || { rm -rf "$stage"; die 4 "apt-get download produced no .deb for $spec"; }
  mv -f "$deb" "$dest/"
  rm -rf "$stage"
  printf '%s\n' "$dest/$(basename "$deb")"
}

do_show() {
  [[ $# -eq 3 ]] || usage
  local suite="$1" arch="$2" pkg="$3"
  check_name suite "$suite"; check_name arch "$arch"; check_name package "$pkg"
  SUITE="$suite"; ARCH="$arch"
  ensure_updated "$suite" "$arch"
  local cand
  cand="$(LC_ALL=C apt-cache "${APT_OPTS[@]}" policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2; exit}')"
  if [[ -z "$cand" || "$cand" == "(none)" ]]; then die 3 "no candidate for $pkg in $suite/$arch"; fi
  printf '%s\n' "$cand"
}

do_showsrc() {
  local all=0
  if [[ "${1:-}" == "--all" ]]; then all=1; shift; fi
  [[ $# -eq 2 ]] || usage
  local suite="$1" pkg="$2"
  check_name suite "$suite"; check_name package "$pkg"
  local arch; arch="$(native_arch)"
  SUITE="$suite"; ARCH="$arch"
  ensure_updated "$suite" "$arch"
  local v
  v="$(LC_ALL=C apt-cache "${APT_OPTS[@]}" showsrc --only-source "$pkg" 2>/dev/null | awk -F': ' '$1=="Version"{print $2}' | sort -Vr | uniq)"
  [[ -n "$v" ]] || die 3 "no source package $pkg in $suite"
  if [[ $all -eq 1 ]]; then printf '%s\n' "$v"; else printf '%s\n' "$v" | head -n1; fi
}

cmd="${1:-}"
[[ $# -gt 0 ]] && shift
case "$cmd" in
  update) do_update "$@" ;;
  source) do_source "$@" ;;
  download) do_download "$@" ;;
  show) do_show "$@" ;;
  showsrc) do_showsrc "$@" ;;
  dir) [[ $# -eq 2 ]] || usage; set_apt "$1" "$2"; printf '%s\n' "$APTDIR" ;;
  -h | --help | help | "") usage ;;
  *) log "unknown command '$cmd'"; usage ;;
esac
