#!/usr/bin/env python3
"""scrm2vcf.py -- convert scrm output made with -transpose-segsites to a phased VCF.

    scrm ... -transpose-segsites | bench/scrm2vcf.py [--abs] CHROM LENGTH_BP SEED PREFIX | bgzip > sim.vcf.gz

Input: one site per line (relative position in [0,1), or with --abs, for scrm -SC abs,
the position in bases in [0,LENGTH_BP), time, then one 0/1 allele per haplotype,
space-separated). Haplotypes 2k and 2k+1 form diploid sample PREFIX<k+1>
(zero-padded to 5 digits), phased. Position = 1 + floor(x * LENGTH_BP) (1 + floor(x) with --abs), bumped by one
where needed to stay strictly increasing. REF/ALT bases are drawn with
random.Random(SEED); allele 1 is ALT. Standard library only.
"""
import random
import sys


def main():
    args = sys.argv[1:]
    absolute = bool(args) and args[0] == "--abs"
    if absolute:
        args = args[1:]
    if len(args) != 4:
        sys.stderr.write(__doc__)
        return 2
    chrom, length, seed, prefix = args[0], int(args[1]), int(args[2]), args[3]
    scale = 1.0 if absolute else float(length)
    rng = random.Random(seed)
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    n = None
    prev = 0
    for line in inp:
        if n is None:
            if line.startswith(b"position time"):
                n = len(line.split()) - 2
                if n % 2:
                    sys.stderr.write("scrm2vcf.py: odd number of haplotypes (%d)\n" % n)
                    return 1
                out.write(b"##fileformat=VCFv4.2\n##contig=<ID=%s,length=%d>\n" % (chrom.encode(), length))
                out.write(b"##source=scrm (bench/scrm2vcf.py)\n")
                out.write(b'##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n')
                names = "\t".join("%s%05d" % (prefix, k + 1) for k in range(n // 2))
                out.write(("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t%s\n" % names).encode())
            continue
        line = line.rstrip(b"\n")
        if not line:
            continue
        sp1 = line.index(b" ")
        sp2 = line.index(b" ", sp1 + 1)
        alleles = bytearray(line[sp2 + 1:])
        if len(alleles) != 2 * n - 1:
            sys.stderr.write("scrm2vcf.py: expected %d single-character alleles per line\n" % n)
            return 1
        # "a b c d" -> "a|b\tc|d": separators alternate between '|' and TAB
        alleles[1::4] = b"|" * len(range(1, len(alleles), 4))
        alleles[3::4] = b"\t" * len(range(3, len(alleles), 4))
        pos = 1 + int(float(line[:sp1]) * scale)
        if pos <= prev:
            pos = prev + 1
        prev = pos
        r = rng.randrange(4)
        a = rng.randrange(3)
        if a >= r:
            a += 1
        out.write(b"%s\t%d\t.\t%c\t%c\t.\tPASS\t.\tGT\t" % (chrom.encode(), pos, b"ACGT"[r], b"ACGT"[a]))
        out.write(alleles)
        out.write(b"\n")
    if n is None:
        sys.stderr.write("scrm2vcf.py: no 'position time' header: run scrm with -transpose-segsites\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
