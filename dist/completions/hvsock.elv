
use builtin;
use str;

set edit:completion:arg-completer[hvsock] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'hvsock'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'hvsock'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand addr 'Encode and decode SOCKADDR_HV addresses'
            cand service 'The service registry (Hyper-V''s GuestCommunicationServices): add, list, export'
            cand vm 'The partition table (the host''s list of VMs): add, list, show, remove'
            cand listen 'Listen on VM:SERVICE and serve connections on stdin/stdout or with a command'
            cand connect 'Connect to VM:SERVICE and pipe stdin/stdout through the connection (like `nc`)'
            cand relay 'Listen on FROM and connect each client to TO, relaying bytes both ways'
            cand agent 'Serve `hvsock exec`, `hvsock shell` and `hvsock cp` in this VM or local partition'
            cand exec 'Run a command in a VM or local partition through its `hvsock agent`'
            cand shell 'Open an interactive login shell in a VM or local partition through its `hvsock agent`'
            cand cp 'Copy a file (or with -r a directory tree) to or from a VM through its `hvsock agent`'
            cand key 'The user''s key pair for `hvsock exec`, `shell` and `cp` (agent key authentication)'
            cand demo 'Show exec and cp through Hyper-V sockets, with nothing set up'
            cand bench 'Measure Hyper-V sockets: throughput, latency, connections per second, stress'
            cand stats 'The host''s live connection counters, by service and VM, over every hvsock process (each publishes its own in the runtime dir; those of processes that are gone are ignored)'
            cand completions 'Print a shell completion script for hvsock to stdout'
            cand man 'Print hvsock''s man page for COMMAND (roff, e.g. `hvsock man listen | man -l -`), or write every page to DIR'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hvsock;addr'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand encode 'Print the 36-byte SOCKADDR_HV of ADDR as 72 lowercase hex digits'
            cand decode 'Print the VMID:SERVICEID held in a hex SOCKADDR_HV (72 hex digits)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hvsock;addr;encode'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;addr;decode'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;addr;help'= {
            cand encode 'Print the 36-byte SOCKADDR_HV of ADDR as 72 lowercase hex digits'
            cand decode 'Print the VMID:SERVICEID held in a hex SOCKADDR_HV (72 hex digits)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hvsock;addr;help;encode'= {
        }
        &'hvsock;addr;help;decode'= {
        }
        &'hvsock;addr;help;help'= {
        }
        &'hvsock;service'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand add 'Register a service; prints its id alone'
            cand list 'List registered services (ID, PORT = Data1 = vsock port, ENABLED, NAME)'
            cand show 'Show one service, by id or name'
            cand remove 'Unregister a service, by id or name'
            cand enable 'Enable a service (listeners accept connections for it)'
            cand disable 'Disable a service (listeners refuse connections for it)'
            cand export 'Write the registry as a Windows .reg file, a PowerShell script or a services.toml'
            cand import 'Register the services of a .reg file (regedit''s UTF-16LE form or REGEDIT4) or of a services.toml (another host''s, or `service export --format toml`)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hvsock;service;add'= {
            cand --id 'Use this GUID as the service id'
            cand --vsock-port 'Use the vsock template GUID of this port (decimal or 0x hex)'
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;service;list'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand --json 'JSON array of {id, name, enabled, vsock_port, port}'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;service;show'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand --json 'JSON object {id, name, enabled, vsock_port, port}'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;service;remove'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;service;enable'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;service;disable'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;service;export'= {
            cand --format 'reg (regedit file), ps1 (PowerShell script) or toml (services.toml)'
            cand -o 'Write to FILE (atomically) instead of stdout'
            cand --output 'Write to FILE (atomically) instead of stdout'
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;service;import'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand --json 'Report as JSON {added: [...], skipped: [...]}'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;service;help'= {
            cand add 'Register a service; prints its id alone'
            cand list 'List registered services (ID, PORT = Data1 = vsock port, ENABLED, NAME)'
            cand show 'Show one service, by id or name'
            cand remove 'Unregister a service, by id or name'
            cand enable 'Enable a service (listeners accept connections for it)'
            cand disable 'Disable a service (listeners refuse connections for it)'
            cand export 'Write the registry as a Windows .reg file, a PowerShell script or a services.toml'
            cand import 'Register the services of a .reg file (regedit''s UTF-16LE form or REGEDIT4) or of a services.toml (another host''s, or `service export --format toml`)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hvsock;service;help;add'= {
        }
        &'hvsock;service;help;list'= {
        }
        &'hvsock;service;help;show'= {
        }
        &'hvsock;service;help;remove'= {
        }
        &'hvsock;service;help;enable'= {
        }
        &'hvsock;service;help;disable'= {
        }
        &'hvsock;service;help;export'= {
        }
        &'hvsock;service;help;import'= {
        }
        &'hvsock;service;help;help'= {
        }
        &'hvsock;vm'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand add 'Add a VM (partition) to the table; prints its id alone'
            cand list 'List the VMs in the table (ID, KIND, TARGET, NAME). On Windows: the VMs and containers of the Host Compute Service (VMID, TYPE, STATE, OWNER, NAME)'
            cand show 'Show one VM, by id or name (on Windows: from the Host Compute Service)'
            cand remove 'Remove a VM from the table, by id or name'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hvsock;vm;add'= {
            cand --id 'Use this GUID as the VM id'
            cand --hybrid 'The VM''s hybrid-vsock Unix socket (stored as an absolute path)'
            cand --cid 'The VM''s vsock context id (3 or more)'
            cand --uid 'With --local: only processes of this user (or root) may act as the partition (checked with the kernel''s peer credentials)'
            cand --connect-form 'With --hybrid: how its VMM takes a service that is no vsock port template: `port` (by the GUID''s first field: Firecracker, Cloud Hypervisor, vhost-device-vsock; the default) or `guid` (OpenVMM: `CONNECT <guid>`, and host listeners also create PATH_GUID for its guests)'
            cand --half-close 'With --hybrid: whether the VMM carries a half-close [default: lost]'
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand --local 'A local partition on this machine'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;vm;list'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand --json 'JSON array of {id, name, kind, path | cid, half_close}'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;vm;show'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand --json 'JSON object {id, name, kind, path | cid}'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;vm;remove'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;vm;help'= {
            cand add 'Add a VM (partition) to the table; prints its id alone'
            cand list 'List the VMs in the table (ID, KIND, TARGET, NAME). On Windows: the VMs and containers of the Host Compute Service (VMID, TYPE, STATE, OWNER, NAME)'
            cand show 'Show one VM, by id or name (on Windows: from the Host Compute Service)'
            cand remove 'Remove a VM from the table, by id or name'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hvsock;vm;help;add'= {
        }
        &'hvsock;vm;help;list'= {
        }
        &'hvsock;vm;help;show'= {
        }
        &'hvsock;vm;help;remove'= {
        }
        &'hvsock;vm;help;help'= {
        }
        &'hvsock;listen'= {
            cand -e 'Run CMD [ARGS...] for each connection, the connection as its stdin and stdout'
            cand --exec 'Run CMD [ARGS...] for each connection, the connection as its stdin and stdout'
            cand --max-children 'With --keep-open --exec: run at most N commands at once; more connections wait in the listen backlog until one ends [default: 64]'
            cand --half-close 'At stdin''s end, shut down sending (a half-close: the peer reads EOF and can still answer): auto = where the transport carries it (not over a hybrid VM recorded `--half-close lost`: its VMM would close the whole connection); never = keep the connection open and print what the peer sends until it closes'
            cand --idle-timeout 'After stdin''s end, close the connection once the peer has sent nothing for DUR (like socat -t, ncat -q): 500ms, 2s, 1m'
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -k 'Keep accepting connections after the first'
            cand --keep-open 'Keep accepting connections after the first'
            cand -v 'Log listening, connections and their end to stderr'
            cand --verbose 'Log listening, connections and their end to stderr'
            cand --systemd 'Serve the listening socket passed by systemd (socket activation) instead of binding ADDR'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;connect'= {
            cand -t 'Give up connecting after DUR: a number with ms, s or m (500ms, 2s, 1.5m; a bare number is seconds); at most 300s'
            cand --timeout 'Give up connecting after DUR: a number with ms, s or m (500ms, 2s, 1.5m; a bare number is seconds); at most 300s'
            cand --wait 'Wait up to DUR for the VM and its service to come up (e.g. 60s right after starting a VM): while nothing listens yet, the VMM''s socket is missing or the guest is still booting, try again with growing pauses; errors that waiting cannot fix (not registered, disabled, unknown VM) fail at once. Each attempt still gives up after --timeout'
            cand --half-close 'At stdin''s end, shut down sending (a half-close: the peer reads EOF and can still answer): auto = where the transport carries it (not over a hybrid VM recorded `--half-close lost`: its VMM would close the whole connection); never = keep the connection open and print what the peer sends until it closes'
            cand --idle-timeout 'After stdin''s end, close the connection once the peer has sent nothing for DUR (like socat -t, ncat -q): 500ms, 2s, 1m'
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -v 'Log the connection to stderr'
            cand --verbose 'Log the connection to stderr'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;relay'= {
            cand -t 'Give up connecting to TO after DUR (500ms, 2s, 1m; at most 300s)'
            cand --connect-timeout 'Give up connecting to TO after DUR (500ms, 2s, 1m; at most 300s)'
            cand --idle-timeout 'Once one direction of a connection has ended, close both when the other has moved nothing for DUR (500ms, 2s, 1m) [default: wait for it to end]'
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -v 'Log the listening address, every connection and its byte counts to stderr'
            cand --verbose 'Log the listening address, every connection and its byte counts to stderr'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;agent'= {
            cand --copy-root 'Confine file copies to DIR (relative remote paths are taken from it; nothing outside it can be read or written: no symlink inside it is followed)'
            cand --copy-idle-timeout 'Fail a copy whose client sends or takes nothing for DUR (e.g. 30s, 5m)'
            cand --max-concurrent 'Most connections served at once; more get a "busy" error'
            cand --auth 'How clients authenticate: key (their public line in CONFIG_DIR/authorized_keys, or in ~USER/.config/hvsock/authorized_keys), password (PAM), key,password, or none (anyone who can connect runs commands as the agent''s user: a warning is logged at start)'
            cand --auth-failure-delay 'How long a failed authentication waits before its error (slows guessing)'
            cand --max-auth-failures 'Failed authentications from one partition after which it is refused for --auth-lockout'
            cand --auth-lockout 'How long a partition that failed --max-auth-failures times is refused'
            cand --pam-service 'The PAM service that checks passwords (its configuration: /etc/pam.d/NAME)'
            cand --pam-config-dir 'Read PAM''s service configuration from DIR instead of /etc/pam.d (libpam 1.5''s pam_start_confdir): a PAM set-up of the agent''s own'
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand --any 'Accept connections from any partition (bind ZERO), not only the parent'
            cand --install-service 'Register the agent service in this machine''s registry (run it on the host) and exit; says so if it is already registered'
            cand --systemd 'Serve the listening socket passed by systemd (socket activation) instead of binding: in a guest, a .socket unit with ListenStream=vsock::18518'
            cand -v 'Log each connection and its end to stderr (errors are always logged)'
            cand --verbose 'Log each connection and its end to stderr (errors are always logged)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;exec'= {
            cand -e 'Set K=V in CMD''s environment (repeatable)'
            cand --env 'Set K=V in CMD''s environment (repeatable)'
            cand -C 'Run CMD in DIR (a path in the VM)'
            cand --cwd 'Run CMD in DIR (a path in the VM)'
            cand --timeout 'Connect timeout (e.g. 500ms, 5s; at most 300s)'
            cand --wait 'Wait up to DUR for the VM and its service to come up (e.g. 60s right after starting a VM): while nothing listens yet, the VMM''s socket is missing or the guest is still booting, try again with growing pauses; errors that waiting cannot fix (not registered, disabled, unknown VM) fail at once. Each attempt still gives up after --timeout'
            cand --user 'Run as USER in the VM [default: the agent''s own user]'
            cand --identity 'The private key to authenticate with [default: CONFIG_DIR/identity, if present]'
            cand --pin 'Check of the agent''s key: tofu records it at first use in CONFIG_DIR/agent_keys and refuses a changed one; strict only accepts recorded keys; off checks only its signature'
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -t 'Run CMD on a pseudo-terminal (interactive programs)'
            cand --tty 'Run CMD on a pseudo-terminal (interactive programs)'
            cand --password-stdin 'Read the password from the first line of stdin (read before connecting; used when the agent takes passwords and no key); without it, a terminal prompt (no echo)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;shell'= {
            cand -e 'Set K=V in the shell''s environment (repeatable)'
            cand --env 'Set K=V in the shell''s environment (repeatable)'
            cand --timeout 'Connect timeout (e.g. 500ms, 5s; at most 300s)'
            cand --wait 'Wait up to DUR for the VM and its service to come up (e.g. 60s right after starting a VM): while nothing listens yet, the VMM''s socket is missing or the guest is still booting, try again with growing pauses; errors that waiting cannot fix (not registered, disabled, unknown VM) fail at once. Each attempt still gives up after --timeout'
            cand --user 'Run as USER in the VM [default: the agent''s own user]'
            cand --identity 'The private key to authenticate with [default: CONFIG_DIR/identity, if present]'
            cand --pin 'Check of the agent''s key: tofu records it at first use in CONFIG_DIR/agent_keys and refuses a changed one; strict only accepts recorded keys; off checks only its signature'
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand --password-stdin 'Read the password from the first line of stdin (read before connecting; used when the agent takes passwords and no key); without it, a terminal prompt (no echo)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;cp'= {
            cand --timeout 'Connect timeout (e.g. 500ms, 5s; at most 300s)'
            cand --wait 'Wait up to DUR for the VM and its service to come up (e.g. 60s right after starting a VM): while nothing listens yet, the VMM''s socket is missing or the guest is still booting, try again with growing pauses; errors that waiting cannot fix (not registered, disabled, unknown VM) fail at once. Each attempt still gives up after --timeout'
            cand --user 'Run as USER in the VM [default: the agent''s own user]'
            cand --identity 'The private key to authenticate with [default: CONFIG_DIR/identity, if present]'
            cand --pin 'Check of the agent''s key: tofu records it at first use in CONFIG_DIR/agent_keys and refuses a changed one; strict only accepts recorded keys; off checks only its signature'
            cand --idle-timeout 'Fail if the other side sends or takes nothing for DUR (e.g. 30s, 5m)'
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -r 'Copy directories recursively'
            cand -R 'Copy directories recursively'
            cand --recursive 'Copy directories recursively'
            cand --password-stdin 'Read the password from the first line of stdin (read before connecting; used when the agent takes passwords and no key); without it, a terminal prompt (no echo)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;key'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand generate 'Create the key pair (refuses to replace one unless --force)'
            cand show 'Print the public line to put into a guest''s authorized_keys'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hvsock;key;generate'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand --force 'Replace an existing key (clients that used it must be authorized again)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;key;show'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;key;help'= {
            cand generate 'Create the key pair (refuses to replace one unless --force)'
            cand show 'Print the public line to put into a guest''s authorized_keys'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hvsock;key;help;generate'= {
        }
        &'hvsock;key;help;show'= {
        }
        &'hvsock;key;help;help'= {
        }
        &'hvsock;demo'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;bench'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand server 'Serve bench clients on ADDR (VM:SERVICE, unix:PATH or tcp:HOST:PORT) until killed'
            cand client 'Run a workload against `hvsock bench server` at ADDR'
            cand local 'Run server and client in this process, in private temp dirs (nothing to set up)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hvsock;bench;server'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -v 'Log every connection and error to stderr'
            cand --verbose 'Log every connection and error to stderr'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;bench;client'= {
            cand -m 'The workload'
            cand --mode 'The workload'
            cand -s 'Message size: bytes, or with K/KiB, M/MiB (1024-based). Default: 64KiB for throughput and stress (the largest chunk), 64 for latency'
            cand --size 'Message size: bytes, or with K/KiB, M/MiB (1024-based). Default: 64KiB for throughput and stress (the largest chunk), 64 for latency'
            cand -P 'Streams (connections, or connecting threads) at once'
            cand --parallel 'Streams (connections, or connecting threads) at once'
            cand -d 'How long to run (500ms, 2s, 1m), unless --count is given'
            cand --duration 'How long to run (500ms, 2s, 1m), unless --count is given'
            cand -n 'Run a fixed amount per stream instead: messages (throughput), round trips (latency) or connections (connect, stress)'
            cand --count 'Run a fixed amount per stream instead: messages (throughput), round trips (latency) or connections (connect, stress)'
            cand --direction 'Throughput: send (client to server), receive (server to client) or both'
            cand --rounds 'Cut the run into N rounds of DUR/N (or COUNT/N rounded up) each; with --baseline, hvsock and baseline rounds alternate [default: 5 with --baseline, else 1]'
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand --json 'Print one JSON object instead of text (its fields: see below)'
            cand --baseline 'Also run the workload over a plain Unix socket in this process, and print the ratio hvsock/baseline'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;bench;local'= {
            cand --via 'Who talks to whom: a local partition to the host, or the host to itself'
            cand -m 'The workload'
            cand --mode 'The workload'
            cand -s 'Message size: bytes, or with K/KiB, M/MiB (1024-based). Default: 64KiB for throughput and stress (the largest chunk), 64 for latency'
            cand --size 'Message size: bytes, or with K/KiB, M/MiB (1024-based). Default: 64KiB for throughput and stress (the largest chunk), 64 for latency'
            cand -P 'Streams (connections, or connecting threads) at once'
            cand --parallel 'Streams (connections, or connecting threads) at once'
            cand -d 'How long to run (500ms, 2s, 1m), unless --count is given'
            cand --duration 'How long to run (500ms, 2s, 1m), unless --count is given'
            cand -n 'Run a fixed amount per stream instead: messages (throughput), round trips (latency) or connections (connect, stress)'
            cand --count 'Run a fixed amount per stream instead: messages (throughput), round trips (latency) or connections (connect, stress)'
            cand --direction 'Throughput: send (client to server), receive (server to client) or both'
            cand --rounds 'Cut the run into N rounds of DUR/N (or COUNT/N rounded up) each; with --baseline, hvsock and baseline rounds alternate [default: 5 with --baseline, else 1]'
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand --json 'Print one JSON object instead of text (its fields: see below)'
            cand --baseline 'Also run the workload over a plain Unix socket in this process, and print the ratio hvsock/baseline'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;bench;help'= {
            cand server 'Serve bench clients on ADDR (VM:SERVICE, unix:PATH or tcp:HOST:PORT) until killed'
            cand client 'Run a workload against `hvsock bench server` at ADDR'
            cand local 'Run server and client in this process, in private temp dirs (nothing to set up)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hvsock;bench;help;server'= {
        }
        &'hvsock;bench;help;client'= {
        }
        &'hvsock;bench;help;local'= {
        }
        &'hvsock;bench;help;help'= {
        }
        &'hvsock;stats'= {
            cand --service 'Only this service (ElementName or GUID)'
            cand --vm 'Only this VM (name from the partition table, a wildcard name or GUID)'
            cand --watch 'Refresh every SECONDS (default 2) like top, with rates per second'
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand --json 'Print JSON: {"processes", "skipped": [{"file", "error"}], "rows": [{"service", "service_id", "vm", "vm_id", "accepted", "connected", "open", "bytes_in", "bytes_out", "refused": {REASON: N}}]}'
            cand --prometheus 'Print the Prometheus text exposition (hvsock_connections_total, hvsock_connections_open, hvsock_bytes_total, hvsock_processes)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand serve 'Serve the Prometheus exposition over HTTP at /metrics, for scraping (see dist/prometheus/)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hvsock;stats;serve'= {
            cand --listen 'Address to listen on (loopback by default: the metrics name the host''s services and VMs)'
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;stats;help'= {
            cand serve 'Serve the Prometheus exposition over HTTP at /metrics, for scraping (see dist/prometheus/)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hvsock;stats;help;serve'= {
        }
        &'hvsock;stats;help;help'= {
        }
        &'hvsock;completions'= {
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;man'= {
            cand --out-dir 'Write every page to DIR (created if missing) instead'
            cand --config-dir 'Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows %ProgramData%\hvsock, and the registry is Windows'' own]'
            cand --log-format 'Format of the log lines on stderr (what HVSOCK_LOG selects, e.g. HVSOCK_LOG=info for every refused connection, debug for accepts and closes): human, or json (one object a line, for journald and log shippers)'
            cand -q 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand --quiet 'Log errors only (without HVSOCK_LOG: the default level is warn, and info for the long-running commands'' -v: listen, relay, agent, bench server)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'hvsock;help'= {
            cand addr 'Encode and decode SOCKADDR_HV addresses'
            cand service 'The service registry (Hyper-V''s GuestCommunicationServices): add, list, export'
            cand vm 'The partition table (the host''s list of VMs): add, list, show, remove'
            cand listen 'Listen on VM:SERVICE and serve connections on stdin/stdout or with a command'
            cand connect 'Connect to VM:SERVICE and pipe stdin/stdout through the connection (like `nc`)'
            cand relay 'Listen on FROM and connect each client to TO, relaying bytes both ways'
            cand agent 'Serve `hvsock exec`, `hvsock shell` and `hvsock cp` in this VM or local partition'
            cand exec 'Run a command in a VM or local partition through its `hvsock agent`'
            cand shell 'Open an interactive login shell in a VM or local partition through its `hvsock agent`'
            cand cp 'Copy a file (or with -r a directory tree) to or from a VM through its `hvsock agent`'
            cand key 'The user''s key pair for `hvsock exec`, `shell` and `cp` (agent key authentication)'
            cand demo 'Show exec and cp through Hyper-V sockets, with nothing set up'
            cand bench 'Measure Hyper-V sockets: throughput, latency, connections per second, stress'
            cand stats 'The host''s live connection counters, by service and VM, over every hvsock process (each publishes its own in the runtime dir; those of processes that are gone are ignored)'
            cand completions 'Print a shell completion script for hvsock to stdout'
            cand man 'Print hvsock''s man page for COMMAND (roff, e.g. `hvsock man listen | man -l -`), or write every page to DIR'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hvsock;help;addr'= {
            cand encode 'Print the 36-byte SOCKADDR_HV of ADDR as 72 lowercase hex digits'
            cand decode 'Print the VMID:SERVICEID held in a hex SOCKADDR_HV (72 hex digits)'
        }
        &'hvsock;help;addr;encode'= {
        }
        &'hvsock;help;addr;decode'= {
        }
        &'hvsock;help;service'= {
            cand add 'Register a service; prints its id alone'
            cand list 'List registered services (ID, PORT = Data1 = vsock port, ENABLED, NAME)'
            cand show 'Show one service, by id or name'
            cand remove 'Unregister a service, by id or name'
            cand enable 'Enable a service (listeners accept connections for it)'
            cand disable 'Disable a service (listeners refuse connections for it)'
            cand export 'Write the registry as a Windows .reg file, a PowerShell script or a services.toml'
            cand import 'Register the services of a .reg file (regedit''s UTF-16LE form or REGEDIT4) or of a services.toml (another host''s, or `service export --format toml`)'
        }
        &'hvsock;help;service;add'= {
        }
        &'hvsock;help;service;list'= {
        }
        &'hvsock;help;service;show'= {
        }
        &'hvsock;help;service;remove'= {
        }
        &'hvsock;help;service;enable'= {
        }
        &'hvsock;help;service;disable'= {
        }
        &'hvsock;help;service;export'= {
        }
        &'hvsock;help;service;import'= {
        }
        &'hvsock;help;vm'= {
            cand add 'Add a VM (partition) to the table; prints its id alone'
            cand list 'List the VMs in the table (ID, KIND, TARGET, NAME). On Windows: the VMs and containers of the Host Compute Service (VMID, TYPE, STATE, OWNER, NAME)'
            cand show 'Show one VM, by id or name (on Windows: from the Host Compute Service)'
            cand remove 'Remove a VM from the table, by id or name'
        }
        &'hvsock;help;vm;add'= {
        }
        &'hvsock;help;vm;list'= {
        }
        &'hvsock;help;vm;show'= {
        }
        &'hvsock;help;vm;remove'= {
        }
        &'hvsock;help;listen'= {
        }
        &'hvsock;help;connect'= {
        }
        &'hvsock;help;relay'= {
        }
        &'hvsock;help;agent'= {
        }
        &'hvsock;help;exec'= {
        }
        &'hvsock;help;shell'= {
        }
        &'hvsock;help;cp'= {
        }
        &'hvsock;help;key'= {
            cand generate 'Create the key pair (refuses to replace one unless --force)'
            cand show 'Print the public line to put into a guest''s authorized_keys'
        }
        &'hvsock;help;key;generate'= {
        }
        &'hvsock;help;key;show'= {
        }
        &'hvsock;help;demo'= {
        }
        &'hvsock;help;bench'= {
            cand server 'Serve bench clients on ADDR (VM:SERVICE, unix:PATH or tcp:HOST:PORT) until killed'
            cand client 'Run a workload against `hvsock bench server` at ADDR'
            cand local 'Run server and client in this process, in private temp dirs (nothing to set up)'
        }
        &'hvsock;help;bench;server'= {
        }
        &'hvsock;help;bench;client'= {
        }
        &'hvsock;help;bench;local'= {
        }
        &'hvsock;help;stats'= {
            cand serve 'Serve the Prometheus exposition over HTTP at /metrics, for scraping (see dist/prometheus/)'
        }
        &'hvsock;help;stats;serve'= {
        }
        &'hvsock;help;completions'= {
        }
        &'hvsock;help;man'= {
        }
        &'hvsock;help;help'= {
        }
    ]
    $completions[$command]
}
