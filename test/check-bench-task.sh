#!/bin/sh
# check-bench-task.sh -- bench/make_task.sh on test-data/ref.vcf.gz, and `spin-impute score`
# on the truth against itself (r2 = 1) and against a perturbed copy with known values; then
# make_task.sh's given targets/typed set/BCF options, bench/stages.awk on a real spin-impute
# log, bench/report.sh's density summary, cohort table and stage table on made-up timings
# (no Beagle or Minimac4 needed), and, with scrm installed, bench/make_scale_task.sh on a tiny
# simulation (nesting, cache, bad sizes) and scrm2vcf.py --abs.
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
echo "ok: make_task.sh ($nt typed of $np sites) and score (P=$P, k=$k)"
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
echo "ok: make_task.sh -A keeps $nm multi-allelic, $ni indel records"

# make_task.sh -T (given targets), -y (given typed set), -b (BCF panel)
bcftools query -l "$top_srcdir/test-data/ref.vcf.gz" | sed -n '2p;40p;41p;99p' >"$tmp/tl"
head -n 7 "$t/typed.tsv" >"$tmp/ty"
printf '20\t1\tA\tC\n' >>"$tmp/ty" # not a panel site: must be left out
"$top_srcdir/bench/make_task.sh" -T "$tmp/tl" -y "$tmp/ty" -b -j 2 -s 5 "$top_srcdir/test-data/ref.vcf.gz" "$tmp/t4" \
    2>"$tmp/log" || { cat "$tmp/log"; fail "make_task.sh -T -y -b"; }
eq "$(sort "$tmp/t4/targets.samples" | tr '\n' ,)" "$(sort "$tmp/tl" | tr '\n' ,)" "-T targets"
eq "$(bcftools query -l "$tmp/t4/targets.vcf.gz" | wc -l)" 4 "-T target samples in targets.vcf.gz"
eq "$(bcftools query -l "$tmp/t4/panel.vcf.gz" | wc -l)" 96 "-T panel samples"
eq "$(cat "$tmp/t4/typed.tsv")" "$(head -n 7 "$t/typed.tsv")" "-y typed set"
eq "$(bcftools view -H "$tmp/t4/targets.vcf.gz" | wc -l)" 7 "-y target sites"
[ -s "$tmp/t4/panel.bcf.csi" ] || fail "-b: no index of panel.bcf"
eq "$(bcftools view -H "$tmp/t4/panel.bcf" | md5sum)" "$(bcftools view -H "$tmp/t4/panel.vcf.gz" | md5sum)" "-b: BCF = VCF.gz"
eq "$(sed -n 's/^typed_from=//p' "$tmp/t4/task.txt")" "$tmp/ty" "task.txt typed_from"
sed -n '1p' "$tmp/tl" >"$tmp/tl.bad"
echo NOT_A_SAMPLE >>"$tmp/tl.bad"
if "$top_srcdir/bench/make_task.sh" -T "$tmp/tl.bad" "$top_srcdir/test-data/ref.vcf.gz" "$tmp/t5" 2>"$tmp/log"; then
    fail "make_task.sh -T with an unknown sample succeeded"
fi
grep -q 'not in' "$tmp/log" || fail "make_task.sh -T unknown sample: no message"
[ -f "$tmp/t4/panel.bcf" ] && [ ! -f "$t/panel.bcf" ] || fail "panel.bcf written without -b"
echo "ok: make_task.sh -T -y -b"

# stages.awk on a real log: the engine rates become totals (x windows, x target haplotypes x windows)
"$SPIN" "$top_srcdir/test-data/ref.bcf" "$top_srcdir/test-data/target.vcf.gz" -o "$tmp/imp.vcf.gz" 2>"$tmp/log.spin" \
    || { cat "$tmp/log.spin"; fail "spin-impute on test-data"; }
st() { awk -F'\t' -v k="$2" '$1 ~ k { print $3; exit }' "$1"; }
# haps: a large made-up count, so that the per-haplotype factor shows above the rounding
awk -v haps=4000 -f "$top_srcdir/bench/stages.awk" "$tmp/log.spin" >"$tmp/stages"
if grep -q 'engine: panel encoding' "$tmp/log.spin"; then
    win=$(sed -n 's/.*(\([0-9]*\) windows).*/\1/p' "$tmp/log.spin" | head -n1)
    enc=$(sed -n 's/.*panel encoding \([0-9.]*\) ms\/window.*/\1/p' "$tmp/log.spin")
    nbr=$(sed -n 's/.*neighbour search \([0-9.]*\) us .*/\1/p' "$tmp/log.spin")
    # totals printed with 2 decimals: equal up to the rounding of the last one
    near() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; exit !(a != "" && d <= 0.0101 && d >= -0.0101) }' || fail "$3: got '$1', expected about $2"; }
    near "$(st "$tmp/stages" 'panel encoding')" "$(awk -v e="$enc" -v w="$win" 'BEGIN { print e * w / 1e3 }')" "stages: encoding total"
    near "$(st "$tmp/stages" 'neighbour search')" "$(awk -v e="$nbr" -v w="$win" 'BEGIN { print e * 4000 * w / 1e6 }')" "stages: search total"
    grep -q '^spin_engine_log_costs: prediction	' "$tmp/stages" || fail "stages: no prediction row"
    grep -q '^CPU outside the engine' "$tmp/stages" || fail "stages: no CPU outside the engine"
fi
wall=$(sed -n 's/.* \([0-9.]*\) s wall.*/\1/p' "$tmp/log.spin")
[ -n "$wall" ] || fail "no wall time in spin-impute's log"
eq "$(st "$tmp/stages" ': wall$')" "$wall" "stages: wall"
grep -q 'peak RSS	[0-9.]* MB	-$' "$tmp/stages" || fail "stages: peak RSS row"
# stage lines that a later spin-impute may log appear as they are; lines without a time do not
{ grep -v 'engine:' "$tmp/log.spin"; printf '[M::read_panel] panel read 200 haplotypes in 1.25 s\n'
  printf '[M::write_out] output formatting 250 ms and compression 0.50 s\n[M::main] 3 windows, nothing timed\n'; } >"$tmp/log2"
awk -v haps=40 -f "$top_srcdir/bench/stages.awk" "$tmp/log2" >"$tmp/stages2"
eq "$(st "$tmp/stages2" '^read_panel: panel read 200 haplotypes in$')" 1.25 "stages: a new read stage"
eq "$(st "$tmp/stages2" '^write_out: output formatting$')" 0.25 "stages: ms"
eq "$(st "$tmp/stages2" '^write_out: compression$')" 0.50 "stages: clause after and"
grep -q '^main: ' "$tmp/stages2" && fail "stages: a line without a time gave a row"
grep -q '^CPU outside' "$tmp/stages2" && fail "stages: CPU outside the engine without an engine line"
echo "ok: stages.awk"

# report.sh on made-up timings: task "cohort" and a density task, both the test task; the truth
# scores as beagle and minimac4, the perturbed copy as spin
rw=$tmp/rw
mkdir -p "$rw"
cp "$tmp/self.tsv" "$t/score.beagle.tsv"
cp "$tmp/self.tsv" "$t/score.minimac4.tsv"
cp "$tmp/pert.tsv" "$t/score.spin.tsv"
cp "$tmp/log.spin" "$t/log.spin"
printf 'cohort\t%s\neur_lct_d10k\t%s\n' "$t" "$t" >"$rw/taskdirs.tsv"
printf 'cohort|test cohort\neur_lct_d10k|test density\n' >"$rw/tasks.run"
: >"$rw/scored.txt" ; : >"$rw/times.tsv"
for task in cohort eur_lct_d10k; do
    printf 'spin %s\nbeagle %s\nminimac4 %s\n' "$task" "$task" "$task" >>"$rw/scored.txt"
    printf 'spin\t%s\timpute\t1\t0.01\t0.02\t204800\tok\n' "$task" >>"$rw/times.tsv"
    printf 'beagle\t%s\timpute\t1\t0.04\t0.08\t1048576\tok\n' "$task" >>"$rw/times.tsv"
    printf 'minimac4\t%s\timpute\t1\t0.02\t0.02\t102400\tok\nminimac4\t%s\tprep\t1\t3.00\t3.00\t102400\tok\n' \
        "$task" "$task" >>"$rw/times.tsv"
done
SPIN=$SPIN "$top_srcdir/bench/report.sh" "$rw" "$rw/R.md" "$rw/plots" 2 1 1 0 "scrm x" "" 2>"$tmp/log" \
    || { cat "$tmp/log"; fail "report.sh"; }
nm=$(wc -l <"$t/masked.tsv")
row=$(grep '^| cohort | spin | [0-9]* | 20 |' "$rw/R.md") || fail "report.sh: no cohort row for spin"
# | task | tool | haps | targets | imputed | wall | CPU | RSS | prep | Mgt/s | xBeagle | xMinimac4 | RSS xBeagle | s/target |
eq "$(echo "$row" | awk -F' [|] ' '{ print $4 "/" $5 }')" "20/$nm" "cohort row: targets/imputed sites"
eq "$(echo "$row" | awk -F' [|] ' '{ print $10 }')" "$(awk -v m="$nm" 'BEGIN { printf "%.2f", 20 * m / 0.01 / 1e6 }')" "cohort row: M genotypes/s"
eq "$(echo "$row" | awk -F' [|] ' '{ print $11 "/" $12 "/" $13 }')" "0.25/0.50/0.20" "cohort row: ratios to Beagle, Minimac4"
row=$(grep '^| eur_lct_d10k | 10 kb | 0.1 | [0-9]* | spin |' "$rw/R.md") || fail "report.sh: no density summary row for spin"
eq "$(echo "$row" | awk -F' [|] ' '{ print $7 }')" \
    "$(awk -v m="$(sn "$tmp/pert.tsv" mean_r2)" 'BEGIN { printf "%+.4f", m - 1 }')" "density summary: mean r2 - Beagle"
grep -q '^| cohort | spin | spin_engine_log_costs: prediction |' "$rw/R.md" \
    || ! grep -q 'engine:' "$tmp/log.spin" || fail "report.sh: no stage table row"
grep -q '^| cohort | spin | [a-z_]*: wall |' "$rw/R.md" || fail "report.sh: no wall stage row"
grep -q '^| cohort_t' "$rw/R.md" && fail "report.sh: rows of a task that did not run"
echo "ok: report.sh tables"

# make_scale_task.sh: sizes, nesting, cache (needs scrm)
if command -v scrm >/dev/null && command -v python3 >/dev/null; then
    ms=$top_srcdir/bench/make_scale_task.sh
    q=$("$ms" -q -n 500 -p 9000 "$tmp/sc/x")
    echo "$q" | grep -q '^populations=3000 3500 3500$' || fail "make_scale_task.sh -q: populations: $q"
    echo "$q" | grep -q '^scrm_cmd=scrm 10000 1 -t 3431.0000 -r 1460.0000 5000000 -I 3 3000 3500 3500 ' || fail "make_scale_task.sh -q: $q"
    if "$ms" -n 30 -p 100 -H 140 "$tmp/sc/bad" 2>/dev/null; then fail "make_scale_task.sh: 100 + 2 x 30 > 140 accepted"; fi
    "$ms" -n 10 -p 100 -H 140 -L 60000 -b -c "$tmp/sc" "$tmp/sc/t10" 2>"$tmp/log" || { cat "$tmp/log"; fail "make_scale_task.sh"; }
    sim=$tmp/sc/ooa3_h140_l60000_s20261201.bcf
    [ -s "$sim" ] || fail "make_scale_task.sh: no cached simulation"
    eq "$(bcftools query -l "$sim" | wc -l)" 70 "simulated samples"
    touch -d '2001-01-01' "$sim"
    "$ms" -n 20 -p 100 -H 140 -L 60000 -c "$tmp/sc" "$tmp/sc/t20" 2>"$tmp/log" || { cat "$tmp/log"; fail "make_scale_task.sh t20"; }
    [ "$(find "$sim" -newermt '2002-01-01' | wc -l)" -eq 0 ] || fail "make_scale_task.sh: the cached simulation was redone"
    "$ms" -n 20 -p 60 -H 140 -L 60000 -y "$tmp/sc/t20/typed.tsv" -c "$tmp/sc" "$tmp/sc/p60" 2>"$tmp/log" \
        || { cat "$tmp/log"; fail "make_scale_task.sh p60"; }
    eq "$(wc -l <"$tmp/sc/t10/panel.samples")/$(wc -l <"$tmp/sc/t10/targets.samples")" 50/10 "t10 sizes"
    eq "$(wc -l <"$tmp/sc/p60/panel.samples")/$(wc -l <"$tmp/sc/p60/targets.samples")" 30/20 "p60 sizes"
    # the same panel for 10 and 20 targets, and the 10 targets among the 20
    cmp -s "$tmp/sc/t10/panel.samples" "$tmp/sc/t20/panel.samples" || fail "targets series: the panel changed"
    eq "$(sort "$tmp/sc/t10/targets.samples" "$tmp/sc/t20/targets.samples" | uniq -d | wc -l)" 10 "targets series: nested targets"
    cmp -s "$tmp/sc/t10/typed.tsv" "$tmp/sc/t20/typed.tsv" || fail "targets series: the typed set changed"
    # the same targets for panels of 60 and 100 haplotypes, the 60-haplotype panel inside the other
    cmp -s "$tmp/sc/p60/targets.samples" "$tmp/sc/t20/targets.samples" || fail "panel series: the targets changed"
    eq "$(sort "$tmp/sc/p60/panel.samples" "$tmp/sc/t20/panel.samples" | uniq -d | wc -l)" 30 "panel series: nested panels"
    eq "$(sort "$tmp/sc/t20/panel.samples" "$tmp/sc/t20/targets.samples" | uniq -d | wc -l)" 0 "panel and targets disjoint"
    awk -F'\t' 'NR == FNR { t[$2] = 1; next } !($2 in t) { bad = 1 } END { exit bad }' "$tmp/sc/t20/typed.tsv" "$tmp/sc/p60/typed.tsv" \
        || fail "panel series: typed sites outside the given set"
    [ -s "$tmp/sc/t10/panel.bcf" ] && [ ! -f "$tmp/sc/t20/panel.bcf" ] || fail "make_scale_task.sh -b"
    grep -q '^sim_haplotypes=140$' "$tmp/sc/t10/task.txt" || fail "task.txt sim_haplotypes"
    # scrm2vcf.py --abs (scrm -SC abs) and relative positions give the same VCF
    scrm 6 1 -t 20 -r 10 100000 -seed 7 -transpose-segsites | python3 "$top_srcdir/bench/scrm2vcf.py" 20 100000 1 S >"$tmp/rel.vcf"
    scrm 6 1 -t 20 -r 10 100000 -seed 7 -SC abs -transpose-segsites | python3 "$top_srcdir/bench/scrm2vcf.py" --abs 20 100000 1 S >"$tmp/abs.vcf"
    [ "$(grep -vc '^#' "$tmp/abs.vcf")" -gt 5 ] || fail "scrm2vcf.py --abs: too few sites"
    cmp -s "$tmp/rel.vcf" "$tmp/abs.vcf" || fail "scrm2vcf.py --abs differs from relative positions"
    echo "ok: make_scale_task.sh, scrm2vcf.py --abs"
else
    echo "note: scrm or python3 missing: make_scale_task.sh not tested"
fi
echo "PASS: make_task.sh, score, stages.awk, report.sh, make_scale_task.sh"
