#!/bin/sh
# make-chrx.sh -- chrX-like test data with male (haploid outside the PAR) and
# female samples (see README.md). Needs: scrm, python3 (standard library),
# bgzip, tabix. Deterministic: fixed scrm seed and Python RNG seeds.
set -eu
cd "$(dirname "$0")"
export LC_ALL=C

SEED=20242
NHAP=140       # 60 reference + 10 target samples, two haplotypes each
LEN=200000     # bp simulated
OFFSET=2650000 # first simulated bp maps to X:2650001
PAR_END=2699520 # GRCh37 PAR1 ends here: males are diploid at or before it

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# theta 235 gives ~1,500 segregating sites over 140 haplotypes; rho 100 over 200 kb.
# A male's second haplotype is used in the PAR only (its Y copy there).
scrm $NHAP 1 -t 235 -r 100 $LEN -seed $SEED > "$tmp/scrm.out"

python3 - "$tmp" $LEN $OFFSET $PAR_END <<'PY'
import random, sys
tmp, L, off, par_end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
lines = open(tmp + "/scrm.out").read().split("\n")
i = next(k for k, l in enumerate(lines) if l.startswith("positions:"))
frac = [float(x) for x in lines[i].split()[1:]]
haps = [l.strip() for l in lines[i + 1:] if l.strip()]
assert len(haps) == 140 and all(len(h) == len(frac) for h in haps)
pos, prev = [], 0
for f in frac:
    p = off + 1 + int(f * L)
    if p <= prev:
        p = prev + 1
    pos.append(p); prev = p
rng = random.Random(9)
ref, alt = [], []
for _ in pos:
    r = rng.choice("ACGT"); a = rng.choice([b for b in "ACGT" if b != r])
    ref.append(r); alt.append(a)
refs = ["REF%02d" % (k + 1) for k in range(60)]
tgts = ["TGT%02d" % (k + 1) for k in range(10)]
male = lambda k: k % 2 == 1  # sample k (0-based over all 70): odd ones are male
hdr = ("##fileformat=VCFv4.2\n"
       "##source=spin-impute test-data/make-chrx.sh (scrm coalescent simulation)\n"
       "##contig=<ID=X,length=155270560,assembly=GRCh37>\n"
       '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n')
def gt(k, s):
    if male(k) and pos[s] > par_end:
        return haps[2 * k][s]
    return "%s|%s" % (haps[2 * k][s], haps[2 * k + 1][s])
def write(fn, samples, first, sites, gtf=gt):
    with open(fn, "w") as f:
        f.write(hdr + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples) + "\n")
        for s in sites:
            g = "\t".join(gtf(k, s) for k in range(first, first + len(samples)))
            f.write("X\t%d\t.\t%s\t%s\t.\tPASS\t.\tGT\t%s\n" % (pos[s], ref[s], alt[s], g))
allsites = list(range(len(pos)))
write(tmp + "/ref_chrx.vcf", refs, 0, allsites)
write(tmp + "/truth_chrx.vcf", tgts, 60, allsites)
# array-like typed subset: per 2 kb bin one random SNP with MAF >= 5% (over the haplotypes present)
def af(s):
    a = [haps[2 * k][s] for k in range(70)] + [haps[2 * k + 1][s] for k in range(70) if not (male(k) and pos[s] > par_end)]
    return sum(x == "1" for x in a) / float(len(a))
rng = random.Random(13)
typed = []
for b in range(0, L, 2000):
    cand = [s for s in allsites if off + b < pos[s] <= off + b + 2000 and 0.05 <= af(s) <= 0.95]
    if cand:
        typed.append(rng.choice(cand))
write(tmp + "/target_chrx.vcf", tgts, 60, typed)
# missing genotypes: a lone "." (missing, whatever the ploidy) for TGT01 (female) and
# TGT02 (male) at every 4th typed site, "./." for TGT03 (female) at every 5th
def gt_miss(k, s):
    j = typed.index(s)
    if k - 60 in (0, 1) and j % 4 == 1: return "."
    if k - 60 == 2 and j % 5 == 2: return "./."
    return gt(k, s)
write(tmp + "/target_chrx_missing.vcf", tgts, 60, typed, gt_miss)
print("chrX: %d panel sites (%d in the PAR), %d typed" % (len(pos), sum(p <= par_end for p in pos), len(typed)),
      file=sys.stderr)
PY

for f in ref_chrx truth_chrx target_chrx target_chrx_missing; do
    bgzip -c "$tmp/$f.vcf" > $f.vcf.gz && tabix -f -p vcf $f.vcf.gz
done
