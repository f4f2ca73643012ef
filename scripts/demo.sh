#!/usr/bin/env bash
# The main job on its embedded defaults, with real media from Debian packages:
# scan a real music folder, import community mood tags, and recommend tracks for two
# clearly different real photographs. Run scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch_media.sh
mc=.venv/bin/moodcast
db=.cache/demo/library.db
mkdir -p .cache/demo
$mc scan .cache/media/music --library "$db"
if [ -d ../shared/data/lastfm_moods ]; then
  $mc import-tags ../shared/data/lastfm_moods/*.csv --library "$db"
fi
for photo in hubble_deep_field.jpg coffee.png; do
  echo "== $photo"
  $mc recommend ".cache/media/photos/$photo" --library "$db" --count 3
done
