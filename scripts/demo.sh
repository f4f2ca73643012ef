#!/usr/bin/env bash
# The main job on its embedded defaults, with real media from Debian packages:
# scan a real music folder, tag it by listening, import community mood tags, recommend
# tracks for two clearly
# different photographs, then run the daemon on OpenCV's sample pedestrian video with a
# local Mosquitto broker. Run scripts/setup.sh first.
#   MOODCAST_DEMO_SECONDS=0 scripts/demo.sh   runs the daemon until Ctrl-C
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch_media.sh
mc=.venv/bin/moodcast
demo=.cache/demo
db=$demo/library.db
mkdir -p "$demo"
$mc scan .cache/media/music --library "$db"
$mc tag --library "$db" --workers 2
# Community tags: the original project's Last.fm crawl (committed for the tests, MIT).
$mc import-tags tests/data/image2music/lastfm_moods/*.csv --library "$db"
for photo in hubble_deep_field.jpg coffee.png; do
  echo "== moodcast recommend $photo"
  $mc recommend ".cache/media/photos/$photo" --library "$db" --count 3
done

# A local broker, unless one already listens on 1883.
if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  printf 'listener 1883 127.0.0.1\nallow_anonymous true\npersistence false\n' >"$demo/mosquitto.conf"
  mosquitto -c "$demo/mosquitto.conf" >"$demo/mosquitto.log" 2>&1 &
  broker=$!
  trap 'kill $broker 2>/dev/null || true' EXIT
  sleep 0.5
fi
# Real speakers when the machine has a sound card, else a WAV file of what was played.
output=default
if ! ls /dev/snd/pcm* >/dev/null 2>&1; then
  output="file:$PWD/$demo/moodcast.wav"
fi
seconds=${MOODCAST_DEMO_SECONDS:-60}
duration=()
[ "$seconds" != 0 ] && duration=(--duration "$seconds")
echo "== moodcast run (camera: OpenCV's vtest.avi, audio: $output, MQTT: moodcast/demo/#)"
$mc run --camera .cache/media/video/vtest.avi --library "$db" --device-id demo \
  --audio-output "$output" --interval 5 "${duration[@]}"
