#!/bin/sh
# make-test-data.sh -- regenerate spin-impute's small test data (see README.md).
# Needs: scrm (Debian package scrm), python3 (standard library only), bcftools,
# bgzip, tabix. Deterministic: fixed scrm seed and fixed Python RNG seeds.
set -eu
cd "$(dirname "$0")"
export LC_ALL=C

SEED=20240
NHAP=240     # 100 reference + 20 target diploid samples
LEN=300000   # bp simulated
OFFSET=1000000 # first simulated bp maps to 20:1000001

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# theta = 4*Ne*mu*L = 400 gives ~2,600 segregating sites over 240 haplotypes;
# rho = 4*Ne*r*L = 150 gives realistic LD decay over 300 kb.
scrm $NHAP 1 -t 400 -r 150 $LEN -seed $SEED > "$tmp/scrm.out"

python3 - "$tmp" $LEN $OFFSET <<'PY'
import random, sys
tmp, L, off = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lines = open(tmp + "/scrm.out").read().split("\n")
i = next(k for k, l in enumerate(lines) if l.startswith("positions:"))
frac = [float(x) for x in lines[i].split()[1:]]
haps = [l.strip() for l in lines[i + 1:] if l.strip()]
assert len(haps) == 240 and all(len(h) == len(frac) for h in haps)
# integer bp, strictly increasing
pos, prev = [], 0
for f in frac:
    p = off + 1 + int(f * L)
    if p <= prev:
        p = prev + 1
    pos.append(p); prev = p
rng = random.Random(7)
bases = "ACGT"
ref, alt = [], []
for _ in pos:
    r = rng.choice(bases); a = rng.choice([b for b in bases if b != r])
    ref.append(r); alt.append(a)
nsite = len(pos)
refs = ["REF%03d" % (k + 1) for k in range(100)]
tgts = ["TGT%02d" % (k + 1) for k in range(20)]
hdr = ("##fileformat=VCFv4.2\n"
       "##source=spin-impute test-data/make-test-data.sh (scrm coalescent simulation)\n"
       "##contig=<ID=20,length=63025520,assembly=GRCh37>\n"
       '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n')
def gts(s, first, n):
    return "\t".join("%s|%s" % (haps[2 * k][s], haps[2 * k + 1][s]) for k in range(first, first + n))
def write(fn, samples, first, sites, chrom="20", header=hdr, gtfun=None):
    with open(fn, "w") as f:
        f.write(header)
        f.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples) + "\n")
        for s in sites:
            g = gtfun(s) if gtfun else gts(s, first, len(samples))
            f.write("%s\t%d\t.\t%s\t%s\t.\tPASS\t.\tGT\t%s\n" % (chrom, pos[s], ref[s], alt[s], g))
allsites = list(range(nsite))
write(tmp + "/ref.vcf", refs, 0, allsites)
write(tmp + "/truth.vcf", tgts, 100, allsites)
# array-like typed subset: in each 5 kb bin, one random SNP with MAF >= 5% (over all 240 haplotypes)
rng = random.Random(11)
typed = []
for b in range(0, L, 5000):
    cand = [s for s in allsites if off + b < pos[s] <= off + b + 5000
            and 0.05 <= sum(h[s] == "1" for h in haps) / 240.0 <= 0.95]
    if cand:
        typed.append(rng.choice(cand))
write(tmp + "/target.vcf", tgts, 100, typed)
open(tmp + "/typed.txt", "w").write("".join("%d\n" % pos[s] for s in typed))
# ---- bad-input fixtures ----
# chr-prefixed naming
write(tmp + "/target_chr.vcf", tgts, 100, typed, chrom="chr20",
      header=hdr.replace("ID=20,", "ID=chr20,"))
# GRCh38 contig length
write(tmp + "/target_b38.vcf", tgts, 100, typed,
      header=hdr.replace("length=63025520,assembly=GRCh37", "length=64444167,assembly=GRCh38"))
# one unphased genotype (sample TGT03 at the 5th typed site)
bad = typed[4]
def unph(s):
    g = gts(s, 100, 20).split("\t")
    if s == bad:
        g[2] = g[2].replace("|", "/")
    return "\t".join(g)
write(tmp + "/target_unphased.vcf", tgts, 100, typed, gtfun=unph)
# missing alleles: every 7th genotype of every 3rd typed site
def miss(s):
    g = gts(s, 100, 20).split("\t")
    if typed.index(s) % 3 == 0:
        for k in range(0, 20, 7):
            g[k] = ".|."
    return "\t".join(g)
write(tmp + "/target_missing.vcf", tgts, 100, typed, gtfun=miss)
# positions not in the panel: typed positions + 1 where that is not a panel position
posset = set(pos)
with open(tmp + "/target_nooverlap.vcf", "w") as f:
    f.write(hdr + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(tgts) + "\n")
    for s in typed:
        p = pos[s] + 1
        while p in posset:
            p += 1
        f.write("20\t%d\t.\t%s\t%s\t.\tPASS\t.\tGT\t%s\n" % (p, ref[s], alt[s], gts(s, 100, 20)))
# small panel (first 250 sites) with its 10th record made multi-allelic:
# a third allele carried by the first two haplotypes
ms = 9
third = [b for b in bases if b not in (ref[ms], alt[ms])][0]
def multi(s):
    g = gts(s, 0, 100)
    if s == ms:
        g = "2|2" + g[3:]
    return g
with open(tmp + "/ref_multiallelic.vcf", "w") as f:
    f.write(hdr + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(refs) + "\n")
    for s in range(250):
        a = alt[s] + ("," + third if s == ms else "")
        f.write("20\t%d\t.\t%s\t%s\t.\tPASS\t.\tGT\t%s\n" % (pos[s], ref[s], a, multi(s)))
# PLINK map: a line every 10 kb from 20:900000 to 20:1400000; background
# 0.3 cM/Mb with two hotspots (20 cM/Mb) around 1.08 and 1.21 Mb
with open(tmp + "/map.txt", "w") as f:
    cm = 0.0
    for k, bp in enumerate(range(900000, 1400001, 10000)):
        if k:
            rate = 20.0 if bp in (1080000, 1210000) else 0.3 + 0.2 * (k % 3)
            cm += rate * 10000 * 1e-6
        f.write("20\trs_map%d\t%.6f\t%d\n" % (k, cm, bp))
PY

# ---- compress, convert, index ----
bgzip -c "$tmp/ref.vcf" > ref.vcf.gz && tabix -f -p vcf ref.vcf.gz
bcftools view -Ob -o ref.bcf ref.vcf.gz && bcftools index -f ref.bcf
cp "$tmp/target.vcf" target.vcf
bgzip -c "$tmp/target.vcf" > target.vcf.gz && tabix -f -p vcf target.vcf.gz
bcftools view -Ob -o target.bcf target.vcf.gz && bcftools index -f target.bcf
bgzip -c "$tmp/truth.vcf" > truth.vcf.gz && tabix -f -p vcf truth.vcf.gz
cp "$tmp/map.txt" map.txt
cp "$tmp/target_unphased.vcf" "$tmp/target_b38.vcf" "$tmp/target_nooverlap.vcf" "$tmp/ref_multiallelic.vcf" .
bgzip -c "$tmp/target_chr.vcf" > target_chr.vcf.gz && tabix -f -p vcf target_chr.vcf.gz
bgzip -c "$tmp/target_missing.vcf" > target_missing.vcf.gz && tabix -f -p vcf target_missing.vcf.gz
# truncated: the bgzipped panel cut in the middle of a BGZF block
sz=$(wc -c < ref.vcf.gz)
head -c $((sz / 2 + 123)) ref.vcf.gz > truncated.vcf.gz

echo "sites: $(bcftools view -H ref.vcf.gz | wc -l) panel, $(bcftools view -H target.vcf.gz | wc -l) typed" >&2
