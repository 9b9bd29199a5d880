# check-phase-example.sh -- sourced by check-phase-beagle.sh and check-phase-beagle-doc.sh:
# example FILE.vcf.gz LAST_REF_COL FIRST_TGT_COL LAST_TGT_COL N_RECORDS builds
# T/ref.vcf.gz and T/target.vcf.gz as Beagle's run-sample-analysis does, runs
# spin-impute on them and checks the outputs (T, SPIN, D set by the caller;
# counts failures in $fails).
fails=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; fails=$((fails + 1)); }
# ALT count of every genotype, samples in columns ("." when missing)
altcounts() {
    bcftools query -f '[%GT\t]\n' "$1" | awk -F'\t' '{
        s = ""; for (i = 1; i < NF; i++) { n = split($i, a, /[\/|]/); c = 0
            for (j = 1; j <= n; j++) { if (a[j] == ".") { c = "."; break } c += a[j] }
            s = s c " " }
        print s }'
}
example() {
    ex=$1 lastref=$2 first=$3 last=$4 nrec=$5
    gzip -dc "$ex" | cut -f1-"$lastref" | tr '/' '|' | gzip > "$T/ref.vcf.gz"
    gzip -dc "$ex" | cut -f1-9,"$first"-"$last" | gzip > "$T/target.vcf.gz"
    ntgt=$((last - first + 1))
    if "$SPIN" -m "$D/test.spin" --no-version -o "$T/out.vcf.gz" "$T/ref.vcf.gz" "$T/target.vcf.gz" 2>"$T/err" &&
        grep -q 'phased [1-9][0-9]* unphased heterozygous' "$T/err"; then
        pass "spin-impute REF TARGET (Beagle: ref= gt=) runs and phases"
    else fail "spin-impute REF TARGET"; sed 's/^/    /' "$T/err"; return; fi
    [ "$(bcftools view -H "$T/out.vcf.gz" | wc -l)" -eq "$nrec" ] && [ "$(bcftools query -l "$T/out.vcf.gz" | wc -l)" -eq "$ntgt" ] &&
        pass "$nrec records, $ntgt samples written" || fail "record or sample count of the output"
    bcftools query -f '[%GT\n]' "$T/out.vcf.gz" | grep -q '/' && fail "an output genotype is unphased" ||
        pass "every output genotype is phased"
    altcounts "$T/target.vcf.gz" > "$T/in.ac"
    altcounts "$T/out.vcf.gz" > "$T/out.ac"
    cmp -s "$T/in.ac" "$T/out.ac" && pass "no ALT count changed" || fail "ALT counts differ from the input"
    "$SPIN" impute --phase-only --no-version -t 1 -o "$T/ph1.vcf.gz" "$T/ref.vcf.gz" "$T/target.vcf.gz" 2>/dev/null &&
        "$SPIN" impute --phase-only --no-version -t 3 -o "$T/ph3.vcf.gz" "$T/ref.vcf.gz" "$T/target.vcf.gz" 2>/dev/null &&
        cmp -s "$T/ph1.vcf.gz" "$T/ph3.vcf.gz" && pass "--phase-only: -t 1 and -t 3 identical" ||
        fail "--phase-only differs between -t 1 and -t 3"
    # the imputation run's typed records carry the same phase as --phase-only
    [ "$(bcftools query -f '[%GT ]\n' "$T/out.vcf.gz" | md5sum)" = "$(bcftools query -f '[%GT ]\n' "$T/ph1.vcf.gz" | md5sum)" ] &&
        pass "imputation run and --phase-only give the same phase" || fail "imputation run and --phase-only phase differ"
}
