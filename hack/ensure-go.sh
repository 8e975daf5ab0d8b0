#!/usr/bin/env bash
# Prints the path of a `go` binary new enough for our builds. When the machine has none (or an old one),
# the Go toolchain is fetched as a module from the Go module proxy and cached.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if command -v go >/dev/null 2>&1; then
  have="$(go env GOVERSION | sed 's/^go//')"
  if version_ge "$have" "$GO_MIN_VERSION"; then command -v go; exit 0; fi
fi
toolchain_dir="$VIDEOMERGE_CACHE/go-$GO_FALLBACK_TOOLCHAIN"
if [ ! -x "$toolchain_dir/bin/go" ]; then
  apt_install curl unzip ca-certificates
  proxy="${GOPROXY:-https://proxy.golang.org}"; proxy="${proxy%%,*}"
  zip="$VIDEOMERGE_CACHE/go-toolchain.zip"
  mkdir -p "$VIDEOMERGE_CACHE"
  log "fetching the Go toolchain $GO_FALLBACK_TOOLCHAIN from the module proxy"
  curl -fsSL -o "$zip" "$proxy/golang.org/toolchain/@v/v0.0.1-$GO_FALLBACK_TOOLCHAIN.linux-amd64.zip"
  tmp="$(mktemp -d)"; unzip -q "$zip" -d "$tmp"
  rm -rf "$toolchain_dir"; mv "$tmp/golang.org/toolchain@v0.0.1-$GO_FALLBACK_TOOLCHAIN.linux-amd64" "$toolchain_dir"
  chmod +x "$toolchain_dir"/bin/* "$toolchain_dir"/pkg/tool/*/*; rm -rf "$tmp" "$zip"
fi
echo "$toolchain_dir/bin/go"
