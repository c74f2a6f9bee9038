#!/bin/sh
# Installs (or removes) the Tend agent on a Linux machine without the .deb:
#   sudo packaging/install.sh --binary ./tend-agent [--bundle enroll.json]
#   sudo packaging/install.sh --uninstall [--purge]
# --purge also deletes /var/lib/tend/agent (credentials, spool) and /etc/tend/agent.toml.
# PREFIX (default /) lets a test install into a scratch root; then no service is touched.
set -eu
PREFIX="${PREFIX:-}"
HERE="$(cd "$(dirname "$0")" && pwd)"
BINARY=""
BUNDLE=""
MODE=install
PURGE=0
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) BINARY="$2"; shift 2 ;;
        --bundle) BUNDLE="$2"; shift 2 ;;
        --uninstall) MODE=uninstall; shift ;;
        --purge) PURGE=1; shift ;;
        -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
systemd_up() { [ -z "$PREFIX" ] && [ -d /run/systemd/system ]; }

if [ "$MODE" = uninstall ]; then
    if systemd_up; then
        systemctl disable --now tend-agent.service >/dev/null 2>&1 || true
    fi
    rm -f "$PREFIX/etc/systemd/system/tend-agent.service" "$PREFIX/usr/bin/tend-agent" "$PREFIX/usr/bin/tend"
    rm -rf "$PREFIX/usr/lib/tend"
    if [ "$PURGE" = 1 ]; then
        rm -rf "$PREFIX/var/lib/tend/agent"
        rm -f "$PREFIX/etc/tend/agent.toml" "$PREFIX/etc/tend/enroll.json"
        echo "tend-agent removed, state purged"
    else
        echo "tend-agent removed; state kept in $PREFIX/var/lib/tend/agent (--purge deletes it)"
    fi
    systemd_up && systemctl daemon-reload || true
    exit 0
fi

[ -n "$BINARY" ] || { echo "install.sh: --binary PATH is required" >&2; exit 2; }
[ -x "$BINARY" ] || { echo "install.sh: $BINARY is not an executable" >&2; exit 2; }
install -d -m 0755 "$PREFIX/usr/lib/tend/bin" "$PREFIX/usr/bin" "$PREFIX/etc/tend" "$PREFIX/etc/systemd/system"
install -d -m 0700 "$PREFIX/var/lib/tend/agent"
install -m 0755 "$BINARY" "$PREFIX/usr/lib/tend/bin/tend-agent"
ln -sf /usr/lib/tend/bin/tend-agent "$PREFIX/usr/bin/tend-agent"
# the employee's command, when it sits beside the agent binary
if [ -x "$(dirname "$BINARY")/tend" ]; then
    install -m 0755 "$(dirname "$BINARY")/tend" "$PREFIX/usr/bin/tend"
fi
install -m 0644 "$HERE/systemd/tend-agent.service" "$PREFIX/etc/systemd/system/tend-agent.service"
if [ ! -f "$PREFIX/etc/tend/agent.toml" ]; then
    sed "s#\"/var/lib/tend/agent\"#\"$PREFIX/var/lib/tend/agent\"#" "$HERE/config/agent.toml" > "$PREFIX/etc/tend/agent.toml"
fi
"$PREFIX/usr/lib/tend/bin/tend-agent" validate --config "$PREFIX/etc/tend/agent.toml"
if [ -n "$BUNDLE" ]; then
    install -m 0600 "$BUNDLE" "$PREFIX/etc/tend/enroll.json"
    if [ ! -f "$PREFIX/var/lib/tend/agent/credentials.json" ]; then
        "$PREFIX/usr/lib/tend/bin/tend-agent" enroll --bundle "$PREFIX/etc/tend/enroll.json" --state "$PREFIX/var/lib/tend/agent"
    fi
fi
if systemd_up; then
    systemctl daemon-reload
    systemctl enable --now tend-agent.service
    echo "tend-agent installed and started"
else
    echo "tend-agent installed in ${PREFIX:-/} (no systemd here: start it with $PREFIX/usr/lib/tend/bin/tend-agent run --config $PREFIX/etc/tend/agent.toml)"
fi
