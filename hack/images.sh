#!/usr/bin/env bash
# Builds the project images with Docker from the locally made debian:bookworm-slim and loads them into
# the local cluster's containerd (namespace k8s.io). Pods use them with imagePullPolicy Never.
# Usage: images.sh [worker|control|minio|base]...   (default: the three project images; `base` loads the
# locally made debian:bookworm-slim itself, which the operator's integration tests run as a stand-in worker)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
TAG="${VIDEOMERGE_IMAGE_TAG:-dev}"
# VIDEOMERGE_IMAGES_BUILD_ONLY=1: build and tag, load nothing into the local cluster (the kind cluster's
# images, tagged `kind`, move by `kind load docker-image` instead).
load_local=false
[ -S "$CONTAINERD_SOCK" ] && [ "${VIDEOMERGE_IMAGES_BUILD_ONLY:-}" != 1 ] && load_local=true
bash "$HACK_DIR/base-image.sh"
ctr_k8s() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

build_and_load() { # build_and_load NAME DOCKERFILE [CONTEXT]
  local image="$1:$TAG" dockerfile="$2" context="${3:-.}" id loaded_id_file
  log "building $image"
  DOCKER_BUILDKIT=0 docker build --network host -q -f "$dockerfile" -t "$image" "$context" >/dev/null 2>&1 \
    || { DOCKER_BUILDKIT=0 docker build --network host -f "$dockerfile" -t "$image" "$context" >&2; die "build of $image failed"; }
  id="$(docker image inspect -f '{{.Id}}' "$image")"
  if $load_local; then
    loaded_id_file="$LOCAL_STATE/images/${1//\//_}.id"
    mkdir -p "$LOCAL_STATE/images"
    if [ "$(cat "$loaded_id_file" 2>/dev/null)" != "$id" ] || ! ctr_k8s images check "name==docker.io/$image" | grep -q .; then
      log "loading $image into the cluster's containerd"
      docker save "$image" | ctr_k8s images import - >/dev/null
      echo "$id" >"$loaded_id_file"
    fi
  fi
}

load_into_cluster() { # load_into_cluster IMAGE: imports a Docker image into the node unless it is there
  local image="$1"
  [ -S "$CONTAINERD_SOCK" ] || die "the local cluster is not running (make cluster-up)"
  ctr_k8s images check "name==docker.io/library/$image" | grep -q . && return 0
  log "loading $image into the cluster's containerd"
  docker save "$image" | ctr_k8s images import - >/dev/null
}

build_minio() {
  bash "$HACK_DIR/build-binaries.sh" minio
  local ctx; ctx="$(mktemp -d)"
  cp "$TOOLS_BIN/minio" "$ctx/minio"
  build_and_load videomerge/minio "$HACK_DIR/minio/Dockerfile" "$ctx"
  rm -rf "$ctx"
}

targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(worker control minio)
for t in "${targets[@]}"; do
  case "$t" in
    worker) build_and_load videomerge/worker worker-image/Dockerfile ;;
    control) build_and_load videomerge/control Dockerfile ;;
    minio) build_minio ;;
    base) load_into_cluster debian:bookworm-slim ;;
    *) die "unknown image $t" ;;
  esac
done
if $load_local; then mkdir -p /tmp/videomerge-ready && touch /tmp/videomerge-ready/images; fi
