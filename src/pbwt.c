/* pbwt.c -- PBWT match index: panel sweep once per site, targets advanced by
 * rank counts, P longest matches by walking out from each target's insertion
 * point. See pbwt.h for the contract and doc/pbwt.md for the algorithm.
 *
 * Notation (internal step i = 0, 1, ... over the sites in the direction's
 * order; "before step i" = after i sites have been processed):
 *   a[r]   panel haplotype at PBWT rank r (r in [0, N)), sorted by its alleles
 *          at steps i-1, i-2, ..., 0 read in that order, then by index;
 *   d[r]   divergence: the step where the match between a[r-1] and a[r] (ending
 *          at step i-1) starts, so it spans steps [d[r], i); d[r] = i means no
 *          match; d[0] is unused;
 *   gap t  the place between a[t-1] and a[t] (t in [0, N]) where a target sorts;
 *          du / dd: the start of its match with a[t-1] / a[t] (i if none).
 * Match starts of haplotypes further away are running maxima of d (the match
 * with a[r] is the shortest of the adjacent matches between it and the gap),
 * which is what makes the walk and the update O(1) per step. */
#include <stdlib.h>
#include <string.h>

#include "pbwt.h"
#include "util.h"

/* What the targets read at one step: the panel's column and gap extensions. */
typedef struct {
    uint64_t *col; /* [nwc] allele at the step's site of a[r], bit r */
    int *cum;      /* [nwc + 1] ones in col words before word w */
    /* per gap t in [0, N]: g[4t + x] (x = target allele) = max of d over the ranks
     * between the last rank < t carrying x and gap t (the extension of du);
     * g[4t + 2 + x] = the same between gap t and the first rank >= t carrying x
     * (the extension of dd). i + 1 when there is no such rank (no match after). */
    int *g;
} step_buf_t;

/* With threads, the panel step of site i + 1 runs while targets do site i, so
 * orders rotate through 3 buffers (before i: read by step i; after i: read by
 * the targets' walk and by step i + 1; after i + 1: written) and step buffers
 * through 2. Serially the same buffers are used, one step at a time. */
struct spin_pbwt_s {
    spin_pbwt_opt_t o;
    int N;          /* eligible haplotypes */
    int step;       /* internal steps done */
    int ready;      /* the panel step of internal step `step` is already done */
    int *a[3], *d[3]; /* PBWT order [N] and divergences [N + 1] before step j: index j % 3 */
    step_buf_t sb[2]; /* step j's: index j % 2 */
    int nwc;
    int *tpos, *tdu, *tdd; /* [n_tgt] gap, match starts with the haplotypes above / below */
};


static inline int imax(int a, int b) { return a > b ? a : b; }

void spin_pbwt_destroy(spin_pbwt_t *w)
{
    if (!w) return;
    for (int b = 0; b < 3; b++) free(w->a[b]), free(w->d[b]);
    for (int b = 0; b < 2; b++) free(w->sb[b].col), free(w->sb[b].cum), free(w->sb[b].g);
    free(w->tpos), free(w->tdu), free(w->tdd);
    free(w);
}

spin_pbwt_t *spin_pbwt_init(const spin_pbwt_opt_t *o)
{
    if (!o || o->P < 1 || (o->dir != SPIN_PBWT_FORWARD && o->dir != SPIN_PBWT_BACKWARD) || o->n_hap < 0 ||
        o->n_site < 0 || o->n_tgt < 0 || o->n_excl < 0 || o->nw < (o->n_hap + 63) / 64)
        return NULL;
    if (o->n_site > 0 && (!o->sites || (o->n_hap > 0 && !o->hap) || (o->n_tgt > 0 && (!o->ta || o->ld < (size_t)o->n_tgt))))
        return NULL;
    if (o->n_excl > 0 && !o->excl) return NULL;
    for (int i = 0; i < o->n_excl; i++)
        if (o->excl[i] < 0 || o->excl[i] >= o->n_hap) return NULL;
    spin_pbwt_t *w = calloc(1, sizeof(*w));
    if (!w) return NULL;
    w->o = *o;
    size_t nh = (size_t)o->n_hap + 1, nt = (size_t)o->n_tgt + 1;
    w->nwc = (o->n_hap + 63) / 64;
    int bad = 0;
    for (int b = 0; b < 3; b++) {
        w->a[b] = malloc(nh * sizeof(int)), w->d[b] = malloc(nh * sizeof(int));
        bad |= !w->a[b] || !w->d[b];
    }
    for (int b = 0; b < 2; b++) {
        w->sb[b].col = calloc((size_t)w->nwc + 1, sizeof(uint64_t));
        w->sb[b].cum = malloc(((size_t)w->nwc + 1) * sizeof(int));
        w->sb[b].g = malloc(4 * nh * sizeof(int));
        bad |= !w->sb[b].col || !w->sb[b].cum || !w->sb[b].g;
    }
    w->tpos = malloc(nt * sizeof(int)), w->tdu = malloc(nt * sizeof(int)), w->tdd = malloc(nt * sizeof(int));
    if (bad || !w->tpos || !w->tdu || !w->tdd) {
        spin_pbwt_destroy(w);
        return NULL;
    }
    /* eligible haplotypes in index order: the PBWT order before any site */
    uint64_t *ex = w->sb[0].col; /* scratch: excluded bits */
    for (int i = 0; i < o->n_excl; i++) ex[o->excl[i] >> 6] |= 1ULL << (o->excl[i] & 63);
    int N = 0;
    for (int j = 0; j < o->n_hap; j++)
        if (!((ex[j >> 6] >> (j & 63)) & 1)) w->a[0][N++] = j;
    memset(ex, 0, ((size_t)w->nwc + 1) * sizeof(uint64_t));
    w->N = N;
    for (int r = 0; r <= N; r++) w->d[0][r] = 0; /* every match starts at step 0, empty */
    /* targets sort before every haplotype (index -1): gap 0, empty match below */
    for (int m = 0; m < o->n_tgt; m++) w->tpos[m] = 0, w->tdu[m] = 0, w->tdd[m] = 0;
    return w;
}

int spin_pbwt_n_eligible(const spin_pbwt_t *w) { return w->N; }

/* The panel's part of step i at panel site s: col/cum (alleles in PBWT order),
 * the gap extensions g, and the next order a2/d2 (Durbin's Algorithm 2). O(N).
 * Reads order i % 3, writes order (i + 1) % 3 and step buffer i % 2. */
static void panel_step(spin_pbwt_t *w, int i, int s)
{
    const int N = w->N, none = i + 1;
    const uint64_t *hb = w->o.hap + (size_t)s * w->o.nw;
    const int *a = w->a[i % 3], *d = w->d[i % 3];
    step_buf_t *sb = &w->sb[i % 2];
    int *g = sb->g;
    uint64_t *col = sb->col;
    /* backward over gaps, gathering the column on the way: e0 / e1 = max d
     * between gap t and the first rank >= t carrying 0 / 1. Branch-free: the
     * allele is a coin flip the predictor cannot learn. */
    g[4 * N + 2] = g[4 * N + 3] = none;
    int e0 = none, e1 = none, c1 = 0;
    uint64_t word = 0;
    for (int t = N - 1; t >= 0; t--) {
        int h = a[t];
        int bit = (int)((hb[h >> 6] >> (h & 63)) & 1);
        word |= (uint64_t)bit << (t & 63);
        if (!(t & 63)) col[t >> 6] = word, word = 0;
        c1 += bit;
        int dn = t + 1 < N ? d[t + 1] : none;
        e0 = bit ? imax(dn, e0) : 0;
        e1 = bit ? 0 : imax(dn, e1);
        g[4 * t + 2] = e0, g[4 * t + 3] = e1;
    }
    int acc = 0;
    for (int x = 0; x < w->nwc; x++) sb->cum[x] = acc, acc += spin_popcount64(col[x]);
    sb->cum[w->nwc] = acc;
    /* forward over ranks: p / q = max d since the last 0 / 1 (Durbin's
     * Algorithm 2); their values before rank r are gap r's up extensions */
    int p = none, q = none, u = 0, v = N - c1;
    int *a2 = w->a[(i + 1) % 3], *d2 = w->d[(i + 1) % 3];
    for (int r = 0; r < N; r++) {
        g[4 * r] = p, g[4 * r + 1] = q;
        p = imax(p, d[r]), q = imax(q, d[r]);
        int bit = (int)((col[r >> 6] >> (r & 63)) & 1);
        int dst = bit ? v : u;
        a2[dst] = a[r], d2[dst] = bit ? q : p;
        u += bit ^ 1, v += bit;
        p = bit ? p : 0, q = bit ? 0 : q;
    }
    g[4 * N] = p, g[4 * N + 1] = q;
}

/* Target m at step i: its allele (filled if missing), new gap and divergences,
 * then its P neighbours from the new order. O(1) + O(P); reads panel state only. */
static void target_step(spin_pbwt_t *w, int i, int k, int m, int *hap, int *len, int8_t *fill)
{
    const step_buf_t *sb = &w->sb[i % 2];
    const int N = w->N, P = w->o.P, c0 = N - sb->cum[w->nwc];
    int t = w->tpos[m], du = w->tdu[m], dd = w->tdd[m];
    int x = w->o.ta[(size_t)k * w->o.ld + (size_t)m];
    if (x < 0 || x > 1) {
        /* missing: continue the longer of the two adjacent matches (above on ties) */
        int r = (t > 0 && (t == N || du <= dd)) ? t - 1 : t;
        x = r < N ? (int)((sb->col[r >> 6] >> (r & 63)) & 1) : 0;
    }
    if (fill) fill[m] = (int8_t)x;
    /* rank: ones before gap t */
    int ones = t < N ? sb->cum[t >> 6] + spin_popcount64(sb->col[t >> 6] & ((1ULL << (t & 63)) - 1)) : sb->cum[w->nwc];
    int t2 = x ? c0 + ones : t - ones;
    du = imax(du, sb->g[4 * t + x]);
    dd = imax(dd, sb->g[4 * t + 2 + x]);
    w->tpos[m] = t2, w->tdu[m] = du, w->tdd[m] = dd;
    /* the walk: matches further out start at running maxima of d2 */
    const int *a2 = w->a[(i + 1) % 3], *d2 = w->d[(i + 1) % 3];
    int *oh = hap + (size_t)m * P, *ol = len ? len + (size_t)m * P : NULL;
    int iu = t2 - 1, id = t2, su = du, sd = dd, j = 0;
    for (; j < P && (iu >= 0 || id < N); j++) {
        if (iu >= 0 && (id >= N || su <= sd)) {
            oh[j] = a2[iu];
            if (ol) ol[j] = i + 1 - su;
            su = imax(su, d2[iu]);
            iu--;
        } else {
            oh[j] = a2[id];
            if (ol) ol[j] = i + 1 - sd;
            if (++id < N) sd = imax(sd, d2[id]);
        }
    }
    for (; j < P; j++) {
        oh[j] = -1;
        if (ol) ol[j] = -1;
    }
}

int spin_pbwt_next_site(spin_pbwt_t *w, int *hap, int *len, int8_t *fill)
{
    if (w->step >= w->o.n_site) return -1;
    const int i = w->step, n = w->o.n_site;
    const int k = w->o.dir == SPIN_PBWT_FORWARD ? i : n - 1 - i;
    if (!w->ready) panel_step(w, i, w->o.sites[k]);
    w->ready = 0;
    const int M = w->o.n_tgt;
    if (w->o.n_threads <= 1 || M <= 64) { /* too few targets to pay for a parallel region */
        for (int m = 0; m < M; m++) target_step(w, i, k, m, hap, len, fill);
    } else {
        /* one thread runs the next site's panel step, then joins the targets
         * (dynamic chunks); each target is one fixed computation either way */
        const int k1 = i + 1 >= n ? -1 : w->o.dir == SPIN_PBWT_FORWARD ? i + 1 : n - 2 - i;
#pragma omp parallel num_threads(w->o.n_threads)
        {
#pragma omp single nowait
            if (k1 >= 0) panel_step(w, i + 1, w->o.sites[k1]), w->ready = 1;
#pragma omp for schedule(dynamic, 64) nowait
            for (int m = 0; m < M; m++) target_step(w, i, k, m, hap, len, fill);
        }
    }
    w->step++;
    return k;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int spin_pbwt_union(int *ids, int n)
{
    if (n <= 0) return 0;
    qsort(ids, (size_t)n, sizeof(int), cmp_int);
    int o = 0;
    for (int i = 0; i < n; i++)
        if (ids[i] >= 0 && (o == 0 || ids[o - 1] != ids[i])) ids[o++] = ids[i];
    return o;
}
