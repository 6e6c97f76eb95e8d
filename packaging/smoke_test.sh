#!/usr/bin/env bash
# Build the app if needed, then run its self-test with networking off, and report the figures:
# size on disk, start to first token, peak RAM. Takes ~1 minute with a build present.
set -euo pipefail
cd "$(dirname "$0")/.."
app=dist/talab-app/talab-app
if [ ! -x "$app" ]; then
  echo "==> building (first time ~10 min)"
  ./packaging/setup.sh package
fi
echo "==> size on disk: $(du -sh dist/talab-app | cut -f1)"
run=("$app" --self-test)
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
  echo "==> self-test with no network (unshare -n)"
  run=(unshare -n "${run[@]}")
else
  echo "==> self-test (cannot drop the network here: run as root with unshare to check offline use)"
fi
start=$(date +%s.%N)
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "==> peak RAM: %M KB" "${run[@]}"
else
  "${run[@]}"
fi
echo "==> self-test wall time: $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}') s"
