#!/usr/bin/env bash
# Builds the kind node image with the host's dockerd, following kind's `build node-image` steps without
# pulling anything: kubeadm/kubelet/kubectl and the control-plane, etcd, CoreDNS and pause images all come
# from sources built here (hack/build-binaries.sh), tagged as kubeadm expects, and are preloaded into the
# node's containerd. Cached: rebuilt only when one of its inputs changes. Prints the image name.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bash "$HACK_DIR/build-binaries.sh" kubernetes_node etcd coredns kind >&2
bash "$HACK_DIR/base-image.sh" >&2
GO="$("$HACK_DIR/ensure-go.sh")"
KIND_MODULE_DIR="$(GOFLAGS=-mod=mod "$GO" mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
[ -d "$KIND_MODULE_DIR/images/base/files" ] || die "kind's base files not found in its module ($KIND_MODULE_DIR)"

build() { # build TAG DOCKERFILE CONTEXT [BUILD ARGS...]
  local tag="$1" dockerfile="$2" context="$3"; shift 3
  DOCKER_BUILDKIT=0 docker build --network host -q -f "$dockerfile" -t "$tag" "$@" "$context" >/dev/null 2>&1 \
    || { DOCKER_BUILDKIT=0 docker build --network host -f "$dockerfile" -t "$tag" "$@" "$context" >&2; die "build of $tag failed"; }
}

ctx="$(mktemp -d /var/tmp/videomerge-kind-node.XXXXXX)"
builder=""
cleanup() { rm -rf "$ctx"; [ -z "$builder" ] || docker rm -f "$builder" >/dev/null 2>&1 || true; }
trap cleanup EXIT

# The component images kubeadm's manifests name.
cp "$K8S_BIN"/kube-apiserver "$K8S_BIN"/kube-controller-manager "$K8S_BIN"/kube-scheduler \
  "$K8S_BIN"/kube-proxy "$ETCD_BIN/etcd" "$VIDEOMERGE_CACHE/tools/coredns-$COREDNS_VERSION/coredns" "$ctx/"
for component in kube-apiserver kube-controller-manager kube-scheduler; do
  build "registry.k8s.io/$component:$KUBERNETES_VERSION" "$KIND_DIR/components/Dockerfile" "$ctx" --build-arg "BINARY=$component"
done
build "registry.k8s.io/etcd:${ETCD_VERSION#v}-0" "$KIND_DIR/components/Dockerfile" "$ctx" --build-arg BINARY=etcd
build "registry.k8s.io/kube-proxy:$KUBERNETES_VERSION" "$KIND_DIR/components/kube-proxy.Dockerfile" "$ctx"
build "registry.k8s.io/coredns/coredns:$COREDNS_VERSION" "$KIND_DIR/components/coredns.Dockerfile" "$ctx"
command -v gcc >/dev/null || apt_install gcc libc6-dev
gcc -Os -static -o "$ctx/pause" "$HACK_DIR/pause/pause.c" && strip "$ctx/pause"
build "registry.k8s.io/pause:$KIND_PAUSE_VERSION" "$HACK_DIR/pause/Dockerfile" "$ctx"

# The node base: kind's base files from its module, then ours (binaries, version, oom clamp).
mkdir -p "$ctx/node/kind-base" "$ctx/node/overlay/usr/bin" "$ctx/node/overlay/usr/local/sbin" "$ctx/node/overlay/kind"
cp -r "$KIND_MODULE_DIR/images/base/files/." "$ctx/node/kind-base/"
chmod -R u+w "$ctx/node/kind-base"
cp "$K8S_BIN/kubeadm" "$K8S_BIN/kubelet" "$K8S_BIN/kubectl" "$ctx/node/overlay/usr/bin/"
cp "$HACK_DIR/runc-oom-clamp.sh" "$ctx/node/overlay/usr/local/sbin/runc-oom-clamp"
printf '%s' "$KUBERNETES_VERSION" >"$ctx/node/overlay/kind/version"

inputs="$( {
  echo "$KIND_NODE_REVISION $KIND_VERSION"
  cat "$KIND_DIR/node/Dockerfile"
  (cd "$ctx/node" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
  for image in "${KIND_COMPONENT_IMAGES[@]}"; do docker image inspect -f '{{.Id}}' "$image"; done
} | sha256sum | cut -c1-16)"
if [ "$(docker image inspect -f '{{index .Config.Labels "videomerge.kind-node.inputs"}}' "$KIND_NODE_IMAGE" 2>/dev/null)" = "$inputs" ]; then
  echo "$KIND_NODE_IMAGE"; exit 0
fi
log "building the kind node image $KIND_NODE_IMAGE"
build "$KIND_NODE_IMAGE-base" "$KIND_DIR/node/Dockerfile" "$ctx/node"

# kind's step: start containerd in a build container, import the images unpacked later, commit.
# Not --privileged: containerd only writes its content store here, and root on some VMs cannot grant
# every capability.
builder="$(docker run -d --network none --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
  --security-opt apparmor=unconfined --entrypoint sleep "$KIND_NODE_IMAGE-base" infinity)"
docker exec "$builder" sh -c 'containerd >/var/log/containerd-build.log 2>&1 & echo $! >/run/containerd-build.pid'
wait_for 60 "containerd in the node image build" docker exec "$builder" ctr version
docker save "${KIND_COMPONENT_IMAGES[@]}" \
  | docker exec -i "$builder" ctr --namespace=k8s.io images import --all-platforms --no-unpack --digests - >/dev/null
preloaded="$(docker exec "$builder" ctr --namespace=k8s.io images ls -q)"
for image in "${KIND_COMPONENT_IMAGES[@]}"; do grep -qx "$image" <<<"$preloaded" || die "$image missing in the node image"; done
# The build container's PID 1 (sleep) reaps nothing: containerd is gone once it is a zombie.
docker exec "$builder" sh -c 'pid="$(cat /run/containerd-build.pid)"; kill -TERM "$pid"
  while [ -e "/proc/$pid" ] && [ "$(cut -d" " -f3 "/proc/$pid/stat")" != Z ]; do sleep 0.2; done
  rm -f /run/containerd-build.pid /var/log/containerd-build.log'
docker commit \
  --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' --change 'CMD []' \
  --change "LABEL videomerge.kind-node.inputs=$inputs" \
  "$builder" "$KIND_NODE_IMAGE" >/dev/null
log "built $KIND_NODE_IMAGE ($(docker image inspect -f '{{.Size}}' "$KIND_NODE_IMAGE" | numfmt --to=iec))"
echo "$KIND_NODE_IMAGE"
