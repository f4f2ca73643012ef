#!/usr/bin/env bash
# Fetch the labelled photographs (tests/data/photos/sources.tsv) from the Debian packages that
# ship them, without installing the packages, into .cache/photos/<package>/<name>. Every file is
# checked against the sha256 recorded beside its label; a package whose served version no
# longer holds the same bytes is reported and its photographs left out, never silently changed.
set -euo pipefail
cd "$(dirname "$0")/.."
sources=tests/data/photos/sources.tsv
dest=.cache/photos
stamp="$dest/.complete-$(sha256sum "$sources" | cut -c1-12)"
[ -f "$stamp" ] && exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 777 "$work"
mapfile -t packages < <(tail -n +2 "$sources" | cut -f2 | sort -u)
download() { (cd "$work" && apt-get download -qq "${packages[@]}" 2>/dev/null); }
download || {
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  (cd "$work" && apt-get download -qq "${packages[@]}")
}
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
missing=0
while IFS=$'\t' read -r file package version path licence sha256; do
  [ "$file" = file ] && continue
  mkdir -p "$dest/$(dirname "$file")"
  if [ -f "$work/root$path" ] && echo "$sha256  $work/root$path" | sha256sum -c --status; then
    cp "$work/root$path" "$dest/$file"
  else
    echo "fetch_photos: $file: $package $version no longer ships $path with the recorded" \
      "sha256; it is left out" >&2
    missing=$((missing + 1))
  fi
done < "$sources"
if [ "$missing" -gt 0 ]; then
  echo "fetch_photos: $missing photographs missing; the figures need every one" >&2
  exit 1
fi
touch "$stamp"
echo "fetch_photos: $(($(wc -l < "$sources") - 1)) labelled photographs in $dest"
