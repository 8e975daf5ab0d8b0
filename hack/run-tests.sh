#!/usr/bin/env bash
# Runs the given pytest layers (unit, integration, e2e, kind) in order. A layer that collects no test fails:
# a green run must have run something. Integration starts the local cluster; e2e installs the chart; kind
# brings the kind cluster up and runs its tests inside the cluster's network namespace.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
PYTEST="$REPO_ROOT/.venv/bin/pytest"
[ -x "$PYTEST" ] || make -s install

for layer in "$@"; do
  case "$layer" in
    integration) bash "$HACK_DIR/cluster-up.sh" ;;
    e2e) bash "$HACK_DIR/up.sh" ;;
    kind) bash "$HACK_DIR/kind/up.sh" ;;
  esac
  log "pytest layer: $layer"
  set +e
  if [ "$layer" = kind ]; then
    bash "$HACK_DIR/kind/run.sh" "$PYTEST" -m "$layer" "tests/$layer"
  else
    "$PYTEST" -m "$layer" "tests/$layer"
  fi
  rc=$?
  set -e
  if [ $rc -eq 5 ]; then die "layer '$layer' collected no tests"; fi
  [ $rc -eq 0 ] || die "layer '$layer' failed (pytest exit $rc)"
done
