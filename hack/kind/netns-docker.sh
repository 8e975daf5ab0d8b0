#!/usr/bin/env bash
# Creates the kind cluster's network namespace and starts a dockerd of its own inside it: its own socket,
# data-root and bridges, so kind's networks, iptables rules and every node and pod address live in that
# namespace. Nothing routes out of it. Idempotent.
# `nsenter --net` and not `ip netns exec`: the latter remounts /sys and hides the cgroup mounts.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v dockerd >/dev/null || apt_install docker.io
command -v nsenter >/dev/null || apt_install util-linux
command -v ip >/dev/null || apt_install iproute2
mkdir -p "$KIND_RUN" "$KIND_STATE"
if [ ! -e "$KIND_NETNS_PATH" ]; then
  log "creating network namespace $KIND_NETNS"
  ip netns add "$KIND_NETNS"
fi
in_netns ip link set lo up

if ! pid_alive "$KIND_RUN/dockerd.pid"; then
  log "starting the namespace's dockerd (log: $KIND_STATE/dockerd.log)"
  # --bridge=none: no default bridge; kind creates its own network. iptables stay on: they are the
  # namespace's own tables, which kind's port mappings and bridge need. runc goes through the clamp of
  # oom_score_adj and of capabilities root lacks here (kind's node containers are privileged).
  mkdir -p "$KIND_STATE/bin"
  install -m 0755 "$HACK_DIR/runc-oom-clamp.sh" "$KIND_STATE/bin/runc"
  # setsid first: $! is then dockerd itself (nsenter execs it), the pid down.sh stops.
  setsid nsenter --net="$KIND_NETNS_PATH" dockerd \
    --add-runtime "videomerge-runc=$KIND_STATE/bin/runc" --default-runtime videomerge-runc \
    --host "unix://$KIND_DOCKER_SOCK" \
    --data-root "$KIND_STATE/docker" \
    --exec-root "$KIND_RUN/docker" \
    --pidfile "$KIND_RUN/dockerd.real.pid" \
    --bridge=none --storage-driver=overlay2 \
    >"$KIND_STATE/dockerd.log" 2>&1 </dev/null &
  echo $! >"$KIND_RUN/dockerd.pid"
fi
wait_for 60 "the namespace's dockerd" kind_docker info || { tail -20 "$KIND_STATE/dockerd.log" >&2; exit 1; }
