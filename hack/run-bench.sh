#!/usr/bin/env bash
# `make bench`: every benchmark, each printing its figures beside a baseline measured in the same run.
# Usage: run-bench.sh [worker|operator|api|scale]...   (default: worker operator api; the cluster ones start
# the local cluster; scale (10,000 held merges, 1,000 through real Jobs) takes it for ~15 minutes: ask for it)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
PY="$REPO_ROOT/.venv/bin/python"
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(worker operator api)
for t in "${targets[@]}"; do
  case "$t" in
    worker)  # on this host (the dev venv, Debian's FFmpeg), then as a Job runs it: inside the worker image
      apt_install nginx-light curl
      "$PY" bench/worker/run.py
      VIDEOMERGE_IMAGES_BUILD_ONLY=1 bash "$HACK_DIR/images.sh" worker
      "$PY" bench/worker/run.py --image "videomerge/worker:${VIDEOMERGE_IMAGE_TAG:-dev}" ;;
    operator) bash "$HACK_DIR/cluster-up.sh" >/dev/null; "$PY" bench/operator/bench_operator.py ;;
    api) bash "$HACK_DIR/cluster-up.sh" >/dev/null; "$PY" bench/api/bench_api.py; "$PY" bench/api/bench_api_memory.py ;;
    scale) bash "$HACK_DIR/cluster-up.sh" >/dev/null; "$PY" bench/operator/bench_scale.py ;;
    *) die "unknown benchmark $t" ;;
  esac
done
