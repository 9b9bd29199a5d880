#!/bin/sh
# run-cli-tests.sh -- end-to-end tests of `spin-impute impute` on test-data/:
# golden output for VCF, VCF.gz and BCF inputs, identical output for every
# --threads, accuracy against the truth, and bad input (exit code, message,
# no output file left). Uses the small committed model test-data/test.spin so
# the golden file does not move when the default model is retrained.
# Run by `make check` (SPIN, top_srcdir set by Makefile.am).
set -u
: "${top_srcdir:=.}" "${SPIN:=./spin-impute}"
D="$top_srcdir/test-data"
M="$D/test.spin"
T=$(mktemp -d "${TMPDIR:-/tmp}/spin-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; fails=$((fails + 1)); }
records() { bcftools view -H "$1" 2>/dev/null | md5sum | cut -d' ' -f1; }

# --- golden output and input formats --------------------------------------
"$SPIN" -m "$M" --no-version -O v -o "$T/vcf.vcf" "$D/ref.vcf.gz" "$D/target.vcf" 2>"$T/err" \
    || { fail "impute VCF input"; cat "$T/err"; }
"$SPIN" -m "$M" --no-version -O v -o "$T/gz.vcf" "$D/ref.bcf" "$D/target.vcf.gz" 2>/dev/null || fail "impute VCF.gz input"
"$SPIN" -m "$M" --no-version -O v -o "$T/bcf.vcf" "$D/ref.bcf" "$D/target.bcf" 2>/dev/null || fail "impute BCF input"
if cmp -s "$T/vcf.vcf" "$T/gz.vcf" && cmp -s "$T/vcf.vcf" "$T/bcf.vcf"; then pass "VCF, VCF.gz and BCF inputs give the same output"
else fail "VCF, VCF.gz and BCF inputs differ"; fi
gzip -dc "$D/expected.vcf.gz" >"$T/expected.vcf" 2>/dev/null
if cmp -s "$T/vcf.vcf" "$T/expected.vcf"; then pass "golden output test-data/expected.vcf.gz"
else fail "output differs from test-data/expected.vcf.gz (regenerate with test-data/make-test-model.sh if the change is intended)"; fi

# --- threads: byte-identical ------------------------------------------------
"$SPIN" -m "$M" --no-version -t 2 -O v -o "$T/t2.vcf" "$D/ref.vcf.gz" "$D/target.vcf" 2>/dev/null || fail "impute --threads 2"
cmp -s "$T/vcf.vcf" "$T/t2.vcf" && pass "--threads 1 and 2 give identical output" || fail "--threads 2 output differs"

# --- output forms: stdout bgzipped VCF, -O b, -W index ----------------------
"$SPIN" -m "$M" --no-version "$D/ref.bcf" "$D/target.vcf.gz" >"$T/stdout.vcf.gz" 2>/dev/null \
    && [ "$(records "$T/stdout.vcf.gz")" = "$(records "$T/vcf.vcf")" ] && pass "stdout is bgzipped VCF" || fail "stdout output"
"$SPIN" -m "$M" --no-version -W -o "$T/out.bcf" "$D/ref.bcf" "$D/target.vcf.gz" 2>/dev/null \
    && [ -f "$T/out.bcf.csi" ] && [ "$(records "$T/out.bcf")" = "$(records "$T/vcf.vcf")" ] \
    && pass "-o FILE.bcf -W writes BCF and its index" || fail "-o FILE.bcf -W"

# --- the header's command line names the program once ----------------------
"$SPIN" -m "$M" -O v -o "$T/cmd.vcf" "$D/ref.bcf" "$D/target.vcf.gz" 2>/dev/null
grep -q '^##spin-imputeCommand=spin-impute -m ' "$T/cmd.vcf" && pass "header command line does not repeat the program" \
    || fail "header command line: $(grep '^##spin-imputeCommand' "$T/cmd.vcf")"

# --- accuracy against the truth ---------------------------------------------
if "$SPIN" score --truth "$D/truth.vcf.gz" --tsv "$T/score.tsv" "$T/vcf.vcf" >/dev/null 2>&1; then
    r2=$(awk -F'\t' '$1=="SN" && $2=="mean_r2"{print $3}' "$T/score.tsv")
    ok=$(awk -v r="$r2" 'BEGIN{print (r + 0 > 0.6) ? 1 : 0}')
    [ "$ok" = 1 ] && pass "mean per-variant r2 vs truth = $r2 (> 0.6)" || fail "mean per-variant r2 vs truth = $r2 (want > 0.6)"
else fail "score against truth"; fi

# --- every panel record: indels, symbolic, '*', multi-allelic (make-test-data-records.sh) ---
"$SPIN" -m "$M" --no-version --gp --ap -O v --stats "$T/rec.tsv" -o "$T/rec.vcf" "$D/ref_records.vcf.gz" \
    "$D/target_records.vcf.gz" 2>"$T/err" || { fail "impute a panel with every record type"; cat "$T/err"; }
q='%CHROM\t%POS\t%ID\t%REF\t%ALT\n'
if [ -s "$T/rec.vcf" ] && [ "$(bcftools query -f "$q" "$D/ref_records.vcf.gz" | md5sum)" = "$(bcftools query -f "$q" "$T/rec.vcf" | md5sum)" ]
then pass "every panel record (2,443: SNPs, indels, <DEL>, '*', multi-allelic) is written once, in panel order"
else fail "panel records and output records differ"; fi
# Number=A/G: per multi-allelic record, DS/AP1/AP2 carry n_alt values, GP (n_alt+1)(n_alt+2)/2
bad=$(bcftools query -i 'N_ALT>1' -f '[%DS\t%AP1\t%GP\n]' "$T/rec.vcf" 2>/dev/null | awk -F'\t' '
    { if (split($1, a, ",") != 2 || split($2, b, ",") != 2 || split($3, c, ",") != 6) n++ } END { print n + 0 }')
nm=$(bcftools view -H -i 'N_ALT>1' "$T/rec.vcf" | wc -l)
[ "$nm" -eq 157 ] && [ "$bad" -eq 0 ] && pass "157 multi-allelic records with per-ALT DS/AP and Number=G GP" \
    || fail "multi-allelic records: $nm written, $bad genotypes with wrong field lengths"
# typed records (the 4 multi-allelic ones too) carry the observed genotypes, without IMP
bcftools query -f '%POS\t%REF\t%ALT[\t%GT]\n' "$D/target_records.vcf.gz" >"$T/obs"
bcftools query -e 'INFO/IMP=1' -f '%POS\t%REF\t%ALT[\t%GT]\n' "$T/rec.vcf" >"$T/typed"
cmp -s "$T/obs" "$T/typed" && [ "$(awk '$3 ~ /,/' "$T/obs" | wc -l)" -eq 4 ] \
    && pass "typed indel, symbolic and multi-allelic records carry the observed GT" || fail "typed records' GT differ from the targets"
grep -qx 'matched_multiallelic	4' "$T/rec.tsv" && grep -qx 'panel_indel	462' "$T/rec.tsv" \
    && grep -qx 'target_other	3' "$T/rec.tsv" && pass "--stats counts panel and target records by type" \
    || fail "--stats counts by type"
grep -q 'reference panel.*2443 records (1727 SNPs, 462 indels, 97 symbolic/other, 157 multi-allelic)' "$T/err" \
    && ! grep -q 'norm -m' "$T/err" && pass "stderr counts panel records by type, no norm -m- hint" || fail "stderr summary by type"
# a differently normalised target indel (left vs right padding) is an allele mismatch, counted
bcftools view -h "$D/target_records.vcf.gz" >"$T/mis.vcf"
bcftools view -H "$D/target_records.vcf.gz" | awk -F'\t' -v OFS='\t' 'length($4) > 1 && !d++ { $4 = substr($4, 2) "G" } 1' >>"$T/mis.vcf"
"$SPIN" -m "$M" --no-version -O v --stats "$T/mis.tsv" -o "$T/mis.out.vcf" "$D/ref_records.vcf.gz" "$T/mis.vcf" 2>"$T/err"
grep -qx 'allele_mismatch	1' "$T/mis.tsv" && grep -q 'bcftools norm -f' "$T/err" \
    && pass "an indel spelled differently is an allele mismatch, with the bcftools norm hint" || fail "indel mismatch"
# REF-only panel records are written as Beagle writes them ("C . . PASS IMP GT:DS 0|0"), in
# panel order, inside --region only
{ bcftools view -h "$D/ref_records.vcf.gz"; bcftools view -H "$D/ref_records.vcf.gz" | awk -F'\t' -v OFS='\t' '
    NR % 500 == 5 { print; $2 = $2 + 1; $3 = "m" NR; $5 = "."; for (i = 10; i <= NF; i++) $i = "0|0" } { print }'
} | bgzip -c >"$T/mono.vcf.gz" && tabix -p vcf "$T/mono.vcf.gz"
"$SPIN" -m "$M" --no-version -O v -o "$T/mono.out.vcf" "$T/mono.vcf.gz" "$D/target_records.vcf.gz" 2>/dev/null
n5=$(awk '!/^#/ && $5 == "." && $8 == "IMP" && $9 == "GT:DS" && $10 == "0|0" && NF == 29' "$T/mono.out.vcf" | wc -l)
[ "$(bcftools query -f "$q" "$T/mono.vcf.gz" | md5sum)" = "$(bcftools query -f "$q" "$T/mono.out.vcf" | md5sum)" ] && [ "$n5" -eq 5 ] \
    && pass "5 REF-only panel records written as Beagle writes them, in panel order" || fail "REF-only records ($n5 as Beagle)"
"$SPIN" -m "$M" --no-version -O v -r 20:1000000-1100000 -o "$T/mono.reg.vcf" "$T/mono.vcf.gz" "$D/target_records.vcf.gz" 2>/dev/null
[ "$(bcftools query -f "$q" -r 20:1000000-1100000 "$T/mono.vcf.gz" | md5sum)" = "$(bcftools query -f "$q" "$T/mono.reg.vcf" | md5sum)" ] \
    && pass "--region writes the REF-only records inside it only" || fail "REF-only records with --region"
if "$SPIN" score --truth "$D/truth_records.vcf.gz" --tsv "$T/rec.score" "$T/rec.vcf" >/dev/null 2>&1; then
    r2=$(awk -F'\t' '$1=="SN" && $2=="mean_r2"{print $3}' "$T/rec.score")
    ok=$(awk -v r="$r2" 'BEGIN{print (r + 0 > 0.6) ? 1 : 0}')
    [ "$ok" = 1 ] && pass "every-record panel: mean per-variant r2 vs truth = $r2 (> 0.6)" || fail "every-record r2 = $r2"
    # score by class: each ALT of the 153 untyped multi-allelic records is a site
    cls=$(awk -F'\t' '$1 == "CLASS" { printf "%s=%s ", $2, $3 }' "$T/rec.score")
    [ "$cls" = "snp=1683 indel=456 other=94 multiallelic_alt=306 " ] && pass "score reports r2 by class ($cls)" \
        || fail "score classes: $cls"
else fail "score the every-record output"; fi

# --- score on other tools' output (test-data/make-tool-outputs.sh) ------------
# Beagle copies a panel's INFO/END without a header line; score once refused it
for tool in beagle minimac4; do
    if "$SPIN" score --truth "$D/truth.vcf.gz" --tsv "$T/$tool.tsv" "$D/${tool}_out.vcf.gz" >/dev/null 2>"$T/err"; then
        r2=$(awk -F'\t' '$1=="SN" && $2=="mean_r2"{print $3}' "$T/$tool.tsv")
        ok=$(awk -v r="$r2" 'BEGIN{print (r + 0 > 0.5) ? 1 : 0}')
        [ "$ok" = 1 ] && pass "score reads $tool's output (mean r2 $r2)" || fail "score on $tool's output: mean r2 $r2"
    else fail "score on $tool's output"; sed 's/^/    /' "$T/err"; fi
done

# --- region runs concatenate into the whole ---------------------------------
"$SPIN" -m "$M" --no-version -r 20:1100000-1200000 -O v -o "$T/reg.vcf" "$D/ref.vcf.gz" "$D/target.vcf.gz" 2>/dev/null \
    && awk '!/^#/ && ($2 < 1100000 || $2 > 1200000){bad=1} END{exit bad}' "$T/reg.vcf" \
    && pass "--region writes only records inside the region" || fail "--region"
# a region without an end ("20", "20:1000000-") runs to the contig's end: the readers
# once got "20:1", which HTSlib reads as the one position 1
"$SPIN" -m "$M" --no-version -O v -o "$T/whole.vcf" "$D/ref.vcf.gz" "$D/target.vcf.gz" 2>/dev/null
for r in 20 20:1000000-; do
    b=${r#20}; b=${b#:}; b=${b%-}; b=${b:-0}
    awk -v b="$b" '!/^#/ && $2 >= b { print $1, $2, $4, $5 }' "$T/whole.vcf" > "$T/want.txt"
    if "$SPIN" -m "$M" --no-version -r "$r" -O v -o "$T/open.vcf" "$D/ref.vcf.gz" "$D/target.vcf.gz" 2>"$T/err"; then
        awk '!/^#/ { print $1, $2, $4, $5 }' "$T/open.vcf" > "$T/got.txt"
        n=$(wc -l < "$T/got.txt")
        [ "$n" -gt 0 ] && cmp -s "$T/got.txt" "$T/want.txt" \
            && pass "-r $r runs to the end of the contig ($n records)" || fail "-r $r: $n records, want $(wc -l < "$T/want.txt")"
    else fail "-r $r"; sed 's/^/    /' "$T/err"; fi
done

# --- unphased targets: phased in the run (issue 11) --------------------------
# test-data/make-unphased.sh made target_unphased_all.vcf.gz from target.vcf.gz ("|" -> "/")
gt_unphased() { grep -v '^#' "$1" | cut -f10- | grep -q '/'; }
if "$SPIN" -m "$M" --no-version -O v -o "$T/unph.vcf" "$D/ref.bcf" "$D/target_unphased_all.vcf.gz" 2>"$T/err" &&
    grep -q 'phased [1-9][0-9]* unphased heterozygous' "$T/err" && [ "$(grep -vc '^#' "$T/unph.vcf")" -eq 2600 ] &&
    ! gt_unphased "$T/unph.vcf"; then pass "all-unphased targets: phased (log line), imputed, every GT phased"
else fail "all-unphased targets"; sed 's/^/    /' "$T/err"; fi
# --phase-only: typed sites only, no model needed, no IMP, thread-independent
"$SPIN" impute --phase-only --no-version -O v -o "$T/ph1.vcf" "$D/ref.bcf" "$D/target_unphased_all.vcf.gz" 2>"$T/err" &&
    "$SPIN" impute --phase-only --no-version -t 3 -O v -o "$T/ph3.vcf" "$D/ref.bcf" "$D/target_unphased_all.vcf.gz" 2>/dev/null
if [ "$(grep -vc '^#' "$T/ph1.vcf" 2>/dev/null)" = 60 ] && ! grep -v '^#' "$T/ph1.vcf" | grep -q 'IMP' &&
    ! gt_unphased "$T/ph1.vcf"; then pass "--phase-only writes the 60 typed sites, phased, none imputed"
else fail "--phase-only"; sed 's/^/    /' "$T/err"; fi
cmp -s "$T/ph1.vcf" "$T/ph3.vcf" && pass "--phase-only output does not depend on --threads" || fail "--phase-only -t 3 differs"
# switch error against the true phase (target.vcf.gz): 14 of 347 heterozygotes (0.040) with
# the defaults and no map (Beagle 5.4 without a map: 9; with test-data/map.txt 8, Beagle 12);
# random orders give ~0.5. Ne = 1e6 overstates the jumps of this 200-haplotype panel
# (Ne = 3e5: 4 switches), so the count moves with small changes: the bound is 0.08
sw=$("$SPIN" score --switch -t "$D/target.vcf.gz" "$T/ph1.vcf" | awk '$2 == "ALL" {print $5}')
awk -v s="$sw" 'BEGIN {exit !(s != "" && s < 0.08)}' && pass "--phase-only switch error $sw < 0.08" ||
    fail "--phase-only switch error '$sw'"
# already-phased input is kept as it is
"$SPIN" impute --phase-only --no-version -O v -o "$T/phk.vcf" "$D/ref.bcf" "$D/target.vcf.gz" 2>/dev/null &&
    [ "$(bcftools query -f '[%GT ]\n' "$T/phk.vcf")" = "$(bcftools query -f '[%GT ]\n' "$D/target.vcf.gz")" ] &&
    pass "--phase-only keeps phased genotypes" || fail "--phase-only changed phased genotypes"
# missing genotypes are filled
"$SPIN" impute --phase-only --no-version -O v -o "$T/phm.vcf" "$D/ref.bcf" "$D/target_missing_unphased.vcf.gz" 2>/dev/null &&
    [ "$(grep -vc '^#' "$T/phm.vcf")" -eq 60 ] && ! grep -v '^#' "$T/phm.vcf" | cut -f10- | grep -q '\.' &&
    pass "--phase-only fills missing genotypes" || fail "--phase-only left missing genotypes"
# the scorer's usage
"$SPIN" score --switch -t "$D/target.vcf.gz" >/dev/null 2>&1; [ $? -eq 2 ] && pass "score --switch without a file: exit 2" ||
    fail "score --switch usage"

# --- bad input: exit code, message, no output file --------------------------
# expect NAME CODE REGEX ARGS...: runs with -o $T/bad.vcf.gz and checks all three
expect() {
    name=$1 code=$2 re=$3
    shift 3
    rm -f "$T/bad.vcf.gz"
    "$SPIN" "$@" -o "$T/bad.vcf.gz" >/dev/null 2>"$T/err"
    rc=$?
    if [ "$rc" -ne "$code" ]; then fail "$name: exit $rc, want $code"; sed 's/^/    /' "$T/err"; return; fi
    if ! grep -Eq "$re" "$T/err"; then fail "$name: message does not match /$re/"; sed 's/^/    /' "$T/err"; return; fi
    if [ "$code" -ne 0 ] && ls -a "$T" | grep -q 'bad\.vcf\.gz'; then fail "$name: an output file was left"; return; fi
    pass "$name"
}
expect "missing reference file" 1 "nosuch\.vcf\.gz" -m "$M" "$D/nosuch.vcf.gz" "$D/target.vcf.gz"
expect "missing target file" 1 "nosuch\.vcf" -m "$M" "$D/ref.bcf" "$D/nosuch.vcf"
expect "truncated bgzip panel" 1 "truncated\.vcf\.gz" -m "$M" "$D/truncated.vcf.gz" "$D/target.vcf.gz"
expect "unphased target is phased, then imputed" 0 "phased 1 unphased heterozygous" -m "$M" "$D/ref.bcf" "$D/target_unphased.vcf"
expect "no overlap" 1 "match" -m "$M" "$D/ref.bcf" "$D/target_nooverlap.vcf"
expect "contig length (build) mismatch" 1 "GRCh3|build|length" -m "$M" "$D/ref.bcf" "$D/target_b38.vcf"
expect "chr prefix difference still works" 0 "chr" -m "$M" "$D/ref.bcf" "$D/target_chr.vcf.gz"
expect "multi-allelic panel record read and counted" 0 "1 multi-allelic" -m "$M" "$D/ref_multiallelic.vcf" "$D/target.vcf"
expect "target with missing genotypes is imputed" 0 "done" -m "$M" "$D/ref.bcf" "$D/target_missing.vcf.gz"
printf 'SPINMODL garbage' >"$T/corrupt.spin"
expect "corrupt model file" 1 "corrupt\.spin" -m "$T/corrupt.spin" "$D/ref.bcf" "$D/target.vcf.gz"
head -c 2000 "$M" >"$T/trunc.spin"
expect "truncated model file" 1 "trunc\.spin.*(truncat|short)|truncat.*trunc\.spin" -m "$T/trunc.spin" "$D/ref.bcf" "$D/target.vcf.gz"
# genetic maps with non-finite or absurd cM are refused, naming the line (they gave DS -9.22e16, AF nan, exit 0)
awk 'NR==3{$3="inf"} {print}' OFS='\t' "$D/map.txt" >"$T/inf.map"
expect "--map with cM inf" 1 "inf\.map line 3.*finite" -m "$M" --map "$T/inf.map" "$D/ref.bcf" "$D/target.vcf.gz"
awk 'NR==3{$3="1e308"} {print}' OFS='\t' "$D/map.txt" >"$T/huge.map"
expect "--map with cM 1e308" 1 "huge\.map line 3.*plausible" -m "$M" --map "$T/huge.map" "$D/ref.bcf" "$D/target.vcf.gz"
awk '{$3=$3*1000} {print}' OFS='\t' "$D/map.txt" >"$T/milli.map"
expect "--map with an implausible cM/Mb rate warns" 0 "milli\.map.*implausible" -m "$M" --map "$T/milli.map" "$D/ref.bcf" "$D/target.vcf.gz"
expect "--map logs the format it read" 0 "map\.txt.*PLINK format" -m "$M" --map "$D/map.txt" "$D/ref.bcf" "$D/target.vcf.gz"
awk 'BEGIN{print "pos\tchr\tcM"} {print $4 "\t" $1 "\t" $3}' "$D/map.txt" >"$T/shapeit.map"
expect "--map reads a SHAPEIT5 map and says so" 0 "shapeit\.map.*SHAPEIT5" -m "$M" --map "$T/shapeit.map" "$D/ref.bcf" "$D/target.vcf.gz"
# the missing genotypes got imputed (no missing GT in the output)
"$SPIN" -m "$M" --no-version -O v -o "$T/miss.vcf" "$D/ref.bcf" "$D/target_missing.vcf.gz" 2>/dev/null
grep -v '^#' "$T/miss.vcf" | grep -q '\.|\.' && fail "missing target genotypes left missing" || pass "missing target genotypes filled"
# targets whose typed alleles are all missing: refused (once exit 0 with the same frequency
# dosages for everyone); a sample with nothing observed is warned about by name; a typed
# site with every allele missing is written as imputed (IMP), so `score` scores it
awk 'BEGIN{FS=OFS="\t"} /^#/{print;next} {for(i=10;i<=NF;i++)$i=".|."; print}' "$D/target.vcf" >"$T/allmiss.vcf"
expect "targets with every typed allele missing" 1 "allmiss\.vcf.*every genotype.*missing" -m "$M" "$D/ref.bcf" "$T/allmiss.vcf"
awk 'BEGIN{FS=OFS="\t"} /^#/{print;next} {$11=".|."; print}' "$D/target.vcf" >"$T/onemiss.vcf"
expect "a target sample with no observed allele is warned about" 0 "\[W::.*TGT02.*onemiss\.vcf.*no observed allele" \
    -m "$M" "$D/ref.bcf" "$T/onemiss.vcf"
awk 'BEGIN{FS=OFS="\t"} /^#/{print;next} {c++} c==7{for(i=10;i<=NF;i++)$i=".|."} {print}' "$D/target.vcf" >"$T/sitemiss.vcf"
"$SPIN" -m "$M" --no-version -O v -o "$T/sitemiss.out.vcf" "$D/ref.bcf" "$T/sitemiss.vcf" 2>/dev/null
mpos=$(awk '!/^#/{c++} c==7{print $2; exit}' "$D/target.vcf")
tpos=$(awk '!/^#/{c++} c==8{print $2; exit}' "$D/target.vcf")
awk -F'\t' -v p="$mpos" '$2==p && $8 ~ /;IMP$/ && $10 !~ /^\./{ok=1} END{exit !ok}' "$T/sitemiss.out.vcf" \
    && awk -F'\t' -v p="$tpos" '$2==p && $8 !~ /IMP/{ok=1} END{exit !ok}' "$T/sitemiss.out.vcf" \
    && pass "a typed site with every allele missing is written imputed (IMP); observed sites are not" \
    || fail "typed site with every allele missing: $(awk -F'\t' -v p="$mpos" '$2==p' "$T/sitemiss.out.vcf" | cut -f1-8)"
# malformed records are errors naming the file and line, never skipped (POS abc, -5 and 0
# vanished silently, 12ab3 gave "not sorted", empty and tab-less lines became other contigs)
bad_line() { # N REPLACEMENT OUT: target.vcf with data line N's POS replaced (EMPTY, NOTAB: the line)
    awk -v n="$1" -v r="$2" 'BEGIN{FS=OFS="\t"} /^#/{print;next} {c++}
        c==n && r=="EMPTY"{print ""; next} c==n && r=="NOTAB"{gsub(/\t/," "); print; next} c==n{$2=r} {print}' \
        "$D/target.vcf" >"$3"
}
hdr_lines=$(grep -c '^#' "$D/target.vcf")
line=$((hdr_lines + 5))
for case in abc:abc neg:-5 zero:0 mixed:12ab3; do
    bad_line 5 "${case#*:}" "$T/pos_${case%%:*}.vcf"
    expect "target POS '${case#*:}' is an error naming the line" 1 "pos_${case%%:*}\.vcf.* line $line: POS '${case#*:}' is not a positive integer" \
        -m "$M" "$D/ref.bcf" "$T/pos_${case%%:*}.vcf"
done
bad_line 5 EMPTY "$T/empty_line.vcf"
expect "an empty line is an error naming it" 1 "empty_line\.vcf.* line $line: empty line" -m "$M" "$D/ref.bcf" "$T/empty_line.vcf"
bad_line 5 NOTAB "$T/no_tabs.vcf"
expect "a line without tabs is an error naming it" 1 "no_tabs\.vcf.* line $line: 1 tab-separated column" -m "$M" "$D/ref.bcf" "$T/no_tabs.vcf"
bgzip -c "$T/pos_abc.vcf" >"$T/pos_abc.vcf.gz"
expect "bgzipped target with POS abc (streamed)" 1 "pos_abc\.vcf\.gz.* line $line: POS 'abc'" -m "$M" "$D/ref.bcf" "$T/pos_abc.vcf.gz"
bcftools view -Ob -o "$T/pos_abc.bcf" "$T/pos_abc.vcf" 2>/dev/null
expect "BCF target with a position below 1" 1 "pos_abc\.bcf.*record 5.*below 1" -m "$M" "$D/ref.bcf" "$T/pos_abc.bcf"
# from a FIFO (not readable twice): a malformed line is "data line N", and a panel read
# from a FIFO works (the contig-length check once reopened it and blocked forever)
mkfifo "$T/tgt.fifo" "$T/ref.fifo"
cat "$T/pos_abc.vcf" >"$T/tgt.fifo" &
cpid=$!
expect "a malformed line in a FIFO names its data line" 1 "tgt\.fifo.* data line 5: POS 'abc'" -m "$M" "$D/ref.bcf" "$T/tgt.fifo"
kill $cpid 2>/dev/null; wait $cpid 2>/dev/null
bcftools view -Ov "$D/ref.bcf" >"$T/ref.fifo" 2>/dev/null &
cpid=$!
timeout 60 "$SPIN" -m "$M" --no-version -O v -o "$T/fifo_ref.vcf" "$T/ref.fifo" "$D/target.vcf" 2>/dev/null
rc=$?
kill $cpid 2>/dev/null; wait $cpid 2>/dev/null
[ $rc -eq 0 ] && cmp -s "$T/fifo_ref.vcf" "$T/vcf.vcf" && pass "a panel read from a FIFO" || fail "panel from a FIFO (exit $rc; 124: hung)"
gzip -dc "$D/ref.vcf.gz" | awk 'BEGIN{FS=OFS="\t"} /^#/{print;next} {c++} c==100{$2="1e6"} {print}' >"$T/ref_badpos.vcf"
expect "panel POS 1e6 is an error naming the line" 1 "ref_badpos\.vcf.* line $(($(gzip -dc "$D/ref.vcf.gz" | grep -c '^#') + 100)): POS '1e6'" \
    -m "$M" "$T/ref_badpos.vcf" "$D/target.vcf"
# with threads, lines are parsed in blocks: the first bad line is still the one named, the same way
badpos_line=$(($(gzip -dc "$D/ref.vcf.gz" | grep -c '^#') + 100))
# (lines 100 and 110 are in one block for 2 and 3 threads; either problem may come first)
gzip -dc "$D/ref.vcf.gz" | awk 'BEGIN{FS=OFS="\t"} /^#/{print;next} {c++} c==110{$10="0/1"} c==100{$2="1e6"} {print}' \
    | bgzip -c >"$T/ref_bad2.vcf.gz"
gzip -dc "$D/ref.vcf.gz" | awk 'BEGIN{FS=OFS="\t"} /^#/{print;next} {c++} c==100{$10="0/1"} c==110{$2="1e6"} {print}' \
    | bgzip -c >"$T/ref_bad3.vcf.gz"
for t in 2 3; do
    expect "panel POS 1e6 with --threads $t names the same line" 1 "ref_badpos\.vcf.* line $badpos_line: POS '1e6'" \
        -m "$M" -t $t "$T/ref_badpos.vcf" "$D/target.vcf"
    expect "bgzipped panel with two bad lines, --threads $t: the first is named" 1 \
        "ref_bad2\.vcf\.gz.* line $badpos_line: POS '1e6'" -m "$M" -t $t "$T/ref_bad2.vcf.gz" "$D/target.vcf"
    expect "bgzipped panel, unphased line before a bad line, --threads $t: the unphased one is named" 1 \
        "REF001 in reference panel .*ref_bad3\.vcf\.gz' is unphased at 20:" -m "$M" -t $t "$T/ref_bad3.vcf.gz" "$D/target.vcf"
    expect "target POS abc with --threads $t names the line" 1 "pos_abc\.vcf.* line $line: POS 'abc'" \
        -m "$M" -t $t "$D/ref.bcf" "$T/pos_abc.vcf"
    expect "truncated bgzip panel with --threads $t" 1 "truncated\.vcf\.gz" -m "$M" -t $t "$D/truncated.vcf.gz" "$D/target.vcf.gz"
done
# the run log ends with the wall seconds of every stage, on stderr (stdout is the VCF alone)
"$SPIN" -m "$M" --no-version -t 2 -O v "$D/ref.vcf.gz" "$D/target.vcf" >"$T/stage.vcf" 2>"$T/stage.err"
grep -Eq 'stage wall times: read panel [0-9.]+ s, read targets [0-9.]+ s, phasing [0-9.]+ s, typed-missing [0-9.]+ s, engine [0-9.]+ s, format [0-9.]+ s, write/compress [0-9.]+ s' "$T/stage.err" \
    && cmp -s "$T/stage.vcf" "$T/vcf.vcf" && pass "stage wall times on stderr, stdout the VCF alone" \
    || fail "stage times line: $(grep -c 'stage wall' "$T/stage.err") on stderr; stdout same: $(cmp -s "$T/stage.vcf" "$T/vcf.vcf" && echo yes || echo no)"
# target samples that are also panel samples copy themselves: warned about, with names and count
sed '/^#CHROM/s/TGT02/REF005/; /^#CHROM/s/TGT07/REF077/' "$D/target.vcf" >"$T/shared.vcf"
expect "target samples also in the panel are warned about" 0 "\[W::.*2 of 20 target samples.*shared\.vcf.*also in the reference panel.*REF005, REF077" \
    -m "$M" "$D/ref.bcf" "$T/shared.vcf"
expect "the panel given as targets is warned about" 0 "\[W::.*100 of 100 target samples.*also in the reference panel" \
    -m "$M" "$D/ref.bcf" "$D/ref.bcf"
# messages that say what is wrong: a tiny panel is not a build problem; --region errors
# name the region typed; a ploidy-3 genotype names the sample, the site and what is supported
gzip -dc "$D/ref.vcf.gz" | awk '/^#/{print;next} {c++} c==500' >"$T/one_site.vcf"
expect "a one-site panel says the panel covers too little" 1 "span 20:[0-9]+-[0-9]+, which holds only 1 site.*one_site\.vcf.*covers too little" \
    -m "$M" "$T/one_site.vcf" "$D/target.vcf"
grep -q "genome build" "$T/err" && fail "a one-site panel is still blamed on the genome build" || pass "a one-site panel is not blamed on the build"
expect "--region error names the region typed, not its buffered bounds" 1 "no records with an ALT allele in region 20:60000000-61000000 \(or its 1000000 bp buffer\)" \
    -m "$M" -r 20:60000000-61000000 "$D/ref.bcf" "$D/target.vcf.gz"
awk 'BEGIN{FS=OFS="\t"} /^#/{print;next} {c++} c==5{$12="0|1|0"} {print}' "$D/target.vcf" >"$T/triploid.vcf"
tri_pos=$(awk '!/^#/{c++} c==5{print $2; exit}' "$D/target.vcf")
expect "a ploidy-3 genotype names the sample and site, and what is supported" 1 "sample TGT03 .*triploid\.vcf.* ploidy 3 at 20:$tri_pos.*diploid genotypes only" \
    -m "$M" "$D/ref.bcf" "$T/triploid.vcf"
# unwritable output directory
"$SPIN" -m "$M" -o /nonexistent-dir/out.vcf.gz "$D/ref.bcf" "$D/target.vcf.gz" 2>"$T/err"
rc=$?
[ $rc -eq 1 ] && grep -q "/nonexistent-dir/out.vcf.gz" "$T/err" && pass "unwritable output directory" || fail "unwritable output directory (exit $rc)"
# usage errors exit 2; help exits 0 on stdout
"$SPIN" -m "$M" "$D/ref.bcf" >/dev/null 2>&1; [ $? -eq 2 ] && pass "one input file is a usage error (2)" || fail "usage error exit"
"$SPIN" impute --threads zero "$D/ref.bcf" "$D/target.vcf" >/dev/null 2>&1; [ $? -eq 2 ] && pass "bad --threads is a usage error" || fail "bad --threads"
"$SPIN" impute --help | grep -q -- "--threads" && pass "--help on stdout" || fail "--help"
# `spin-impute --help` shows impute's options after the command list
"$SPIN" --help >"$T/help" && awk '/^Commands:/{c=1} c && /--min-match/{o=1} END{exit !o}' "$T/help" \
    && grep -q -- "--output-type" "$T/help" && pass "spin-impute --help lists impute's options" || fail "spin-impute --help lacks impute's options"
# binary output to a terminal is refused with a hint (exit 2); -O v to a terminal works
if command -v script >/dev/null 2>&1 && script -qec true /dev/null >/dev/null 2>&1; then
    for fmt in z b u; do
        script -qec "'$SPIN' -m '$M' -O $fmt '$D/ref.bcf' '$D/target.vcf'" /dev/null >"$T/tty.out" 2>&1
        rc=$?
        [ $rc -eq 2 ] && grep -q "refusing to write .* to a terminal: use -o FILE or -O v" "$T/tty.out" \
            && pass "-O $fmt to a terminal is refused (exit 2)" || fail "-O $fmt to a terminal (exit $rc)"
    done
    script -qec "'$SPIN' -m '$M' -O v -q '$D/ref.bcf' '$D/target.vcf'" /dev/null >"$T/tty.out" 2>&1
    rc=$?
    [ $rc -eq 0 ] && grep -q "^#CHROM" "$T/tty.out" && pass "-O v to a terminal writes VCF" || fail "-O v to a terminal (exit $rc)"
else echo "SKIP: no script(1) pty: terminal output tests"; fi
[ "$("$SPIN" --version | wc -l)" -eq 1 ] && pass "--version prints one line" || fail "--version"
# --stats TSV
"$SPIN" -m "$M" --stats "$T/stats.tsv" -o "$T/s.vcf.gz" "$D/ref.bcf" "$D/target_chr.vcf.gz" 2>/dev/null
grep -q "matched" "$T/stats.tsv" 2>/dev/null && pass "--stats writes the TSV" || fail "--stats"

# --stats is published with the output: an unwritable --stats leaves no output file
rm -f "$T/s2.vcf.gz"
"$SPIN" -m "$M" --stats /nonexistent-dir/s.tsv -o "$T/s2.vcf.gz" "$D/ref.bcf" "$D/target.vcf.gz" 2>"$T/err"
rc=$?
[ $rc -eq 1 ] && grep -q "/nonexistent-dir/s.tsv" "$T/err" && [ ! -e "$T/s2.vcf.gz" ] && ! ls -a "$T" | grep -q '^\.s2' \
    && pass "unwritable --stats leaves no output file" || fail "unwritable --stats (exit $rc, output left: $(ls -a "$T" | grep s2))"

# --- progress: log lines when stderr is not a terminal, a line redrawn on a terminal, none with -q
# four copies of the data 300 kb apart: enough windows for two blocks at -t 1 (N is read
# from the run's last progress line, so the test holds for any window size)
triple() { awk 'BEGIN{FS=OFS="\t"} /^#/{print; next} {r[++n]=$0}
    END{for (k = 0; k < 4; k++) for (i = 1; i <= n; i++) {$0 = r[i]; $2 += 300000 * k; print}}'; }
gzip -dc "$D/ref.vcf.gz" | triple >"$T/ref3.vcf"
triple <"$D/target.vcf" >"$T/target3.vcf"
"$SPIN" -m "$M" --progress-every 0 -o "$T/p3.vcf.gz" "$T/ref3.vcf" "$T/target3.vcf" 2>"$T/err"
rc=$?
NW=$(sed -n 's/^\[M::impute\] \([0-9]*\)\/\1 windows imputed (100%).*/\1/p' "$T/err" | tail -1)
if [ $rc -eq 0 ] && [ -n "$NW" ] && grep '^\[M::impute\] [0-9]*/'"$NW"' windows imputed ([0-9]*%), .* ETA ' "$T/err" \
        | grep -qv "^\[M::impute\] \(0\|$NW\)/" && ! grep -q "$(printf '\r')" "$T/err"; then
    pass "progress: a log line per block with --progress-every 0, no carriage returns in a log"
else fail "progress lines (exit $rc): $(grep 'M::impute' "$T/err")"; fi
"$SPIN" -m "$M" -o "$T/p3.vcf.gz" "$T/ref3.vcf" "$T/target3.vcf" 2>"$T/err"
[ "$(grep -c '^\[M::impute\] [0-9]*/'"$NW"' windows' "$T/err")" -eq 1 ] && pass "progress: default 30 s interval logs only the last line of a short run" \
    || fail "progress default interval: $(grep 'M::impute' "$T/err")"
"$SPIN" -m "$M" -q --progress-every 0 -o "$T/p3.vcf.gz" "$T/ref3.vcf" "$T/target3.vcf" 2>"$T/err"
[ ! -s "$T/err" ] && pass "progress: silent with -q" || fail "progress with -q: $(cat "$T/err")"
"$SPIN" impute --progress-every -1 "$D/ref.bcf" "$D/target.vcf" >/dev/null 2>&1; [ $? -eq 2 ] && pass "bad --progress-every is a usage error" || fail "bad --progress-every"
if command -v script >/dev/null 2>&1 && script -qec true /dev/null >/dev/null 2>&1; then
    script -qec "'$SPIN' -m '$M' -o '$T/p3.vcf.gz' '$T/ref3.vcf' '$T/target3.vcf'" /dev/null >"$T/tty.err" 2>&1
    rc=$?
    # on a terminal: redrawn in place (carriage return, erase to end of line), ending at N/N
    if [ $rc -eq 0 ] && grep -q "$(printf '\r')\[M::impute\] 0/$NW windows" "$T/tty.err" \
        && grep -q "$(printf '\r')\[M::impute\] $NW/$NW windows imputed (100%).*$(printf '\033')\[K" "$T/tty.err"; then
        pass "progress: one line redrawn in place on a terminal"
    else fail "progress on a terminal (exit $rc): $(grep 'M::impute' "$T/tty.err" | od -c | head -5)"; fi
else echo "SKIP: no script(1) pty: progress on a terminal"; fi

# --- -o onto a FIFO, a symlink, a device; -o naming an input ----------------
mkfifo "$T/fifo"
cat "$T/fifo" >"$T/from-fifo.vcf" &
catpid=$!
"$SPIN" -m "$M" --no-version -O v -o "$T/fifo" "$D/ref.bcf" "$D/target.vcf.gz" 2>/dev/null
rc=$?
# the reader ends when the writer closes the FIFO; bounded, as a FIFO replaced by a file never would
i=0
while kill -0 $catpid 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
kill $catpid 2>/dev/null
wait $catpid 2>/dev/null
[ $rc -eq 0 ] && [ -p "$T/fifo" ] && cmp -s "$T/from-fifo.vcf" "$T/vcf.vcf" \
    && pass "-o FIFO writes into the FIFO" || fail "-o FIFO (exit $rc, still a FIFO: $([ -p "$T/fifo" ] && echo yes || echo no))"
: >"$T/real.vcf"
ln -s real.vcf "$T/link.vcf"
"$SPIN" -m "$M" --no-version -O v -o "$T/link.vcf" "$D/ref.bcf" "$D/target.vcf.gz" 2>/dev/null
rc=$?
[ $rc -eq 0 ] && [ -L "$T/link.vcf" ] && cmp -s "$T/real.vcf" "$T/vcf.vcf" && ! ls -a "$T" | grep -q 'tmp' \
    && pass "-o SYMLINK writes the link's target, the link stays" || fail "-o SYMLINK (exit $rc)"
if [ -c /dev/full ]; then
    "$SPIN" -m "$M" -o /dev/full "$D/ref.bcf" "$D/target.vcf.gz" 2>"$T/err"
    rc=$?
    [ $rc -eq 1 ] && [ -c /dev/full ] && pass "-o /dev/full fails and leaves the device" || fail "-o /dev/full (exit $rc)"
    for f in z v b; do # records formatted and written by blocks, compressed in the pool
        "$SPIN" -m "$M" -t 3 -O $f -o /dev/full "$D/ref.bcf" "$D/target.vcf.gz" 2>"$T/err"
        rc=$?
        [ $rc -eq 1 ] && grep -q "/dev/full" "$T/err" && pass "-O $f -o /dev/full --threads 3 fails naming it" \
            || { fail "-O $f -o /dev/full --threads 3 (exit $rc)"; cat "$T/err"; }
    done
fi
cp "$D/target.vcf" "$T/tgt.vcf"
ln "$T/tgt.vcf" "$T/tgt-hardlink.vcf"
for out in "$T/tgt.vcf" "$T/tgt-hardlink.vcf" "$M"; do
    sum=$(md5sum <"$out")
    "$SPIN" -m "$M" -O v -o "$out" "$D/ref.bcf" "$T/tgt.vcf" 2>"$T/err"
    rc=$?
    [ $rc -eq 1 ] && grep -q "is the input file" "$T/err" && [ "$(md5sum <"$out")" = "$sum" ] \
        && pass "-o naming an input is refused ($(basename "$out"))" || fail "-o naming an input ($out, exit $rc)"
done

# --- SIGTERM removes the temporary output and exits 143 ----------------------
# 400 target samples (20 copies), so the run is still imputing when the signal comes
mkdir -p "$T/sig"
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do echo "$D/target.vcf.gz"; done >"$T/sig.list"
bcftools merge --force-samples -l "$T/sig.list" -Oz -o "$T/big_target.vcf.gz" 2>/dev/null
"$SPIN" -m "$M" -W -o "$T/sig/out.vcf.gz" "$D/ref.bcf" "$T/big_target.vcf.gz" 2>/dev/null &
pid=$!
i=0
while [ $i -lt 200 ] && ! ls -a "$T/sig" | grep -q '\.out\.vcf\.gz\.tmp\.'; do sleep 0.01; i=$((i + 1)); done
kill -TERM $pid 2>/dev/null
wait $pid
rc=$?
if [ -e "$T/sig/out.vcf.gz" ]; then echo "SKIP: SIGTERM test: the run finished before the signal"
elif [ $rc -eq 143 ] && ! ls -a "$T/sig" | grep -q 'tmp'; then pass "SIGTERM removes the temporary output and exits 143"
else fail "SIGTERM (exit $rc, left: $(ls -a "$T/sig" | grep tmp))"; fi

# --- README's commands: the first works as root without sudo and as a user with sudo -------
# Its install part (before "&& autoreconf") runs against stubs: PATH holds only
# an `id` and an `apt-get` that log, plus `sudo` in the user case.
readme="$top_srcdir/README.md"
cmd1=$(sed -n '/^# 1\./{n;p;q}' "$readme")
cmd2=$(sed -n '/^# 2\./{n;p;q}' "$readme")
inst=${cmd1%% && autoreconf*}
mkdir -p "$T/stub-root" "$T/stub-user"
for d in stub-root stub-user; do
    printf '#!/bin/sh\necho "apt-get $*" >>"%s/apt.log"\n' "$T/$d" >"$T/$d/apt-get"
done
printf '#!/bin/sh\necho 0\n' >"$T/stub-root/id"
printf '#!/bin/sh\necho 1000\n' >"$T/stub-user/id"
printf '#!/bin/sh\necho sudo >>"%s/apt.log"; exec "$@"\n' "$T/stub-user" >"$T/stub-user/sudo"
chmod +x "$T"/stub-*/*
sh_bin=$(command -v sh)
for d in stub-root stub-user; do
    PATH="$T/$d" "$sh_bin" -c "$inst" >/dev/null 2>"$T/$d/err"
    rc=$?
    want="apt-get update"
    [ $d = stub-user ] && want="sudo"
    if [ $rc -eq 0 ] && [ "$(head -1 "$T/$d/apt.log" 2>/dev/null)" = "$want" ] && grep -q "apt-get update" "$T/$d/apt.log" \
        && grep -q "apt-get install -y .*libhts-dev" "$T/$d/apt.log"; then pass "README command 1 installs as ${d#stub-}"
    else fail "README command 1 as ${d#stub-} (exit $rc): $(cat "$T/$d/err" "$T/$d/apt.log" 2>/dev/null)"; fi
done
[ -n "$cmd2" ] && grep -qxF "$cmd2" "$top_srcdir/.ci/run" && pass ".ci/run runs README's test command verbatim" \
    || fail ".ci/run does not run README's test command ($cmd2)"

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
