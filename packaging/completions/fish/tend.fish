# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_tend_global_optspecs
    string join \n socket= json raw h/help V/version
end

function __fish_tend_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_tend_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_tend_using_subcommand
    set -l cmd (__fish_tend_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c tend -n "__fish_tend_needs_command" -l socket -d 'The agent\'s socket' -r -F
complete -c tend -n "__fish_tend_needs_command" -l json -d 'Print the agent\'s answer as JSON'
complete -c tend -n "__fish_tend_needs_command" -l raw -d 'Print replies and articles byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tend -n "__fish_tend_needs_command" -s h -l help -d 'Print help'
complete -c tend -n "__fish_tend_needs_command" -s V -l version -d 'Print version'
complete -c tend -n "__fish_tend_needs_command" -f -a "help" -d 'Ask IT for help: files a request with this device\'s evidence attached'
complete -c tend -n "__fish_tend_needs_command" -f -a "status" -d 'This device\'s health, your requests and IT\'s replies, what IT ran here'
complete -c tend -n "__fish_tend_needs_command" -f -a "rate" -d 'Rate how IT handled a resolved request, 1 (bad) to 5 (great)'
complete -c tend -n "__fish_tend_using_subcommand help" -l category -d 'network, disk, performance, software, hardware, account or other' -r
complete -c tend -n "__fish_tend_using_subcommand help" -l socket -d 'The agent\'s socket' -r -F
complete -c tend -n "__fish_tend_using_subcommand help" -l yes -d 'Send it without looking at IT\'s articles first'
complete -c tend -n "__fish_tend_using_subcommand help" -l json -d 'Print the agent\'s answer as JSON'
complete -c tend -n "__fish_tend_using_subcommand help" -l raw -d 'Print replies and articles byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tend -n "__fish_tend_using_subcommand help" -s h -l help -d 'Print help'
complete -c tend -n "__fish_tend_using_subcommand status" -l socket -d 'The agent\'s socket' -r -F
complete -c tend -n "__fish_tend_using_subcommand status" -l json -d 'Print the agent\'s answer as JSON'
complete -c tend -n "__fish_tend_using_subcommand status" -l raw -d 'Print replies and articles byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tend -n "__fish_tend_using_subcommand status" -s h -l help -d 'Print help'
complete -c tend -n "__fish_tend_using_subcommand rate" -l socket -d 'The agent\'s socket' -r -F
complete -c tend -n "__fish_tend_using_subcommand rate" -l json -d 'Print the agent\'s answer as JSON'
complete -c tend -n "__fish_tend_using_subcommand rate" -l raw -d 'Print replies and articles byte for byte, terminal control characters included (otherwise they are shown as visible escapes such as `\\x1b`)'
complete -c tend -n "__fish_tend_using_subcommand rate" -s h -l help -d 'Print help'
