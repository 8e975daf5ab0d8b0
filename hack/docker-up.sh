#!/usr/bin/env bash
# Ensures a Docker engine is running (Debian's docker.io), started by us when none is.
# It runs without touching the host's networking: no iptables rules, no docker0 bridge.
# Builds use `--network host`, so they need neither.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

docker_ok() { docker info >/dev/null 2>&1; }
docker_ok && exit 0
command -v dockerd >/dev/null || apt_install docker.io
command -v docker >/dev/null || apt_install docker.io
mkdir -p "$LOCAL_STATE" "$LOCAL_RUN"
pidfile="$LOCAL_RUN/dockerd.pid"
if ! pid_alive "$pidfile"; then
  log "starting dockerd (log: $LOCAL_STATE/dockerd.log)"
  detach dockerd --iptables=false --ip-masq=false --bridge=none --storage-driver=overlay2 \
    --pidfile "$LOCAL_RUN/dockerd.real.pid" >"$LOCAL_STATE/dockerd.log" 2>&1 < /dev/null &
  echo $! >"$pidfile"
fi
wait_for 60 "dockerd" docker info || { tail -20 "$LOCAL_STATE/dockerd.log" >&2; exit 1; }
