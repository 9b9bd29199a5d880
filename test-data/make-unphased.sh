#!/bin/sh
# make-unphased.sh -- unphased copies of the phased test targets, for the phasing
# tests (issue 11): every "|" of the GT column becomes "/". Run in test-data/.
#   target_unphased_all.vcf.gz      target.vcf.gz unphased (its phase is the truth)
#   target_missing_unphased.vcf.gz  target_missing.vcf.gz unphased
set -eu
cd "$(dirname "$0")"
for p in "target.vcf.gz target_unphased_all.vcf.gz" "target_missing.vcf.gz target_missing_unphased.vcf.gz"; do
    set -- $p
    bcftools view --no-version "$1" | awk 'BEGIN{OFS="\t"} /^#/ {print; next} {for (i = 10; i <= NF; i++) gsub(/\|/, "/", $i); print}' |
        bgzip -c > "$2"
    tabix -f -p vcf "$2"
done
