# tend-collector %postun: keys, certificates and the store stay after erase until:
# rm -rf /var/lib/tend/collector && userdel tend
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
fi
