#!/usr/bin/env bash
# `make kind-up`: builds what is missing, creates the kind cluster (1 control-plane, 2 workers) inside a
# network namespace of its own, loads the project images, installs the chart with its default values
# (hack/kind/values.yaml lists the only overrides) and port-forwards the API and MinIO on the namespace's
# loopback. Idempotent. Its last two lines are KUBECONFIG=<path> and API=<url>, valid inside the namespace
# (`make kind-run CMD=...`). A failure removes everything again and says what failed, in one line.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
PROJECT_IMAGES=(videomerge/control:$KIND_IMAGE_TAG videomerge/worker:$KIND_IMAGE_TAG videomerge/minio:$KIND_IMAGE_TAG)
mkdir -p "$VIDEOMERGE_CACHE/kind"
step=""
on_exit() {
  local rc=$?
  [ $rc -eq 0 ] && return 0
  bash "$KIND_DIR/down.sh" >/dev/null 2>&1 || true
  echo "kind-up failed while ${step:-starting} (exit $rc); everything it created was removed" >&2
  exit $rc
}
trap on_exit EXIT
timed() { # timed STEP CMD...: runs CMD, logs its duration
  local started=$SECONDS
  step="$1"; shift
  "$@"
  log "$step: $((SECONDS - started)) s"
}

node_image_loaded() {
  [ "$(kind_docker image inspect -f '{{.Id}}' "$KIND_NODE_IMAGE" 2>/dev/null)" = "$(docker image inspect -f '{{.Id}}' "$KIND_NODE_IMAGE")" ]
}
load_node_image() { node_image_loaded || docker save "$KIND_NODE_IMAGE" | kind_docker load -q >/dev/null; }

cluster_exists() { kind_cli get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; }
create_cluster() {
  cluster_exists && return 0
  sed "s/@ETCD_IMAGE_TAG@/${ETCD_VERSION#v}-0/" "$KIND_DIR/cluster.yaml" >"$KIND_STATE/cluster.yaml"
  kind_cli create cluster --name "$KIND_CLUSTER" --image "$KIND_NODE_IMAGE" --config "$KIND_STATE/cluster.yaml" \
    --kubeconfig "$KIND_KUBECONFIG" --retain >&2
}
wait_ready() {
  kind_kubectl wait --for=condition=Ready nodes --all --timeout=180s >/dev/null
  kind_kubectl -n kube-system rollout status deployment/coredns --timeout=180s >/dev/null
}

# Only what changed moves: host dockerd -> the namespace's dockerd -> every node's containerd.
load_project_images() {
  local image id stamp
  for image in "${PROJECT_IMAGES[@]}"; do
    id="$(docker image inspect -f '{{.Id}}' "$image")"
    stamp="$KIND_STATE/loaded-${image//[\/:]/_}"
    [ "$(cat "$stamp" 2>/dev/null)" = "$id" ] && continue
    [ "$(kind_docker image inspect -f '{{.Id}}' "$image" 2>/dev/null)" = "$id" ] || docker save "$image" | kind_docker load -q >/dev/null
    # Only the workers run the project's pods (the control-plane node keeps its NoSchedule taint).
    kind_cli load docker-image --name "$KIND_CLUSTER" --nodes "$KIND_CLUSTER-worker,$KIND_CLUSTER-worker2" "$image" >/dev/null
    echo "$id" >"$stamp"
  done
}

install_chart() {
  in_netns "$TOOLS_BIN/helm" --kubeconfig "$KIND_KUBECONFIG" upgrade --install "$KIND_RELEASE" charts/videomerge \
    --namespace "$KIND_NAMESPACE" --create-namespace -f "$KIND_DIR/values.yaml" --wait --timeout 5m >/dev/null
}

start_port_forward() { # start_port_forward SERVICE LOCAL_PORT:SERVICE_PORT
  local pidfile="$KIND_RUN/port-forward-$1.pid"
  # A fresh forward each time: an old one may run a script of a checkout that has changed or gone.
  if pid_alive "$pidfile"; then kill -TERM -- "-$(cat "$pidfile")" 2>/dev/null || true; sleep 0.5; fi
  # setsid first: $! is the loop itself, leader of its own process group (down.sh stops the group).
  setsid nsenter --net="$KIND_NETNS_PATH" bash "$KIND_DIR/port-forward.sh" "$KIND_NAMESPACE" "$1" "$2" >>"$KIND_STATE/port-forward-$1.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
}
api_healthy() { in_netns curl -fsS -o /dev/null --max-time 5 "$KIND_API_URL/healthz"; }
port_forwards() {
  local fullname="$KIND_RELEASE"
  [[ "$KIND_RELEASE" == *videomerge* ]] || fullname="$KIND_RELEASE-videomerge"
  start_port_forward "$fullname-api" "$KIND_API_PORT:80"
  start_port_forward "$fullname-minio" "$KIND_MINIO_PORT:9000"
  wait_for 60 "the API through its port-forward" api_healthy
}

step="building the tools"; bash "$HACK_DIR/build-binaries.sh" kubernetes_node etcd helm coredns kind
timed "building the node image" bash "$KIND_DIR/node-image.sh" >/dev/null
# Tagged `kind`, not `dev`: building them never retags what the local cluster runs.
timed "building the project images" env VIDEOMERGE_IMAGE_TAG="$KIND_IMAGE_TAG" VIDEOMERGE_IMAGES_BUILD_ONLY=1 \
  bash "$HACK_DIR/images.sh"
timed "starting the namespace's dockerd" bash "$KIND_DIR/netns-docker.sh"
timed "loading the node image" load_node_image
timed "creating the kind cluster" create_cluster
timed "setting up the pod network" bash "$KIND_DIR/cni.sh"
timed "waiting for nodes and CoreDNS" wait_ready
timed "loading the project images" load_project_images
timed "installing the chart" install_chart
timed "port-forwarding the API and MinIO" port_forwards
trap - EXIT
echo "KUBECONFIG=$KIND_KUBECONFIG"
echo "API=$KIND_API_URL"
