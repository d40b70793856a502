#!/usr/bin/env bash
# Installs everything the test suite needs on a Debian machine that has only Node 20: the npm
# packages (npm ci; its `node` package brings Node 24, first on npm scripts' PATH) and the real
# clients the tests drive (ffmpeg, GStreamer, Chromium, redis-server), and iptables for the
# WHIP NAT test. Idempotent: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
need() { # need <command> <debian package...>
  command -v "$1" >/dev/null 2>&1 || packages+=("${@:2}")
}
need ffmpeg ffmpeg
need ffprobe ffmpeg
need chromium chromium
need redis-server redis-server
need gst-launch-1.0 gstreamer1.0-tools
need tsinfo tstools
need iptables iptables # test/integration/whip-nat.test.ts: a NAT router in a network namespace
# test/integration/whip-webrtcbin.test.ts: a WHIP client on webrtcbin, in Debian's Python
if ! /usr/bin/python3 test/helpers/webrtcbin-whip.py --check >/dev/null 2>&1; then
  packages+=(python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-gst-plugins-bad-1.0 gstreamer1.0-nice)
fi
if ! gst-inspect-1.0 rtmp2sink >/dev/null 2>&1 || ! gst-inspect-1.0 x264enc >/dev/null 2>&1 || ! gst-inspect-1.0 avenc_aac >/dev/null 2>&1; then
  packages+=(gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav)
fi

if ((${#packages[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing Debian packages: ${packages[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi
echo "setup: ready (node $(node_modules/.bin/node --version); $(ffmpeg -version | head -n1 | cut -d' ' -f1-3); $(chromium --version 2>/dev/null); $(redis-server --version | cut -d' ' -f1-3))"
