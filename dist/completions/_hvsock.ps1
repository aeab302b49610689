
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'hvsock' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'hvsock'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'hvsock' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('addr', 'addr', [CompletionResultType]::ParameterValue, 'Encode and decode SOCKADDR_HV addresses')
            [CompletionResult]::new('service', 'service', [CompletionResultType]::ParameterValue, 'The service registry (Hyper-V''s GuestCommunicationServices): add, list, export')
            [CompletionResult]::new('vm', 'vm', [CompletionResultType]::ParameterValue, 'The partition table (the host''s list of VMs): add, list, show, remove')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Listen on VM:SERVICE and serve connections on stdin/stdout or with a command')
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Connect to VM:SERVICE and pipe stdin/stdout through the connection (like `nc`)')
            [CompletionResult]::new('relay', 'relay', [CompletionResultType]::ParameterValue, 'Listen on FROM and connect each client to TO, relaying bytes both ways')
            [CompletionResult]::new('agent', 'agent', [CompletionResultType]::ParameterValue, 'Serve `hvsock exec`, `hvsock shell` and `hvsock cp` in this VM or local partition')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Run a command in a VM or local partition through its `hvsock agent`')
            [CompletionResult]::new('shell', 'shell', [CompletionResultType]::ParameterValue, 'Open an interactive login shell in a VM or local partition through its `hvsock agent`')
            [CompletionResult]::new('cp', 'cp', [CompletionResultType]::ParameterValue, 'Copy a file (or with -r a directory tree) to or from a VM through its `hvsock agent`')
            [CompletionResult]::new('key', 'key', [CompletionResultType]::ParameterValue, 'The user''s key pair for `hvsock exec`, `shell` and `cp` (agent key authentication)')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Show exec and cp through Hyper-V sockets, with nothing set up')
            [CompletionResult]::new('bench', 'bench', [CompletionResultType]::ParameterValue, 'Measure Hyper-V sockets: throughput, latency, connections per second, stress')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'The host''s live connection counters, by service and VM, over every hvsock process (each publishes its own in the runtime dir; those of processes that are gone are ignored)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script for hvsock to stdout')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print hvsock''s man page for COMMAND (roff, e.g. `hvsock man listen | man -l -`), or write every page to DIR')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hvsock;addr' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('encode', 'encode', [CompletionResultType]::ParameterValue, 'Print the 36-byte SOCKADDR_HV of ADDR as 72 lowercase hex digits')
            [CompletionResult]::new('decode', 'decode', [CompletionResultType]::ParameterValue, 'Print the VMID:SERVICEID held in a hex SOCKADDR_HV (72 hex digits)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hvsock;addr;encode' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;addr;decode' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;addr;help' {
            [CompletionResult]::new('encode', 'encode', [CompletionResultType]::ParameterValue, 'Print the 36-byte SOCKADDR_HV of ADDR as 72 lowercase hex digits')
            [CompletionResult]::new('decode', 'decode', [CompletionResultType]::ParameterValue, 'Print the VMID:SERVICEID held in a hex SOCKADDR_HV (72 hex digits)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hvsock;addr;help;encode' {
            break
        }
        'hvsock;addr;help;decode' {
            break
        }
        'hvsock;addr;help;help' {
            break
        }
        'hvsock;service' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register a service; prints its id alone')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List registered services (ID, PORT = Data1 = vsock port, ENABLED, NAME)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one service, by id or name')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Unregister a service, by id or name')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Enable a service (listeners accept connections for it)')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Disable a service (listeners refuse connections for it)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write the registry as a Windows .reg file, a PowerShell script or a services.toml')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Register the services of a .reg file (regedit''s UTF-16LE form or REGEDIT4) or of a services.toml (another host''s, or `service export --format toml`)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hvsock;service;add' {
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Use this GUID as the service id')
            [CompletionResult]::new('--vsock-port', '--vsock-port', [CompletionResultType]::ParameterName, 'Use the vsock template GUID of this port (decimal or 0x hex)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;service;list' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'JSON array of {id, name, enabled, vsock_port, port}')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;service;show' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'JSON object {id, name, enabled, vsock_port, port}')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;service;remove' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;service;enable' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;service;disable' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;service;export' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'reg (regedit file), ps1 (PowerShell script) or toml (services.toml)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write to FILE (atomically) instead of stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write to FILE (atomically) instead of stdout')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;service;import' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Report as JSON {added: [...], skipped: [...]}')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;service;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register a service; prints its id alone')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List registered services (ID, PORT = Data1 = vsock port, ENABLED, NAME)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one service, by id or name')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Unregister a service, by id or name')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Enable a service (listeners accept connections for it)')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Disable a service (listeners refuse connections for it)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write the registry as a Windows .reg file, a PowerShell script or a services.toml')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Register the services of a .reg file (regedit''s UTF-16LE form or REGEDIT4) or of a services.toml (another host''s, or `service export --format toml`)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hvsock;service;help;add' {
            break
        }
        'hvsock;service;help;list' {
            break
        }
        'hvsock;service;help;show' {
            break
        }
        'hvsock;service;help;remove' {
            break
        }
        'hvsock;service;help;enable' {
            break
        }
        'hvsock;service;help;disable' {
            break
        }
        'hvsock;service;help;export' {
            break
        }
        'hvsock;service;help;import' {
            break
        }
        'hvsock;service;help;help' {
            break
        }
        'hvsock;vm' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a VM (partition) to the table; prints its id alone')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the VMs in the table (ID, KIND, TARGET, NAME). On Windows: the VMs and containers of the Host Compute Service (VMID, TYPE, STATE, OWNER, NAME)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one VM, by id or name (on Windows: from the Host Compute Service)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a VM from the table, by id or name')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hvsock;vm;add' {
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Use this GUID as the VM id')
            [CompletionResult]::new('--hybrid', '--hybrid', [CompletionResultType]::ParameterName, 'The VM''s hybrid-vsock Unix socket (stored as an absolute path)')
            [CompletionResult]::new('--cid', '--cid', [CompletionResultType]::ParameterName, 'The VM''s vsock context id (3 or more)')
            [CompletionResult]::new('--uid', '--uid', [CompletionResultType]::ParameterName, 'With --local: only processes of this user (or root) may act as the partition (checked with the kernel''s peer credentials)')
            [CompletionResult]::new('--connect-form', '--connect-form', [CompletionResultType]::ParameterName, 'With --hybrid: how its VMM takes a service that is no vsock port template: `port` (by the GUID''s first field: Firecracker, Cloud Hypervisor, vhost-device-vsock; the default) or `guid` (OpenVMM: `CONNECT <guid>`, and host listeners also create PATH_GUID for its guests)')
            [CompletionResult]::new('--half-close', '--half-close', [CompletionResultType]::ParameterName, 'With --hybrid: whether the VMM carries a half-close [default: lost]')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('--local', '--local', [CompletionResultType]::ParameterName, 'A local partition on this machine')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;vm;list' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'JSON array of {id, name, kind, path | cid, half_close}')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;vm;show' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'JSON object {id, name, kind, path | cid}')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;vm;remove' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;vm;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a VM (partition) to the table; prints its id alone')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the VMs in the table (ID, KIND, TARGET, NAME). On Windows: the VMs and containers of the Host Compute Service (VMID, TYPE, STATE, OWNER, NAME)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one VM, by id or name (on Windows: from the Host Compute Service)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a VM from the table, by id or name')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hvsock;vm;help;add' {
            break
        }
        'hvsock;vm;help;list' {
            break
        }
        'hvsock;vm;help;show' {
            break
        }
        'hvsock;vm;help;remove' {
            break
        }
        'hvsock;vm;help;help' {
            break
        }
        'hvsock;listen' {
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Run CMD [ARGS...] for each connection, the connection as its stdin and stdout')
            [CompletionResult]::new('--exec', '--exec', [CompletionResultType]::ParameterName, 'Run CMD [ARGS...] for each connection, the connection as its stdin and stdout')
            [CompletionResult]::new('--max-children', '--max-children', [CompletionResultType]::ParameterName, 'With --keep-open --exec: run at most N commands at once; more connections wait in the listen backlog until one ends [default: 64]')
            [CompletionResult]::new('--half-close', '--half-close', [CompletionResultType]::ParameterName, 'At stdin''s end, shut down sending (a half-close: the peer reads EOF and can still answer): auto = where the transport carries it (not over a hybrid VM recorded `--half-close lost`: its VMM would close the whole connection); never = keep the connection open and print what the peer sends until it closes')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'After stdin''s end, close the connection once the peer has sent nothing for DUR (like socat -t, ncat -q): 500ms, 2s, 1m')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep accepting connections after the first')
            [CompletionResult]::new('--keep-open', '--keep-open', [CompletionResultType]::ParameterName, 'Keep accepting connections after the first')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log listening, connections and their end to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log listening, connections and their end to stderr')
            [CompletionResult]::new('--systemd', '--systemd', [CompletionResultType]::ParameterName, 'Serve the listening socket passed by systemd (socket activation) instead of binding ADDR')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;connect' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Give up connecting after DUR: a number with ms, s or m (500ms, 2s, 1.5m; a bare number is seconds); at most 300s')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up connecting after DUR: a number with ms, s or m (500ms, 2s, 1.5m; a bare number is seconds); at most 300s')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait up to DUR for the VM and its service to come up (e.g. 60s right after starting a VM): while nothing listens yet, the VMM''s socket is missing or the guest is still booting, try again with growing pauses; errors that waiting cannot fix (not registered, disabled, unknown VM) fail at once. Each attempt still gives up after --timeout')
            [CompletionResult]::new('--half-close', '--half-close', [CompletionResultType]::ParameterName, 'At stdin''s end, shut down sending (a half-close: the peer reads EOF and can still answer): auto = where the transport carries it (not over a hybrid VM recorded `--half-close lost`: its VMM would close the whole connection); never = keep the connection open and print what the peer sends until it closes')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'After stdin''s end, close the connection once the peer has sent nothing for DUR (like socat -t, ncat -q): 500ms, 2s, 1m')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log the connection to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the connection to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;relay' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Give up connecting to TO after DUR (500ms, 2s, 1m; at most 300s)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting to TO after DUR (500ms, 2s, 1m; at most 300s)')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Once one direction of a connection has ended, close both when the other has moved nothing for DUR (500ms, 2s, 1m) [default: wait for it to end]')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log the listening address, every connection and its byte counts to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the listening address, every connection and its byte counts to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;agent' {
            [CompletionResult]::new('--copy-root', '--copy-root', [CompletionResultType]::ParameterName, 'Confine file copies to DIR (relative remote paths are taken from it; nothing outside it can be read or written: no symlink inside it is followed)')
            [CompletionResult]::new('--copy-idle-timeout', '--copy-idle-timeout', [CompletionResultType]::ParameterName, 'Fail a copy whose client sends or takes nothing for DUR (e.g. 30s, 5m)')
            [CompletionResult]::new('--max-concurrent', '--max-concurrent', [CompletionResultType]::ParameterName, 'Most connections served at once; more get a "busy" error')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'How clients authenticate: key (their public line in CONFIG_DIR/authorized_keys, or in ~USER/.config/hvsock/authorized_keys), password (PAM), key,password, or none (anyone who can connect runs commands as the agent''s user: a warning is logged at start)')
            [CompletionResult]::new('--auth-failure-delay', '--auth-failure-delay', [CompletionResultType]::ParameterName, 'How long a failed authentication waits before its error (slows guessing)')
            [CompletionResult]::new('--max-auth-failures', '--max-auth-failures', [CompletionResultType]::ParameterName, 'Failed authentications from one partition after which it is refused for --auth-lockout')
            [CompletionResult]::new('--auth-lockout', '--auth-lockout', [CompletionResultType]::ParameterName, 'How long a partition that failed --max-auth-failures times is refused')
            [CompletionResult]::new('--pam-service', '--pam-service', [CompletionResultType]::ParameterName, 'The PAM service that checks passwords (its configuration: /etc/pam.d/NAME)')
            [CompletionResult]::new('--pam-config-dir', '--pam-config-dir', [CompletionResultType]::ParameterName, 'Read PAM''s service configuration from DIR instead of /etc/pam.d (libpam 1.5''s pam_start_confdir): a PAM set-up of the agent''s own')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('--any', '--any', [CompletionResultType]::ParameterName, 'Accept connections from any partition (bind ZERO), not only the parent')
            [CompletionResult]::new('--install-service', '--install-service', [CompletionResultType]::ParameterName, 'Register the agent service in this machine''s registry (run it on the host) and exit; says so if it is already registered')
            [CompletionResult]::new('--systemd', '--systemd', [CompletionResultType]::ParameterName, 'Serve the listening socket passed by systemd (socket activation) instead of binding: in a guest, a .socket unit with ListenStream=vsock::18518')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log each connection and its end to stderr (errors are always logged)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log each connection and its end to stderr (errors are always logged)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;exec' {
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Set K=V in CMD''s environment (repeatable)')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Set K=V in CMD''s environment (repeatable)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run CMD in DIR (a path in the VM)')
            [CompletionResult]::new('--cwd', '--cwd', [CompletionResultType]::ParameterName, 'Run CMD in DIR (a path in the VM)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Connect timeout (e.g. 500ms, 5s; at most 300s)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait up to DUR for the VM and its service to come up (e.g. 60s right after starting a VM): while nothing listens yet, the VMM''s socket is missing or the guest is still booting, try again with growing pauses; errors that waiting cannot fix (not registered, disabled, unknown VM) fail at once. Each attempt still gives up after --timeout')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Run as USER in the VM [default: the agent''s own user]')
            [CompletionResult]::new('--identity', '--identity', [CompletionResultType]::ParameterName, 'The private key to authenticate with [default: CONFIG_DIR/identity, if present]')
            [CompletionResult]::new('--pin', '--pin', [CompletionResultType]::ParameterName, 'Check of the agent''s key: tofu records it at first use in CONFIG_DIR/agent_keys and refuses a changed one; strict only accepts recorded keys; off checks only its signature')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Run CMD on a pseudo-terminal (interactive programs)')
            [CompletionResult]::new('--tty', '--tty', [CompletionResultType]::ParameterName, 'Run CMD on a pseudo-terminal (interactive programs)')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the password from the first line of stdin (read before connecting; used when the agent takes passwords and no key); without it, a terminal prompt (no echo)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;shell' {
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Set K=V in the shell''s environment (repeatable)')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Set K=V in the shell''s environment (repeatable)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Connect timeout (e.g. 500ms, 5s; at most 300s)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait up to DUR for the VM and its service to come up (e.g. 60s right after starting a VM): while nothing listens yet, the VMM''s socket is missing or the guest is still booting, try again with growing pauses; errors that waiting cannot fix (not registered, disabled, unknown VM) fail at once. Each attempt still gives up after --timeout')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Run as USER in the VM [default: the agent''s own user]')
            [CompletionResult]::new('--identity', '--identity', [CompletionResultType]::ParameterName, 'The private key to authenticate with [default: CONFIG_DIR/identity, if present]')
            [CompletionResult]::new('--pin', '--pin', [CompletionResultType]::ParameterName, 'Check of the agent''s key: tofu records it at first use in CONFIG_DIR/agent_keys and refuses a changed one; strict only accepts recorded keys; off checks only its signature')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the password from the first line of stdin (read before connecting; used when the agent takes passwords and no key); without it, a terminal prompt (no echo)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;cp' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Connect timeout (e.g. 500ms, 5s; at most 300s)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait up to DUR for the VM and its service to come up (e.g. 60s right after starting a VM): while nothing listens yet, the VMM''s socket is missing or the guest is still booting, try again with growing pauses; errors that waiting cannot fix (not registered, disabled, unknown VM) fail at once. Each attempt still gives up after --timeout')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Run as USER in the VM [default: the agent''s own user]')
            [CompletionResult]::new('--identity', '--identity', [CompletionResultType]::ParameterName, 'The private key to authenticate with [default: CONFIG_DIR/identity, if present]')
            [CompletionResult]::new('--pin', '--pin', [CompletionResultType]::ParameterName, 'Check of the agent''s key: tofu records it at first use in CONFIG_DIR/agent_keys and refuses a changed one; strict only accepts recorded keys; off checks only its signature')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Fail if the other side sends or takes nothing for DUR (e.g. 30s, 5m)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Copy directories recursively')
            [CompletionResult]::new('-R', '-R ', [CompletionResultType]::ParameterName, 'Copy directories recursively')
            [CompletionResult]::new('--recursive', '--recursive', [CompletionResultType]::ParameterName, 'Copy directories recursively')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the password from the first line of stdin (read before connecting; used when the agent takes passwords and no key); without it, a terminal prompt (no echo)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;key' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Create the key pair (refuses to replace one unless --force)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the public line to put into a guest''s authorized_keys')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hvsock;key;generate' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace an existing key (clients that used it must be authorized again)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;key;show' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;key;help' {
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Create the key pair (refuses to replace one unless --force)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the public line to put into a guest''s authorized_keys')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hvsock;key;help;generate' {
            break
        }
        'hvsock;key;help;show' {
            break
        }
        'hvsock;key;help;help' {
            break
        }
        'hvsock;demo' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;bench' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('server', 'server', [CompletionResultType]::ParameterValue, 'Serve bench clients on ADDR (VM:SERVICE, unix:PATH or tcp:HOST:PORT) until killed')
            [CompletionResult]::new('client', 'client', [CompletionResultType]::ParameterValue, 'Run a workload against `hvsock bench server` at ADDR')
            [CompletionResult]::new('local', 'local', [CompletionResultType]::ParameterValue, 'Run server and client in this process, in private temp dirs (nothing to set up)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hvsock;bench;server' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log every connection and error to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log every connection and error to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;bench;client' {
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'The workload')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'The workload')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Message size: bytes, or with K/KiB, M/MiB (1024-based). Default: 64KiB for throughput and stress (the largest chunk), 64 for latency')
            [CompletionResult]::new('--size', '--size', [CompletionResultType]::ParameterName, 'Message size: bytes, or with K/KiB, M/MiB (1024-based). Default: 64KiB for throughput and stress (the largest chunk), 64 for latency')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Streams (connections, or connecting threads) at once')
            [CompletionResult]::new('--parallel', '--parallel', [CompletionResultType]::ParameterName, 'Streams (connections, or connecting threads) at once')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'How long to run (500ms, 2s, 1m), unless --count is given')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'How long to run (500ms, 2s, 1m), unless --count is given')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Run a fixed amount per stream instead: messages (throughput), round trips (latency) or connections (connect, stress)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Run a fixed amount per stream instead: messages (throughput), round trips (latency) or connections (connect, stress)')
            [CompletionResult]::new('--direction', '--direction', [CompletionResultType]::ParameterName, 'Throughput: send (client to server), receive (server to client) or both')
            [CompletionResult]::new('--rounds', '--rounds', [CompletionResultType]::ParameterName, 'Cut the run into N rounds of DUR/N (or COUNT/N rounded up) each; with --baseline, hvsock and baseline rounds alternate [default: 5 with --baseline, else 1]')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object instead of text (its fields: see below)')
            [CompletionResult]::new('--baseline', '--baseline', [CompletionResultType]::ParameterName, 'Also run the workload over a plain Unix socket in this process, and print the ratio hvsock/baseline')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;bench;local' {
            [CompletionResult]::new('--via', '--via', [CompletionResultType]::ParameterName, 'Who talks to whom: a local partition to the host, or the host to itself')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'The workload')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'The workload')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Message size: bytes, or with K/KiB, M/MiB (1024-based). Default: 64KiB for throughput and stress (the largest chunk), 64 for latency')
            [CompletionResult]::new('--size', '--size', [CompletionResultType]::ParameterName, 'Message size: bytes, or with K/KiB, M/MiB (1024-based). Default: 64KiB for throughput and stress (the largest chunk), 64 for latency')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Streams (connections, or connecting threads) at once')
            [CompletionResult]::new('--parallel', '--parallel', [CompletionResultType]::ParameterName, 'Streams (connections, or connecting threads) at once')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'How long to run (500ms, 2s, 1m), unless --count is given')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'How long to run (500ms, 2s, 1m), unless --count is given')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Run a fixed amount per stream instead: messages (throughput), round trips (latency) or connections (connect, stress)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Run a fixed amount per stream instead: messages (throughput), round trips (latency) or connections (connect, stress)')
            [CompletionResult]::new('--direction', '--direction', [CompletionResultType]::ParameterName, 'Throughput: send (client to server), receive (server to client) or both')
            [CompletionResult]::new('--rounds', '--rounds', [CompletionResultType]::ParameterName, 'Cut the run into N rounds of DUR/N (or COUNT/N rounded up) each; with --baseline, hvsock and baseline rounds alternate [default: 5 with --baseline, else 1]')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object instead of text (its fields: see below)')
            [CompletionResult]::new('--baseline', '--baseline', [CompletionResultType]::ParameterName, 'Also run the workload over a plain Unix socket in this process, and print the ratio hvsock/baseline')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;bench;help' {
            [CompletionResult]::new('server', 'server', [CompletionResultType]::ParameterValue, 'Serve bench clients on ADDR (VM:SERVICE, unix:PATH or tcp:HOST:PORT) until killed')
            [CompletionResult]::new('client', 'client', [CompletionResultType]::ParameterValue, 'Run a workload against `hvsock bench server` at ADDR')
            [CompletionResult]::new('local', 'local', [CompletionResultType]::ParameterValue, 'Run server and client in this process, in private temp dirs (nothing to set up)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hvsock;bench;help;server' {
            break
        }
        'hvsock;bench;help;client' {
            break
        }
        'hvsock;bench;help;local' {
            break
        }
        'hvsock;bench;help;help' {
            break
        }
        'hvsock;stats' {
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Only this service (ElementName or GUID)')
            [CompletionResult]::new('--vm', '--vm', [CompletionResultType]::ParameterName, 'Only this VM (name from the partition table, a wildcard name or GUID)')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Refresh every SECONDS (default 2) like top, with rates per second')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON: {"processes", "skipped": [{"file", "error"}], "rows": [{"service", "service_id", "vm", "vm_id", "accepted", "connected", "open", "bytes_in", "bytes_out", "refused": {REASON: N}}]}')
            [CompletionResult]::new('--prometheus', '--prometheus', [CompletionResultType]::ParameterName, 'Print the Prometheus text exposition (hvsock_connections_total, hvsock_connections_open, hvsock_bytes_total, hvsock_processes)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve the Prometheus exposition over HTTP at /metrics, for scraping (see dist/prometheus/)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hvsock;stats;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on (loopback by default: the metrics name the host''s services and VMs)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;stats;help' {
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve the Prometheus exposition over HTTP at /metrics, for scraping (see dist/prometheus/)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hvsock;stats;help;serve' {
            break
        }
        'hvsock;stats;help;help' {
            break
        }
        'hvsock;completions' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;man' {
            [CompletionResult]::new('--out-dir', '--out-dir', [CompletionResultType]::ParameterName, 'Write every page to DIR (created if missing) instead')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'hvsock;help' {
            [CompletionResult]::new('addr', 'addr', [CompletionResultType]::ParameterValue, 'Encode and decode SOCKADDR_HV addresses')
            [CompletionResult]::new('service', 'service', [CompletionResultType]::ParameterValue, 'The service registry (Hyper-V''s GuestCommunicationServices): add, list, export')
            [CompletionResult]::new('vm', 'vm', [CompletionResultType]::ParameterValue, 'The partition table (the host''s list of VMs): add, list, show, remove')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Listen on VM:SERVICE and serve connections on stdin/stdout or with a command')
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Connect to VM:SERVICE and pipe stdin/stdout through the connection (like `nc`)')
            [CompletionResult]::new('relay', 'relay', [CompletionResultType]::ParameterValue, 'Listen on FROM and connect each client to TO, relaying bytes both ways')
            [CompletionResult]::new('agent', 'agent', [CompletionResultType]::ParameterValue, 'Serve `hvsock exec`, `hvsock shell` and `hvsock cp` in this VM or local partition')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Run a command in a VM or local partition through its `hvsock agent`')
            [CompletionResult]::new('shell', 'shell', [CompletionResultType]::ParameterValue, 'Open an interactive login shell in a VM or local partition through its `hvsock agent`')
            [CompletionResult]::new('cp', 'cp', [CompletionResultType]::ParameterValue, 'Copy a file (or with -r a directory tree) to or from a VM through its `hvsock agent`')
            [CompletionResult]::new('key', 'key', [CompletionResultType]::ParameterValue, 'The user''s key pair for `hvsock exec`, `shell` and `cp` (agent key authentication)')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Show exec and cp through Hyper-V sockets, with nothing set up')
            [CompletionResult]::new('bench', 'bench', [CompletionResultType]::ParameterValue, 'Measure Hyper-V sockets: throughput, latency, connections per second, stress')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'The host''s live connection counters, by service and VM, over every hvsock process (each publishes its own in the runtime dir; those of processes that are gone are ignored)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script for hvsock to stdout')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print hvsock''s man page for COMMAND (roff, e.g. `hvsock man listen | man -l -`), or write every page to DIR')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hvsock;help;addr' {
            [CompletionResult]::new('encode', 'encode', [CompletionResultType]::ParameterValue, 'Print the 36-byte SOCKADDR_HV of ADDR as 72 lowercase hex digits')
            [CompletionResult]::new('decode', 'decode', [CompletionResultType]::ParameterValue, 'Print the VMID:SERVICEID held in a hex SOCKADDR_HV (72 hex digits)')
            break
        }
        'hvsock;help;addr;encode' {
            break
        }
        'hvsock;help;addr;decode' {
            break
        }
        'hvsock;help;service' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register a service; prints its id alone')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List registered services (ID, PORT = Data1 = vsock port, ENABLED, NAME)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one service, by id or name')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Unregister a service, by id or name')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Enable a service (listeners accept connections for it)')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Disable a service (listeners refuse connections for it)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write the registry as a Windows .reg file, a PowerShell script or a services.toml')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Register the services of a .reg file (regedit''s UTF-16LE form or REGEDIT4) or of a services.toml (another host''s, or `service export --format toml`)')
            break
        }
        'hvsock;help;service;add' {
            break
        }
        'hvsock;help;service;list' {
            break
        }
        'hvsock;help;service;show' {
            break
        }
        'hvsock;help;service;remove' {
            break
        }
        'hvsock;help;service;enable' {
            break
        }
        'hvsock;help;service;disable' {
            break
        }
        'hvsock;help;service;export' {
            break
        }
        'hvsock;help;service;import' {
            break
        }
        'hvsock;help;vm' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a VM (partition) to the table; prints its id alone')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the VMs in the table (ID, KIND, TARGET, NAME). On Windows: the VMs and containers of the Host Compute Service (VMID, TYPE, STATE, OWNER, NAME)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one VM, by id or name (on Windows: from the Host Compute Service)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a VM from the table, by id or name')
            break
        }
        'hvsock;help;vm;add' {
            break
        }
        'hvsock;help;vm;list' {
            break
        }
        'hvsock;help;vm;show' {
            break
        }
        'hvsock;help;vm;remove' {
            break
        }
        'hvsock;help;listen' {
            break
        }
        'hvsock;help;connect' {
            break
        }
        'hvsock;help;relay' {
            break
        }
        'hvsock;help;agent' {
            break
        }
        'hvsock;help;exec' {
            break
        }
        'hvsock;help;shell' {
            break
        }
        'hvsock;help;cp' {
            break
        }
        'hvsock;help;key' {
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Create the key pair (refuses to replace one unless --force)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the public line to put into a guest''s authorized_keys')
            break
        }
        'hvsock;help;key;generate' {
            break
        }
        'hvsock;help;key;show' {
            break
        }
        'hvsock;help;demo' {
            break
        }
        'hvsock;help;bench' {
            [CompletionResult]::new('server', 'server', [CompletionResultType]::ParameterValue, 'Serve bench clients on ADDR (VM:SERVICE, unix:PATH or tcp:HOST:PORT) until killed')
            [CompletionResult]::new('client', 'client', [CompletionResultType]::ParameterValue, 'Run a workload against `hvsock bench server` at ADDR')
            [CompletionResult]::new('local', 'local', [CompletionResultType]::ParameterValue, 'Run server and client in this process, in private temp dirs (nothing to set up)')
            break
        }
        'hvsock;help;bench;server' {
            break
        }
        'hvsock;help;bench;client' {
            break
        }
        'hvsock;help;bench;local' {
            break
        }
        'hvsock;help;stats' {
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve the Prometheus exposition over HTTP at /metrics, for scraping (see dist/prometheus/)')
            break
        }
        'hvsock;help;stats;serve' {
            break
        }
        'hvsock;help;completions' {
            break
        }
        'hvsock;help;man' {
            break
        }
        'hvsock;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
