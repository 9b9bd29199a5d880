#!/bin/sh
# check-prepare.sh -- `spin-impute prepare`: runs given the prepared panel write
# the same bytes (--no-version, --stats too) as runs given the VCF/BCF: whole
# contig, -r, several contigs, every record kind, --threads, `chunk` tables
# and chunk runs; and truncated, corrupt, wrong-version and wrong-magic files
# are refused with a message saying which (exit 1, no output file).
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${SPIN:=$top_srcdir/spin-impute}"
T=$top_srcdir/test-data
command -v bcftools >/dev/null || { echo "SKIP: bcftools not installed" >&2; exit 77; }
. "$top_srcdir/test/find-model.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spin-prepare.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# usage
set +e
"$SPIN" prepare "$T/ref.bcf" >/dev/null 2>&1; rc=$?
"$SPIN" prepare --level 0 -o "$tmp/x" "$T/ref.bcf" >/dev/null 2>&1; rc2=$?
set -e
[ $rc -eq 2 ] || fail "prepare without -o: exit $rc, expected 2"
[ $rc2 -eq 2 ] || fail "prepare --level 0: exit $rc2, expected 2"
"$SPIN" prepare --help | grep -q -- '--check' || fail "prepare --help lacks --check"
"$SPIN" --help | grep -q '^  prepare' || fail "spin-impute --help does not list prepare"

"$SPIN" prepare -q -o "$tmp/ref.spanel" "$T/ref.bcf"
"$SPIN" prepare -q -o "$tmp/rec.spanel" "$T/ref_records.vcf.gz"
[ "$(cat "$tmp/ref.spanel" | wc -c)" -lt "$(cat "$T/ref.bcf" | wc -c)" ] || fail "prepared panel not smaller than the BCF"

# same bytes: whole contig, region, threads, every record kind, --gp --ap, --stats, --map
same() { # name, extra options, VCF panel, prepared panel, target
    n=$1 o=$2
    "$SPIN" -q --no-version -O v $o --stats "$tmp/$n.a.tsv" -o "$tmp/$n.a.vcf" "$3" "$5" || fail "$n: VCF run failed"
    "$SPIN" -q --no-version -O v $o --stats "$tmp/$n.b.tsv" -o "$tmp/$n.b.vcf" "$4" "$5" || fail "$n: prepared run failed"
    cmp -s "$tmp/$n.a.vcf" "$tmp/$n.b.vcf" || fail "$n: output differs between the VCF/BCF panel and the prepared one"
    cmp -s "$tmp/$n.a.tsv" "$tmp/$n.b.tsv" || fail "$n: --stats differs between the VCF/BCF panel and the prepared one"
}
same whole "" "$T/ref.bcf" "$tmp/ref.spanel" "$T/target.vcf.gz"
cmp -s "$tmp/whole.b.vcf" "$(zcat "$T/expected.vcf.gz" > "$tmp/exp.vcf"; echo "$tmp/exp.vcf")" ||
    [ "$(basename "$MODEL")" != test.spin ] || fail "prepared run differs from the golden output"
same region "-r 20:1100000-1200000" "$T/ref.bcf" "$tmp/ref.spanel" "$T/target.vcf.gz"
same region0 "-r 20:1100000-1200000 --buffer 0" "$T/ref.bcf" "$tmp/ref.spanel" "$T/target.vcf.gz"
same threads "--threads 2 --map $T/map.txt" "$T/ref.bcf" "$tmp/ref.spanel" "$T/target.vcf.gz"
same records "--gp --ap" "$T/ref_records.vcf.gz" "$tmp/rec.spanel" "$T/target_records.vcf.gz"
same records_r "-r 20:1050000-1150000" "$T/ref_records.vcf.gz" "$tmp/rec.spanel" "$T/target_records.vcf.gz"
same unphased "" "$T/ref.bcf" "$tmp/ref.spanel" "$T/target_unphased_all.vcf.gz"
same phase_only "--phase-only" "$T/ref.bcf" "$tmp/ref.spanel" "$T/target_unphased_all.vcf.gz"

# several contigs (20 and 22) with REF-only records: -r per contig; no -r is refused by both
bcftools view -h "$T/ref.bcf" | grep -v '^#CHROM' > "$tmp/two.vcf"
bcftools view -h "$T/ref22.bcf" | grep '^##contig' >> "$tmp/two.vcf"
bcftools view -h "$T/ref.bcf" | grep '^#CHROM' >> "$tmp/two.vcf"
bcftools view -H "$T/ref.bcf" | awk -F'\t' -v OFS='\t' 'NR % 97 == 5 { $5 = "."; for (i = 10; i <= NF; i++) $i = "0|0" } 1' >> "$tmp/two.vcf"
bcftools view -H "$T/ref22.bcf" >> "$tmp/two.vcf"
bcftools view -Ob -o "$tmp/two.bcf" "$tmp/two.vcf" && bcftools index "$tmp/two.bcf"
"$SPIN" prepare -q -o "$tmp/two.spanel" "$tmp/two.bcf"
"$SPIN" prepare --check "$tmp/two.spanel" > "$tmp/check.tsv"
[ "$(grep -vc '^#' "$tmp/check.tsv")" = 2 ] || fail "prepare --check does not list both contigs"
awk -F'\t' '$3 == 20 && $7 > 0 { ok = 1 } END { exit !ok }' "$tmp/check.tsv" || fail "no REF-only records on contig 20"
same two20 "-r 20" "$tmp/two.bcf" "$tmp/two.spanel" "$T/target_20_22.vcf.gz"
same two20r "-r 20:1050000-1250000" "$tmp/two.bcf" "$tmp/two.spanel" "$T/target_20_22.vcf.gz"
same two22 "-r chr22" "$tmp/two.bcf" "$tmp/two.spanel" "$T/target_20_22.vcf.gz"
set +e
"$SPIN" -q --no-version -o "$tmp/x.vcf" "$tmp/two.spanel" "$T/target_20_22.vcf.gz" 2> "$tmp/err"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q 'several contigs' "$tmp/err" || fail "a two-contig prepared panel without -r: exit $rc, $(cat "$tmp/err")"
[ ! -e "$tmp/x.vcf" ] || fail "an output file was left after an error"
"$SPIN" prepare --header "$tmp/two.spanel" | grep -q '^##contig=<ID=22' || fail "prepare --header lacks contig 22"

# train: the same weights from the prepared panel as from the VCF (a few steps of a small model)
TA="--seed 3 --steps 10 --val-every 5 --val-windows 4 --log-every 0 --embed 8 --heads 2 --latents 2 --inducing 4 \
 --layers 1 --window 64 --context 8 --neighbours 8 --enc-rows 64 --batch-ctx 64 --batch-q 8"
"$SPIN" train $TA -o "$tmp/ta.spin" "$T/ref.bcf" 2>/dev/null || fail "train on the BCF"
"$SPIN" train $TA -o "$tmp/tb.spin" "$tmp/ref.spanel" 2>/dev/null || fail "train on the prepared panel"
wcrc() { "$SPIN" model-info "$1" | awk -F'\t' '$1 == "weights_crc32" { print $2 }'; }
[ -n "$(wcrc "$tmp/ta.spin")" ] && [ "$(wcrc "$tmp/ta.spin")" = "$(wcrc "$tmp/tb.spin")" ] ||
    fail "train gives other weights on the prepared panel"

# chunk: the same table, and chunk runs on the prepared panel give the whole run's records
"$SPIN" chunk -q --size 60k --tsv "$T/ref.bcf" "$T/target.vcf.gz" > "$tmp/c.a.tsv"
"$SPIN" chunk -q --size 60k --tsv "$tmp/ref.spanel" "$T/target.vcf.gz" > "$tmp/c.b.tsv"
cmp -s "$tmp/c.a.tsv" "$tmp/c.b.tsv" || fail "chunk tables differ between the BCF panel and the prepared one"
: > "$tmp/list"
grep -v '^#' "$tmp/c.b.tsv" | while IFS='	' read -r id chrom core buffered buffer rest; do
    "$SPIN" impute -q --no-version -r "$core" --buffer "$buffer" -o "$tmp/$id.vcf.gz" "$tmp/ref.spanel" "$T/target.vcf.gz"
    echo "$tmp/$id.vcf.gz" >> "$tmp/list"
done
bcftools concat -f "$tmp/list" -Ov 2>/dev/null | grep -v '^#' > "$tmp/cat.txt"
grep -v '^#' "$tmp/whole.a.vcf" | cmp -s - "$tmp/cat.txt" || fail "chunk runs on the prepared panel differ from the whole run"

# the workflow given the prepared panel: the records of one whole-contig run on the BCF
if command -v snakemake >/dev/null; then
    mkdir -p "$tmp/wf"
    cat > "$tmp/wf/config.yaml" <<EOC
panels:
  "20": $tmp/ref.spanel
target: $T/target.vcf.gz
maps:
  "20": $T/map.txt
model: $MODEL
chunk_size: 100k
buffer: 250000
threads: 2
impute_extra: "--no-version"
spin_impute: $SPIN
contig_lengths:
  "20": 63025520
outdir: results
EOC
    snakemake -s "$top_srcdir/workflow/Snakefile" --directory "$tmp/wf" --configfile "$tmp/wf/config.yaml" \
        --cores 2 > "$tmp/sm.log" 2>&1 || { tail -30 "$tmp/sm.log" >&2; fail "the workflow failed on a prepared panel"; }
    "$SPIN" impute -q --no-version --map "$T/map.txt" -o "$tmp/wf.whole.vcf.gz" "$T/ref.bcf" "$T/target.vcf.gz"
    bcftools view -H "$tmp/wf.whole.vcf.gz" > "$tmp/wf.a"
    bcftools view -H "$tmp/wf/results/imputed/20.vcf.gz" | cmp -s - "$tmp/wf.a" ||
        fail "the workflow on the prepared panel differs from a whole-contig run on the BCF"
    # unphased targets with SHAPEIT4 as phaser are refused before any job
    sed -e "s|target: .*|target: $T/target_unphased_all.vcf.gz|" -e 's|outdir: results|outdir: results2|' \
        "$tmp/wf/config.yaml" > "$tmp/wf/config2.yaml"
    echo "phaser: shapeit4" >> "$tmp/wf/config2.yaml"
    set +e
    snakemake -n -s "$top_srcdir/workflow/Snakefile" --directory "$tmp/wf" --configfile "$tmp/wf/config2.yaml" \
        --cores 2 > "$tmp/sm2.log" 2>&1; rc=$?
    set -e
    [ $rc -ne 0 ] && grep -q 'SHAPEIT4 cannot read a prepared panel' "$tmp/sm2.log" ||
        fail "the workflow did not refuse SHAPEIT4 with a prepared panel: $(tail -5 "$tmp/sm2.log")"
fi

# damaged files: which problem, exit 1, no output
size=$(wc -c < "$tmp/ref.spanel")
damage() { # name, python expression on bytearray b
    python3 -c "import sys; b = bytearray(open(sys.argv[1], 'rb').read()); $2; open(sys.argv[2], 'wb').write(b)" \
        "$tmp/ref.spanel" "$tmp/$1.spanel"
}
refused() { # name, expected message (grep -E)
    set +e
    "$SPIN" -q --no-version -o "$tmp/$1.out.vcf" "$tmp/$1.spanel" "$T/target.vcf.gz" 2> "$tmp/$1.err"; rc=$?
    set -e
    [ $rc -eq 1 ] || fail "$1: exit $rc, expected 1"
    grep -Eq "$2" "$tmp/$1.err" || fail "$1: message '$(cat "$tmp/$1.err")' does not say '$2'"
    [ ! -e "$tmp/$1.out.vcf" ] || fail "$1: an output file was left"
}
damage cut "b = b[:len(b) // 2]"
refused cut "truncated"
damage cut1 "b = b[:-1]"
refused cut1 "truncated"
damage block "b[200] ^= 0x08"
refused block "block 0 of contig 20 .*CRC32"
damage header "b[-40] ^= 0x01"
refused header "header fails the CRC32"
damage version "b[8] = 9"
refused version "format version 9.*reads version 2"
damage version1 "b[8] = 1"
refused version1 "format version 1.*reads version 2.*prepare it"
damage magic "b[0:8] = b'XXXXXXXX'"
refused magic "magic"
"$SPIN" prepare --check "$tmp/ref.spanel" > /dev/null || fail "prepare --check refuses a sound file"
set +e; "$SPIN" prepare --check "$tmp/block.spanel" > /dev/null 2>&1; rc=$?; set -e
[ $rc -eq 1 ] || fail "prepare --check accepted a corrupt block (exit $rc)"
# never onto the input, never a partial output
set +e; "$SPIN" prepare -q -o "$T/ref.bcf" "$T/ref.bcf" 2> "$tmp/err"; rc=$?; set -e
[ $rc -eq 1 ] && grep -q 'input' "$tmp/err" || fail "prepare onto its input: exit $rc"
set +e; "$SPIN" prepare -q -o "$tmp/t.spanel" "$T/truncated.vcf.gz" 2>/dev/null; rc=$?; set -e
[ $rc -eq 1 ] && [ ! -e "$tmp/t.spanel" ] || fail "prepare of a truncated VCF: exit $rc or an output left"
ls -a "$tmp" | grep -q '\.tmp\.' && fail "a temporary file was left"
echo "check-prepare: prepared panels give the VCF/BCF panel's output (whole, -r, two contigs, chunk); $size-byte file; damaged files refused"
