#!/usr/bin/env bash
# Installs what `npm run bench` needs from Debian, idempotently (skips what is present):
#   ffmpeg                      test media, ingest publishers
#   nginx libnginx-mod-rtmp     the nginx-rtmp peer (RTMP -> HLS); run on 127.0.0.1 with temp dirs
#   chromium                    PNG charts (SVG -> PNG through playwright-core); optional
# node-media-server (the other peer) and playwright-core come from npm (package.json).
set -euo pipefail

packages=()
command -v ffmpeg >/dev/null 2>&1 || packages+=(ffmpeg)
dpkg -s nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || packages+=(nginx)
dpkg -s libnginx-mod-rtmp >/dev/null 2>&1 || [ -e /usr/lib/nginx/modules/ngx_rtmp_module.so ] || packages+=(libnginx-mod-rtmp)
[ -x /usr/bin/chromium ] || packages+=(chromium)

if [ ${#packages[@]} -eq 0 ]; then
  echo "bench/setup.sh: everything present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "bench/setup.sh: installing ${packages[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}"
# Debian starts the nginx service on install; the bench runs its own instance on free ports.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
  $SUDO systemctl disable --now nginx || true
fi
