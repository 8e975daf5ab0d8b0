#!/usr/bin/env bash
# Builds the pod sandbox ("pause") image and loads it into the local cluster's containerd, before any pod
# exists, so containerd never tries to pull one.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ctr_k8s() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }
ctr_k8s images check "name==$PAUSE_IMAGE" 2>/dev/null | grep -q . && exit 0
command -v gcc >/dev/null || apt_install gcc libc6-dev
bash "$HACK_DIR/docker-up.sh"
ctx="$(mktemp -d)"; trap 'rm -rf "$ctx"' EXIT
gcc -Os -static -o "$ctx/pause" "$HACK_DIR/pause/pause.c"
strip "$ctx/pause"
cp "$HACK_DIR/pause/Dockerfile" "$ctx/"
DOCKER_BUILDKIT=0 docker build -q -t "$PAUSE_IMAGE" "$ctx" >/dev/null
docker save "$PAUSE_IMAGE" | ctr_k8s images import --no-unpack=false - >/dev/null
ctr_k8s images label "$PAUSE_IMAGE" io.cri-containerd.pinned=pinned >/dev/null
log "loaded $PAUSE_IMAGE into containerd"
