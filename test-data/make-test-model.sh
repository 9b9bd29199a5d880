#!/bin/sh
# make-test-model.sh SPIN -- the small model the tests impute with (test.spin), and the
# golden output expected.vcf. Rerun when a change to the model or the engine is
# intended to change the output; the tests compare against these files byte for byte.
set -eu
SPIN=${1:?usage: make-test-model.sh path/to/spin-impute}
cd "$(dirname "$0")"
"$SPIN" train --steps 100 --seed 7 --threads 1 --val-every 50 --log-every 0 \
    --embed 8 --heads 2 --latents 2 --inducing 4 --layers 1 --ffn 2 \
    --segment 4 --pbwt-p 4 --window 256 --context 8 --neighbours 16 --enc-rows 64 --batch-ctx 64 --batch-q 16 \
    --map map.txt -o test.spin ref.vcf.gz
"$SPIN" -m test.spin --no-version -O v ref.vcf.gz target.vcf | gzip -9n > expected.vcf.gz
