#!/usr/bin/env bash
# Keeps `kubectl port-forward` of one Service running on the namespace's loopback, restarting it when its
# pod goes away (a rollout, a deleted pod). Run inside the kind namespace by up.sh; stopped by down.sh.
# Usage: port-forward.sh NAMESPACE SERVICE LOCAL_PORT:SERVICE_PORT
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
while true; do
  "$K8S_BIN/kubectl" --kubeconfig "$KIND_KUBECONFIG" port-forward --address 127.0.0.1 -n "$1" "svc/$2" "$3" || true
  sleep 1
done
