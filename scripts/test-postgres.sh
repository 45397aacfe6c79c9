#!/usr/bin/env bash
# Throwaway PostgreSQL 15 + pgvector server for Cairn's tests.
#
#   scripts/test-postgres.sh start    logs to stderr; last (only) stdout line is
#                                     postgresql://postgres@127.0.0.1:<port>/cairn_test
#   scripts/test-postgres.sh stop     stops the server and deletes its data dir
#   scripts/test-postgres.sh status   prints the URI and exits 0 if running, else exits 1
#
# Typical use:  pg_url=$(scripts/test-postgres.sh start)   # fails the caller on error
#
# Meant for Debian 12 machines that ship the PostgreSQL 15 server but not
# pgvector (bookworm has no pgvector package), run as root, non-interactively.
# Every step is skipped when already done, so re-running is cheap.
set -euo pipefail

readonly PG_MAJOR=15
readonly PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
readonly PG_CONFIG=$PG_BIN/pg_config
readonly DB_NAME=cairn_test
readonly STATE_DIR=${TMPDIR:-/tmp}/cairn-test-pg
readonly STATE_FILE=$STATE_DIR/state
readonly LOCK_FILE=$STATE_DIR/lock
readonly NOISY_LOG=$STATE_DIR/provision.log
readonly APT_SRC_FILE=/etc/apt/sources.list.d/cairn-trixie-src.sources
readonly DEFAULT_MIRROR=http://deb.debian.org/debian
readonly DEFAULT_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

export DEBIAN_FRONTEND=noninteractive
# CI gives us no stdin; make sure nothing we run ever waits on one.
exec </dev/null

log() { printf 'test-postgres: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Anything that may leave a daemon behind (pg_ctl, and apt-get whose postinst
# scripts can start services) must not inherit fd 3 (the caller's stdout, kept
# for the URI) or fd 9 (our lock): a daemon holding fd 3 makes `$(... start)`
# hang forever, and one holding fd 9 keeps the lock taken for ever.
detached() { "$@" 3>&- 9>&-; }

as_root() {
  if ((EUID == 0)); then
    detached "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    detached sudo -n -E "$@"
  else
    die "need root (or passwordless sudo) to run: $*"
  fi
}

# The server refuses to run as root, so as root it runs as the packaged
# `postgres` user; a non-root developer runs it as themselves.
as_pg() {
  if ((EUID == 0)); then
    detached runuser -u postgres -- "$@"
  else
    detached "$@"
  fi
}

# apt, make and initdb are chatty; keep their output in a log that is shown
# only when they fail, so a normal run prints a handful of lines.
noisy() {
  local rc=0
  "$@" >>"$NOISY_LOG" 2>&1 || rc=$?
  if ((rc != 0)); then
    log "failed (exit $rc): $*"
    log "last lines of $NOISY_LOG:"
    tail -n 40 "$NOISY_LOG" >&2
    exit "$rc"
  fi
}

pkg_installed() {
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

APT_UPDATED=0
apt_update_once() {
  ((APT_UPDATED)) && return 0
  log "apt-get update"
  # Mirrors occasionally hiccup; one retry turns most CI flakes into a pass.
  if ! as_root apt-get update -q -o DPkg::Lock::Timeout=300 >>"$NOISY_LOG" 2>&1; then
    log "apt-get update failed, retrying once in 10 s"
    sleep 10
    noisy as_root apt-get update -q -o DPkg::Lock::Timeout=300
  fi
  APT_UPDATED=1
}

apt_install() {
  log "apt-get install $*"
  noisy as_root apt-get install -y -q --no-install-recommends \
    -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0 "$@"
}

# Prints "<mirror URI> <keyring path>" of the machine's main bookworm entry, so
# the trixie deb-src entry uses the same (possibly local/proxied) mirror.
detect_mirror() {
  local found=""
  if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
    found=$(awk '
      BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; uri = ""; suites = ""; key = ""
        for (i = 1; i <= NF; i++) {
          line = $i
          if (line ~ /^[ \t]*#/) continue
          if (line ~ /^Types:/)     { types = " " substr(line, 7) " " }
          if (line ~ /^Suites:/)    { suites = " " substr(line, 8) " " }
          if (line ~ /^URIs:/)      { sub(/^URIs:[ \t]*/, "", line); split(line, u, /[ \t]+/); uri = u[1] }
          if (line ~ /^Signed-By:/) { sub(/^Signed-By:[ \t]*/, "", line); key = line }
        }
        if (types ~ /[ \t]deb[ \t]/ && suites ~ /[ \t]bookworm[ \t]/ && uri != "") {
          print uri, key; exit
        }
      }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [[ -z $found && -r /etc/apt/sources.list ]]; then
    # One-line format: deb [options] URI bookworm components...
    found=$(awk '$1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while ($i !~ /\]$/ && i < NF) i++; i++ }
        if ($(i + 1) == "bookworm") { print $i; exit }
      }' /etc/apt/sources.list)
  fi
  local mirror key
  read -r mirror key <<<"${found:-}" || true
  mirror=${mirror:-$DEFAULT_MIRROR}
  # Signed-By may be an inline key block; only a keyring file path is usable here.
  [[ -n ${key:-} && -f $key ]] || key=$DEFAULT_KEYRING
  printf '%s %s\n' "${mirror%/}" "$key"
}

ensure_postgres_server() {
  [[ -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl && -x $PG_BIN/psql ]] && return 0
  log "PostgreSQL $PG_MAJOR server not found; installing it"
  apt_update_once
  apt_install "postgresql-$PG_MAJOR"
}

pgvector_installed() {
  local pkglib sharedir
  pkglib=$("$PG_CONFIG" --pkglibdir) && sharedir=$("$PG_CONFIG" --sharedir) || return 1
  [[ -f $pkglib/vector.so && -f $sharedir/extension/vector.control ]]
}

BUILD_DIR=""
ensure_pgvector() {
  if pgvector_installed; then
    log "pgvector already installed for PostgreSQL $PG_MAJOR"
    return 0
  fi
  local t0=$SECONDS mirror keyring
  read -r mirror keyring < <(detect_mirror)

  # deb-src only: a source index can never offer binaries to install or
  # upgrade, so leaving this entry in place is harmless and saves a rewrite.
  local want
  want=$(printf '%s\n' \
    "# Managed by Cairn's scripts/test-postgres.sh: source-only entry used to" \
    "# build pgvector (not packaged for bookworm). Safe: deb-src never installs." \
    "Types: deb-src" \
    "URIs: $mirror" \
    "Suites: trixie" \
    "Components: main" \
    "Signed-By: $keyring")
  if [[ ! -f $APT_SRC_FILE || $(<"$APT_SRC_FILE") != "$want" ]]; then
    log "writing $APT_SRC_FILE (deb-src trixie from $mirror)"
    printf '%s\n' "$want" | as_root tee "$APT_SRC_FILE" >/dev/null
  fi
  apt_update_once

  # Headers must come from the same minor release as the installed server when
  # possible; an unpinned install would drag in a server upgrade as a side effect.
  local missing=() server_ver
  server_ver=$(dpkg-query -W -f='${Version}' "postgresql-$PG_MAJOR" 2>/dev/null || true)
  pkg_installed build-essential || missing+=(build-essential)
  pkg_installed dpkg-dev || missing+=(dpkg-dev)
  if ! pkg_installed "postgresql-server-dev-$PG_MAJOR"; then
    if [[ -n $server_ver ]] && apt-cache show "postgresql-server-dev-$PG_MAJOR=$server_ver" >/dev/null 2>&1; then
      missing+=("postgresql-server-dev-$PG_MAJOR=$server_ver")
    else
      missing+=("postgresql-server-dev-$PG_MAJOR")
    fi
  fi
  ((${#missing[@]} == 0)) || apt_install "${missing[@]}"

  BUILD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cairn-pgvector-build.XXXXXX")
  # apt drops privileges to _apt for downloads; let it write here so it does
  # not warn about falling back to an unsandboxed download.
  if ((EUID == 0)) && getent passwd _apt >/dev/null; then chown _apt "$BUILD_DIR"; fi
  log "fetching Debian source package pgvector (trixie)"
  (cd "$BUILD_DIR" && noisy detached apt-get source -q --download-only pgvector/trixie)
  local dsc
  dsc=$(find "$BUILD_DIR" -maxdepth 1 -name 'pgvector_*.dsc' | head -n1)
  [[ -n $dsc ]] || die "apt-get source did not produce a pgvector .dsc"
  # The files were already verified by apt against the signed Sources index.
  (cd "$BUILD_DIR" && noisy dpkg-source --no-check -x "$dsc" src)

  log "building $(basename "$dsc" .dsc)"
  # OPTFLAGS= drops upstream's -march=native, which would tie the installed
  # .so to this exact CPU (Debian's own build does the same).
  noisy make -C "$BUILD_DIR/src" -j"$(nproc)" PG_CONFIG="$PG_CONFIG" OPTFLAGS=
  noisy as_root make -C "$BUILD_DIR/src" PG_CONFIG="$PG_CONFIG" OPTFLAGS= install
  pgvector_installed || die "pgvector build finished but vector.so/vector.control are missing"
  log "pgvector installed in $((SECONDS - t0)) s"
}

free_port() {
  if command -v node >/dev/null; then
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
  elif command -v python3 >/dev/null; then
    python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'
  else
    die "need node or python3 to pick a free port"
  fi
}

# State file: plain KEY=VALUE lines, parsed (never sourced: it lives in /tmp).
RUN_DIR="" DATA_DIR="" PORT="" URI=""
read_state() {
  RUN_DIR="" DATA_DIR="" PORT="" URI=""
  [[ -f $STATE_FILE ]] || return 1
  local k v
  while IFS='=' read -r k v; do
    case $k in
      RUN_DIR) RUN_DIR=$v ;; DATA_DIR) DATA_DIR=$v ;; PORT) PORT=$v ;; URI) URI=$v ;;
    esac
  done <"$STATE_FILE"
  [[ -n $DATA_DIR && -n $URI ]]
}

# Not `pg_ctl status`: in containers whose PID 1 is slow to reap, a killed
# postmaster lingers as a zombie that kill -0 still reports alive; and a
# recycled PID must never be mistaken for ours (stop would signal it).
postmaster_alive() {
  [[ -n $DATA_DIR && -f $DATA_DIR/postmaster.pid ]] || return 1
  local pid state
  pid=$(head -n1 "$DATA_DIR/postmaster.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == postgres ]] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

server_running() {
  postmaster_alive && [[ -n $PORT ]] &&
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 5
}

stop_and_remove() {
  if postmaster_alive; then
    log "stopping server on port ${PORT:-?}"
    # The data is thrown away, so no need to wait for a clean checkpoint if
    # a fast shutdown gets stuck.
    as_pg "$PG_BIN/pg_ctl" -s -D "$DATA_DIR" -m fast -w -t 30 stop >&2 ||
      as_pg "$PG_BIN/pg_ctl" -s -D "$DATA_DIR" -m immediate -w -t 30 stop >&2 || true
  fi
  # Only ever delete directories we created (guards against a corrupt state file).
  if [[ -n $RUN_DIR && $RUN_DIR == */cairn-test-pg*/run.* && -d $RUN_DIR ]]; then
    rm -rf -- "$RUN_DIR"
  fi
  rm -f -- "$STATE_FILE"
}

# Directory for the server's files: postgres must be able to reach it, which
# is not the case when TMPDIR is e.g. under a 0700 home directory.
run_base() {
  if ((EUID != 0)) || runuser -u postgres -- test -x "$STATE_DIR" 2>/dev/null; then
    printf '%s\n' "$STATE_DIR"
  else
    mkdir -p /tmp/cairn-test-pg && chmod 755 /tmp/cairn-test-pg
    printf '%s\n' /tmp/cairn-test-pg
  fi
}

STARTED_OK=0
on_exit() {
  local rc=$?
  [[ -n $BUILD_DIR && -d $BUILD_DIR ]] && rm -rf -- "$BUILD_DIR"
  # A start that failed half-way must not leave a server nobody knows about.
  if ((rc != 0 && STARTED_OK == 0)) && [[ -n $RUN_DIR && ! -f $STATE_FILE ]]; then
    stop_and_remove 2>/dev/null || true
  fi
  return "$rc"
}

start_server() {
  local base
  base=$(run_base)
  RUN_DIR=$(mktemp -d "$base/run.XXXXXX")
  DATA_DIR=$RUN_DIR/data
  ((EUID == 0)) && chown postgres: "$RUN_DIR"

  log "initdb in $DATA_DIR"
  # -U postgres: the URI's user is the same whoever runs the script.
  # --no-sync / trust auth: throwaway data on loopback only.
  (cd / && noisy as_pg "$PG_BIN/initdb" -D "$DATA_DIR" -U postgres --auth=trust \
    -E UTF8 --locale=C --no-sync --no-instructions)
  as_pg tee -a "$DATA_DIR/postgresql.conf" >/dev/null <<<"include_if_exists = 'cairn-test.conf'"

  local attempt
  for attempt in 1 2 3; do
    PORT=$(free_port)
    # No unix socket: avoids clashing with a system cluster's socket in
    # /var/run/postgresql and the 107-byte socket path limit under long TMPDIRs.
    # fsync etc. off: tests never need crash safety, and they run much faster.
    as_pg tee "$DATA_DIR/cairn-test.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = ''
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    log "starting server on 127.0.0.1:$PORT (attempt $attempt)"
    if (cd / && as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" -l "$RUN_DIR/server.log" -w -t 60 start >>"$NOISY_LOG" 2>&1); then
      break
    fi
    # Another process may grab the port between picking and binding; retry
    # only that case, anything else is a real failure.
    if ((attempt == 3)) || ! grep -q 'could not bind\|Address already in use' "$RUN_DIR/server.log" 2>/dev/null; then
      tail -n 30 "$RUN_DIR/server.log" >&2 2>/dev/null || true
      die "server failed to start"
    fi
  done

  local base_uri=postgresql://postgres@127.0.0.1:$PORT
  local psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1)
  # vector in template1 first, so cairn_test and every database tests create
  # later (CREATE DATABASE defaults to template1) start with the extension.
  "${psql[@]}" "$base_uri/template1" -c 'CREATE EXTENSION IF NOT EXISTS vector' >&2
  "${psql[@]}" "$base_uri/postgres" -c "CREATE DATABASE $DB_NAME" >&2
  "${psql[@]}" "$base_uri/$DB_NAME" -c 'SET client_min_messages = warning' \
    -c 'CREATE EXTENSION IF NOT EXISTS vector' >&2

  URI=$base_uri/$DB_NAME
  printf 'RUN_DIR=%s\nDATA_DIR=%s\nPORT=%s\nURI=%s\n' "$RUN_DIR" "$DATA_DIR" "$PORT" "$URI" >"$STATE_FILE.tmp"
  mv -f -- "$STATE_FILE.tmp" "$STATE_FILE"
}

lock() {
  mkdir -p "$STATE_DIR"
  chmod 755 "$STATE_DIR" 2>/dev/null || true
  exec 9>"$LOCK_FILE"
  # Parallel test workers may all call `start`; only one may provision.
  flock -w 900 9 || die "timed out waiting for $LOCK_FILE"
}

cmd_start() {
  # Keep the real stdout on fd 3 for the URI; everything else goes to stderr.
  exec 3>&1 1>&2
  local t0=$SECONDS
  lock
  trap on_exit EXIT
  if read_state; then
    if server_running; then
      log "already running (data dir $DATA_DIR)"
      STARTED_OK=1
      printf '%s\n' "$URI" >&3
      return 0
    fi
    log "stale state from a server that is gone; cleaning it up"
    stop_and_remove
  fi
  RUN_DIR="" DATA_DIR="" PORT="" URI=""
  : >"$NOISY_LOG"
  ensure_postgres_server
  ensure_pgvector
  start_server
  STARTED_OK=1
  log "ready in $((SECONDS - t0)) s: $URI (data dir $DATA_DIR)"
  printf '%s\n' "$URI" >&3
}

cmd_stop() {
  lock
  if read_state; then
    stop_and_remove
    log "stopped and removed"
  else
    log "no server recorded in $STATE_FILE; nothing to stop"
    rm -f -- "$STATE_FILE"
  fi
}

cmd_status() {
  if read_state && server_running; then
    printf '%s\n' "$URI"
  else
    log "not running"
    return 1
  fi
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    printf 'usage: %s start|stop|status\n' "$0" >&2
    exit 2
    ;;
esac
