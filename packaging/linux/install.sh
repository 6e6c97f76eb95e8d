#!/usr/bin/env bash
# Install the built app (dist/talab-app) for the current user, with a menu entry and an icon.
#   packaging/linux/install.sh [BUILT_APP_DIR]
# Re-running it upgrades in place. User data (~/.local/share/talab: database, adapters, settings)
# lives elsewhere and is never touched.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# run from a built app's linux/ folder, or from the source tree's packaging/linux/
if [ -x "$here/../talab-app" ]; then default_src="$here/.."; else default_src="$here/../../dist/talab-app"; fi
src="$(cd "${1:-$default_src}" 2>/dev/null && pwd || echo "${1:-$default_src}")"
share="${XDG_DATA_HOME:-$HOME/.local/share}"
bindir="${TALAB_BIN_DIR:-$HOME/.local/bin}"
app="$share/talab-app"

if [ ! -x "$src/talab-app" ]; then
  echo "error: no built app at $src (build it first: make package)" >&2
  exit 2
fi
mkdir -p "$share" "$bindir" "$share/applications" "$share/icons/hicolor/scalable/apps"
# copy next to the old version, then swap: an interrupted upgrade leaves a working install
rm -rf "$app.new"
cp -a "$src" "$app.new"
if [ -d "$app" ]; then
  rm -rf "$app.old"
  mv "$app" "$app.old"
fi
mv "$app.new" "$app"
rm -rf "$app.old"
ln -sfn "$app/talab-app" "$bindir/talab-app"
sed "s|@EXEC@|$app/talab-app|" "$here/talab-app.desktop" > "$share/applications/talab-app.desktop"
cp "$here/talab-app.svg" "$share/icons/hicolor/scalable/apps/talab-app.svg"
if command -v update-desktop-database >/dev/null 2>&1; then
  update-desktop-database -q "$share/applications" || true
fi
echo "Installed TA Lab in $app"
echo "Start it from the applications menu (Education), or run: $bindir/talab-app"
