#!/bin/sh
# check-manpage.sh -- every subcommand listed by `spin-impute --help` has a
# section in man/spin-impute.1, and every option of its --help (long and short
# names) and every numeric default shown in brackets appears in that section.
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${SPIN:=$top_srcdir/spin-impute}"
man=$top_srcdir/man/spin-impute.1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spin-man.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
bad=0
err() { echo "FAIL: $*" >&2; bad=1; }

# man source with roff escapes of '-' removed and font changes dropped
sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(em/--/g' "$man" > "$tmp/man.txt"
grep -q '^\.SH EXAMPLES' "$tmp/man.txt" || err "no EXAMPLES section"

cmds=$("$SPIN" --help | awk '/^Commands:/ { on = 1; next } on && NF == 0 { on = 0 } on { print $1 }')
[ -n "$cmds" ] || err "no command list in spin-impute --help"
for cmd in $cmds; do
    # the command's section: from ".SS cmd" to the next .SS or .SH
    awk -v c="$cmd" '/^\.S[SH] / { on = ($1 == ".SS" && $2 == c) ; next } on' "$tmp/man.txt" > "$tmp/sec.txt"
    [ -s "$tmp/sec.txt" ] || { err "man page has no '.SS $cmd' section"; continue; }
    if ! "$SPIN" "$cmd" --help > "$tmp/help.txt" 2>&1; then
        err "spin-impute $cmd --help failed"
        continue
    fi
    # option names at the start of help lines: "  -o, --output FILE" / "      --gp"
    opts=$(sed -n 's/^ \{1,8\}\(-[A-Za-z0-9]\(, --[a-z0-9-]*\)\{0,1\}\|--[a-z0-9-]*\).*/\1/p' "$tmp/help.txt" | tr ',' ' ')
    [ -n "$opts" ] || err "$cmd --help lists no option"
    for o in $opts; do
        grep -q -e "$o\([^a-z0-9-]\|$\)" "$tmp/sec.txt" || err "$cmd: option $o of --help is not in the man page section"
    done
    # numeric defaults: "[250000]" "[0.50]" -> must appear in the section
    for d in $(grep -o '\[[0-9][0-9.,]*[kMG]\{0,1\}\]' "$tmp/help.txt" | tr -d '[]' | sort -u); do
        grep -q -F "$d" "$tmp/sec.txt" || err "$cmd: default $d of --help is not in the man page section"
    done
done
[ $bad -eq 0 ] && echo "check-manpage: $(echo $cmds | wc -w) commands, options and defaults documented"
exit $bad
