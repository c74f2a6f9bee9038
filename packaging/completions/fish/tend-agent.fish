# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_tend_agent_global_optspecs
    string join \n h/help V/version
end

function __fish_tend_agent_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_tend_agent_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_tend_agent_using_subcommand
    set -l cmd (__fish_tend_agent_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c tend-agent -n "__fish_tend_agent_needs_command" -s h -l help -d 'Print help'
complete -c tend-agent -n "__fish_tend_agent_needs_command" -s V -l version -d 'Print version'
complete -c tend-agent -n "__fish_tend_agent_needs_command" -f -a "completions" -d 'Print shell completions (bash, zsh, fish, elvish, powershell)'
complete -c tend-agent -n "__fish_tend_agent_needs_command" -f -a "man" -d 'Print the man page (roff)'
complete -c tend-agent -n "__fish_tend_agent_needs_command" -f -a "enroll" -d 'Enroll with a collector using an enrollment bundle'
complete -c tend-agent -n "__fish_tend_agent_needs_command" -f -a "run" -d 'Run the daemon until SIGTERM'
complete -c tend-agent -n "__fish_tend_agent_needs_command" -f -a "validate" -d 'Check the config file (and the state dir it names); non-zero on error'
complete -c tend-agent -n "__fish_tend_agent_needs_command" -f -a "update-guard" -d 'Internal: started by an update to roll it back if it does not confirm'
complete -c tend-agent -n "__fish_tend_agent_needs_command" -f -a "inventory" -d 'Print this machine\'s inventory as JSON'
complete -c tend-agent -n "__fish_tend_agent_needs_command" -f -a "health" -d 'Evaluate the health checks now and print the results'
complete -c tend-agent -n "__fish_tend_agent_needs_command" -f -a "status" -d 'Show enrollment, the last check-in and the spool depth (reads only)'
complete -c tend-agent -n "__fish_tend_agent_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tend-agent -n "__fish_tend_agent_using_subcommand completions" -s h -l help -d 'Print help'
complete -c tend-agent -n "__fish_tend_agent_using_subcommand man" -s h -l help -d 'Print help'
complete -c tend-agent -n "__fish_tend_agent_using_subcommand enroll" -l bundle -r -F
complete -c tend-agent -n "__fish_tend_agent_using_subcommand enroll" -l state -d 'State directory [default: the config\'s state_dir, /var/lib/tend/agent]' -r -F
complete -c tend-agent -n "__fish_tend_agent_using_subcommand enroll" -l if-needed -d 'Do nothing when this state dir is already enrolled with the bundle\'s collector'
complete -c tend-agent -n "__fish_tend_agent_using_subcommand enroll" -s h -l help -d 'Print help'
complete -c tend-agent -n "__fish_tend_agent_using_subcommand run" -l state -d 'State directory [default: the config\'s state_dir, /var/lib/tend/agent]' -r -F
complete -c tend-agent -n "__fish_tend_agent_using_subcommand run" -l config -d 'Config file, watched and reloaded live. Missing is fine unless given' -r -F
complete -c tend-agent -n "__fish_tend_agent_using_subcommand run" -l socket -d 'The socket `tend` (the employee\'s command) talks to [default: /run/tend/agent.sock for the default state dir, else `<state>.sock`]' -r -F
complete -c tend-agent -n "__fish_tend_agent_using_subcommand run" -s h -l help -d 'Print help'
complete -c tend-agent -n "__fish_tend_agent_using_subcommand validate" -l config -r -F
complete -c tend-agent -n "__fish_tend_agent_using_subcommand validate" -s h -l help -d 'Print help'
complete -c tend-agent -n "__fish_tend_agent_using_subcommand update-guard" -l state -r -F
complete -c tend-agent -n "__fish_tend_agent_using_subcommand update-guard" -l until-ms -r
complete -c tend-agent -n "__fish_tend_agent_using_subcommand update-guard" -l trial -d 'The trial (its start, ms) this guard watches; another one is left alone' -r
complete -c tend-agent -n "__fish_tend_agent_using_subcommand update-guard" -l restart -r
complete -c tend-agent -n "__fish_tend_agent_using_subcommand update-guard" -s h -l help -d 'Print help'
complete -c tend-agent -n "__fish_tend_agent_using_subcommand inventory" -s h -l help -d 'Print help'
complete -c tend-agent -n "__fish_tend_agent_using_subcommand health" -l state -d 'State directory whose policy to use [default: the config\'s state_dir]' -r -F
complete -c tend-agent -n "__fish_tend_agent_using_subcommand health" -l json -d 'Print JSON instead of a table'
complete -c tend-agent -n "__fish_tend_agent_using_subcommand health" -s h -l help -d 'Print help'
complete -c tend-agent -n "__fish_tend_agent_using_subcommand status" -l state -d 'State directory [default: the config\'s state_dir, /var/lib/tend/agent]' -r -F
complete -c tend-agent -n "__fish_tend_agent_using_subcommand status" -s h -l help -d 'Print help'
complete -c tend-agent -n "__fish_tend_agent_using_subcommand help; and not __fish_seen_subcommand_from completions man enroll run validate update-guard inventory health status help" -f -a "completions" -d 'Print shell completions (bash, zsh, fish, elvish, powershell)'
complete -c tend-agent -n "__fish_tend_agent_using_subcommand help; and not __fish_seen_subcommand_from completions man enroll run validate update-guard inventory health status help" -f -a "man" -d 'Print the man page (roff)'
complete -c tend-agent -n "__fish_tend_agent_using_subcommand help; and not __fish_seen_subcommand_from completions man enroll run validate update-guard inventory health status help" -f -a "enroll" -d 'Enroll with a collector using an enrollment bundle'
complete -c tend-agent -n "__fish_tend_agent_using_subcommand help; and not __fish_seen_subcommand_from completions man enroll run validate update-guard inventory health status help" -f -a "run" -d 'Run the daemon until SIGTERM'
complete -c tend-agent -n "__fish_tend_agent_using_subcommand help; and not __fish_seen_subcommand_from completions man enroll run validate update-guard inventory health status help" -f -a "validate" -d 'Check the config file (and the state dir it names); non-zero on error'
complete -c tend-agent -n "__fish_tend_agent_using_subcommand help; and not __fish_seen_subcommand_from completions man enroll run validate update-guard inventory health status help" -f -a "update-guard" -d 'Internal: started by an update to roll it back if it does not confirm'
complete -c tend-agent -n "__fish_tend_agent_using_subcommand help; and not __fish_seen_subcommand_from completions man enroll run validate update-guard inventory health status help" -f -a "inventory" -d 'Print this machine\'s inventory as JSON'
complete -c tend-agent -n "__fish_tend_agent_using_subcommand help; and not __fish_seen_subcommand_from completions man enroll run validate update-guard inventory health status help" -f -a "health" -d 'Evaluate the health checks now and print the results'
complete -c tend-agent -n "__fish_tend_agent_using_subcommand help; and not __fish_seen_subcommand_from completions man enroll run validate update-guard inventory health status help" -f -a "status" -d 'Show enrollment, the last check-in and the spool depth (reads only)'
complete -c tend-agent -n "__fish_tend_agent_using_subcommand help; and not __fish_seen_subcommand_from completions man enroll run validate update-guard inventory health status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
