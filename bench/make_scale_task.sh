#!/bin/sh
# make_scale_task.sh -- a cohort-scale imputation task from a cached scrm Out-of-Africa simulation.
#
#   bench/make_scale_task.sh [options] OUTDIR
#
#   -n N        target samples                                           [500]
#   -p H        panel haplotypes (even)                                  [9000]
#   -H H        haplotypes to simulate (>= panel + 2 x targets); tasks made with the same
#               -H, -L, -s and -S share one simulation and nest: the panel is the first
#               H/2 samples of a seeded order, the targets its last N samples   [panel + 2N]
#   -L BP       region length (chromosome 20, 1..BP)                     [5000000]
#   -s SEED     scrm seed                                                [20261201]
#   -S SEED     seed of the sample order and of the typed draw           [1501]
#   -d BP       typed density: one SNP per BP bases                      [5000]
#   -f MAF      minimum panel MAF of a typed SNP                         [0.05]
#   -y FILE     typed set to reuse (make_task.sh -y), e.g. a larger nested panel's typed.tsv
#   -c DIR      simulation cache directory                               [OUTDIR/..]
#   -b          also write the panel as BCF (panel.bcf)
#   -j N        bcftools compression threads                             [2]
#   -q          print the scrm command line and the cached file name, simulate nothing
#
# Model: the three-population Out-of-Africa model of ../shared/data/sim_ooa3_chr20_1mb
# (Gutenkunst et al. 2009, N0 = 7300, mu 2.35e-8, r 1e-8 per bp, scrm -l 200000), with
# theta and rho scaled to BP and 30% YRI-like, 35% CEU-like, 35% CHB-like haplotypes.
# The simulation (scrm | bench/scrm2vcf.py | BCF) is cached as
# DIR/ooa3_h<H>_l<BP>_s<SEED>.bcf and reused. scrm's cost grows with H^2 on this model
# (about 10 s at 8,000, 40 s at 16,000, 160 s at 32,000 haplotypes before any sequence):
# simulate large panels over short regions.
# OUTDIR gets what bench/make_task.sh writes (seed -S, uniform map 1 cM/Mb).
set -eu

bench=$(cd "$(dirname "$0")" && pwd)
ntgt=500 npan=9000 nsim= len=5000000 sseed=20261201 seed=1501 dens=5000 minmaf=0.05 yfile= cache= bcf= nthr=2 dry=0
usage() { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit "$1"; }
while getopts n:p:H:L:s:S:d:f:y:c:bj:qh o; do
    case $o in
    n) ntgt=$OPTARG ;; p) npan=$OPTARG ;; H) nsim=$OPTARG ;; L) len=$OPTARG ;; s) sseed=$OPTARG ;;
    S) seed=$OPTARG ;; d) dens=$OPTARG ;; f) minmaf=$OPTARG ;; y) yfile=$OPTARG ;; c) cache=$OPTARG ;;
    b) bcf=-b ;; j) nthr=$OPTARG ;; q) dry=1 ;; h) usage 0 ;; *) usage 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage 2
out=$1
nsim=${nsim:-$((npan + 2 * ntgt))}
for v in "$ntgt" "$npan" "$nsim" "$len" "$sseed" "$seed"; do
    case $v in '' | *[!0-9]*) echo "make_scale_task.sh: '$v' is not a positive integer" >&2; exit 2 ;; esac
done
[ $((npan % 2)) -eq 0 ] && [ $((nsim % 2)) -eq 0 ] || { echo "make_scale_task.sh: -p and -H must be even" >&2; exit 2; }
[ "$ntgt" -gt 0 ] && [ "$npan" -gt 0 ] || { echo "make_scale_task.sh: -n and -p must be positive" >&2; exit 2; }
[ $((npan + 2 * ntgt)) -le "$nsim" ] \
    || { echo "make_scale_task.sh: $npan panel + 2 x $ntgt target haplotypes do not fit in -H $nsim" >&2; exit 2; }
[ "$len" -ge 1000 ] || { echo "make_scale_task.sh: -L $len is too short" >&2; exit 2; }

# population sizes (even, so no diploid sample straddles two populations) and scaled rates
yri=$((2 * ((nsim * 15 + 50) / 100))) ceu=$((2 * ((nsim * 35 + 100) / 200)))
chb=$((nsim - yri - ceu))
theta=$(awk -v l="$len" 'BEGIN { printf "%.4f", 4 * 7300 * 2.35e-8 * l }')
rho=$(awk -v l="$len" 'BEGIN { printf "%.4f", 4 * 7300 * 1e-8 * l }')
scrm_cmd="scrm $nsim 1 -t $theta -r $rho $len -I 3 $yri $ceu $chb -n 1 1.684932 -n 2 4.071965 -n 3 7.409634 \
-g 2 116.800000 -g 3 160.600000 -m 1 2 0.876000 -m 2 1 0.876000 -m 1 3 0.554800 -m 3 1 0.554800 \
-m 2 3 2.803200 -m 3 2 2.803200 -ej 0.02904110 3 2 -en 0.02904110 2 0.287671 -eg 0.02904110 2 0 \
-eg 0.02904110 3 0 -em 0.02904110 1 2 7.300000 -em 0.02904110 2 1 7.300000 -em 0.02904110 1 3 0 \
-em 0.02904110 3 1 0 -em 0.02904110 2 3 0 -em 0.02904110 3 2 0 -ej 0.19178082 2 1 -em 0.19178082 1 2 0 \
-em 0.19178082 2 1 0 -en 0.30136986 1 1.0 -SC abs -p 12 -seed $sseed -l 200000 -transpose-segsites"
cache=${cache:-$(dirname "$out")}
sim=$cache/ooa3_h${nsim}_l${len}_s${sseed}.bcf
if [ $dry = 1 ]; then
    printf 'scrm_cmd=%s\nsim=%s\npopulations=%d %d %d\n' "$scrm_cmd" "$sim" "$yri" "$ceu" "$chb"
    exit 0
fi
for c in scrm bcftools python3; do
    command -v $c >/dev/null || { echo "make_scale_task.sh: $c not found" >&2; exit 1; }
done
mkdir -p "$cache" "$out"
if [ ! -s "$sim" ]; then
    echo "make_scale_task.sh: simulating $nsim haplotypes over $len bp (cached as $sim)" >&2
    # shellcheck disable=SC2086
    $scrm_cmd | python3 "$bench/scrm2vcf.py" --abs 20 "$len" "$sseed" SIM \
        | bcftools view --threads "$nthr" -Ob -o "$sim.tmp"
    bcftools index -f "$sim.tmp"
    mv "$sim.tmp.csi" "$sim.csi"
    mv "$sim.tmp" "$sim"
    echo "$scrm_cmd" >"$sim.cmd"
fi
awk -v l="$len" 'BEGIN { for (p = 0; p < l + 100000; p += 100000) printf "20\t.\t%.6f\t%d\n", p * 1e-6, p + 1 }' \
    >"$cache/uniform_l$len.map"

# seeded sample order: panel = its first npan/2 samples, targets = its last ntgt samples
tmp=$(mktemp -d "${TMPDIR:-/tmp}/make_scale_task.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
bcftools query -l "$sim" | awk -v seed="$seed" 'BEGIN { srand(seed) } { printf "%.17f\t%d\t%s\n", rand(), NR, $0 }' \
    | sort -k1,1g -k2,2n | cut -f3 >"$tmp/order"
[ "$(wc -l <"$tmp/order")" -eq $((nsim / 2)) ] || { echo "make_scale_task.sh: $sim does not hold $nsim haplotypes" >&2; exit 1; }
head -n $((npan / 2)) "$tmp/order" >"$tmp/panel"
tail -n "$ntgt" "$tmp/order" >"$tmp/targets"
sort "$tmp/panel" "$tmp/targets" >"$tmp/keep" # file order (names are zero-padded)
bcftools view --threads "$nthr" -S "$tmp/keep" -Ob -o "$tmp/sub.bcf" "$sim"
if [ -n "$yfile" ]; then set -- -y "$yfile"; else set --; fi
"$bench/make_task.sh" "$@" $bcf -j "$nthr" -s "$seed" -T "$tmp/targets" -d "$dens" -f "$minmaf" \
    -m "$cache/uniform_l$len.map" "$tmp/sub.bcf" "$out"
sed -i -e "s|^source=.*|source=$sim|" -e "s|^targets_from=.*|targets_from=last $ntgt of the seed-$seed sample order|" \
    -e "s|^panel_from=.*||" "$out/task.txt"
cat >>"$out/task.txt" <<EOF
panel_from=first $((npan / 2)) of the seed-$seed sample order
sim_haplotypes=$nsim
sim_length_bp=$len
sim_seed=$sseed
scrm_cmd=$scrm_cmd
EOF
