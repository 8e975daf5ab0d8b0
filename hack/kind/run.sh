#!/usr/bin/env bash
# Runs a command inside the kind cluster's network namespace, with KUBECONFIG, API (the REST API's URL
# there), DOCKER_HOST (its dockerd) and the built kubectl, helm and kind on PATH.
# Usage: run.sh CMD...   (one argument: run through bash -c)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ -e "$KIND_NETNS_PATH" ] || die "no kind cluster: run 'make kind-up' first"
export KUBECONFIG="$KIND_KUBECONFIG" API="$KIND_API_URL" DOCKER_HOST="unix://$KIND_DOCKER_SOCK"
export VIDEOMERGE_KIND_RELEASE="$KIND_RELEASE" VIDEOMERGE_KIND_NAMESPACE="$KIND_NAMESPACE"
export PATH="$K8S_BIN:$TOOLS_BIN:$(dirname "$KIND_BIN"):$PATH"
if [ $# -eq 1 ]; then exec nsenter --net="$KIND_NETNS_PATH" bash -c "$1"; fi
exec nsenter --net="$KIND_NETNS_PATH" "$@"
