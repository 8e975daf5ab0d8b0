#!/usr/bin/env bash
# Runs the given pytest layers (unit, integration, e2e) in order. A layer that collects no test fails:
# a green run must have run something. Integration starts the local cluster; e2e installs the chart.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
PYTEST="$REPO_ROOT/.venv/bin/pytest"
[ -x "$PYTEST" ] || make -s install

for layer in "$@"; do
  case "$layer" in
    integration) bash "$HACK_DIR/cluster-up.sh" ;;
    e2e) bash "$HACK_DIR/up.sh" ;;
  esac
  log "pytest layer: $layer"
  set +e
  "$PYTEST" -m "$layer" "tests/$layer"
  rc=$?
  set -e
  if [ $rc -eq 5 ]; then die "layer '$layer' collected no tests"; fi
  [ $rc -eq 0 ] || die "layer '$layer' failed (pytest exit $rc)"
done
