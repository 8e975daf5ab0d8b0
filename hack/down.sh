#!/usr/bin/env bash
# `make down`: uninstall the chart (when the cluster runs) and stop the local cluster.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RELEASE="${VIDEOMERGE_RELEASE:-videomerge}" NAMESPACE="${VIDEOMERGE_NAMESPACE:-videomerge}"
if [ -f "$KUBECONFIG_PATH" ] && kubectl --kubeconfig "$KUBECONFIG_PATH" get --raw /readyz >/dev/null 2>&1; then
  "$TOOLS_BIN/helm" --kubeconfig "$KUBECONFIG_PATH" uninstall "$RELEASE" --namespace "$NAMESPACE" --wait >/dev/null 2>&1 || true
fi
rm -f /tmp/videomerge-ready/chart
bash "$HACK_DIR/cluster-down.sh"
