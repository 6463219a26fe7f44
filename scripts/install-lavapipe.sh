#!/usr/bin/env bash
# A Vulkan software driver that Dawn (the `webgpu` package) accepts, for running tunebook's WebGPU tests without a
# GPU: Mesa's lavapipe from Debian 12's bookworm-backports (Mesa 25; bookworm's own Mesa 22.3 lavapipe lacks
# shaderUniform*ArrayDynamicIndexing, which Dawn requires). The driver and the newer libdrm it needs are
# extracted into a private folder, not installed: the system's GL/Vulkan stack stays as it is. What is installed
# (as root, from Debian 12's main archive, only when missing): the Vulkan loader (libvulkan1) and the driver's
# other libraries (LLVM 15, xcb, wayland client); and a bookworm-backports entry in APT's sources, when none is
# configured (backports are never upgraded to by themselves).
#
# Usage: scripts/install-lavapipe.sh [DIR]      (idempotent; DIR default: $TUNEBOOK_LAVAPIPE_DIR, else
#        ${XDG_CACHE_HOME:-~/.cache}/tunebook/lavapipe). Ends by printing the line to export:
#        TUNEBOOK_VULKAN_ICD=DIR/lvp_icd.json   (tests/helpers/webgpu.ts and src/runtime/software-vulkan.ts read it;
#        the default DIR is found without it).
set -euo pipefail

DIR="${1:-${TUNEBOOK_LAVAPIPE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tunebook/lavapipe}}"
ICD="$DIR/lvp_icd.json"
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

. /etc/os-release
if [ "${ID:-}" != "debian" ] || [ "${VERSION_CODENAME:-}" != "bookworm" ]; then
  echo "install-lavapipe: this script knows Debian 12 (bookworm) only; found ${PRETTY_NAME:-an unknown system}." >&2
  echo "  Elsewhere install Mesa >= 25's lavapipe (mesa-vulkan-drivers) and set TUNEBOOK_VULKAN_ICD to its lvp_icd.json." >&2
  exit 1
fi

if [ -f "$ICD" ] && [ -f "$DIR/driver-version" ]; then
  echo "install-lavapipe: already in $DIR ($(cat "$DIR/driver-version"))"
else
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "install-lavapipe: adding bookworm-backports to APT's sources (/etc/apt/sources.list.d/bookworm-backports.list)"
    echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
    $SUDO apt-get update -q
  elif ! apt-cache policy mesa-vulkan-drivers | grep -q "bookworm-backports"; then
    $SUDO apt-get update -q
  fi
  TMP="$(mktemp -d)"
  trap 'rm -rf "$TMP"' EXIT
  if [ "$(id -u)" = "0" ] && id _apt >/dev/null 2>&1; then chown _apt "$TMP"; fi # apt downloads as _apt
  (cd "$TMP" && apt-get download -q -t bookworm-backports mesa-vulkan-drivers libdrm2 libdrm-amdgpu1)
  # the driver's other libraries, from bookworm main (the libdrm ones come privately from backports)
  DEPS="$(dpkg-deb -f "$TMP"/mesa-vulkan-drivers_*.deb Depends | tr ',' '\n' | sed -e 's/(.*)//' -e 's/|.*//' -e 's/ //g' | grep -v '^libdrm' | grep -v '^$')"
  MISSING=""
  for p in $DEPS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || MISSING="$MISSING $p"
  done
  if [ -n "$MISSING" ]; then
    echo "install-lavapipe: apt-get install (bookworm main):$MISSING"
    $SUDO apt-get install -y -q --no-install-recommends $MISSING
  fi
  rm -rf "$DIR.partial"
  mkdir -p "$DIR.partial/root"
  for d in "$TMP"/*.deb; do dpkg-deb -x "$d" "$DIR.partial/root"; done
  LIB="$(find "$DIR.partial/root" -name libvulkan_lvp.so | head -1)"
  if [ -z "$LIB" ]; then
    echo "install-lavapipe: libvulkan_lvp.so is not in the downloaded mesa-vulkan-drivers" >&2
    exit 1
  fi
  LIB="${LIB/#$DIR.partial/$DIR}" # its path once the folder is in place
  sed -e "s|\"library_path\": *\"[^\"]*\"|\"library_path\": \"$LIB\"|" \
    "$DIR.partial/root/usr/share/vulkan/icd.d/lvp_icd.json" >"$DIR.partial/lvp_icd.json"
  dpkg-deb -W --showformat='${Package} ${Version}' "$TMP"/mesa-vulkan-drivers_*.deb >"$DIR.partial/driver-version"
  rm -rf "$DIR"
  mv "$DIR.partial" "$DIR"
  echo "install-lavapipe: $(cat "$DIR/driver-version") extracted into $DIR"
fi
if ! dpkg-query -W -f='${Status}' libvulkan1 2>/dev/null | grep -q "install ok installed"; then
  echo "install-lavapipe: apt-get install libvulkan1 (the Vulkan loader)"
  $SUDO apt-get install -y -q --no-install-recommends libvulkan1
fi
echo "export TUNEBOOK_VULKAN_ICD=$ICD"
