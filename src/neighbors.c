/* neighbors.c -- the K panel haplotypes that match a target longest around a
 * window centre (the semi-parametric part of the predictor; cf. IMPUTE5's PBWT
 * state selection). See train.h for the contract. */
#include <stdlib.h>
#include <string.h>

#include "neighbors.h"

struct spin_nbr_ws_s {
    int n_hap, nw, m_cnt;
    uint64_t *base;  /* [nw] eligible haplotypes (1 bits) */
    uint64_t *alive; /* [nw] */
    int *wlist;      /* [nw] indices of words with a live haplotype */
    uint64_t *la, *ra; /* [nw] pruning: alive after s steps left / right */
    int *pairs, m_pairs;
    int *left, *right, *cnt;
};

spin_nbr_ws_t *spin_nbr_ws_init(int n_hap)
{
    spin_nbr_ws_t *ws = calloc(1, sizeof(*ws));
    if (!ws) return NULL;
    ws->n_hap = n_hap;
    ws->nw = (n_hap + 63) / 64;
    ws->base = malloc((size_t)(ws->nw ? ws->nw : 1) * sizeof(uint64_t));
    ws->alive = malloc((size_t)(ws->nw ? ws->nw : 1) * sizeof(uint64_t));
    ws->wlist = malloc((size_t)(ws->nw ? ws->nw : 1) * sizeof(int));
    ws->la = malloc((size_t)(ws->nw ? ws->nw : 1) * sizeof(uint64_t));
    ws->ra = malloc((size_t)(ws->nw ? ws->nw : 1) * sizeof(uint64_t));
    ws->left = malloc((size_t)(n_hap ? n_hap : 1) * sizeof(int));
    ws->right = malloc((size_t)(n_hap ? n_hap : 1) * sizeof(int));
    if (!ws->base || !ws->alive || !ws->wlist || !ws->la || !ws->ra || !ws->left || !ws->right) {
        spin_nbr_ws_destroy(ws);
        return NULL;
    }
    for (int w = 0; w < ws->nw; w++) ws->base[w] = ~0ULL;
    if (n_hap & 63) ws->base[ws->nw - 1] = (1ULL << (n_hap & 63)) - 1;
    return ws;
}

void spin_nbr_ws_destroy(spin_nbr_ws_t *ws)
{
    if (!ws) return;
    free(ws->base), free(ws->alive), free(ws->wlist), free(ws->left), free(ws->right), free(ws->cnt);
    free(ws->la), free(ws->ra), free(ws->pairs);
    free(ws);
}

int spin_nbr_ws_exclude(spin_nbr_ws_t *ws, const int *haps, int n)
{
    for (int i = 0; i < n; i++) {
        if (haps[i] < 0 || haps[i] >= ws->n_hap) return -1;
        ws->base[haps[i] >> 6] &= ~(1ULL << (haps[i] & 63));
    }
    return 0;
}

/* Walks sites k = from, from+step, ... (n_steps of them) starting from the
 * haplotypes in init; run[j] = the number of steps haplotype j survives (stays
 * equal to the target), written for those haplotypes only. The words that still hold
 * a live haplotype are kept in a list, compacted as they empty: live sets shrink
 * fast, so after a few sites a step touches a handful of words, not n_hap/64. */
static void runs(spin_nbr_ws_t *ws, const spin_panel_t *p, const int *sites, const int8_t *ta, int from, int step,
                 int n_steps, const uint64_t *init, int *run)
{
    int nw = ws->nw, nl = 0;
    int *live = ws->wlist;
    memcpy(ws->alive, init, (size_t)nw * sizeof(uint64_t));
    for (int w = 0; w < nw; w++)
        if (ws->alive[w]) live[nl++] = w;
    int st = 0;
    for (; st < n_steps && nl > 0; st++) {
        int k = from + st * step;
        int a = ta[k];
        if (a < 0) continue; /* missing target allele matches every haplotype */
        const uint64_t *hb = p->hap + (size_t)sites[k] * p->nw;
        int o = 0;
        for (int i = 0; i < nl; i++) {
            int w = live[i];
            uint64_t m = a ? hb[w] : ~hb[w];
            uint64_t dead = ws->alive[w] & ~m;
            if (dead) {
                ws->alive[w] &= m;
                while (dead) {
                    int b = __builtin_ctzll(dead);
                    run[(w << 6) + b] = st;
                    dead &= dead - 1;
                }
            }
            if (ws->alive[w]) live[o++] = w;
        }
        nl = o;
    }
    for (int i = 0; i < nl; i++) {
        int w = live[i];
        uint64_t al = ws->alive[w];
        while (al) {
            int b = __builtin_ctzll(al);
            run[(w << 6) + b] = n_steps;
            al &= al - 1;
        }
    }
}

/* Undoes spin_nbr_select's per-call exclusions (saved: whole copy, when > 8). */
static void restore_excl(spin_nbr_ws_t *ws, const int *excl, int n_excl, const uint64_t *save, uint64_t *saved)
{
    if (saved) {
        memcpy(ws->base, saved, (size_t)ws->nw * sizeof(uint64_t));
        free(saved);
    } else {
        for (int i = (n_excl < 8 ? n_excl : 8) - 1; i >= 0; i--) ws->base[excl[i] >> 6] = save[i];
    }
}

static int cmp_score_idx(const void *a, const void *b)
{
    const int *x = a, *y = b; /* pairs (score, index) */
    if (x[0] != y[0]) return y[0] - x[0];
    return x[1] - y[1];
}

/* Bits set in x. Branch-free SWAR count: the portable build has no POPCNT
 * instruction and __builtin_popcountll becomes a libgcc call. */
static inline int popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (int)((x * 0x0101010101010101ULL) >> 56);
}

/* Candidates kept by the pruned search at first: at most this many haplotypes
 * (then 4x, 16x, ... up to half the panel). More candidates mean fewer steps
 * taken, hence a lower bound for the rest to beat. */
static int prune_max(int K, int n_hap)
{
    int c = K * 16 > 256 ? K * 16 : 256;
    return n_hap / 16 > c ? n_hap / 16 : c;
}

/* The top K without a score for every haplotype. Walk both sides in lockstep on
 * whole bitsets (no per-haplotype work) until the haplotypes still matching on
 * the left or on the right after s steps number at most cap. Every other
 * haplotype has L < s and R < s, so a score of at most (sl - 1) + (sr - 1) (sl, sr:
 * steps actually taken per side). Exact runs are then computed for the candidates
 * only; if the K-th best candidate beats that bound, no other haplotype can reach
 * or tie it and the answer is exact. Returns K, or -2 when it cannot prove that
 * (too few candidates, a side with no sites, or the bound not beaten). */
static int select_pruned(spin_nbr_ws_t *ws, const spin_panel_t *p, int n, const int *sites, const int8_t *ta,
                         int ic, int K, int cap, int *out, int *score_out)
{
    const int nw = ws->nw, nl = ic, nr = n - ic;
    if (nl == 0 || nr == 0) return -2;
    memcpy(ws->la, ws->base, (size_t)nw * sizeof(uint64_t));
    memcpy(ws->ra, ws->base, (size_t)nw * sizeof(uint64_t));
    int sl = 0, sr = 0, u = 0;
    for (int st = 0; st < nl || st < nr; st++) {
        for (int side = 0; side < 2; side++) {
            int ns = side ? nr : nl, k = side ? ic + st : ic - 1 - st;
            if (st >= ns) continue;
            side ? ++sr : ++sl;
            int a = ta[k];
            if (a < 0) continue;
            const uint64_t *hb = p->hap + (size_t)sites[k] * p->nw;
            uint64_t *m = side ? ws->ra : ws->la;
            if (a)
                for (int w = 0; w < nw; w++) m[w] &= hb[w];
            else
                for (int w = 0; w < nw; w++) m[w] &= ~hb[w];
        }
        u = 0;
        for (int w = 0; w < nw; w++) u += popcount64(ws->la[w] | ws->ra[w]);
        if (u <= cap) break;
    }
    if (u < K || u > cap) return -2;
    for (int w = 0; w < nw; w++) ws->la[w] |= ws->ra[w]; /* la: the candidates */
    runs(ws, p, sites, ta, ic - 1, -1, nl, ws->la, ws->left);
    runs(ws, p, sites, ta, ic, 1, nr, ws->la, ws->right);
    /* the K best candidates: a histogram of scores gives the K-th best; those above
     * it are sorted (fewer than K), ties at it are taken in index order */
    int max_s = n + 1;
    if (ws->m_cnt < max_s + 1) {
        int *c = realloc(ws->cnt, (size_t)(max_s + 1) * sizeof(int));
        if (!c) return -1;
        ws->cnt = c, ws->m_cnt = max_s + 1;
    }
    if (ws->m_pairs < 2 * K) {
        int *q = realloc(ws->pairs, (size_t)2 * K * sizeof(int));
        if (!q) return -1;
        ws->pairs = q, ws->m_pairs = 2 * K;
    }
    memset(ws->cnt, 0, (size_t)(max_s + 1) * sizeof(int));
    for (int w = 0; w < nw; w++)
        for (uint64_t b = ws->la[w]; b; b &= b - 1) {
            int j = (w << 6) + __builtin_ctzll(b);
            ws->cnt[ws->left[j] + ws->right[j]]++;
        }
    int thr = max_s, acc = 0;
    while (thr > 0 && acc + ws->cnt[thr] < K) acc += ws->cnt[thr--];
    if (thr <= (sl - 1) + (sr - 1)) return -2;
    int *pr = ws->pairs, a = 0, n_at = K - acc;
    for (int w = 0; w < nw && (a < acc || n_at > 0); w++)
        for (uint64_t b = ws->la[w]; b; b &= b - 1) {
            int j = (w << 6) + __builtin_ctzll(b), sc = ws->left[j] + ws->right[j];
            if (sc > thr) pr[2 * a] = sc, pr[2 * a + 1] = j, a++;
            else if (sc == thr && n_at > 0) out[K - n_at] = j, n_at--;
        }
    qsort(pr, (size_t)acc, 2 * sizeof(int), cmp_score_idx);
    for (int i = 0; i < acc; i++) out[i] = pr[2 * i + 1];
    if (score_out)
        for (int i = 0; i < K; i++) score_out[i] = ws->left[out[i]] + ws->right[out[i]];
    return K;
}

int spin_nbr_select(spin_nbr_ws_t *ws, const spin_panel_t *p, int n, const int *sites, const int8_t *ta,
                    int ic, const int *excl, int n_excl, int K, int *out, int *score_out)
{
    if (K <= 0) return 0;
    if (ic < 0) ic = 0;
    if (ic > n) ic = n;
    uint64_t save[8];
    int n_save = n_excl < 8 ? n_excl : 8;
    /* per-call exclusions: clear bits in base, restore after */
    uint64_t *saved = n_excl > 8 ? malloc((size_t)ws->nw * sizeof(uint64_t)) : NULL;
    if (saved) memcpy(saved, ws->base, (size_t)ws->nw * sizeof(uint64_t));
    for (int i = 0; i < n_save; i++) save[i] = ws->base[excl[i] >> 6];
    for (int i = 0; i < n_excl; i++) ws->base[excl[i] >> 6] &= ~(1ULL << (excl[i] & 63));

    /* pruned search with a growing candidate budget; the full scan when that fails */
    int got = -2;
    for (int cap = prune_max(K, ws->n_hap); got == -2 && cap <= ws->n_hap / 2; cap *= 4)
        got = select_pruned(ws, p, n, sites, ta, ic, K, cap, out, score_out);
    if (got != -2) {
        restore_excl(ws, excl, n_excl, save, saved);
        return got;
    }
    for (int j = 0; j < ws->n_hap; j++) ws->left[j] = ws->right[j] = -1;
    runs(ws, p, sites, ta, ic - 1, -1, ic, ws->base, ws->left);
    runs(ws, p, sites, ta, ic, 1, n - ic, ws->base, ws->right);
    int max_s = n + 1;
    if (ws->m_cnt < max_s + 1) {
        int *c = realloc(ws->cnt, (size_t)(max_s + 1) * sizeof(int));
        if (!c) return -1;
        ws->cnt = c, ws->m_cnt = max_s + 1;
    }
    memset(ws->cnt, 0, (size_t)(max_s + 1) * sizeof(int));
    int n_elig = 0;
    for (int j = 0; j < ws->n_hap; j++) {
        if (ws->left[j] < 0) continue; /* excluded: never set */
        ws->cnt[ws->left[j] + ws->right[j]]++, n_elig++;
    }
    if (K > n_elig) K = n_elig;
    /* threshold score: the K-th best */
    int thr = max_s, acc = 0;
    while (thr > 0 && acc + ws->cnt[thr] < K) acc += ws->cnt[thr--];
    int n_above = acc, n_at = K - acc, o = 0, a = 0;
    int pairs[2 * 64], *pr = n_above <= 64 ? pairs : malloc((size_t)n_above * 2 * sizeof(int));
    for (int j = 0; j < ws->n_hap && (a < n_above || n_at > 0); j++) {
        if (ws->left[j] < 0) continue;
        int s = ws->left[j] + ws->right[j];
        if (s > thr) pr[2 * a] = s, pr[2 * a + 1] = j, a++;
        else if (s == thr && n_at > 0) out[n_above + (K - acc - n_at)] = j, n_at--;
    }
    qsort(pr, (size_t)n_above, 2 * sizeof(int), cmp_score_idx);
    for (int i = 0; i < n_above; i++) out[o++] = pr[2 * i + 1];
    if (score_out)
        for (int i = 0; i < K; i++) score_out[i] = ws->left[out[i]] + ws->right[out[i]];
    if (pr != pairs) free(pr);

    restore_excl(ws, excl, n_excl, save, saved);
    return K;
}

void spin_nbr_beyond(const spin_panel_t *p, const int *sites, const int8_t *ta, int k0, int k1, int n, int K,
                     const int *nbr, double centre, float *beyond)
{
    for (int j = 0; j < K; j++) {
        float *e = beyond + 4 * j;
        e[1] = e[3] = -1.0f, e[0] = e[2] = 0.0f;
        if (k0 > 0) {
            int k = k0 - 1;
            for (; k >= 0; k--)
                if (ta[k] >= 0 && ta[k] != spin_panel_allele(p, sites[k], nbr[j])) break;
            e[1] = k >= 0 ? 0.0f : 1.0f;
            e[0] = (float)(p->cm[sites[k >= 0 ? k : 0]] - centre);
        }
        if (k1 < n) {
            int k = k1;
            for (; k < n; k++)
                if (ta[k] >= 0 && ta[k] != spin_panel_allele(p, sites[k], nbr[j])) break;
            e[3] = k < n ? 0.0f : 1.0f;
            e[2] = (float)(p->cm[sites[k < n ? k : n - 1]] - centre);
        }
    }
}
