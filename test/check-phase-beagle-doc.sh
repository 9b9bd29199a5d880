#!/bin/sh
# check-phase-beagle-doc.sh -- Beagle's own example analysis (Debian beagle-doc,
# /usr/share/doc/beagle/examples: run-sample-analysis on test.vcf) run end to end by
# spin-impute (issue 11, item 4): reference = the first 181 samples with every '/'
# turned into '|', targets = the last 10 samples, unphased, built exactly as that script
# does. Skipped (77) without beagle-doc's file; check-phase-beagle.sh does the same on
# the committed test-data/beagle_example.vcf.gz, so the check never only skips.
set -u
: "${top_srcdir:=.}" "${SPIN:=./spin-impute}"
D="$top_srcdir/test-data"
EX=${BEAGLE_EXAMPLES:-/usr/share/doc/beagle/examples}
if [ -f "$EX/test.vcf" ]; then src=$EX/test.vcf
elif [ -f "$EX/test.vcf.gz" ]; then src=$EX/test.vcf.gz
else echo "SKIP: no $EX/test.vcf(.gz) (Debian package beagle-doc)" >&2; exit 77; fi
T=$(mktemp -d "${TMPDIR:-/tmp}/spin-bdoc.XXXXXX")
trap 'rm -rf "$T"' EXIT
. "$top_srcdir/test/check-phase-example.sh"
# as run-sample-analysis: cp examples/*; gzip test.vcf
case $src in
*.gz) cp "$src" "$T/test.vcf.gz" ;;
*) cp "$src" "$T/test.vcf" && gzip "$T/test.vcf" ;;
esac
n=$(gzip -dc "$T/test.vcf.gz" | grep -vc '^#')
example "$T/test.vcf.gz" 190 191 200 "$n"
# Beagle itself, when installed: how far the two phasings are apart (information only,
# there is no true phase here)
if command -v beagle >/dev/null 2>&1 && beagle ref="$T/ref.vcf.gz" gt="$T/target.vcf.gz" out="$T/out.ref" \
    nthreads=1 >/dev/null 2>&1; then
    "$SPIN" score --switch -t "$T/out.ref.vcf.gz" "$T/out.vcf.gz" 2>/dev/null |
        awk '$2 == "ALL" {print "note: spin-impute vs Beagle phase: " $3 " hets, " $4 " switches (" $5 ")"}'
fi
[ "$fails" -eq 0 ]
