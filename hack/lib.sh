# Shared helpers for the hack/ scripts. Source it; do not run it.
# shellcheck shell=bash
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HACK_DIR/.." && pwd)"
# shellcheck source=hack/versions.env
source "$HACK_DIR/versions.env"

VIDEOMERGE_CACHE="${VIDEOMERGE_CACHE:-$HOME/.cache/videomerge}"
# Runtime state of the local cluster (certs, etcd data, logs, pids). Not in the repo, not in the cache.
LOCAL_STATE="${VIDEOMERGE_STATE:-/var/lib/videomerge-local}"
LOCAL_RUN="${VIDEOMERGE_RUN:-/run/videomerge-local}"
K8S_BIN="$VIDEOMERGE_CACHE/kubernetes-$KUBERNETES_VERSION/bin"
ETCD_BIN="$VIDEOMERGE_CACHE/etcd-$ETCD_VERSION/bin"
TOOLS_BIN="$VIDEOMERGE_CACHE/tools/bin"
KUBECONFIG_PATH="$LOCAL_STATE/admin.kubeconfig"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

version_ge() { # version_ge A B: true when A >= B (dotted, no leading "v" or "go")
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

apt_install() { # apt_install PKG...: installs the Debian packages that are missing
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  if [ ! -f /var/lib/apt/.videomerge-updated ] || [ -n "$(find /var/lib/apt/.videomerge-updated -mmin +1440)" ]; then
    apt-get update -qq && touch /var/lib/apt/.videomerge-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

detach() { # `detach CMD... &`: CMD in its own session, holding none of the caller's file descriptors beyond 0-2
  # (under `flock LOCK make up` a daemon would otherwise keep the lock's descriptor, and the lock, forever).
  # Every step execs, so `$!` is CMD's own pid, the one the stop scripts kill: the background subshell is no
  # process-group leader, so setsid does not fork. Call it only in the background: it replaces its shell.
  exec setsid bash -c 'for fd in /proc/self/fd/*; do fd="${fd##*/}"; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done 2>/dev/null; exec "$@"' detach "$@"
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for() { # wait_for SECONDS DESCRIPTION CMD...
  local deadline=$((SECONDS + $1)) what="$2"; shift 2
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { log "timed out waiting for $what"; return 1; }
    sleep 0.5
  done
}

# The local cluster's fixed shape. Everything listens on loopback only.
NODE_NAME="127.0.0.1"  # an IP as the node name makes it the node's address (kubelet refuses --node-ip=127.0.0.1)
APISERVER_PORT=6443
ETCD_CLIENT_PORT=23790
ETCD_PEER_PORT=23800
SERVICE_CIDR="10.96.0.0/24"
SERVICE_APISERVER_IP="10.96.0.1"
POD_CIDR="10.244.0.0/24"
CNI_BRIDGE="vmlocal0"
CONTAINERD_SOCK="$LOCAL_RUN/containerd/containerd.sock"
PAUSE_IMAGE="localhost/videomerge/pause:3.10"
