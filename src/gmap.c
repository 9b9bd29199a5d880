/* gmap.c -- genetic map: PLINK "chrom id cM bp" lines (as Beagle's map=),
 * plain or gzipped, linear interpolation. A SHAPEIT5/GLIMPSE map (header line
 * "pos chr cM", then "bp chrom cM" lines) is recognised by its header. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <htslib/bgzf.h>
#include <htslib/kstring.h>

#include "match.h"
#include "spin.h"
#include "util.h"

/* Genetic positions beyond this are refused: the longest human chromosome is
 * under 300 cM, and values this large (cM given in bp, or 1e308) overflow the
 * HMM's distance arithmetic into non-finite dosages. */
#define MAX_ABS_CM 1e5
/* Mean rates outside [MIN, MAX] cM/Mb are warned about: human maps average
 * about 1.2 cM/Mb; 1e-6x (cM in Morgans-per-bp) or 1e3x (cM in bp/1000) are
 * units mistakes. */
#define MIN_CM_PER_MB 0.01
#define MAX_CM_PER_MB 50.0

struct spin_gmap_s {
    int n;
    int64_t *bp;  /* strictly increasing */
    double *cm;   /* non-decreasing */
    double rate;  /* mean cM per bp, for extrapolation */
};

void spin_gmap_destroy(spin_gmap_t *m)
{
    if (!m) return;
    free(m->bp);
    free(m->cm);
    free(m);
}

/* splits s in place on blanks; returns the number of fields (<= max) */
static int split_ws(char *s, char **f, int max)
{
    int n = 0;
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == '\r') *s++ = 0;
        if (!*s) break;
        if (n < max) f[n] = s;
        ++n;
        while (*s && *s != ' ' && *s != '\t' && *s != '\r') ++s;
    }
    return n;
}

spin_gmap_t *spin_gmap_load(const char *fn, const char *chrom)
{
    /* BGZF reads plain, gzip and bgzip files alike */
    BGZF *fp = bgzf_open(fn, "r");
    if (!fp) {
        spin_error("cannot open genetic map '%s': %s", fn, strerror(errno));
        return NULL;
    }
    spin_gmap_t *m = calloc(1, sizeof(*m));
    kstring_t ks = {0, 0, NULL};
    int m_alloc = 0, ret, shapeit = 0, seen_data = 0;
    int64_t lineno = 0;
    if (!m) goto oom;
    while ((ret = bgzf_getline(fp, '\n', &ks)) >= 0) {
        ++lineno;
        char *f[4];
        int nf = split_ws(ks.s, f, 4);
        if (nf == 0 || f[0][0] == '#') continue;
        if (!seen_data++ && nf == 3 && !strcmp(f[0], "pos") && !strcmp(f[1], "chr") && !strcmp(f[2], "cM")) {
            shapeit = 1;
            continue;
        }
        if (shapeit) {
            if (nf != 3) {
                spin_error("%s line %lld: expected 3 columns (pos chr cM) in a SHAPEIT5-style map, found %d", fn,
                           (long long)lineno, nf);
                goto err;
            }
            char *bp_field = f[0];
            f[0] = f[1], f[1] = NULL, f[3] = bp_field; /* to PLINK column order: chrom id cM bp */
        } else if (nf != 4) {
            spin_error("%s line %lld: expected 4 whitespace-separated columns (chrom id cM bp), found %d", fn,
                       (long long)lineno, nf);
            goto err;
        }
        if (!spin_chrom_equal(f[0], chrom)) continue;
        char *end;
        errno = 0;
        double cm = strtod(f[2], &end);
        if (errno || *end || end == f[2] || !isfinite(cm)) {
            spin_error("%s line %lld: cM '%s' is not a finite number", fn, (long long)lineno, f[2]);
            goto err;
        }
        if (fabs(cm) > MAX_ABS_CM) {
            spin_error("%s line %lld: cM %g is not a plausible genetic position (|cM| > %g; is the column a base-pair "
                       "position, or the columns in another order? PLINK maps are chrom id cM bp)",
                       fn, (long long)lineno, cm, MAX_ABS_CM);
            goto err;
        }
        errno = 0;
        long long bp = strtoll(f[3], &end, 10);
        if (errno || *end || end == f[3] || bp < 0) {
            spin_error("%s line %lld: position '%s' is not a non-negative integer (columns: chrom id cM bp)", fn,
                       (long long)lineno, f[3]);
            goto err;
        }
        if (m->n > 0 && bp <= m->bp[m->n - 1]) {
            spin_error("%s line %lld: position %lld is not after the previous one (%lld); the map must be sorted "
                       "by position with no duplicates",
                       fn, (long long)lineno, bp, (long long)m->bp[m->n - 1]);
            goto err;
        }
        if (m->n > 0 && cm < m->cm[m->n - 1]) {
            spin_error("%s line %lld: cM %g decreases (previous %g)", fn, (long long)lineno, cm, m->cm[m->n - 1]);
            goto err;
        }
        if (m->n == m_alloc) {
            m_alloc = m_alloc ? m_alloc * 2 : 1024;
            int64_t *b = realloc(m->bp, (size_t)m_alloc * sizeof(*b));
            if (!b) goto oom;
            m->bp = b;
            double *c = realloc(m->cm, (size_t)m_alloc * sizeof(*c));
            if (!c) goto oom;
            m->cm = c;
        }
        m->bp[m->n] = bp, m->cm[m->n] = cm, ++m->n;
    }
    if (ret < -1) {
        spin_error("error reading genetic map '%s' after line %lld (truncated or corrupt file?)", fn,
                   (long long)lineno);
        goto err;
    }
    if (m->n == 0) {
        spin_error("genetic map '%s' has no lines for chromosome '%s' (is it the map of another chromosome?)", fn,
                   chrom);
        goto err;
    }
    if (m->n >= 2 && m->cm[m->n - 1] > m->cm[0])
        m->rate = (m->cm[m->n - 1] - m->cm[0]) / (double)(m->bp[m->n - 1] - m->bp[0]);
    else m->rate = 1e-6;
    double span_mb = m->n >= 2 ? (double)(m->bp[m->n - 1] - m->bp[0]) * 1e-6 : 0;
    double cm_per_mb = m->rate * 1e6;
    spin_info("genetic map '%s': %s format (%s), %d positions on %s, mean %.3g cM/Mb", fn,
              shapeit ? "SHAPEIT5/GLIMPSE" : "PLINK", shapeit ? "pos chr cM" : "chrom id cM bp", m->n, chrom,
              cm_per_mb);
    if (span_mb >= 0.1 && (cm_per_mb < MIN_CM_PER_MB || cm_per_mb > MAX_CM_PER_MB))
        spin_warn("genetic map '%s': the mean rate %.3g cM/Mb over %.2f Mb is implausible for a human map (about "
                  "1 cM/Mb): check that the cM column is in centiMorgans and the columns are in the right order",
                  fn, cm_per_mb, span_mb);
    free(ks.s);
    if (bgzf_close(fp) < 0) {
        spin_error("error closing genetic map '%s'", fn);
        spin_gmap_destroy(m);
        return NULL;
    }
    return m;
oom:
    spin_error("out of memory reading genetic map '%s'", fn);
err:
    free(ks.s);
    bgzf_close(fp);
    spin_gmap_destroy(m);
    return NULL;
}

double spin_gmap_cm(const spin_gmap_t *m, int64_t pos)
{
    if (!m) return (double)pos * 1e-6;
    if (pos <= m->bp[0]) return m->cm[0] - (double)(m->bp[0] - pos) * m->rate;
    if (pos >= m->bp[m->n - 1]) return m->cm[m->n - 1] + (double)(pos - m->bp[m->n - 1]) * m->rate;
    int k = spin_pos_lower_bound(m->bp, m->n, pos); /* bp[k-1] < pos <= bp[k] */
    double f = (double)(pos - m->bp[k - 1]) / (double)(m->bp[k] - m->bp[k - 1]);
    return m->cm[k - 1] + f * (m->cm[k] - m->cm[k - 1]);
}
