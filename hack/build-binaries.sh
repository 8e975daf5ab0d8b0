#!/usr/bin/env bash
# Builds the local cluster's Go binaries from their modules at the versions pinned in versions.env:
# kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, etcd 3.5, helm and minio; for the kind
# cluster (hack/kind/) also kubeadm, kubectl and kube-proxy (same source), kind and CoreDNS.
# Results are cached under $VIDEOMERGE_CACHE and rebuilt only when a pinned version changes.
# Usage: build-binaries.sh [kubernetes|etcd|helm|minio|kubernetes_node|kind|coredns]...
#   (default: the local cluster's: kubernetes etcd helm minio)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GO="$("$HACK_DIR/ensure-go.sh")"
export GOFLAGS="-trimpath" CGO_ENABLED=0 GOTOOLCHAIN=local
export GOCACHE="${GOCACHE:-$VIDEOMERGE_CACHE/go-build}"
export GOMODCACHE="${GOMODCACHE:-$(go env GOMODCACHE 2>/dev/null || echo "$HOME/go/pkg/mod")}"

# A wrapper module per build: k8s.io/kubernetes cannot be `go install`ed directly because its go.mod
# replaces every staging module with a local path; we replace each one with its published v0.X.Y.
build_kubernetes() { # build_kubernetes [STAMP_NAME PKG...]: the server binaries by default
  local stamp_name="${1:-.complete}"; shift || true
  local pkgs=("$@"); [ ${#pkgs[@]} -gt 0 ] || pkgs=(cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubelet)
  local stamp="$K8S_BIN/$stamp_name" src="$VIDEOMERGE_CACHE/src/kubernetes-$KUBERNETES_VERSION"
  [ -f "$stamp" ] && return 0
  log "building Kubernetes $KUBERNETES_VERSION: ${pkgs[*]} (cold: ~20-30 min on 2 cores)"
  mkdir -p "$src" "$K8S_BIN"
  (
    cd "$src"
    "$GO" mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" >/dev/null
    local upstream_mod
    upstream_mod="$("$GO" mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
    {
      echo "module videomerge.local/kubernetes-build"
      echo
      echo "go $(sed -n 's/^go //p' "$upstream_mod")"
      echo
      echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
      echo
      sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/k8s.io/.*#replace \1 => \1 '"$KUBERNETES_STAGING_VERSION"'#p' "$upstream_mod"
    } > go.mod
    grep -q '^replace k8s.io/api ' go.mod || die "no staging replaces found in $upstream_mod"
    cat > tools.go <<'GO'
//go:build tools

package tools
GO
    "$GO" mod download k8s.io/kubernetes
    for p in "${pkgs[@]}"; do "$GO" get "k8s.io/kubernetes/$p@$KUBERNETES_VERSION" >/dev/null 2>&1 || "$GO" get "k8s.io/kubernetes/$p@$KUBERNETES_VERSION"; done
    local minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
    local ldflags="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
      ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    done
    "$GO" build -ldflags "$ldflags" -o "$K8S_BIN/" "${pkgs[@]/#/k8s.io/kubernetes/}"
  )
  touch "$stamp"
}

build_etcd() {
  local stamp="$ETCD_BIN/.complete" src="$VIDEOMERGE_CACHE/src/etcd-$ETCD_VERSION"
  [ -f "$stamp" ] && return 0
  log "building etcd $ETCD_VERSION"
  mkdir -p "$src" "$ETCD_BIN"
  (
    cd "$src"
    printf 'module videomerge.local/etcd-build\n\ngo 1.23\n' > go.mod
    printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' > main.go
    "$GO" get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    "$GO" mod tidy
    "$GO" build -ldflags "-s -w" -o "$ETCD_BIN/etcd" .
  )
  touch "$stamp"
}

go_install() { # go_install NAME MODULE/PKG@VERSION
  local name="$1" target="$2" dir="$VIDEOMERGE_CACHE/tools/$1-${2##*@}"
  [ -x "$dir/$name" ] || { log "building $name ${2##*@}"; GOBIN="$dir" "$GO" install -ldflags "-s -w" "$target"; }
  mkdir -p "$TOOLS_BIN"; ln -sfn "$dir/$name" "$TOOLS_BIN/$name"
}

# kind's node image needs kubeadm and kubectl, and kube-proxy for its image; built into the same bin dir
# after the server binaries so their packages come from the same build cache.
build_kubernetes_node() {
  build_kubernetes
  build_kubernetes .node-complete cmd/kubeadm cmd/kubectl cmd/kube-proxy
}

build_helm() { go_install helm "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"; }
build_minio() { go_install minio "github.com/minio/minio@$MINIO_VERSION"; }
build_kind() { go_install kind "sigs.k8s.io/kind@$KIND_VERSION"; }
build_coredns() { go_install coredns "github.com/coredns/coredns@$COREDNS_VERSION"; }

targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(kubernetes etcd helm minio)
for t in "${targets[@]}"; do "build_$t"; done
log "binaries ready in $VIDEOMERGE_CACHE"
