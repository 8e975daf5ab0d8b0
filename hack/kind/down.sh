#!/usr/bin/env bash
# Removes the kind cluster and everything of it: the port-forwards, the node containers, the namespace's
# dockerd (by pid) and its data, leftover mounts under our directories, and the network namespace.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stop_pid() { # stop_pid PIDFILE [GROUP]: SIGTERM (the process group with GROUP), SIGKILL after 15 s
  local pidfile="$1" pid target
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"; target="$pid"; [ -n "${2:-}" ] && target="-$pid"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "$target" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "$target" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

for pf in "$KIND_RUN"/port-forward-*.pid; do [ -e "$pf" ] && stop_pid "$pf" group; done
if [ -S "$KIND_DOCKER_SOCK" ] && kind_docker info >/dev/null 2>&1; then
  if [ -x "$KIND_BIN" ] && [ -e "$KIND_NETNS_PATH" ]; then
    log "deleting the kind cluster"
    kind_cli delete cluster --name "$KIND_CLUSTER" --kubeconfig "$KIND_KUBECONFIG" >/dev/null 2>&1 || true
  fi
  # Whatever kind did not remove (a half-created cluster).
  mapfile -t leftovers < <(kind_docker ps -aq)
  [ ${#leftovers[@]} -eq 0 ] || kind_docker rm -f -v "${leftovers[@]}" >/dev/null 2>&1 || true
fi
if [ -f "$KIND_RUN/dockerd.pid" ]; then
  log "stopping the namespace's dockerd"
  stop_pid "$KIND_RUN/dockerd.pid"
fi
# The dockerd's own containerd and its shims exit with it; any left are found by our socket's path.
ours() { # pids of processes started with our dockerd's containerd config or socket
  local proc cmdline
  for proc in /proc/[0-9]*; do
    cmdline="$(tr '\0' ' ' 2>/dev/null <"$proc/cmdline")" || continue
    case "$cmdline" in
      containerd*" $KIND_RUN/docker/containerd/containerd.toml"* | containerd-shim*" $KIND_RUN/docker/containerd/containerd.sock"*)
        echo "${proc#/proc/}" ;;
    esac
  done
}
log "waiting for the dockerd's containerd and shims to exit"
for _ in $(seq 1 30); do [ -z "$(ours)" ] && break; sleep 0.5; done
for pid in $(ours); do log "killing leftover process $pid"; kill -KILL "$pid" 2>/dev/null || true; done
log "unmounting what is left under $KIND_STATE and $KIND_RUN"
# Mounts under our directories (overlay layers, container shm, netns files), deepest first.
for dir in "$KIND_STATE" "$KIND_RUN"; do
  awk -v d="$dir" '$2 == d || index($2, d "/") == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
done
if [ -e "$KIND_NETNS_PATH" ]; then log "removing network namespace $KIND_NETNS"; ip netns delete "$KIND_NETNS"; fi
rm -rf "$KIND_STATE" "$KIND_RUN"
log "kind cluster removed"
