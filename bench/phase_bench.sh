#!/bin/sh
# phase_bench.sh -- phasing + imputation from unphased targets (issue 11): spin-impute
# (in-tool phasing), Beagle 5.4 (phases and imputes; impute=false for phase only) and
# SHAPEIT4 (phases; spin-impute imputes its output), on one task built by make_task.sh.
#
#   bench/phase_bench.sh PANEL.vcf.gz MAP DENSITY WORKDIR [NTARGET]
#
# Prints one line per tool: switch error rate at the typed sites (pooled over samples,
# against truth.vcf.gz's phase), imputation pooled R2 / mean per-variant r2 on the
# masked sites, and the phasing wall time each tool logs (spin-impute's "phased ...
# (N iterations, X s)", Beagle's "Haplotype phasing time", SHAPEIT4's "Total running
# time"; indicative only on a shared machine). The tables of doc/phasing.md:
#   D=../shared/data; for d in 1000 5000 10000; do
#     bench/phase_bench.sh $D/1kgp3_eur_chr2_lct/example.vcf.gz \
#       $D/1kgp3_eur_chr2_lct/CEU_recombination_map_hapmap_format_hg19_chr_2.txt $d bench/work/phase/eur_d$d
#     bench/phase_bench.sh $D/sim_ooa3_chr20_1mb/sim.vcf.gz $D/sim_ooa3_chr20_1mb/sim.map $d bench/work/phase/sim_d$d
#   done
# Needs bcftools, tabix, beagle, shapeit4; SPIN = spin-impute binary [./spin-impute].
set -eu
panel=$1 map=$2 dens=$3 w=$4 ntgt=${5:-100}
bench=$(cd "$(dirname "$0")" && pwd)
SPIN=${SPIN:-$bench/../spin-impute}
th=${THREADS:-2}
mkdir -p "$w"
[ -s "$w/task.txt" ] || "$bench/make_task.sh" -n "$ntgt" -d "$dens" -m "$map" "$panel" "$w" >"$w/log.task" 2>&1
# unphased targets: every "|" of the GT columns becomes "/"
if [ ! -s "$w/unphased.vcf.gz" ]; then
    bcftools view --no-version "$w/targets.vcf.gz" |
        awk 'BEGIN{OFS="\t"} /^#/ {print; next} {for (i = 10; i <= NF; i++) gsub(/\|/, "/", $i); print}' |
        bgzip -c >"$w/unphased.vcf.gz"
    tabix -f -p vcf "$w/unphased.vcf.gz"
fi
[ -s "$w/panel.bcf" ] || { bcftools view --no-version -Ob -o "$w/panel.bcf" "$w/panel.vcf.gz" && bcftools index -f "$w/panel.bcf"; }
chrom=$(bcftools query -f '%CHROM\n' "$w/targets.vcf.gz" | head -1)
# SHAPEIT4 map: pos chr cM
[ -s "$w/map.shapeit" ] || awk 'BEGIN{print "pos\tchr\tcM"} {print $4 "\t" $1 "\t" $3}' "$w/map.plink" >"$w/map.shapeit"
sw() { "$SPIN" score --switch -t "$w/truth.vcf.gz" "$1" | awk '$2 == "ALL" {print $5}'; }
r2() {
    "$SPIN" score -q -t "$w/truth.vcf.gz" -s "$w/masked.tsv" -a "$w/panel.vcf.gz" --tsv "$w/score.$2.tsv" "$1" 2>/dev/null
    awk -F'\t' '$1 == "SN" && $2 == "pooled_r2" {p = $3} $1 == "SN" && $2 == "mean_r2" {m = $3} END {printf "%s\t%s", p, m}' "$w/score.$2.tsv"
}
# spin-impute: phase only, and phase + impute
[ -s "$w/spin.phased.vcf.gz" ] || "$SPIN" impute --phase-only -t "$th" --map "$w/map.plink" -o "$w/spin.phased.vcf.gz" \
    "$w/panel.bcf" "$w/unphased.vcf.gz" 2>"$w/log.spin.phase"
[ -s "$w/spin.imputed.vcf.gz" ] || "$SPIN" impute -t "$th" --map "$w/map.plink" -o "$w/spin.imputed.vcf.gz" \
    "$w/panel.bcf" "$w/unphased.vcf.gz" 2>"$w/log.spin.impute"
# the same from the true phase (the ceiling phasing can reach)
[ -s "$w/spin.truephase.vcf.gz" ] || "$SPIN" impute -t "$th" --map "$w/map.plink" -o "$w/spin.truephase.vcf.gz" \
    "$w/panel.bcf" "$w/targets.vcf.gz" 2>"$w/log.spin.truephase"
# Beagle 5.4 on the same unphased targets
[ -s "$w/beagle.phased.vcf.gz" ] || beagle gt="$w/unphased.vcf.gz" ref="$w/panel.vcf.gz" map="$w/map.plink" \
    impute=false out="$w/beagle.phased" nthreads="$th" >"$w/log.beagle.phase" 2>&1
[ -s "$w/beagle.imputed.vcf.gz" ] || beagle gt="$w/unphased.vcf.gz" ref="$w/panel.vcf.gz" map="$w/map.plink" \
    out="$w/beagle.imputed" nthreads="$th" >"$w/log.beagle.impute" 2>&1
# SHAPEIT4, then spin-impute on its output
if [ ! -s "$w/shapeit4.phased.bcf" ]; then
    bcftools index -f "$w/panel.vcf.gz" 2>/dev/null || true
    shapeit4 --input "$w/unphased.vcf.gz" --reference "$w/panel.vcf.gz" --map "$w/map.shapeit" --region "$chrom" \
        --thread "$th" --output "$w/shapeit4.phased.bcf" --log "$w/log.shapeit4" >/dev/null 2>&1
    bcftools index -f "$w/shapeit4.phased.bcf"
fi
[ -s "$w/shapeit4.spin.vcf.gz" ] || "$SPIN" impute -t "$th" --map "$w/map.plink" -o "$w/shapeit4.spin.vcf.gz" \
    "$w/panel.bcf" "$w/shapeit4.phased.bcf" 2>"$w/log.shapeit4.spin"
# phasing wall seconds as each tool logs them
t_spin=$(sed -n 's/.*phased .* iterations, \([0-9.]*\) s).*/\1/p' "$w/log.spin.phase" | tail -1)
t_bgl=$(sed -n 's/^Haplotype phasing time: *\([0-9]*\) second.*/\1/p' "$w/log.beagle.phase" | tail -1)
t_shp=$(sed -n 's/.*Total running time = \([0-9]*\) second.*/\1/p' "$w/log.shapeit4" | tail -1)
printf 'tool\tswitch_error\tpooled_R2\tmean_r2\tphase_s\n'
printf 'spin-impute (in-tool phasing)\t%s\t%s\t%s\n' "$(sw "$w/spin.phased.vcf.gz")" "$(r2 "$w/spin.imputed.vcf.gz" spin)" "$t_spin"
printf 'Beagle 5.4\t%s\t%s\t%s\n' "$(sw "$w/beagle.phased.vcf.gz")" "$(r2 "$w/beagle.imputed.vcf.gz" beagle)" "$t_bgl"
printf 'SHAPEIT4 + spin-impute\t%s\t%s\t%s\n' "$(sw "$w/shapeit4.phased.bcf")" "$(r2 "$w/shapeit4.spin.vcf.gz" shapeit4)" "$t_shp"
printf 'spin-impute, true phase\t0\t%s\t-\n' "$(r2 "$w/spin.truephase.vcf.gz" truephase)"
