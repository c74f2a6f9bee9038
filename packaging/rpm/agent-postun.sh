# tend-agent %postun: on erase ($1 = 0) the /usr/bin link and any half-written update
# go; the state (credentials, spool) stays until: rm -rf /var/lib/tend/agent
if [ "$1" -eq 0 ]; then
    [ -L /usr/bin/tend-agent ] && rm -f /usr/bin/tend-agent
    rm -f /usr/lib/tend/bin/.tend-agent.* 2>/dev/null || :
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
fi
