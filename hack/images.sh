#!/usr/bin/env bash
# Builds the project images with Docker from the locally made debian:bookworm-slim and loads them into
# the local cluster's containerd (namespace k8s.io). Pods use them with imagePullPolicy Never.
# Usage: images.sh [worker|control]...   (default: both)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
TAG="${VIDEOMERGE_IMAGE_TAG:-dev}"
bash "$HACK_DIR/base-image.sh"
ctr_k8s() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

build_and_load() { # build_and_load NAME DOCKERFILE
  local image="$1:$TAG" dockerfile="$2" id loaded_id_file
  log "building $image"
  DOCKER_BUILDKIT=0 docker build --network host -q -f "$dockerfile" -t "$image" . >/dev/null \
    || { DOCKER_BUILDKIT=0 docker build --network host -f "$dockerfile" -t "$image" . >&2; die "build of $image failed"; }
  id="$(docker image inspect -f '{{.Id}}' "$image")"
  if [ -S "$CONTAINERD_SOCK" ]; then
    loaded_id_file="$LOCAL_STATE/images/${1//\//_}.id"
    mkdir -p "$LOCAL_STATE/images"
    if [ "$(cat "$loaded_id_file" 2>/dev/null)" != "$id" ] || ! ctr_k8s images check "name==docker.io/$image" | grep -q .; then
      log "loading $image into the cluster's containerd"
      docker save "$image" | ctr_k8s images import - >/dev/null
      echo "$id" >"$loaded_id_file"
    fi
  fi
}

targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(worker control)
for t in "${targets[@]}"; do
  case "$t" in
    worker) build_and_load videomerge/worker worker-image/Dockerfile ;;
    control) build_and_load videomerge/control Dockerfile ;;
    *) die "unknown image $t" ;;
  esac
done
if [ -S "$CONTAINERD_SOCK" ]; then mkdir -p /tmp/videomerge-ready && touch /tmp/videomerge-ready/images; fi
