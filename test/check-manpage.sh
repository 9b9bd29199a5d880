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
# roff: \(ss is the German sharp s (it printed "rß" for r squared)
grep -n '\\(ss' "$man" >&2 && err "man page uses \\(ss (prints ß): write \\[u00B2] for a square"
# README's subcommand list (the Usage item "- `spin-impute train`, ...") names every subcommand
awk '/^- `spin-impute train`/ { on = 1 } on { print } on && /<command> -h`/ { exit }' "$top_srcdir/README.md" >"$tmp/list.txt"
for cmd in $cmds; do
    [ "$cmd" = impute ] && continue
    grep -q -e "\`$cmd\`" -e "\`spin-impute $cmd\`" "$tmp/list.txt" || err "README's subcommand list omits \`$cmd\`"
done
# test-data/README.md lists every data file there (indexes go with their file)
for f in "$top_srcdir"/test-data/*; do
    b=$(basename "$f")
    case $b in *.tbi | *.csi | *.sh | README.md) continue ;; esac
    grep -q -F "\`$b\`" "$top_srcdir/test-data/README.md" || err "test-data/README.md does not list $b"
done
[ $bad -eq 0 ] && echo "check-manpage: $(echo $cmds | wc -w) commands, options and defaults documented"
exit $bad
