#!/usr/bin/env bash
# CI only: signs the .rpms given with a throwaway key and trusts that key in the rpm
# database, so rpmlint checks a signed package as a release would ship it. Releases
# are signed with the team's own key instead (rpmsign --addsign --define
# "_gpg_name <team key>"), which laptops import with `rpm --import`.
set -euo pipefail
export GNUPGHOME=$(mktemp -d)
trap 'rm -rf "$GNUPGHOME"' EXIT
name="Tend CI <ci@example.invalid>"
gpg --batch --passphrase '' --quick-gen-key "$name" default default never >/dev/null 2>&1
gpg --export --armor "$name" > "$GNUPGHOME/key.asc"
rpm --import "$GNUPGHOME/key.asc"
rpmsign --addsign --define "__gpg $(command -v gpg)" --define "_gpg_name $name" "$@" >/dev/null
