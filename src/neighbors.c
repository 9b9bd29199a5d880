/* neighbors.c -- the K panel haplotypes that match a target longest around a
 * window centre (the semi-parametric part of the predictor; cf. IMPUTE5's PBWT
 * state selection). See train.h for the contract. */
#include <stdlib.h>
#include <string.h>

#include "train.h"

struct spin_nbr_ws_s {
    int n_hap, nw, m_cnt;
    uint64_t *base;  /* [nw] eligible haplotypes (1 bits) */
    uint64_t *alive; /* [nw] */
    int *wlist;      /* [nw] indices of words with a live haplotype */
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
    ws->left = malloc((size_t)(n_hap ? n_hap : 1) * sizeof(int));
    ws->right = malloc((size_t)(n_hap ? n_hap : 1) * sizeof(int));
    if (!ws->base || !ws->alive || !ws->wlist || !ws->left || !ws->right) {
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

/* Walks sites k = from, from+step, ... (n_steps of them); run[j] = the number of
 * steps haplotype j survives (stays equal to the target). The words that still hold
 * a live haplotype are kept in a list, compacted as they empty: live sets shrink
 * fast, so after a few sites a step touches a handful of words, not n_hap/64. */
static void runs(spin_nbr_ws_t *ws, const spin_panel_t *p, const int *sites, const int8_t *ta, int from, int step,
                 int n_steps, int *run)
{
    int nw = ws->nw, nl = 0;
    int *live = ws->wlist;
    memcpy(ws->alive, ws->base, (size_t)nw * sizeof(uint64_t));
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

static int cmp_score_idx(const void *a, const void *b)
{
    const int *x = a, *y = b; /* pairs (score, index) */
    if (x[0] != y[0]) return y[0] - x[0];
    return x[1] - y[1];
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

    for (int j = 0; j < ws->n_hap; j++) ws->left[j] = ws->right[j] = -1;
    runs(ws, p, sites, ta, ic - 1, -1, ic, ws->left);
    runs(ws, p, sites, ta, ic, 1, n - ic, ws->right);
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

    if (saved) {
        memcpy(ws->base, saved, (size_t)ws->nw * sizeof(uint64_t));
        free(saved);
    } else {
        for (int i = n_save - 1; i >= 0; i--) ws->base[excl[i] >> 6] = save[i];
    }
    return K;
}

void spin_nbr_ext(const spin_panel_t *p, const int *sites, const int8_t *ta, int k0, int k1, int n, int K,
                  const int *nbr, double centre, float *ext)
{
    for (int j = 0; j < K; j++) {
        float *e = ext + 4 * j;
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
