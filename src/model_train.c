/* model_train.c -- SPIN training step: forward with caches over context and
 * query rows, BCE on the queries' untyped tokens, backward into a gradient.
 *
 * Determinism: rows are cut into chunks of CHUNK rows, fixed independently of the
 * thread count. Each chunk's forward/backward is sequential; its parameter
 * gradient goes to a private buffer that is added to the total in chunk order.
 * So loss and gradients are bit-identical for any number of threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "model.h"
#include "nn.h"

#define CHUNK 8

typedef struct {
    int8_t *st;                       /* [n x D] token states */
    float *x;                         /* [n x D x e] token embeddings */
    float *HA[2 * SPIN_MAX_L + 1];    /* [n x k x e]: input, then XABA_l / ABLA_l outputs */
    spin_mabc_t xc[SPIN_MAX_L], ac[SPIN_MAX_L];
    float *Kx[SPIN_MAX_L], *Vx[SPIN_MAX_L]; /* [n x D x e] XABA keys/values */
    float *Ka[SPIN_MAX_L], *Va[SPIN_MAX_L]; /* [n x k x e] ABLA keys/values */
} rowset_t;

struct spin_train_ws_s {
    int max_D, max_nu, max_ctx, max_q, max_K, nt;
    size_t gb_n, tmp_n;
    rowset_t C, Q;
    float *tc, *qu, *bu;              /* window: [D x e], [nu x e], [nu] */
    int ng, *g0;                      /* copy-path gaps [max_nu + 1] */
    float *mid;                       /* [max_nu] */
    float *HD[SPIN_MAX_L + 1];        /* [h x ke] */
    spin_mabc_t dc[SPIN_MAX_L];       /* XABD caches (M = h, P: nh*h*max_ctx) */
    float *Kd[SPIN_MAX_L], *Vd[SPIN_MAX_L]; /* [max_ctx x ke] */
    float *dext[SPIN_MAX_L];          /* [max_ctx x ke] XABD gradient into ctx latents */
    float *Kp, *Vp, *dKp, *dVp;       /* [h x ke] predictor keys/values of H_D and their grads */
    spin_mabc_t pc;                   /* predictor MAB caches (M = max_q, P: nh*h*max_q) */
    float *cv, *lg, *dl;              /* [max_q x ke], [max_q x nu] logits and their grads */
    float *F, *H1, *Gh, *S, *A, *pcp, *lc; /* copy path per query */
    float *dHD, *dHE, *sO, *sQ, *dKd, *dVd, *stmp; /* serial XABD backward */
    double *lpart;                    /* per-chunk loss */
    float **gb, **tmp;                /* per-thread gradient buffers and scratch */
    float *buf;
};

static float *take(float **p, size_t n)
{
    float *r = *p;
    *p += (n + 15) & ~(size_t)15;
    return r;
}

static void take_mabc(float **p, spin_mabc_t *c, size_t M, size_t dq, size_t f, size_t np)
{
    c->Xn = take(p, M * dq), c->Q = take(p, M * dq), c->O = take(p, M * dq);
    c->H = take(p, M * dq), c->Hn = take(p, M * dq);
    c->mu1 = take(p, M), c->rs1 = take(p, M), c->mu2 = take(p, M), c->rs2 = take(p, M);
    c->F = take(p, M * f), c->Gf = take(p, M * f);
    c->P = take(p, np);
}

/* The cache rows [mo, ...) and attention block po onwards. */
static spin_mabc_t mabc_off(const spin_mabc_t *c, size_t mo, size_t dq, size_t f, size_t po)
{
    spin_mabc_t r;
    r.Xn = c->Xn + mo * dq, r.Q = c->Q + mo * dq, r.O = c->O + mo * dq;
    r.H = c->H + mo * dq, r.Hn = c->Hn + mo * dq;
    r.mu1 = c->mu1 + mo, r.rs1 = c->rs1 + mo, r.mu2 = c->mu2 + mo, r.rs2 = c->rs2 + mo;
    r.F = c->F + mo * f, r.Gf = c->Gf + mo * f;
    r.P = c->P + po;
    return r;
}

static void take_rowset(float **p, rowset_t *R, const spin_config_t *c, size_t n, size_t D)
{
    size_t e = c->e, k = c->k, ke = k * e, f = c->ffn * e, nh = c->heads;
    R->x = take(p, n * D * e);
    for (int i = 0; i <= 2 * c->L; ++i) R->HA[i] = take(p, n * ke);
    for (int l = 0; l < c->L; ++l) {
        take_mabc(p, &R->xc[l], n * k, e, f, n * nh * k * D);
        take_mabc(p, &R->ac[l], n * k, e, f, n * nh * k * k);
        R->Kx[l] = take(p, n * D * e), R->Vx[l] = take(p, n * D * e);
        R->Ka[l] = take(p, n * ke), R->Va[l] = take(p, n * ke);
    }
}

static size_t rnd16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Scratch floats used by rows_bwd for D tokens (exactly what its take() calls consume). */
static size_t rows_tmp(const spin_config_t *c, size_t D)
{
    size_t e = c->e, k = c->k, ke = k * e, f = c->ffn * e;
    return 4 * rnd16(CHUNK * ke) + rnd16(CHUNK * k * (2 * e + 2 * f)) + 3 * rnd16(CHUNK * D * e);
}

/* Copy-path gaps a training window can have: <= its untyped tokens; with
 * segments a drawn window holds fewer than seg typed sites inside its block, so
 * at most seg gaps (train.c draw_window). Strides of the (neighbour, gap) arrays. */
static size_t ng_cap(const spin_config_t *c, size_t nu)
{
    size_t n = c->seg > 0 && (size_t)c->seg + 2 < nu ? (size_t)c->seg + 2 : nu;
    return n ? n : 1;
}

static size_t tmp_floats(const spin_config_t *c, size_t D, size_t nu, size_t K)
{
    size_t e = c->e, k = c->k, ke = k * e, f = c->ffn * e, fp = c->ffn * ke, B = CHUNK;
    size_t Kn = (K ? K : 1) * ng_cap(c, nu);
    size_t t = 4 * (B * ke + 16) + (B * k * (2 * e + 2 * f) + 16) + 3 * (B * D * e + 16); /* rows_bwd */
    t += (B * nu + 16) + 4 * (B * ke + 16) + (B * (2 * ke + 2 * fp) + 16);               /* predictor */
    t += 2 * (Kn * SPIN_CHID + 16) + (Kn + 16) + 2 * (e + 16) + (nu * e + 16) + (nu + 16) + (D * e + 16);
    t += spin_copy_scratch_size(c->hmm, (int)D, (int)nu, (int)K) + 16;
    return t + 64;
}

/* Lays out everything; with base == NULL only counts. */
static size_t ws_layout(spin_train_ws_t *ws, const spin_config_t *c, float *base)
{
    size_t e = c->e, k = c->k, ke = k * e, h = c->h, nh = c->heads, fp = c->ffn * ke;
    size_t D = ws->max_D, nu = ws->max_nu, nc = ws->max_ctx, nq = ws->max_q;
    size_t Kq = (size_t)nq * (ws->max_K ? ws->max_K : 1) * ng_cap(c, nu);
    spin_train_ws_t tmp;
    float *p0 = (float *)64, *p = base ? base : p0; /* counting mode: never dereferenced */
    spin_train_ws_t *W = base ? ws : &tmp;
    take_rowset(&p, &W->C, c, nc, D);
    take_rowset(&p, &W->Q, c, nq, D);
    W->tc = take(&p, D * e), W->qu = take(&p, nu * e), W->bu = take(&p, nu);
    for (int l = 0; l <= c->L; ++l) W->HD[l] = take(&p, h * ke);
    for (int l = 0; l < c->L; ++l) {
        take_mabc(&p, &W->dc[l], h, ke, fp, nh * h * nc);
        W->Kd[l] = take(&p, nc * ke), W->Vd[l] = take(&p, nc * ke), W->dext[l] = take(&p, nc * ke);
    }
    W->Kp = take(&p, h * ke), W->Vp = take(&p, h * ke), W->dKp = take(&p, h * ke), W->dVp = take(&p, h * ke);
    take_mabc(&p, &W->pc, nq, ke, fp, nh * h * nq);
    W->cv = take(&p, nq * ke), W->lg = take(&p, nq * nu), W->dl = take(&p, nq * nu);
    W->F = take(&p, Kq * spin_ncopyf(c)), W->H1 = take(&p, Kq * SPIN_CHID), W->Gh = take(&p, Kq * SPIN_CHID);
    W->S = take(&p, Kq), W->A = take(&p, Kq), W->pcp = take(&p, nq * nu), W->lc = take(&p, nq * nu);
    W->dHD = take(&p, h * ke), W->dHE = take(&p, h * ke), W->sO = take(&p, h * ke), W->sQ = take(&p, h * ke);
    W->dKd = take(&p, nc * ke), W->dVd = take(&p, nc * ke), W->stmp = take(&p, h * (2 * ke + 2 * fp));
    for (int t = 0; t < ws->nt; ++t) {
        float *g = take(&p, ws->gb_n), *s = take(&p, ws->tmp_n);
        if (base) ws->gb[t] = g, ws->tmp[t] = s;
    }
    return (size_t)(p - (base ? base : p0)) + 64;
}

spin_train_ws_t *spin_train_ws_init(const spin_model_t *m, int max_D, int max_nu, int max_ctx,
                                    int max_q, int max_K, int n_threads)
{
    const spin_config_t *c = &m->cfg;
    if (max_D < 1 || max_nu < 0 || max_ctx < 1 || max_q < 1 || max_K < 0) {
        spin_error("invalid training workspace sizes (D=%d nu=%d ctx=%d q=%d K=%d)", max_D, max_nu,
                   max_ctx, max_q, max_K);
        return NULL;
    }
    spin_train_ws_t *ws = calloc(1, sizeof(*ws));
    if (!ws) goto oom;
    ws->max_D = max_D, ws->max_nu = max_nu > 0 ? max_nu : 1, ws->max_ctx = max_ctx;
    ws->max_q = max_q, ws->max_K = max_K, ws->nt = n_threads > 0 ? n_threads : 1;
    ws->gb_n = (size_t)m->lay.query_end + 2 * spin_model_hd_size(c);
    ws->tmp_n = tmp_floats(c, max_D, ws->max_nu, max_K);
    ws->gb = calloc(ws->nt, sizeof(float *));
    ws->tmp = calloc(ws->nt, sizeof(float *));
    ws->C.st = malloc((size_t)max_ctx * max_D);
    ws->Q.st = malloc((size_t)max_q * max_D);
    int nch = (max_ctx > max_q ? max_ctx : max_q) / CHUNK + 1;
    ws->lpart = calloc(nch, sizeof(double));
    ws->g0 = malloc((ws->max_nu + 1) * sizeof(int));
    ws->mid = malloc(ws->max_nu * sizeof(float));
    if (!ws->g0 || !ws->mid || !ws->gb || !ws->tmp || !ws->C.st || !ws->Q.st || !ws->lpart) goto oom;
    size_t n = ws_layout(ws, c, NULL);
    ws->buf = aligned_alloc(64, (n * sizeof(float) + 63) & ~(size_t)63);
    if (!ws->buf) goto oom;
    ws_layout(ws, c, ws->buf);
    return ws;
oom:
    spin_error("out of memory allocating the training workspace (%d context rows, %d tokens)",
               max_ctx, max_D);
    spin_train_ws_destroy(ws);
    return NULL;
}

void spin_train_ws_destroy(spin_train_ws_t *ws)
{
    if (!ws) return;
    free(ws->buf);
    free(ws->gb);
    free(ws->tmp);
    free(ws->C.st);
    free(ws->Q.st);
    free(ws->lpart);
    free(ws->g0);
    free(ws->mid);
    free(ws);
}

/* ------------------------------------------------------------------ */

/* Embedding, then L x (XABA, ABLA) for rows [i0, i0+nr) of R. */
static void rows_fwd(const spin_model_t *m, const spin_train_ws_t *ws, rowset_t *R,
                     const spin_wtok_t *w, const int8_t *alle, int i0, int nr, int force_mask)
{
    const spin_config_t *c = &m->cfg;
    size_t e = c->e, k = c->k, ke = k * e, f = c->ffn * e, nh = c->heads, D = w->D;
    for (size_t i = i0; i < (size_t)(i0 + nr); ++i) {
        for (size_t d = 0; d < D; ++d) {
            int st = spin_tok_state(w->typed[d], alle[i * D + d], force_mask);
            R->st[i * D + d] = (int8_t)st;
            spin_tok_embed(m, st, w->af[d], ws->tc + d * e, R->x + (i * D + d) * e);
        }
        memcpy(R->HA[0] + i * ke, m->w + m->lay.HA0, ke * sizeof(float));
    }
    size_t ro = (size_t)i0 * ke, to = (size_t)i0 * D * e;
    for (int l = 0; l < c->L; ++l) {
        const spin_mab_t *X = &m->lay.xaba[l], *A = &m->lay.abla[l];
        spin_mabc_t xc = mabc_off(&R->xc[l], (size_t)i0 * k, e, f, (size_t)i0 * nh * k * D);
        spin_mab_q(m->w, X, nr * (int)k, R->HA[2 * l] + ro, &xc);
        spin_mab_kv(m->w, X, nr * (int)D, R->x + to, R->Kx[l] + to, R->Vx[l] + to);
        nn_attn_fwd(nr, (int)k, (int)D, (int)e, (int)nh, 0, xc.Q, R->Kx[l] + to, R->Vx[l] + to, NULL,
                    xc.P, xc.O);
        spin_mab_out(m->w, X, nr * (int)k, R->HA[2 * l] + ro, &xc, R->HA[2 * l + 1] + ro);
        spin_mabc_t ac = mabc_off(&R->ac[l], (size_t)i0 * k, e, f, (size_t)i0 * nh * k * k);
        spin_mab_q(m->w, A, nr * (int)k, R->HA[2 * l + 1] + ro, &ac);
        spin_mab_kv(m->w, A, nr * (int)k, R->HA[2 * l + 1] + ro, R->Ka[l] + ro, R->Va[l] + ro);
        nn_attn_fwd(nr, (int)k, (int)k, (int)e, (int)nh, 0, ac.Q, R->Ka[l] + ro, R->Va[l] + ro, NULL,
                    ac.P, ac.O);
        spin_mab_out(m->w, A, nr * (int)k, R->HA[2 * l + 1] + ro, &ac, R->HA[2 * l + 2] + ro);
    }
}

/* Backward of rows_fwd. dtop [nr x ke] (may be NULL): gradient w.r.t. the last
 * latents; dext[l] (may be NULL): [n x ke] gradient w.r.t. ABLA_l outputs, indexed
 * by absolute row. Accumulates parameter grads into g and token-constant grads
 * into dtc [D x e]. */
static void rows_bwd(const spin_model_t *m, const spin_train_ws_t *ws, const rowset_t *R,
                     const spin_wtok_t *w, int i0, int nr, const float *dtop, float *const *dext,
                     float *g, float *dtc, float *tmp)
{
    (void)ws;
    const spin_config_t *c = &m->cfg;
    size_t e = c->e, k = c->k, ke = k * e, f = c->ffn * e, nh = c->heads, D = w->D;
    size_t nk = (size_t)nr * ke, nd = (size_t)nr * D * e;
    size_t ro = (size_t)i0 * ke, to = (size_t)i0 * D * e;
    float *p = tmp;
    float *dA = take(&p, CHUNK * ke), *dB = take(&p, CHUNK * ke), *dO = take(&p, CHUNK * ke),
          *dQ = take(&p, CHUNK * ke), *mt = take(&p, CHUNK * k * (2 * e + 2 * f));
    float *dK = take(&p, CHUNK * D * e), *dV = take(&p, CHUNK * D * e), *dx = take(&p, CHUNK * D * e);
    if (dtop) memcpy(dA, dtop, nk * sizeof(float));
    else memset(dA, 0, nk * sizeof(float));
    memset(dx, 0, nd * sizeof(float));
    for (int l = c->L - 1; l >= 0; --l) {
        const spin_mab_t *X = &m->lay.xaba[l], *A = &m->lay.abla[l];
        if (dext && dext[l])
            for (size_t i = 0; i < nk; ++i) dA[i] += dext[l][ro + i];
        /* ABLA_l: HA[2l+1] -> HA[2l+2] */
        spin_mabc_t ac = mabc_off(&R->ac[l], (size_t)i0 * k, e, f, (size_t)i0 * nh * k * k);
        const float *Xa = R->HA[2 * l + 1] + ro;
        memset(dB, 0, nk * sizeof(float));
        spin_mab_out_bwd(m->w, A, nr * (int)k, Xa, &ac, dA, dB, dO, g, mt);
        memset(dQ, 0, nk * sizeof(float));
        memset(dK, 0, nk * sizeof(float));
        memset(dV, 0, nk * sizeof(float));
        nn_attn_bwd(nr, (int)k, (int)k, (int)e, (int)nh, 0, ac.Q, R->Ka[l] + ro, R->Va[l] + ro, ac.P,
                    dO, dQ, dK, dV);
        spin_mab_q_bwd(m->w, A, nr * (int)k, Xa, &ac, dQ, dB, g, mt);
        spin_mab_kv_bwd(m->w, A, nr * (int)k, Xa, dK, dV, dB, g);
        /* XABA_l: HA[2l] -> HA[2l+1], keys/values from the tokens */
        spin_mabc_t xc = mabc_off(&R->xc[l], (size_t)i0 * k, e, f, (size_t)i0 * nh * k * D);
        const float *Xx = R->HA[2 * l] + ro;
        memset(dA, 0, nk * sizeof(float));
        spin_mab_out_bwd(m->w, X, nr * (int)k, Xx, &xc, dB, dA, dO, g, mt);
        memset(dQ, 0, nk * sizeof(float));
        memset(dK, 0, nd * sizeof(float));
        memset(dV, 0, nd * sizeof(float));
        nn_attn_bwd(nr, (int)k, (int)D, (int)e, (int)nh, 0, xc.Q, R->Kx[l] + to, R->Vx[l] + to, xc.P,
                    dO, dQ, dK, dV);
        spin_mab_q_bwd(m->w, X, nr * (int)k, Xx, &xc, dQ, dA, g, mt);
        spin_mab_kv_bwd(m->w, X, nr * (int)D, R->x + to, dK, dV, dx, g);
    }
    float *gH = g + m->lay.HA0;
    for (int i = 0; i < nr; ++i)
        for (size_t j = 0; j < ke; ++j) gH[j] += dA[(size_t)i * ke + j];
    for (size_t i = 0; i < (size_t)nr; ++i)
        for (size_t d = 0; d < D; ++d) {
            const float *dxd = dx + (i * D + d) * e;
            spin_tok_embed_bwd(m, R->st[(i0 + i) * D + d], w->af[d], dxd, g);
            for (size_t j = 0; j < e; ++j) dtc[d * e + j] += dxd[j];
        }
}

/* Query chunk: forward, loss, backward. Returns the chunk's summed weighted BCE. */
static double query_chunk(const spin_model_t *m, spin_train_ws_t *ws, const spin_wtok_t *w,
                          const int8_t *q, int i0, int nr, int K, const int8_t *nb, const float *y,
                          const float *wt, float scale, float *g, float *tmp, float *p_out)
{
    const spin_config_t *c = &m->cfg;
    const spin_layout_t *ly = &m->lay;
    size_t e = c->e, k = c->k, ke = k * e, fp = c->ffn * ke, nh = c->heads, h = c->h;
    size_t D = w->D, nu = w->nu, Kn = (size_t)(K ? K : 1) * ng_cap(c, nu);
    rows_fwd(m, ws, &ws->Q, w, q, i0, nr, 1);
    float *p = tmp + rows_tmp(c, D); /* rows_bwd owns the start of tmp */
    float *dl = take(&p, CHUNK * nu), *dcv = take(&p, CHUNK * ke), *dz = take(&p, CHUNK * ke),
          *dO = take(&p, CHUNK * ke), *dQ = take(&p, CHUNK * ke), *mt = take(&p, CHUNK * (2 * ke + 2 * fp));
    float *dGh = take(&p, Kn * SPIN_CHID), *dH1 = take(&p, Kn * SPIN_CHID), *ds = take(&p, Kn);
    float *gc = take(&p, e), *dgc = take(&p, e), *dqu = take(&p, nu * e), *dbu = take(&p, nu),
          *dtc = take(&p, D * e);
    float *hs = take(&p, spin_copy_scratch_size(c->hmm, (int)D, (int)nu, K));
    const size_t nf = spin_ncopyf(c);
    const float *z = ws->Q.HA[2 * c->L] + (size_t)i0 * ke;
    spin_mabc_t pc = mabc_off(&ws->pc, i0, ke, fp, (size_t)i0 * nh * h);
    const spin_mab_t *Pm = &ly->pred;
    spin_mab_q(m->w, Pm, nr, z, &pc);
    nn_attn_fwd(nr, 1, (int)h, (int)ke, (int)nh, 1, pc.Q, ws->Kp, ws->Vp, NULL, pc.P, pc.O);
    float *cv = ws->cv + (size_t)i0 * ke;
    spin_mab_out(m->w, Pm, nr, z, &pc, cv);
    const float *G = m->w + ly->G;
    float beta = m->w[ly->beta], cb = m->w[ly->cbias];
    for (size_t r = 0; r < (size_t)nr; ++r) {
        size_t qi = i0 + r;
        float *lg = ws->lg + qi * nu;
        memset(gc, 0, e * sizeof(float));
        for (size_t i = 0; i < ke; ++i)
            for (size_t j = 0; j < e; ++j) gc[j] += G[i * e + j] * cv[r * ke + i];
        for (size_t u = 0; u < nu; ++u) {
            float s = ws->bu[u];
            for (size_t j = 0; j < e; ++j) s += ws->qu[u * e + j] * gc[j];
            lg[u] = s;
        }
        const int Kr = w->kq ? w->kq[qi] : K; /* this query's neighbours (stride K) */
        if (Kr > 0 && nu > 0) {
            const int8_t *nbq = nb + qi * K * D;
            float *F = ws->F + qi * Kn * nf;
            int ng = ws->ng;
            spin_wtok_t wq = *w; /* this query's active neighbours */
            wq.act = w->act ? w->act + qi * (size_t)K * ng : NULL;
            spin_copy_feats(m->cfg.hmm, &wq, ng, ws->g0, ws->mid, q + qi * D, Kr, nbq,
                            w->nb_beyond ? w->nb_beyond + qi * K * 4 : NULL, F, hs);
            spin_copy_score(spin_model_copy_mlp(m), Kr * ng, F, NULL, ws->H1 + qi * Kn * SPIN_CHID,
                            ws->Gh + qi * Kn * SPIN_CHID, ws->S + qi * Kn);
            (void)spin_copy_mix(&wq, Kr, ng, ws->g0, nbq, NULL, ws->S + qi * Kn, ws->A + qi * Kn, ws->pcp + qi * nu,
                                ws->lc + qi * nu); /* no deferred weights: cannot fail */
            for (size_t u = 0; u < nu; ++u) lg[u] += beta * ws->lc[qi * nu + u] + cb;
        }
        if (p_out)
            for (size_t u = 0; u < nu; ++u) p_out[qi * nu + u] = 1.0f / (1.0f + nn_exp(-lg[u]));
    }
    size_t nn = (size_t)nr * nu;
    memset(dl, 0, nn * sizeof(float));
    double loss = nn_bce_logits(nn, ws->lg + (size_t)i0 * nu, y + (size_t)i0 * nu,
                                wt ? wt + (size_t)i0 * nu : NULL, scale, dl);
    /* backward: decoder and copy path per row */
    memset(dqu, 0, nu * e * sizeof(float));
    memset(dbu, 0, nu * sizeof(float));
    memset(dcv, 0, (size_t)nr * ke * sizeof(float));
    const float *W2 = m->w + ly->cW2;
    for (size_t r = 0; r < (size_t)nr; ++r) {
        size_t qi = i0 + r;
        const float *dlr = dl + r * nu;
        memset(gc, 0, e * sizeof(float));
        for (size_t i = 0; i < ke; ++i)
            for (size_t j = 0; j < e; ++j) gc[j] += G[i * e + j] * cv[r * ke + i];
        memset(dgc, 0, e * sizeof(float));
        for (size_t u = 0; u < nu; ++u) {
            float d = dlr[u];
            dbu[u] += d;
            for (size_t j = 0; j < e; ++j) {
                dgc[j] += d * ws->qu[u * e + j];
                dqu[u * e + j] += d * gc[j];
            }
        }
        float *gG = g + ly->G;
        for (size_t i = 0; i < ke; ++i) {
            float ci = cv[r * ke + i], s = 0;
            for (size_t j = 0; j < e; ++j) {
                gG[i * e + j] += ci * dgc[j];
                s += G[i * e + j] * dgc[j];
            }
            dcv[r * ke + i] = s;
        }
        const int Kr = w->kq ? w->kq[qi] : K;
        if (Kr > 0 && nu > 0) {
            const int8_t *nbq = nb + qi * K * D;
            const float *A = ws->A + qi * Kn, *lc = ws->lc + qi * nu, *pcp = ws->pcp + qi * nu;
            const float *F = ws->F + qi * Kn * nf, *H1 = ws->H1 + qi * Kn * SPIN_CHID,
                        *Gh = ws->Gh + qi * Kn * SPIN_CHID;
            int ng = ws->ng;
            memset(ds, 0, (size_t)Kr * ng * sizeof(float));
            for (int gi = 0; gi < ng; ++gi) {
                /* dL/da_j(gap) = sum over the gap's tokens of dL/dpc(u) * allele_j(u) */
                for (int u = ws->g0[gi]; u < ws->g0[gi + 1]; ++u) {
                    float d = dlr[u];
                    g[ly->beta] += d * lc[u];
                    g[ly->cbias] += d;
                    float pv = pcp[u];
                    if (!(pv > SPIN_PC_EPS && pv < 1.0f - SPIN_PC_EPS)) continue; /* clamped */
                    float dpc = d * beta / (pv * (1.0f - pv));
                    for (int j = 0; j < Kr; ++j)
                        ds[(size_t)j * ng + gi] += dpc * spin_nb_allele(w, nbq[(size_t)j * D + w->uidx[u]], u);
                }
                float sa = 0;
                for (int j = 0; j < Kr; ++j) sa += A[(size_t)j * ng + gi] * ds[(size_t)j * ng + gi];
                for (int j = 0; j < Kr; ++j) {
                    size_t jg = (size_t)j * ng + gi;
                    ds[jg] = A[jg] * (ds[jg] - sa);
                }
            }
            size_t n = (size_t)Kr * ng;
            float *gW1 = g + ly->cW1, *gb1 = g + ly->cb1, *gW2 = g + ly->cW2, *gwl = g + ly->cwl;
            for (size_t i = 0; i < n; ++i)
                for (int o = 0; o < SPIN_CHID; ++o) {
                    dGh[i * SPIN_CHID + o] = ds[i] * W2[o];
                    gW2[o] += ds[i] * Gh[i * SPIN_CHID + o];
                }
            for (size_t i = 0; i < n; ++i)
                for (size_t j = 0; j < nf; ++j) gwl[j] += ds[i] * F[i * nf + j];
            memset(dH1, 0, n * SPIN_CHID * sizeof(float));
            nn_gelu_bwd(n * SPIN_CHID, H1, dGh, dH1);
            for (size_t i = 0; i < n; ++i)
                for (int o = 0; o < SPIN_CHID; ++o) {
                    float d = dH1[i * SPIN_CHID + o];
                    gb1[o] += d;
                    for (size_t j = 0; j < nf; ++j) gW1[o * nf + j] += d * F[i * nf + j];
                }
        }
    }
    /* predictor MAB */
    memset(dz, 0, (size_t)nr * ke * sizeof(float));
    spin_mab_out_bwd(m->w, Pm, nr, z, &pc, dcv, dz, dO, g, mt);
    memset(dQ, 0, (size_t)nr * ke * sizeof(float));
    float *gKp = g + ly->query_end, *gVp = gKp + h * ke;
    nn_attn_bwd(nr, 1, (int)h, (int)ke, (int)nh, 1, pc.Q, ws->Kp, ws->Vp, pc.P, dO, dQ, gKp, gVp);
    spin_mab_q_bwd(m->w, Pm, nr, z, &pc, dQ, dz, g, mt);
    /* rows */
    memset(dtc, 0, D * e * sizeof(float));
    rows_bwd(m, ws, &ws->Q, w, i0, nr, dz, NULL, g, dtc, tmp);
    /* decoder queries are masked-untyped token embeddings; b(af) */
    float *gbW = g + ly->bafW;
    for (size_t u = 0; u < nu; ++u) {
        size_t d = w->uidx[u];
        spin_tok_embed_bwd(m, SPIN_ST_UMASK, w->af[d], dqu + u * e, g);
        for (size_t j = 0; j < e; ++j) dtc[d * e + j] += dqu[u * e + j];
        float psi[SPIN_NPSI];
        spin_psi(w->af[d], psi);
        for (int j = 0; j < SPIN_NPSI; ++j) gbW[j] += dbu[u] * psi[j];
        g[ly->bafb] += dbu[u];
    }
    spin_tok_const_bwd(m, (int)D, w->dcm, w->af, dtc, g);
    return loss;
}

static void ctx_chunk_bwd(const spin_model_t *m, spin_train_ws_t *ws, const spin_wtok_t *w, int i0,
                          int nr, float *g, float *tmp)
{
    size_t D = w->D, e = m->cfg.e;
    float *p = tmp + rows_tmp(&m->cfg, D);
    float *dtc = take(&p, D * e);
    memset(dtc, 0, D * e * sizeof(float));
    rows_bwd(m, ws, &ws->C, w, i0, nr, NULL, ws->dext, g, dtc, tmp);
    spin_tok_const_bwd(m, (int)D, w->dcm, w->af, dtc, g);
}

double spin_model_train_step(const spin_model_t *m, spin_train_ws_t *ws, const spin_wtok_t *w,
                             int n_ctx, const int8_t *ctx, int n_q, const int8_t *q, int K,
                             const int8_t *nb, const float *y, const float *wt, float *grad,
                             float *p_out)
{
    const spin_config_t *c = &m->cfg;
    const spin_layout_t *ly = &m->lay;
    if (w->D < 1 || w->D > ws->max_D || w->nu < 1 || w->nu > ws->max_nu || n_ctx < 1 ||
        n_ctx > ws->max_ctx || n_q < 1 || n_q > ws->max_q || K < 0 || K > ws->max_K) {
        spin_error("training step sizes (D=%d nu=%d ctx=%d q=%d K=%d) outside the workspace", w->D,
                   w->nu, n_ctx, n_q, K);
        return -1.0;
    }
    size_t e = c->e, k = c->k, ke = k * e, h = c->h, nh = c->heads, hk = h * ke;
    int D = w->D, nu = w->nu, nt = ws->nt;
    /* window tables */
    for (int u = 0; u < nu; ++u)
        if (w->uidx[u] < 0 || w->uidx[u] >= D || w->typed[w->uidx[u]] || (u && w->uidx[u] <= w->uidx[u - 1])) {
            spin_error("untyped token index %d (of %d) is invalid", u, nu);
            return -1.0;
        }
    ws->ng = spin_gaps(w, ws->g0, ws->mid);
    if ((size_t)ws->ng > ng_cap(&m->cfg, (size_t)w->nu)) {
        spin_error("internal: training window has %d gaps, more than its buffers' %zu", ws->ng, ng_cap(&m->cfg, (size_t)w->nu));
        return -1;
    }
    spin_tok_const(m, D, w->dcm, w->af, ws->tc);
    const float *bW = m->w + ly->bafW;
    for (int u = 0; u < nu; ++u) {
        int d = w->uidx[u];
        spin_tok_embed(m, SPIN_ST_UMASK, w->af[d], ws->tc + (size_t)d * e, ws->qu + (size_t)u * e);
        float psi[SPIN_NPSI];
        spin_psi(w->af[d], psi);
        ws->bu[u] = m->w[ly->bafb] + bW[0] * psi[0] + bW[1] * psi[1] + bW[2] * psi[2];
    }
    /* context rows, then XABD */
    int nchc = (n_ctx + CHUNK - 1) / CHUNK, nchq = (n_q + CHUNK - 1) / CHUNK;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (int ch = 0; ch < nchc; ++ch) {
        int i0 = ch * CHUNK, nr = n_ctx - i0 < CHUNK ? n_ctx - i0 : CHUNK;
        rows_fwd(m, ws, &ws->C, w, ctx, i0, nr, 0);
    }
    memcpy(ws->HD[0], m->w + ly->HD0, hk * sizeof(float));
    for (int l = 0; l < c->L; ++l) {
        const spin_mab_t *X = &ly->xabd[l];
        spin_mab_q(m->w, X, (int)h, ws->HD[l], &ws->dc[l]);
        spin_mab_kv(m->w, X, n_ctx, ws->C.HA[2 * l + 2], ws->Kd[l], ws->Vd[l]);
        nn_attn_fwd(1, (int)h, n_ctx, (int)ke, (int)nh, 0, ws->dc[l].Q, ws->Kd[l], ws->Vd[l], NULL,
                    ws->dc[l].P, ws->dc[l].O);
        spin_mab_out(m->w, X, (int)h, ws->HD[l], &ws->dc[l], ws->HD[l + 1]);
    }
    spin_mab_kv(m->w, &ly->pred, (int)h, ws->HD[c->L], ws->Kp, ws->Vp);
    /* queries: forward + loss + backward per chunk, reduced in chunk order */
    float scale = 1.0f / ((float)n_q * (float)nu);
    size_t qr = (size_t)ly->query_end;
    memset(ws->dKp, 0, hk * sizeof(float));
    memset(ws->dVp, 0, hk * sizeof(float));
    for (int c0 = 0; c0 < nchq; c0 += nt) {
        int nw = nchq - c0 < nt ? nchq - c0 : nt;
#pragma omp parallel for num_threads(nw) schedule(static, 1)
        for (int t = 0; t < nw; ++t) {
            int ch = c0 + t, i0 = ch * CHUNK, nr = n_q - i0 < CHUNK ? n_q - i0 : CHUNK;
            memset(ws->gb[t], 0, (qr + 2 * hk) * sizeof(float));
            ws->lpart[ch] = query_chunk(m, ws, w, q, i0, nr, K, nb, y, wt, scale, ws->gb[t], ws->tmp[t], p_out);
        }
        for (int t = 0; t < nw; ++t) {
            const float *gb = ws->gb[t];
            for (size_t i = 0; i < qr; ++i) grad[i] += gb[i];
            for (size_t i = 0; i < hk; ++i) ws->dKp[i] += gb[qr + i], ws->dVp[i] += gb[qr + hk + i];
        }
    }
    double loss = 0;
    for (int ch = 0; ch < nchq; ++ch) loss += ws->lpart[ch];
    /* back through the predictor's K/V projection and the XABD stack */
    memset(ws->dHD, 0, hk * sizeof(float));
    spin_mab_kv_bwd(m->w, &ly->pred, (int)h, ws->HD[c->L], ws->dKp, ws->dVp, ws->dHD, grad);
    for (int l = c->L - 1; l >= 0; --l) {
        const spin_mab_t *X = &ly->xabd[l];
        size_t nk = (size_t)n_ctx * ke;
        memset(ws->dHE, 0, hk * sizeof(float));
        spin_mab_out_bwd(m->w, X, (int)h, ws->HD[l], &ws->dc[l], ws->dHD, ws->dHE, ws->sO, grad, ws->stmp);
        memset(ws->sQ, 0, hk * sizeof(float));
        memset(ws->dKd, 0, nk * sizeof(float));
        memset(ws->dVd, 0, nk * sizeof(float));
        nn_attn_bwd(1, (int)h, n_ctx, (int)ke, (int)nh, 0, ws->dc[l].Q, ws->Kd[l], ws->Vd[l], ws->dc[l].P,
                    ws->sO, ws->sQ, ws->dKd, ws->dVd);
        spin_mab_q_bwd(m->w, X, (int)h, ws->HD[l], &ws->dc[l], ws->sQ, ws->dHE, grad, ws->stmp);
        memset(ws->dext[l], 0, nk * sizeof(float));
        spin_mab_kv_bwd(m->w, X, n_ctx, ws->C.HA[2 * l + 2], ws->dKd, ws->dVd, ws->dext[l], grad);
        float *t = ws->dHD;
        ws->dHD = ws->dHE, ws->dHE = t;
    }
    for (size_t i = 0; i < hk; ++i) grad[ly->HD0 + i] += ws->dHD[i];
    /* context rows backward */
    size_t rr = (size_t)ly->row_end;
    for (int c0 = 0; c0 < nchc; c0 += nt) {
        int nw = nchc - c0 < nt ? nchc - c0 : nt;
#pragma omp parallel for num_threads(nw) schedule(static, 1)
        for (int t = 0; t < nw; ++t) {
            int ch = c0 + t, i0 = ch * CHUNK, nr = n_ctx - i0 < CHUNK ? n_ctx - i0 : CHUNK;
            memset(ws->gb[t], 0, rr * sizeof(float));
            ctx_chunk_bwd(m, ws, w, i0, nr, ws->gb[t], ws->tmp[t]);
        }
        for (int t = 0; t < nw; ++t)
            for (size_t i = 0; i < rr; ++i) grad[i] += ws->gb[t][i];
    }
    return loss;
}

/* Forward flops of MAB(M queries of width dq, R keys of width dkv, FFN width f). */
static double mab_flops(double M, double R, double dq, double dkv, double f)
{
    return 2 * M * dq * dq + 4 * R * dkv * dq + 4 * M * R * dq + 2 * M * dq * dq + 4 * M * dq * f;
}

double spin_model_step_flops(const spin_config_t *c, int D, int nu, int n_ctx, int n_q)
{
    double e = c->e, k = c->k, ke = k * e, h = c->h, f = c->ffn;
    double row = 0;
    for (int l = 0; l < c->L; ++l) row += mab_flops(k, D, e, e, f * e) + mab_flops(k, k, e, e, f * e);
    double fwd = (n_ctx + n_q) * row;
    for (int l = 0; l < c->L; ++l) fwd += mab_flops(h, n_ctx, ke, ke, f * ke);
    fwd += 4 * h * ke * ke;                                             /* predictor keys/values of H_D */
    fwd += n_q * (mab_flops(1, h, ke, ke, f * ke) - 4 * h * ke * ke);  /* per query, K/V shared */
    fwd += n_q * (2 * ke * e + 2.0 * nu * e);                           /* decoder */
    return 3 * fwd;
}
