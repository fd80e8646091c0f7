#!/usr/bin/env bash
# Checks that the man pages and shell completions cannot drift from the tools: every long
# option that `TOOL --help` names must appear in man/TOOL.1.scd and in the completions,
# and the bash completion must really offer options, subcommands and topics.
#
# usage: tests/shell/docs_consistency.sh [BIN_DIR]    (default: $PP_BIN, else build/bin)
# Exit status: 0 when everything matches, 1 otherwise; each problem is printed on its own
# line. Runs without any binary too: then only the documentation-side checks run.
set -u
shopt -s nullglob

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$script_dir/../.." && pwd)
bin_dir=${1:-${PP_BIN:-$root/build/bin}}
man_dir=$root/man
bash_completion=$root/completions/pp.bash
zsh_completion=$root/completions/_pp
fish_completion=$root/completions/pp.fish

failures=0
fail() {
    printf 'FAIL: %s\n' "$*"
    failures=$((failures + 1))
}
note() {
    printf 'note: %s\n' "$*"
}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/pp-docs-check.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT

# mentions FILE WORD: FILE contains WORD, not as part of a longer option name.
mentions() {
    grep -Eq -- "(^|[^A-Za-z0-9-])$2([^A-Za-z0-9-]|\$)" "$1"
}

# The completion function bash would call for COMMAND, from `complete -p COMMAND`.
completion_function() {
    local spec
    spec=$(complete -p "$1" 2>/dev/null) || return 1
    [[ $spec =~ -F\ ([^ ]+) ]] || return 1
    printf '%s\n' "${BASH_REMATCH[1]}"
}

# complete_line LINE: run the bash completion for LINE (the cursor at its end, a trailing
# space meaning an empty current word) and print the candidates one per line.
complete_line() (
    local line=$1 func
    read -ra COMP_WORDS <<<"$line"
    [[ $line == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMP_TYPE=9
    COMP_KEY=9
    COMPREPLY=()
    func=$(completion_function "${COMP_WORDS[0]}") || {
        echo "no completion registered for ${COMP_WORDS[0]}" >&2
        return 1
    }
    local prev=""
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    "$func" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "$prev"
    printf '%s\n' "${COMPREPLY[@]}"
)

# expect_offered LINE WORD...: the completion of LINE offers every WORD.
expect_offered() {
    local line=$1 word offered
    shift
    offered=$(complete_line "$line" 2>&1)
    for word in "$@"; do
        grep -Fqx -- "$word" <<<"$offered" ||
            fail "bash completion of '$line' does not offer '$word' (offered: ${offered//$'\n'/ })"
    done
}

# --- the documentation side, with or without binaries -------------------------------

[[ -f $bash_completion ]] || { fail "missing $bash_completion"; exit 1; }
# shellcheck source=/dev/null
source "$bash_completion" || fail "sourcing completions/pp.bash failed"

# The completion runs with a known environment, not the caller's store.
unset PIPEPROC_LOCATION PIPEPROC_NAMESPACE PIPEPROC_CONNECT
export PIPEPROC_HOME=$scratch/home
mkdir -p "$scratch/store/topics/alpha" "$scratch/store/topics/beta" "$PIPEPROC_HOME"

expect_offered "pp-range --f" --follow --format
expect_offered "pp-commit -" --atomic
expect_offered "pp " commit range
expect_offered "pp range --f" --follow --format
PIPEPROC_LOCATION=$scratch/store expect_offered "pp-range " alpha beta
PIPEPROC_LOCATION=$scratch/store expect_offered "pp range " alpha beta
expect_offered "pp-range -L $scratch/store " alpha beta
mkdir -p "$PIPEPROC_HOME/other/topics/gamma"
expect_offered "pp-length -N other " gamma
PIPEPROC_NAMESPACE=other expect_offered "pp-length " gamma

if command -v scdoc >/dev/null; then
    for page in "$man_dir"/*.scd; do
        scdoc <"$page" >"$scratch/page" 2>"$scratch/err" ||
            fail "scdoc cannot render ${page#"$root"/}: $(cat "$scratch/err")"
    done
else
    note "scdoc not installed: man page rendering not checked"
fi

# --- each tool against its own --help ---------------------------------------------

if [[ ! -d $bin_dir ]]; then
    note "no binary directory $bin_dir: tools not checked"
else
    tools=()
    [[ -x $bin_dir/pp ]] && tools+=("$bin_dir/pp")
    for exe in "$bin_dir"/pp-*; do
        [[ -f $exe && -x $exe ]] && tools+=("$exe")
    done
    ((${#tools[@]})) || note "no pp or pp-* binary in $bin_dir: tools not checked"

    for exe in "${tools[@]}"; do
        tool=${exe##*/}
        # A fresh store, no stdin: --help must not depend on either.
        help=$(PIPEPROC_LOCATION=$scratch/help-store timeout 20 "$exe" --help </dev/null 2>&1)
        status=$?
        if ((status != 0)); then
            fail "$tool --help exits $status"
            continue
        fi
        mapfile -t options < <(grep -oE -- '--[a-z][a-z-]*' <<<"$help" | sed 's/-*$//' | sort -u)
        # Every tool has both (CONTRACT.md section 6); a help text that leaves one unnamed
        # hides it from this check, so say so.
        for required in --help --version; do
            printf '%s\n' "${options[@]}" | grep -Fqx -- "$required" ||
                note "$tool --help does not name $required"
        done

        page=$man_dir/$tool.1.scd
        [[ -f $page ]] || fail "$tool has no man page ${page#"$root"/}"
        if ! complete -p "$tool" >/dev/null 2>&1; then
            fail "completions/pp.bash registers no completion for $tool"
        fi
        offered=""
        if [[ $tool == pp ]]; then
            offered=$(complete_line "pp -" 2>/dev/null)
        else
            offered=$(complete_line "$tool -" 2>/dev/null)
        fi

        for option in "${options[@]}"; do
            [[ -f $page ]] && ! mentions "$page" "$option" &&
                fail "man/$tool.1.scd does not mention $option"
            mentions "$bash_completion" "$option" ||
                fail "completions/pp.bash does not mention $option (from $tool --help)"
            grep -Fqx -- "$option" <<<"$offered" ||
                fail "bash completion of '$tool -' does not offer $option"
            [[ -f $zsh_completion ]] && ! mentions "$zsh_completion" "$option" &&
                fail "completions/_pp does not mention $option (from $tool --help)"
            [[ -f $fish_completion ]] && ! mentions "$fish_completion" "-l ${option#--}" &&
                fail "completions/pp.fish has no '-l ${option#--}' (from $tool --help)"
        done

        # CLI11 lists an option with a short name as "  -l,--limit ...": offer -l too.
        while read -r short; do
            grep -Fqx -- "$short" <<<"$offered" ||
                fail "bash completion of '$tool -' does not offer $short"
        done < <(grep -oE -- '^ +-[A-Za-z],--' <<<"$help" | grep -oE -- '-[A-Za-z]')

        # The other way round, only a note: completions may know options a tool lacks.
        if [[ $tool != pp ]]; then
            extra=()
            for option in $offered; do
                [[ $option == --* ]] || continue
                printf '%s\n' "${options[@]}" | grep -Fqx -- "$option" || extra+=("$option")
            done
            ((${#extra[@]})) && note "$tool --help does not name ${extra[*]} (offered by the completion)"
        fi
    done
fi

if ((failures)); then
    printf '%d problem(s): docs_consistency FAILED\n' "$failures"
    exit 1
fi
echo "docs_consistency: ok"
exit 0
