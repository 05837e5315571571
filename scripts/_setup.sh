# Shared set-up for scripts/demo and scripts/test. Sourced, not run.
# Idempotent: each step is skipped when what it installs is already current.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

find_python() {
  # Python 3.13 first (what the project is developed against), then any 3.12+.
  local c v r=""
  command -v pyenv >/dev/null 2>&1 && r="$(pyenv root)"
  local candidates=(python3.13)
  [ -n "$r" ] && for v in "$r"/versions/3.13*/bin/python3; do candidates+=("$v"); done
  candidates+=(python3.14 python3.12)
  [ -n "$r" ] && for v in "$r"/versions/3.1[24]*/bin/python3; do candidates+=("$v"); done
  candidates+=(python3)
  for c in "${candidates[@]}"; do
    if command -v "$c" >/dev/null 2>&1 || [ -x "$c" ]; then
      if "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
        command -v "$c" 2>/dev/null || echo "$c"; return 0
      fi
    fi
  done
  echo "perso needs Python 3.12 or newer and found none (tried python3.13, python3.12, python3 and pyenv's versions). Install one, for example with 'pyenv install 3.13', and run this again." >&2
  return 1
}

stamp_ok() {  # stamp_ok NAME FILES... : true when FILES are unchanged since the last successful step
  local name="$1"; shift
  local sum; sum="$(cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1)"
  [ -f "$VENV/.stamp-$name" ] && [ "$(cat "$VENV/.stamp-$name")" = "$sum" ]
}
stamp_set() {
  local name="$1"; shift
  cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1 > "$VENV/.stamp-$name"
}

setup_python() {
  if [ ! -x "$VENV/bin/python" ]; then
    local py; py="$(find_python)"
    say "creating .venv with $("$py" --version)"
    "$py" -m venv "$VENV"
  fi
  if ! stamp_ok pip pyproject.toml; then
    say "installing Python packages (pinned in pyproject.toml [dev])"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e ".[dev]"
    stamp_set pip pyproject.toml
  fi
  export PATH="$VENV/bin:$PATH"
}

setup_node() {
  command -v node >/dev/null || { echo "perso needs Node.js 20 or newer (node was not found)." >&2; return 1; }
  if [ -f package.json ] && { [ ! -d node_modules ] || ! stamp_ok npm package.json package-lock.json; }; then
    say "installing npm packages (pinned in package-lock.json)"
    if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
    stamp_set npm package.json package-lock.json
  fi
}

setup_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    say "installing Debian's chromium"
    local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  fi
}
