# tend-agent %post: state dir, enrollment from a dropped bundle, the unit enabled on
# first install and (re)started once enrolled. $1: 1 install, 2 upgrade.
BUNDLE=/etc/tend/enroll.json
STATE=/var/lib/tend/agent
install -d -m 0755 /var/lib/tend
install -d -m 0700 "$STATE"
# the binary lives in /usr/lib/tend/bin (the one place self-update may write)
ln -sf /usr/lib/tend/bin/tend-agent /usr/bin/tend-agent
if [ -f "$BUNDLE" ] && [ ! -f "$STATE/credentials.json" ]; then
    if tend-agent enroll --bundle "$BUNDLE" --state "$STATE"; then
        echo "tend-agent: enrolled from $BUNDLE"
    else
        echo "tend-agent: enrollment from $BUNDLE failed; run: tend-agent enroll --bundle $BUNDLE --state $STATE" >&2
    fi
elif [ ! -f "$STATE/credentials.json" ]; then
    echo "tend-agent: not enrolled; drop the collector's bundle at $BUNDLE and run: tend-agent enroll --bundle $BUNDLE --state $STATE"
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -eq 1 ]; then
        systemctl enable tend-agent.service >/dev/null 2>&1 || :
    fi
    if [ -f "$STATE/credentials.json" ]; then
        systemctl restart tend-agent.service >/dev/null 2>&1 || :
    fi
fi
