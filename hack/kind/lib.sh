# Shared settings of the kind cluster scripts (hack/kind/*.sh). Source it; do not run it.
# shellcheck shell=bash
# shellcheck source=hack/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
KIND_DIR="$HACK_DIR/kind"

# Everything of the kind cluster lives in one network namespace with a dockerd of its own; the host's
# networking and its dockerd are not touched.
KIND_NETNS="${VIDEOMERGE_KIND_NETNS:-videomerge-kind}"
KIND_NETNS_PATH="/run/netns/$KIND_NETNS"
KIND_RUN="${VIDEOMERGE_KIND_RUN:-/run/videomerge-kind}"
KIND_STATE="${VIDEOMERGE_KIND_STATE:-/var/lib/videomerge-kind}"
KIND_DOCKER_SOCK="$KIND_RUN/docker.sock"
KIND_CLUSTER="${VIDEOMERGE_KIND_CLUSTER:-videomerge}"
KIND_KUBECONFIG="$KIND_STATE/kubeconfig"
KIND_BIN="$VIDEOMERGE_CACHE/tools/kind-$KIND_VERSION/kind"
KIND_RELEASE="${VIDEOMERGE_KIND_RELEASE:-videomerge}"
KIND_NAMESPACE="${VIDEOMERGE_KIND_NAMESPACE:-videomerge}"
# Inside the namespace, the API and MinIO are reached through `kubectl port-forward` on its loopback,
# the way a laptop reaches them; presigned URLs are signed for that address.
KIND_API_PORT=8080
KIND_MINIO_PORT=9000
# The project images' tag in the kind cluster (hack/kind/values.yaml says the same).
KIND_IMAGE_TAG=kind
KIND_API_URL="http://127.0.0.1:$KIND_API_PORT"
KIND_PRESIGN_ENDPOINT="http://127.0.0.1:$KIND_MINIO_PORT"
# The node image: bump KIND_NODE_REVISION when the recipe changes, to rebuild it.
KIND_NODE_REVISION=1
KIND_NODE_IMAGE="videomerge/kind-node:$KUBERNETES_VERSION-r$KIND_NODE_REVISION"
# Images kubeadm $KUBERNETES_VERSION expects (`kubeadm config images list`), built here, never pulled.
KIND_COMPONENT_IMAGES=(
  "registry.k8s.io/kube-apiserver:$KUBERNETES_VERSION"
  "registry.k8s.io/kube-controller-manager:$KUBERNETES_VERSION"
  "registry.k8s.io/kube-scheduler:$KUBERNETES_VERSION"
  "registry.k8s.io/kube-proxy:$KUBERNETES_VERSION"
  "registry.k8s.io/coredns/coredns:$COREDNS_VERSION"
  "registry.k8s.io/pause:$KIND_PAUSE_VERSION"
  "registry.k8s.io/etcd:${ETCD_VERSION#v}-0"
)

in_netns() { nsenter --net="$KIND_NETNS_PATH" "$@"; }
kind_docker() { DOCKER_HOST="unix://$KIND_DOCKER_SOCK" docker "$@"; }
kind_cli() { DOCKER_HOST="unix://$KIND_DOCKER_SOCK" in_netns "$KIND_BIN" "$@"; }
kind_kubectl() { in_netns "$K8S_BIN/kubectl" --kubeconfig "$KIND_KUBECONFIG" "$@"; }
