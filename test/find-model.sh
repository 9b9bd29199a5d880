# find-model.sh -- sourced by check-chunks.sh and check-workflow.sh: sets MODEL
# (and SPIN_IMPUTE_MODEL) to a SPIN model for test runs, or exits 77 (skip)
# when the repository has none yet. The small committed test model comes
# first: fast, and independent of retraining the default model.
# Order: $SPIN_TEST_MODEL, test-data/test.spin, model/default.spin, $SPIN_IMPUTE_MODEL.
MODEL=
for m in "${SPIN_TEST_MODEL:-}" "$top_srcdir/test-data/test.spin" "$top_srcdir/model/default.spin" \
         "${SPIN_IMPUTE_MODEL:-}"; do
    if [ -n "$m" ] && [ -f "$m" ]; then MODEL=$m; break; fi
done
if [ -z "$MODEL" ]; then
    echo "SKIP: no model file (test-data/test.spin or model/default.spin; or set SPIN_TEST_MODEL)" >&2
    exit 77
fi
SPIN_IMPUTE_MODEL=$MODEL
export SPIN_IMPUTE_MODEL
