#!/usr/bin/env bash
# Remove what install.sh installed. Keeps the user's data unless --purge is given.
#   packaging/linux/uninstall.sh [--purge]
set -euo pipefail
share="${XDG_DATA_HOME:-$HOME/.local/share}"
bindir="${TALAB_BIN_DIR:-$HOME/.local/bin}"
app="$share/talab-app"

rm -rf "$app" "$app.new" "$app.old"
if [ -L "$bindir/talab-app" ]; then
  rm -f "$bindir/talab-app"
fi
rm -f "$share/applications/talab-app.desktop" "$share/icons/hicolor/scalable/apps/talab-app.svg"
if command -v update-desktop-database >/dev/null 2>&1; then
  update-desktop-database -q "$share/applications" || true
fi
if [ "${1:-}" = "--purge" ]; then
  data="${TALAB_HOME:-$share/talab}"
  rm -rf "$data" "${XDG_CONFIG_HOME:-$HOME/.config}/talab"
  echo "Removed TA Lab and its data ($data)"
else
  echo "Removed TA Lab. Your runs, adapters and settings are kept in ${TALAB_HOME:-$share/talab}"
  echo "(remove them too with: $0 --purge)"
fi
