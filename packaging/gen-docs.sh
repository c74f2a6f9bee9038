#!/usr/bin/env bash
# Writes the man pages and shell completions the packages install, from the binaries'
# own clap definitions: packaging/man/*.1 and packaging/completions/{bash,zsh,fish}/.
# Run after changing a command line (a test fails while these are out of date):
#   cargo build --bins && packaging/gen-docs.sh [target/debug]
set -euo pipefail

bin=$(realpath "${1:-$(dirname "$0")/../target/debug}")
cd "$(dirname "$0")"
mkdir -p man completions/bash completions/zsh completions/fish
for b in tend-agent tend tend-collector tendctl; do
  "$bin/$b" man > "man/$b.1"
  "$bin/$b" completions bash > "completions/bash/$b"
  "$bin/$b" completions zsh > "completions/zsh/_$b"
  "$bin/$b" completions fish > "completions/fish/$b.fish"
done
