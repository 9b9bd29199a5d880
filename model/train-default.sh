#!/bin/sh
# train-default.sh SPIN [OUT] -- reproduces model/default.spin, the model spin-impute uses
# when --model is not given. Same seed and thread count give the same file.
#   stage 1: a fresh model on a simulated three-population panel (make-training-panel.sh)
#   stage 2: fine-tuned on real haplotypes, 1000 Genomes phase 3 chr1:11.70-11.84 Mb
#            (all 2504 samples; ../shared/data/1kgp3_all_chr1_140kb), b37 genetic map
# Never trained on the evaluation panels (1kgp3_eur_chr2_lct, sim_ooa3_chr20_1mb).
set -eu
SPIN=${1:?usage: train-default.sh path/to/spin-impute [OUT]}
here=$(cd "$(dirname "$0")" && pwd)
out=${2:-$here/default.spin}
data=${SPIN_SHARED_DATA:-$here/../../shared/data}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spin-train.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$here/make-training-panel.sh" "$tmp/sim_train.vcf.gz"
"$SPIN" train --seed 1 --threads 2 --steps "${STEPS1:-2500}" --val-every 400 --log-every 100 \
    --context "${CONTEXT:-96}" --neighbours "${NEIGHBOURS:-48}" --batch-q 64 \
    -o "$tmp/stage1.spin" "$tmp/sim_train.vcf.gz"
if [ "${STEPS2:-600}" -gt 0 ]; then
    "$SPIN" train --seed 2 --threads 2 --steps "${STEPS2:-600}" --val-every 200 --log-every 100 --batch-q 64 \
        --lr 3e-4 --init "$tmp/stage1.spin" --map "$data/genetic_maps_b37/chr1.b37.gmap.gz" \
        -o "$out" "$data/1kgp3_all_chr1_140kb/example.vcf.gz"
else
    cp "$tmp/stage1.spin" "$out"
fi
"$SPIN" model-info "$out"
