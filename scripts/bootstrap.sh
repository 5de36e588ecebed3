#!/usr/bin/env bash
# Installs the Debian packages Hallpass builds and tests with, when they are missing.
# Safe to run again: it installs nothing that is already there. `--tests` adds what only the
# test suite needs (the browsers of the sign-in tests: Debian's Chromium and its driver, w3m;
# oathtool; lintian for the Debian package).
set -euo pipefail
needed=(libsodium-dev libsqlite3-dev libncurses-dev libqrencode-dev pkg-config openssl openssh-client postgresql nginx iproute2 python3-venv tmux)
if [ "${1:-}" = "--tests" ]; then needed+=(chromium chromium-driver w3m oathtool lintian); fi
missing=()
for pkg in "${needed[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "bootstrap: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
