#!/bin/sh
# check-stream.sh -- internal chunking (--max-panel-mb): a contig imputed in
# chunks of whole windows, each read through the panel's index, gives the bytes
# of the one-read run (--max-panel-mb 0), --stats included, for VCF.gz, BCF and
# prepared panels, --threads 1 and 2, every record type, haploid chrX, missing
# typed alleles, unphased targets and --region; an unindexed panel falls back to
# the one read with the same output.
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${SPIN:=$top_srcdir/spin-impute}"
T=$top_srcdir/test-data
. "$top_srcdir/test/find-model.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spin-stream.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# usage: a negative or non-numeric budget is a usage error (exit 2)
for bad in -1 5x; do
    set +e; "$SPIN" impute -q --max-panel-mb "$bad" "$T/ref.bcf" "$T/target.vcf.gz" >/dev/null 2>&1; rc=$?; set -e
    [ $rc -eq 2 ] || fail "--max-panel-mb $bad: exit $rc, expected 2"
done
"$SPIN" impute --help | grep -q -- '--max-panel-mb' || fail "impute --help lacks --max-panel-mb"

"$SPIN" prepare -q -o "$tmp/ref.spanel" "$T/ref.bcf"
"$SPIN" prepare -q -o "$tmp/ref_records.spanel" "$T/ref_records.vcf.gz"
"$SPIN" prepare -q -o "$tmp/ref_chrx.spanel" "$T/ref_chrx.vcf.gz"

# same NAME MIN_CHUNKS REF TARGET [OPTIONS]: for --threads 1 and 2 and the budgets in
# $budgets -- one window a chunk (0.001 MB: 32 sites of 200 haplotypes) and a few
# (0.03 MB: 983 sites) -- the chunked run's
# output and --stats equal the one-read run's; the log says how many chunks were read
# (at least MIN_CHUNKS; 0: the one read, no chunk line)
same() {
    name=$1 min=$2 ref=$3 tgt=$4
    shift 4
    for t in 1 2; do
        "$SPIN" impute -q --no-version -t $t --max-panel-mb 0 --stats "$tmp/$name.whole.tsv" \
            -o "$tmp/$name.whole.vcf.gz" "$@" "$ref" "$tgt" || fail "$name: one-read run failed"
        for mb in $budgets; do
            "$SPIN" impute --no-version -t $t --max-panel-mb $mb --stats "$tmp/$name.$mb.tsv" \
                -o "$tmp/$name.$mb.vcf.gz" "$@" "$ref" "$tgt" 2> "$tmp/$name.$mb.log" ||
                { cat "$tmp/$name.$mb.log" >&2; fail "$name: chunked run (--max-panel-mb $mb, -t $t) failed"; }
            cmp -s "$tmp/$name.whole.vcf.gz" "$tmp/$name.$mb.vcf.gz" ||
                fail "$name: --max-panel-mb $mb -t $t output differs from the one-read run"
            cmp -s "$tmp/$name.whole.tsv" "$tmp/$name.$mb.tsv" ||
                fail "$name: --max-panel-mb $mb -t $t --stats differs from the one-read run"
            n=$(sed -n 's/.*reading the panel in \([0-9]*\) chunks.*/\1/p' "$tmp/$name.$mb.log")
            if [ "$min" -eq 0 ]; then
                [ -z "$n" ] || fail "$name: expected the one read, the log says $n chunks"
            else
                [ -n "$n" ] && [ "$n" -ge "$min" ] || fail "$name: --max-panel-mb $mb read ${n:-no} chunks, expected >= $min"
            fi
        done
    done
    echo "check-stream: $name: chunked == one read (${n:-no} chunks at $mb MB)"
}

budgets="0.001 0.03"
same vcfgz 4 "$T/ref.vcf.gz" "$T/target.vcf.gz"
same bcf 4 "$T/ref.bcf" "$T/target.vcf.gz" --map "$T/map.txt" --gp --ap
same prepared 4 "$tmp/ref.spanel" "$T/target.vcf.gz"
same missing 4 "$T/ref.bcf" "$T/target_missing.vcf.gz"
same records 2 "$T/ref_records.vcf.gz" "$T/target_records.vcf.gz"
same records_prepared 2 "$tmp/ref_records.spanel" "$T/target_records.vcf.gz"
budgets="0.001 0.01" # 120 haplotypes: 16 bytes a site
same chrx 2 "$tmp/ref_chrx.spanel" "$T/target_chrx_missing.vcf.gz"
# a region run in chunks equals the region run read at once
budgets=0.03 # smaller: a window's context holds over half the buffered region
same region 2 "$T/ref.bcf" "$T/target.vcf.gz" -r 20:1100000-1200000 --buffer 30000
budgets="0.001 0.03"
# unphased targets: phased against the panel's typed sites alone (read by region), then
# imputed in chunks, as phased against the whole panel
same unphased 4 "$T/ref.bcf" "$T/target_unphased_all.vcf.gz"
same unphased_missing 4 "$tmp/ref.spanel" "$T/target_missing_unphased.vcf.gz" -r 20:1050000-1250000
grep -q 'phased [1-9][0-9]* unphased heterozygous' "$tmp/unphased.0.001.log" || fail "unphased targets: not phased"
# fallback: 10 typed sites, so that every window's typed context (8 a side) spans most of the
# panel: chunks over the budget holding over half the panel each, so it is read once
gzip -dc "$T/target.vcf.gz" | awk '/^#/ || ++n % 6 == 0' > "$tmp/target_sparse.vcf"
same sparse 0 "$T/ref.bcf" "$tmp/target_sparse.vcf"
grep -q 'typed context of a window spans .* over the budget: reading it at once' "$tmp/sparse.0.03.log" ||
    fail "sparse targets: the log does not say why the panel is read at once"
# fallback: a plain VCF has no index
gzip -dc "$T/ref.vcf.gz" > "$tmp/ref_plain.vcf"
same unindexed 0 "$tmp/ref_plain.vcf" "$T/target.vcf.gz"

# the default budget holds these panels whole: the run is today's one read
"$SPIN" impute --no-version -o "$tmp/default.vcf.gz" "$T/ref.bcf" "$T/target.vcf.gz" 2> "$tmp/default.log"
grep -q 'chunks' "$tmp/default.log" && fail "the default budget chunked a 2,600-site panel"
"$SPIN" impute -q --no-version --max-panel-mb 0 -o "$tmp/nochunk.vcf.gz" "$T/ref.bcf" "$T/target.vcf.gz"
cmp -s "$tmp/default.vcf.gz" "$tmp/nochunk.vcf.gz" || fail "default budget: output differs from --max-panel-mb 0"
echo "check-stream: ok"
