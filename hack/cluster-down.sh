#!/usr/bin/env bash
# Stops the local cluster and leaves no process, mount, network namespace or interface of ours behind.
# Certificates, etcd data and loaded images stay for a fast next `cluster-up`; `--purge` removes them too.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
purge=false; [ "${1:-}" = "--purge" ] && purge=true

stop_pid() { # stop_pid NAME: SIGTERM, then SIGKILL after 15 s
  local pidfile="$LOCAL_RUN/$1.pid" pid
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $1 ($pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

ctr_k8s() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

# Let the kubelet tear pods down properly (CNI teardown, netns removal) while everything still runs.
if [ -f "$KUBECONFIG_PATH" ] && pid_alive "$LOCAL_RUN/kubelet.pid" \
  && kubectl --kubeconfig "$KUBECONFIG_PATH" get --raw /readyz >/dev/null 2>&1; then
  kubectl --kubeconfig "$KUBECONFIG_PATH" delete pods --all --all-namespaces --grace-period=1 --wait=false >/dev/null 2>&1 || true
  for _ in $(seq 1 40); do
    [ -z "$(ctr_k8s tasks ls -q 2>/dev/null)" ] && break
    sleep 0.5
  done
fi
stop_pid kubelet
# Whatever is left of the pods: kill their tasks through our containerd, then the containers.
if pid_alive "$LOCAL_RUN/containerd.pid"; then
  for task in $(ctr_k8s tasks ls -q 2>/dev/null); do
    ctr_k8s tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
  done
  sleep 1
  for task in $(ctr_k8s tasks ls -q 2>/dev/null); do ctr_k8s tasks delete -f "$task" >/dev/null 2>&1 || true; done
  for c in $(ctr_k8s containers ls -q 2>/dev/null); do ctr_k8s containers delete "$c" >/dev/null 2>&1 || true; done
fi
for component in kube-scheduler kube-controller-manager kube-apiserver etcd containerd; do stop_pid "$component"; done

# Shims outlive containerd by design; ours are the ones started with our containerd's address.
for proc in /proc/[0-9]*; do
  if tr '\0' ' ' <"$proc/cmdline" 2>/dev/null | grep -q -- "-address $CONTAINERD_SOCK"; then
    log "stopping leftover shim ${proc#/proc/}"; kill -KILL "${proc#/proc/}" 2>/dev/null || true
  fi
done

# Mounts under our directories (pod volumes, sandbox shm, overlay rootfs), deepest first.
unmount_below() {
  awk -v p="$1" '$5 == p || index($5, p "/") == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}
unmount_below "$LOCAL_STATE"; unmount_below "$LOCAL_RUN"
# Network namespaces made for pods (containerd names them cni-<uuid>; nothing else here uses CNI), our bridge.
for ns in /var/run/netns/cni-*; do
  [ -e "$ns" ] || continue
  umount "$ns" 2>/dev/null || true; rm -f "$ns"
done
ip link show "$CNI_BRIDGE" >/dev/null 2>&1 && ip link delete "$CNI_BRIDGE"
rm -rf "$LOCAL_STATE/cni/ipam"
rm -f /tmp/videomerge-ready/cluster /tmp/videomerge-ready/images

if $purge; then
  log "purging $LOCAL_STATE"
  unmount_below "$LOCAL_STATE"
  rm -rf "$LOCAL_STATE" "$LOCAL_RUN"
fi
log "local cluster down"
