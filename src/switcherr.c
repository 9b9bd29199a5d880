/* switcherr.c -- switch error rate against a true phase (switcherr.h). */
#include <stdlib.h>
#include <string.h>

#include <htslib/vcf.h>

#include "spin.h"
#include "switcherr.h"

void spin_switch_add(spin_switch_acc_t *a, int t0, int t1, int t_phased, int p0, int p1, int p_phased)
{
    if (t0 < 0 || t1 < 0 || t0 == t1 || !t_phased) return; /* not a phased true heterozygote */
    if (p0 < 0 || p1 < 0 || !p_phased) return;
    if (!((p0 == t0 && p1 == t1) || (p0 == t1 && p1 == t0))) return; /* another genotype */
    int o = p0 == t0;
    if (a->prev >= 0 && o != a->prev) a->n_switch++;
    a->prev = o;
    a->n_het++;
}

static const char *strip_chr(const char *c) { return strncmp(c, "chr", 3) == 0 ? c + 3 : c; }

typedef struct { /* one truth record */
    char *chrom;  /* without "chr" */
    int64_t pos;
    char *ref, *alt; /* biallelic only */
    size_t off;   /* into the genotype store: [n_sample] x (a0, a1, phased) */
} trec_t;

static int cmp_trec(const void *x, const void *y)
{
    const trec_t *a = x, *b = y;
    int c = strcmp(a->chrom, b->chrom);
    if (c) return c;
    return (a->pos > b->pos) - (a->pos < b->pos);
}

void spin_switch_destroy(spin_switch_t *s)
{
    if (!s) return;
    for (int i = 0; i < s->n_sample; i++) free(s->samples[i]);
    free(s->samples);
    free(s->acc);
    memset(s, 0, sizeof(*s));
}

/* alleles of sample i: gt[2i], gt[2i+1] -> a0, a1 (-1 missing), phased */
static void gt_of(const int32_t *gt, int i, int *a0, int *a1, int *ph)
{
    int32_t x = gt[2 * i], y = gt[2 * i + 1];
    *a0 = bcf_gt_is_missing(x) || x == bcf_int32_vector_end ? -1 : bcf_gt_allele(x);
    *a1 = y == bcf_int32_vector_end || bcf_gt_is_missing(y) ? -1 : bcf_gt_allele(y);
    *ph = y != bcf_int32_vector_end && bcf_gt_is_phased(y);
}

int spin_switch_files(const char *truth_fn, const char *phased_fn, spin_switch_t *out)
{
    int ret = -1, ngt = 0, n_tr = 0, m_tr = 0;
    int32_t *gt = NULL;
    trec_t *tr = NULL;
    int8_t *store = NULL;
    size_t n_store = 0, m_store = 0;
    int *tidx = NULL; /* common sample k -> truth sample index */
    int *pcol = NULL; /* common sample k -> phased-file column */
    htsFile *tf = NULL, *pf = NULL;
    bcf_hdr_t *th = NULL, *phd = NULL;
    bcf1_t *rec = bcf_init();
    memset(out, 0, sizeof(*out));
    if (!rec) goto oom;
    if (!(tf = hts_open(truth_fn, "r")) || !(th = bcf_hdr_read(tf))) {
        spin_error("cannot read the truth file '%s'", truth_fn);
        goto end;
    }
    if (!(pf = hts_open(phased_fn, "r")) || !(phd = bcf_hdr_read(pf))) {
        spin_error("cannot read the phased file '%s'", phased_fn);
        goto end;
    }
    int np = bcf_hdr_nsamples(phd), nt = bcf_hdr_nsamples(th);
    if (!(tidx = malloc(((size_t)np + 1) * sizeof(int))) || !(out->samples = calloc((size_t)np + 1, sizeof(char *))) ||
        !(out->acc = calloc((size_t)np + 1, sizeof(spin_switch_acc_t))))
        goto oom;
    if (!(pcol = malloc(((size_t)np + 1) * sizeof(int)))) goto oom;
    for (int j = 0; j < np; j++) {
        int k = bcf_hdr_id2int(th, BCF_DT_SAMPLE, phd->samples[j]);
        if (k < 0) continue;
        tidx[out->n_sample] = k, pcol[out->n_sample] = j;
        if (!(out->samples[out->n_sample] = strdup(phd->samples[j]))) goto oom;
        out->acc[out->n_sample++].prev = -1;
    }
    if (out->n_sample == 0) {
        spin_error("'%s' and '%s' have no sample in common", truth_fn, phased_fn);
        goto end;
    }
    const int ns = out->n_sample;
    /* the truth, biallelic records, at the common samples */
    int r;
    while ((r = bcf_read(tf, th, rec)) == 0) {
        if (rec->errcode & ~(BCF_ERR_CTG_UNDEF | BCF_ERR_TAG_UNDEF)) { /* header-less contigs (Beagle) are fine */
            spin_error("'%s': a corrupt record at %s:%lld", truth_fn, bcf_seqname_safe(th, rec), (long long)rec->pos + 1);
            goto end;
        }
        if (rec->n_allele != 2) continue;
        bcf_unpack(rec, BCF_UN_STR);
        int n = bcf_get_genotypes(th, rec, &gt, &ngt);
        if (n != 2 * nt) continue; /* no GT, or not diploid */
        if (n_tr == m_tr) {
            m_tr = m_tr ? 2 * m_tr : 1024;
            trec_t *x = realloc(tr, (size_t)m_tr * sizeof(*x));
            if (!x) goto oom;
            tr = x;
        }
        if (n_store + 3 * (size_t)ns > m_store) {
            m_store = m_store ? 2 * m_store : 3 * (size_t)ns * 1024;
            while (m_store < n_store + 3 * (size_t)ns) m_store *= 2;
            int8_t *x = realloc(store, m_store);
            if (!x) goto oom;
            store = x;
        }
        trec_t *t = &tr[n_tr];
        t->chrom = strdup(strip_chr(bcf_seqname_safe(th, rec)));
        t->ref = strdup(rec->d.allele[0]), t->alt = strdup(rec->d.allele[1]);
        t->pos = (int64_t)rec->pos + 1, t->off = n_store;
        n_tr++;
        if (!t->chrom || !t->ref || !t->alt) goto oom;
        for (int k = 0; k < ns; k++) {
            int a0, a1, ph;
            gt_of(gt, tidx[k], &a0, &a1, &ph);
            store[n_store++] = (int8_t)a0, store[n_store++] = (int8_t)a1, store[n_store++] = (int8_t)ph;
        }
    }
    if (r < -1) {
        spin_error("'%s': read error (truncated or corrupt file?)", truth_fn);
        goto end;
    }
    qsort(tr, (size_t)n_tr, sizeof(*tr), cmp_trec);
    /* the phased file, in its order */
    while ((r = bcf_read(pf, phd, rec)) == 0) {
        if (rec->errcode & ~(BCF_ERR_CTG_UNDEF | BCF_ERR_TAG_UNDEF)) { /* header-less contigs (Beagle) are fine */
            spin_error("'%s': a corrupt record at %s:%lld", phased_fn, bcf_seqname_safe(phd, rec),
                       (long long)rec->pos + 1);
            goto end;
        }
        out->n_records++;
        if (rec->n_allele != 2) continue;
        bcf_unpack(rec, BCF_UN_STR);
        trec_t key = {(char *)strip_chr(bcf_seqname_safe(phd, rec)), (int64_t)rec->pos + 1, NULL, NULL, 0};
        size_t lo = 0, hi = (size_t)n_tr;
        while (lo < hi) { /* first record >= key */
            size_t mid = (lo + hi) / 2;
            if (cmp_trec(&tr[mid], &key) < 0) lo = mid + 1;
            else hi = mid;
        }
        const trec_t *m = NULL;
        int swap = 0;
        for (size_t i = lo; i < (size_t)n_tr && cmp_trec(&tr[i], &key) == 0; i++) {
            if (strcmp(tr[i].ref, rec->d.allele[0]) == 0 && strcmp(tr[i].alt, rec->d.allele[1]) == 0) {
                m = &tr[i], swap = 0;
                break;
            }
            if (!m && strcmp(tr[i].ref, rec->d.allele[1]) == 0 && strcmp(tr[i].alt, rec->d.allele[0]) == 0)
                m = &tr[i], swap = 1;
        }
        if (!m) continue;
        int n = bcf_get_genotypes(phd, rec, &gt, &ngt);
        if (n != 2 * np) continue;
        out->n_matched++;
        const int8_t *g = store + m->off;
        for (int k = 0; k < ns; k++) {
            int p0, p1, ph;
            gt_of(gt, pcol[k], &p0, &p1, &ph);
            if (swap) p0 = p0 < 0 ? p0 : 1 - p0, p1 = p1 < 0 ? p1 : 1 - p1;
            if (p0 >= 0 && p1 >= 0 && p0 != p1 && !ph) out->n_unphased_het++;
            spin_switch_add(&out->acc[k], g[3 * k], g[3 * k + 1], g[3 * k + 2], p0, p1, ph);
        }
    }
    if (r < -1) {
        spin_error("'%s': read error (truncated or corrupt file?)", phased_fn);
        goto end;
    }
    ret = 0;
    goto end;
oom:
    spin_error("out of memory scoring switch errors");
end:
    for (int i = 0; i < n_tr; i++) free(tr[i].chrom), free(tr[i].ref), free(tr[i].alt);
    free(tr), free(store), free(tidx), free(pcol), free(gt);
    if (rec) bcf_destroy(rec);
    if (th) bcf_hdr_destroy(th);
    if (phd) bcf_hdr_destroy(phd);
    if (tf) hts_close(tf);
    if (pf) hts_close(pf);
    if (ret < 0) spin_switch_destroy(out);
    return ret;
}

int spin_switch_write(const spin_switch_t *s, FILE *fp)
{
    int64_t het = 0, sw = 0, pairs = 0;
    int e = 0;
    e |= fprintf(fp, "# switch error: per sample, switches between consecutive phased heterozygotes of the truth\n"
                     "# SW\tsample\thet_sites\tswitches\trate\n") < 0;
    for (int i = 0; i < s->n_sample; i++) {
        const spin_switch_acc_t *a = &s->acc[i];
        het += a->n_het, sw += a->n_switch, pairs += a->n_het > 1 ? a->n_het - 1 : 0;
        if (a->n_het > 1)
            e |= fprintf(fp, "SW\t%s\t%lld\t%lld\t%.6f\n", s->samples[i], (long long)a->n_het, (long long)a->n_switch,
                         (double)a->n_switch / (double)(a->n_het - 1)) < 0;
        else e |= fprintf(fp, "SW\t%s\t%lld\t%lld\tnan\n", s->samples[i], (long long)a->n_het, (long long)a->n_switch) < 0;
    }
    if (pairs > 0)
        e |= fprintf(fp, "SW\tALL\t%lld\t%lld\t%.6f\n", (long long)het, (long long)sw, (double)sw / (double)pairs) < 0;
    else e |= fprintf(fp, "SW\tALL\t%lld\t%lld\tnan\n", (long long)het, (long long)sw) < 0;
    e |= fprintf(fp, "# %lld records, %lld found in the truth, %lld unphased heterozygotes not scored\n",
                 (long long)s->n_records, (long long)s->n_matched, (long long)s->n_unphased_het) < 0;
    return e ? -1 : 0;
}
