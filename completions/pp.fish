# fish completion for pipeproc: `pp` and every `pp-*` tool.
# The options mirror completions/pp.bash, which tests/shell/docs_consistency.sh checks
# against each tool's --help; keep the two in step. Topic names are read from the store
# that the command line selects (-L, -N, PIPEPROC_LOCATION, PIPEPROC_NAMESPACE, PIPEPROC_HOME);
# proc and systemProc names are asked of `pp-procs list` and `pp-systemproc list` with the
# store options typed so far.

set -l __pp_tools commit range length check proc ack reclaim procs wait spawn shutdown status systemproc live gc

# The options of TOOL that take a value (the store options included), one per line.
function __pp_valopts --argument-names tool
    printf '%s\n' -L --location -N --namespace --connect --connect-timeout --tls-key --tls-cert --tls-ca
    switch $tool
        case commit
            printf '%s\n' -t --topic --max-body
        case range
            printf '%s\n' -s --start -e --end -l --limit --format
        case proc
            printf '%s\n' -n --name -o --offset -c --count --max-reclaims --reclaim-timeout \
                --on-max-reclaims --dead-letter -w --wait --format
        case ack
            printf '%s\n' -t --topic --max-body
        case procs
            printf '%s\n' -t --topic
        case wait shutdown
            printf '%s\n' --timeout
        case spawn
            printf '%s\n' --workers --worker-concurrency --worker-restart-after --gc-min-prune-time \
                --gc-interval --tcp --socket --log
        case systemproc
            printf '%s\n' --from --to --exec --stream -o --offset -c --count --max-reclaims \
                --reclaim-timeout --on-max-reclaims
        case live
            printf '%s\n' --mode -c --count --exec --to -n --name --format
        case gc
            printf '%s\n' --min-prune-time
    end
end

# The positionals typed so far (the words that are neither options nor their values),
# one per line, for the pp-* tool being completed.
function __pp_positionals
    set -l tokens (commandline -opc)
    set -l tool (string replace -r '^.*/pp-' '' -- $tokens[1])
    set -l tool (string replace -r '^pp-' '' -- $tool)
    set -l valopts (__pp_valopts $tool)
    set -l i 2
    set -l dashdash 0
    while test $i -le (count $tokens)
        set -l w $tokens[$i]
        if test $dashdash -eq 0; and test "$w" = --
            set dashdash 1
        else if test $dashdash -eq 0; and string match -qr -- '^-.' $w
            if contains -- $w $valopts
                set i (math $i + 1)
            end
        else
            printf '%s\n' $w
        end
        set i (math $i + 1)
    end
end

# True when N positionals (0, 1, ...) have been typed.
function __pp_npos --argument-names n
    test (count (__pp_positionals)) -eq $n
end

# True when the subcommand (the first positional) is one of the arguments.
function __pp_sub
    set -l pos (__pp_positionals)
    test (count $pos) -ge 1; and contains -- $pos[1] $argv
end

# The store directory selected by the command line and the environment.
function __pp_store
    set -l tokens (commandline -opc)
    set -l location
    set -l namespace
    set -l i 2
    while test $i -le (count $tokens)
        set -l w $tokens[$i]
        set -l v
        set -l key
        switch $w
            case --
                break
            case -L --location -N --namespace
                set key $w
                set i (math $i + 1)
                set v $tokens[$i]
            case '--location=*' '--namespace=*'
                set key (string replace -r '=.*' '' -- $w)
                set v (string replace -r '^[^=]*=' '' -- $w)
            case '-L?*' '-N?*'
                set key (string sub -l 2 -- $w)
                set v (string sub -s 3 -- $w)
        end
        if test -n "$key"
            set v (string replace -r '^~(?=/|$)' -- $HOME $v)
            switch $key
                case -L --location
                    set location $v
                case '*'
                    set namespace $v
            end
        end
        set i (math $i + 1)
    end
    if test -n "$location"
        echo $location
    else if set -q PIPEPROC_LOCATION; and test -n "$PIPEPROC_LOCATION"
        echo $PIPEPROC_LOCATION
    else
        test -n "$namespace"; or set namespace $PIPEPROC_NAMESPACE
        test -n "$namespace"; or set namespace default
        set -l home $PIPEPROC_HOME
        if test -z "$home"
            set -l state $XDG_STATE_HOME
            test -n "$state"; or set state $HOME/.local/state
            set home $state/pipeproc
        end
        echo $home/$namespace
    end
end

# The valid pipeproc names among the subdirectories of a directory.
function __pp_names_in --argument-names dir
    test -d "$dir"; or return
    for d in $dir/*/
        set -l n (basename $d)
        string match -qr -- '^[A-Za-z0-9._-]{1,200}$' $n; and printf '%s\n' $n
    end
end

function __pp_topics
    __pp_names_in (__pp_store)/topics
end

function __pp_namespaces
    set -l home $PIPEPROC_HOME
    if test -z "$home"
        set -l state $XDG_STATE_HOME
        test -n "$state"; or set state $HOME/.local/state
        set home $state/pipeproc
    end
    __pp_names_in $home
end

# The store options typed so far, as pp-procs takes them, one word per line.
function __pp_store_args
    set -l tokens (commandline -opc)
    set -l i 2
    while test $i -le (count $tokens)
        set -l w $tokens[$i]
        set -l key
        set -l v
        switch $w
            case --
                break
            case -L --location -N --namespace --connect --connect-timeout --tls-key --tls-cert --tls-ca
                test $i -lt (count $tokens); or break
                set key $w
                set i (math $i + 1)
                set v $tokens[$i]
            case '--location=*' '--namespace=*' '--connect=*' '--connect-timeout=*' '--tls-key=*' '--tls-cert=*' '--tls-ca=*'
                set key (string replace -r '=.*' '' -- $w)
                set v (string replace -r '^[^=]*=' '' -- $w)
            case '-L?*' '-N?*'
                set key (string sub -l 2 -- $w)
                set v (string sub -s 3 -- $w)
        end
        if test -n "$key"
            printf '%s\n' $key (string replace -r '^~(?=/|$)' -- $HOME $v)
        end
        set i (math $i + 1)
    end
end

# The names of the procs of the selected store, from `pp-procs list` (one JSON object per
# line, "name" first) run with the store options typed so far: pp-procs next to the
# command being completed when it was typed with a directory, else from PATH. The
# listing gets one second; when it fails or is slow, nothing is offered.
function __pp_procs
    set -l cmd (commandline -opc)[1]
    set -l exe
    if string match -q -- '*/*' $cmd; and test -x (dirname -- $cmd)/pp-procs
        set exe (dirname -- $cmd)/pp-procs
    else
        set exe (command -s pp-procs); or return 0
    end
    set -l limit
    command -sq timeout; and set limit timeout 1
    $limit $exe (__pp_store_args) list </dev/null 2>/dev/null |
        string replace -rf '^\{"name":"([A-Za-z0-9._-]+)".*' '$1'
end

# The names of the systemProcs of the selected store, from `pp-systemproc list`, as
# __pp_procs does.
function __pp_sysprocs
    set -l cmd (commandline -opc)[1]
    set -l exe
    if string match -q -- '*/*' $cmd; and test -x (dirname -- $cmd)/pp-systemproc
        set exe (dirname -- $cmd)/pp-systemproc
    else
        set exe (command -s pp-systemproc); or return 0
    end
    set -l limit
    command -sq timeout; and set limit timeout 1
    $limit $exe (__pp_store_args) list </dev/null 2>/dev/null |
        string replace -rf '^\{"name":"([A-Za-z0-9._-]+)".*' '$1'
end

# `pp TOOL ARGS...`: complete ARGS as pp-TOOL would.
function __pp_delegate
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set tokens[1] pp-$tokens[1]
    complete -C (string join ' ' -- (string escape -- $tokens) (commandline -ct))
end

# pp itself
complete -c pp -f
complete -c pp -n __fish_use_subcommand -s h -l help -d 'Show help and exit'
complete -c pp -n __fish_use_subcommand -l version -d 'Show version and exit'
complete -c pp -n __fish_use_subcommand -a commit -d 'Add logs to a topic'
complete -c pp -n __fish_use_subcommand -a range -d 'Read a slice of a topic'
complete -c pp -n __fish_use_subcommand -a length -d 'Count the logs of a topic'
complete -c pp -n __fish_use_subcommand -a check -d 'Verify a store'
complete -c pp -n __fish_use_subcommand -a proc -d 'Claim logs for a proc'
complete -c pp -n __fish_use_subcommand -a ack -d 'Acknowledge a claim'
complete -c pp -n __fish_use_subcommand -a reclaim -d 'Give a claim back'
complete -c pp -n __fish_use_subcommand -a procs -d 'List and manage procs'
complete -c pp -n __fish_use_subcommand -a wait -d 'Wait for procs to catch up'
complete -c pp -n __fish_use_subcommand -a spawn -d 'Start the node'
complete -c pp -n __fish_use_subcommand -a shutdown -d 'Stop the node'
complete -c pp -n __fish_use_subcommand -a status -d 'Show the node, topics and procs'
complete -c pp -n __fish_use_subcommand -a systemproc -d 'Manage processors run by the node'
complete -c pp -n __fish_use_subcommand -a live -d 'Follow the changes of a topic'
complete -c pp -n __fish_use_subcommand -a gc -d 'Collect old logs'
complete -c pp -n __fish_use_subcommand -a help -d 'List the tools'
complete -c pp -n "__fish_seen_subcommand_from help; and test (count (commandline -opc)) -eq 2" -a "$__pp_tools"
complete -c pp -n "not __fish_use_subcommand; and not __fish_seen_subcommand_from help" -a '(__pp_delegate)'

# Options every tool has. pp-procs takes the store options and --version only before its
# subcommand.
for tool in $__pp_tools
    set -l c pp-$tool
    set -l before true
    test $tool = procs; and set before '__pp_npos 0'
    complete -c $c -f
    complete -c $c -n $before -s L -l location -x -a '(__fish_complete_directories)' -d 'Store directory'
    complete -c $c -n $before -s N -l namespace -x -a '(__pp_namespaces)' -d 'Store under $PIPEPROC_HOME'
    complete -c $c -n $before -l connect -x -d 'Talk to a node: tcp://HOST:PORT or ipc:///PATH'
    complete -c $c -n $before -l connect-timeout -x -d 'Connect timeout (ms)'
    complete -c $c -n $before -l tls-key -r -F -d 'Client private key for a TLS node'
    complete -c $c -n $before -l tls-cert -r -F -d 'Client certificate for a TLS node'
    complete -c $c -n $before -l tls-ca -r -F -d 'CA that signed the node certificate'
    complete -c $c -s h -l help -d 'Show help and exit'
    complete -c $c -n $before -l version -d 'Show version and exit'
end

# pp-commit
complete -c pp-commit -s t -l topic -x -a '(__pp_topics)' -d 'Topic for the bodies (else envelopes)'
complete -c pp-commit -l atomic -d 'Commit all of stdin as one all-or-nothing batch'
complete -c pp-commit -l no-sync -d 'Do not fsync before reporting success'
complete -c pp-commit -s q -l quiet -d 'Print no ids'
complete -c pp-commit -l max-body -x -d 'Largest body accepted (bytes)'

# pp-range
complete -c pp-range -n '__pp_npos 0' -a '(__pp_topics)' -d Topic
complete -c pp-range -s s -l start -x -d 'First bound: id, timestamp or :N'
complete -c pp-range -s e -l end -x -d 'Last bound: id, timestamp or :N'
complete -c pp-range -s l -l limit -x -d 'At most this many logs (0 or -1: all)'
complete -c pp-range -s x -l exclusive -d 'Exclude both bounds'
complete -c pp-range -s r -l reverse -d 'Newest first'
complete -c pp-range -s f -l follow -d 'Keep printing new logs'
complete -c pp-range -l format -x -a 'log body id' -d 'What to print per log'

# pp-length
complete -c pp-length -n '__pp_npos 0' -a '(__pp_topics)' -d Topic

# pp-check
complete -c pp-check -l repair -d 'Cut torn tails and rebuild indexes'
complete -c pp-check -l cut -d 'With --repair, cut a topic at damage; save the rest to lost+found'
complete -c pp-check -l json -d 'Print one JSON report object'

# pp-proc
complete -c pp-proc -n '__pp_npos 0' -a '(__pp_topics)' -d Topic
complete -c pp-proc -s n -l name -x -a '(__pp_procs)' -d 'Proc name'
complete -c pp-proc -s o -l offset -x -d 'Where a new proc starts: >, $>, id, :N or timestamp'
complete -c pp-proc -s c -l count -x -d 'Logs per claim'
complete -c pp-proc -l max-reclaims -x -d 'Reclaims before the max-reclaims action (-1: no limit)'
complete -c pp-proc -l reclaim-timeout -x -d 'Claim age that triggers a reclaim (ms, -1: never)'
complete -c pp-proc -l on-max-reclaims -x -a 'disable continue dead-letter' -d 'Action at max reclaims'
complete -c pp-proc -l dead-letter -x -a '(__pp_topics)' -d 'Dead-letter topic'
complete -c pp-proc -s w -l wait -x -d 'Wait for something to claim (ms, 0: forever)'
complete -c pp-proc -l format -x -a 'log body id' -d 'What to print per log'

# pp-ack
complete -c pp-ack -n '__pp_npos 0' -a '(__pp_procs)' -d Proc
complete -c pp-ack -l commit -d 'Ack and commit bodies atomically'
complete -c pp-ack -s t -l topic -x -a '(__pp_topics)' -d 'Topic for the bodies (with --commit)'
complete -c pp-ack -l no-sync -d 'With --commit, do not fsync before reporting success'
complete -c pp-ack -s q -l quiet -d 'Print nothing'
complete -c pp-ack -l max-body -x -d 'Largest body accepted with --commit (bytes)'

# pp-reclaim
complete -c pp-reclaim -n '__pp_npos 0' -a '(__pp_procs)' -d Proc

# pp-procs
complete -c pp-procs -n '__pp_npos 0' -a list -d 'Print every proc as JSON'
complete -c pp-procs -n '__pp_npos 0' -a inspect -d 'Print one proc as JSON'
complete -c pp-procs -n '__pp_npos 0' -a destroy -d 'Remove a proc'
complete -c pp-procs -n '__pp_npos 0' -a disable -d 'Stop a proc from claiming'
complete -c pp-procs -n '__pp_npos 0' -a resume -d 'Let a disabled proc claim again'
complete -c pp-procs -n '__pp_sub list' -s t -l topic -x -a '(__pp_topics)' -d 'Only the procs of this topic'
complete -c pp-procs -n '__pp_sub inspect destroy disable resume; and __pp_npos 1' -a '(__pp_procs)' -d Proc

# pp-wait
complete -c pp-wait -a '(__pp_procs)' -d Proc
complete -c pp-wait -l timeout -x -d 'Give up after this long (ms)'

# pp-spawn
complete -c pp-spawn -l memory -d 'Keep the store in memory'
complete -c pp-spawn -l workers -x -d 'Worker processes (0: none)'
complete -c pp-spawn -l worker-concurrency -x -d 'Processors per worker'
complete -c pp-spawn -l worker-restart-after -x -d 'Restart a --stream processor after N claims'
complete -c pp-spawn -l gc -d 'Run the garbage collector'
complete -c pp-spawn -l gc-min-prune-time -x -d 'Minimum age of collected logs (ms)'
complete -c pp-spawn -l gc-interval -x -d 'Time between collections (ms)'
complete -c pp-spawn -l tcp -x -d 'Listen on TCP: HOST:PORT'
complete -c pp-spawn -l socket -x -d 'Listen on a socket address'
complete -c pp-spawn -l foreground -d 'Stay attached'
complete -c pp-spawn -l log -r -F -d 'Node log file'

# pp-shutdown
complete -c pp-shutdown -l timeout -x -d 'Give up waiting for the node to stop after this long (ms)'

# pp-status
complete -c pp-status -l json -d 'Print JSON'

# pp-systemproc
complete -c pp-systemproc -n '__pp_npos 0' -a add -d 'Register a processor run by the node'
complete -c pp-systemproc -n '__pp_npos 0' -a list -d 'Print every systemProc as JSON'
complete -c pp-systemproc -n '__pp_npos 0' -a remove -d 'Unregister a systemProc'
complete -c pp-systemproc -n '__pp_sub remove; and __pp_npos 1' -a '(__pp_sysprocs)' -d systemProc
complete -c pp-systemproc -n '__pp_sub add' -l from -x -a '(__pp_topics)' -d 'Topic to process'
complete -c pp-systemproc -n '__pp_sub add' -l to -x -a '(__pp_topics)' -d 'Topic for the results'
complete -c pp-systemproc -n '__pp_sub add' -l exec -x -a '(__fish_complete_command)' -d 'Command run once per claim'
complete -c pp-systemproc -n '__pp_sub add' -l stream -x -a '(__fish_complete_command)' -d 'Command kept running, one line per claim'
complete -c pp-systemproc -n '__pp_sub add' -s o -l offset -x -d 'Where a new proc starts: >, $>, id, :N or timestamp'
complete -c pp-systemproc -n '__pp_sub add' -s c -l count -x -d 'Logs per claim'
complete -c pp-systemproc -n '__pp_sub add' -l max-reclaims -x -d 'Reclaims before the max-reclaims action (-1: no limit)'
complete -c pp-systemproc -n '__pp_sub add' -l reclaim-timeout -x -d 'Claim age that triggers a reclaim (ms, -1: never)'
complete -c pp-systemproc -n '__pp_sub add' -l on-max-reclaims -x -a 'disable continue' -d 'Action at max reclaims'

# pp-live
complete -c pp-live -n '__pp_npos 0' -a '(__pp_topics)' -d Topic
complete -c pp-live -l mode -x -a 'live all' -d 'Which logs: from now on, or from the start'
complete -c pp-live -s c -l count -x -d 'Logs per claim'
complete -c pp-live -l exec -x -a '(__fish_complete_command)' -d 'Command run once per claim'
complete -c pp-live -l to -x -a '(__pp_topics)' -d 'Topic for the results of --exec'
complete -c pp-live -s n -l name -x -a '(__pp_procs)' -d 'Keep the proc under this name'
complete -c pp-live -l format -x -a 'log body id' -d 'What to print per log'

# pp-gc
complete -c pp-gc -l min-prune-time -x -d 'Minimum age of collected logs (ms)'
complete -c pp-gc -l dry-run -d 'Say what would be collected'
complete -c pp-gc -l json -d 'Print one JSON object per topic'
