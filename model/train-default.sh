#!/bin/sh
# train-default.sh SPIN [OUT] -- reproduces model/default.spin, the model spin-impute uses
# when --model is not given. Same seed and thread count give the same weights
# (model-info's weights_crc32; the file also records the measured wall time).
#   stage 1: a fresh model on a simulated three-population panel (make-training-panel.sh),
#            with windows of w = 128 untyped sites (the v1 engine: fast steps)
#   stage 2: the same panel with segments (doc/engine-v2.md): 128 typed intervals per
#            window, c = 320 typed context sites a side, copy states by the PBWT
#            (24 matches per direction per gap, at most 128 per target), 64 encoded rows
#   stage 3: fine-tuned on real haplotypes, 1000 Genomes phase 3 chr1:11.70-11.84 Mb
#            (all 2504 samples; ../shared/data/1kgp3_all_chr1_140kb), b37 genetic map
#   stage 4: the same data with the settings the model runs with: segments of 256 typed
#            intervals and c = 480 typed context sites a side (longer context in sites
#            helps dense arrays; bench/ablations.md)
# Never trained on the evaluation panels (1kgp3_eur_chr2_lct, sim_ooa3_chr20_1mb).
# Runs in model/ with paths relative to it, so the provenance stored in the model
# (model-info's train_command, train_data) names no directory of the training machine.
set -eu
SPIN=${1:?usage: train-default.sh path/to/spin-impute [OUT]}
case $SPIN in */*) SPIN=$(cd "$(dirname "$SPIN")" && pwd)/$(basename "$SPIN") ;; esac
out=${2:-default.spin}
case $out in /*) ;; *) [ -n "${2:-}" ] && out=$PWD/$out ;; esac
cd "$(dirname "$0")"
data=${SPIN_SHARED_DATA:-../../shared/data}
stage1=stage1.tmp.spin # relative, fixed names: they appear in the next stage's --init
stage2=stage2.tmp.spin
stage3=stage3.tmp.spin
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spin-train.XXXXXX")
trap 'rm -rf "$tmp"; rm -f "$stage1" "$stage2" "$stage3"' EXIT
./make-training-panel.sh "$tmp/sim_train.vcf.gz"
"$SPIN" train --seed 1 --threads 2 --steps "${STEPS1:-2500}" --val-every 400 --log-every 100 \
    --context 96 --neighbours 48 --batch-q 64 \
    -o "$stage1" "$tmp/sim_train.vcf.gz"
"$SPIN" train --seed 3 --threads 2 --steps "${STEPS2:-1000}" --val-every 250 --log-every 250 --batch-q 64 \
    --batch-ctx 64 --lr 3e-4 --init "$stage1" --segment 128 --pbwt-p 24 --neighbours 128 --context 320 \
    --window 2048 --enc-rows 64 -o "$stage2" "$tmp/sim_train.vcf.gz"
"$SPIN" train --seed 2 --threads 2 --steps "${STEPS3:-600}" --val-every 200 --log-every 100 --batch-q 64 \
    --batch-ctx 64 --lr 3e-4 --init "$stage2" --map "$data/genetic_maps_b37/chr1.b37.gmap.gz" \
    -o "$stage3" "$data/1kgp3_all_chr1_140kb/example.vcf.gz"
"$SPIN" train --seed 4 --threads 2 --steps "${STEPS4:-300}" --val-every 150 --log-every 100 --batch-q 64 \
    --batch-ctx 64 --lr 1e-4 --init "$stage3" --segment 256 --context 480 \
    --map "$data/genetic_maps_b37/chr1.b37.gmap.gz" -o "$out" "$data/1kgp3_all_chr1_140kb/example.vcf.gz"
"$SPIN" model-info "$out"
