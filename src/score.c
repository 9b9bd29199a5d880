/* score.c -- accuracy metrics of imputed dosages (accumulator and reports).
 * Definitions are in score.h; the VCF side is in spin_score_files() below. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <htslib/kstring.h>
#include <htslib/khash.h>
#include <htslib/vcf.h>

#include "match.h"
#include "score.h"

double spin_corr_r(const spin_corr_t *c)
{
    if (c->n < 2) return NAN;
    double vx = c->n * c->sxx - c->sx * c->sx, vy = c->n * c->syy - c->sy * c->sy;
    /* relative thresholds: sums of squares of dosages in [0,2] lose ~1e-16 relative */
    if (vx <= 1e-12 * c->n * c->sxx || vy <= 1e-12 * c->n * c->syy) return NAN;
    double r = (c->n * c->sxy - c->sx * c->sy) / sqrt(vx * vy);
    return r > 1.0 ? 1.0 : r < -1.0 ? -1.0 : r;
}

double spin_corr_r2(const spin_corr_t *c)
{
    if (c->n < 2) return NAN;
    double vx = c->n * c->sxx - c->sx * c->sx, vy = c->n * c->syy - c->sy * c->sy;
    if (vx <= 1e-12 * c->n * c->sxx) return NAN; /* truth constant: r2 undefined */
    if (vy <= 1e-12 * c->n * c->syy) return 0.0; /* constant prediction carries no information */
    double r = spin_corr_r(c);
    return r * r;
}

spin_score_t *spin_score_init(const char *bins)
{
    if (!bins) bins = SPIN_SCORE_DEFAULT_BINS;
    spin_score_t *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    int n = 1;
    for (const char *p = bins; *p; p++) n += *p == ',';
    s->edge = malloc(n * sizeof(double));
    if (!s->edge) goto fail;
    const char *p = bins;
    for (int i = 0; i < n; i++) {
        char *end;
        s->edge[i] = strtod(p, &end);
        if (end == p || (*end != ',' && *end != '\0') || !(s->edge[i] >= 0.0 && s->edge[i] <= 0.5) ||
            (i > 0 && s->edge[i] <= s->edge[i - 1])) {
            spin_error("malformed MAF bins '%s': give at least two ascending comma-separated edges in [0, 0.5]", bins);
            goto fail;
        }
        p = end + (*end == ',');
    }
    if (n < 2) {
        spin_error("malformed MAF bins '%s': give at least two edges, e.g. %s", bins, SPIN_SCORE_DEFAULT_BINS);
        goto fail;
    }
    s->n_bin = n - 1;
    s->bin_sites = calloc(s->n_bin, sizeof(int64_t));
    s->bin_poly = calloc(s->n_bin, sizeof(int64_t));
    s->bin_sum_r2 = calloc(s->n_bin, sizeof(double));
    s->bin_corr = calloc(s->n_bin, sizeof(spin_corr_t));
    if (!s->bin_sites || !s->bin_poly || !s->bin_sum_r2 || !s->bin_corr) goto fail;
    return s;
fail:
    spin_score_destroy(s);
    return NULL;
}

void spin_score_destroy(spin_score_t *s)
{
    if (!s) return;
    free(s->edge);
    free(s->bin_sites);
    free(s->bin_poly);
    free(s->bin_sum_r2);
    free(s->bin_corr);
    free(s->dosage_source);
    free(s);
}

static int find_bin(const spin_score_t *s, double maf)
{
    if (!(maf >= s->edge[0]) || maf > s->edge[s->n_bin]) return -1;
    for (int b = 0; b < s->n_bin; b++)
        if (maf <= s->edge[b + 1]) return b;
    return -1;
}

double spin_score_add(spin_score_t *s, int n, const int8_t *truth, const float *ds, const int8_t *call,
                      double maf, double est_r2)
{
    return spin_score_add_class(s, SPIN_CLASS_SNP, n, truth, ds, call, maf, est_r2);
}

double spin_score_add_class(spin_score_t *s, int cls, int n, const int8_t *truth, const float *ds,
                            const int8_t *call, double maf, double est_r2)
{
    if (cls < 0 || cls >= SPIN_N_CLASS) cls = SPIN_CLASS_OTHER;
    if (maf < 0) { /* from the truth genotypes themselves */
        double ac = 0, an = 0;
        for (int i = 0; i < n; i++)
            if (truth[i] >= 0) ac += truth[i], an += 2;
        maf = an > 0 ? ac / an : NAN;
        if (maf > 0.5) maf = 1.0 - maf;
    }
    int b = find_bin(s, maf);
    if (b < 0) s->n_out_of_bins++;
    spin_corr_t c = {0};
    for (int i = 0; i < n; i++) {
        if (truth[i] < 0 || isnan(ds[i])) {
            s->n_gt_missing++;
            continue;
        }
        double x = truth[i], y = ds[i];
        spin_corr_add(&c, x, y);
        spin_corr_add(&s->all, x, y);
        if (b >= 0) spin_corr_add(&s->bin_corr[b], x, y);
        spin_corr_add(&s->cls_corr[cls], x, y);
        s->n_gt++;
        int cl = call && call[i] >= 0 ? call[i] : (int)floor(y + 0.5);
        cl = cl < 0 ? 0 : cl > 2 ? 2 : cl;
        s->n_call++;
        s->n_conc += cl == truth[i];
        if (truth[i] != 0 || cl != 0) {
            s->n_nr++;
            s->n_nr_conc += cl == truth[i];
        }
    }
    double r2 = spin_corr_r2(&c);
    s->n_site++;
    s->cls_sites[cls]++;
    if (b >= 0) s->bin_sites[b]++;
    if (isnan(r2)) {
        s->n_mono++;
    } else {
        s->n_poly++;
        s->sum_r2 += r2;
        s->cls_poly[cls]++, s->cls_sum_r2[cls] += r2;
        if (b >= 0) s->bin_poly[b]++, s->bin_sum_r2[b] += r2;
        if (!isnan(est_r2)) spin_corr_add(&s->calib, est_r2, r2);
    }
    return r2;
}

double spin_score_pooled_r2(const spin_score_t *s) { return spin_corr_r2(&s->all); }
double spin_score_mean_r2(const spin_score_t *s) { return s->n_poly ? s->sum_r2 / s->n_poly : NAN; }
double spin_score_concordance(const spin_score_t *s) { return s->n_call ? (double)s->n_conc / s->n_call : NAN; }
double spin_score_nr_concordance(const spin_score_t *s) { return s->n_nr ? (double)s->n_nr_conc / s->n_nr : NAN; }
double spin_score_calibration(const spin_score_t *s) { return spin_corr_r(&s->calib); }
double spin_score_bin_mean_r2(const spin_score_t *s, int b)
{
    return s->bin_poly[b] ? s->bin_sum_r2[b] / s->bin_poly[b] : NAN;
}
double spin_score_bin_agg_r2(const spin_score_t *s, int b) { return spin_corr_r2(&s->bin_corr[b]); }
double spin_score_class_mean_r2(const spin_score_t *s, int c)
{
    return s->cls_poly[c] ? s->cls_sum_r2[c] / s->cls_poly[c] : NAN;
}
double spin_score_class_agg_r2(const spin_score_t *s, int c) { return spin_corr_r2(&s->cls_corr[c]); }

/* ------------------------------------------------------------------ */
/* VCF side                                                             */
/* ------------------------------------------------------------------ */

KHASH_MAP_INIT_STR(skey, int)

typedef struct {
    khash_t(skey) *h;      /* "chrom\tpos\tref\talt" -> truth site index */
    khash_t(skey) *hpos;   /* "chrom\tpos" -> first truth site index at that position */
    int n, m;              /* truth sites */
    int ns;                /* truth samples */
    int8_t *gt;            /* [n * ns] alt counts, -1 missing */
    uint8_t *pl;           /* [n * ns] ploidy of the truth genotype (1: haploid, male chrX; 2 otherwise) */
    float *maf;            /* [n] from --af-from, -1 unknown */
    char **key;            /* [n] "chrom\tpos\tref\talt", owned by h */
    char *seen, *to_score; /* [n] */
} truth_t;

static const char *strip_chr(const char *c)
{
    return (strncasecmp(c, "chr", 3) == 0 && c[3]) ? c + 3 : c;
}

static void make_key(kstring_t *ks, const char *chrom, int64_t pos, const char *ref, const char *alt)
{
    ks->l = 0;
    ksprintf(ks, "%s\t%lld", strip_chr(chrom), (long long)pos);
    if (ref) ksprintf(ks, "\t%s\t%s", ref, alt);
}

static int lookup(khash_t(skey) *h, const char *key)
{
    khint_t k = kh_get(skey, h, key);
    return k == kh_end(h) ? -1 : kh_val(h, k);
}

/* Looks up a biallelic record in the truth; *swapped = 1 if REF/ALT are exchanged. */
static int find_site(truth_t *t, kstring_t *ks, const char *chrom, int64_t pos, const char *ref,
                     const char *alt, int *swapped)
{
    make_key(ks, chrom, pos, ref, alt);
    int i = lookup(t->h, ks->s);
    *swapped = 0;
    if (i >= 0) return i;
    make_key(ks, chrom, pos, alt, ref);
    i = lookup(t->h, ks->s);
    if (i >= 0) *swapped = 1;
    return i;
}

static void truth_destroy(truth_t *t)
{
    if (t->h) {
        for (khint_t k = kh_begin(t->h); k != kh_end(t->h); k++)
            if (kh_exist(t->h, k)) free((char *)kh_key(t->h, k));
        kh_destroy(skey, t->h);
    }
    if (t->hpos) {
        for (khint_t k = kh_begin(t->hpos); k != kh_end(t->hpos); k++)
            if (kh_exist(t->hpos, k)) free((char *)kh_key(t->hpos, k));
        kh_destroy(skey, t->hpos);
    }
    free(t->gt);
    free(t->pl);
    free(t->maf);
    free(t->key);
    free(t->seen);
    free(t->to_score);
}

/* 1 if added (*stored = the owned copy of key), 0 if present (the first is kept), <0 on error */
static int hash_put(khash_t(skey) *h, const char *key, int val, char **stored)
{
    int absent;
    char *dup = strdup(key);
    if (!dup) return -1;
    khint_t k = kh_put(skey, h, dup, &absent);
    if (absent < 0) {
        free(dup);
        return -1;
    }
    if (!absent) {
        free(dup);
        return 0;
    }
    kh_val(h, k) = val;
    if (stored) *stored = dup;
    return 1;
}

/* Copies of allele `alt` (>= 1) in one sample's GT vector of ploidy `pl`; alt 0:
 * copies of any ALT. -1 if any allele is missing. */
static int gt_count(const int32_t *g, int pl, int alt)
{
    int c = 0, n = 0;
    for (int k = 0; k < pl; k++) {
        if (g[k] == bcf_int32_vector_end) break;
        if (bcf_gt_is_missing(g[k])) return -1;
        c += alt ? bcf_gt_allele(g[k]) == alt : bcf_gt_allele(g[k]) != 0;
        n++;
    }
    return n ? c : -1;
}

static int load_truth(truth_t *t, const char *fn, char ***samples)
{
    htsFile *fp = hts_open(fn, "r");
    if (!fp) {
        spin_error("cannot open truth file '%s'", fn);
        return -1;
    }
    bcf_hdr_t *hdr = bcf_hdr_read(fp);
    bcf1_t *rec = bcf_init();
    kstring_t ks = {0, 0, NULL};
    int32_t *gt = NULL, mgt = 0, ret = -1, r;
    if (!hdr || !rec) {
        spin_error("cannot read the header of truth file '%s'", fn);
        goto end;
    }
    t->ns = bcf_hdr_nsamples(hdr);
    if (t->ns == 0) {
        spin_error("truth file '%s' has no samples", fn);
        goto end;
    }
    *samples = calloc(t->ns, sizeof(char *));
    if (!*samples) goto end;
    for (int i = 0; i < t->ns; i++)
        if (!((*samples)[i] = strdup(hdr->samples[i]))) goto end;
    t->h = kh_init(skey);
    t->hpos = kh_init(skey);
    if (!t->h || !t->hpos) goto end;
    while ((r = bcf_read(fp, hdr, rec)) == 0) {
        /* an undeclared contig or tag is a header omission (Beagle writes INFO/END
         * so), accepted as the panel reader does; anything else is malformed */
        if (rec->errcode & ~(BCF_ERR_CTG_UNDEF | BCF_ERR_TAG_UNDEF)) {
            spin_error("malformed record in truth file '%s' at %s:%lld", fn, bcf_seqname_safe(hdr, rec),
                       (long long)rec->pos + 1);
            goto end;
        }
        if (rec->n_allele < 2) continue;
        bcf_unpack(rec, BCF_UN_STR);
        const char *chrom = bcf_seqname_safe(hdr, rec);
        int ngt = 0;
        /* one truth site per ALT allele k: the sample's dosage is its copies of k */
        for (int k = 1; k < rec->n_allele; k++) {
            make_key(&ks, chrom, rec->pos + 1, rec->d.allele[0], rec->d.allele[k]);
            if (t->n == t->m) {
                t->m = t->m ? 2 * t->m : 1024;
                int8_t *g2 = realloc(t->gt, (size_t)t->m * t->ns);
                uint8_t *p2 = realloc(t->pl, (size_t)t->m * t->ns);
                char **k2 = realloc(t->key, (size_t)t->m * sizeof(char *));
                if (g2) t->gt = g2;
                if (p2) t->pl = p2;
                if (k2) t->key = k2;
                if (!g2 || !p2 || !k2) goto end;
            }
            int put = hash_put(t->h, ks.s, t->n, &t->key[t->n]);
            if (put < 0) goto end;
            if (put == 0) continue; /* duplicate record: the first one is the truth */
            make_key(&ks, chrom, rec->pos + 1, NULL, NULL);
            if (hash_put(t->hpos, ks.s, t->n, NULL) < 0) goto end;
            if (ngt <= 0 && (ngt = bcf_get_genotypes(hdr, rec, &gt, &mgt)) <= 0) {
                spin_error("truth file '%s' has no GT at %s:%lld", fn, chrom, (long long)rec->pos + 1);
                goto end;
            }
            int pl = ngt / t->ns;
            int8_t *row = t->gt + (size_t)t->n * t->ns;
            uint8_t *prow = t->pl + (size_t)t->n * t->ns;
            for (int i = 0; i < t->ns; i++) {
                const int32_t *g = gt + (size_t)i * pl;
                row[i] = (int8_t)gt_count(g, pl, rec->n_allele > 2 ? k : 0);
                prow[i] = (uint8_t)(pl == 1 || g[1] == bcf_int32_vector_end ? 1 : 2);
            }
            t->n++;
        }
    }
    if (r < -1) {
        spin_error("read error in truth file '%s' (truncated or corrupt?)", fn);
        goto end;
    }
    t->maf = malloc((t->n + 1) * sizeof(float));
    t->seen = calloc(t->n + 1, 1);
    t->to_score = calloc(t->n + 1, 1);
    if (!t->maf || !t->seen || !t->to_score) goto end;
    for (int i = 0; i < t->n; i++) t->maf[i] = -1.0f;
    ret = 0;
end:
    free(gt);
    free(ks.s);
    bcf_destroy(rec);
    if (hdr) bcf_hdr_destroy(hdr);
    if (hts_close(fp) != 0 && ret == 0) {
        spin_error("error closing '%s'", fn);
        ret = -1;
    }
    return ret;
}

static int is_vcf_name(const char *fn)
{
    size_t l = strlen(fn);
    return (l >= 4 && strcmp(fn + l - 4, ".vcf") == 0) || (l >= 7 && strcmp(fn + l - 7, ".vcf.gz") == 0) ||
           (l >= 4 && strcmp(fn + l - 4, ".bcf") == 0);
}

/* Marks truth sites listed in fn; a line without alleles marks every truth site at that position. */
static int mark_site(truth_t *t, spin_score_t *s, kstring_t *ks, const char *chrom, int64_t pos,
                     const char *ref, const char *alt)
{
    s->n_list_sites++;
    if (ref && strchr(alt, ',')) { /* an ALT list: each ALT of the multi-allelic record, exactly */
        int found = 0;
        for (const char *a = alt; *a;) {
            size_t l = strcspn(a, ",");
            char one[256];
            if (l > 0 && l < sizeof one) {
                memcpy(one, a, l), one[l] = 0;
                make_key(ks, chrom, pos, ref, one);
                int i = lookup(t->h, ks->s);
                if (i >= 0) t->to_score[i] = 1, found = 1;
            }
            a += l + (a[l] == ',');
        }
        s->n_list_not_in_truth += !found;
        return 0;
    }
    if (ref) {
        int sw, i = find_site(t, ks, chrom, pos, ref, alt, &sw);
        if (i < 0) {
            s->n_list_not_in_truth++;
            return 0;
        }
        t->to_score[i] = 1;
        return 0;
    }
    make_key(ks, chrom, pos, NULL, NULL);
    int i = lookup(t->hpos, ks->s);
    if (i < 0) {
        s->n_list_not_in_truth++;
        return 0;
    }
    /* truth records at one position are consecutive in a (sorted) truth file */
    for (size_t lp = ks->l; i < t->n && strncmp(t->key[i], ks->s, lp) == 0 && t->key[i][lp] == '\t'; i++)
        t->to_score[i] = 1;
    return 0;
}

static int load_sites(truth_t *t, spin_score_t *s, const char *fn)
{
    kstring_t ks = {0, 0, NULL}, line = {0, 0, NULL};
    int ret = -1;
    if (is_vcf_name(fn)) {
        htsFile *fp = hts_open(fn, "r");
        bcf_hdr_t *hdr = fp ? bcf_hdr_read(fp) : NULL;
        bcf1_t *rec = bcf_init();
        int r = -1;
        if (!hdr || !rec) {
            spin_error("cannot read sites file '%s'", fn);
        } else {
            while ((r = bcf_read(fp, hdr, rec)) == 0) {
                bcf_unpack(rec, BCF_UN_STR);
                if (rec->n_allele < 2) continue;
                kstring_t al = {0, 0, NULL}; /* "A" or "C,G": mark_site splits a list */
                for (int k = 1; k < rec->n_allele; k++) ksprintf(&al, "%s%s", k > 1 ? "," : "", rec->d.allele[k]);
                int rc = mark_site(t, s, &ks, bcf_seqname_safe(hdr, rec), rec->pos + 1, rec->d.allele[0], al.s);
                free(al.s);
                if (rc < 0) break;
            }
            if (r < -1) spin_error("read error in sites file '%s'", fn);
            else ret = r == -1 ? 0 : -1;
        }
        bcf_destroy(rec);
        if (hdr) bcf_hdr_destroy(hdr);
        if (fp && hts_close(fp) != 0) ret = -1;
        free(ks.s);
        return ret;
    }
    htsFile *fp = hts_open(fn, "r");
    if (!fp) {
        spin_error("cannot open sites file '%s'", fn);
        return -1;
    }
    int64_t lineno = 0;
    int r;
    while ((r = hts_getline(fp, '\n', &line)) >= 0) {
        lineno++;
        if (line.l == 0 || line.s[0] == '#') continue;
        char *f[4] = {0}, *save = NULL;
        int nf = 0;
        for (char *tok = strtok_r(line.s, " \t\r", &save); tok && nf < 4; tok = strtok_r(NULL, " \t\r", &save))
            f[nf++] = tok;
        char *end;
        long long pos = nf >= 2 ? strtoll(f[1], &end, 10) : 0;
        if ((nf != 2 && nf != 4) || pos <= 0 || *end) {
            spin_error("%s line %lld: expected 'CHROM POS' or 'CHROM POS REF ALT'", fn, (long long)lineno);
            goto end;
        }
        if (mark_site(t, s, &ks, f[0], pos, nf == 4 ? f[2] : NULL, nf == 4 ? f[3] : NULL) < 0) goto end;
    }
    if (r < -1) {
        spin_error("read error in sites file '%s'", fn);
        goto end;
    }
    ret = 0;
end:
    if (hts_close(fp) != 0) ret = -1;
    free(ks.s);
    free(line.s);
    return ret;
}

/* MAF of truth sites from a panel: INFO AC/AN when present, else GT counts. */
static int load_panel_af(truth_t *t, const char *fn)
{
    htsFile *fp = hts_open(fn, "r");
    if (!fp) {
        spin_error("cannot open panel '%s' (--af-from)", fn);
        return -1;
    }
    bcf_hdr_t *hdr = bcf_hdr_read(fp);
    bcf1_t *rec = bcf_init();
    kstring_t ks = {0, 0, NULL};
    int32_t *gt = NULL, mgt = 0, *ac = NULL, mac = 0, *an = NULL, man = 0;
    int ret = -1, r = 0, sw;
    if (!hdr || !rec) {
        spin_error("cannot read the header of panel '%s'", fn);
        goto end;
    }
    int ns = bcf_hdr_nsamples(hdr);
    while ((r = bcf_read(fp, hdr, rec)) == 0) {
        if (rec->n_allele < 2) continue;
        bcf_unpack(rec, BCF_UN_STR);
        int na = rec->n_allele;
        for (int a = 1; a < na; a++) { /* per ALT: AC[a-1]/AN, else copies of allele a in GT */
            int i = na == 2 ? find_site(t, &ks, bcf_seqname_safe(hdr, rec), rec->pos + 1, rec->d.allele[0],
                                        rec->d.allele[1], &sw)
                            : (make_key(&ks, bcf_seqname_safe(hdr, rec), rec->pos + 1, rec->d.allele[0],
                                        rec->d.allele[a]),
                               lookup(t->h, ks.s));
            if (i < 0) continue;
            double af = NAN;
            if (bcf_get_info_int32(hdr, rec, "AC", &ac, &mac) == na - 1 &&
                bcf_get_info_int32(hdr, rec, "AN", &an, &man) == 1 && an[0] > 0) {
                af = (double)ac[a - 1] / an[0];
            } else if (ns > 0) {
                int ngt = bcf_get_genotypes(hdr, rec, &gt, &mgt);
                int64_t c = 0, n = 0;
                for (int k = 0; k < ngt; k++) {
                    if (gt[k] == bcf_int32_vector_end || bcf_gt_is_missing(gt[k])) continue;
                    c += na == 2 ? bcf_gt_allele(gt[k]) != 0 : bcf_gt_allele(gt[k]) == a;
                    n++;
                }
                if (n) af = (double)c / n;
            }
            if (!isnan(af)) t->maf[i] = (float)(af > 0.5 ? 1.0 - af : af);
        }
    }
    if (r < -1) {
        spin_error("read error in panel '%s' (truncated or corrupt?)", fn);
        goto end;
    }
    ret = 0;
end:
    free(gt), free(ac), free(an), free(ks.s);
    bcf_destroy(rec);
    if (hdr) bcf_hdr_destroy(hdr);
    if (hts_close(fp) != 0) ret = -1;
    return ret;
}

enum { SRC_DS, SRC_HDS, SRC_GP, SRC_GT, SRC_NONE };
static const char *src_name[] = {"DS", "HDS", "GP", "GT", "none"};

/* Fills ds[j] (imputed dosage of ALT allele `alt` (1-based) of imputed sample j,
 * NaN missing), call[j] (copies of alt in GT) and ploidy[j] (alleles in its
 * GT: 1 for a haploid sample, 2 otherwise or without GT) for a record with na
 * alleles: DS[alt-1] (Number=A), else HDS (biallelic only), else GP (Number=G:
 * genotype (a,b), a <= b, at b(b+1)/2 + a, carrying (a==alt)+(b==alt) copies;
 * a haploid sample's na values are one per allele), else GT. A haploid
 * sample's dosage is in [0, 1]. */
static int record_dosage(bcf_hdr_t *hdr, bcf1_t *rec, int n, int alt, float *ds, int8_t *call, uint8_t *ploidy,
                         float **fbuf, int *mf, int32_t **gbuf, int *mg)
{
    int na = rec->n_allele, src = SRC_NONE, nv, ngt = bcf_get_genotypes(hdr, rec, gbuf, mg);
    for (int j = 0; j < n; j++) call[j] = -1, ds[j] = NAN, ploidy[j] = 2;
    if (ngt > 0 && ngt % n == 0) {
        int pl = ngt / n;
        for (int j = 0; j < n; j++) {
            const int32_t *g = *gbuf + (size_t)j * pl;
            call[j] = (int8_t)gt_count(g, pl, na > 2 ? alt : 0);
            ploidy[j] = (uint8_t)(pl == 1 || g[1] == bcf_int32_vector_end ? 1 : 2);
        }
    }
    if ((nv = bcf_get_format_float(hdr, rec, "DS", fbuf, mf)) > 0 && nv % n == 0 && nv / n >= alt) {
        int per = nv / n;
        src = SRC_DS;
        for (int j = 0; j < n; j++) {
            float v = (*fbuf)[(size_t)j * per + alt - 1];
            if (!bcf_float_is_missing(v) && !bcf_float_is_vector_end(v)) ds[j] = v;
        }
    } else if (na == 2 && (nv = bcf_get_format_float(hdr, rec, "HDS", fbuf, mf)) > 0 && nv % n == 0) {
        int per = nv / n;
        src = SRC_HDS;
        for (int j = 0; j < n; j++) {
            float sum = 0, *v = *fbuf + (size_t)j * per;
            int k, ok = 0;
            for (k = 0; k < per && !bcf_float_is_vector_end(v[k]); k++) {
                if (bcf_float_is_missing(v[k])) break;
                sum += v[k], ok++;
            }
            if (ok && (k == per || bcf_float_is_vector_end(v[k]))) ds[j] = sum;
        }
    } else if ((nv = bcf_get_format_float(hdr, rec, "GP", fbuf, mf)) > 0 && nv % n == 0 &&
               nv / n >= na * (na + 1) / 2) {
        int per = nv / n;
        src = SRC_GP;
        for (int j = 0; j < n; j++) {
            float *v = *fbuf + (size_t)j * per;
            double d = 0;
            int ok = 1;
            if (per == na || (per > na && bcf_float_is_vector_end(v[na]))) { /* haploid: P(allele a) at a */
                if (!bcf_float_is_missing(v[alt]) && !bcf_float_is_vector_end(v[alt])) ds[j] = v[alt];
                continue;
            }
            for (int b = 0, g = 0; b < na; b++)
                for (int a = 0; a <= b; a++, g++) {
                    int c = (a == alt) + (b == alt);
                    if (!c) continue;
                    if (bcf_float_is_missing(v[g]) || bcf_float_is_vector_end(v[g])) ok = 0;
                    else d += c * v[g];
                }
            if (ok) ds[j] = (float)d;
        }
    } else if (ngt > 0) {
        src = SRC_GT;
        for (int j = 0; j < n; j++)
            if (call[j] >= 0) ds[j] = call[j];
    }
    return src;
}

int spin_score_files(spin_score_t *s, const spin_score_files_t *f)
{
    truth_t t = {0};
    char **tsamp = NULL;
    int ret = -1, r = 0, *map = NULL, n_imp = 0, first_src = -1;
    htsFile *fp = NULL;
    bcf_hdr_t *hdr = NULL;
    bcf1_t *rec = NULL;
    kstring_t ks = {0, 0, NULL};
    float *ds = NULL, *fbuf = NULL, *dsc = NULL, *rbuf = NULL;
    int8_t *call = NULL, *callc = NULL, *tru = NULL;
    uint8_t *ploidy = NULL;
    int32_t *gbuf = NULL;
    int mf = 0, mg = 0, mr = 0;

    if (load_truth(&t, f->truth, &tsamp) < 0) goto end;
    s->n_truth_sites = t.n;
    s->n_sample_truth = t.ns;
    if (f->sites) {
        s->sites_from_list = 1;
        if (load_sites(&t, s, f->sites) < 0) goto end;
    }
    if (f->af_from && load_panel_af(&t, f->af_from) < 0) goto end;

    if (!(fp = hts_open(f->imputed, "r")) || !(hdr = bcf_hdr_read(fp))) {
        spin_error("cannot open or read the header of imputed file '%s'", f->imputed);
        goto end;
    }
    n_imp = bcf_hdr_nsamples(hdr);
    s->n_sample_imp = n_imp;
    map = malloc((n_imp + 1) * sizeof(int));
    ds = malloc((n_imp + 1) * sizeof(float));
    call = malloc(n_imp + 1);
    dsc = malloc((n_imp + 1) * sizeof(float));
    callc = malloc(n_imp + 1);
    tru = malloc(n_imp + 1);
    ploidy = malloc(n_imp + 1);
    rec = bcf_init();
    if (!map || !ds || !call || !dsc || !callc || !tru || !ploidy || !rec) goto end;
    /* samples by name; the truth sample list is small enough for a hash of names */
    khash_t(skey) *hs = kh_init(skey);
    if (!hs) goto end;
    for (int i = 0; i < t.ns; i++) {
        int absent;
        khint_t k = kh_put(skey, hs, tsamp[i], &absent);
        if (absent > 0) kh_val(hs, k) = i;
    }
    int nc = 0;
    for (int j = 0; j < n_imp; j++) {
        map[j] = lookup(hs, hdr->samples[j]);
        if (map[j] >= 0) nc++;
    }
    kh_destroy(skey, hs);
    s->n_sample_common = nc;
    if (nc == 0) {
        spin_error("no sample of imputed file '%s' is in truth file '%s' (samples are matched by name)", f->imputed,
                   f->truth);
        goto end;
    }
    int has_imp = bcf_hdr_idinfo_exists(hdr, BCF_HL_INFO, bcf_hdr_id2int(hdr, BCF_DT_ID, "IMP"));
    int has_imputed = bcf_hdr_idinfo_exists(hdr, BCF_HL_INFO, bcf_hdr_id2int(hdr, BCF_DT_ID, "IMPUTED"));
    if (!f->sites && !has_imp && !has_imputed)
        spin_warn("imputed file '%s' declares neither IMP nor IMPUTED: no site can be identified as imputed; "
                  "pass the masked sites with --sites",
                  f->imputed);
    while ((r = bcf_read(fp, hdr, rec)) == 0) {
        /* an undeclared contig or tag is a header omission (Beagle writes INFO/END
         * so), accepted as the panel reader does; anything else is malformed */
        if (rec->errcode & ~(BCF_ERR_CTG_UNDEF | BCF_ERR_TAG_UNDEF)) {
            spin_error("malformed record in '%s' at %s:%lld", f->imputed, bcf_seqname_safe(hdr, rec),
                       (long long)rec->pos + 1);
            goto end;
        }
        s->n_imp_records++;
        if (rec->n_allele < 2) {
            s->n_imp_not_in_truth++;
            continue;
        }
        bcf_unpack(rec, BCF_UN_ALL);
        const int na = rec->n_allele;
        s->n_imp_multiallelic += na > 2;
        const int cls = spin_allele_class((const char *const *)rec->d.allele, na);
        /* whether the record counts as imputed is decided once, for all its ALTs */
        int imp = (has_imp && bcf_get_info_flag(hdr, rec, "IMP", NULL, NULL) == 1) ||
                  (has_imputed && bcf_get_info_flag(hdr, rec, "IMPUTED", NULL, NULL) == 1 &&
                   bcf_get_info_flag(hdr, rec, "TYPED", NULL, NULL) != 1);
        int nr = bcf_get_info_float(hdr, rec, "DR2", &rbuf, &mr);
        if (nr <= 0) nr = bcf_get_info_float(hdr, rec, "R2", &rbuf, &mr);
        /* each ALT allele is its own site: a biallelic record may match the truth
         * with REF/ALT swapped, an ALT of a multi-allelic one only exactly */
        for (int alt = 1; alt < na; alt++) {
            int sw = 0, i;
            if (na == 2)
                i = find_site(&t, &ks, bcf_seqname_safe(hdr, rec), rec->pos + 1, rec->d.allele[0], rec->d.allele[1],
                              &sw);
            else {
                make_key(&ks, bcf_seqname_safe(hdr, rec), rec->pos + 1, rec->d.allele[0], rec->d.allele[alt]);
                i = lookup(t.h, ks.s);
            }
            if (i < 0) {
                s->n_imp_not_in_truth++;
                continue;
            }
            if (t.seen[i]) {
                s->n_imp_duplicate++;
                continue;
            }
            t.seen[i] = 1;
            if (!f->sites) {
                if (!imp) {
                    s->n_imp_skipped_typed++;
                    continue;
                }
                t.to_score[i] = 1;
            } else if (!t.to_score[i]) {
                s->n_imp_skipped_typed++;
                continue;
            }
            int src = record_dosage(hdr, rec, n_imp, alt, ds, call, ploidy, &fbuf, &mf, &gbuf, &mg);
            if (first_src < 0) first_src = src;
            else if (first_src != src) first_src = SRC_NONE + 1; /* mixed */
            if (src == SRC_NONE) {
                s->n_no_dosage++;
                t.to_score[i] = 0;
                continue;
            }
            double est = NAN;
            if (nr >= alt && !bcf_float_is_missing(rbuf[alt - 1])) est = rbuf[alt - 1];
            s->n_swapped += sw;
            int m = 0;
            const int8_t *trow = t.gt + (size_t)i * t.ns;
            const uint8_t *prow = t.pl + (size_t)i * t.ns;
            double ac = 0, an = 0; /* MAF from the scored truth genotypes: alleles present (1 per haploid) */
            for (int j = 0; j < n_imp; j++) {
                if (map[j] < 0) continue;
                tru[m] = trow[map[j]];
                if (tru[m] >= 0) ac += tru[m], an += prow[map[j]];
                dsc[m] = sw && !isnan(ds[j]) ? (float)ploidy[j] - ds[j] : ds[j];
                callc[m] = sw && call[j] >= 0 ? (int8_t)(ploidy[j] - call[j]) : call[j];
                m++;
            }
            double maf = t.maf[i];
            if (maf < 0) {
                s->n_maf_from_truth += f->af_from != NULL;
                maf = an > 0 ? ac / an : NAN;
                if (maf > 0.5) maf = 1.0 - maf;
            }
            spin_score_add_class(s, cls, m, tru, dsc, callc, maf, est);
        }
    }
    if (r < -1) {
        spin_error("read error in imputed file '%s' (truncated or corrupt?)", f->imputed);
        goto end;
    }
    for (int i = 0; i < t.n; i++)
        if (f->sites ? (t.to_score[i] && !t.seen[i]) : !t.seen[i]) s->n_missing++;
    free(s->dosage_source);
    s->dosage_source = strdup(first_src < 0 ? "none" : first_src > SRC_NONE ? "mixed" : src_name[first_src]);
    ret = 0;
end:
    if (fp && hts_close(fp) != 0 && ret == 0) {
        spin_error("error closing '%s'", f->imputed);
        ret = -1;
    }
    if (hdr) bcf_hdr_destroy(hdr);
    bcf_destroy(rec);
    if (tsamp)
        for (int i = 0; i < t.ns; i++) free(tsamp[i]);
    free(tsamp);
    truth_destroy(&t);
    free(map), free(ds), free(call), free(dsc), free(callc), free(tru), free(ploidy);
    free(fbuf), free(gbuf), free(rbuf), free(ks.s);
    return ret;
}

/* ------------------------------------------------------------------ */
/* Reports                                                              */
/* ------------------------------------------------------------------ */

/* CLASS line names, by SPIN_CLASS_* */
static const char *const class_name[SPIN_N_CLASS] = {"snp", "indel", "other", "multiallelic_alt"};

static void fmt_val(char *buf, size_t n, double v)
{
    if (isnan(v)) snprintf(buf, n, "NA");
    else snprintf(buf, n, "%.4f", v);
}

int spin_score_write_tsv(const spin_score_t *s, const spin_score_files_t *f, FILE *fp)
{
    char b[32];
    fprintf(fp, "# spin-impute score %s\n# truth=%s imputed=%s sites=%s af_from=%s\n", spin_version(), f->truth,
            f->imputed, f->sites ? f->sites : "-", f->af_from ? f->af_from : "-");
    fprintf(fp, "SN\tsamples_scored\t%d\n", s->n_sample_common);
    fprintf(fp, "SN\tsites_scored\t%lld\n", (long long)s->n_site);
    fprintf(fp, "SN\tsites_polymorphic\t%lld\n", (long long)s->n_poly);
    fprintf(fp, "SN\tsites_monomorphic_truth\t%lld\n", (long long)s->n_mono);
    fprintf(fp, "SN\tsites_missing_from_imputed\t%lld\n", (long long)s->n_missing);
    fprintf(fp, "SN\tgenotypes_scored\t%lld\n", (long long)s->n_gt);
    fprintf(fp, "SN\tgenotypes_missing\t%lld\n", (long long)s->n_gt_missing);
    fmt_val(b, sizeof b, spin_score_pooled_r2(s));
    fprintf(fp, "SN\tpooled_r2\t%s\n", b);
    fmt_val(b, sizeof b, spin_score_mean_r2(s));
    fprintf(fp, "SN\tmean_r2\t%s\n", b);
    fmt_val(b, sizeof b, spin_score_concordance(s));
    fprintf(fp, "SN\tconcordance\t%s\n", b);
    fmt_val(b, sizeof b, spin_score_nr_concordance(s));
    fprintf(fp, "SN\tnonref_concordance\t%s\n", b);
    fmt_val(b, sizeof b, spin_score_calibration(s));
    fprintf(fp, "SN\tdr2_calibration_r\t%s\n", b);
    fprintf(fp, "SN\tdr2_calibration_sites\t%lld\n", (long long)s->calib.n);
    fprintf(fp, "SN\tdosage_source\t%s\n", s->dosage_source ? s->dosage_source : "none");
    fprintf(fp, "# BIN\tmaf_lo\tmaf_hi\tn_sites\tn_poly\tmean_r2\tagg_r2\n");
    for (int k = 0; k < s->n_bin; k++) {
        char m[32], a[32];
        fmt_val(m, sizeof m, spin_score_bin_mean_r2(s, k));
        fmt_val(a, sizeof a, spin_score_bin_agg_r2(s, k));
        fprintf(fp, "BIN\t%g\t%g\t%lld\t%lld\t%s\t%s\n", s->edge[k], s->edge[k + 1], (long long)s->bin_sites[k],
                (long long)s->bin_poly[k], m, a);
    }
    fprintf(fp, "# CLASS\tclass\tn_sites\tn_poly\tmean_r2\tagg_r2\n");
    for (int c = 0; c < SPIN_N_CLASS; c++) {
        char m[32], a[32];
        fmt_val(m, sizeof m, spin_score_class_mean_r2(s, c));
        fmt_val(a, sizeof a, spin_score_class_agg_r2(s, c));
        fprintf(fp, "CLASS\t%s\t%lld\t%lld\t%s\t%s\n", class_name[c], (long long)s->cls_sites[c],
                (long long)s->cls_poly[c], m, a);
    }
    return ferror(fp) ? -1 : 0;
}

int spin_score_write_table(const spin_score_t *s, const spin_score_files_t *f, FILE *fp)
{
    char b[32];
    fprintf(fp, "truth    %s (%d samples, %lld biallelic sites)\n", f->truth, s->n_sample_truth,
            (long long)s->n_truth_sites);
    fprintf(fp, "imputed  %s (%d samples, %d in truth; %lld records, dosage from %s)\n", f->imputed, s->n_sample_imp,
            s->n_sample_common, (long long)s->n_imp_records, s->dosage_source ? s->dosage_source : "none");
    if (s->sites_from_list)
        fprintf(fp, "sites    %s (%lld listed, %lld not in truth)\n", f->sites, (long long)s->n_list_sites,
                (long long)s->n_list_not_in_truth);
    else
        fprintf(fp, "sites    imputed records (INFO IMP, or IMPUTED without TYPED)\n");
    fprintf(fp, "MAF from %s\n\n", f->af_from ? f->af_from : "truth genotypes");
    fprintf(fp, "%-44s %lld\n", "sites scored", (long long)s->n_site);
    fprintf(fp, "%-44s %lld\n", "  with undefined r2 (monomorphic truth)", (long long)s->n_mono);
    fprintf(fp, "%-44s %lld\n", s->sites_from_list ? "listed truth sites missing from imputed file"
                                                   : "truth sites missing from imputed file",
            (long long)s->n_missing);
    fprintf(fp, "%-44s %lld\n", "imputed records not in truth", (long long)s->n_imp_not_in_truth);
    fprintf(fp, "%-44s %lld\n", "imputed records not scored (typed/unlisted)", (long long)s->n_imp_skipped_typed);
    if (s->n_imp_multiallelic)
        fprintf(fp, "%-44s %lld\n", "multi-allelic records (scored per ALT)", (long long)s->n_imp_multiallelic);
    if (s->n_imp_duplicate) fprintf(fp, "%-44s %lld\n", "duplicate records skipped", (long long)s->n_imp_duplicate);
    if (s->n_swapped) fprintf(fp, "%-44s %lld\n", "records with REF/ALT swapped", (long long)s->n_swapped);
    if (s->n_no_dosage) fprintf(fp, "%-44s %lld\n", "records without DS/HDS/GP/GT", (long long)s->n_no_dosage);
    fprintf(fp, "%-44s %lld\n", "genotypes scored", (long long)s->n_gt);
    fprintf(fp, "%-44s %lld\n", "genotypes with a missing value", (long long)s->n_gt_missing);
    fmt_val(b, sizeof b, spin_score_pooled_r2(s));
    fprintf(fp, "%-44s %s\n", "pooled R2 (all genotype dosages)", b);
    fmt_val(b, sizeof b, spin_score_mean_r2(s));
    fprintf(fp, "%-44s %s\n", "mean per-variant r2", b);
    fmt_val(b, sizeof b, spin_score_concordance(s));
    fprintf(fp, "%-44s %s\n", "genotype concordance", b);
    fmt_val(b, sizeof b, spin_score_nr_concordance(s));
    fprintf(fp, "%-44s %s\n", "non-reference concordance", b);
    fmt_val(b, sizeof b, spin_score_calibration(s));
    fprintf(fp, "%-44s %s (%lld sites)\n", "DR2/R2 calibration (Pearson r vs true r2)", b, (long long)s->calib.n);
    fprintf(fp, "\n%-8s %-8s %8s %8s %9s %9s\n", "MAF>", "MAF<=", "sites", "poly", "mean_r2", "agg_r2");
    for (int k = 0; k < s->n_bin; k++) {
        char m[32], a[32];
        fmt_val(m, sizeof m, spin_score_bin_mean_r2(s, k));
        fmt_val(a, sizeof a, spin_score_bin_agg_r2(s, k));
        fprintf(fp, "%-8g %-8g %8lld %8lld %9s %9s\n", s->edge[k], s->edge[k + 1], (long long)s->bin_sites[k],
                (long long)s->bin_poly[k], m, a);
    }
    if (s->n_out_of_bins) fprintf(fp, "(%lld sites outside the bins)\n", (long long)s->n_out_of_bins);
    fprintf(fp, "\n%-17s %8s %8s %9s %9s\n", "class", "sites", "poly", "mean_r2", "agg_r2");
    for (int c = 0; c < SPIN_N_CLASS; c++) {
        char m[32], a[32];
        fmt_val(m, sizeof m, spin_score_class_mean_r2(s, c));
        fmt_val(a, sizeof a, spin_score_class_agg_r2(s, c));
        fprintf(fp, "%-17s %8lld %8lld %9s %9s\n", class_name[c], (long long)s->cls_sites[c],
                (long long)s->cls_poly[c], m, a);
    }
    return ferror(fp) ? -1 : 0;
}
