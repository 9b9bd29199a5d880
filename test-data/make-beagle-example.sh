#!/bin/sh
# make-beagle-example.sh -- beagle_example.vcf.gz: a small file in the shape of Beagle's
# own example (Debian beagle-doc, examples/test.vcf, used by examples/run-sample-analysis):
# unphased GT:DS:GL genotypes of 110 samples, a header with '/' in it, gzip (not bgzip).
# The test (test/check-phase-beagle.sh) builds reference and targets from it exactly as
# Beagle's script does: the first 100 samples with every '/' turned into '|', and the
# last 10, unphased. Run in test-data/ (new file only; made from files of this directory):
#   ref_records.vcf.gz + truth_records.vcf.gz over 20:1000000-1100000, biallelic records
#   (SNPs, indels, <DEL>: 809), samples REF001-REF100 then TGT01-TGT10. The reference
#   samples keep their true allele order under '/' (so the '|' of the test is their
#   phase); each heterozygote of a target is written in a random order (awk srand(11)),
#   so the order a phaser starts from carries no phase; truth_records.vcf.gz has their
#   phase. DS = ALT count, GL a fixed triple per genotype (Beagle's file has both).
set -eu
cd "$(dirname "$0")"
export LC_ALL=C
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
reg=20:1000000-1100000
bcftools view --no-version -r "$reg" -m2 -M2 -Oz -o "$tmp/r.vcf.gz" ref_records.vcf.gz
bcftools view --no-version -r "$reg" -m2 -M2 -s TGT01,TGT02,TGT03,TGT04,TGT05,TGT06,TGT07,TGT08,TGT09,TGT10 \
    -Oz -o "$tmp/t.vcf.gz" truth_records.vcf.gz
bcftools index "$tmp/r.vcf.gz" && bcftools index "$tmp/t.vcf.gz"
bcftools merge --no-version -m none "$tmp/r.vcf.gz" "$tmp/t.vcf.gz" | awk 'BEGIN {
    OFS = "\t"; srand(11)
    gl[0] = "-0.01,-1.50,-5.00"; gl[1] = "-1.50,-0.01,-1.50"; gl[2] = "-5.00,-1.50,-0.01"
}
/^##/ { next }
/^#CHROM/ {
    print "##fileformat=VCFv4.1"
    print "##source=spin-impute test-data/make-beagle-example.sh (the shape of Beagle 5 examples/test.vcf, https://faculty.washington.edu/browning/beagle/)"
    print "##INFO=<ID=AC,Number=.,Type=Integer,Description=\"Alternate Allele Count\">"
    print "##INFO=<ID=AN,Number=1,Type=Integer,Description=\"Total Allele Count\">"
    print "##INFO=<ID=RSQ,Number=1,Type=Float,Description=\"Genotype imputation quality from MaCH/Thunder\">"
    print "##ALT=<ID=DEL,Description=\"Deletion\">"
    print "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">"
    print "##FORMAT=<ID=DS,Number=1,Type=Float,Description=\"Genotype dosage from MaCH/Thunder\">"
    print "##FORMAT=<ID=GL,Number=.,Type=Float,Description=\"Genotype Likelihoods\">"
    print "##reference=GRCh37"
    print "##contig=<ID=20,length=63025520>"
    $9 = "FORMAT"; print; next
}
{
    ac = 0
    for (i = 10; i <= NF; i++) {
        split($i, a, "|"); g = a[1] + a[2]; ac += g
        if (i > 109 && a[1] != a[2] && rand() < 0.5) { x = a[1]; a[1] = a[2]; a[2] = x }
        $i = a[1] "/" a[2] ":" sprintf("%.3f", g) ":" gl[g]
    }
    $8 = "AC=" ac ";AN=" 2 * (NF - 9) ";RSQ=0.9500"; $9 = "GT:DS:GL"; $6 = "100"; $7 = "PASS"
    print
}' | gzip -n -9 > beagle_example.vcf.gz
