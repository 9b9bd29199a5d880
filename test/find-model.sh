# find-model.sh -- sourced by the workflow/chunk/dist tests: sets MODEL to a SPIN
# model file for test runs, or exits 77 (skip) when the repository has none yet.
# Order: $SPIN_TEST_MODEL, $SPIN_IMPUTE_MODEL, model/default.spin, test-data/*.spin.
MODEL=
for m in "${SPIN_TEST_MODEL:-}" "${SPIN_IMPUTE_MODEL:-}" "$top_srcdir/model/default.spin" "$top_srcdir"/test-data/*.spin; do
    if [ -n "$m" ] && [ -f "$m" ]; then MODEL=$m; break; fi
done
if [ -z "$MODEL" ]; then
    echo "SKIP: no model file (model/default.spin not trained yet; set SPIN_TEST_MODEL)" >&2
    exit 77
fi
export SPIN_IMPUTE_MODEL="$MODEL"
