#!/bin/sh
# make-training-panel.sh OUT.vcf.gz -- the simulated panel the default model is trained on.
# Three-population Out-of-Africa model (Gutenkunst et al. 2009, as stdpopsim OutOfAfrica_3G09;
# N0 = 7300, 25 y/generation, mu = 2.35e-8, r = 1e-8), 2 Mb, 600 YRI-like + 700 CEU-like +
# 700 CHB-like haplotypes, seed 97531. This is a fresh realisation with its own seed and
# length; the evaluation panel ../shared/data/sim_ooa3_chr20_1mb is never used for training.
set -eu
out=${1:?usage: make-training-panel.sh OUT.vcf.gz}
here=$(cd "$(dirname "$0")" && pwd)
L=2000000
# theta = 4 N0 mu L, rho = 4 N0 r L
theta=$(awk -v L=$L 'BEGIN{printf "%.4f", 4*7300*2.35e-8*L}')
rho=$(awk -v L=$L 'BEGIN{printf "%.4f", 4*7300*1e-8*L}')
scrm 2000 1 -t "$theta" -r "$rho" $L -I 3 600 700 700 -n 1 1.684932 -n 2 4.071965 -n 3 7.409634 \
  -g 2 116.800000 -g 3 160.600000 -m 1 2 0.876000 -m 2 1 0.876000 -m 1 3 0.554800 -m 3 1 0.554800 \
  -m 2 3 2.803200 -m 3 2 2.803200 -ej 0.02904110 3 2 -en 0.02904110 2 0.287671 -eg 0.02904110 2 0 \
  -eg 0.02904110 3 0 -em 0.02904110 1 2 7.300000 -em 0.02904110 2 1 7.300000 -em 0.02904110 1 3 0 \
  -em 0.02904110 3 1 0 -em 0.02904110 2 3 0 -em 0.02904110 3 2 0 -ej 0.19178082 2 1 \
  -em 0.19178082 1 2 0 -em 0.19178082 2 1 0 -en 0.30136986 1 1.0 -p 12 -seed 97531 -l 200000 \
  -transpose-segsites \
  | python3 "$here/../bench/scrm2vcf.py" 7 $L 97531 TRN | bgzip > "$out"
tabix -f -p vcf "$out"
