#!/bin/sh
# Builds Tend-Agent-VERSION.pkg on a Mac: a universal tend-agent (x86_64 + arm64,
# lipo), the launchd job and the postinstall script, with pkgbuild + productbuild.
#   packaging/macos/build-pkg.sh [VERSION] [SIGNING_IDENTITY]
# Runs only on macOS (pkgbuild, productbuild and lipo are Apple tools).
set -eu
cd "$(dirname "$0")/../.."
VERSION="${1:-$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)}"
IDENTITY="${2:-}"
[ "$(uname -s)" = Darwin ] || { echo "build-pkg.sh runs on macOS only" >&2; exit 1; }

for t in x86_64-apple-darwin aarch64-apple-darwin; do
    rustup target add "$t" >/dev/null
    TEND_AGENT_VERSION="$VERSION" cargo build --release -p tend-agent --target "$t"
done
OUT=target/macos-pkg
ROOT="$OUT/root"
rm -rf "$OUT"
install -d "$ROOT/Library/Application Support/Tend/bin" "$ROOT/Library/LaunchDaemons"
lipo -create -output "$ROOT/Library/Application Support/Tend/bin/tend-agent" \
    target/x86_64-apple-darwin/release/tend-agent target/aarch64-apple-darwin/release/tend-agent
cp packaging/config/agent.toml "$ROOT/Library/Application Support/Tend/agent.toml.default"
cp packaging/launchd/com.tend.agent.plist "$ROOT/Library/LaunchDaemons/"
plutil -lint "$ROOT/Library/LaunchDaemons/com.tend.agent.plist"

pkgbuild --root "$ROOT" --identifier com.tend.agent --version "$VERSION" \
    --scripts packaging/macos/scripts --install-location / "$OUT/tend-agent-component.pkg"
if [ -n "$IDENTITY" ]; then SIGN="--sign $IDENTITY"; else SIGN=""; fi
# shellcheck disable=SC2086
productbuild --package "$OUT/tend-agent-component.pkg" $SIGN "$OUT/Tend-Agent-$VERSION.pkg"
echo "built $OUT/Tend-Agent-$VERSION.pkg (universal binary also at $ROOT/Library/Application Support/Tend/bin/tend-agent; upload it with: tendctl release add --version $VERSION --platform macos-universal FILE)"
