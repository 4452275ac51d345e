#!/usr/bin/env bash
# Installs the Debian packages the local stack needs, if missing:
# mariadb-server and mariadb-client; wrk with --bench; prometheus (with
# promtool, for the alert rules' and the dashboard's tests) with --deploy;
# haproxy with --fleet (scripts/fleet.sh); podman, buildah and runc with
# --image. Runs apt-get update only when something is missing; uses sudo
# only when not root. Idempotent, and quick when everything is installed.
#
# Usage: scripts/deps.sh [--bench] [--deploy] [--fleet] [--image]
set -euo pipefail

packages=(mariadb-server mariadb-client)
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=(wrk) ;;
    --deploy) packages+=(prometheus) ;;
    --fleet) packages+=(haproxy) ;;
    --image) packages+=(podman buildah runc) ;;
    -h | --help)
      sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "deps: unknown argument: $arg (usage: scripts/deps.sh [--bench] [--deploy] [--fleet] [--image])" >&2
      exit 2
      ;;
  esac
done

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != installed ]]; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=()
if ((EUID != 0)); then
  if ! command -v sudo >/dev/null; then
    echo "deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
  sudo=(sudo)
fi

echo "deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "deps: installed ${missing[*]}"
