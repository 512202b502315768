#!/usr/bin/env bash
# Installs the Debian packages Finch needs, only those that are missing.
# Silent when everything is present; safe to run again and again.
set -euo pipefail

packages=(libopenblas-dev libedit-dev gnuplot-nox libgnuplot-iostream-dev libzmq3-dev libopenmpi-dev openmpi-bin iproute2)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
((${#missing[@]} == 0)) && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "finch setup: missing ${missing[*]}, and this system has no apt-get; install them by hand." >&2
    exit 1
fi
sudo=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "finch setup: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi

echo "finch setup: installing ${missing[*]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# A new machine's package lists may be empty: update first.
if ! { "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "finch setup: apt-get failed installing ${missing[*]} (output above)" >&2
    exit 1
fi
