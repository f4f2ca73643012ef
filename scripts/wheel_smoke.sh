#!/usr/bin/env bash
# Build moodcast's wheel and install it into a clean virtual environment, then check that it
# installs one package (moodcast and its metadata, nothing else in site-packages), that the
# folder names of the source tree do not import on their own, and that the command runs.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work" "$repo/build"' EXIT
log="$work/build.log"
rm -rf build  # a stale build/lib would put removed modules into the wheel
if ! .venv/bin/python -m pip wheel -q --no-deps -w "$work/dist" . >"$log" 2>&1; then
  cat "$log"; exit 1
fi
if grep -i -E "warning|would be ignored|deprecated" "$log" | grep -v "^WARNING: Location"; then
  echo "wheel_smoke: the build printed warnings (above)"; exit 1
fi
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q "$work"/dist/moodcast-*.whl
site=$("$work/venv/bin/python" -c "import sysconfig; print(sysconfig.get_path('purelib'))")
# What the wheel installed, from its RECORD: the moodcast package, its metadata, the command.
strays=$(cut -d, -f1 "$site"/moodcast-*.dist-info/RECORD \
  | grep -v -E '^(moodcast/|moodcast-[^/]*\.dist-info/|\.\./\.\./\.\./bin/moodcast$)' || true)
[ -z "$strays" ] || { echo "wheel_smoke: installed outside moodcast/: $strays"; exit 1; }
echo "wheel_smoke: installs $(cd "$site" && ls -d moodcast* | tr '\n' ' ')and bin/moodcast"
cd "$work"  # away from the source tree, so that only the installed package can be imported
for name in edge models player config; do
  if "$work/venv/bin/python" -c "import $name" 2>/dev/null; then
    echo "wheel_smoke: 'import $name' works from the wheel; it must not"; exit 1
  fi
done
"$work/venv/bin/python" -c "import moodcast.edge.cli.entry, moodcast.player.library, \
moodcast.models.mood, moodcast.config.settings; print('wheel_smoke: moodcast.* imports')"
"$work/venv/bin/moodcast" --help >/dev/null
"$work/venv/bin/moodcast" config check "$site/moodcast/config/examples/store.yaml"
echo "wheel_smoke: ok"
