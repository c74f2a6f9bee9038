#!/bin/sh
# Builds Tend-Agent-VERSION.pkg on a Mac: universal tend-agent and tend (x86_64 +
# arm64, lipo), the launchd job and the postinstall script, with pkgbuild +
# productbuild.
#   packaging/macos/build-pkg.sh [VERSION] [SIGNING_IDENTITY]
#   packaging/macos/build-pkg.sh --layout-only OUT
# The first runs only on macOS (pkgbuild, productbuild, lipo and plutil are Apple
# tools). `--layout-only` lays the payload tree out under OUT anywhere, with empty
# stand-ins where the universal binaries go and no Apple tool run: the dry run CI
# checks the file layout with.
set -eu
cd "$(dirname "$0")/../.."

# the payload tree under $1; binaries come from $2 (a directory with tend-agent and
# tend), or are empty stand-ins when $2 is empty
layout() {
    root="$1"
    bins="$2"
    app="$root/Library/Application Support/Tend"
    install -d "$app/bin" "$root/Library/LaunchDaemons" "$root/usr/local/bin"
    for b in tend-agent tend; do
        if [ -n "$bins" ]; then
            cp "$bins/$b" "$app/bin/$b"
        else
            : > "$app/bin/$b"
        fi
        chmod 0755 "$app/bin/$b"
    done
    # the employee's command on every user's PATH
    ln -sf "/Library/Application Support/Tend/bin/tend" "$root/usr/local/bin/tend"
    cp packaging/config/agent.toml "$app/agent.toml.default"
    cp packaging/launchd/com.tend.agent.plist "$root/Library/LaunchDaemons/"
}

if [ "${1:-}" = "--layout-only" ]; then
    OUT="${2:?usage: build-pkg.sh --layout-only OUT}"
    rm -rf "$OUT"
    layout "$OUT/root" ""
    cp -R packaging/macos/scripts "$OUT/scripts"
    (cd "$OUT" && find root scripts \( -type f -o -type l \) | LC_ALL=C sort)
    exit 0
fi

VERSION="${1:-$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)}"
IDENTITY="${2:-}"
[ "$(uname -s)" = Darwin ] || { echo "build-pkg.sh runs on macOS only (--layout-only runs anywhere)" >&2; exit 1; }

for t in x86_64-apple-darwin aarch64-apple-darwin; do
    rustup target add "$t" >/dev/null
    TEND_AGENT_VERSION="$VERSION" cargo build --release -p tend-agent --bins --target "$t"
done
OUT=target/macos-pkg
UNIVERSAL="$OUT/universal"
rm -rf "$OUT"
install -d "$UNIVERSAL"
for b in tend-agent tend; do
    lipo -create -output "$UNIVERSAL/$b" \
        "target/x86_64-apple-darwin/release/$b" "target/aarch64-apple-darwin/release/$b"
done
layout "$OUT/root" "$UNIVERSAL"
plutil -lint "$OUT/root/Library/LaunchDaemons/com.tend.agent.plist"

pkgbuild --root "$OUT/root" --identifier com.tend.agent --version "$VERSION" \
    --scripts packaging/macos/scripts --install-location / "$OUT/tend-agent-component.pkg"
if [ -n "$IDENTITY" ]; then
    productbuild --package "$OUT/tend-agent-component.pkg" --sign "$IDENTITY" "$OUT/Tend-Agent-$VERSION.pkg"
else
    productbuild --package "$OUT/tend-agent-component.pkg" "$OUT/Tend-Agent-$VERSION.pkg"
fi
echo "built $OUT/Tend-Agent-$VERSION.pkg (universal binary also at $UNIVERSAL/tend-agent; upload it with: tendctl release add --version $VERSION --platform macos-universal FILE)"
