#!/bin/sh
# scrm2vcf.sh -- convert scrm output made with -transpose-segsites (one site per line:
# relative position, time, then one 0/1 allele per haplotype) to a phased VCF on stdout.
#
#   scrm2vcf.sh CHROM LENGTH_BP SEED PREFIX < scrm.out | bgzip > sim.vcf.gz
#
# Haplotypes 2k and 2k+1 form diploid sample PREFIX<k+1> (zero-padded to 5 digits).
# Position = 1 + floor(x * LENGTH_BP), bumped by one where needed to stay strictly
# increasing. REF/ALT bases are drawn with awk's rand() seeded by SEED; allele 1 is ALT.
set -eu
[ $# -eq 4 ] || { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
chrom=$1 len=$2 seed=$3 prefix=$4
awk -v chrom="$chrom" -v len="$len" -v seed="$seed" -v prefix="$prefix" '
    BEGIN { srand(seed); split("A C G T", base, " "); OFS = "\t" }
    /^position time/ {
        n = NF - 2
        if (n % 2) { print "scrm2vcf.sh: odd number of haplotypes (" n ")" > "/dev/stderr"; exit 1 }
        print "##fileformat=VCFv4.2"
        print "##contig=<ID=" chrom ",length=" len ">"
        print "##source=scrm (see bench/RESULTS.md for the command)"
        print "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">"
        h = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT"
        for (k = 1; k <= n / 2; k++) h = h "\t" sprintf("%s%05d", prefix, k)
        print h
        go = 1; prev = 0; next
    }
    go && NF == n + 2 {
        pos = 1 + int($1 * len); if (pos <= prev) pos = prev + 1; prev = pos
        r = 1 + int(rand() * 4); a = 1 + int(rand() * 3); if (a >= r) a++
        line = $0; sub(/^[^ ]+ [^ ]+ /, "", line)
        print chrom, pos, ".", base[r], base[a], ".", "PASS", ".", "GT", line
    }' | sed -E 's/([01]) ([01])( |$)/\1|\2\t/g; s/\t$//'
