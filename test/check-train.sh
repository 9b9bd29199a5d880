#!/bin/sh
# check-train.sh -- `spin-impute train`: same seed and threads give the same model
# (weights, settings, provenance; the file records the measured wall time too); a run resumed from a checkpoint ends with the same weights as a straight
# run; usage errors exit 2. Tiny model and few steps on test-data/ref.vcf.gz.
set -u
: "${top_srcdir:=.}" "${SPIN:=./spin-impute}"
D="$top_srcdir/test-data"
T=$(mktemp -d "${TMPDIR:-/tmp}/spin-train.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; fails=$((fails + 1)); }
ARGS="--seed 3 --val-every 5 --val-windows 4 --log-every 0 --embed 8 --heads 2 --latents 2 --inducing 4 --layers 1 \
 --window 64 --context 8 --neighbours 8 --enc-rows 64 --batch-ctx 64 --batch-q 8"
wcrc() { "$SPIN" model-info "$1" | awk -F'\t' '$1=="weights_crc32"{print $2}'; }
# model-info without the lines that name the file or record the measured wall time
info() { "$SPIN" model-info "$1" | grep -Ev '^(file|checksum|train_wall_s)'; }

for t in 1 2; do
    mkdir -p "$T/a$t" "$T/b$t"
    (cd "$T/a$t" && "$SPIN" train $ARGS --steps 20 -t $t -o m.spin "$D/ref.vcf.gz" 2>err) || fail "train -t $t"
    (cd "$T/b$t" && "$SPIN" train $ARGS --steps 20 -t $t -o m.spin "$D/ref.vcf.gz" 2>err) || fail "train -t $t again"
    [ -n "$(wcrc "$T/a$t/m.spin")" ] && [ "$(info "$T/a$t/m.spin")" = "$(info "$T/b$t/m.spin")" ] \
        && pass "same seed, -t $t: identical weights, settings and provenance" || fail "same seed, -t $t: models differ"
done
# the measured training time is stored (model-info printed "train_wall_s ."); the stored
# command does not repeat the program name
"$SPIN" model-info "$T/a1/m.spin" | awk -F'\t' '$1=="train_wall_s" && $2 ~ /^[0-9.]+$/ && $2 + 0 > 0 {ok=1} END{exit !ok}' \
    && pass "train_wall_s is the measured time" || fail "train_wall_s not stored: $("$SPIN" model-info "$T/a1/m.spin" | grep wall)"
"$SPIN" model-info "$T/a1/m.spin" | grep -q "^train_command	spin-impute train --seed 3" \
    && pass "train_command is 'spin-impute train ...'" || fail "train_command: $("$SPIN" model-info "$T/a1/m.spin" | grep train_command)"
grep -q "validation: pooled r2" "$T/a1/err" && pass "validation r2 reported" || fail "no validation line"

# resume: 20 steps with a checkpoint at 10, then resume from it
(cd "$T" && "$SPIN" train $ARGS --steps 20 --checkpoint-every 10 -o c.spin "$D/ref.vcf.gz" 2>/dev/null) || fail "train with checkpoints"
[ -f "$T/c.spin.ckpt" ] && [ -f "$T/c.spin.ckpt.state" ] && pass "checkpoint written" || fail "no checkpoint"
(cd "$T" && "$SPIN" train $ARGS --steps 20 --resume c.spin.ckpt -o r.spin "$D/ref.vcf.gz" 2>/dev/null) || fail "resume"
[ -n "$(wcrc "$T/c.spin")" ] && [ "$(wcrc "$T/c.spin")" = "$(wcrc "$T/r.spin")" ] \
    && pass "resumed run ends with the straight run's weights" || fail "resumed weights differ"
printf 'garbage' >"$T/c.spin.ckpt.state"
(cd "$T" && "$SPIN" train $ARGS --steps 20 --resume c.spin.ckpt -o r2.spin "$D/ref.vcf.gz" 2>"$T/err")
[ $? -eq 1 ] && grep -q "c.spin.ckpt.state" "$T/err" && pass "corrupt checkpoint state refused" || fail "corrupt checkpoint state"

# --init with changed settings: a model without posterior features gains them and keeps its weights
(cd "$T" && "$SPIN" train $ARGS --copy-hmm 0 --steps 5 -o h0.spin "$D/ref.vcf.gz" 2>/dev/null) || fail "train --copy-hmm 0"
(cd "$T" && "$SPIN" train $ARGS --steps 5 --init h0.spin --copy-hmm 1 --neighbours 12 -o h1.spin "$D/ref.vcf.gz" 2>"$T/err") || fail "train --init --copy-hmm 1"
"$SPIN" model-info "$T/h0.spin" | grep -q "^hmm	0$" && "$SPIN" model-info "$T/h1.spin" | grep -q "^hmm	1$" \
    && "$SPIN" model-info "$T/h1.spin" | grep -q "^K	12$" && pass "--init with --copy-hmm 1 --neighbours 12: settings changed" \
    || fail "--init settings override"
grep -q "0 of [0-9]* tensors start fresh" "$T/err" && pass "--init with changed settings keeps every tensor" || fail "--init adapt: $(cat "$T/err")"
"$SPIN" "$D/ref.vcf.gz" "$D/target.vcf.gz" --model "$T/h1.spin" -o "$T/h1.vcf.gz" 2>/dev/null && pass "adapted model imputes" || fail "adapted model imputes"

"$SPIN" train --steps 0 "$D/ref.vcf.gz" >/dev/null 2>&1; [ $? -eq 2 ] && pass "--steps 0 is a usage error" || fail "--steps 0"
"$SPIN" train --embed 10 --heads 4 "$D/ref.vcf.gz" >/dev/null 2>&1; [ $? -eq 2 ] && pass "--embed not a multiple of --heads" || fail "--embed/--heads"
"$SPIN" train "$D/nosuch.vcf.gz" -o "$T/x.spin" >/dev/null 2>&1; [ $? -eq 1 ] && [ ! -f "$T/x.spin" ] && pass "missing panel: exit 1, no model" || fail "missing panel"
echo "$fails failure(s)"
[ "$fails" -eq 0 ]
