#!/usr/bin/env bash
# EMR bootstrap action: install the job's pinned Python requirements with the cluster's
# python3.11, on every node, before any step runs.
#
#   emr_install_python_deps.sh <requirements: s3://…/requirements.txt or a local path> [python]
#
# Idempotent: packages already installed at the pinned versions are left alone (pip decides);
# re-running it changes nothing. Says what it does on stdout (the bootstrap log).
set -euo pipefail

REQUIREMENTS="${1:?usage: $0 <requirements.txt uri or path> [python interpreter]}"
PYTHON="${2:-python3.11}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

log() { echo "[emr_install_python_deps] $(date -u +%FT%TZ) $*"; }

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  log "interpreter $PYTHON not found"
  exit 1
fi

case "$REQUIREMENTS" in
  s3://*)
    log "fetching $REQUIREMENTS"
    aws s3 cp --only-show-errors "$REQUIREMENTS" "$WORK/requirements.txt"
    ;;
  *)
    cp "$REQUIREMENTS" "$WORK/requirements.txt"
    ;;
esac

log "installing with $("$PYTHON" --version 2>&1) ($PYTHON):"
sed 's/^/  /' "$WORK/requirements.txt"
# --user would hide the packages from YARN containers running as other users: install system-wide
# when root (EMR runs bootstrap actions as hadoop with sudo), else into the interpreter's prefix.
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && [ "${EMR_BOOTSTRAP_NO_SUDO:-}" = "" ]; then
  SUDO="sudo"
fi
$SUDO "$PYTHON" -m pip install --quiet --disable-pip-version-check --requirement "$WORK/requirements.txt"
log "installed:"
"$PYTHON" -m pip freeze --disable-pip-version-check | sed 's/^/  /'
log "done"
