#!/usr/bin/env bash
# One script behind README's two commands, idempotent and fast when nothing changed:
#   scripts/bootstrap.sh run    install what is missing, build, start the workbench
#   scripts/bootstrap.sh test   install what is missing, build, run every test
#   scripts/bootstrap.sh build  install what is missing and build
# Environment: MESHWORK_VENV (PyPI torch for LibTorch; default ~/.cache/meshwork/venv),
# MESHWORK_BUILD (build folder; default ./build), MESHWORK_JOBS (parallel jobs).
set -euo pipefail

mode=${1:-build}
case "$mode" in run|test|build) ;; *) echo "usage: $0 run|test|build" >&2; exit 2 ;; esac
shift || true

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${MESHWORK_VENV:-$HOME/.cache/meshwork/venv}
build=${MESHWORK_BUILD:-$root/build}
jobs=${MESHWORK_JOBS:-$(nproc)}
torch_version=2.11.0
log() { printf '\033[1m[meshwork]\033[0m %s\n' "$*"; }

# --- Debian / Ubuntu packages -------------------------------------------------------------
packages=(build-essential cmake ninja-build pkg-config git python3 python3-venv python3-pip
          qt6-base-dev qt6-base-dev-tools libqcustomplot-dev libssh-dev libsqlite3-dev sqlite3 libgloo-dev
          xvfb xauth openssh-server openssh-client)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- PyTorch from PyPI: LibTorch for meshwork-train, and the reference checks -------------
if ! "$venv/bin/python3" -c "import torch, sys; sys.exit(0 if torch.__version__.startswith('$torch_version') else 1)" 2>/dev/null; then
  log "installing PyTorch $torch_version into $venv (LibTorch comes from its wheel)"
  python3 -m venv "$venv"
  "$venv/bin/python3" -m pip install -q --upgrade pip
  "$venv/bin/python3" -m pip install -q "torch==$torch_version" numpy
fi

# --- Configure and build (the trainer stays CPU-only here; GPU builds: -DMESHWORK_CUDA=ON) --
if [ ! -f "$build/build.ninja" ]; then
  log "configuring $build"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DMESHWORK_PYTHON="$venv/bin/python3" -DMESHWORK_CUDA=OFF
fi
log "building"
cmake --build "$build" -j "$jobs"

case "$mode" in
  run)
    log "starting the workbench"
    exec "$build/bin/meshwork" "$@"
    ;;
  test)
    log "running the tests"
    cd "$build"
    exec ctest --output-on-failure -j "$jobs" "$@"
    ;;
esac
