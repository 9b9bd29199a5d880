/* model_infer.c -- SPIN inference (model.h "Inference"): per-window tables of
 * token keys/values, the panel encoder into inducing points H_D, and the
 * per-target predictor (decoder plus copy path, copypath.c). Nothing here
 * allocates during inference: buffers are caller-owned, sized by *_size. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"
#include "nn.h"

/* ------------------------------------------------------------------ */
/* Inference: per-window tables                                         */
/* ------------------------------------------------------------------ */

struct spin_wctx_s {
    int max_D, max_nu, D, nu, has_hd;
    float *tc;          /* [D x e] */
    float *X3;          /* [D x 3 x e] token embedding per state (typed: T0,T1,TMISS; untyped: U0,U1,UMASK) */
    float *Kt[SPIN_MAX_L], *Vt[SPIN_MAX_L]; /* [D x 3 x e] XABA keys/values per token state */
    float *qu;          /* [e x nu] masked-untyped embeddings (decoder queries), transposed:
                         * feature j of token u at qu[j * nu + u], so the per-target logits
                         * vectorise over tokens */
    float *bu;          /* [nu] b(af_u) */
    float *Kp, *Vp;     /* [h x ke] predictor keys/values of H_D */
    float *S0;          /* [D x 3 x heads x k] layer-0 XABA scores per token state: every row's
                         * layer-0 queries come from the same HA0, so q.k is a per-window table */
    float *q0;          /* [2 k e + 2 k] scratch for those queries */
    int ng, *g0;        /* copy-path gaps: [max_nu + 1] */
    float *mid;         /* [max_nu] */
    /* A target row's layer-0 attention over its masked untyped tokens is the same
     * for every target (queries HA0, keys and values of the UMASK state): per
     * (head, latent) the running max u0m, sum u0z of exp(score - max), and u0y
     * [k x e] the weighted value sum, merged with each row's typed tokens. */
    int has_u0, T;
    float *u0m, *u0z, *u0y;
    int *tk;            /* [max_D] typed token indices */
    float *buf;
};

/* Bump allocation in floats, 16-float (64-byte) aligned. */
static float *take(float **p, size_t n)
{
    float *r = *p;
    *p += (n + 15) & ~(size_t)15;
    return r;
}

spin_wctx_t *spin_wctx_init(const spin_model_t *m, int max_D, int max_nu)
{
    const spin_config_t *c = &m->cfg;
    spin_wctx_t *wc = calloc(1, sizeof(*wc));
    if (!wc) goto oom;
    size_t e = c->e, D = max_D > 0 ? max_D : 1, nu = max_nu > 0 ? max_nu : 1;
    size_t hd = spin_model_hd_size(c);
    size_t ks = (size_t)c->k * c->heads;
    size_t n = (D * e + 16) + (D * 3 * e + 16) * (1 + 2 * c->L) + (nu * e + 16) + (nu + 16) + 2 * (hd + 16) +
               (D * 3 * ks + 16) + (2 * (size_t)c->k * e + 2 * (size_t)c->k + 16) + 2 * (ks + 16) +
               ((size_t)c->k * e + 16);
    wc->buf = aligned_alloc(64, ((n * sizeof(float)) + 63) & ~(size_t)63);
    if (!wc->buf) goto oom;
    float *p = wc->buf;
    wc->max_D = (int)D, wc->max_nu = (int)nu;
    wc->tc = take(&p, D * e);
    wc->X3 = take(&p, D * 3 * e);
    for (int l = 0; l < c->L; ++l) wc->Kt[l] = take(&p, D * 3 * e), wc->Vt[l] = take(&p, D * 3 * e);
    wc->qu = take(&p, nu * e);
    wc->bu = take(&p, nu);
    wc->Kp = take(&p, hd);
    wc->Vp = take(&p, hd);
    wc->S0 = take(&p, D * 3 * ks);
    wc->q0 = take(&p, 2 * (size_t)c->k * e + 2 * (size_t)c->k);
    wc->u0m = take(&p, ks), wc->u0z = take(&p, ks), wc->u0y = take(&p, (size_t)c->k * e);
    wc->g0 = malloc((nu + 1) * sizeof(int));
    wc->mid = malloc(nu * sizeof(float));
    wc->tk = malloc(D * sizeof(int));
    if (!wc->g0 || !wc->mid || !wc->tk) goto oom;
    return wc;
oom:
    spin_error("out of memory allocating a window context (%d tokens)", max_D);
    spin_wctx_destroy(wc);
    return NULL;
}

void spin_wctx_destroy(spin_wctx_t *wc)
{
    if (!wc) return;
    free(wc->g0);
    free(wc->mid);
    free(wc->tk);
    free(wc->buf);
    free(wc);
}

static int check_wtok(const spin_wtok_t *w, int max_D, int max_nu)
{
    if (w->D < 1 || w->D > max_D || w->nu < 0 || w->nu > max_nu) {
        spin_error("window of %d tokens / %d untyped exceeds the buffers (%d / %d)", w->D, w->nu,
                   max_D, max_nu);
        return -1;
    }
    for (int i = 0; i < w->nu; ++i)
        if (w->uidx[i] < 0 || w->uidx[i] >= w->D || w->typed[w->uidx[i]] ||
            (i && w->uidx[i] <= w->uidx[i - 1])) {
            spin_error("untyped token index %d (of %d) is invalid", i, w->nu);
            return -1;
        }
    return 0;
}

int spin_model_window(const spin_model_t *m, const spin_wtok_t *w, spin_wctx_t *wc)
{
    if (check_wtok(w, wc->max_D, wc->max_nu) < 0) return -1;
    const spin_config_t *c = &m->cfg;
    int e = c->e, D = w->D;
    wc->D = D, wc->nu = w->nu, wc->has_hd = 0;
    wc->ng = spin_gaps(w, wc->g0, wc->mid);
    spin_tok_const(m, D, w->dcm, w->af, wc->tc);
    for (int d = 0; d < D; ++d)
        for (int s = 0; s < 3; ++s)
            spin_tok_embed(m, w->typed[d] ? s : 3 + s, w->af[d], wc->tc + (size_t)d * e,
                           wc->X3 + ((size_t)d * 3 + s) * e);
    for (int l = 0; l < c->L; ++l) spin_mab_kv(m->w, &m->lay.xaba[l], D * 3, wc->X3, wc->Kt[l], wc->Vt[l]);
    {
        int k = c->k, nh = c->heads, dh = e / nh;
        spin_mabc_t qc;
        memset(&qc, 0, sizeof(qc));
        qc.Xn = wc->q0, qc.Q = qc.Xn + (size_t)k * e, qc.mu1 = qc.Q + (size_t)k * e, qc.rs1 = qc.mu1 + k;
        spin_mab_q(m->w, &m->lay.xaba[0], k, m->w + m->lay.HA0, &qc);
        float scale = 1.0f / sqrtf((float)dh);
        for (size_t ds = 0; ds < (size_t)D * 3; ++ds) {
            const float *Kd = wc->Kt[0] + ds * e;
            float *S = wc->S0 + ds * nh * k;
            for (int hh = 0; hh < nh; ++hh)
                for (int i = 0; i < k; ++i) S[hh * k + i] = scale * nn_dot(dh, qc.Q + (size_t)i * e + hh * dh, Kd + hh * dh);
        }
    }
    {
        /* the masked untyped tokens' share of a target row's layer-0 attention */
        int k = c->k, nh = c->heads, dh = e / nh, ks = k * nh;
        wc->T = 0;
        for (int d = 0; d < D; ++d)
            if (w->typed[d]) wc->tk[wc->T++] = d;
        wc->has_u0 = w->nu > 0;
        for (int q = 0; q < ks; ++q) {
            float mx = -INFINITY;
            for (int u = 0; u < w->nu; ++u) {
                float sc = wc->S0[((size_t)w->uidx[u] * 3 + 2) * ks + q];
                mx = sc > mx ? sc : mx;
            }
            wc->u0m[q] = mx;
        }
        memset(wc->u0z, 0, (size_t)ks * sizeof(float));
        memset(wc->u0y, 0, (size_t)k * e * sizeof(float));
        for (int u = 0; u < w->nu; ++u) {
            size_t ts = (size_t)w->uidx[u] * 3 + 2;
            const float *S = wc->S0 + ts * ks, *V = wc->Vt[0] + ts * e;
            for (int hh = 0; hh < nh; ++hh)
                for (int i = 0; i < k; ++i) {
                    float p = nn_exp(S[hh * k + i] - wc->u0m[hh * k + i]);
                    wc->u0z[hh * k + i] += p;
                    float *y = wc->u0y + (size_t)i * e + hh * dh;
                    for (int x = 0; x < dh; ++x) y[x] += p * V[hh * dh + x];
                }
        }
    }
    const float *bW = m->w + m->lay.bafW;
    for (int u = 0; u < w->nu; ++u) {
        int d = w->uidx[u];
        const float *x = wc->X3 + ((size_t)d * 3 + 2) * e;
        for (int j = 0; j < e; ++j) wc->qu[(size_t)j * w->nu + u] = x[j];
        float psi[SPIN_NPSI];
        spin_psi(w->af[d], psi);
        wc->bu[u] = m->w[m->lay.bafb] + bW[0] * psi[0] + bW[1] * psi[1] + bW[2] * psi[2];
    }
    return 0;
}

int spin_wctx_gaps(const spin_wctx_t *wc, const int **g0)
{
    *g0 = wc->g0;
    return wc->ng;
}

int spin_model_set_hd(const spin_model_t *m, spin_wctx_t *wc, const float *H_D)
{
    spin_mab_kv(m->w, &m->lay.pred, m->cfg.h, H_D, wc->Kp, wc->Vp);
    wc->has_hd = 1;
    return 0;
}

/* state index 0..2 within the token's table */
static inline int tab_state(int typed, int a, int force_mask)
{
    if (typed) return a == 0 ? 0 : a == 1 ? 1 : 2;
    if (force_mask) return 2;
    return a == 0 ? 0 : a == 1 ? 1 : 2;
}

/* Scratch of MAB caches for M rows of width dq, FFN f, attention P of np floats. */
static void take_mabc(float **p, spin_mabc_t *c, size_t M, size_t dq, size_t f, size_t np)
{
    c->Xn = take(p, M * dq), c->Q = take(p, M * dq), c->O = take(p, M * dq);
    c->H = take(p, M * dq), c->Hn = take(p, M * dq);
    c->mu1 = take(p, M), c->rs1 = take(p, M), c->mu2 = take(p, M), c->rs2 = take(p, M);
    c->F = take(p, M * f), c->Gf = take(p, M * f);
    c->P = take(p, np);
}
static size_t mabc_size(size_t M, size_t dq, size_t f, size_t np)
{
    return 5 * (M * dq + 16) + 4 * (M + 16) + 2 * (M * f + 16) + np + 16;
}

/* XABA then ABLA on n rows of latents HA [n x k x e] (in place via HB), tokens
 * looked up in the tables by state. Kb/Vb: [D x e] gather buffers; Ka/Va: [n*k x e]. */
static void rows_layer(const spin_model_t *m, const spin_wctx_t *wc, int l, int n, const int8_t *rows,
                       const uint8_t *typed, int force_mask, float *HA, float *HB, spin_mabc_t *c,
                       float *Kb, float *Vb, float *Ka, float *Va)
{
    const spin_config_t *cf = &m->cfg;
    int e = cf->e, k = cf->k, D = wc->D, nh = cf->heads;
    const spin_mab_t *X = &m->lay.xaba[l], *A = &m->lay.abla[l];
    if (l == 0 && force_mask && wc->has_u0) {
        /* target rows: typed tokens per row, the masked untyped ones from the
         * window's precomputed share (same softmax, merged by its max) */
        const int ks = k * nh, dh = e / nh, T = wc->T;
        for (int i = 0; i < n; ++i) {
            const int8_t *r = rows + (size_t)i * D;
            float *O = c->O + (size_t)i * k * e;
            for (int hh = 0; hh < nh; ++hh)
                for (int q = 0; q < k; ++q) {
                    const int hq = hh * k + q;
                    float *sc = c->P; /* [T] scratch */
                    float mx = wc->u0m[hq];
                    for (int t = 0; t < T; ++t) {
                        int d = wc->tk[t];
                        sc[t] = wc->S0[((size_t)d * 3 + tab_state(1, r[d], 0)) * ks + hq];
                        mx = sc[t] > mx ? sc[t] : mx;
                    }
                    float su = nn_exp(wc->u0m[hq] - mx), z = wc->u0z[hq] * su;
                    float *o = O + (size_t)q * e + hh * dh;
                    const float *yu = wc->u0y + (size_t)q * e + hh * dh;
                    for (int x = 0; x < dh; ++x) o[x] = yu[x] * su;
                    for (int t = 0; t < T; ++t) {
                        int d = wc->tk[t];
                        float p = nn_exp(sc[t] - mx);
                        z += p;
                        const float *V = wc->Vt[0] + ((size_t)d * 3 + tab_state(1, r[d], 0)) * e + hh * dh;
                        for (int x = 0; x < dh; ++x) o[x] += p * V[x];
                    }
                    float iz = 1.0f / z;
                    for (int x = 0; x < dh; ++x) o[x] *= iz;
                }
        }
    } else if (l == 0) {
        /* every row starts from HA0: scores come from the window's table (wc->S0) */
        const int ks = k * nh;
        for (int i = 0; i < n; ++i) {
            const int8_t *r = rows + (size_t)i * D;
            for (int d = 0; d < D; ++d) {
                size_t ts = (size_t)d * 3 + tab_state(typed[d], r[d], force_mask);
                const float *S = wc->S0 + ts * ks;
                for (int hq = 0; hq < ks; ++hq) c->P[(size_t)hq * D + d] = S[hq];
                memcpy(Vb + (size_t)d * e, wc->Vt[0] + ts * e, e * sizeof(float));
            }
            nn_attn_fwd_scored(k, D, e, nh, c->P, Vb, c->O + (size_t)i * k * e);
        }
    } else {
        spin_mab_q(m->w, X, n * k, HA, c);
        for (int i = 0; i < n; ++i) {
            const int8_t *r = rows + (size_t)i * D;
            for (int d = 0; d < D; ++d) {
                size_t o = ((size_t)d * 3 + tab_state(typed[d], r[d], force_mask)) * e;
                memcpy(Kb + (size_t)d * e, wc->Kt[l] + o, e * sizeof(float));
                memcpy(Vb + (size_t)d * e, wc->Vt[l] + o, e * sizeof(float));
            }
            nn_attn_fwd(1, k, D, e, nh, 0, c->Q + (size_t)i * k * e, Kb, Vb, NULL, c->P,
                        c->O + (size_t)i * k * e);
        }
    }
    spin_mab_out(m->w, X, n * k, HA, c, HB);
    spin_mab_q(m->w, A, n * k, HB, c);
    spin_mab_kv(m->w, A, n * k, HB, Ka, Va);
    nn_attn_fwd(n, k, k, e, nh, 0, c->Q, Ka, Va, NULL, c->P, c->O);
    spin_mab_out(m->w, A, n * k, HB, c, HA);
}

/* ------------------------------------------------------------------ */
/* Inference: encoder                                                   */
/* ------------------------------------------------------------------ */

/* MAB caches shared by the row layers (n*k rows of width e) and XABD (h rows of
 * width k*e): Mc rows of width e cover both; P covers the largest attention. */
static void enc_cache_dims(const spin_config_t *c, int D, int n, size_t *Mc, size_t *np)
{
    size_t k = c->k, nh = c->heads, h = c->h;
    *Mc = (size_t)n * k > h * k ? (size_t)n * k : h * k;
    size_t a = k * (size_t)D, b = k * k * (size_t)n, d = h * (size_t)n;
    size_t mx = a > b ? a : b;
    *np = nh * (mx > d ? mx : d);
}

static size_t enc_layout(const spin_config_t *c, int D, int n, float *base, float **ptr)
{
    size_t e = c->e, k = c->k, ke = k * e, h = c->h;
    size_t Mr = (size_t)n * k, Mc, np;
    enc_cache_dims(c, D, n, &Mc, &np);
    size_t tot = mabc_size(Mc, e, c->ffn * e, np);
    tot += 2 * (Mr * e + 16) + 2 * ((size_t)D * e + 16) + 2 * (Mr * e + 16) + 2 * (h * ke + 16);
    if (base) {
        float *p = base;
        ptr[0] = take(&p, Mr * e), ptr[1] = take(&p, Mr * e); /* HA, HB */
        ptr[2] = take(&p, (size_t)D * e), ptr[3] = take(&p, (size_t)D * e); /* Kb, Vb */
        ptr[4] = take(&p, Mr * e), ptr[5] = take(&p, Mr * e); /* Ka, Va (also XABD K/V [n x ke]) */
        ptr[6] = take(&p, h * ke), ptr[7] = take(&p, h * ke); /* HD ping-pong */
        ptr[8] = p;                                           /* MAB caches */
    }
    return tot + 64;
}

size_t spin_enc_scratch_size(const spin_config_t *c, int D, int n_rows)
{
    return enc_layout(c, D, n_rows > 0 ? n_rows : 1, NULL, NULL);
}

int spin_model_encode(const spin_model_t *m, const spin_wtok_t *w, const spin_wctx_t *wc,
                      int n, const int8_t *rows, float *H_D, float *scratch)
{
    const spin_config_t *c = &m->cfg;
    if (n < 1 || w->D != wc->D) {
        spin_error("encoder needs >= 1 row and a window context for this window");
        return -1;
    }
    size_t e = c->e, k = c->k, ke = k * e, h = c->h, nh = c->heads;
    int D = w->D;
    float *pt[9];
    enc_layout(c, D, n, scratch, pt);
    float *HA = pt[0], *HB = pt[1], *Kb = pt[2], *Vb = pt[3], *Ka = pt[4], *Va = pt[5];
    float *HD = pt[6], *HE = pt[7];
    size_t Mc, np;
    enc_cache_dims(c, D, n, &Mc, &np);
    spin_mabc_t cc;
    float *p = pt[8];
    take_mabc(&p, &cc, Mc, e, c->ffn * e, np);
    for (size_t i = 0; i < (size_t)n; ++i) memcpy(HA + i * ke, m->w + m->lay.HA0, ke * sizeof(float));
    memcpy(HD, m->w + m->lay.HD0, h * ke * sizeof(float));
    for (int l = 0; l < c->L; ++l) {
        rows_layer(m, wc, l, n, rows, w->typed, 0, HA, HB, &cc, Kb, Vb, Ka, Va);
        /* XABD: h inducing points over the n rows' flattened latents */
        const spin_mab_t *X = &m->lay.xabd[l];
        spin_mab_q(m->w, X, (int)h, HD, &cc);
        spin_mab_kv(m->w, X, n, HA, Ka, Va);
        nn_attn_fwd(1, (int)h, n, (int)ke, (int)nh, 0, cc.Q, Ka, Va, NULL, cc.P, cc.O);
        spin_mab_out(m->w, X, (int)h, HD, &cc, HE);
        float *t = HD;
        HD = HE, HE = t;
    }
    memcpy(H_D, HD, h * ke * sizeof(float));
    return 0;
}

/* ------------------------------------------------------------------ */
/* Inference: predictor                                                 */
/* ------------------------------------------------------------------ */

static size_t pred_layout(const spin_config_t *c, int D, int nu, int ng, int K, float *base, float **ptr)
{
    size_t e = c->e, k = c->k, ke = k * e, nh = c->heads, h = c->h;
    size_t np = nh * k * (size_t)D;
    if (np < nh * k * k) np = nh * k * k;
    if (np < nh * h) np = nh * h;
    size_t rowc = mabc_size(k, e, c->ffn * e, 0), pc = mabc_size(1, ke, c->ffn * ke, 0);
    size_t Kn = (size_t)(K > 0 ? K : 1) * (ng > 0 ? ng : 1); /* (neighbour, gap) pairs */
    size_t tot = (rowc > pc ? rowc : pc) + np + 16;
    tot += 2 * (ke + 16) + 2 * ((size_t)D * e + 16) + 2 * (ke + 16) + (ke + 16) + (e + 16);
    size_t nf = spin_ncopyf(c), hs = spin_copy_scratch_size(c->hmm, D, nu, K);
    tot += (Kn * nf + 16) + 2 * (Kn * SPIN_CHID + 16) + 2 * (Kn + 16) + 3 * ((size_t)nu + 16) + (hs + 16);
    if (base) {
        float *p = base;
        ptr[0] = take(&p, ke), ptr[1] = take(&p, ke);             /* HA, HB */
        ptr[2] = take(&p, (size_t)D * e), ptr[3] = take(&p, (size_t)D * e);
        ptr[4] = take(&p, ke), ptr[5] = take(&p, ke);             /* Ka, Va */
        ptr[6] = take(&p, ke);                                    /* c */
        ptr[7] = take(&p, e);                                     /* G^T c */
        ptr[8] = take(&p, Kn * nf);
        ptr[9] = take(&p, Kn * SPIN_CHID), ptr[10] = take(&p, Kn * SPIN_CHID);
        ptr[11] = take(&p, Kn), ptr[12] = take(&p, Kn);           /* scores, weights */
        ptr[13] = take(&p, nu), ptr[14] = take(&p, nu), ptr[15] = take(&p, nu);
        ptr[16] = take(&p, hs);
        ptr[17] = p;
    }
    return tot + 64;
}

size_t spin_pred_scratch_size(const spin_config_t *c, int D, int nu, int ng, int K)
{
    return pred_layout(c, D, nu, ng < nu ? ng : nu, K, NULL, NULL);
}

int spin_model_predict(const spin_model_t *m, const spin_wtok_t *w, const spin_wctx_t *wc,
                       const int8_t *row, int K, const int8_t *nb, const spin_copy_src_t *src, float *p_alt,
                       float *scratch)
{
    const spin_config_t *c = &m->cfg;
    if (!wc->has_hd || w->D != wc->D || w->nu != wc->nu || K < 0) {
        spin_error("predictor called without a prepared window context");
        return -1;
    }
    size_t e = c->e, k = c->k, ke = k * e, h = c->h, nh = c->heads;
    int D = w->D, nu = w->nu;
    float *pt[18];
    pred_layout(c, D, nu, wc->ng, K, scratch, pt);
    float *HA = pt[0], *HB = pt[1], *cv = pt[6], *gc = pt[7];
    spin_mabc_t cc;
    float *p = pt[17];
    size_t np = nh * k * (size_t)D;
    if (np < nh * k * k) np = nh * k * k;
    if (np < nh * h) np = nh * h;
    /* k rows of width e; the predictor MAB (1 row of width ke) fits the same buffers */
    take_mabc(&p, &cc, k, e, c->ffn * e, np);
    memcpy(HA, m->w + m->lay.HA0, ke * sizeof(float));
    for (int l = 0; l < c->L; ++l)
        rows_layer(m, wc, l, 1, row, w->typed, 1, HA, HB, &cc, pt[2], pt[3], pt[4], pt[5]);
    spin_mabc_t pcache = cc;
    const spin_mab_t *Pm = &m->lay.pred;
    spin_mab_q(m->w, Pm, 1, HA, &pcache);
    nn_attn_fwd(1, 1, (int)h, (int)ke, (int)nh, 1, pcache.Q, wc->Kp, wc->Vp, NULL, pcache.P, pcache.O);
    spin_mab_out(m->w, Pm, 1, HA, &pcache, cv);
    /* l_nn(u) = <G q_u, c> + b(af_u) = <q_u, G^T c> + b(af_u) */
    const float *G = m->w + m->lay.G;
    memset(gc, 0, e * sizeof(float));
    for (size_t i = 0; i < ke; ++i) {
        float ci = cv[i];
        const float *Gi = G + i * e;
        for (size_t j = 0; j < e; ++j) gc[j] += Gi[j] * ci;
    }
    float *lg = pt[13];
    /* per token the same sum, in the same order (bu, then j = 0 .. e-1), over all tokens at once */
    for (int u = 0; u < nu; ++u) lg[u] = wc->bu[u];
    for (size_t j = 0; j < e; ++j) {
        const float g = gc[j], *qj = wc->qu + j * (size_t)nu;
        NN_SIMD
        for (int u = 0; u < nu; ++u) lg[u] += qj[u] * g;
    }
    if (K > 0 && nu > 0) {
        float *F = pt[8], *S = pt[11], *A = pt[12], *pc = pt[14], *lc = pt[15];
        int ng = wc->ng;
        spin_copy_feats(m->cfg.hmm, w, ng, wc->g0, wc->mid, row, K, nb, w->nb_beyond, F, pt[16]);
        spin_copy_score(spin_model_copy_mlp(m), K * ng, F, w->act, pt[9], pt[10], S);
        if (spin_copy_mix(w, K, ng, wc->g0, nb, src, S, A, pc, lc) < 0) {
            spin_error("internal: copy weights exceed their buffer");
            return -1;
        }
        if (src && src->wts) { /* deferred: the caller mixes (spin_copy_apply_gap) */
            memcpy(p_alt, lg, (size_t)nu * sizeof(float));
            return 0;
        }
        float beta = m->w[m->lay.beta], cb = m->w[m->lay.cbias];
        for (int u = 0; u < nu; ++u) lg[u] += beta * lc[u] + cb;
    } else if (src && src->wts) { /* no copy path: nothing to mix, finish as below */
        src->wts->ng = 0;
    }
    for (int u = 0; u < nu; ++u) p_alt[u] = 1.0f / (1.0f + nn_exp(-lg[u]));
    return 0;
}
