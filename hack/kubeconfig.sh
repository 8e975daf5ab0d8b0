#!/usr/bin/env bash
# Prints the local cluster's kubeconfig path as the last line; fails when the cluster is not up.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ -f "$KUBECONFIG_PATH" ] || die "no local cluster: run 'make cluster-up'"
kubectl --kubeconfig "$KUBECONFIG_PATH" get --raw /readyz >/dev/null 2>&1 || die "local cluster is not answering: run 'make cluster-up'"
echo "$KUBECONFIG_PATH"
