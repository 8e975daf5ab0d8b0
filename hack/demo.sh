#!/usr/bin/env bash
# `make demo`: brings VideoMerge up when it is not (make up), then merges sample clips with the videomerge CLI.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
curl -fsS --max-time 2 http://127.0.0.1:8080/readyz >/dev/null 2>&1 || bash "$HACK_DIR/up.sh"
KUBECONFIG="$KUBECONFIG_PATH" VIDEOMERGE_NAMESPACE="${VIDEOMERGE_NAMESPACE:-videomerge}" .venv/bin/python hack/demo.py
