#!/usr/bin/env bash
# `make token NAME=<client>`: a working bearer token for API client <client> of the local install, printed
# as the last line. NAME=admin gives the admin token the chart generated; any other name gets a new token
# (the client is created by its first token; earlier tokens of the client stay valid). Only the token's
# SHA-256 is stored, as a key `<client>.<id>` of the API's clients Secret; the API re-reads it when the
# kubelet refreshes the mounted Secret (within about a minute), and this script waits until it does.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
NAME="${1:-}"
RELEASE="${VIDEOMERGE_RELEASE:-videomerge}" NAMESPACE="${VIDEOMERGE_NAMESPACE:-videomerge}"
API_URL="${VIDEOMERGE_API_URL:-http://127.0.0.1:8080}"
[[ "$NAME" =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] ||
  die "NAME must be a client name: lower-case letters, digits and '-', at most 63 (e.g. make token NAME=alice)"
export KUBECONFIG="$KUBECONFIG_PATH"
case "$RELEASE" in *videomerge*) FULLNAME="$RELEASE" ;; *) FULLNAME="$RELEASE-videomerge" ;; esac
CLIENTS_SECRET="$FULLNAME-api-clients"
kubectl -n "$NAMESPACE" get secret "$CLIENTS_SECRET" >/dev/null 2>&1 ||
  die "no Secret $NAMESPACE/$CLIENTS_SECRET: is VideoMerge installed with auth on? (make up)"

api_accepts() {
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $1" \
    "$API_URL/api/v1/merge?limit=1")" = 200 ]
}

token=""
if [ "$NAME" = admin ]; then
  token="$(kubectl -n "$NAMESPACE" get secret "$FULLNAME-api-token" -o jsonpath='{.data.token}' 2>/dev/null |
    base64 -d || true)"
fi
if [ -z "$token" ]; then
  role=client; [ "$NAME" = admin ] && role=admin
  token="vm_$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)"
  digest="$(printf '%s' "$token" | sha256sum | cut -c1-64)"
  key="$NAME.$(date +%s)$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  entry="{\\\"role\\\":\\\"$role\\\",\\\"sha256\\\":\\\"$digest\\\"}"
  kubectl -n "$NAMESPACE" patch secret "$CLIENTS_SECRET" --type merge \
    -p "{\"stringData\":{\"$key\":\"$entry\"}}" >/dev/null
  log "client $NAME ($role): new token stored hashed as key $key of Secret $CLIENTS_SECRET;" \
    "waiting for the API to pick it up (the kubelet refreshes mounted Secrets within about a minute)"
fi
wait_for 180 "the API at $API_URL to accept the token of $NAME" api_accepts "$token" ||
  die "the API did not accept the token (is it up? kubectl -n $NAMESPACE logs deploy/$FULLNAME-api)"
echo "$token"
