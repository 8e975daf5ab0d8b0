#!/usr/bin/env bash
# runc, for machines whose kernel refuses a negative oom_score_adj even to root (some VMs do), and whose
# root lacks some capabilities in its bounding set (this VM has no CAP_SYS_RESOURCE).
# containerd's CRI gives every pod sandbox oom_score_adj -998 and Guaranteed pods -997; there runc's init
# dies writing it ("can't get final child's PID from pipe"). A privileged container asks for every
# capability; runc then fails with "unable to apply caps: operation not permitted". This clamps negative
# values in the OCI spec to 0, drops the capabilities this process cannot grant, and hands over to the
# real runc unchanged otherwise. cluster-up.sh uses it on such machines; the kind cluster (hack/kind/)
# always does, for its dockerd's containers and inside its nodes.
set -euo pipefail
REAL_RUNC="${VIDEOMERGE_REAL_RUNC:-/usr/sbin/runc}"
spec=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --bundle | -b) spec="${args[$((i + 1))]}/config.json" ;;
    --bundle=*) spec="${args[$i]#--bundle=}/config.json" ;;
    --process | -p) spec="${args[$((i + 1))]}" ;;
    --process=*) spec="${args[$i]#--process=}" ;;
  esac
done
# Capability names by bit number (linux/capability.h).
CAPS=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE
  NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT
  SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE
  AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ
  PERFMON BPF CHECKPOINT_RESTORE)
# containerd and dockerd write both files as compact JSON (`"oomScoreAdj":-N`, `["CAP_A","CAP_B"]`):
# sed, not a JSON tool, because the kind node image has no Python.
if [ -n "$spec" ] && [ -f "$spec" ]; then
  edits=()
  grep -q '"oomScoreAdj":-' "$spec" && edits+=(-e 's/"oomScoreAdj":-[0-9]+/"oomScoreAdj":0/g')
  bounding=$((16#$(awk '/^CapBnd:/ {print $2}' /proc/self/status)))
  for ((bit = 0; bit < ${#CAPS[@]}; bit++)); do
    cap="CAP_${CAPS[$bit]}"
    if (( ((bounding >> bit) & 1) == 0 )) && grep -q "\"$cap\"" "$spec"; then
      edits+=(-e "s/\"$cap\",//g" -e "s/,\"$cap\"//g" -e "s/\"$cap\"//g")
    fi
  done
  [ ${#edits[@]} -eq 0 ] || sed -i -E "${edits[@]}" "$spec"
fi
exec "$REAL_RUNC" "$@"
