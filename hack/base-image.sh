#!/usr/bin/env bash
# Makes `debian:bookworm-slim` locally (no registry is reachable): debootstrap a minimal bookworm, trim it
# the way the official slim image is trimmed, and `docker import` it under the standard name, so the
# project's Dockerfiles stay the standard ones users build anywhere.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

IMAGE="debian:bookworm-slim"
BASE_REVISION=2  # bump when this recipe changes, to remake the image
bash "$HACK_DIR/docker-up.sh"
[ "$(docker image inspect -f '{{index .Config.Labels "videomerge.local-base"}}' "$IMAGE" 2>/dev/null)" = "$BASE_REVISION" ] && exit 0
apt_install debootstrap
mirror="${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)}"
mirror="${mirror:-http://deb.debian.org/debian}"
mkdir -p "$LOCAL_STATE"
root="$(mktemp -d /var/tmp/videomerge-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT
rootfs_cache="$VIDEOMERGE_CACHE/rootfs/bookworm-minbase.tar"
if [ ! -f "$rootfs_cache" ]; then
  log "debootstrap bookworm from $mirror"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$LOCAL_STATE/debootstrap.log" 2>&1 \
    || { tail -20 "$LOCAL_STATE/debootstrap.log" >&2; die "debootstrap failed"; }
  mkdir -p "$(dirname "$rootfs_cache")"; tar -C "$root" -cf "$rootfs_cache.tmp" . && mv "$rootfs_cache.tmp" "$rootfs_cache"
else
  tar -C "$root" -xf "$rootfs_cache"
fi
# What the slim variant leaves out: docs, man pages, locales, apt lists and caches.
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
  "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/var/log/*.log "$root"/tmp/*
find "$root"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +
printf 'path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\npath-exclude /usr/share/man/*\npath-exclude /usr/share/locale/*\npath-exclude /usr/share/info/*\n' \
  >"$root/etc/dpkg/dpkg.cfg.d/docker-slim"
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$root/etc/apt/apt.conf.d/99-slim"
# Builds on this machine reach package registries through whatever TLS trust the machine has (some
# networks intercept TLS with their own CA): the local base trusts the same CAs, for apt and pip alike.
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt" 2>/dev/null || true
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"; cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$root/etc/pip.conf"
tar -C "$root" -c . | docker import --change 'CMD ["bash"]' --change "LABEL videomerge.local-base=$BASE_REVISION" - "$IMAGE" >/dev/null
log "imported $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE" | numfmt --to=iec))"
