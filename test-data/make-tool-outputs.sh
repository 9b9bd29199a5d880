#!/bin/sh
# make-tool-outputs.sh -- imputed files written by other tools on test-data/, so
# that `spin-impute score` is tested on their real output (run-cli-tests.sh):
#   beagle_out.vcf.gz    Beagle 5.4 (/usr/bin/beagle), 20:1000000-1150000. Its panel's
#                        first 3 records carry INFO/END, which Beagle copies into its
#                        output without a ##INFO header line (score once failed on it).
#   minimac4_out.vcf.gz  Minimac4 4.1 (GT,DS), same region.
# Needs beagle, minimac4, bcftools, bgzip. Run from anywhere; rewrites only these two.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spin-tools.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
{
    bcftools view -h ref.vcf.gz | sed '/^#CHROM/i ##INFO=<ID=END,Number=1,Type=Integer,Description="End position">'
    bcftools view -H ref.vcf.gz | awk 'BEGIN { OFS = "\t" } NR <= 3 { $8 = "END=" $2 } { print }'
} | bgzip >"$tmp/ref_end.vcf.gz"
beagle gt=target.vcf.gz ref="$tmp/ref_end.vcf.gz" out="$tmp/bg" nthreads=1 seed=1 chrom=20:1000000-1150000 >/dev/null
cp "$tmp/bg.vcf.gz" beagle_out.vcf.gz
minimac4 --compress-reference ref.vcf.gz >"$tmp/ref.msav" 2>/dev/null
minimac4 -r 20:1000000-1150000 -f GT,DS -O vcf.gz -o minimac4_out.vcf.gz "$tmp/ref.msav" target.vcf.gz >/dev/null 2>&1
