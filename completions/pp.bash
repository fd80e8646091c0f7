# bash completion for pipeproc: `pp` and every `pp-*` tool.
# Options come from one table per tool (_pp_spec) that tests/shell/docs_consistency.sh
# checks against each tool's --help. Topic names are read from the store that the
# command line selects (-L, -N, PIPEPROC_LOCATION, PIPEPROC_NAMESPACE, PIPEPROC_HOME);
# proc and systemProc names are asked of `pp-procs list` and `pp-systemproc list` with the
# store options typed so far.
# Self-contained: needs neither the bash-completion package nor any pp binary (without
# pp-procs, no proc names are offered).

# Tool names without the "pp-" prefix, in the order `pp help` shows them.
# shellcheck disable=SC2086 # the word lists below are split on purpose
_pp_tools="commit range length check proc ack reclaim procs wait spawn shutdown status systemproc live gc"

# _pp_spec TOOL [SUBCOMMAND] sets, in the caller's scope:
#   flags  options that take no value
#   vals   options that take a value
#   subs   subcommand names (only pp-procs and pp-systemproc have them)
#   args   what each positional is (topic, proc, sysproc, body); a last word ending
#          in "..." repeats
# Returns 1 for a tool it does not know.
_pp_spec() {
    flags="" vals="" subs="" args=""
    case $1 in
    commit)
        flags="--atomic --no-sync -q --quiet"
        vals="-t --topic --max-body"
        args="body..." ;;
    range)
        flags="-x --exclusive -r --reverse -f --follow"
        vals="-s --start -e --end -l --limit --format"
        args="topic" ;;
    length)
        args="topic" ;;
    check)
        flags="--repair --cut --json" ;;
    proc)
        vals="-n --name -o --offset -c --count --max-reclaims --reclaim-timeout"
        vals+=" --on-max-reclaims --dead-letter -w --wait --format"
        args="topic" ;;
    ack)
        flags="--commit --no-sync -q --quiet"
        vals="-t --topic --max-body"
        args="proc body..." ;;
    reclaim)
        args="proc" ;;
    procs)
        subs="list inspect destroy disable resume"
        # The store options, --help and --version belong to pp-procs itself and come
        # before the subcommand; after it, only the subcommand's own options are taken.
        case ${2-} in
        list)
            flags="-h --help" vals="-t --topic"
            return 0 ;;
        inspect | destroy | disable | resume)
            flags="-h --help" args="proc"
            return 0 ;;
        esac ;;
    wait)
        vals="--timeout"
        args="proc..." ;;
    spawn)
        flags="--memory --gc --foreground"
        vals="--workers --worker-concurrency --worker-restart-after --gc-min-prune-time"
        vals+=" --gc-interval --tcp --socket --log" ;;
    shutdown)
        vals="--timeout" ;;
    status)
        flags="--json" ;;
    systemproc)
        subs="add list remove"
        case ${2-} in
        add)
            vals="--from --to --exec --stream -o --offset -c --count --max-reclaims"
            vals+=" --reclaim-timeout --on-max-reclaims" ;;
        remove) args="sysproc" ;;
        esac ;;
    live)
        vals="--mode -c --count --exec --to -n --name --format"
        args="topic" ;;
    gc)
        flags="--dry-run --json"
        vals="--min-prune-time" ;;
    *) return 1 ;;
    esac
    # Every tool selects a store the same way and has --help and --version.
    flags+=" -h --help --version"
    vals+=" $_pp_store_options"
    return 0
}

# The options that select a store (CONTRACT.md section 1); each takes a value.
_pp_store_options="-L --location -N --namespace --connect --connect-timeout --tls-key --tls-cert --tls-ca"

# _pp_store FIRST: the store directory selected by COMP_WORDS[FIRST .. COMP_CWORD-1]:
# -L/--location, else $PIPEPROC_LOCATION, else $PIPEPROC_HOME/NAMESPACE (NAMESPACE from
# -N/--namespace, else $PIPEPROC_NAMESPACE, else "default").
_pp_store() {
    local i w v location="" namespace=""
    for ((i = $1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]} v=""
        [[ $w == -- ]] && break
        case $w in
        -L | --location | -N | --namespace)
            # bash splits "--location=DIR" into "--location" "=" "DIR".
            if [[ ${COMP_WORDS[i + 1]} == = ]]; then ((i++)); fi
            ((i + 1 < COMP_CWORD)) || continue
            v=${COMP_WORDS[i + 1]}
            ((i++)) ;;
        -L?*) v=${w#-L} w=-L ;;
        -N?*) v=${w#-N} w=-N ;;
        *) continue ;;
        esac
        # Undo the quoting a user is most likely to type.
        v=${v#[\"\']} v=${v%[\"\']}
        # shellcheck disable=SC2088 # matching the "~/" the user typed
        case $v in
        "~") v=$HOME ;;
        "~/"*) v=$HOME/${v#"~/"} ;;
        esac
        case $w in
        -L | --location) location=$v ;;
        *) namespace=$v ;;
        esac
    done
    if [[ -n $location ]]; then
        printf '%s\n' "$location"
    elif [[ -n ${PIPEPROC_LOCATION-} ]]; then
        printf '%s\n' "$PIPEPROC_LOCATION"
    else
        : "${namespace:=${PIPEPROC_NAMESPACE:-default}}"
        printf '%s\n' "${PIPEPROC_HOME:-${XDG_STATE_HOME:-$HOME/.local/state}/pipeproc}/$namespace"
    fi
}

# _pp_names DIR CUR: the valid pipeproc names among the subdirectories of DIR.
# Names starting with a dot are offered only when CUR starts with one.
_pp_names() {
    local d n
    while IFS= read -r d; do
        n=${d##*/}
        [[ $n =~ ^[A-Za-z0-9._-]{1,200}$ && $n != . && $n != .. ]] || continue
        [[ $n == .* && $2 != .* ]] && continue
        printf '%s\n' "$n"
    done < <(compgen -d -- "${1%/}/" 2>/dev/null)
}

# _pp_topics FIRST CUR: the topics of the selected store.
_pp_topics() {
    local store
    store=$(_pp_store "$1")
    _pp_names "$store/topics" "$2"
}

# _pp_store_args FIRST: append to the caller's array store_args the store options typed
# in words FIRST .. (the word being completed excluded), as pp-procs takes them. The words
# are taken from COMP_LINE split at white space, not from COMP_WORDS, which bash also
# splits at ":" and "=" (as in "--connect tcp://host:7400").
_pp_store_args() {
    local line=${COMP_LINE:0:COMP_POINT} i w v n
    local -a words
    read -ra words <<<"$line"
    n=${#words[@]}
    [[ $line == *[[:space:]] ]] || ((n--))
    for ((i = $1; i < n; i++)); do
        w=${words[i]}
        [[ $w == -- ]] && break
        case $w in
        -L | --location | -N | --namespace | --connect | --connect-timeout | --tls-key | --tls-cert | --tls-ca)
            ((i + 1 < n)) || break
            v=${words[i + 1]}
            ((i++)) ;;
        --location=* | --namespace=* | --connect=* | --connect-timeout=* | --tls-key=* | --tls-cert=* | --tls-ca=*)
            v=${w#*=} w=${w%%=*} ;;
        -L?* | -N?*)
            v=${w:2} w=${w:0:2} ;;
        *) continue ;;
        esac
        # Undo the quoting and the "~/" a user is most likely to type, as _pp_store does.
        v=${v#[\"\']} v=${v%[\"\']}
        # shellcheck disable=SC2088 # matching the "~/" the user typed
        case $v in
        "~") v=$HOME ;;
        "~/"*) v=$HOME/${v#"~/"} ;;
        esac
        store_args+=("$w" "$v")
    done
}

# _pp_exe TOOL: the pp-TOOL program to run: next to the command being completed when it
# was typed with a directory (./build/bin/pp-proc) or, for pp, next to pp (as pp looks
# for its tools), else from PATH.
_pp_exe() {
    local cmd=${COMP_WORDS[0]} dir exe
    if [[ $cmd == */* ]]; then
        dir=${cmd%/*}
    else
        exe=$(type -P -- "$cmd" 2>/dev/null) && dir=${exe%/*}
    fi
    if [[ -n ${dir-} && -x $dir/pp-$1 ]]; then
        printf '%s\n' "$dir/pp-$1"
    else
        type -P -- "pp-$1" 2>/dev/null
    fi
}

# _pp_procs FIRST CUR: the names of the procs of the selected store, from `pp-procs list`
# (one JSON object per line, "name" first) run with the store options typed so far. The
# listing gets one second; when it fails or is slow, nothing is offered.
_pp_procs() {
    local exe
    local -a store_args=() limit=()
    exe=$(_pp_exe procs) || return 0
    _pp_store_args "$1"
    type -P timeout >/dev/null 2>&1 && limit=(timeout 1)
    "${limit[@]}" "$exe" "${store_args[@]}" list </dev/null 2>/dev/null |
        sed -n 's/^{"name":"\([A-Za-z0-9._-]*\)".*/\1/p'
}

# _pp_sysprocs FIRST CUR: the names of the systemProcs of the selected store, from
# `pp-systemproc list` (one JSON object per line, "name" first), as _pp_procs does.
_pp_sysprocs() {
    local exe
    local -a store_args=() limit=()
    exe=$(_pp_exe systemproc) || return 0
    _pp_store_args "$1"
    type -P timeout >/dev/null 2>&1 && limit=(timeout 1)
    "${limit[@]}" "$exe" "${store_args[@]}" list </dev/null 2>/dev/null |
        sed -n 's/^{"name":"\([A-Za-z0-9._-]*\)".*/\1/p'
}

# _pp_reply WORDS...: offer the words that start with $cur.
_pp_reply() {
    local IFS=$' \t\n'
    mapfile -t COMPREPLY < <(compgen -W "$*" -- "$cur")
}

# _pp_value TOOL OPTION FIRST: complete the value of OPTION.
_pp_value() {
    case $2 in
    --format) _pp_reply log body id ;;
    --on-max-reclaims)
        if [[ $1 == systemproc ]]; then
            _pp_reply disable continue
        else
            _pp_reply disable continue dead-letter
        fi ;;
    --mode) _pp_reply live all ;;
    -t | --topic | --to | --from | --dead-letter) _pp_reply "$(_pp_topics "$3" "$cur")" ;;
    -n | --name) _pp_reply "$(_pp_procs "$3" "$cur")" ;;
    -L | --location)
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
    -N | --namespace)
        _pp_reply "$(_pp_names "${PIPEPROC_HOME:-${XDG_STATE_HOME:-$HOME/.local/state}/pipeproc}" "$cur")" ;;
    --tls-key | --tls-cert | --tls-ca | --log)
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
    --exec | --stream)
        mapfile -t COMPREPLY < <(compgen -c -- "$cur") ;;
    *) COMPREPLY=() ;; # numbers, ids, offsets, addresses: nothing to guess
    esac
}

# _pp_tool TOOL FIRST: complete the arguments of pp-TOOL, whose first argument is
# COMP_WORDS[FIRST] (1 for "pp-range ...", 2 for "pp range ...").
_pp_tool() {
    local tool=$1 first=$2 flags vals subs args
    _pp_spec "$tool" || return 0

    local cur=${COMP_WORDS[COMP_CWORD]} opt="" sub="" npos=0 dashdash=0 i w
    # Walk the words before the cursor: find the subcommand and count positionals.
    for ((i = first; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if ((!dashdash)) && [[ $w == -- ]]; then
            dashdash=1
        elif ((!dashdash)) && [[ $w == -?* ]]; then
            if [[ " $vals " == *" $w "* ]]; then
                [[ ${COMP_WORDS[i + 1]} == = ]] && ((i++))
                ((i++))
            fi
        elif [[ $w == = ]]; then
            : # an "--opt=value" split by bash, already handled
        elif [[ -n $subs && -z $sub ]]; then
            sub=$w
            _pp_spec "$tool" "$sub"
        else
            ((npos++))
        fi
    done

    # The value of an option: "--opt VALUE", "--opt=VALUE" (split as --opt, =, VALUE).
    if ((!dashdash)); then
        if [[ $cur == = ]]; then
            opt=${COMP_WORDS[COMP_CWORD - 1]} cur=""
        elif [[ ${COMP_WORDS[COMP_CWORD - 1]} == = ]]; then
            opt=${COMP_WORDS[COMP_CWORD - 2]}
        elif ((COMP_CWORD > first)); then
            opt=${COMP_WORDS[COMP_CWORD - 1]}
        fi
        if [[ $opt == -?* && " $vals " == *" $opt "* ]]; then
            _pp_value "$tool" "$opt" "$first"
            return 0
        fi
        if [[ $cur == -* ]]; then
            _pp_reply $flags $vals
            return 0
        fi
    fi

    if [[ -n $subs && -z $sub ]]; then
        _pp_reply $subs
        return 0
    fi
    local -a kinds
    read -ra kinds <<<"$args"
    local kind=""
    if ((npos < ${#kinds[@]})); then
        kind=${kinds[npos]}
    elif ((${#kinds[@]})) && [[ ${kinds[${#kinds[@]} - 1]} == *... ]]; then
        kind=${kinds[${#kinds[@]} - 1]}
    fi
    case ${kind%...} in
    topic) _pp_reply "$(_pp_topics "$first" "$cur")" ;;
    proc) _pp_reply "$(_pp_procs "$first" "$cur")" ;;
    sysproc) _pp_reply "$(_pp_sysprocs "$first" "$cur")" ;;
    *) COMPREPLY=() ;; # bodies are JSON: nothing to offer
    esac
    return 0
}

# _pp: the completion function for `pp` and for every `pp-*` command.
_pp() {
    local IFS=$' \t\n'
    COMPREPLY=()
    local cmd=${COMP_WORDS[0]##*/}
    if [[ $cmd == pp-?* ]]; then
        _pp_tool "${cmd#pp-}" 1
        return 0
    fi

    local cur=${COMP_WORDS[COMP_CWORD]}
    if ((COMP_CWORD == 1)); then
        if [[ $cur == -* ]]; then
            _pp_reply -h --help --version
        else
            # The known tools, `help`, and any other pp-* found on PATH (as git does).
            local extra
            extra=$(compgen -c -- pp- 2>/dev/null | sed -n 's/^pp-\([A-Za-z0-9_-]*\)$/\1/p' | sort -u)
            _pp_reply help $_pp_tools $extra
        fi
    elif [[ ${COMP_WORDS[1]} == help ]]; then
        ((COMP_CWORD == 2)) && _pp_reply $_pp_tools
    else
        _pp_tool "${COMP_WORDS[1]}" 2
    fi
    return 0
}

complete -F _pp pp pp-commit pp-range pp-length pp-check pp-proc pp-ack pp-reclaim \
    pp-procs pp-wait pp-spawn pp-shutdown pp-status pp-systemproc pp-live pp-gc
