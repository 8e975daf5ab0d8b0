#!/usr/bin/env bash
# Makes `debian:bookworm-slim` locally (no registry is reachable): debootstrap a minimal bookworm, trim it
# the way the official slim image is trimmed, and `docker import` it under the standard name, so the
# project's Dockerfiles stay the standard ones users build anywhere.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

IMAGE="debian:bookworm-slim"
bash "$HACK_DIR/docker-up.sh"
docker image inspect "$IMAGE" >/dev/null 2>&1 && exit 0
apt_install debootstrap
mirror="${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)}"
mirror="${mirror:-http://deb.debian.org/debian}"
root="$(mktemp -d /var/tmp/videomerge-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT
log "debootstrap bookworm from $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$LOCAL_STATE/debootstrap.log" 2>&1 \
  || { tail -20 "$LOCAL_STATE/debootstrap.log" >&2; die "debootstrap failed"; }
# What the slim variant leaves out: docs, man pages, locales, apt lists and caches.
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
  "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/var/log/*.log "$root"/tmp/*
find "$root"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +
printf 'path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\npath-exclude /usr/share/man/*\npath-exclude /usr/share/locale/*\npath-exclude /usr/share/info/*\n' \
  >"$root/etc/dpkg/dpkg.cfg.d/docker-slim"
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$root/etc/apt/apt.conf.d/99-slim"
tar -C "$root" -c . | docker import --change 'CMD ["bash"]' - "$IMAGE" >/dev/null
log "imported $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE" | numfmt --to=iec))"
