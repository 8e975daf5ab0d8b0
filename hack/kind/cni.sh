#!/usr/bin/env bash
# Pod networking of the kind cluster, what kindnetd does for kind (kindnetd is not on the Go module proxy):
# each node gets a ptp + host-local CNI config for its podCIDR and a route to every other node's podCIDR
# through that node's address on the kind network. All of it inside the node containers.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

nodes_with_cidrs() {
  kind_kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.spec.podCIDR} {.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}'
}
all_have_cidrs() { [ "$(nodes_with_cidrs | awk 'NF == 3' | wc -l)" -eq "$(kind_kubectl get nodes -o name | wc -l)" ]; }
wait_for 120 "podCIDRs on every node" all_have_cidrs
mapfile -t nodes < <(nodes_with_cidrs)
for line in "${nodes[@]}"; do
  read -r name cidr _ <<<"$line"
  kind_docker exec -i "$name" sh -euc '
    sysctl -qw net.ipv4.ip_forward=1
    mkdir -p /etc/cni/net.d
    cat >/etc/cni/net.d/10-videomerge-ptp.conflist.tmp <<JSON
{"cniVersion": "0.4.0", "name": "videomerge", "plugins": [
  {"type": "ptp", "mtu": 1500, "ipMasq": false,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$1"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}
]}
JSON
    mv /etc/cni/net.d/10-videomerge-ptp.conflist.tmp /etc/cni/net.d/10-videomerge-ptp.conflist
  ' sh "$cidr"
  for other in "${nodes[@]}"; do
    read -r other_name other_cidr other_ip <<<"$other"
    [ "$other_name" = "$name" ] && continue
    kind_docker exec "$name" ip route replace "$other_cidr" via "$other_ip"
  done
done
log "pod network configured on ${#nodes[@]} nodes"
