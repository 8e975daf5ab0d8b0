#!/usr/bin/env bash
# Generates the local cluster's certificates once: a CA, serving certs for the API server and kubelet,
# client certs for each component and the admin, and the service-account signing key.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PKI="$LOCAL_STATE/pki"
mkdir -p "$PKI"; chmod 700 "$PKI"
[ -f "$PKI/.complete" ] && exit 0
command -v openssl >/dev/null || apt_install openssl
cd "$PKI"

openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=videomerge-local-ca" \
  -keyout ca.key -out ca.crt 2>/dev/null

issue() { # issue NAME SUBJECT EXTENSIONS
  local name="$1" subject="$2" ext="$3"
  openssl req -newkey rsa:2048 -nodes -subj "$subject" -keyout "$name.key" -out "$name.csr" 2>/dev/null
  printf '%s\n' "$ext" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
    -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}
client_ext="basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
serving_ext() { printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' "$1"; }

issue apiserver "/CN=kube-apiserver" "$(serving_ext "IP:127.0.0.1,IP:$SERVICE_APISERVER_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local")"
issue kubelet-serving "/CN=$NODE_NAME" "$(serving_ext "IP:127.0.0.1,DNS:localhost")"
issue admin "/O=system:masters/CN=videomerge-admin" "$client_ext"
issue apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "$client_ext"
issue controller-manager "/CN=system:kube-controller-manager" "$client_ext"
issue scheduler "/CN=system:kube-scheduler" "$client_ext"
issue kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" "$client_ext"
openssl genrsa -out sa.key 2048 2>/dev/null
openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
chmod 600 ./*.key
touch .complete
log "certificates in $PKI"
