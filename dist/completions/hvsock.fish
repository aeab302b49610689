# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_hvsock_global_optspecs
    string join \n config-dir= log-format= q/quiet h/help V/version
end

function __fish_hvsock_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_hvsock_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_hvsock_using_subcommand
    set -l cmd (__fish_hvsock_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c hvsock -n "__fish_hvsock_needs_command" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_needs_command" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_needs_command" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_needs_command" -s V -l version -d 'Print version'
complete -c hvsock -n "__fish_hvsock_needs_command" -f -a "addr" -d 'Encode and decode SOCKADDR_HV addresses'
complete -c hvsock -n "__fish_hvsock_needs_command" -f -a "service" -d 'The service registry (Hyper-V\'s GuestCommunicationServices): add, list, export'
complete -c hvsock -n "__fish_hvsock_needs_command" -f -a "vm" -d 'The partition table (the host\'s list of VMs): add, list, show, remove'
complete -c hvsock -n "__fish_hvsock_needs_command" -f -a "listen" -d 'Listen on VM:SERVICE and serve connections on stdin/stdout or with a command'
complete -c hvsock -n "__fish_hvsock_needs_command" -f -a "connect" -d 'Connect to VM:SERVICE and pipe stdin/stdout through the connection (like `nc`)'
complete -c hvsock -n "__fish_hvsock_needs_command" -f -a "relay" -d 'Listen on FROM and connect each client to TO, relaying bytes both ways'
complete -c hvsock -n "__fish_hvsock_needs_command" -f -a "agent" -d 'Serve `hvsock exec`, `hvsock shell` and `hvsock cp` in this VM or local partition'
complete -c hvsock -n "__fish_hvsock_needs_command" -f -a "exec" -d 'Run a command in a VM or local partition through its `hvsock agent`'
complete -c hvsock -n "__fish_hvsock_needs_command" -f -a "shell" -d 'Open an interactive login shell in a VM or local partition through its `hvsock agent`'
complete -c hvsock -n "__fish_hvsock_needs_command" -f -a "cp" -d 'Copy a file (or with -r a directory tree) to or from a VM through its `hvsock agent`'
complete -c hvsock -n "__fish_hvsock_needs_command" -f -a "key" -d 'The user\'s key pair for `hvsock exec`, `shell` and `cp` (agent key authentication)'
complete -c hvsock -n "__fish_hvsock_needs_command" -f -a "demo" -d 'Show exec and cp through Hyper-V sockets, with nothing set up'
complete -c hvsock -n "__fish_hvsock_needs_command" -f -a "bench" -d 'Measure Hyper-V sockets: throughput, latency, connections per second, stress'
complete -c hvsock -n "__fish_hvsock_needs_command" -f -a "stats" -d 'The host\'s live connection counters, by service and VM, over every hvsock process (each publishes its own in the runtime dir; those of processes that are gone are ignored)'
complete -c hvsock -n "__fish_hvsock_needs_command" -f -a "completions" -d 'Print a shell completion script for hvsock to stdout'
complete -c hvsock -n "__fish_hvsock_needs_command" -f -a "man" -d 'Print hvsock\'s man page for COMMAND (roff, e.g. `hvsock man listen | man -l -`), or write every page to DIR'
complete -c hvsock -n "__fish_hvsock_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hvsock -n "__fish_hvsock_using_subcommand addr; and not __fish_seen_subcommand_from encode decode help" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand addr; and not __fish_seen_subcommand_from encode decode help" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand addr; and not __fish_seen_subcommand_from encode decode help" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand addr; and not __fish_seen_subcommand_from encode decode help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand addr; and not __fish_seen_subcommand_from encode decode help" -f -a "encode" -d 'Print the 36-byte SOCKADDR_HV of ADDR as 72 lowercase hex digits'
complete -c hvsock -n "__fish_hvsock_using_subcommand addr; and not __fish_seen_subcommand_from encode decode help" -f -a "decode" -d 'Print the VMID:SERVICEID held in a hex SOCKADDR_HV (72 hex digits)'
complete -c hvsock -n "__fish_hvsock_using_subcommand addr; and not __fish_seen_subcommand_from encode decode help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hvsock -n "__fish_hvsock_using_subcommand addr; and __fish_seen_subcommand_from encode" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand addr; and __fish_seen_subcommand_from encode" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand addr; and __fish_seen_subcommand_from encode" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand addr; and __fish_seen_subcommand_from encode" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand addr; and __fish_seen_subcommand_from decode" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand addr; and __fish_seen_subcommand_from decode" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand addr; and __fish_seen_subcommand_from decode" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand addr; and __fish_seen_subcommand_from decode" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand addr; and __fish_seen_subcommand_from help" -f -a "encode" -d 'Print the 36-byte SOCKADDR_HV of ADDR as 72 lowercase hex digits'
complete -c hvsock -n "__fish_hvsock_using_subcommand addr; and __fish_seen_subcommand_from help" -f -a "decode" -d 'Print the VMID:SERVICEID held in a hex SOCKADDR_HV (72 hex digits)'
complete -c hvsock -n "__fish_hvsock_using_subcommand addr; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and not __fish_seen_subcommand_from add list show remove enable disable export import help" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and not __fish_seen_subcommand_from add list show remove enable disable export import help" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and not __fish_seen_subcommand_from add list show remove enable disable export import help" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and not __fish_seen_subcommand_from add list show remove enable disable export import help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and not __fish_seen_subcommand_from add list show remove enable disable export import help" -f -a "add" -d 'Register a service; prints its id alone'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and not __fish_seen_subcommand_from add list show remove enable disable export import help" -f -a "list" -d 'List registered services (ID, PORT = Data1 = vsock port, ENABLED, NAME)'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and not __fish_seen_subcommand_from add list show remove enable disable export import help" -f -a "show" -d 'Show one service, by id or name'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and not __fish_seen_subcommand_from add list show remove enable disable export import help" -f -a "remove" -d 'Unregister a service, by id or name'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and not __fish_seen_subcommand_from add list show remove enable disable export import help" -f -a "enable" -d 'Enable a service (listeners accept connections for it)'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and not __fish_seen_subcommand_from add list show remove enable disable export import help" -f -a "disable" -d 'Disable a service (listeners refuse connections for it)'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and not __fish_seen_subcommand_from add list show remove enable disable export import help" -f -a "export" -d 'Write the registry as a Windows .reg file, a PowerShell script or a services.toml'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and not __fish_seen_subcommand_from add list show remove enable disable export import help" -f -a "import" -d 'Register the services of a .reg file (regedit\'s UTF-16LE form or REGEDIT4) or of a services.toml (another host\'s, or `service export --format toml`)'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and not __fish_seen_subcommand_from add list show remove enable disable export import help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from add" -l id -d 'Use this GUID as the service id' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from add" -l vsock-port -d 'Use the vsock template GUID of this port (decimal or 0x hex)' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from add" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from add" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from list" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from list" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from list" -l json -d 'JSON array of {id, name, enabled, vsock_port, port}'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from show" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from show" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from show" -l json -d 'JSON object {id, name, enabled, vsock_port, port}'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from remove" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from remove" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from enable" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from enable" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from enable" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from enable" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from disable" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from disable" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from disable" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from disable" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from export" -l format -d 'reg (regedit file), ps1 (PowerShell script) or toml (services.toml)' -r -f -a "reg\t'Windows .reg file (UTF-16LE, regedit 5 format)'
ps1\t'PowerShell script'
toml\t'Linux\'s services.toml (disabled services included)'"
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from export" -s o -l output -d 'Write to FILE (atomically) instead of stdout' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from export" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from export" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from export" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from import" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from import" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from import" -l json -d 'Report as JSON {added: [...], skipped: [...]}'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from import" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from help" -f -a "add" -d 'Register a service; prints its id alone'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from help" -f -a "list" -d 'List registered services (ID, PORT = Data1 = vsock port, ENABLED, NAME)'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one service, by id or name'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Unregister a service, by id or name'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from help" -f -a "enable" -d 'Enable a service (listeners accept connections for it)'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from help" -f -a "disable" -d 'Disable a service (listeners refuse connections for it)'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from help" -f -a "export" -d 'Write the registry as a Windows .reg file, a PowerShell script or a services.toml'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from help" -f -a "import" -d 'Register the services of a .reg file (regedit\'s UTF-16LE form or REGEDIT4) or of a services.toml (another host\'s, or `service export --format toml`)'
complete -c hvsock -n "__fish_hvsock_using_subcommand service; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and not __fish_seen_subcommand_from add list show remove help" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and not __fish_seen_subcommand_from add list show remove help" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and not __fish_seen_subcommand_from add list show remove help" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and not __fish_seen_subcommand_from add list show remove help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and not __fish_seen_subcommand_from add list show remove help" -f -a "add" -d 'Add a VM (partition) to the table; prints its id alone'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and not __fish_seen_subcommand_from add list show remove help" -f -a "list" -d 'List the VMs in the table (ID, KIND, TARGET, NAME). On Windows: the VMs and containers of the Host Compute Service (VMID, TYPE, STATE, OWNER, NAME)'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and not __fish_seen_subcommand_from add list show remove help" -f -a "show" -d 'Show one VM, by id or name (on Windows: from the Host Compute Service)'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and not __fish_seen_subcommand_from add list show remove help" -f -a "remove" -d 'Remove a VM from the table, by id or name'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and not __fish_seen_subcommand_from add list show remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from add" -l id -d 'Use this GUID as the VM id' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from add" -l hybrid -d 'The VM\'s hybrid-vsock Unix socket (stored as an absolute path)' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from add" -l cid -d 'The VM\'s vsock context id (3 or more)' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from add" -l uid -d 'With --local: only processes of this user (or root) may act as the partition (checked with the kernel\'s peer credentials)' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from add" -l connect-form -d 'With --hybrid: how its VMM takes a service that is no vsock port template: `port` (by the GUID\'s first field: Firecracker, Cloud Hypervisor, vhost-device-vsock; the default) or `guid` (OpenVMM: `CONNECT <guid>`, and host listeners also create PATH_GUID for its guests)' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from add" -l half-close -d 'With --hybrid: whether the VMM carries a half-close [default: lost]' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from add" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from add" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from add" -l local -d 'A local partition on this machine'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from list" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from list" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from list" -l json -d 'JSON array of {id, name, kind, path | cid, half_close}'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from show" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from show" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from show" -l json -d 'JSON object {id, name, kind, path | cid}'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from remove" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from remove" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a VM (partition) to the table; prints its id alone'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the VMs in the table (ID, KIND, TARGET, NAME). On Windows: the VMs and containers of the Host Compute Service (VMID, TYPE, STATE, OWNER, NAME)'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one VM, by id or name (on Windows: from the Host Compute Service)'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a VM from the table, by id or name'
complete -c hvsock -n "__fish_hvsock_using_subcommand vm; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hvsock -n "__fish_hvsock_using_subcommand listen" -s e -l exec -d 'Run CMD [ARGS...] for each connection, the connection as its stdin and stdout' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand listen" -l max-children -d 'With --keep-open --exec: run at most N commands at once; more connections wait in the listen backlog until one ends [default: 64]' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand listen" -l half-close -d 'At stdin\'s end, shut down sending (a half-close: the peer reads EOF and can still answer): auto = where the transport carries it (not over a hybrid VM recorded `--half-close lost`: its VMM would close the whole connection); never = keep the connection open and print what the peer sends until it closes' -r -f -a "auto\t'When the connection\'s transport carries it (`hvsock vm show` says for a VM)'
always\t'Always (over a VMM that loses it, the VMM closes the whole connection)'
never\t'Never: stdin\'s end is not sent; the peer\'s bytes are copied until it closes'"
complete -c hvsock -n "__fish_hvsock_using_subcommand listen" -l idle-timeout -d 'After stdin\'s end, close the connection once the peer has sent nothing for DUR (like socat -t, ncat -q): 500ms, 2s, 1m' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand listen" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand listen" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand listen" -s k -l keep-open -d 'Keep accepting connections after the first'
complete -c hvsock -n "__fish_hvsock_using_subcommand listen" -s v -l verbose -d 'Log listening, connections and their end to stderr'
complete -c hvsock -n "__fish_hvsock_using_subcommand listen" -l systemd -d 'Serve the listening socket passed by systemd (socket activation) instead of binding ADDR'
complete -c hvsock -n "__fish_hvsock_using_subcommand listen" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand listen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand connect" -s t -l timeout -d 'Give up connecting after DUR: a number with ms, s or m (500ms, 2s, 1.5m; a bare number is seconds); at most 300s' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand connect" -l wait -d 'Wait up to DUR for the VM and its service to come up (e.g. 60s right after starting a VM): while nothing listens yet, the VMM\'s socket is missing or the guest is still booting, try again with growing pauses; errors that waiting cannot fix (not registered, disabled, unknown VM) fail at once. Each attempt still gives up after --timeout' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand connect" -l half-close -d 'At stdin\'s end, shut down sending (a half-close: the peer reads EOF and can still answer): auto = where the transport carries it (not over a hybrid VM recorded `--half-close lost`: its VMM would close the whole connection); never = keep the connection open and print what the peer sends until it closes' -r -f -a "auto\t'When the connection\'s transport carries it (`hvsock vm show` says for a VM)'
always\t'Always (over a VMM that loses it, the VMM closes the whole connection)'
never\t'Never: stdin\'s end is not sent; the peer\'s bytes are copied until it closes'"
complete -c hvsock -n "__fish_hvsock_using_subcommand connect" -l idle-timeout -d 'After stdin\'s end, close the connection once the peer has sent nothing for DUR (like socat -t, ncat -q): 500ms, 2s, 1m' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand connect" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand connect" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand connect" -s v -l verbose -d 'Log the connection to stderr'
complete -c hvsock -n "__fish_hvsock_using_subcommand connect" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand connect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand relay" -s t -l connect-timeout -d 'Give up connecting to TO after DUR (500ms, 2s, 1m; at most 300s)' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand relay" -l idle-timeout -d 'Once one direction of a connection has ended, close both when the other has moved nothing for DUR (500ms, 2s, 1m) [default: wait for it to end]' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand relay" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand relay" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand relay" -s v -l verbose -d 'Log the listening address, every connection and its byte counts to stderr'
complete -c hvsock -n "__fish_hvsock_using_subcommand relay" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand relay" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand agent" -l copy-root -d 'Confine file copies to DIR (relative remote paths are taken from it; nothing outside it can be read or written: no symlink inside it is followed)' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand agent" -l copy-idle-timeout -d 'Fail a copy whose client sends or takes nothing for DUR (e.g. 30s, 5m)' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand agent" -l max-concurrent -d 'Most connections served at once; more get a "busy" error' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand agent" -l auth -d 'How clients authenticate: key (their public line in CONFIG_DIR/authorized_keys, or in ~USER/.config/hvsock/authorized_keys), password (PAM), key,password, or none (anyone who can connect runs commands as the agent\'s user: a warning is logged at start)' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand agent" -l auth-failure-delay -d 'How long a failed authentication waits before its error (slows guessing)' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand agent" -l max-auth-failures -d 'Failed authentications from one partition after which it is refused for --auth-lockout' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand agent" -l auth-lockout -d 'How long a partition that failed --max-auth-failures times is refused' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand agent" -l pam-service -d 'The PAM service that checks passwords (its configuration: /etc/pam.d/NAME)' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand agent" -l pam-config-dir -d 'Read PAM\'s service configuration from DIR instead of /etc/pam.d (libpam 1.5\'s pam_start_confdir): a PAM set-up of the agent\'s own' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand agent" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand agent" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand agent" -l any -d 'Accept connections from any partition (bind ZERO), not only the parent'
complete -c hvsock -n "__fish_hvsock_using_subcommand agent" -l install-service -d 'Register the agent service in this machine\'s registry (run it on the host) and exit; says so if it is already registered'
complete -c hvsock -n "__fish_hvsock_using_subcommand agent" -l systemd -d 'Serve the listening socket passed by systemd (socket activation) instead of binding: in a guest, a .socket unit with ListenStream=vsock::18518'
complete -c hvsock -n "__fish_hvsock_using_subcommand agent" -s v -l verbose -d 'Log each connection and its end to stderr (errors are always logged)'
complete -c hvsock -n "__fish_hvsock_using_subcommand agent" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand agent" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand exec" -s e -l env -d 'Set K=V in CMD\'s environment (repeatable)' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand exec" -s C -l cwd -d 'Run CMD in DIR (a path in the VM)' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand exec" -l timeout -d 'Connect timeout (e.g. 500ms, 5s; at most 300s)' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand exec" -l wait -d 'Wait up to DUR for the VM and its service to come up (e.g. 60s right after starting a VM): while nothing listens yet, the VMM\'s socket is missing or the guest is still booting, try again with growing pauses; errors that waiting cannot fix (not registered, disabled, unknown VM) fail at once. Each attempt still gives up after --timeout' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand exec" -l user -d 'Run as USER in the VM [default: the agent\'s own user]' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand exec" -l identity -d 'The private key to authenticate with [default: CONFIG_DIR/identity, if present]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand exec" -l pin -d 'Check of the agent\'s key: tofu records it at first use in CONFIG_DIR/agent_keys and refuses a changed one; strict only accepts recorded keys; off checks only its signature' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand exec" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand exec" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand exec" -s t -l tty -d 'Run CMD on a pseudo-terminal (interactive programs)'
complete -c hvsock -n "__fish_hvsock_using_subcommand exec" -l password-stdin -d 'Read the password from the first line of stdin (read before connecting; used when the agent takes passwords and no key); without it, a terminal prompt (no echo)'
complete -c hvsock -n "__fish_hvsock_using_subcommand exec" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand exec" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand shell" -s e -l env -d 'Set K=V in the shell\'s environment (repeatable)' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand shell" -l timeout -d 'Connect timeout (e.g. 500ms, 5s; at most 300s)' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand shell" -l wait -d 'Wait up to DUR for the VM and its service to come up (e.g. 60s right after starting a VM): while nothing listens yet, the VMM\'s socket is missing or the guest is still booting, try again with growing pauses; errors that waiting cannot fix (not registered, disabled, unknown VM) fail at once. Each attempt still gives up after --timeout' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand shell" -l user -d 'Run as USER in the VM [default: the agent\'s own user]' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand shell" -l identity -d 'The private key to authenticate with [default: CONFIG_DIR/identity, if present]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand shell" -l pin -d 'Check of the agent\'s key: tofu records it at first use in CONFIG_DIR/agent_keys and refuses a changed one; strict only accepts recorded keys; off checks only its signature' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand shell" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand shell" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand shell" -l password-stdin -d 'Read the password from the first line of stdin (read before connecting; used when the agent takes passwords and no key); without it, a terminal prompt (no echo)'
complete -c hvsock -n "__fish_hvsock_using_subcommand shell" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand shell" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand cp" -l timeout -d 'Connect timeout (e.g. 500ms, 5s; at most 300s)' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand cp" -l wait -d 'Wait up to DUR for the VM and its service to come up (e.g. 60s right after starting a VM): while nothing listens yet, the VMM\'s socket is missing or the guest is still booting, try again with growing pauses; errors that waiting cannot fix (not registered, disabled, unknown VM) fail at once. Each attempt still gives up after --timeout' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand cp" -l user -d 'Run as USER in the VM [default: the agent\'s own user]' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand cp" -l identity -d 'The private key to authenticate with [default: CONFIG_DIR/identity, if present]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand cp" -l pin -d 'Check of the agent\'s key: tofu records it at first use in CONFIG_DIR/agent_keys and refuses a changed one; strict only accepts recorded keys; off checks only its signature' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand cp" -l idle-timeout -d 'Fail if the other side sends or takes nothing for DUR (e.g. 30s, 5m)' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand cp" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand cp" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand cp" -s r -s R -l recursive -d 'Copy directories recursively'
complete -c hvsock -n "__fish_hvsock_using_subcommand cp" -l password-stdin -d 'Read the password from the first line of stdin (read before connecting; used when the agent takes passwords and no key); without it, a terminal prompt (no echo)'
complete -c hvsock -n "__fish_hvsock_using_subcommand cp" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand cp" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand key; and not __fish_seen_subcommand_from generate show help" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand key; and not __fish_seen_subcommand_from generate show help" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand key; and not __fish_seen_subcommand_from generate show help" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand key; and not __fish_seen_subcommand_from generate show help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand key; and not __fish_seen_subcommand_from generate show help" -f -a "generate" -d 'Create the key pair (refuses to replace one unless --force)'
complete -c hvsock -n "__fish_hvsock_using_subcommand key; and not __fish_seen_subcommand_from generate show help" -f -a "show" -d 'Print the public line to put into a guest\'s authorized_keys'
complete -c hvsock -n "__fish_hvsock_using_subcommand key; and not __fish_seen_subcommand_from generate show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hvsock -n "__fish_hvsock_using_subcommand key; and __fish_seen_subcommand_from generate" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand key; and __fish_seen_subcommand_from generate" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand key; and __fish_seen_subcommand_from generate" -l force -d 'Replace an existing key (clients that used it must be authorized again)'
complete -c hvsock -n "__fish_hvsock_using_subcommand key; and __fish_seen_subcommand_from generate" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand key; and __fish_seen_subcommand_from generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand key; and __fish_seen_subcommand_from show" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand key; and __fish_seen_subcommand_from show" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand key; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand key; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "generate" -d 'Create the key pair (refuses to replace one unless --force)'
complete -c hvsock -n "__fish_hvsock_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print the public line to put into a guest\'s authorized_keys'
complete -c hvsock -n "__fish_hvsock_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hvsock -n "__fish_hvsock_using_subcommand demo" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand demo" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand demo" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and not __fish_seen_subcommand_from server client local help" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and not __fish_seen_subcommand_from server client local help" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and not __fish_seen_subcommand_from server client local help" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and not __fish_seen_subcommand_from server client local help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and not __fish_seen_subcommand_from server client local help" -f -a "server" -d 'Serve bench clients on ADDR (VM:SERVICE, unix:PATH or tcp:HOST:PORT) until killed'
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and not __fish_seen_subcommand_from server client local help" -f -a "client" -d 'Run a workload against `hvsock bench server` at ADDR'
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and not __fish_seen_subcommand_from server client local help" -f -a "local" -d 'Run server and client in this process, in private temp dirs (nothing to set up)'
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and not __fish_seen_subcommand_from server client local help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from server" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from server" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from server" -s v -l verbose -d 'Log every connection and error to stderr'
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from server" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from server" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from client" -s m -l mode -d 'The workload' -r -f -a "throughput\t'Bulk transfer (MB/s)'
latency\t'Ping-pong round trips (p50, p99, max)'
connect\t'Connect + accept + first byte (connections/s)'
stress\t'Many connections echoing random-size chunks, verified by checksum'"
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from client" -s s -l size -d 'Message size: bytes, or with K/KiB, M/MiB (1024-based). Default: 64KiB for throughput and stress (the largest chunk), 64 for latency' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from client" -s P -l parallel -d 'Streams (connections, or connecting threads) at once' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from client" -s d -l duration -d 'How long to run (500ms, 2s, 1m), unless --count is given' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from client" -s n -l count -d 'Run a fixed amount per stream instead: messages (throughput), round trips (latency) or connections (connect, stress)' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from client" -l direction -d 'Throughput: send (client to server), receive (server to client) or both' -r -f -a "send\t'Client to server'
receive\t'Server to client'
both\t'Both at once'"
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from client" -l rounds -d 'Cut the run into N rounds of DUR/N (or COUNT/N rounded up) each; with --baseline, hvsock and baseline rounds alternate [default: 5 with --baseline, else 1]' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from client" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from client" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from client" -l json -d 'Print one JSON object instead of text (its fields: see below)'
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from client" -l baseline -d 'Also run the workload over a plain Unix socket in this process, and print the ratio hvsock/baseline'
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from client" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from client" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from local" -l via -d 'Who talks to whom: a local partition to the host, or the host to itself' -r -f -a "partition\t'Local partition `bench` -> host (`parent:bench`), the cross-partition path'
loopback\t'Host -> host (`loopback:bench`)'"
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from local" -s m -l mode -d 'The workload' -r -f -a "throughput\t'Bulk transfer (MB/s)'
latency\t'Ping-pong round trips (p50, p99, max)'
connect\t'Connect + accept + first byte (connections/s)'
stress\t'Many connections echoing random-size chunks, verified by checksum'"
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from local" -s s -l size -d 'Message size: bytes, or with K/KiB, M/MiB (1024-based). Default: 64KiB for throughput and stress (the largest chunk), 64 for latency' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from local" -s P -l parallel -d 'Streams (connections, or connecting threads) at once' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from local" -s d -l duration -d 'How long to run (500ms, 2s, 1m), unless --count is given' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from local" -s n -l count -d 'Run a fixed amount per stream instead: messages (throughput), round trips (latency) or connections (connect, stress)' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from local" -l direction -d 'Throughput: send (client to server), receive (server to client) or both' -r -f -a "send\t'Client to server'
receive\t'Server to client'
both\t'Both at once'"
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from local" -l rounds -d 'Cut the run into N rounds of DUR/N (or COUNT/N rounded up) each; with --baseline, hvsock and baseline rounds alternate [default: 5 with --baseline, else 1]' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from local" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from local" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from local" -l json -d 'Print one JSON object instead of text (its fields: see below)'
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from local" -l baseline -d 'Also run the workload over a plain Unix socket in this process, and print the ratio hvsock/baseline'
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from local" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from local" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "server" -d 'Serve bench clients on ADDR (VM:SERVICE, unix:PATH or tcp:HOST:PORT) until killed'
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "client" -d 'Run a workload against `hvsock bench server` at ADDR'
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "local" -d 'Run server and client in this process, in private temp dirs (nothing to set up)'
complete -c hvsock -n "__fish_hvsock_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hvsock -n "__fish_hvsock_using_subcommand stats; and not __fish_seen_subcommand_from serve help" -l service -d 'Only this service (ElementName or GUID)' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand stats; and not __fish_seen_subcommand_from serve help" -l vm -d 'Only this VM (name from the partition table, a wildcard name or GUID)' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand stats; and not __fish_seen_subcommand_from serve help" -l watch -d 'Refresh every SECONDS (default 2) like top, with rates per second' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand stats; and not __fish_seen_subcommand_from serve help" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand stats; and not __fish_seen_subcommand_from serve help" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand stats; and not __fish_seen_subcommand_from serve help" -l json -d 'Print JSON: {"processes", "skipped": [{"file", "error"}], "rows": [{"service", "service_id", "vm", "vm_id", "accepted", "connected", "open", "bytes_in", "bytes_out", "refused": {REASON: N}}]}'
complete -c hvsock -n "__fish_hvsock_using_subcommand stats; and not __fish_seen_subcommand_from serve help" -l prometheus -d 'Print the Prometheus text exposition (hvsock_connections_total, hvsock_connections_open, hvsock_bytes_total, hvsock_processes)'
complete -c hvsock -n "__fish_hvsock_using_subcommand stats; and not __fish_seen_subcommand_from serve help" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand stats; and not __fish_seen_subcommand_from serve help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand stats; and not __fish_seen_subcommand_from serve help" -f -a "serve" -d 'Serve the Prometheus exposition over HTTP at /metrics, for scraping (see dist/prometheus/)'
complete -c hvsock -n "__fish_hvsock_using_subcommand stats; and not __fish_seen_subcommand_from serve help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hvsock -n "__fish_hvsock_using_subcommand stats; and __fish_seen_subcommand_from serve" -l listen -d 'Address to listen on (loopback by default: the metrics name the host\'s services and VMs)' -r
complete -c hvsock -n "__fish_hvsock_using_subcommand stats; and __fish_seen_subcommand_from serve" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand stats; and __fish_seen_subcommand_from serve" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand stats; and __fish_seen_subcommand_from serve" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand stats; and __fish_seen_subcommand_from serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand stats; and __fish_seen_subcommand_from help" -f -a "serve" -d 'Serve the Prometheus exposition over HTTP at /metrics, for scraping (see dist/prometheus/)'
complete -c hvsock -n "__fish_hvsock_using_subcommand stats; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hvsock -n "__fish_hvsock_using_subcommand completions" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand completions" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand completions" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand man" -l out-dir -d 'Write every page to DIR (created if missing) instead' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand man" -l config-dir -d 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\\hvsock, and the registry is Windows\' own]' -r -F
complete -c hvsock -n "__fish_hvsock_using_subcommand man" -l log-format -d 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)' -r -f -a "human\t'Text for people (colours on a terminal)'
json\t'One JSON object a line'"
complete -c hvsock -n "__fish_hvsock_using_subcommand man" -s q -l quiet -d 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands\' -v: listen, relay, agent, bench server)'
complete -c hvsock -n "__fish_hvsock_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and not __fish_seen_subcommand_from addr service vm listen connect relay agent exec shell cp key demo bench stats completions man help" -f -a "addr" -d 'Encode and decode SOCKADDR_HV addresses'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and not __fish_seen_subcommand_from addr service vm listen connect relay agent exec shell cp key demo bench stats completions man help" -f -a "service" -d 'The service registry (Hyper-V\'s GuestCommunicationServices): add, list, export'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and not __fish_seen_subcommand_from addr service vm listen connect relay agent exec shell cp key demo bench stats completions man help" -f -a "vm" -d 'The partition table (the host\'s list of VMs): add, list, show, remove'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and not __fish_seen_subcommand_from addr service vm listen connect relay agent exec shell cp key demo bench stats completions man help" -f -a "listen" -d 'Listen on VM:SERVICE and serve connections on stdin/stdout or with a command'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and not __fish_seen_subcommand_from addr service vm listen connect relay agent exec shell cp key demo bench stats completions man help" -f -a "connect" -d 'Connect to VM:SERVICE and pipe stdin/stdout through the connection (like `nc`)'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and not __fish_seen_subcommand_from addr service vm listen connect relay agent exec shell cp key demo bench stats completions man help" -f -a "relay" -d 'Listen on FROM and connect each client to TO, relaying bytes both ways'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and not __fish_seen_subcommand_from addr service vm listen connect relay agent exec shell cp key demo bench stats completions man help" -f -a "agent" -d 'Serve `hvsock exec`, `hvsock shell` and `hvsock cp` in this VM or local partition'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and not __fish_seen_subcommand_from addr service vm listen connect relay agent exec shell cp key demo bench stats completions man help" -f -a "exec" -d 'Run a command in a VM or local partition through its `hvsock agent`'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and not __fish_seen_subcommand_from addr service vm listen connect relay agent exec shell cp key demo bench stats completions man help" -f -a "shell" -d 'Open an interactive login shell in a VM or local partition through its `hvsock agent`'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and not __fish_seen_subcommand_from addr service vm listen connect relay agent exec shell cp key demo bench stats completions man help" -f -a "cp" -d 'Copy a file (or with -r a directory tree) to or from a VM through its `hvsock agent`'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and not __fish_seen_subcommand_from addr service vm listen connect relay agent exec shell cp key demo bench stats completions man help" -f -a "key" -d 'The user\'s key pair for `hvsock exec`, `shell` and `cp` (agent key authentication)'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and not __fish_seen_subcommand_from addr service vm listen connect relay agent exec shell cp key demo bench stats completions man help" -f -a "demo" -d 'Show exec and cp through Hyper-V sockets, with nothing set up'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and not __fish_seen_subcommand_from addr service vm listen connect relay agent exec shell cp key demo bench stats completions man help" -f -a "bench" -d 'Measure Hyper-V sockets: throughput, latency, connections per second, stress'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and not __fish_seen_subcommand_from addr service vm listen connect relay agent exec shell cp key demo bench stats completions man help" -f -a "stats" -d 'The host\'s live connection counters, by service and VM, over every hvsock process (each publishes its own in the runtime dir; those of processes that are gone are ignored)'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and not __fish_seen_subcommand_from addr service vm listen connect relay agent exec shell cp key demo bench stats completions man help" -f -a "completions" -d 'Print a shell completion script for hvsock to stdout'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and not __fish_seen_subcommand_from addr service vm listen connect relay agent exec shell cp key demo bench stats completions man help" -f -a "man" -d 'Print hvsock\'s man page for COMMAND (roff, e.g. `hvsock man listen | man -l -`), or write every page to DIR'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and not __fish_seen_subcommand_from addr service vm listen connect relay agent exec shell cp key demo bench stats completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and __fish_seen_subcommand_from addr" -f -a "encode" -d 'Print the 36-byte SOCKADDR_HV of ADDR as 72 lowercase hex digits'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and __fish_seen_subcommand_from addr" -f -a "decode" -d 'Print the VMID:SERVICEID held in a hex SOCKADDR_HV (72 hex digits)'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and __fish_seen_subcommand_from service" -f -a "add" -d 'Register a service; prints its id alone'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and __fish_seen_subcommand_from service" -f -a "list" -d 'List registered services (ID, PORT = Data1 = vsock port, ENABLED, NAME)'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and __fish_seen_subcommand_from service" -f -a "show" -d 'Show one service, by id or name'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and __fish_seen_subcommand_from service" -f -a "remove" -d 'Unregister a service, by id or name'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and __fish_seen_subcommand_from service" -f -a "enable" -d 'Enable a service (listeners accept connections for it)'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and __fish_seen_subcommand_from service" -f -a "disable" -d 'Disable a service (listeners refuse connections for it)'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and __fish_seen_subcommand_from service" -f -a "export" -d 'Write the registry as a Windows .reg file, a PowerShell script or a services.toml'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and __fish_seen_subcommand_from service" -f -a "import" -d 'Register the services of a .reg file (regedit\'s UTF-16LE form or REGEDIT4) or of a services.toml (another host\'s, or `service export --format toml`)'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and __fish_seen_subcommand_from vm" -f -a "add" -d 'Add a VM (partition) to the table; prints its id alone'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and __fish_seen_subcommand_from vm" -f -a "list" -d 'List the VMs in the table (ID, KIND, TARGET, NAME). On Windows: the VMs and containers of the Host Compute Service (VMID, TYPE, STATE, OWNER, NAME)'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and __fish_seen_subcommand_from vm" -f -a "show" -d 'Show one VM, by id or name (on Windows: from the Host Compute Service)'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and __fish_seen_subcommand_from vm" -f -a "remove" -d 'Remove a VM from the table, by id or name'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and __fish_seen_subcommand_from key" -f -a "generate" -d 'Create the key pair (refuses to replace one unless --force)'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and __fish_seen_subcommand_from key" -f -a "show" -d 'Print the public line to put into a guest\'s authorized_keys'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "server" -d 'Serve bench clients on ADDR (VM:SERVICE, unix:PATH or tcp:HOST:PORT) until killed'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "client" -d 'Run a workload against `hvsock bench server` at ADDR'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "local" -d 'Run server and client in this process, in private temp dirs (nothing to set up)'
complete -c hvsock -n "__fish_hvsock_using_subcommand help; and __fish_seen_subcommand_from stats" -f -a "serve" -d 'Serve the Prometheus exposition over HTTP at /metrics, for scraping (see dist/prometheus/)'
