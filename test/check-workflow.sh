#!/bin/sh
# check-workflow.sh -- runs workflow/Snakefile for real on test-data/ with
# `snakemake --cores 2`: phased targets (output records must equal a direct
# whole-contig run) and unphased targets (pre-phased with SHAPEIT4 first).
# Skipped when snakemake is not installed (.ci/run installs it).
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${SPIN:=$top_srcdir/spin-impute}"
T=$top_srcdir/test-data
command -v snakemake >/dev/null || { echo "SKIP: snakemake not installed" >&2; exit 77; }
command -v bcftools >/dev/null || { echo "SKIP: bcftools not installed" >&2; exit 77; }
. "$top_srcdir/test/find-model.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spin-workflow.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$tmp/sm.log" ] && tail -40 "$tmp/sm.log" >&2; exit 1; }

config() { # $1 = target file, $2 = dir
    mkdir -p "$2"
    cat > "$2/config.yaml" <<EOC
panels:
  "20": $T/ref.bcf
target: $1
target_phased: auto
maps:
  "20": $T/map.txt
model: $MODEL
chunk_size: 100k
buffer: 250000
threads: 2
impute_extra: "--no-version"
spin_impute: $SPIN
outdir: results
EOC
}
run() { # $1 = dir
    snakemake -s "$top_srcdir/workflow/Snakefile" --directory "$1" --configfile "$1/config.yaml" \
        --cores 2 > "$tmp/sm.log" 2>&1 || fail "snakemake failed in $1"
}

# 1. phased targets: no SHAPEIT4 step, records equal one direct run
config "$T/target.vcf.gz" "$tmp/phased"
run "$tmp/phased"
out=$tmp/phased/results
[ -f "$out/imputed/20.vcf.gz.tbi" ] || fail "no index of the concatenated output"
[ ! -e "$out/phased" ] || fail "phased targets were phased again"
n=$(grep -vc '^#' "$out/chunks/20.tsv")
[ "$n" -ge 2 ] || fail "expected >= 2 chunks of 100 kb, got $n"
[ "$(ls "$out"/chunks/20/chunk*.vcf.gz | wc -l)" -eq "$n" ] || fail "not one output per chunk"
"$SPIN" impute -q --no-version --map "$T/map.txt" -o "$tmp/whole.vcf.gz" "$T/ref.bcf" "$T/target.vcf.gz"
bcftools view -H "$tmp/whole.vcf.gz" > "$tmp/a"
bcftools view -H "$out/imputed/20.vcf.gz" > "$tmp/b"
cmp "$tmp/a" "$tmp/b" || fail "workflow output differs from a whole-contig run"
[ "$(grep -c '^chunk' "$out/stats/20.stats.tsv")" -gt 0 ] || fail "stats not collected"
awk -F'\t' -v n="$n" '$1 == "20" { ok = ($2 == n && $3 == 2600 && $4 + $5 == 2600 && $5 == 60) } END { exit !ok }' \
    "$out/summary.tsv" || fail "summary.tsv wrong: $(cat "$out/summary.tsv")"

# 2. unphased targets: SHAPEIT4 pre-phasing, then the same pipeline
if command -v shapeit4 >/dev/null; then
    config "$T/target_unphased.vcf" "$tmp/unphased"
    run "$tmp/unphased"
    out=$tmp/unphased/results
    [ -f "$out/phased/20.bcf" ] || fail "unphased targets were not phased"
    bcftools query -f '[%GT\n]' "$out/phased/20.bcf" | grep -q / && fail "SHAPEIT4 output is not phased"
    [ "$(bcftools view -H "$out/imputed/20.vcf.gz" | wc -l)" -eq 2600 ] || fail "unphased run: wrong record count"
    [ "$(bcftools query -l "$out/imputed/20.vcf.gz" | wc -l)" -eq 20 ] || fail "unphased run: wrong sample count"
else
    echo "note: shapeit4 not installed, pre-phasing path not tested" >&2
fi

# 3. the SLURM profile parses (dry run; nothing is submitted)
snakemake -s "$top_srcdir/workflow/Snakefile" --directory "$tmp/phased" --configfile "$tmp/phased/config.yaml" \
    --profile "$top_srcdir/workflow/profiles/slurm" -n -F > "$tmp/sm.log" 2>&1 || fail "dry run with the SLURM profile"
echo "check-workflow: ok"
