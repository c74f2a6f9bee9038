# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_tend_collector_global_optspecs
    string join \n log-format= h/help V/version
end

function __fish_tend_collector_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_tend_collector_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_tend_collector_using_subcommand
    set -l cmd (__fish_tend_collector_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c tend-collector -n "__fish_tend_collector_needs_command" -l log-format -d 'Log lines as text (for a terminal and the journal) or as one JSON object each (for a log shipper)' -r -f -a "text\t''
json\t''"
complete -c tend-collector -n "__fish_tend_collector_needs_command" -s h -l help -d 'Print help'
complete -c tend-collector -n "__fish_tend_collector_needs_command" -s V -l version -d 'Print version'
complete -c tend-collector -n "__fish_tend_collector_needs_command" -f -a "completions" -d 'Print shell completions (bash, zsh, fish, elvish, powershell)'
complete -c tend-collector -n "__fish_tend_collector_needs_command" -f -a "man" -d 'Print the man page (roff)'
complete -c tend-collector -n "__fish_tend_collector_needs_command" -f -a "serve" -d 'Serve HTTPS until SIGINT/SIGTERM'
complete -c tend-collector -n "__fish_tend_collector_needs_command" -f -a "init" -d 'Prepare a PostgreSQL database for collectors: apply the schema, store this data dir\'s identity (CA, signing key, enroll secret) sealed with the cluster key, and create the first admin. Copy the cluster key to every other collector'
complete -c tend-collector -n "__fish_tend_collector_needs_command" -f -a "migrate" -d 'Copy a sled store (a stopped collector\'s data dir) into an empty PostgreSQL database, verify it, and store the identity there: then serve with --database'
complete -c tend-collector -n "__fish_tend_collector_needs_command" -f -a "validate" -d 'Check the config file (and the data dir\'s keys, if present); non-zero on error'
complete -c tend-collector -n "__fish_tend_collector_needs_command" -f -a "release" -d 'Agent releases on a stopped collector (use `tendctl release add` on a running one)'
complete -c tend-collector -n "__fish_tend_collector_needs_command" -f -a "backup" -d 'Back up the sled store and the identity files of a data dir into one file (with a manifest: layout, counts, SHA-256), consistent as of one moment; taken from the running collector while it serves, or from a stopped store'
complete -c tend-collector -n "__fish_tend_collector_needs_command" -f -a "restore" -d 'Restore a backup into a new, empty data dir (refuses one that holds anything, and a damaged backup, before writing in place)'
complete -c tend-collector -n "__fish_tend_collector_needs_command" -f -a "bundle" -d 'Print the enrollment bundle (JSON) for agents'
complete -c tend-collector -n "__fish_tend_collector_needs_command" -f -a "user" -d 'Create a user with an API token on a stopped collector. Users created here have no creator: two of them count as two people for the two-person rule (through the API an admin can only create users of its own lineage)'
complete -c tend-collector -n "__fish_tend_collector_needs_command" -f -a "token" -d 'Mint a token for a user (created if missing) on a stopped collector'
complete -c tend-collector -n "__fish_tend_collector_needs_command" -f -a "demo" -d 'Demo: collector on ./tend-data with this machine\'s agent enrolled'
complete -c tend-collector -n "__fish_tend_collector_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand completions" -l log-format -d 'Log lines as text (for a terminal and the journal) or as one JSON object each (for a log shipper)' -r -f -a "text\t''
json\t''"
complete -c tend-collector -n "__fish_tend_collector_using_subcommand completions" -s h -l help -d 'Print help'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand man" -l log-format -d 'Log lines as text (for a terminal and the journal) or as one JSON object each (for a log shipper)' -r -f -a "text\t''
json\t''"
complete -c tend-collector -n "__fish_tend_collector_using_subcommand man" -s h -l help -d 'Print help'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand serve" -l config -d 'Config file (TOML); flags below override it. Missing is fine unless given' -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand serve" -l data -d 'Data directory (keys, certificates, sled store) [default: /var/lib/tend/collector]' -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand serve" -l listen -d 'Address to listen on [default: 0.0.0.0:8443]' -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand serve" -l san -d 'Extra DNS names or IPs for the server certificate (repeatable)' -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand serve" -l body-limit -d 'Largest accepted request body in bytes [default: 1048576]' -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand serve" -l min-free-mb -d 'Refuse writes while less than this many MiB are free on the store\'s filesystem [default: 64; 0: only when the disk is full]' -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand serve" -l database -d 'Keep records in this PostgreSQL database (several collectors may share it) instead of the embedded sled store' -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand serve" -l database-ca -d 'Extra CA (PEM) to trust for TLS to the database' -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand serve" -l cluster-key -d 'The key that unseals the identity collectors share [default: <data>/cluster.key]' -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand serve" -l tls-cert -d 'Serve this certificate chain (PEM: the server\'s, then its issuers) instead of the data dir\'s own; reloaded on SIGHUP and when the file changes' -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand serve" -l tls-key -d 'The private key (PEM) of --tls-cert' -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand serve" -l log-format -d 'Log lines as text (for a terminal and the journal) or as one JSON object each (for a log shipper)' -r -f -a "text\t''
json\t''"
complete -c tend-collector -n "__fish_tend_collector_using_subcommand serve" -s h -l help -d 'Print help'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand init" -l data -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand init" -l database -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand init" -l database-ca -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand init" -l cluster-key -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand init" -l san -d 'Extra DNS names or IPs for the server certificate (init)' -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand init" -l log-format -d 'Log lines as text (for a terminal and the journal) or as one JSON object each (for a log shipper)' -r -f -a "text\t''
json\t''"
complete -c tend-collector -n "__fish_tend_collector_using_subcommand init" -s h -l help -d 'Print help'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand migrate" -l from-sled -d 'The data dir of the sled collector' -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand migrate" -l to -d 'The PostgreSQL database' -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand migrate" -l database-ca -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand migrate" -l cluster-key -d '[default: <from-sled>/cluster.key]' -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand migrate" -l log-format -d 'Log lines as text (for a terminal and the journal) or as one JSON object each (for a log shipper)' -r -f -a "text\t''
json\t''"
complete -c tend-collector -n "__fish_tend_collector_using_subcommand migrate" -s h -l help -d 'Print help'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand validate" -l config -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand validate" -l log-format -d 'Log lines as text (for a terminal and the journal) or as one JSON object each (for a log shipper)' -r -f -a "text\t''
json\t''"
complete -c tend-collector -n "__fish_tend_collector_using_subcommand validate" -s h -l help -d 'Print help'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand release; and not __fish_seen_subcommand_from add help" -l log-format -d 'Log lines as text (for a terminal and the journal) or as one JSON object each (for a log shipper)' -r -f -a "text\t''
json\t''"
complete -c tend-collector -n "__fish_tend_collector_using_subcommand release; and not __fish_seen_subcommand_from add help" -s h -l help -d 'Print help'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand release; and not __fish_seen_subcommand_from add help" -f -a "add" -d 'Store an agent binary as release VERSION for PLATFORM'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand release; and not __fish_seen_subcommand_from add help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand release; and __fish_seen_subcommand_from add" -l data -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand release; and __fish_seen_subcommand_from add" -l database -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand release; and __fish_seen_subcommand_from add" -l database-ca -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand release; and __fish_seen_subcommand_from add" -l cluster-key -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand release; and __fish_seen_subcommand_from add" -l san -d 'Extra DNS names or IPs for the server certificate (init)' -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand release; and __fish_seen_subcommand_from add" -l version -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand release; and __fish_seen_subcommand_from add" -l platform -d 'linux-x86_64, linux-aarch64 or macos-universal' -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand release; and __fish_seen_subcommand_from add" -l log-format -d 'Log lines as text (for a terminal and the journal) or as one JSON object each (for a log shipper)' -r -f -a "text\t''
json\t''"
complete -c tend-collector -n "__fish_tend_collector_using_subcommand release; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand release; and __fish_seen_subcommand_from help" -f -a "add" -d 'Store an agent binary as release VERSION for PLATFORM'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand release; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand backup" -l data -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand backup" -l out -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand backup" -l log-format -d 'Log lines as text (for a terminal and the journal) or as one JSON object each (for a log shipper)' -r -f -a "text\t''
json\t''"
complete -c tend-collector -n "__fish_tend_collector_using_subcommand backup" -s h -l help -d 'Print help'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand restore" -l from -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand restore" -l data -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand restore" -l log-format -d 'Log lines as text (for a terminal and the journal) or as one JSON object each (for a log shipper)' -r -f -a "text\t''
json\t''"
complete -c tend-collector -n "__fish_tend_collector_using_subcommand restore" -s h -l help -d 'Print help'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand bundle" -l data -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand bundle" -l server -d 'URL agents use to reach this collector, e.g. https://tend.example.com:8443' -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand bundle" -l tls-cert -d 'The company certificate chain the collector serves (`serve --tls-cert`): agents then pin the chain that issued it instead of the data dir\'s CA' -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand bundle" -l log-format -d 'Log lines as text (for a terminal and the journal) or as one JSON object each (for a log shipper)' -r -f -a "text\t''
json\t''"
complete -c tend-collector -n "__fish_tend_collector_using_subcommand bundle" -s h -l help -d 'Print help'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand user; and not __fish_seen_subcommand_from add help" -l log-format -d 'Log lines as text (for a terminal and the journal) or as one JSON object each (for a log shipper)' -r -f -a "text\t''
json\t''"
complete -c tend-collector -n "__fish_tend_collector_using_subcommand user; and not __fish_seen_subcommand_from add help" -s h -l help -d 'Print help'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand user; and not __fish_seen_subcommand_from add help" -f -a "add" -d 'Create the user and print its first API token'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand user; and not __fish_seen_subcommand_from add help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand user; and __fish_seen_subcommand_from add" -l data -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand user; and __fish_seen_subcommand_from add" -l database -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand user; and __fish_seen_subcommand_from add" -l database-ca -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand user; and __fish_seen_subcommand_from add" -l cluster-key -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand user; and __fish_seen_subcommand_from add" -l san -d 'Extra DNS names or IPs for the server certificate (init)' -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand user; and __fish_seen_subcommand_from add" -l name -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand user; and __fish_seen_subcommand_from add" -l role -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand user; and __fish_seen_subcommand_from add" -l log-format -d 'Log lines as text (for a terminal and the journal) or as one JSON object each (for a log shipper)' -r -f -a "text\t''
json\t''"
complete -c tend-collector -n "__fish_tend_collector_using_subcommand user; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "add" -d 'Create the user and print its first API token'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand token; and not __fish_seen_subcommand_from create help" -l log-format -d 'Log lines as text (for a terminal and the journal) or as one JSON object each (for a log shipper)' -r -f -a "text\t''
json\t''"
complete -c tend-collector -n "__fish_tend_collector_using_subcommand token; and not __fish_seen_subcommand_from create help" -s h -l help -d 'Print help'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand token; and not __fish_seen_subcommand_from create help" -f -a "create" -d 'Which store an operator command works on: the data dir\'s sled store (the collector must be stopped), or a PostgreSQL database (works beside running collectors)'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand token; and not __fish_seen_subcommand_from create help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand token; and __fish_seen_subcommand_from create" -l data -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand token; and __fish_seen_subcommand_from create" -l database -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand token; and __fish_seen_subcommand_from create" -l database-ca -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand token; and __fish_seen_subcommand_from create" -l cluster-key -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand token; and __fish_seen_subcommand_from create" -l san -d 'Extra DNS names or IPs for the server certificate (init)' -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand token; and __fish_seen_subcommand_from create" -l role -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand token; and __fish_seen_subcommand_from create" -l name -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand token; and __fish_seen_subcommand_from create" -l log-format -d 'Log lines as text (for a terminal and the journal) or as one JSON object each (for a log shipper)' -r -f -a "text\t''
json\t''"
complete -c tend-collector -n "__fish_tend_collector_using_subcommand token; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "create" -d 'Which store an operator command works on: the data dir\'s sled store (the collector must be stopped), or a PostgreSQL database (works beside running collectors)'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand demo" -l data -d 'Data dir (relative paths are taken from the current folder)' -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand demo" -l listen -d 'Address to listen on; when the default is taken, a free port is used' -r
complete -c tend-collector -n "__fish_tend_collector_using_subcommand demo" -l agent-bin -d 'The tend-agent binary [default: the one beside this executable]' -r -F
complete -c tend-collector -n "__fish_tend_collector_using_subcommand demo" -l log-format -d 'Log lines as text (for a terminal and the journal) or as one JSON object each (for a log shipper)' -r -f -a "text\t''
json\t''"
complete -c tend-collector -n "__fish_tend_collector_using_subcommand demo" -s h -l help -d 'Print help'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand help; and not __fish_seen_subcommand_from completions man serve init migrate validate release backup restore bundle user token demo help" -f -a "completions" -d 'Print shell completions (bash, zsh, fish, elvish, powershell)'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand help; and not __fish_seen_subcommand_from completions man serve init migrate validate release backup restore bundle user token demo help" -f -a "man" -d 'Print the man page (roff)'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand help; and not __fish_seen_subcommand_from completions man serve init migrate validate release backup restore bundle user token demo help" -f -a "serve" -d 'Serve HTTPS until SIGINT/SIGTERM'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand help; and not __fish_seen_subcommand_from completions man serve init migrate validate release backup restore bundle user token demo help" -f -a "init" -d 'Prepare a PostgreSQL database for collectors: apply the schema, store this data dir\'s identity (CA, signing key, enroll secret) sealed with the cluster key, and create the first admin. Copy the cluster key to every other collector'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand help; and not __fish_seen_subcommand_from completions man serve init migrate validate release backup restore bundle user token demo help" -f -a "migrate" -d 'Copy a sled store (a stopped collector\'s data dir) into an empty PostgreSQL database, verify it, and store the identity there: then serve with --database'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand help; and not __fish_seen_subcommand_from completions man serve init migrate validate release backup restore bundle user token demo help" -f -a "validate" -d 'Check the config file (and the data dir\'s keys, if present); non-zero on error'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand help; and not __fish_seen_subcommand_from completions man serve init migrate validate release backup restore bundle user token demo help" -f -a "release" -d 'Agent releases on a stopped collector (use `tendctl release add` on a running one)'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand help; and not __fish_seen_subcommand_from completions man serve init migrate validate release backup restore bundle user token demo help" -f -a "backup" -d 'Back up the sled store and the identity files of a data dir into one file (with a manifest: layout, counts, SHA-256), consistent as of one moment; taken from the running collector while it serves, or from a stopped store'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand help; and not __fish_seen_subcommand_from completions man serve init migrate validate release backup restore bundle user token demo help" -f -a "restore" -d 'Restore a backup into a new, empty data dir (refuses one that holds anything, and a damaged backup, before writing in place)'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand help; and not __fish_seen_subcommand_from completions man serve init migrate validate release backup restore bundle user token demo help" -f -a "bundle" -d 'Print the enrollment bundle (JSON) for agents'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand help; and not __fish_seen_subcommand_from completions man serve init migrate validate release backup restore bundle user token demo help" -f -a "user" -d 'Create a user with an API token on a stopped collector. Users created here have no creator: two of them count as two people for the two-person rule (through the API an admin can only create users of its own lineage)'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand help; and not __fish_seen_subcommand_from completions man serve init migrate validate release backup restore bundle user token demo help" -f -a "token" -d 'Mint a token for a user (created if missing) on a stopped collector'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand help; and not __fish_seen_subcommand_from completions man serve init migrate validate release backup restore bundle user token demo help" -f -a "demo" -d 'Demo: collector on ./tend-data with this machine\'s agent enrolled'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand help; and not __fish_seen_subcommand_from completions man serve init migrate validate release backup restore bundle user token demo help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand help; and __fish_seen_subcommand_from release" -f -a "add" -d 'Store an agent binary as release VERSION for PLATFORM'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "add" -d 'Create the user and print its first API token'
complete -c tend-collector -n "__fish_tend_collector_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "create" -d 'Which store an operator command works on: the data dir\'s sled store (the collector must be stopped), or a PostgreSQL database (works beside running collectors)'
