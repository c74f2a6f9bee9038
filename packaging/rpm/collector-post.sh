# tend-collector %post: service user, state dir, the unit enabled on first install and
# (re)started. $1: 1 install, 2 upgrade.
if ! getent passwd tend >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/tend/collector --no-create-home --shell /sbin/nologin tend
fi
install -d -m 0755 /var/lib/tend
install -d -m 0700 -o tend -g tend /var/lib/tend/collector
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -eq 1 ]; then
        systemctl enable tend-collector.service >/dev/null 2>&1 || :
    fi
    systemctl restart tend-collector.service >/dev/null 2>&1 || :
    echo "tend-collector: started; the first admin token is in: journalctl -u tend-collector"
fi
