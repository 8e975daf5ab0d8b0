#!/usr/bin/env bash
# Starts the local single-node Kubernetes the way hack/local-up-cluster.sh runs one on a single host:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd and kubelet as host processes,
# all on loopback. Builds and installs what is missing on first use. Idempotent: with the cluster up it
# only checks health and returns.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ "$(id -u)" = 0 ] || die "the local cluster needs root (containerd, kubelet, mounts)"

K="$LOCAL_STATE" PKI="$LOCAL_STATE/pki" LOGS="$LOCAL_STATE/logs"
started_at=$SECONDS

healthy() { # healthy NAME URL [client cert]: a component's health endpoint answers ok
  curl -fsSk --max-time 2 --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$2" 2>/dev/null | grep -q '^ok'
}
apiserver_ready() { healthy apiserver "https://127.0.0.1:$APISERVER_PORT/readyz"; }
node_ready() {
  kubectl --kubeconfig "$KUBECONFIG_PATH" get node "$NODE_NAME" \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -q True
}

start() { # start NAME CMD...: runs CMD in the background with its own session, log and pid file
  local name="$1"; shift
  pid_alive "$LOCAL_RUN/$name.pid" && return 0
  log "starting $name"
  detach "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$LOCAL_RUN/$name.pid"
}


if pid_alive "$LOCAL_RUN/kubelet.pid" && apiserver_ready && node_ready; then
  log "local cluster already up"; echo "$KUBECONFIG_PATH"; exit 0
fi

apt_install containerd runc containernetworking-plugins iptables conntrack openssl curl ca-certificates \
  kmod ethtool socat iproute2 mount util-linux
bash "$HACK_DIR/build-binaries.sh" kubernetes etcd
bash "$HACK_DIR/pki.sh"
mkdir -p "$LOGS" "$LOCAL_RUN" "$K/etcd" "$K/kubelet" "$K/pod-logs" "$K/cni/net.d" "$K/cni/ipam" "$K/containerd"
modprobe overlay 2>/dev/null || true
modprobe br_netfilter 2>/dev/null || true

write_kubeconfig() { # write_kubeconfig FILE CERT_NAME
  cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: videomerge-local
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority: $PKI/ca.crt
users:
- name: $2
  user:
    client-certificate: $PKI/$2.crt
    client-key: $PKI/$2.key
contexts:
- name: videomerge-local
  context: {cluster: videomerge-local, user: $2}
current-context: videomerge-local
KC
  chmod 600 "$1"
}
for who in admin controller-manager scheduler kubelet; do write_kubeconfig "$K/$who.kubeconfig" "$who"; done

# etcd
start etcd "$ETCD_BIN/etcd" --name videomerge-local --data-dir "$K/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "videomerge-local=http://127.0.0.1:$ETCD_PEER_PORT" \
  --listen-metrics-urls "http://127.0.0.1:23810" --quota-backend-bytes 2147483648 --log-level warn
wait_for 30 etcd curl -fs "http://127.0.0.1:$ETCD_CLIENT_PORT/health"

# kube-apiserver. The `kubernetes` Service gets no endpoints (reconciler none): in-cluster clients of this
# cluster are told to use 127.0.0.1:6443 directly, so nothing is ever routed to the service range.
start kube-apiserver "$K8S_BIN/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
  --endpoint-reconciler-type none \
  --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" --client-ca-file "$PKI/ca.crt" \
  --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-cluster-ip-range "$SERVICE_CIDR" \
  --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
  --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
  --kubelet-preferred-address-types InternalIP,Hostname \
  --allow-privileged=true --profiling=false --v=1
wait_for 90 "kube-apiserver /readyz" apiserver_ready || { tail -30 "$LOGS/kube-apiserver.log" >&2; exit 1; }

start kube-controller-manager "$K8S_BIN/kube-controller-manager" \
  --kubeconfig "$K/controller-manager.kubeconfig" \
  --authentication-kubeconfig "$K/controller-manager.kubeconfig" --authorization-kubeconfig "$K/controller-manager.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port 10257 --leader-elect=false \
  --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" --use-service-account-credentials \
  --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
  --service-cluster-ip-range "$SERVICE_CIDR" --allocate-node-cidrs=false --profiling=false --v=1
start kube-scheduler "$K8S_BIN/kube-scheduler" \
  --kubeconfig "$K/scheduler.kubeconfig" \
  --authentication-kubeconfig "$K/scheduler.kubeconfig" --authorization-kubeconfig "$K/scheduler.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port 10259 --leader-elect=false --profiling=false --v=1

# containerd: its own socket and state, apart from any containerd the machine or Docker runs.
runc_binary="$(command -v runc)"
if ! (echo -1 >/proc/self/oom_score_adj) 2>/dev/null; then
  log "this kernel refuses negative oom_score_adj: runc goes through hack/runc-oom-clamp.sh"
  install -m 0755 "$HACK_DIR/runc-oom-clamp.sh" "$K/runc-oom-clamp"
  runc_binary="$K/runc-oom-clamp"
fi
cat >"$K/containerd/config.toml" <<TOML
version = 2
root = "$K/containerd/root"
state = "$LOCAL_RUN/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$LOCAL_RUN/containerd/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$K/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$runc_binary"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$K/cni/net.d"
TOML
# Pods that do not use host networking get a bridge with no address on the host, no gateway and no NAT:
# they reach each other and nothing else.
cat >"$K/cni/net.d/10-videomerge-local.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "videomerge-local",
  "plugins": [
    {
      "type": "bridge", "bridge": "$CNI_BRIDGE", "isGateway": false, "ipMasq": false, "hairpinMode": false,
      "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR"}]], "dataDir": "$K/cni/ipam"}
    }
  ]
}
JSON
mkdir -p "$LOCAL_RUN/containerd"
start containerd containerd --config "$K/containerd/config.toml"
wait_for 30 containerd ctr --address "$CONTAINERD_SOCK" version
bash "$HACK_DIR/pause-image.sh"

# kubelet
printf 'nameserver 127.0.0.1\n' >"$K/resolv.conf"  # pods resolve nothing off this machine
cat >"$K/kubelet-config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
clusterDomain: cluster.local
resolvConf: $K/resolv.conf
podLogsDir: $K/pod-logs
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
makeIPTablesUtilChains: false
serializeImagePulls: false
maxPods: 250
YAML
kubelet_healthy() { curl -fsS --max-time 2 http://127.0.0.1:10248/healthz 2>/dev/null | grep -q '^ok'; }
# containerd answers on its socket before its CRI service is initialized, and a kubelet started in that
# window exits ("server is not initialized yet"): start it again until it reports healthy.
for attempt in 1 2 3 4 5; do
  start kubelet "$K8S_BIN/kubelet" --config "$K/kubelet-config.yaml" --kubeconfig "$K/kubelet.kubeconfig" \
    --hostname-override "$NODE_NAME" --root-dir "$K/kubelet" --v=1
  wait_for 30 "kubelet /healthz" kubelet_healthy && break
  pid_alive "$LOCAL_RUN/kubelet.pid" && break
  log "kubelet exited during start-up (attempt $attempt): $(grep 'command failed' "$LOGS/kubelet.log" | tail -n1 | cut -c1-200)"
  rm -f "$LOCAL_RUN/kubelet.pid"; sleep 2
done
wait_for 60 "kubelet /healthz" kubelet_healthy || { tail -30 "$LOGS/kubelet.log" >&2; exit 1; }
# The node object may still say Ready from before a restart: Ready must be written by this kubelet.
kubelet_started="$(date -u -d "@$(stat -c %Y "$LOCAL_RUN/kubelet.pid")" +%Y-%m-%dT%H:%M:%SZ)"
node_ready_now() {
  local heartbeat
  node_ready || return 1
  heartbeat="$(kubectl --kubeconfig "$KUBECONFIG_PATH" get node "$NODE_NAME" \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}' 2>/dev/null)"
  [[ "$heartbeat" > "$kubelet_started" || "$heartbeat" == "$kubelet_started" ]]
}
wait_for 120 "node $NODE_NAME Ready" node_ready_now || { tail -30 "$LOGS/kubelet.log" >&2; exit 1; }
mkdir -p /tmp/videomerge-ready && touch /tmp/videomerge-ready/cluster
log "local cluster up in $((SECONDS - started_at))s; kubeconfig: $KUBECONFIG_PATH"
echo "$KUBECONFIG_PATH"
