#!/usr/bin/env bash
# Builds tend-agent and tend-collector .rpms from already-built binaries with rpmbuild
# (Debian's `rpm` package has it): packaging/rpm/build.sh BIN_DIR OUT_DIR
set -euo pipefail
pkg=$(realpath "$(dirname "$0")/..")
bin=$(realpath "${1:?BIN_DIR (e.g. target/release)}")
mkdir -p "${2:?OUT_DIR}"
out=$(realpath "$2")
top=$(mktemp -d)
trap 'rm -rf "$top"' EXIT
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$pkg/../Cargo.toml" | head -1)
rpmbuild -bb --quiet \
  --define "_topdir $top" \
  --define "_rpmdir $out" \
  --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
  --define "tend_version $version" \
  --define "tend_bin $bin" \
  --define "tend_pkg $pkg" \
  "$pkg/rpm/tend.spec"
ls "$out"/tend-agent-*.rpm "$out"/tend-collector-*.rpm
