#!/usr/bin/env bash
# Prints the signing secret (whsec_…) of the local install's completion webhooks as the last line, for a
# receiver to verify `webhook-signature` with. The chart generates it once and keeps it across upgrades.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RELEASE="${VIDEOMERGE_RELEASE:-videomerge}" NAMESPACE="${VIDEOMERGE_NAMESPACE:-videomerge}"
[ -f "$KUBECONFIG_PATH" ] || die "no local cluster: run 'make up'"
secret="$(kubectl --kubeconfig "$KUBECONFIG_PATH" -n "$NAMESPACE" get secret "$RELEASE-webhook" \
  -o jsonpath='{.data.secret}' 2>/dev/null)" || die "no Secret $NAMESPACE/$RELEASE-webhook: run 'make up'"
[ -n "$secret" ] || die "Secret $NAMESPACE/$RELEASE-webhook has no key 'secret'"
echo "$secret" | base64 -d
echo
