#!/bin/sh
# check-bench-task.sh -- bench/make_task.sh on test-data/ref.vcf.gz, and `spin-impute score`
# on the truth against itself (r2 = 1) and against a perturbed copy with known values.
# Environment (set by make check): top_srcdir, SPIN (the spin-impute binary).
set -eu
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
SPIN=${SPIN:-./spin-impute}
for c in bcftools bgzip; do
    command -v $c >/dev/null || { echo "SKIP: $c not installed"; exit 77; }
done
bcftools plugin -l 2>/dev/null | grep -q '^fill-tags' || { echo "SKIP: bcftools fill-tags plugin missing"; exit 77; }
[ -x "$SPIN" ] || { echo "FAIL: no spin-impute binary at $SPIN"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-bench-task.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
eq() { [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"; }
sn() { awk -F'\t' -v k="$2" '$1 == "SN" && $2 == k { print $3 }' "$1"; }

t=$tmp/task
"$top_srcdir/bench/make_task.sh" -s 5 -n 20 -d 10000 -f 0.1 -m "$top_srcdir/test-data/map.txt" \
    "$top_srcdir/test-data/ref.vcf.gz" "$t" 2>"$tmp/log" || { cat "$tmp/log"; fail "make_task.sh"; }

# samples: 100 in the input -> 80 panel + 20 targets, disjoint, truth = targets
eq "$(bcftools query -l "$t/panel.vcf.gz" | wc -l)" 80 "panel samples"
eq "$(bcftools query -l "$t/targets.vcf.gz" | wc -l)" 20 "target samples"
eq "$(bcftools query -l "$t/truth.vcf.gz" | tr '\n' ,)" "$(bcftools query -l "$t/targets.vcf.gz" | tr '\n' ,)" "truth samples"
eq "$(cat "$t/panel.samples" "$t/targets.samples" | sort | uniq -d | wc -l)" 0 "samples in both panel and targets"
# the same seed gives the same split; another seed another one
"$top_srcdir/bench/make_task.sh" -s 5 -n 20 -d 10000 -f 0.1 "$top_srcdir/test-data/ref.vcf.gz" "$tmp/t2" 2>/dev/null
cmp -s "$t/targets.samples" "$tmp/t2/targets.samples" || fail "same seed, different split"
cmp -s "$t/typed.tsv" "$tmp/t2/typed.tsv" || fail "same seed, different typed set"
"$top_srcdir/bench/make_task.sh" -s 6 -n 20 -d 10000 -f 0.1 "$top_srcdir/test-data/ref.vcf.gz" "$tmp/t3" 2>/dev/null
cmp -s "$t/targets.samples" "$tmp/t3/targets.samples" && fail "seeds 5 and 6 give the same split"

# sites: truth = panel sites = typed + masked; targets = typed
np=$(bcftools view -H "$t/panel.vcf.gz" | wc -l)
eq "$(bcftools view -H "$t/truth.vcf.gz" | wc -l)" "$np" "truth sites"
nt=$(wc -l <"$t/typed.tsv")
eq "$(bcftools view -H "$t/targets.vcf.gz" | wc -l)" "$nt" "target sites"
eq $((nt + $(wc -l <"$t/masked.tsv"))) "$np" "typed + masked"
# typed density: at most one per 10 kb bin, MAF >= 0.1 in the panel, and (the data are dense)
# a typed site in at least 90% of the bins between the first and last site
bcftools query -f '%POS\t%AC\t%AN\n' -T "$t/typed.tsv" "$t/panel.vcf.gz" >"$tmp/typed.af"
awk '{ b = int(($1 - 1) / 10000); if (b in seen) { print "bin " b " twice"; exit 1 } seen[b] = 1
       af = $2 / $3; maf = af > 0.5 ? 1 - af : af; if (maf < 0.1) { print "MAF " maf " at " $1; exit 1 } }' \
    "$tmp/typed.af" || fail "typed set"
first=$(sed -n 's/^first_pos=//p' "$t/task.txt")
last=$(sed -n 's/^last_pos=//p' "$t/task.txt")
bins=$(((last - 1) / 10000 - (first - 1) / 10000 + 1))
[ $((nt * 10)) -ge $((bins * 9)) ] || fail "only $nt typed sites for $bins bins"
[ "$(wc -l <"$t/map.plink")" -gt 10 ] || fail "map.plink"
eq "$(cut -f1 "$t/map.plink" | sort -u)" 20 "map chromosome"

# score: the truth against itself is perfect
"$SPIN" score -q -t "$t/truth.vcf.gz" -s "$t/masked.tsv" -a "$t/panel.vcf.gz" --tsv "$tmp/self.tsv" "$t/truth.vcf.gz"
eq "$(sn "$tmp/self.tsv" pooled_r2)" 1.0000 "self pooled r2"
eq "$(sn "$tmp/self.tsv" mean_r2)" 1.0000 "self mean r2"
eq "$(sn "$tmp/self.tsv" concordance)" 1.0000 "self concordance"
eq "$(sn "$tmp/self.tsv" sites_scored)" "$(wc -l <"$t/masked.tsv")" "self sites scored"
eq "$(sn "$tmp/self.tsv" sites_missing_from_imputed)" 0 "self missing"
eq "$(sn "$tmp/self.tsv" genotypes_scored)" $((20 * $(wc -l <"$t/masked.tsv"))) "self genotypes"

# perturbed copy: drop the first polymorphic masked site (p1), set the second (p2) to 0|0
# everywhere. p2 then has r2 0 (constant prediction), so mean r2 = (P-1)/P over the P
# polymorphic sites left, and concordance loses the k non-hom-REF genotypes of p2.
cut -f1,2 "$t/masked.tsv" >"$tmp/masked.pos"
set -- $(bcftools view -H -c 1:minor -T "$tmp/masked.pos" "$t/truth.vcf.gz" | head -n 2 | cut -f2)
p1=$1 p2=$2
k=$(bcftools query -r "20:$p2" -f '[%GT\n]' "$t/truth.vcf.gz" | grep -vc '^0|0$')
bcftools view "$t/truth.vcf.gz" | awk -F'\t' -v OFS='\t' -v p1="$p1" -v p2="$p2" '
    /^#/ { print; next } $2 == p1 { next }
    $2 == p2 { for (i = 10; i <= NF; i++) $i = "0|0" } { print }' | bgzip -c >"$tmp/pert.vcf.gz"
"$SPIN" score -q -t "$t/truth.vcf.gz" -s "$t/masked.tsv" --tsv "$tmp/pert.tsv" "$tmp/pert.vcf.gz"
P=$(sn "$tmp/pert.tsv" sites_polymorphic)
eq "$P" $(($(sn "$tmp/self.tsv" sites_polymorphic) - 1)) "perturbed polymorphic sites"
eq "$(sn "$tmp/pert.tsv" sites_missing_from_imputed)" 1 "perturbed missing sites"
eq "$(sn "$tmp/pert.tsv" mean_r2)" "$(awk -v p="$P" 'BEGIN { printf "%.4f", (p - 1) / p }')" "perturbed mean r2"
N=$(sn "$tmp/pert.tsv" genotypes_scored)
eq "$N" $((20 * ($(wc -l <"$t/masked.tsv") - 1))) "perturbed genotypes"
eq "$(sn "$tmp/pert.tsv" concordance)" "$(awk -v n="$N" -v k="$k" 'BEGIN { printf "%.4f", (n - k) / n }')" "perturbed concordance"
# -A keeps every record type (test-data/ref_records.vcf.gz); the typed set stays biallelic SNPs
R=$top_srcdir/test-data/ref_records.vcf.gz
"$top_srcdir/bench/make_task.sh" -A -s 5 -n 20 -d 10000 -f 0.1 "$R" "$tmp/tA" 2>/dev/null || fail "make_task.sh -A"
"$top_srcdir/bench/make_task.sh" -s 5 -n 20 -d 10000 -f 0.1 "$R" "$tmp/tS" 2>/dev/null || fail "make_task.sh on ref_records"
nm=$(bcftools view -H -i 'N_ALT>1' "$tmp/tA/panel.vcf.gz" | wc -l)
ni=$(bcftools view -H -v indels "$tmp/tA/panel.vcf.gz" | wc -l)
[ "$nm" -gt 0 ] && [ "$ni" -gt 0 ] || fail "-A: $nm multi-allelic and $ni indel records in the panel"
[ "$(bcftools view -H -e 'TYPE="snp" && N_ALT=1' "$tmp/tS/panel.vcf.gz" | wc -l)" -eq 0 ] || fail "without -A non-SNPs are kept"
awk -F'\t' '$3 !~ /^[ACGT]$/ || $4 !~ /^[ACGT]$/ { bad = 1 } END { exit bad }' "$tmp/tA/typed.tsv" \
    || fail "-A: the typed set holds non-SNP records"
echo "PASS: make_task.sh ($nt typed of $np sites) and score (P=$P, k=$k); -A keeps $nm multi-allelic, $ni indel records"
