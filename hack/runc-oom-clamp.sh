#!/usr/bin/env bash
# runc, for machines whose kernel refuses a negative oom_score_adj even to root (some VMs do).
# containerd's CRI gives every pod sandbox oom_score_adj -998 and Guaranteed pods -997; there runc's init
# dies writing it ("can't get final child's PID from pipe"). This clamps negative values in the OCI spec
# to 0 and hands over to the real runc unchanged otherwise. cluster-up.sh uses it only on such machines.
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
if [ -n "$spec" ] && [ -f "$spec" ] && grep -q '"oomScoreAdj":-' "$spec"; then
  python3 - "$spec" <<'PY'
import json, sys
path = sys.argv[1]
with open(path) as f:
    spec = json.load(f)
process = spec.get("process", spec)  # config.json nests it; an exec --process file is the process itself
if process.get("oomScoreAdj", 0) < 0:
    process["oomScoreAdj"] = 0
with open(path, "w") as f:
    json.dump(spec, f)
PY
fi
exec "$REAL_RUNC" "$@"
