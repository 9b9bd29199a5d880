#!/bin/sh
# check-haploid.sh -- haploid genotypes (male chrX outside the PARs) end to end on
# test-data/*chrx* (make-chrx.sh) and Minimac4's haploid test inputs:
#  - males are written haploid outside the PAR, diploid in it; females diploid;
#    typed sites as given; accuracy against the truth above a threshold;
#  - AF counts one haplotype per haploid sample (recomputed from the written DS);
#  - a lone "." is a missing genotype (imputed, not an error), "./." too;
#  - a sample haploid at some sites and diploid at others (the PAR) is accepted;
#  - Minimac4's test: imputed GT equal to the panel GT;
#  - --threads 1/2, chunk runs and -r runs equal to the whole run; the prepared
#    panel gives the same bytes; score reads haploid truth and haploid DS.
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${SPIN:=$top_srcdir/spin-impute}"
T=$top_srcdir/test-data
command -v bcftools >/dev/null || { echo "SKIP: bcftools not installed" >&2; exit 77; }
MODEL=$T/test.spin # a fixed model: the accuracy threshold below was measured with it
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spin-haploid.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
run() { "$SPIN" impute -q --no-version -m "$MODEL" "$@"; }
PAR_END=2699520

# ---- imputation of haploid and diploid targets ----
run --gp --ap -O v -o "$tmp/whole.vcf" "$T/ref_chrx.vcf.gz" "$T/target_chrx.vcf.gz"
n=$(grep -vc '^#' "$tmp/whole.vcf")
[ "$n" -eq "$(bcftools view -H "$T/ref_chrx.vcf.gz" | wc -l)" ] || fail "$n records, expected every panel record"
# ploidy per sample: males (even columns TGT02, TGT04, ...) haploid from the first typed site past
# the PAR on (untyped sites between it and the PAR's last typed site have a diploid flank: diploid),
# everyone else diploid; at a haploid sample GT is one allele, DS <= 1, AP1 = DS, AP2 ".", GP two values
first=$(bcftools view -H -r X:$((PAR_END + 1))- "$T/target_chrx.vcf.gz" | head -1 | cut -f2)
[ "$first" -gt $PAR_END ] || fail "no typed site past the PAR"
awk -F'\t' -v par=$first '!/^#/ {
    for (i = 10; i <= 19; i++) {
        split($i, f, ":"); male = (i - 9) % 2 == 0
        hap = f[1] !~ /[|\/]/
        if (hap != (male && $2 >= par)) { print "ploidy wrong at " $2 " column " i ": " $i; bad = 1; exit }
        if (hap && (f[1] !~ /^[01]$/ || f[2] > 1 || f[3] != f[2] || f[4] != "." || split(f[5], g, ",") != 2)) {
            print "haploid fields wrong at " $2 ": " $i; bad = 1; exit }
        if (!hap && split(f[5], g, ",") != 3) { print "diploid GP wrong at " $2 ": " $i; bad = 1; exit }
    } } END { exit bad }' "$tmp/whole.vcf" || fail "haploid/diploid output fields"
# typed sites written back as given (GT columns equal the target file's)
bcftools view -H "$T/target_chrx.vcf.gz" | cut -f2,10- > "$tmp/typed.in"
grep -v '^#' "$tmp/whole.vcf" | awk -F'\t' '$8 !~ /IMP/' | cut -f2,10- |
    awk -F'\t' '{ printf "%s", $1; for (i = 2; i <= NF; i++) { split($i, f, ":"); printf "\t%s", f[1] } print "" }' \
    > "$tmp/typed.out"
cmp -s "$tmp/typed.in" "$tmp/typed.out" || fail "typed sites not written as given"
# AF over the haplotypes present: sum of DS / (2 x diploids + haploids), up to the DS rounding
# (2 decimals: at most 0.005 per sample); N = 20 haplotypes instead of 15 would be far off
awk -F'\t' '!/^#/ { s = 0; n = 0
    for (i = 10; i <= NF; i++) { split($i, f, ":"); s += f[2]; n += f[1] ~ /[|\/]/ ? 2 : 1 }
    match($8, /AF=[0-9.]+/); af = substr($8, RSTART + 3, RLENGTH - 3)
    d = af - s / n; if (d < 0) d = -d
    if (d > 0.005 * (NF - 9) / n + 0.0001) { print "AF " af " at " $2 ", DS gives " s / n; bad = 1; exit } } END { exit bad }' \
    "$tmp/whole.vcf" || fail "AF does not count haploid samples once"
# accuracy against the truth: males' haploid dosages are scored as 0/1 against haploid truth.
# Measured with test.spin: pooled R2 0.899, concordance 0.968 (Beagle 5.4 on the non-PAR part
# alone, the only part it takes: see doc/architecture.md); thresholds leave room for model noise only.
"$SPIN" score --truth "$T/truth_chrx.vcf.gz" "$tmp/whole.vcf" > "$tmp/score.txt"
r2=$(awk '/^pooled R2/ { print $NF }' "$tmp/score.txt")
conc=$(awk '/^genotype concordance/ { print $NF }' "$tmp/score.txt")
awk -v r="$r2" -v c="$conc" 'BEGIN { exit !(r >= 0.85 && c >= 0.95) }' ||
    fail "chrX accuracy too low: pooled R2 $r2, concordance $conc"
# males alone past the PAR (haploid truth vs haploid DS)
bcftools view -Ov -s TGT02,TGT04,TGT06,TGT08,TGT10 -r X:$((PAR_END + 1))- "$T/truth_chrx.vcf.gz" > "$tmp/truth_m.vcf" 2>/dev/null
"$SPIN" score --truth "$tmp/truth_m.vcf" "$tmp/whole.vcf" > "$tmp/score_m.txt"
r2m=$(awk '/^pooled R2/ { print $NF }' "$tmp/score_m.txt")
awk -v r="$r2m" 'BEGIN { exit !(r >= 0.85) }' || fail "haploid males: pooled R2 $r2m"

# ---- missing: lone "." (ploidy not given) and "./." are imputed, not refused ----
run -O v -o "$tmp/miss.vcf" "$T/ref_chrx.vcf.gz" "$T/target_chrx_missing.vcf.gz" || fail "lone '.' refused"
# TGT02 (male) gets a haploid genotype at non-PAR sites where it was ".", TGT01 (female) a diploid one;
# the filled values are no longer missing
# (a "." between the PAR's last given genotype and the first haploid one has a diploid flank: diploid)
first2=$(bcftools view -H -r X:$((PAR_END + 1))- "$T/target_chrx_missing.vcf.gz" | awk '$11 != "." { print $2; exit }')
awk -F'\t' -v par=$first2 '!/^#/ && $8 !~ /IMP/ {
    split($10, a, ":"); split($11, b, ":")
    if (a[1] !~ /^[01]\|[01]$/) { print "TGT01 at " $2 ": " $10; bad = 1; exit }
    if ($2 >= par && b[1] !~ /^[01]$/) { print "TGT02 at " $2 ": " $11; bad = 1; exit }
    if ($2 < par && b[1] !~ /^[01]\|[01]$/) { print "TGT02 in the PAR at " $2 ": " $11; bad = 1; exit }
    } END { exit bad }' "$tmp/miss.vcf" || fail "missing genotypes not imputed with the flanks' ploidy"

# ---- threads, prepared panel, region and chunk runs equal the whole run ----
run --gp --ap --threads 2 -O v -o "$tmp/t2.vcf" "$T/ref_chrx.vcf.gz" "$T/target_chrx.vcf.gz"
cmp -s "$tmp/whole.vcf" "$tmp/t2.vcf" || fail "--threads 2 differs from --threads 1"
bcftools view --no-version -Ob -o "$tmp/ref_chrx.bcf" "$T/ref_chrx.vcf.gz"
for th in 1 3; do # a BCF panel's genotypes are decoded in the pool's jobs too
    run --gp --ap --threads $th -O v -o "$tmp/bcf.vcf" "$tmp/ref_chrx.bcf" "$T/target_chrx.vcf.gz"
    cmp -s "$tmp/whole.vcf" "$tmp/bcf.vcf" || fail "BCF panel, --threads $th: output differs from the VCF panel's"
done
"$SPIN" prepare -q -o "$tmp/chrx.spanel" "$T/ref_chrx.vcf.gz"
run --gp --ap -O v -o "$tmp/prep.vcf" "$tmp/chrx.spanel" "$T/target_chrx.vcf.gz"
cmp -s "$tmp/whole.vcf" "$tmp/prep.vcf" || fail "prepared panel output differs from the VCF panel's"
run -O v -o "$tmp/w.vcf" "$T/ref_chrx.vcf.gz" "$T/target_chrx_missing.vcf.gz"
for p in "$T/ref_chrx.vcf.gz" "$tmp/chrx.spanel"; do
    : > "$tmp/concat.txt"
    for core in $("$SPIN" chunk -q -m "$MODEL" --size 30k "$T/ref_chrx.vcf.gz" "$T/target_chrx_missing.vcf.gz"); do
        run -r "$core" -O v -o "$tmp/c.vcf" "$p" "$T/target_chrx_missing.vcf.gz" || fail "chunk $core failed"
        grep -v '^#' "$tmp/c.vcf" >> "$tmp/concat.txt"
    done
    grep -v '^#' "$tmp/w.vcf" | cmp -s - "$tmp/concat.txt" || fail "chunk runs ($p) differ from the whole run"
done
# (chunk cores are cut at window boundaries, where region runs equal the whole run; any region
# equals itself from the prepared panel) a region across the PAR boundary, without buffer too
for b in 1000000 0; do
    run -r X:2695000-2710000 --buffer $b -O v -o "$tmp/r.vcf" "$T/ref_chrx.vcf.gz" "$T/target_chrx.vcf.gz"
    run -r X:2695000-2710000 --buffer $b -O v -o "$tmp/rp.vcf" "$tmp/chrx.spanel" "$T/target_chrx.vcf.gz"
    cmp -s "$tmp/r.vcf" "$tmp/rp.vcf" || fail "region run (buffer $b): prepared panel differs"
done
[ "$(grep -vc '^#' "$tmp/r.vcf")" -gt 0 ] || fail "region run wrote nothing"

# ---- Minimac4's test (test/simple-test.sh): the imputed GT matrix equals the panel's ----
run -O v -o "$tmp/m4.vcf" "$T/minimac4_ref_panel_with_haploid_sample.vcf" "$T/minimac4_tar_panel_with_haploid_sample.vcf"
grep -v '^#' "$T/minimac4_ref_panel_with_haploid_sample.vcf" | cut -f10- > "$tmp/m4.ref"
grep -v '^#' "$tmp/m4.vcf" | cut -f10- | sed 's/:[^\t]*//g' > "$tmp/m4.imp"
cmp -s "$tmp/m4.ref" "$tmp/m4.imp" || { diff "$tmp/m4.ref" "$tmp/m4.imp" | head >&2; fail "Minimac4 haploid test: GT differs from the panel"; }

# ---- still refused: polyploid genotypes ----
sed 's/\t0|0\t/\t0|0|0\t/' "$T/minimac4_tar_panel_with_haploid_sample.vcf" > "$tmp/tri.vcf"
set +e; run -O v -o "$tmp/tri.out" "$T/minimac4_ref_panel_with_haploid_sample.vcf" "$tmp/tri.vcf" 2> "$tmp/tri.err"; rc=$?; set -e
[ $rc -eq 1 ] && grep -q 'ploidy 3' "$tmp/tri.err" && [ ! -e "$tmp/tri.out" ] || fail "a triploid genotype was not refused (exit $rc)"
echo "check-haploid: chrX pooled R2 $r2 (males past the PAR $r2m), concordance $conc; Minimac4 haploid test passes"
