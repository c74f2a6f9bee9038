#!/usr/bin/env bash
# Agent footprint side by side with the inventory agents users install today from
# Debian's packages. Installs them (root), runs each one-shot inventory 3 times with
# /usr/bin/time, measures idle RSS of the daemons, and prints one Markdown table.
# Usage: bash bench/peers.sh   (from the repository root; builds tend in release)
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
if ! command -v fusioninventory-agent >/dev/null || ! command -v ocsinventory-agent >/dev/null || ! command -v facter >/dev/null || ! command -v prometheus-node-exporter >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends fusioninventory-agent ocsinventory-agent facter prometheus-node-exporter time >/dev/null
fi
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
cargo build --release -q -p tend-agent -p tend-collector
A=target/release/tend-agent
C=target/release/tend-collector
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# median of three runs: wall s, CPU s (user+sys), max RSS MB
measure() {
  local name=$1; shift
  for i in 1 2 3; do
    /usr/bin/time -f "%e %U %S %M" -o "$work/t" "$@" >/dev/null 2>&1 || true
    tail -1 "$work/t"
  done > "$work/runs"
  local w c m
  w=$(awk '{print $1}' "$work/runs" | sort -n | sed -n 2p)
  c=$(awk '{print $2 + $3}' "$work/runs" | sort -n | sed -n 2p)
  m=$(awk '{print $4}' "$work/runs" | sort -n | sed -n 2p)
  awk -v n="$name" -v w="$w" -v c="$c" -v m="$m" 'BEGIN { printf "| %s | %.2f | %.3f | %.1f |\n", n, w, c, m / 1024 }'
}

echo "| one-shot inventory | wall s | CPU s | peak RSS MB |"
echo "| --- | --- | --- | --- |"
measure "tend-agent inventory" $A inventory
measure "tend-agent health (incl. apt-get -s upgrade)" $A health
measure "fusioninventory-agent --local" fusioninventory-agent --local "$work"
measure "ocsinventory-agent --local" ocsinventory-agent --local "$work"
measure "facter --json" facter --json

echo
echo "| daemon idle (after 20 s) | RSS MB | binary or package size MB |"
echo "| --- | --- | --- |"
prometheus-node-exporter --web.listen-address=127.0.0.1:19100 >/dev/null 2>&1 &
NE=$!
$C serve --data "$work/c" --listen 127.0.0.1:0 > "$work/c.out" 2>/dev/null &
for _ in $(seq 50); do grep -q listening "$work/c.out" 2>/dev/null && break; sleep 0.1; done
URL=$(grep listening "$work/c.out" | awk '{print $3}')
$C bundle --data "$work/c" --server "$URL" > "$work/b.json"
$A enroll --bundle "$work/b.json" --state "$work/a" >/dev/null
$A run --state "$work/a" 2>/dev/null &
AG=$!
sleep 20
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$1/status; }
pkg() { dpkg-query -W -f='${Installed-Size}' "$1" | awk '{printf "%.1f (package)", $1/1024}'; }
echo "| tend-agent run | $(rss $AG) | $(stat -c %s $A | awk '{printf "%.1f (stripped binary)", $1/1048576}') |"
echo "| prometheus-node-exporter | $(rss $NE) | $(pkg prometheus-node-exporter) |"
echo "| fusioninventory-agent (one-shot, no daemon measured) | - | $(pkg fusioninventory-agent) |"
echo "| ocsinventory-agent (one-shot) | - | $(pkg ocsinventory-agent) |"
echo "| facter (one-shot) | - | $(pkg facter) |"
