#!/bin/sh
# make-test-data-records.sh -- a panel, targets and truth holding every record
# type (indels, symbolic <DEL>, multi-allelic, spanning deletions *), made from
# ref.vcf.gz and truth.vcf.gz (run make-test-data.sh first). Deterministic;
# needs bcftools, bgzip, tabix, awk. The files above are not touched.
#
# Panel and truth are merged (120 samples), rewritten once by the rules below
# (by position p, so both get the same records), and split again:
#   p % 13 == 0   merged with the next record into one multi-allelic record
#                 REF ALT1,ALT2: a haplotype with ALT in the first record is 1,
#                 else 2 if ALT in the second, else 0; ALT2 is '*' when
#                 p % 26 == 0, else a base that is neither REF nor ALT1
#   p % 10 == 3   insertion: ALT = REF + "T"
#   p % 10 == 7   deletion:  REF = REF + "G", ALT = the old REF
#   p % 17 == 5   symbolic:  ALT = <DEL>
# (the first rule that applies wins). Writes:
#   ref_records.vcf.gz (+.tbi)     REF001-REF100, every record
#   truth_records.vcf.gz (+.tbi)   TGT01-TGT20, every record
#   target_records.vcf.gz (+.tbi)  TGT01-TGT20 at the records at target.vcf's
#                                  typed positions (SNPs, indels, symbolic and
#                                  multi-allelic records among them)
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/records.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

bcftools merge -Ou ref.vcf.gz truth.vcf.gz | bcftools annotate -x INFO -Ov -o "$tmp/all.vcf"
awk -F'\t' -v OFS='\t' '
    function other(r, a,   b, i) {
        for (i = 1; i <= 4; i++) { b = substr("ACGT", i, 1); if (b != r && b != a) return b }
    }
    /^##/ { print; next }
    /^#CHROM/ {
        print "##ALT=<ID=DEL,Description=\"Deletion\">"
        print; next
    }
    held != "" {                       # second record of a multi-allelic pair
        split(held, h, "\t")
        alt2 = h[2] % 26 == 0 ? "*" : other(h[4], h[5])
        line = h[1] OFS h[2] OFS h[3] OFS h[4] OFS h[5] "," alt2
        for (i = 6; i <= 9; i++) line = line OFS h[i]
        for (i = 10; i <= NF; i++) {
            a1 = substr(h[i], 1, 1); b1 = substr(h[i], 3, 1)
            a2 = substr($i, 1, 1); b2 = substr($i, 3, 1)
            line = line OFS (a1 == 1 ? 1 : a2 == 1 ? 2 : 0) "|" (b1 == 1 ? 1 : b2 == 1 ? 2 : 0)
        }
        print line
        held = ""; next
    }
    $2 % 13 == 0 { held = $0; next }
    $2 % 10 == 3 { $5 = $4 "T" }
    $2 % 10 == 7 { $5 = $4; $4 = $4 "G" }
    $2 % 10 != 3 && $2 % 10 != 7 && $2 % 17 == 5 { $5 = "<DEL>" }
    { print }
    END { if (held != "") print held }' "$tmp/all.vcf" > "$tmp/rec.vcf"

bcftools query -l ref.vcf.gz > "$tmp/ref.samples"
bcftools query -l truth.vcf.gz > "$tmp/tgt.samples"
bcftools view --no-version -I -S "$tmp/ref.samples" -Oz -o ref_records.vcf.gz "$tmp/rec.vcf"
bcftools view --no-version -I -S "$tmp/tgt.samples" -Oz -o truth_records.vcf.gz "$tmp/rec.vcf"
bcftools query -f '%CHROM\t%POS\n' target.vcf.gz > "$tmp/typed.pos"
bcftools view --no-version -T "$tmp/typed.pos" -Oz -o target_records.vcf.gz truth_records.vcf.gz
for f in ref_records truth_records target_records; do tabix -f -p vcf "$f.vcf.gz"; done
echo "make-test-data-records.sh: $(bcftools view -H ref_records.vcf.gz | wc -l) panel records," \
    "$(bcftools view -H target_records.vcf.gz | wc -l) typed" >&2
