#!/usr/bin/env bash
# `make up`: the local cluster, the project images built and loaded, the chart installed with the local
# values, and the API answering at http://127.0.0.1:8080. Re-running upgrades in place.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
RELEASE="${VIDEOMERGE_RELEASE:-videomerge}" NAMESPACE="${VIDEOMERGE_NAMESPACE:-videomerge}"
API_URL="http://127.0.0.1:8080"

bash "$HACK_DIR/cluster-up.sh" >/dev/null
export KUBECONFIG="$KUBECONFIG_PATH"
bash "$HACK_DIR/images.sh"
bash "$HACK_DIR/build-binaries.sh" helm
# Helm installs crds/ only on first install; applying it first keeps upgrades of the CRD flowing too.
kubectl apply --server-side --force-conflicts -f crds/videomerge.yaml >/dev/null
kubectl wait --for condition=Established crd/videomerges.videomerge.io --timeout 60s >/dev/null
# Same tag, new build: the image IDs in a pod annotation roll the pods when an image changed.
images_digest="$(cat "$LOCAL_STATE"/images/*.id | sha256sum | cut -c1-16)"
log "helm upgrade --install $RELEASE (namespace $NAMESPACE)"
"$TOOLS_BIN/helm" upgrade --install "$RELEASE" charts/videomerge --namespace "$NAMESPACE" --create-namespace \
  -f charts/videomerge/values-local.yaml --set-string "podAnnotations.videomerge\.io/images=$images_digest" \
  --wait --timeout 5m >/dev/null
wait_for 120 "the API at $API_URL" curl -fsS "$API_URL/readyz" || {
  kubectl -n "$NAMESPACE" get pods -o wide >&2; kubectl -n "$NAMESPACE" logs deploy/"$RELEASE"-api --tail 30 >&2; exit 1; }
mkdir -p /tmp/videomerge-ready && touch /tmp/videomerge-ready/chart
log "VideoMerge is up: API $API_URL (docs: $API_URL/docs); kubectl --kubeconfig $KUBECONFIG_PATH -n $NAMESPACE get videomerges"
log "API token: make token NAME=admin (an admin, sees every merge) or make token NAME=<client> (sees its own)"
