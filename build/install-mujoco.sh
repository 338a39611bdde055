#!/usr/bin/env bash
# Installs the MuJoCo physics engine the continuous-control tasks run on: Debian 12's libmujoco-dev
# (MuJoCo 2.2.2: the library libmujoco.so.2.2.2 and its headers), and a C compiler if there is none
# (the tests compile build/generate-mujoco-layout.sh's few lines against the headers). Does nothing
# when both are present. Runs apt-get as root, or through sudo otherwise. ./test.sh runs it.
set -euo pipefail

packages=()
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
if ! installed libmujoco-dev; then
  packages+=(libmujoco-dev)
fi
if ! command -v cc >/dev/null 2>&1; then
  packages+=(gcc libc6-dev)
fi
if [[ ${#packages[@]} -eq 0 ]]; then
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  # Without a terminal (CI, ./test.sh in a pipe) sudo must not wait for a password.
  if [[ -t 0 ]]; then as_root=(sudo); else as_root=(sudo -n); fi
else
  echo "install-mujoco: need root (or sudo) to run: apt-get install -y ${packages[*]}" >&2
  exit 1
fi

echo "install-mujoco: installing ${packages[*]}"
apt() { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@"; }
# A fresh machine may have no package lists yet: update once if the first attempt fails.
if ! apt install -y --no-install-recommends "${packages[@]}" >/dev/null 2>&1; then
  apt update -qq
  apt install -y --no-install-recommends "${packages[@]}" >/dev/null
fi
installed libmujoco-dev || { echo "install-mujoco: libmujoco-dev is still not installed" >&2; exit 1; }
