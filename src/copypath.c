/* copypath.c -- the copy path (copypath.h, doc/architecture.md "The model"):
 * the gaps of a window; features per (neighbour, gap): IBS distances to the
 * nearest typed mismatch on each side, and Li-Stephens posteriors of the K
 * neighbours; the score MLP over them; the softmax mix of the neighbours'
 * alleles. The backward pass of score and mix is training's (model_train.c).
 *
 * Everything runs on a compact view of the row: the T typed tokens, the
 * neighbours' alleles there transposed to [T x K] (so inner loops run over
 * neighbours, contiguous), and for each gap the typed tokens that bound it.
 *
 * The HMM: the K neighbours are the hidden states, typed tokens the
 * observations (emission 1-eps on a match, eps on a mismatch, 1 when either
 * allele is missing); between typed tokens the chain jumps to a uniformly drawn
 * state with probability rho = 1 - exp(-lambda * dcM). A gap between typed
 * tokens t and t+1 is read at its mean cM x: forward mass at t carried to x,
 * times backward mass at t+1 carried back to x, normalised over the K states.
 * Forward and backward vectors stay unnormalised with their sums kept alongside
 * (only ratios within a gap matter) and are rescaled when a sum gets small
 * (HMM_RESCALE). Cost O(K * T) per rate. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "copypath.h"
#include "nn.h"

/* Switch rates (per cM) of the posterior features, 4x apart; the network weighs
 * them. Untrained, 20 suited eur_lct and 5 sim_ooa3; trained, rates {5, 20} gave
 * mean r2 .8202/.9339, {1.25..80} .8212/.9356, {0.3..80} .8211/.9368 (stage 1). */
#ifndef SPIN_HMM_RATES
#define SPIN_HMM_RATES {0.3f, 1.25f, 5.0f, 20.0f, 80.0f}
#endif
#define HMM_EPS 0.01f
static const float hmm_rate[SPIN_NHMM] = SPIN_HMM_RATES;

typedef struct {
    int T, ng, K;
    int *tk;       /* [T] token index of each typed token */
    int *gl;       /* [ng] typed index left of each gap (-1: none); gr = gl + 1 (T: none) */
    int *arow;     /* [T] row of alpha holding the forward vector at typed index t, -1 if
                    * no gap reads it (those use two rolling rows after the nrow kept) */
    int nrow;
    const int8_t *nbt; /* [T x K] neighbour alleles at typed tokens (w->nbt, or transposed from nb) */
    float *em;     /* [T x K] emission probabilities (HMM only) */
    float *alpha;  /* [(nrow + 2) x K] (room for T x K) */
    float *eb;     /* [K] */
} copy_view_t;

size_t spin_copy_scratch_size(int hmm, int D, int nu, int K)
{
    size_t d = (size_t)D, k = (size_t)(K > 0 ? K : 1);
    size_t n = 2 * d + (size_t)nu + 4 * k + 16 + (d * k + 3) / 4 + 16; /* tk, arow, gl, mm[2K], nbt */
    if (hmm) n += 2 * d * k + 2 * k + d + 16; /* em, alpha, eb, forward sums, one gap's posterior */
    return n + 64;
}

static void view_init(copy_view_t *v, const spin_wtok_t *w, int ng, const int *g0, const int8_t *row, int K,
                      const int8_t *nb, int hmm, float eps, float *scratch, int **mm)
{
    const int D = w->D;
    char *p = (char *)scratch;
    v->K = K, v->ng = ng;
    v->tk = (int *)p, p += (size_t)D * sizeof(int);
    v->arow = (int *)p, p += (size_t)D * sizeof(int);
    v->gl = (int *)p, p += (size_t)(ng + 1) * sizeof(int);
    *mm = (int *)p, p += (size_t)2 * K * sizeof(int);
    p += (16 - ((uintptr_t)p & 15)) & 15;
    int8_t *nbt = (int8_t *)p;
    p += (size_t)D * K;
    p += (64 - ((uintptr_t)p & 63)) & 63;
    v->em = (float *)p, v->alpha = v->em + (size_t)D * K, v->eb = v->alpha + (size_t)D * K;
    int T = 0;
    for (int d = 0; d < D; ++d)
        if (w->typed[d]) v->tk[T++] = d;
    v->T = T;
    for (int g = 0, t = 0; g < ng; ++g) {
        int d0 = w->uidx[g0[g]];
        while (t < T && v->tk[t] < d0) ++t;
        v->gl[g] = t - 1;
    }
    for (int t = 0; t < T; ++t) v->arow[t] = -1;
    for (int g = 0; g < ng; ++g)
        if (v->gl[g] >= 0) v->arow[v->gl[g]] = -2; /* read by a gap */
    v->nrow = 0;
    for (int t = 0; t < T; ++t)
        if (v->arow[t] == -2) v->arow[t] = v->nrow++;
    v->nbt = w->nbt ? w->nbt : nbt;
    if (!w->nbt)
        for (int t = 0; t < T; ++t) {
            int8_t *o = nbt + (size_t)t * K;
            const int8_t *src = nb + v->tk[t];
            NN_SIMD
            for (int j = 0; j < K; ++j) o[j] = src[(size_t)j * D];
        }
    if (!hmm) return;
    for (int t = 0; t < T; ++t) {
        float *e = v->em + (size_t)t * K;
        const int8_t *b = v->nbt + (size_t)t * K;
        int r = row[v->tk[t]];
        NN_SIMD
        for (int j = 0; j < K; ++j) e[j] = r < 0 || b[j] < 0 ? 1.0f : b[j] == r ? 1.0f - eps : eps;
    }
}

/* mm[j] = t for every neighbour j whose allele at typed index t is known and differs
 * from the target's (a missing target allele mismatches nothing). */
static inline void mark_mismatches(const copy_view_t *v, const int8_t *row, int t, int *mm)
{
    const int K = v->K, r = row[v->tk[t]];
    if (r < 0) return;
    const int8_t *b = v->nbt + (size_t)t * K;
    NN_SIMD
    for (int j = 0; j < K; ++j) mm[j] = b[j] >= 0 && b[j] != r ? t : mm[j];
}

/* IBS features f[(j * ng + g) * stride + 0..SPIN_NIBS) of every neighbour. */
static void ibs(const copy_view_t *v, const spin_wtok_t *w, const float *mid, const int8_t *row, const float *beyond,
                int *mm, int stride, float *F)
{
    const int K = v->K, T = v->T, ng = v->ng;
    const float *dcm = w->dcm;
    /* left: nearest typed mismatch at or before gl[g]; censored at the first typed token */
    for (int j = 0; j < K; ++j) mm[j] = -1;
    for (int g = 0, t = 0; g < ng; ++g) {
        for (; t <= v->gl[g]; ++t) mark_mismatches(v, row, t, mm);
        for (int j = 0; j < K; ++j) {
            float *fg = F + ((size_t)j * ng + g) * stride;
            if (mm[j] >= 0) fg[0] = mid[g] - dcm[v->tk[mm[j]]], fg[2] = 0.0f;
            else if (beyond && beyond[4 * j + 1] >= 0) fg[0] = mid[g] - beyond[4 * j], fg[2] = beyond[4 * j + 1];
            else fg[0] = v->gl[g] >= 0 ? mid[g] - dcm[v->tk[0]] : 0.0f, fg[2] = 1.0f;
        }
    }
    /* right: nearest typed mismatch at or after gl[g] + 1; censored at the last typed token */
    for (int j = 0; j < K; ++j) mm[j] = -1;
    for (int g = ng - 1, t = T - 1; g >= 0; --g) {
        for (; t > v->gl[g]; --t) mark_mismatches(v, row, t, mm);
        for (int j = 0; j < K; ++j) {
            float *fg = F + ((size_t)j * ng + g) * stride;
            if (mm[j] >= 0) fg[1] = dcm[v->tk[mm[j]]] - mid[g], fg[3] = 0.0f;
            else if (beyond && beyond[4 * j + 3] >= 0) fg[1] = beyond[4 * j + 2] - mid[g], fg[3] = beyond[4 * j + 3];
            else fg[1] = v->gl[g] + 1 < T ? dcm[v->tk[T - 1]] - mid[g] : 0.0f, fg[3] = 1.0f;
        }
    }
    const uint8_t *act = w->act; /* pair i = j * ng + g, as act */
    for (int i = 0; i < K * ng; ++i) {
        float *fg = F + (size_t)i * stride;
        if (act && !act[i]) { /* never scored (as the HMM's logs): skip the logs */
            fg[0] = fg[1] = fg[4] = 0.0f;
            continue;
        }
        float dl = fg[0] > 0 ? fg[0] : 0, dr = fg[1] > 0 ? fg[1] : 0;
        fg[4] = logf(dl + dr + 1e-4f);
        fg[0] = logf(dl + 1e-4f);
        fg[1] = logf(dr + 1e-4f);
    }
}

/* Unnormalised forward/backward vectors keep their sum alongside (one fused pass
 * per step); they are rescaled to sum 1 only when the sum falls below this. A step
 * shrinks a sum by at most eps, and a gap's product of a forward and a backward
 * vector must stay far above FLT_MIN (1e-38), hence 1e-8 and not smaller. */
#define HMM_RESCALE 1e-8f

static inline float rescale(float *x, int K, float s)
{
    if (s >= HMM_RESCALE) return s;
    float r = 1.0f / s;
    NN_SIMD
    for (int j = 0; j < K; ++j) x[j] *= r;
    return 1.0f;
}

/* Posterior per gap at switch rate lambda: out[g * os_g + j * os_j], as log(p + 1e-6)
 * if logp. sa: [T + K] scratch (forward sums, then one gap's posterior). */
static void hmm_posteriors(const copy_view_t *v, const float *dcm, const float *mid, float lambda, float *out, size_t os_g,
                size_t os_j, int logp, const uint8_t *act, float *sa)
{
    const int K = v->K, T = v->T, ng = v->ng;
    const float iK = 1.0f / (float)K;
    float *al = v->alpha, *eb = v->eb;
    float s = 0;
    const float *ap = NULL;
    for (int t = 0; t < T; ++t) {
        /* only the vectors a gap reads are kept; the others roll in two rows */
        float *a = al + (size_t)(v->arow[t] >= 0 ? v->arow[t] : v->nrow + (t & 1)) * K;
        const float *e = v->em + (size_t)t * K;
        float st = 0;
        if (t == 0) {
            NN_SIMD_SUM(st)
            for (int j = 0; j < K; ++j) st += a[j] = e[j];
        } else {
            float rho = 1.0f - nn_exp(-lambda * (dcm[v->tk[t]] - dcm[v->tk[t - 1]])), q = 1.0f - rho, c = rho * s * iK;
            NN_SIMD_SUM(st)
            for (int j = 0; j < K; ++j) st += a[j] = (q * ap[j] + c) * e[j];
        }
        sa[t] = s = rescale(a, K, st);
        ap = a;
    }
    /* backward: eb = emission * beta at typed index t (sum se); gaps read as their
     * right bound t is reached (gaps with no typed token right first) */
    int g = ng - 1;
    float se = 0;
    for (int t = T; t >= 0; --t) {
        if (t < T) {
            const float *e = v->em + (size_t)t * K;
            float st = 0;
            if (t == T - 1) {
                NN_SIMD_SUM(st)
                for (int j = 0; j < K; ++j) st += eb[j] = e[j];
            } else {
                float rho = 1.0f - nn_exp(-lambda * (dcm[v->tk[t + 1]] - dcm[v->tk[t]])), q = 1.0f - rho,
                      c = rho * se * iK;
                NN_SIMD_SUM(st)
                for (int j = 0; j < K; ++j) st += eb[j] = (q * eb[j] + c) * e[j];
            }
            se = rescale(eb, K, st);
        }
        for (; g >= 0 && v->gl[g] + 1 == t; --g) {
            float x = mid[g], z = 0;
            int tl = v->gl[g];
            float rr = t < T ? 1.0f - nn_exp(-lambda * (dcm[v->tk[t]] - x)) : 1.0f;
            float rl = tl >= 0 ? 1.0f - nn_exp(-lambda * (x - dcm[v->tk[tl]])) : 1.0f;
            /* side without a typed token: weight 0 on a finite dummy vector, uniform mass */
            const float *a = tl >= 0 ? al + (size_t)v->arow[tl] * K : v->em, *b = t < T ? eb : v->em;
            float cl = tl >= 0 ? rl * sa[tl] * iK : iK, ql = tl >= 0 ? 1.0f - rl : 0.0f;
            float cr = t < T ? rr * se * iK : 1.0f, qr = t < T ? 1.0f - rr : 0.0f;
            float *pg = sa + T; /* [K] */
            NN_SIMD_SUM(z)
            for (int j = 0; j < K; ++j) z += pg[j] = (ql * a[j] + cl) * (qr * b[j] + cr);
            z = z > 0 ? 1.0f / z : 0.0f; /* z == 0 cannot happen with the bounds above */
            float *o = out + (size_t)g * os_g;
            if (logp && act) { /* inactive (neighbour, gap) pairs are never scored: skip their logs */
                for (int j = 0; j < K; ++j) o[(size_t)j * os_j] = act[(size_t)j * ng + g] ? logf(pg[j] * z + 1e-6f) : 0.0f;
            } else if (logp) {
                for (int j = 0; j < K; ++j) o[(size_t)j * os_j] = logf(pg[j] * z + 1e-6f);
            } else {
                for (int j = 0; j < K; ++j) o[(size_t)j * os_j] = pg[j] * z;
            }
        }
    }
}

void spin_copy_hmm(const spin_wtok_t *w, int ng, const int *g0, const float *mid, const int8_t *row, int K,
                   const int8_t *nb, float lambda, float eps, float *post, float *scratch)
{
    copy_view_t v;
    int *mm;
    view_init(&v, w, ng, g0, row, K, nb, 1, eps, scratch, &mm);
    hmm_posteriors(&v, w->dcm, mid, lambda, post, (size_t)K, 1, 0, NULL, v.eb + K);
}

void spin_copy_feats(int hmm, const spin_wtok_t *w, int ng, const int *g0, const float *mid,
                     const int8_t *row, int K, const int8_t *nb, const float *beyond, float *F, float *scratch)
{
    const int nf = spin_copy_nfeat(hmm);
    if (K <= 0 || ng <= 0) return;
    copy_view_t v;
    int *mm;
    view_init(&v, w, ng, g0, row, K, nb, hmm, HMM_EPS, scratch, &mm);
    ibs(&v, w, mid, row, beyond, mm, nf, F);
    if (!hmm) return;
    for (int r = 0; r < SPIN_NHMM; ++r)
        hmm_posteriors(&v, w->dcm, mid, hmm_rate[r], F + SPIN_NIBS + r, (size_t)nf, (size_t)ng * nf, 1, w->act, v.eb + K);
}

/* ------------------------------------------------------------------ */
/* Gaps, scores and mixing                                              */
/* ------------------------------------------------------------------ */

int spin_gaps(const spin_wtok_t *w, int *g0, float *mid)
{
    int ng = 0, iu = 0, typed_since = 1;
    for (int d = 0; d < w->D && iu < w->nu; ++d) {
        if (w->typed[d]) {
            typed_since = 1;
        } else if (w->uidx[iu] == d) {
            if (typed_since) g0[ng++] = iu, typed_since = 0;
            ++iu;
        }
    }
    g0[ng] = w->nu;
    for (int g = 0; g < ng; ++g) {
        double s = 0;
        for (int u = g0[g]; u < g0[g + 1]; ++u) s += w->dcm[w->uidx[u]];
        mid[g] = (float)(s / (g0[g + 1] - g0[g]));
    }
    return ng;
}

void spin_copy_score(spin_copy_mlp_t mlp, int n, const float *f, const uint8_t *mask, float *H1, float *Gh, float *s)
{
    const int nf = mlp.nf;
    const float *W1 = mlp.W1, *b1 = mlp.b1, *W2 = mlp.W2, *wl = mlp.wl;
    /* W1 transposed, so each row's hidden layer is nf axpys of width CHID (vectorised) */
    float W1t[(SPIN_NIBS + SPIN_NHMM) * SPIN_CHID];
    for (int o = 0; o < SPIN_CHID; ++o)
        for (int j = 0; j < nf; ++j) W1t[j * SPIN_CHID + o] = W1[o * nf + j];
    for (int i = 0; i < n; ++i) {
        if (mask && !mask[i]) continue;
        const float *fi = f + (size_t)i * nf;
        float *h = H1 + (size_t)i * SPIN_CHID;
        memcpy(h, b1, SPIN_CHID * sizeof(float));
        for (int j = 0; j < nf; ++j) {
            const float x = fi[j], *wt = W1t + j * SPIN_CHID;
            NN_SIMD
            for (int o = 0; o < SPIN_CHID; ++o) h[o] += x * wt[o];
        }
        nn_gelu_fwd(SPIN_CHID, h, Gh + (size_t)i * SPIN_CHID);
    }
    for (int i = 0; i < n; ++i) {
        if (mask && !mask[i]) {
            s[i] = 0.0f;
            continue;
        }
        const float *fi = f + (size_t)i * nf, *gi = Gh + (size_t)i * SPIN_CHID;
        float a = 0;
        NN_SIMD_SUM(a)
        for (int o = 0; o < SPIN_CHID; ++o) a += W2[o] * gi[o];
        for (int j = 0; j < nf; ++j) a += wl[j] * fi[j];
        s[i] = a;
    }
}

int spin_copy_mix(const spin_wtok_t *w, int K, int ng, const int *g0, const int8_t *nb,
                  const spin_copy_src_t *src, const float *s, float *a, float *pc, float *lc)
{
    const int D = w->D;
    const uint8_t *act = w->act;
    spin_copy_wts_t *wt = src ? src->wts : NULL;
    if (wt) wt->ng = ng, wt->gofs[0] = 0;
    for (int g = 0; g < ng; ++g) {
        /* a gap with no active neighbour (cannot happen with segments' state
         * selection, which takes each gap's best first) mixes all of them */
        int any = 0;
        if (act)
            for (int j = 0; j < K && !any; ++j) any = act[(size_t)j * ng + g];
        const uint8_t *ag = act && any ? act + g : NULL;
        float mx = -INFINITY;
        for (int j = 0; j < K; ++j)
            if (!ag || ag[(size_t)j * ng]) mx = s[(size_t)j * ng + g] > mx ? s[(size_t)j * ng + g] : mx;
        float z = 0;
        for (int j = 0; j < K; ++j)
            z += a[(size_t)j * ng + g] = !ag || ag[(size_t)j * ng] ? nn_exp(s[(size_t)j * ng + g] - mx) : 0.0f;
        float iz = 1.0f / z;
        for (int j = 0; j < K; ++j) a[(size_t)j * ng + g] *= iz;
        if (wt) {
            int n = wt->gofs[g];
            for (int j = 0; j < K; ++j) {
                float aj = a[(size_t)j * ng + g];
                if (aj == 0.0f) continue;
                if (n >= wt->cap) return -1;
                wt->wd[n] = src->hap[j] >> 6, wt->bt[n] = src->hap[j] & 63, wt->wa[n++] = aj;
            }
            wt->gofs[g + 1] = n;
            continue;
        }
        for (int u = g0[g]; u < g0[g + 1]; ++u) {
            float p = 0;
            for (int j = 0; j < K; ++j)
                p += a[(size_t)j * ng + g] * spin_nb_allele(w, nb[(size_t)j * D + w->uidx[u]], u);
            pc[u] = p;
            lc[u] = spin_copy_logit(p);
        }
    }
    return 0;
}

void spin_copy_apply_gap(const spin_copy_wts_t *wt, int g, const int *g0, const uint64_t *bits, int nw,
                         const int *usite, const spin_copy_carriers_t *cr, const float *lg, float beta, float cb,
                         float *out, size_t ostride)
{
    const int e0 = wt->gofs[g], n = wt->gofs[g + 1] - e0;
    const int *wd = wt->wd + e0, *bt = wt->bt + e0;
    const float *wa = wt->wa + e0;
    /* most sites are rare and clamped (no weighted state carries ALT): their copy
     * term is one of two constants, the same values spin_copy_logit gives */
    const float t_lo = beta * spin_copy_logit(0.0f) + cb, t_hi = beta * spin_copy_logit(1.0f) + cb;
    /* a site with fewer carriers than states: look the carriers up among the
     * states (jmap: haplotype -> entry + 1) instead of reading n bits */
    if (cr)
        for (int i = 0; i < n; ++i) cr->jmap[wd[i] * 64 + bt[i]] = i + 1;
    for (int u = g0[g]; u < g0[g + 1]; ++u) {
        float p = 0.0f;
        if (cr && cr->cn[u] >= 0 && cr->cn[u] < n) {
            /* the same sum as below: only carriers add non-zero terms, in entry
             * order (two terms commute exactly; three or more are sorted) */
            const int *c = cr->car + cr->cofs[u];
            int m = 0;
            for (int k = 0; k < cr->cn[u]; ++k) {
                int i1 = cr->jmap[c[k]];
                if (i1) cr->jbuf[m++] = i1 - 1;
            }
            if (m > 2)
                for (int a = 1; a < m; ++a) {
                    int x = cr->jbuf[a], b = a;
                    for (; b > 0 && cr->jbuf[b - 1] > x; --b) cr->jbuf[b] = cr->jbuf[b - 1];
                    cr->jbuf[b] = x;
                }
            for (int k = 0; k < m; ++k) p += wa[cr->jbuf[k]];
        } else {
            const uint64_t *row = bits + (size_t)usite[u] * nw;
            for (int i = 0; i < n; ++i) p += wa[i] * (float)((row[wd[i]] >> bt[i]) & 1);
        }
        float t = p <= SPIN_PC_EPS ? t_lo : p >= 1.0f - SPIN_PC_EPS ? t_hi : beta * spin_copy_logit(p) + cb;
        out[(size_t)u * ostride] = 1.0f / (1.0f + nn_exp(-(lg[u] + t)));
    }
    if (cr)
        for (int i = 0; i < n; ++i) cr->jmap[wd[i] * 64 + bt[i]] = 0;
}
