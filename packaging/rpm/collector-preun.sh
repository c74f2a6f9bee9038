# tend-collector %preun: on erase ($1 = 0) stop and disable the unit; upgrades keep it.
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
    systemctl --no-reload disable --now tend-collector.service >/dev/null 2>&1 || :
fi
