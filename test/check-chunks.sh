#!/bin/sh
# check-chunks.sh -- `spin-impute chunk` cuts test-data/ into chunks whose
# `impute --region CORE --buffer BUF` outputs, concatenated with bcftools
# concat, hold byte-identical records to one whole-contig run (--no-version).
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${SPIN:=$top_srcdir/spin-impute}"
T=$top_srcdir/test-data
command -v bcftools >/dev/null || { echo "SKIP: bcftools not installed" >&2; exit 77; }
. "$top_srcdir/test/find-model.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spin-chunks.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# usage errors
"$SPIN" chunk >/dev/null 2>&1 && fail "chunk without inputs must fail"
set +e; "$SPIN" chunk --size 5x "$T/ref.bcf" "$T/target.vcf.gz" >/dev/null 2>&1; rc=$?; set -e
[ $rc -eq 2 ] || fail "--size 5x: exit $rc, expected 2"
"$SPIN" chunk --help | grep -q -- '--size' || fail "chunk --help lacks --size"

# the chunk table: contiguous cores from 1 to the contig end (##contig length 63025520),
# all untyped (2540) and typed (60) sites in exactly one chunk
"$SPIN" chunk -q --size 60k --buffer 0 --tsv "$T/ref.bcf" "$T/target.vcf.gz" > "$tmp/chunks.tsv"
"$SPIN" chunk -q --size 60k --buffer 0 "$T/ref.bcf" "$T/target.vcf.gz" > "$tmp/cores.txt"
grep -v '^#' "$tmp/chunks.tsv" | cut -f3 | cmp -s - "$tmp/cores.txt" || fail "region lines differ from the TSV core column"
n=$(grep -vc '^#' "$tmp/chunks.tsv")
[ "$n" -ge 3 ] || fail "expected >= 3 chunks of 60 kb over 300 kb, got $n"
awk -F'\t' '!/^#/ {
        split($3, a, /[:-]/); from = a[2]; to = a[3]
        if (NR > 2 && from != prev + 1) { print "gap/overlap before " $1; bad = 1 }
        if (NR == 2 && from != 1) { print "first chunk does not start at 1"; bad = 1 }
        if ($5 <= 0 && NR > 2) { print $1 ": buffer " $5 " does not cover the typed context"; bad = 1 }
        prev = to; u += $7; t += $8 }
    END { if (prev != 63025520) { print "last chunk ends at " prev; bad = 1 }
          if (u != 2540 || t != 60) { print "untyped " u " typed " t ", expected 2540 and 60"; bad = 1 }
          exit bad }' "$tmp/chunks.tsv" || fail "chunk table inconsistent"

# whole run vs chunk runs + bcftools concat
"$SPIN" impute -q --no-version -o "$tmp/whole.vcf.gz" "$T/ref.bcf" "$T/target.vcf.gz"
grep -v '^#' "$tmp/chunks.tsv" | while IFS='	' read -r id chrom core buffered buffer rest; do
    "$SPIN" impute -q --no-version -r "$core" --buffer "$buffer" -o "$tmp/$id.vcf.gz" "$T/ref.bcf" "$T/target.vcf.gz" ||
        fail "impute of $id ($core) failed"
    [ "$(bcftools view -H "$tmp/$id.vcf.gz" | wc -l)" -gt 0 ] || fail "$id ($core) has no records"
done
bcftools concat -Oz -o "$tmp/concat.vcf.gz" "$tmp"/chunk*.vcf.gz 2>/dev/null
bcftools view -H "$tmp/whole.vcf.gz" > "$tmp/whole.txt"
bcftools view -H "$tmp/concat.vcf.gz" > "$tmp/concat.txt"
[ "$(wc -l < "$tmp/whole.txt")" -eq 2600 ] || fail "whole run: $(wc -l < "$tmp/whole.txt") records, expected 2600"
cmp "$tmp/whole.txt" "$tmp/concat.txt" || fail "concatenated chunk records differ from the whole run"
echo "check-chunks: $n chunks concatenate to the whole run's 2600 records"

# every record type (make-test-data-records.sh): a multi-allelic record's ALT sites share
# one position, so no chunk cut falls between them and the chunks still concatenate exactly
mkdir "$tmp/rec"
"$SPIN" impute -q --no-version -o "$tmp/rec/whole.vcf.gz" "$T/ref_records.vcf.gz" "$T/target_records.vcf.gz"
i=0
for core in $("$SPIN" chunk -q --size 40k "$T/ref_records.vcf.gz" "$T/target_records.vcf.gz"); do
    i=$((i + 1))
    "$SPIN" impute -q --no-version -r "$core" -o "$tmp/rec/chunk$(printf %03d $i).vcf.gz" "$T/ref_records.vcf.gz" \
        "$T/target_records.vcf.gz" || fail "impute of every-record chunk $core failed"
done
bcftools concat -Oz -o "$tmp/rec/concat.vcf.gz" "$tmp/rec"/chunk*.vcf.gz 2>/dev/null
bcftools view -H "$tmp/rec/whole.vcf.gz" > "$tmp/rec/whole.txt"
[ "$(wc -l < "$tmp/rec/whole.txt")" -eq 2443 ] || fail "every-record whole run: $(wc -l < "$tmp/rec/whole.txt") records"
bcftools view -H "$tmp/rec/concat.vcf.gz" | cmp -s - "$tmp/rec/whole.txt" ||
    fail "every-record panel: concatenated chunks differ from the whole run"
echo "check-chunks: $i chunks of the every-record panel concatenate to its 2443 records"
