# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_tendctl_global_optspecs
    string join \n server= token= ca= json raw h/help V/version
end

function __fish_tendctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_tendctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_tendctl_using_subcommand
    set -l cmd (__fish_tendctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c tendctl -n "__fish_tendctl_needs_command" -l server -d 'Collector URL' -r
complete -c tendctl -n "__fish_tendctl_needs_command" -l token -d 'API token' -r
complete -c tendctl -n "__fish_tendctl_needs_command" -l ca -d 'The collector\'s CA certificate (PEM file) to trust alone; without it the system\'s roots are trusted (`SSL_CERT_FILE` honoured), for a collector serving a publicly trusted or company-deployed certificate' -r -F
complete -c tendctl -n "__fish_tendctl_needs_command" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_needs_command" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_needs_command" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_needs_command" -s V -l version -d 'Print version'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "completions" -d 'Print shell completions (bash, zsh, fish, elvish, powershell)'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "man" -d 'Print the man page (roff)'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "devices" -d 'List devices'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "device" -d 'Show one device: inventory, checks, asset, tickets, recent events'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "enroll-token" -d 'Enrollment tokens for MDM pushes: expiring and use-limited, instead of the fleet-wide secret (admin)'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "offboard" -d 'Offboard a laptop, one step at a time: collect, then wipe, then retire (retiring revokes its device and closes its open tickets)'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "assets" -d 'List assets'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "audit" -d 'Show the audit log, newest first (admin)'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "policy" -d 'Show or replace the health policy'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "tickets" -d 'List tickets (the service desk queue)'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "ticket" -d 'Show one ticket; with options, change it first'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "problems" -d 'Fleet-wide problems (one problem key on many devices)'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "diagnose" -d 'Queue a built-in diagnostic on a device'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "scripts" -d 'Approved scripts: list, submit, approve, revoke'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "run" -d 'Run an approved script on a device'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "job" -d 'Show one job'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "bulk" -d 'Queue a diagnostic or script on every matching device, or show progress'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "report" -d 'Reports'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "token" -d 'API tokens: your own (admins see and revoke everyone\'s)'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "user" -d 'Users (admin): add, list, disable'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "release" -d 'Agent releases and their rollout (list without a subcommand)'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "kb" -d 'Knowledge-base articles `tend help` shows before a request is filed'
complete -c tendctl -n "__fish_tendctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand completions" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand completions" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand man" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand man" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand man" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand devices" -l platform -d 'linux | macos' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand devices" -l health -d 'healthy | warning | failing | unknown' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand devices" -l offline-for -d 'Only devices silent for at least this many seconds' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand devices" -l search -d 'Hostname, serial, owner or id prefix' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand devices" -l limit -d 'Show at most this many (the collector pages through its indexes)' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand devices" -l all -d 'Show every one, however many pages'
complete -c tendctl -n "__fish_tendctl_using_subcommand devices" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand devices" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand devices" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand device" -l approve-reenroll -d 'Admit its waiting re-enrollment (a reinstalled laptop without its old credentials); only the installation that asked gets in, within a day'
complete -c tendctl -n "__fish_tendctl_using_subcommand device" -l decommission -d 'Revoke its token, retire its asset, close its open tickets (a stolen or returned laptop)'
complete -c tendctl -n "__fish_tendctl_using_subcommand device" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand device" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand device" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and not __fish_seen_subcommand_from create list pending revoke help" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and not __fish_seen_subcommand_from create list pending revoke help" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and not __fish_seen_subcommand_from create list pending revoke help" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and not __fish_seen_subcommand_from create list pending revoke help" -f -a "create" -d 'Create one; prints it (shown once), or writes a ready bundle with `--bundle`'
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and not __fish_seen_subcommand_from create list pending revoke help" -f -a "list"
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and not __fish_seen_subcommand_from create list pending revoke help" -f -a "pending" -d 'Re-enrollments waiting for approval and the last day\'s refused enrollments by source address (admin)'
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and not __fish_seen_subcommand_from create list pending revoke help" -f -a "revoke"
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and not __fish_seen_subcommand_from create list pending revoke help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and __fish_seen_subcommand_from create" -l expires -d 'Lifetime: 12h, 7d… (at most 90 days)' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and __fish_seen_subcommand_from create" -l uses -d 'Enrollments it admits' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and __fish_seen_subcommand_from create" -l label -r
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and __fish_seen_subcommand_from create" -l bundle -d 'Write an enrollment bundle (server URL, CA, this token, signing key) here' -r -F
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and __fish_seen_subcommand_from create" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and __fish_seen_subcommand_from create" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and __fish_seen_subcommand_from list" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and __fish_seen_subcommand_from list" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and __fish_seen_subcommand_from pending" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and __fish_seen_subcommand_from pending" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and __fish_seen_subcommand_from pending" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and __fish_seen_subcommand_from revoke" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and __fish_seen_subcommand_from revoke" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create one; prints it (shown once), or writes a ready bundle with `--bundle`'
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and __fish_seen_subcommand_from help" -f -a "list"
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and __fish_seen_subcommand_from help" -f -a "pending" -d 'Re-enrollments waiting for approval and the last day\'s refused enrollments by source address (admin)'
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and __fish_seen_subcommand_from help" -f -a "revoke"
complete -c tendctl -n "__fish_tendctl_using_subcommand enroll-token; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand offboard" -l note -r
complete -c tendctl -n "__fish_tendctl_using_subcommand offboard" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand offboard" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand offboard" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand assets" -l limit -d 'Show at most this many (the collector pages through its indexes)' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand assets" -l all -d 'Show every one, however many pages'
complete -c tendctl -n "__fish_tendctl_using_subcommand assets" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand assets" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand assets" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand audit" -l limit -d 'Show at most this many (the collector pages through its indexes)' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand audit" -l all -d 'Show every one, however many pages'
complete -c tendctl -n "__fish_tendctl_using_subcommand audit" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand audit" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand audit" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and not __fish_seen_subcommand_from show set set-check help" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and not __fish_seen_subcommand_from show set set-check help" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and not __fish_seen_subcommand_from show set set-check help" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and not __fish_seen_subcommand_from show set set-check help" -f -a "show"
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and not __fish_seen_subcommand_from show set set-check help" -f -a "set" -d 'Replace the policy with a JSON file (version is assigned by the collector)'
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and not __fish_seen_subcommand_from show set set-check help" -f -a "set-check" -d 'Change one check kind\'s thresholds (admin); the rest of the policy is kept'
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and not __fish_seen_subcommand_from show set set-check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and __fish_seen_subcommand_from show" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and __fish_seen_subcommand_from show" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and __fish_seen_subcommand_from set" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and __fish_seen_subcommand_from set" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and __fish_seen_subcommand_from set-check" -l warn -r
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and __fish_seen_subcommand_from set-check" -l fail -r
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and __fish_seen_subcommand_from set-check" -l enabled -r -f -a "true\t''
false\t''"
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and __fish_seen_subcommand_from set-check" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and __fish_seen_subcommand_from set-check" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and __fish_seen_subcommand_from set-check" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "show"
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "set" -d 'Replace the policy with a JSON file (version is assigned by the collector)'
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "set-check" -d 'Change one check kind\'s thresholds (admin); the rest of the policy is kept'
complete -c tendctl -n "__fish_tendctl_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand tickets" -l status -d 'new, in_progress, pending, resolved, closed — comma-separated — or `open` (new, in_progress and pending)' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand tickets" -l priority -d 'P1, P2, P3 or P4' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand tickets" -l device -d 'Id, unique id prefix, hostname or serial' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand tickets" -l problem-key -r
complete -c tendctl -n "__fish_tendctl_using_subcommand tickets" -l assignee -d 'A name, or `me` for the token\'s own user' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand tickets" -l sort -d 'created | updated | priority | due' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand tickets" -l limit -d 'Show at most this many (the collector pages through its indexes)' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand tickets" -l breached -d 'Only tickets that breached an SLA target'
complete -c tendctl -n "__fish_tendctl_using_subcommand tickets" -l open -d 'Only open tickets'
complete -c tendctl -n "__fish_tendctl_using_subcommand tickets" -l all -d 'Show every one, however many pages'
complete -c tendctl -n "__fish_tendctl_using_subcommand tickets" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand tickets" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand tickets" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand ticket" -l status -d 'in_progress, pending, resolved or closed (only the moves the lifecycle allows)' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand ticket" -l assignee -d 'A name, `me` for yourself, or "" to unassign' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand ticket" -l priority -r
complete -c tendctl -n "__fish_tendctl_using_subcommand ticket" -l comment -r
complete -c tendctl -n "__fish_tendctl_using_subcommand ticket" -l reply -d 'The comment is a reply the requester sees (`tend status`), not an internal note'
complete -c tendctl -n "__fish_tendctl_using_subcommand ticket" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand ticket" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand ticket" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand problems" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand problems" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand problems" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand diagnose" -l wait -d 'Wait up to this many seconds for the result (default 30); a diagnostic that did not succeed exits 1' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand diagnose" -l ttl -d 'Wait this long for an offline device (`90m`, `3d`, up to `14d`; default 1 day)' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand diagnose" -l ticket -d 'Attach the result to this ticket of the device (`T-12`)' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand diagnose" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand diagnose" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand diagnose" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and not __fish_seen_subcommand_from submit approve revoke help" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and not __fish_seen_subcommand_from submit approve revoke help" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and not __fish_seen_subcommand_from submit approve revoke help" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and not __fish_seen_subcommand_from submit approve revoke help" -f -a "submit" -d 'Submit a script file (admin); a second, different admin approves it'
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and not __fish_seen_subcommand_from submit approve revoke help" -f -a "approve" -d 'Approve the version awaiting approval (admin, not the one who submitted it)'
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and not __fish_seen_subcommand_from submit approve revoke help" -f -a "revoke" -d 'Revoke every version; queued runs are rejected'
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and not __fish_seen_subcommand_from submit approve revoke help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and __fish_seen_subcommand_from submit" -l name -r
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and __fish_seen_subcommand_from submit" -l interpreter -d 'sh, bash, zsh or python3' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and __fish_seen_subcommand_from submit" -l timeout -r
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and __fish_seen_subcommand_from submit" -l run-as -d 'root | console_user' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and __fish_seen_subcommand_from submit" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and __fish_seen_subcommand_from submit" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and __fish_seen_subcommand_from submit" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and __fish_seen_subcommand_from approve" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and __fish_seen_subcommand_from approve" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and __fish_seen_subcommand_from approve" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and __fish_seen_subcommand_from revoke" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and __fish_seen_subcommand_from revoke" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and __fish_seen_subcommand_from help" -f -a "submit" -d 'Submit a script file (admin); a second, different admin approves it'
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and __fish_seen_subcommand_from help" -f -a "approve" -d 'Approve the version awaiting approval (admin, not the one who submitted it)'
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and __fish_seen_subcommand_from help" -f -a "revoke" -d 'Revoke every version; queued runs are rejected'
complete -c tendctl -n "__fish_tendctl_using_subcommand scripts; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand run" -l wait -d 'Wait up to this many seconds for the result (default 60); a script that did not succeed exits 1' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand run" -l ttl -d 'Wait this long for an offline device (`90m`, `3d`, up to `14d`; default 1 day)' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand run" -l ticket -d 'Attach the result to this ticket of the device (`T-12`)' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand run" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand run" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand run" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand job" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand job" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand job" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and not __fish_seen_subcommand_from diagnose run status help" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and not __fish_seen_subcommand_from diagnose run status help" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and not __fish_seen_subcommand_from diagnose run status help" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and not __fish_seen_subcommand_from diagnose run status help" -f -a "diagnose" -d 'Queue a diagnostic on every matching device'
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and not __fish_seen_subcommand_from diagnose run status help" -f -a "run" -d 'Queue an approved script on every matching device'
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and not __fish_seen_subcommand_from diagnose run status help" -f -a "status" -d 'Progress of a bulk action by job state'
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and not __fish_seen_subcommand_from diagnose run status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and __fish_seen_subcommand_from diagnose" -l platform -r
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and __fish_seen_subcommand_from diagnose" -l health -r
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and __fish_seen_subcommand_from diagnose" -l problem-key -r
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and __fish_seen_subcommand_from diagnose" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and __fish_seen_subcommand_from diagnose" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and __fish_seen_subcommand_from diagnose" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and __fish_seen_subcommand_from run" -l platform -r
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and __fish_seen_subcommand_from run" -l health -r
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and __fish_seen_subcommand_from run" -l problem-key -r
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and __fish_seen_subcommand_from run" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and __fish_seen_subcommand_from run" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and __fish_seen_subcommand_from status" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and __fish_seen_subcommand_from status" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and __fish_seen_subcommand_from help" -f -a "diagnose" -d 'Queue a diagnostic on every matching device'
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and __fish_seen_subcommand_from help" -f -a "run" -d 'Queue an approved script on every matching device'
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and __fish_seen_subcommand_from help" -f -a "status" -d 'Progress of a bulk action by job state'
complete -c tendctl -n "__fish_tendctl_using_subcommand bulk; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand report; and not __fish_seen_subcommand_from sla service-desk help" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand report; and not __fish_seen_subcommand_from sla service-desk help" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand report; and not __fish_seen_subcommand_from sla service-desk help" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand report; and not __fish_seen_subcommand_from sla service-desk help" -f -a "sla" -d 'Volume, time to own/resolve, backlog aging, breach/reopen rates, deflection'
complete -c tendctl -n "__fish_tendctl_using_subcommand report; and not __fish_seen_subcommand_from sla service-desk help" -f -a "service-desk" -d 'First-contact resolution, CSAT, deflection, MTTR and volume per week, category and assignee, laptop delivery time against the 21-day target'
complete -c tendctl -n "__fish_tendctl_using_subcommand report; and not __fish_seen_subcommand_from sla service-desk help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand report; and __fish_seen_subcommand_from sla" -l days -d 'The last N days (default 30)' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand report; and __fish_seen_subcommand_from sla" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand report; and __fish_seen_subcommand_from sla" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand report; and __fish_seen_subcommand_from sla" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand report; and __fish_seen_subcommand_from service-desk" -l days -d 'The last N days (default 90)' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand report; and __fish_seen_subcommand_from service-desk" -l csv -d 'Print one table as CSV: weeks, categories, assignees, delivery or late' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand report; and __fish_seen_subcommand_from service-desk" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand report; and __fish_seen_subcommand_from service-desk" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand report; and __fish_seen_subcommand_from service-desk" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "sla" -d 'Volume, time to own/resolve, backlog aging, breach/reopen rates, deflection'
complete -c tendctl -n "__fish_tendctl_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "service-desk" -d 'First-contact resolution, CSAT, deflection, MTTR and volume per week, category and assignee, laptop delivery time against the 21-day target'
complete -c tendctl -n "__fish_tendctl_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "create" -d 'A new token for yourself (or for a user you created)'
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "list" -d 'Your tokens (admins: everyone\'s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "revoke" -d 'Revoke a token by its id (`tk_…`, from `token list`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and __fish_seen_subcommand_from create" -l role -d 'At most your own role [default: your role]' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and __fish_seen_subcommand_from create" -l label -d 'What it is for, shown in `token list`' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and __fish_seen_subcommand_from create" -l expires -d 'Lifetime: 90m, 12h, 30d… [default: until revoked]' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and __fish_seen_subcommand_from create" -l user -d 'A user you created (name or id) [default: you]' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and __fish_seen_subcommand_from create" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and __fish_seen_subcommand_from create" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and __fish_seen_subcommand_from list" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and __fish_seen_subcommand_from list" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and __fish_seen_subcommand_from revoke" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and __fish_seen_subcommand_from revoke" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "create" -d 'A new token for yourself (or for a user you created)'
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "list" -d 'Your tokens (admins: everyone\'s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "revoke" -d 'Revoke a token by its id (`tk_…`, from `token list`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and not __fish_seen_subcommand_from add list password reset disable help" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and not __fish_seen_subcommand_from add list password reset disable help" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and not __fish_seen_subcommand_from add list password reset disable help" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and not __fish_seen_subcommand_from add list password reset disable help" -f -a "add" -d 'Create a user; prints its first token (give it to them)'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and not __fish_seen_subcommand_from add list password reset disable help" -f -a "list"
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and not __fish_seen_subcommand_from add list password reset disable help" -f -a "password" -d 'Change your own console password: standard input holds the current password on its first line and the new one (at least 12 characters) on the second. With --code, the first line is instead a reset code an admin gave you. Nobody sets another user\'s password'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and not __fish_seen_subcommand_from add list password reset disable help" -f -a "reset" -d 'Reset a user\'s password (admin): its old password, sessions and session tokens end, and a one-time code (24 h) lets its owner set a new one. Audited, and every admin is told; the user approves nothing until it sets its own password'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and not __fish_seen_subcommand_from add list password reset disable help" -f -a "disable" -d 'Disable a user (its tokens stop working at once)'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and not __fish_seen_subcommand_from add list password reset disable help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from add" -l role -d 'viewer | analyst | admin' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from add" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from add" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from list" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from list" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from password" -l code -d 'The first line of standard input is a one-time reset code (`user reset`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from password" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from password" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from password" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from reset" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from reset" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from reset" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from disable" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from disable" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from disable" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "add" -d 'Create a user; prints its first token (give it to them)'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "list"
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "password" -d 'Change your own console password: standard input holds the current password on its first line and the new one (at least 12 characters) on the second. With --code, the first line is instead a reset code an admin gave you. Nobody sets another user\'s password'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "reset" -d 'Reset a user\'s password (admin): its old password, sessions and session tokens end, and a one-time code (24 h) lets its owner set a new one. Audited, and every admin is told; the user approves nothing until it sets its own password'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "disable" -d 'Disable a user (its tokens stop working at once)'
complete -c tendctl -n "__fish_tendctl_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and not __fish_seen_subcommand_from list show add promote approve pause resume help" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and not __fish_seen_subcommand_from list show add promote approve pause resume help" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and not __fish_seen_subcommand_from list show add promote approve pause resume help" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and not __fish_seen_subcommand_from list show add promote approve pause resume help" -f -a "list" -d 'List releases with their rollout state'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and not __fish_seen_subcommand_from list show add promote approve pause resume help" -f -a "show" -d 'One release: artifacts and rollout stages with their outcomes'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and not __fish_seen_subcommand_from list show add promote approve pause resume help" -f -a "add" -d 'Upload an agent binary (admin); the collector signs what it offers'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and not __fish_seen_subcommand_from list show add promote approve pause resume help" -f -a "promote" -d 'Offer the release to this share of devices (stable by device id)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and not __fish_seen_subcommand_from list show add promote approve pause resume help" -f -a "approve" -d 'Approve the uploaded artifacts (an admin other than the uploader); nothing is offered before'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and not __fish_seen_subcommand_from list show add promote approve pause resume help" -f -a "pause" -d 'Stop offering the release'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and not __fish_seen_subcommand_from list show add promote approve pause resume help" -f -a "resume" -d 'Offer it again (also clears an automatic halt)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and not __fish_seen_subcommand_from list show add promote approve pause resume help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from list" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from list" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from show" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from show" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from add" -l version -r
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from add" -l platform -d 'linux-x86_64, linux-aarch64 or macos-universal' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from add" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from add" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from promote" -l percent -r
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from promote" -l failure-threshold -d 'Halt automatically when this share of a stage fails' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from promote" -l min-sample -d 'Attempts a stage needs before it can halt' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from promote" -l rollback -d 'The way back from a bad release: offer this (older) version to devices running a newer one too (the offer says so, signed)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from promote" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from promote" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from promote" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from approve" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from approve" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from approve" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from pause" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from pause" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from pause" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from resume" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from resume" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from help" -f -a "list" -d 'List releases with their rollout state'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from help" -f -a "show" -d 'One release: artifacts and rollout stages with their outcomes'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from help" -f -a "add" -d 'Upload an agent binary (admin); the collector signs what it offers'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from help" -f -a "promote" -d 'Offer the release to this share of devices (stable by device id)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from help" -f -a "approve" -d 'Approve the uploaded artifacts (an admin other than the uploader); nothing is offered before'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from help" -f -a "pause" -d 'Stop offering the release'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from help" -f -a "resume" -d 'Offer it again (also clears an automatic halt)'
complete -c tendctl -n "__fish_tendctl_using_subcommand release; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and not __fish_seen_subcommand_from add show rm help" -l category -d 'List the articles for this request category' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and not __fish_seen_subcommand_from add show rm help" -l problem-key -d 'List the articles for this problem key (`disk.free:/`)' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and not __fish_seen_subcommand_from add show rm help" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and not __fish_seen_subcommand_from add show rm help" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and not __fish_seen_subcommand_from add show rm help" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and not __fish_seen_subcommand_from add show rm help" -f -a "add" -d 'Add an article from a markdown file (analyst)'
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and not __fish_seen_subcommand_from add show rm help" -f -a "show" -d 'Show one article'
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and not __fish_seen_subcommand_from add show rm help" -f -a "rm" -d 'Remove an article (analyst)'
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and not __fish_seen_subcommand_from add show rm help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and __fish_seen_subcommand_from add" -l title -r
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and __fish_seen_subcommand_from add" -l category -d 'A request category it answers (repeatable)' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and __fish_seen_subcommand_from add" -l problem-key -d 'A problem key or prefix it answers (repeatable)' -r
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and __fish_seen_subcommand_from add" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and __fish_seen_subcommand_from add" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and __fish_seen_subcommand_from show" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and __fish_seen_subcommand_from show" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and __fish_seen_subcommand_from rm" -l json -d 'Print JSON instead of tables (every command)'
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and __fish_seen_subcommand_from rm" -l raw -d 'Print device output and text byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add an article from a markdown file (analyst)'
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one article'
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Remove an article (analyst)'
complete -c tendctl -n "__fish_tendctl_using_subcommand kb; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "completions" -d 'Print shell completions (bash, zsh, fish, elvish, powershell)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "man" -d 'Print the man page (roff)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "devices" -d 'List devices'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "device" -d 'Show one device: inventory, checks, asset, tickets, recent events'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "enroll-token" -d 'Enrollment tokens for MDM pushes: expiring and use-limited, instead of the fleet-wide secret (admin)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "offboard" -d 'Offboard a laptop, one step at a time: collect, then wipe, then retire (retiring revokes its device and closes its open tickets)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "assets" -d 'List assets'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "audit" -d 'Show the audit log, newest first (admin)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "policy" -d 'Show or replace the health policy'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "tickets" -d 'List tickets (the service desk queue)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "ticket" -d 'Show one ticket; with options, change it first'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "problems" -d 'Fleet-wide problems (one problem key on many devices)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "diagnose" -d 'Queue a built-in diagnostic on a device'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "scripts" -d 'Approved scripts: list, submit, approve, revoke'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "run" -d 'Run an approved script on a device'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "job" -d 'Show one job'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "bulk" -d 'Queue a diagnostic or script on every matching device, or show progress'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "report" -d 'Reports'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "token" -d 'API tokens: your own (admins see and revoke everyone\'s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "user" -d 'Users (admin): add, list, disable'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "release" -d 'Agent releases and their rollout (list without a subcommand)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "kb" -d 'Knowledge-base articles `tend help` shows before a request is filed'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and not __fish_seen_subcommand_from completions man devices device enroll-token offboard assets audit policy tickets ticket problems diagnose scripts run job bulk report token user release kb help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from enroll-token" -f -a "create" -d 'Create one; prints it (shown once), or writes a ready bundle with `--bundle`'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from enroll-token" -f -a "list"
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from enroll-token" -f -a "pending" -d 'Re-enrollments waiting for approval and the last day\'s refused enrollments by source address (admin)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from enroll-token" -f -a "revoke"
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "show"
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "set" -d 'Replace the policy with a JSON file (version is assigned by the collector)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "set-check" -d 'Change one check kind\'s thresholds (admin); the rest of the policy is kept'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from scripts" -f -a "submit" -d 'Submit a script file (admin); a second, different admin approves it'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from scripts" -f -a "approve" -d 'Approve the version awaiting approval (admin, not the one who submitted it)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from scripts" -f -a "revoke" -d 'Revoke every version; queued runs are rejected'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from bulk" -f -a "diagnose" -d 'Queue a diagnostic on every matching device'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from bulk" -f -a "run" -d 'Queue an approved script on every matching device'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from bulk" -f -a "status" -d 'Progress of a bulk action by job state'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from report" -f -a "sla" -d 'Volume, time to own/resolve, backlog aging, breach/reopen rates, deflection'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from report" -f -a "service-desk" -d 'First-contact resolution, CSAT, deflection, MTTR and volume per week, category and assignee, laptop delivery time against the 21-day target'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "create" -d 'A new token for yourself (or for a user you created)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "list" -d 'Your tokens (admins: everyone\'s)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "revoke" -d 'Revoke a token by its id (`tk_…`, from `token list`)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "add" -d 'Create a user; prints its first token (give it to them)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "list"
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "password" -d 'Change your own console password: standard input holds the current password on its first line and the new one (at least 12 characters) on the second. With --code, the first line is instead a reset code an admin gave you. Nobody sets another user\'s password'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "reset" -d 'Reset a user\'s password (admin): its old password, sessions and session tokens end, and a one-time code (24 h) lets its owner set a new one. Audited, and every admin is told; the user approves nothing until it sets its own password'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "disable" -d 'Disable a user (its tokens stop working at once)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from release" -f -a "list" -d 'List releases with their rollout state'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from release" -f -a "show" -d 'One release: artifacts and rollout stages with their outcomes'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from release" -f -a "add" -d 'Upload an agent binary (admin); the collector signs what it offers'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from release" -f -a "promote" -d 'Offer the release to this share of devices (stable by device id)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from release" -f -a "approve" -d 'Approve the uploaded artifacts (an admin other than the uploader); nothing is offered before'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from release" -f -a "pause" -d 'Stop offering the release'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from release" -f -a "resume" -d 'Offer it again (also clears an automatic halt)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from kb" -f -a "add" -d 'Add an article from a markdown file (analyst)'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from kb" -f -a "show" -d 'Show one article'
complete -c tendctl -n "__fish_tendctl_using_subcommand help; and __fish_seen_subcommand_from kb" -f -a "rm" -d 'Remove an article (analyst)'
