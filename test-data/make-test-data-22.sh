#!/bin/sh
# make-test-data-22.sh -- a second small simulated contig ("22") for the
# multi-chromosome workflow tests (test/check-workflow.sh, test/check-slurm.sh).
# Makes only NEW files; the contig-20 files of make-test-data.sh are read, never
# written. Needs: scrm, python3 (standard library), bcftools, bgzip, tabix.
# Deterministic: fixed scrm seed and Python RNG seeds.
#
#   ref22.bcf (+.csi)            panel REF001-REF100 on contig 22 (GRCh37 length 51304566)
#   target22.vcf.gz (+.tbi)      TGT01-TGT20 at an array-like typed subset of contig 22
#   target_20_22.vcf.gz (+.tbi)  target.vcf (contig 20) followed by the contig-22 targets:
#                                one target file for a two-chromosome run
set -eu
cd "$(dirname "$0")"
export LC_ALL=C

SEED=20241
NHAP=240       # 100 reference + 20 target diploid samples, as contig 20
LEN=200000     # bp simulated
OFFSET=17000000 # first simulated bp maps to 22:17000001 (past the acrocentric p-arm)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# theta 270 and rho 100 over 200 kb: the per-bp rates of contig 20 (400, 150 over 300 kb)
scrm $NHAP 1 -t 270 -r 100 $LEN -seed $SEED > "$tmp/scrm.out"

python3 - "$tmp" $LEN $OFFSET target.vcf <<'PY'
import random, sys
tmp, L, off, t20 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
lines = open(tmp + "/scrm.out").read().split("\n")
i = next(k for k, l in enumerate(lines) if l.startswith("positions:"))
frac = [float(x) for x in lines[i].split()[1:]]
haps = [l.strip() for l in lines[i + 1:] if l.strip()]
assert len(haps) == 240 and all(len(h) == len(frac) for h in haps)
pos, prev = [], 0
for f in frac:
    p = off + 1 + int(f * L)
    if p <= prev:
        p = prev + 1
    pos.append(p); prev = p
rng = random.Random(8)
bases = "ACGT"
ref, alt = [], []
for _ in pos:
    r = rng.choice(bases); a = rng.choice([b for b in bases if b != r])
    ref.append(r); alt.append(a)
refs = ["REF%03d" % (k + 1) for k in range(100)]
tgts = ["TGT%02d" % (k + 1) for k in range(20)]
fmt = '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
c20 = "##contig=<ID=20,length=63025520,assembly=GRCh37>\n"
c22 = "##contig=<ID=22,length=51304566,assembly=GRCh37>\n"
src = "##source=spin-impute test-data/make-test-data-22.sh (scrm coalescent simulation)\n"
def hdr(contigs, samples):
    return ("##fileformat=VCFv4.2\n" + src + contigs + fmt +
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples) + "\n")
def recs(samples_first, n, sites):
    out = []
    for s in sites:
        g = "\t".join("%s|%s" % (haps[2 * k][s], haps[2 * k + 1][s]) for k in range(samples_first, samples_first + n))
        out.append("22\t%d\t.\t%s\t%s\t.\tPASS\t.\tGT\t%s\n" % (pos[s], ref[s], alt[s], g))
    return out
allsites = list(range(len(pos)))
with open(tmp + "/ref22.vcf", "w") as f:
    f.write(hdr(c22, refs)); f.writelines(recs(0, 100, allsites))
# typed: per 5 kb bin one random SNP with MAF >= 5% over all 240 haplotypes
rng = random.Random(12)
typed = []
for b in range(0, L, 5000):
    cand = [s for s in allsites if off + b < pos[s] <= off + b + 5000
            and 0.05 <= sum(h[s] == "1" for h in haps) / 240.0 <= 0.95]
    if cand:
        typed.append(rng.choice(cand))
t22 = recs(100, 20, typed)
with open(tmp + "/target22.vcf", "w") as f:
    f.write(hdr(c22, tgts)); f.writelines(t22)
# contig 20 records of target.vcf, then contig 22
body20 = [l for l in open(t20) if not l.startswith("#")]
with open(tmp + "/target_20_22.vcf", "w") as f:
    f.write(hdr(c20 + c22, tgts)); f.writelines(body20); f.writelines(t22)
print("contig 22: %d panel sites, %d typed" % (len(pos), len(typed)), file=sys.stderr)
PY

bcftools view --no-version -Ob -o ref22.bcf "$tmp/ref22.vcf" && bcftools index -f ref22.bcf
bgzip -c "$tmp/target22.vcf" > target22.vcf.gz && tabix -f -p vcf target22.vcf.gz
bgzip -c "$tmp/target_20_22.vcf" > target_20_22.vcf.gz && tabix -f -p vcf target_20_22.vcf.gz
