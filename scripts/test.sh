#!/usr/bin/env bash
# Installs what the tests need (Debian packages of the real peers), then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(prometheus prometheus-node-exporter openssl kubectl curl chromium chromium-driver)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The Debian package starts its services; the tests start their own instances on free ports.
systemctl stop prometheus prometheus-node-exporter >/dev/null 2>&1 || true

cargo test --workspace --locked
