#!/usr/bin/env bash
# Fetch real media for demos and tests from Debian packages, without installing them:
# photographs from python3-skimage's sample data, music from singularity-music and
# wesnoth-1.16-music
# (Endgame: Singularity soundtrack, CC BY-SA 3.0), and OpenCV's sample pedestrian video and
# photos from opencv-doc. Files land in .cache/media/.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.cache/media
[ -f "$dest/.complete-v2" ] && exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 777 "$work"
(cd "$work" && apt-get download -qq python3-skimage singularity-music opencv-doc wesnoth-1.16-music 2>/dev/null) || {
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  (cd "$work" && apt-get download -qq python3-skimage singularity-music opencv-doc wesnoth-1.16-music)
}
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
mkdir -p "$dest/photos" "$dest/music" "$dest/licenses"
skdata="$work/root/usr/lib/python3/dist-packages/skimage/data"
for photo in astronaut.png coffee.png chelsea.png hubble_deep_field.jpg moon.png rocket.jpg \
  motorcycle_left.png; do
  cp "$skdata/$photo" "$dest/photos/"
done
cvdata="$work/root/usr/share/doc/opencv-doc/examples/data"
mkdir -p "$dest/video"
cp "$cvdata/vtest.avi" "$dest/video/"
for photo in messi5.jpg fruits.jpg building.jpg home.jpg; do cp "$cvdata/$photo" "$dest/photos/"; done
cp "$work/root/usr/share/doc/opencv-doc/copyright" "$dest/licenses/opencv-doc"
cp -r "$work/root/usr/share/games/singularity/music/." "$dest/music/"
# Battle themes and calm or sad pieces from Battle for Wesnoth (GPL-2+), named by their titles.
mkdir -p "$dest/wesnoth"
wesnoth=$(echo "$work"/root/usr/share/games/wesnoth/*/data/core/music)
for piece in battle battle-epic frantic casualties_of_war love_theme sad silvan_sanctuary \
  nunc_dimittis; do
  cp "$wesnoth/$piece.ogg" "$dest/wesnoth/"
done
cp "$work/root/usr/share/doc/wesnoth-1.16-music/copyright" "$dest/licenses/wesnoth-music"
cp "$work/root/usr/share/doc/singularity-music/copyright" "$dest/licenses/singularity-music"
cp "$work/root/usr/share/doc/python3-skimage/copyright" "$dest/licenses/python3-skimage" \
  2>/dev/null || true
touch "$dest/.complete-v2"
echo "fetch_media: photos and music in $dest"
