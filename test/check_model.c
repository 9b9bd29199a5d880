/* check_model.c -- SPIN network: MAB and whole-model gradients against central
 * finite differences, inference path == training forward, hand-computed copy
 * path, determinism across seeds and thread counts. */
#include <check.h>

#include "check_util.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "nn.h"

static uint64_t trng = 12345;
static float urand(float a) { return (float)((2.0 * nn_rng_uniform(&trng) - 1.0) * a); }

/* |a-b| <= rel*max(|a|,|b|) + abs */
static int close_enough(double a, double b, double rel, double abs_)
{
    double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return fabs(a - b) <= rel * m + abs_;
}

/* ---------------- MAB alone ---------------- */

enum { MQ = 3, MR = 5, DQ = 16, DKV = 12, MF = 32, NH = 2 };

typedef struct {
    spin_mab_t L;
    int64_t n;
    float *w, *g;
    float Xq[MQ * DQ], Y[MR * DKV], R[MQ * DQ];
} mabt_t;

static void mabt_layout(mabt_t *t)
{
    int64_t o = 0;
    spin_mab_t *L = &t->L;
    L->dq = DQ, L->dkv = DKV, L->f = MF;
    L->ln1g = o, o += DQ;
    L->ln1b = o, o += DQ;
    L->Wq = o, o += DQ * DQ;
    L->bq = o, o += DQ;
    L->Wk = o, o += DQ * DKV;
    L->bk = o, o += DQ;
    L->Wv = o, o += DQ * DKV;
    L->bv = o, o += DQ;
    L->Wo = o, o += DQ * DQ;
    L->bo = o, o += DQ;
    L->ln2g = o, o += DQ;
    L->ln2b = o, o += DQ;
    L->W1 = o, o += MF * DQ;
    L->b1 = o, o += MF;
    L->W2 = o, o += DQ * MF;
    L->b2 = o, o += DQ;
    t->n = o;
}

typedef struct {
    float Xn[MQ * DQ], Q[MQ * DQ], O[MQ * DQ], H[MQ * DQ], Hn[MQ * DQ], F[MQ * MF], Gf[MQ * MF];
    float mu1[MQ], rs1[MQ], mu2[MQ], rs2[MQ], P[NH * MQ * MR];
    float K[MR * DQ], V[MR * DQ], out[MQ * DQ];
    spin_mabc_t c;
} mabrun_t;

static double mab_loss(mabt_t *t, mabrun_t *r)
{
    spin_mabc_t *c = &r->c;
    c->Xn = r->Xn, c->Q = r->Q, c->O = r->O, c->H = r->H, c->Hn = r->Hn, c->F = r->F, c->Gf = r->Gf;
    c->mu1 = r->mu1, c->rs1 = r->rs1, c->mu2 = r->mu2, c->rs2 = r->rs2, c->P = r->P;
    spin_mab_q(t->w, &t->L, MQ, t->Xq, c);
    spin_mab_kv(t->w, &t->L, MR, t->Y, r->K, r->V);
    nn_attn_fwd(1, MQ, MR, DQ, NH, 0, c->Q, r->K, r->V, NULL, c->P, c->O);
    spin_mab_out(t->w, &t->L, MQ, t->Xq, c, r->out);
    double s = 0;
    for (int i = 0; i < MQ * DQ; ++i) s += (double)r->out[i] * t->R[i];
    return s;
}

START_TEST(test_mab_grad)
{
    mabt_t t;
    mabt_layout(&t);
    t.w = malloc(t.n * sizeof(float));
    t.g = calloc(t.n, sizeof(float));
    for (int64_t i = 0; i < t.n; ++i) t.w[i] = urand(0.4f);
    for (int i = 0; i < DQ; ++i) t.w[t.L.ln1g + i] += 1.0f, t.w[t.L.ln2g + i] += 1.0f;
    for (int i = 0; i < MQ * DQ; ++i) t.Xq[i] = urand(1.0f), t.R[i] = urand(1.0f);
    for (int i = 0; i < MR * DKV; ++i) t.Y[i] = urand(1.0f);
    mabrun_t r;
    mab_loss(&t, &r);
    float dXq[MQ * DQ] = {0}, dY[MR * DKV] = {0}, dO[MQ * DQ], dQ[MQ * DQ] = {0}, dK[MR * DQ] = {0},
          dV[MR * DQ] = {0};
    float tmp[MQ * (2 * DQ + 2 * MF)];
    spin_mab_out_bwd(t.w, &t.L, MQ, t.Xq, &r.c, t.R, dXq, dO, t.g, tmp);
    nn_attn_bwd(1, MQ, MR, DQ, NH, 0, r.c.Q, r.K, r.V, r.c.P, dO, dQ, dK, dV);
    spin_mab_q_bwd(t.w, &t.L, MQ, t.Xq, &r.c, dQ, dXq, t.g, tmp);
    spin_mab_kv_bwd(t.w, &t.L, MR, t.Y, dK, dV, dY, t.g);
    const float h = 1e-2f;
    int nbad = 0, nchk = 0;
#define FD(arr, i, grad)                                                                         \
    do {                                                                                         \
        float s0 = (arr)[i];                                                                     \
        (arr)[i] = s0 + h;                                                                       \
        double lp = mab_loss(&t, &r);                                                            \
        (arr)[i] = s0 - h;                                                                       \
        double lm = mab_loss(&t, &r);                                                            \
        (arr)[i] = s0;                                                                           \
        double fd = (lp - lm) / (2.0 * h);                                                       \
        ++nchk;                                                                                  \
        if (!close_enough((grad), fd, 2e-2, 2e-3)) {                                             \
            ++nbad;                                                                              \
            fprintf(stderr, "MAB grad mismatch %s[%d]: analytic %g fd %g\n", #arr, (int)(i),     \
                    (double)(grad), fd);                                                         \
        }                                                                                        \
    } while (0)
    for (int i = 0; i < MQ * DQ; ++i) FD(t.Xq, i, dXq[i]);
    for (int i = 0; i < MR * DKV; ++i) FD(t.Y, i, dY[i]);
    for (int64_t i = 0; i < t.n; ++i) FD(t.w, i, t.g[i]);
#undef FD
    ck_assert_int_eq(nbad, 0);
    ck_assert_int_eq(nchk, MQ * DQ + MR * DKV + (int)t.n);
    /* gradients are not trivially zero */
    double gn = 0;
    for (int i = 0; i < MR * DKV; ++i) gn += fabs(dY[i]);
    ck_assert(gn > 1e-3);
    free(t.w);
    free(t.g);
}
END_TEST

/* ---------------- whole model, toy size ---------------- */

enum { TD = 7, TNU = 4, TCTX = 5, TQ = 2, TK = 3 };
static const uint8_t ttyped[TD] = {1, 0, 0, 1, 0, 1, 0};
static const int tuidx[TNU] = {1, 2, 4, 6};
static const float tdcm[TD] = {-0.30f, -0.21f, -0.05f, 0.0f, 0.004f, 0.12f, 0.41f};
static const float taf[TD] = {0.3f, 0.05f, 0.5f, 0.7f, 0.2f, 0.45f, 0.9f};

static void toy_cfg(spin_config_t *c)
{
    spin_config_default(c);
    c->e = 8, c->heads = 2, c->k = 2, c->h = 3, c->L = 2, c->ffn = 2, c->w = 4, c->c = 2, c->K = TK;
}

static spin_wtok_t toy_window(void)
{
    spin_wtok_t w = {TD, ttyped, tdcm, taf, TNU, tuidx, NULL, NULL, NULL, NULL};
    return w;
}

typedef struct {
    int8_t ctx[TCTX * TD], q[TQ * TD], nb[TQ * TK * TD];
    float y[TQ * TNU], wt[TQ * TNU];
} toy_data_t;

static void toy_data(toy_data_t *d, int n_ctx, int n_q, int8_t *ctx, int8_t *q, int8_t *nb, float *y,
                     float *wt)
{
    (void)d;
    for (int i = 0; i < n_ctx * TD; ++i) ctx[i] = (int8_t)(nn_rng_next(&trng) & 1);
    ctx[3] = -1; /* a missing typed allele in the context */
    for (int i = 0; i < n_q * TD; ++i) q[i] = (int8_t)(nn_rng_next(&trng) & 1);
    q[TD + 5] = -1; /* and in a query */
    for (int i = 0; i < n_q * TK * TD; ++i) nb[i] = (int8_t)(nn_rng_next(&trng) & 1);
    for (int i = 0; i < n_q; ++i)
        for (int u = 0; u < TNU; ++u) {
            /* neighbours disagree at every untyped token so p_copy stays inside the clamp */
            nb[((size_t)i * TK + 0) * TD + tuidx[u]] = 0;
            nb[((size_t)i * TK + 1) * TD + tuidx[u]] = 1;
            y[i * TNU + u] = (float)(nn_rng_next(&trng) & 1);
            if (wt) wt[i * TNU + u] = 0.5f + (float)nn_rng_uniform(&trng);
        }
}

/* Random parameters around the init, so that every path carries gradient. */
static spin_model_t *toy_model(uint64_t seed, float gscale)
{
    spin_config_t c;
    toy_cfg(&c);
    spin_model_t *m = spin_model_init(&c, seed);
    ck_assert_ptr_nonnull(m);
    for (int64_t i = 0; i < m->n_params; ++i) m->w[i] += urand(0.25f);
    for (int64_t j = 0; j < (int64_t)c.k * c.e * c.e; ++j) m->w[m->lay.G + j] = urand(gscale);
    return m;
}

/* Analytic gradient of the training step against central differences, a few
 * entries of every tensor, for window w (the copy path's active masks and
 * per-query neighbour counts ride on w). */
static void grad_check(const spin_wtok_t *w0)
{
    spin_model_t *m = toy_model(7, 0.5f);
    spin_wtok_t w = *w0;
    toy_data_t d;
    toy_data(&d, TCTX, TQ, d.ctx, d.q, d.nb, d.y, d.wt);
    spin_train_ws_t *ws = spin_train_ws_init(m, TD, TNU, TCTX, TQ, TK, 1);
    ck_assert_ptr_nonnull(ws);
    float *g = calloc(m->n_params, sizeof(float));
    double L0 = spin_model_train_step(m, ws, &w, TCTX, d.ctx, TQ, d.q, TK, d.nb, d.y, d.wt, g, NULL);
    ck_assert(L0 > 0 && isfinite(L0));
    const double norm = 1.0 / (TQ * TNU); /* gradients are of the mean loss */
    const float h = 1e-2f;
    int nbad = 0, nchk = 0;
    float *g2 = calloc(m->n_params, sizeof(float));
    for (int t = 0; t < m->n_tensor; ++t) {
        const spin_tensor_t *T = &m->tensor[t];
        double tn = 0;
        for (int64_t i = 0; i < T->size; ++i) tn += fabs(g[T->offset + i]);
        if (tn == 0) fprintf(stderr, "tensor %s has zero gradient\n", T->name);
        ck_assert_msg(tn > 0, "tensor %s gets no gradient", T->name);
        int ns = T->size < 3 ? (int)T->size : 3;
        for (int s = 0; s < ns; ++s) {
            int64_t i = T->offset + (int64_t)(nn_rng_next(&trng) % (uint64_t)T->size);
            float wv = m->w[i];
            m->w[i] = wv + h;
            double lp = spin_model_train_step(m, ws, &w, TCTX, d.ctx, TQ, d.q, TK, d.nb, d.y, d.wt, g2, NULL);
            m->w[i] = wv - h;
            double lm = spin_model_train_step(m, ws, &w, TCTX, d.ctx, TQ, d.q, TK, d.nb, d.y, d.wt, g2, NULL);
            m->w[i] = wv;
            double fd = (lp - lm) / (2.0 * h) * norm;
            ++nchk;
            if (!close_enough(g[i], fd, 2e-2, 1e-3)) { /* gradients here are O(0.01-10) */
                ++nbad;
                fprintf(stderr, "model grad mismatch %s[%lld]: analytic %g fd %g\n", T->name,
                        (long long)(i - T->offset), (double)g[i], fd);
            }
        }
    }
    ck_assert_int_eq(nbad, 0);
    ck_assert(nchk > 100);
    free(g);
    free(g2);
    spin_train_ws_destroy(ws);
    spin_model_destroy(m);
}

START_TEST(test_model_grad)
{
    spin_wtok_t w = toy_window();
    grad_check(&w);
}
END_TEST

/* Segments' copy path: each query mixes only its active (neighbour, gap) pairs and
 * has its own neighbour count (spin_wtok_t.act, .kq), as train.c passes them. */
START_TEST(test_model_grad_masked)
{
    spin_wtok_t w = toy_window();
    int g0[TNU + 1];
    float mid[TNU];
    int ng = spin_gaps(&w, g0, mid);
    ck_assert_int_gt(ng, 0);
    static uint8_t act[TQ * TK * TNU];
    static int kq[TQ];
    for (int q = 0; q < TQ; ++q) {
        kq[q] = TK - q % 2; /* some queries have one neighbour fewer */
        for (int j = 0; j < TK; ++j)
            for (int g = 0; g < ng; ++g) /* neighbour 0 always active: no empty gap */
                act[(size_t)q * TK * ng + (size_t)j * ng + g] = j < kq[q] && (j == 0 || (j + g + q) % 3 != 0);
    }
    w.act = act, w.kq = kq;
    grad_check(&w);
}
END_TEST

/* Inference (tables, encode, set_hd, predict) == training forward, with and
 * without the copy path (with it the toy outputs are often saturated). */
START_TEST(test_predict_matches_train)
{
    spin_model_t *m = toy_model(11, 0.05f);
    spin_wtok_t w = toy_window();
    toy_data_t d;
    toy_data(&d, TCTX, TQ, d.ctx, d.q, d.nb, d.y, NULL);
    spin_train_ws_t *ws = spin_train_ws_init(m, TD, TNU, TCTX, TQ, TK, 1);
    float *g = calloc(m->n_params, sizeof(float)), p_train[TQ * TNU], p_inf[TNU];
    spin_wctx_t *wc = spin_wctx_init(m, TD, TNU);
    ck_assert_ptr_nonnull(wc);
    float *es = malloc(spin_enc_scratch_size(&m->cfg, TD, TCTX) * sizeof(float));
    float *ps = malloc(spin_pred_scratch_size(&m->cfg, TD, TNU, TNU, TK) * sizeof(float));
    float *HD = malloc(spin_model_hd_size(&m->cfg) * sizeof(float));
    int n_mid = 0; /* unsaturated outputs without the copy path: the comparison means something */
    for (int K = TK; K >= 0; K -= TK) {
        int8_t nbk[TQ * TK * TD];
        for (int i = 0; i < TQ; ++i) memcpy(nbk + i * K * TD, d.nb + i * TK * TD, (size_t)K * TD);
        spin_model_train_step(m, ws, &w, TCTX, d.ctx, TQ, d.q, K, nbk, d.y, NULL, g, p_train);
        ck_assert_int_eq(spin_model_window(m, &w, wc), 0);
        ck_assert_int_eq(spin_model_encode(m, &w, wc, TCTX, d.ctx, HD, es), 0);
        ck_assert_int_eq(spin_model_set_hd(m, wc, HD), 0);
        for (int i = 0; i < TQ; ++i) {
            int8_t row[TD];
            memcpy(row, d.q + i * TD, TD);
            for (int u = 0; u < TNU; ++u) row[tuidx[u]] = (int8_t)(u & 1); /* must be ignored */
            ck_assert_int_eq(spin_model_predict(m, &w, wc, row, K, nbk + (size_t)i * K * TD, NULL, p_inf, ps), 0);
            for (int u = 0; u < TNU; ++u) {
                if (K == 0) n_mid += p_inf[u] > 0.01f && p_inf[u] < 0.99f;
                ck_assert_msg(fabsf(p_inf[u] - p_train[i * TNU + u]) < 1e-5f, "K%d q%d u%d: predict %g train %g",
                              K, i, u, p_inf[u], p_train[i * TNU + u]);
            }
        }
    }
    ck_assert_int_gt(n_mid, 0);
    free(es);
    free(ps);
    free(HD);
    free(g);
    spin_wctx_destroy(wc);
    spin_train_ws_destroy(ws);
    spin_model_destroy(m);
}
END_TEST

/* With G = 0, b(af) = 0 and the init copy score log(dl)+log(dr), P(ALT) is the
 * IBS-weighted neighbour vote: hand-computed. */
START_TEST(test_copy_path_hand)
{
    spin_config_t c;
    toy_cfg(&c);
    c.hmm = 0; /* IBS features only: the posterior features are checked below */
    spin_model_t *m = spin_model_init(&c, 3);
    memset(m->w + m->lay.G, 0, (size_t)c.k * c.e * c.e * sizeof(float));
    memset(m->w + m->lay.cW2, 0, SPIN_CHID * sizeof(float));
    const uint8_t typed[5] = {1, 0, 1, 0, 1};
    const float dcm[5] = {0, 0.1f, 0.2f, 0.3f, 0.4f}, af[5] = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
    const int uidx[2] = {1, 3};
    spin_wtok_t w = {5, typed, dcm, af, 2, uidx, NULL, NULL, NULL, NULL};
    const int8_t row[5] = {0, -1, 1, -1, 0};
    const int8_t nb[2 * 5] = {0, 1, 1, 0, 0, /* matches the target everywhere */
                              0, 0, 0, 1, 0}; /* mismatch at token 2 */
    spin_wctx_t *wc = spin_wctx_init(m, 8, 4);
    ck_assert_int_eq(spin_model_window(m, &w, wc), 0);
    float *es = malloc(spin_enc_scratch_size(&c, 5, 2) * sizeof(float));
    float *ps = malloc(spin_pred_scratch_size(&c, 5, 2, 2, 4) * sizeof(float));
    float *HD = malloc(spin_model_hd_size(&c) * sizeof(float));
    ck_assert_int_eq(spin_model_encode(m, &w, wc, 2, nb, HD, es), 0);
    spin_model_set_hd(m, wc, HD);
    float p[2];
    ck_assert_int_eq(spin_model_predict(m, &w, wc, row, 2, nb, NULL, p, ps), 0);
    /* gaps of the toy window: {1,2} | {4} | {6} */
    spin_wtok_t tw = toy_window();
    int g0[TNU + 1];
    float mid[TNU];
    ck_assert_int_eq(spin_gaps(&tw, g0, mid), 3);
    ck_assert_int_eq(g0[0], 0);
    ck_assert_int_eq(g0[1], 2);
    ck_assert_int_eq(g0[2], 3);
    ck_assert_int_eq(g0[3], 4);
    ck_assert(fabsf(mid[0] - (-0.13f)) < 1e-6f);
    /* u=1: nb0 dl=0.1 (censored at token 0), dr=0.3 (censored at token 4); nb1 dl=0.1, dr=0.1 */
    double a0 = 0.3001 / (0.3001 + 0.1001);
    ck_assert_msg(fabs(p[0] - a0) < 1e-4, "p[0]=%g expected %g", p[0], a0);
    ck_assert_msg(fabs(p[1] - (1 - a0)) < 1e-4, "p[1]=%g expected %g", p[1], 1 - a0);
    /* no typed token anywhere: all features equal -> plain neighbour mean */
    const uint8_t untyped[5] = {0, 0, 0, 0, 0};
    const int uall[5] = {0, 1, 2, 3, 4};
    spin_wtok_t w0 = {5, untyped, dcm, af, 5, uall, NULL, NULL, NULL, NULL};
    const int8_t nb4[4 * 5] = {1, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0};
    spin_wctx_t *wc0 = spin_wctx_init(m, 5, 5);
    float *es0 = malloc(spin_enc_scratch_size(&c, 5, 4) * sizeof(float));
    float *ps0 = malloc(spin_pred_scratch_size(&c, 5, 5, 5, 4) * sizeof(float));
    ck_assert_int_eq(spin_model_window(m, &w0, wc0), 0);
    ck_assert_int_eq(spin_model_encode(m, &w0, wc0, 4, nb4, HD, es0), 0);
    spin_model_set_hd(m, wc0, HD);
    float p5[5];
    int8_t row0[5] = {-1, -1, -1, -1, -1};
    ck_assert_int_eq(spin_model_predict(m, &w0, wc0, row0, 4, nb4, NULL, p5, ps0), 0);
    const float expect[5] = {0.75f, 0.0f, 0.75f, 0.5f, 0.0f};
    for (int u = 0; u < 5; ++u) {
        float e = expect[u] < 1e-3f ? 1e-3f : expect[u];
        ck_assert_msg(fabsf(p5[u] - e) < 1e-4f, "u%d: %g expected %g", u, p5[u], e);
    }
    /* K = 0: the neural logit alone, here exactly 0 -> 0.5 */
    ck_assert_int_eq(spin_model_predict(m, &w0, wc0, row0, 0, NULL, NULL, p5, ps0), 0);
    for (int u = 0; u < 5; ++u) ck_assert(fabsf(p5[u] - 0.5f) < 1e-6f);
    free(es);
    free(ps);
    free(es0);
    free(ps0);
    free(HD);
    spin_wctx_destroy(wc);
    spin_wctx_destroy(wc0);
    spin_model_destroy(m);
}
END_TEST

/* Reference IBS features, one neighbour at a time over all tokens (the plain
 * statement of architecture.md step 4), against the vectorised spin_copy_feats. */
static void ref_ibs_feats(const spin_wtok_t *w, int ng, const int *g0, const float *mid,
                    const int8_t *row, const int8_t *nbj, const float *ext, int stride, float *f)
{
    const int D = w->D;
    int first = -1, last = -1;
    for (int d = 0; d < D; ++d)
        if (w->typed[d]) {
            if (first < 0) first = d;
            last = d;
        }
    /* left: nearest typed mismatch before the gap; censored at the first typed token */
    int mm = -1, g = 0;
    for (int d = 0; d < D && g < ng; ++d) {
        if (w->typed[d]) {
            if (row[d] >= 0 && nbj[d] >= 0 && row[d] != nbj[d]) mm = d;
        } else if (w->uidx[g0[g]] == d) {
            float *fg = f + (size_t)g * stride;
            if (mm >= 0) fg[0] = mid[g] - w->dcm[mm], fg[2] = 0.0f;
            else if (ext && ext[1] >= 0) fg[0] = mid[g] - ext[0], fg[2] = ext[1];
            else fg[0] = first >= 0 && first < d ? mid[g] - w->dcm[first] : 0.0f, fg[2] = 1.0f;
            ++g;
        }
    }
    /* right: nearest typed mismatch after the gap; censored at the last typed token */
    mm = -1, g = ng - 1;
    for (int d = D - 1; d >= 0 && g >= 0; --d) {
        if (w->typed[d]) {
            if (row[d] >= 0 && nbj[d] >= 0 && row[d] != nbj[d]) mm = d;
        } else if (w->uidx[g0[g + 1] - 1] == d) {
            float *fg = f + (size_t)g * stride;
            if (mm >= 0) fg[1] = w->dcm[mm] - mid[g], fg[3] = 0.0f;
            else if (ext && ext[3] >= 0) fg[1] = ext[2] - mid[g], fg[3] = ext[3];
            else fg[1] = last >= 0 && last > d ? w->dcm[last] - mid[g] : 0.0f, fg[3] = 1.0f;
            --g;
        }
    }
    for (g = 0; g < ng; ++g) {
        float *fg = f + (size_t)g * stride;
        float dl = fg[0] > 0 ? fg[0] : 0, dr = fg[1] > 0 ? fg[1] : 0;
        fg[4] = logf(dl + dr + 1e-4f);
        fg[0] = logf(dl + 1e-4f);
        fg[1] = logf(dr + 1e-4f);
    }
}

START_TEST(test_copy_feats_reference)
{
    enum { RD = 40, RK = 7 };
    for (int hmm = 0; hmm <= 1; ++hmm)
        for (int rep = 0; rep < 20; ++rep) {
            spin_config_t c;
            toy_cfg(&c);
            c.hmm = hmm;
            spin_model_t *m = spin_model_alloc(&c);
            uint8_t typed[RD];
            float dcm[RD], af[RD], ext[4 * RK];
            int uidx[RD], nu = 0;
            int8_t row[RD], nb[RK * RD];
            for (int d = 0; d < RD; ++d) {
                typed[d] = nn_rng_uniform(&trng) < (rep & 1 ? 0.3 : 0.05);
                dcm[d] = (d ? dcm[d - 1] : -0.5f) + 0.001f + (float)nn_rng_uniform(&trng) * 0.03f;
                af[d] = 0.3f;
                if (!typed[d]) uidx[nu++] = d;
                row[d] = typed[d] ? (int8_t)(nn_rng_uniform(&trng) < 0.1 ? -1 : nn_rng_uniform(&trng) < 0.5) : -1;
                for (int j = 0; j < RK; ++j) {
                    double x = nn_rng_uniform(&trng);
                    nb[j * RD + d] = (int8_t)(x < 0.03 ? -1 : typed[d] && row[d] >= 0 && x < 0.85 ? row[d] : x < 0.5);
                }
            }
            for (int j = 0; j < RK; ++j) {
                ext[4 * j] = -0.9f, ext[4 * j + 1] = (float)(j % 3) - 1.0f;
                ext[4 * j + 2] = 0.9f, ext[4 * j + 3] = (float)((j + 1) % 3) - 1.0f;
            }
            spin_wtok_t w = {RD, typed, dcm, af, nu, uidx, NULL, NULL, NULL, NULL};
            int g0[RD + 1];
            float mid[RD];
            int ng = spin_gaps(&w, g0, mid);
            int nf = spin_ncopyf(&c);
            float *F = malloc((size_t)RK * ng * nf * sizeof(float)), ref[RD * SPIN_NIBS];
            float *hs = malloc(spin_copy_scratch_size(c.hmm, RD, nu, RK) * sizeof(float));
            const float *ex = rep % 3 ? ext : NULL;
            spin_copy_feats(m->cfg.hmm, &w, ng, g0, mid, row, RK, nb, ex, F, hs);
            for (int j = 0; j < RK; ++j) {
                ref_ibs_feats(&w, ng, g0, mid, row, nb + j * RD, ex ? ex + 4 * j : NULL, SPIN_NIBS, ref);
                for (int g = 0; g < ng; ++g)
                    for (int f = 0; f < SPIN_NIBS; ++f)
                        ck_assert_msg(F[((size_t)j * ng + g) * nf + f] == ref[g * SPIN_NIBS + f],
                                      "hmm %d rep %d nb %d gap %d feature %d: %g vs reference %g", hmm, rep, j, g, f,
                                      F[((size_t)j * ng + g) * nf + f], ref[g * SPIN_NIBS + f]);
            }
            if (hmm) /* posterior features: log probabilities that sum to 1 over the neighbours */
                for (int r = 0; r < SPIN_NHMM; ++r)
                    for (int g = 0; g < ng; ++g) {
                        double z = 0;
                        for (int j = 0; j < RK; ++j) z += exp(F[((size_t)j * ng + g) * nf + SPIN_NIBS + r]);
                        ck_assert_msg(fabs(z - 1.0) < 1e-4, "posterior sums to %g", z);
                    }
            free(F), free(hs);
            spin_model_destroy(m);
        }
}
END_TEST

/* Li-Stephens posterior per gap against brute force: every path of states over
 * the typed tokens plus the gap's read point, weighted by emissions and by
 * explicit K x K transition matrices (stay 1-rho+rho/K, move rho/K). */
static double bf_trans(double lambda, double dx, int a, int b, int K)
{
    double rho = 1.0 - exp(-lambda * dx);
    return (a == b ? 1.0 - rho : 0.0) + rho / K;
}

START_TEST(test_copy_hmm_bruteforce)
{
    enum { BD = 9, BK = 3 };
    const uint8_t typed[BD] = {0, 1, 0, 0, 1, 1, 0, 1, 0};
    const float dcm[BD] = {-0.30f, -0.21f, -0.15f, -0.12f, -0.02f, 0.05f, 0.09f, 0.20f, 0.26f};
    const float af[BD] = {0};
    /* gaps: {0} before the first typed token, {2,3}, {6}, {8} after the last */
    const int uidx5[5] = {0, 2, 3, 6, 8};
    spin_wtok_t w = {BD, typed, dcm, af, 5, uidx5, NULL, NULL, NULL, NULL};
    const int8_t row[BD] = {-1, 1, -1, -1, 0, -1, -1, 1, -1};
    const int8_t nb[BK * BD] = {0, 1, 0, 0, 0, 1, 0, 1, 0,   /* matches typed 1,4,7; missing-free */
                                0, 0, 1, 1, 0, 0, 1, 1, 1,   /* mismatch at 1 */
                                1, 1, 0, 1, 1, -1, 0, 0, 0}; /* mismatch at 4 and 7, missing at 5 */
    int g0[6];
    float mid[5];
    int ng = spin_gaps(&w, g0, mid);
    ck_assert_int_eq(ng, 4);
    const float lambda = 7.0f, eps = 0.05f;
    spin_config_t hc;
    spin_config_default(&hc);
    hc.hmm = 1;
    float *hs = malloc(spin_copy_scratch_size(hc.hmm, BD, 5, BK) * sizeof(float)), post[4 * BK];
    spin_copy_hmm(&w, ng, g0, mid, row, BK, nb, lambda, eps, post, hs);
    free(hs);
    const int tt[4] = {1, 4, 5, 7};
    for (int g = 0; g < ng; ++g) {
        /* positions: the typed tokens with the gap's read point inserted in order */
        double x[5];
        int emit[5], np = 0, ins = 0;
        for (int t = 0; t < 4; ++t) {
            if (!ins && dcm[tt[t]] > mid[g]) x[np] = mid[g], emit[np++] = -1, ins = 1;
            x[np] = dcm[tt[t]], emit[np++] = tt[t];
        }
        if (!ins) x[np] = mid[g], emit[np++] = -1;
        double z = 0, pj[BK] = {0};
        for (int path = 0; path < 243; ++path) {
            int st[5], q = path;
            for (int i = 0; i < 5; ++i) st[i] = q % BK, q /= BK;
            double pr = 1.0 / BK;
            for (int i = 0; i < 5; ++i) {
                if (i > 0) pr *= bf_trans(lambda, x[i] - x[i - 1], st[i - 1], st[i], BK);
                int d = emit[i];
                if (d >= 0 && row[d] >= 0 && nb[st[i] * BD + d] >= 0)
                    pr *= nb[st[i] * BD + d] == row[d] ? 1.0 - eps : eps;
            }
            z += pr;
            for (int i = 0; i < 5; ++i)
                if (emit[i] < 0) pj[st[i]] += pr;
        }
        for (int j = 0; j < BK; ++j)
            ck_assert_msg(fabs(post[g * BK + j] - pj[j] / z) < 1e-5, "gap %d state %d: %g vs brute force %g", g, j,
                          post[g * BK + j], pj[j] / z);
    }
    /* the all-matching neighbour dominates the middle gap */
    ck_assert(post[1 * BK + 0] > post[1 * BK + 1] && post[1 * BK + 0] > post[1 * BK + 2]);
}
END_TEST

/* A long row whose neighbours mismatch almost everywhere (sums shrink by up to eps
 * a step, so the vectors are rescaled often and a gap multiplies two small sums:
 * the case a too-low rescale threshold underflows in) against a double-precision
 * forward-backward normalised at every step. */
START_TEST(test_copy_hmm_long)
{
    enum { LD = 1500, LK = 9 };
    static uint8_t typed[LD];
    static float dcm[LD], af[LD];
    static int uidx[LD];
    static int8_t row[LD], nb[LK * LD];
    int nu = 0;
    for (int d = 0; d < LD; ++d) {
        typed[d] = d % 3 != 1;
        dcm[d] = (d ? dcm[d - 1] : -2.0f) + 0.006f;
        af[d] = 0.5f;
        if (!typed[d]) uidx[nu++] = d;
        row[d] = (int8_t)(nn_rng_uniform(&trng) < 0.5);
        for (int j = 0; j < LK; ++j) nb[j * LD + d] = (int8_t)(nn_rng_uniform(&trng) < (j == 0 ? 0.1 : 0.02) ? row[d] : 1 - row[d]);
    }
    spin_wtok_t w = {LD, typed, dcm, af, nu, uidx, NULL, NULL, NULL, NULL};
    static int g0[LD + 1];
    static float mid[LD];
    int ng = spin_gaps(&w, g0, mid);
    spin_config_t hc;
    spin_config_default(&hc);
    hc.hmm = 1;
    float *hs = malloc(spin_copy_scratch_size(hc.hmm, LD, nu, LK) * sizeof(float)), *post = malloc((size_t)ng * LK * sizeof(float));
    const double lambda = 2.0, eps = 0.001;
    spin_copy_hmm(&w, ng, g0, mid, row, LK, nb, (float)lambda, (float)eps, post, hs);
    /* reference: typed tokens in order, forward and backward normalised every step */
    int T = 0, tk[LD];
    for (int d = 0; d < LD; ++d)
        if (typed[d]) tk[T++] = d;
    double *fa = malloc((size_t)T * LK * sizeof(double)), *bb = malloc((size_t)T * LK * sizeof(double));
    for (int t = 0; t < T; ++t) {
        double z = 0;
        for (int j = 0; j < LK; ++j) {
            double pr = 1.0 / LK;
            if (t > 0) {
                double rho = 1 - exp(-lambda * (dcm[tk[t]] - dcm[tk[t - 1]]));
                pr = (1 - rho) * fa[(t - 1) * LK + j] + rho / LK;
            }
            z += fa[t * LK + j] = pr * (nb[j * LD + tk[t]] == row[tk[t]] ? 1 - eps : eps);
        }
        for (int j = 0; j < LK; ++j) fa[t * LK + j] /= z;
    }
    for (int t = T - 1; t >= 0; --t) { /* bb = emission(t) * beta(t), normalised */
        double z = 0, se = 0;
        if (t < T - 1)
            for (int j = 0; j < LK; ++j) se += bb[(t + 1) * LK + j];
        for (int j = 0; j < LK; ++j) {
            double b = 1;
            if (t < T - 1) {
                double rho = 1 - exp(-lambda * (dcm[tk[t + 1]] - dcm[tk[t]]));
                b = (1 - rho) * bb[(t + 1) * LK + j] + rho * se / LK;
            }
            z += bb[t * LK + j] = b * (nb[j * LD + tk[t]] == row[tk[t]] ? 1 - eps : eps);
        }
        for (int j = 0; j < LK; ++j) bb[t * LK + j] /= z;
    }
    for (int g = 0; g < ng; ++g) {
        int d0 = uidx[g0[g]], tl = -1;
        while (tl + 1 < T && tk[tl + 1] < d0) ++tl;
        int tr = tl + 1;
        double rl = tl >= 0 ? 1 - exp(-lambda * (mid[g] - dcm[tk[tl]])) : 1, rr = tr < T ? 1 - exp(-lambda * (dcm[tk[tr]] - mid[g])) : 1;
        double p[LK], z = 0, se = 0;
        if (tr < T)
            for (int j = 0; j < LK; ++j) se += bb[tr * LK + j];
        for (int j = 0; j < LK; ++j) {
            double fl = tl >= 0 ? (1 - rl) * fa[tl * LK + j] + rl / LK : 1.0 / LK;
            double br = tr < T ? (1 - rr) * bb[tr * LK + j] + rr * se / LK : 1;
            z += p[j] = fl * br;
        }
        for (int j = 0; j < LK; ++j)
            ck_assert_msg(fabs(post[g * LK + j] - p[j] / z) < 2e-4 * (p[j] / z) + 1e-6, "gap %d state %d: %g vs %g", g,
                          j, post[g * LK + j], p[j] / z);
    }
    free(fa), free(bb), free(hs), free(post);
}
END_TEST

START_TEST(test_determinism)
{
    spin_config_t c;
    toy_cfg(&c);
    spin_model_t *a = spin_model_init(&c, 42), *b = spin_model_init(&c, 42), *d = spin_model_init(&c, 43);
    ck_assert_int_eq(a->n_params, b->n_params);
    ck_assert_int_eq(memcmp(a->w, b->w, a->n_params * sizeof(float)), 0);
    ck_assert_int_ne(memcmp(a->w, d->w, a->n_params * sizeof(float)), 0);
    /* LN gains 1, biases 0, beta 1 */
    const spin_tensor_t *t = spin_model_tensor(a, "xaba0.ln1.g");
    ck_assert_ptr_nonnull(t);
    ck_assert(a->w[t->offset] == 1.0f);
    t = spin_model_tensor(a, "xabd1.b1");
    ck_assert_ptr_nonnull(t);
    ck_assert(a->w[t->offset] == 0.0f);
    ck_assert(a->w[a->lay.beta] == 1.0f);
    /* weight decay: matrices only */
    uint8_t *mask = malloc(a->n_params);
    spin_model_decay_mask(a, mask);
    ck_assert_int_eq(mask[spin_model_tensor(a, "pred.Wq")->offset], 1);
    ck_assert_int_eq(mask[spin_model_tensor(a, "pred.bq")->offset], 0);
    ck_assert_int_eq(mask[spin_model_tensor(a, "tok.E")->offset], 0);
    ck_assert_int_eq(mask[spin_model_tensor(a, "HD0")->offset], 0);
    free(mask);
    /* several chunks of rows: 1 and 2 threads give identical loss and gradients */
    enum { NC = 21, NQ = 17 };
    int8_t *ctx = malloc(NC * TD), *q = malloc(NQ * TD), *nb = malloc(NQ * TK * TD);
    float *y = malloc(NQ * TNU * sizeof(float));
    toy_data(NULL, NC, NQ, ctx, q, nb, y, NULL);
    spin_wtok_t w = toy_window();
    float *g1 = calloc(a->n_params, sizeof(float)), *g2 = calloc(a->n_params, sizeof(float));
    float p1[NQ * TNU], p2[NQ * TNU];
    spin_train_ws_t *w1 = spin_train_ws_init(a, TD, TNU, NC, NQ, TK, 1);
    spin_train_ws_t *w2 = spin_train_ws_init(a, TD, TNU, NC, NQ, TK, 2);
    double l1 = spin_model_train_step(a, w1, &w, NC, ctx, NQ, q, TK, nb, y, NULL, g1, p1);
    double l2 = spin_model_train_step(a, w2, &w, NC, ctx, NQ, q, TK, nb, y, NULL, g2, p2);
    ck_assert(l1 > 0);
    ck_assert(l1 == l2);
    ck_assert_int_eq(memcmp(g1, g2, a->n_params * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(p1, p2, sizeof(p1)), 0);
    /* the gradient accumulates */
    spin_model_train_step(a, w1, &w, NC, ctx, NQ, q, TK, nb, y, NULL, g1, NULL);
    int64_t i = spin_model_tensor(a, "copy.bias")->offset;
    ck_assert(fabsf(g1[i] - 2 * g2[i]) <= 1e-6f * fabsf(g1[i]) + 1e-9f);
    free(ctx);
    free(q);
    free(nb);
    free(y);
    free(g1);
    free(g2);
    spin_train_ws_destroy(w1);
    spin_train_ws_destroy(w2);
    spin_model_destroy(a);
    spin_model_destroy(b);
    spin_model_destroy(d);
}
END_TEST

START_TEST(test_config_check)
{
    spin_config_t c;
    spin_config_default(&c);
    ck_assert_int_eq(spin_config_check(&c), 0);
    c.heads = 5; /* does not divide e = 32 */
    ck_assert_int_lt(spin_config_check(&c), 0);
    ck_assert_ptr_null(spin_model_init(&c, 1));
    spin_config_default(&c);
    c.L = 0;
    ck_assert_int_lt(spin_config_check(&c), 0);
}
END_TEST

int main(void)
{
    spin_verbose = 0;
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_mab_grad);
    tcase_add_test(tc, test_model_grad);
    tcase_add_test(tc, test_model_grad_masked);
    tcase_add_test(tc, test_predict_matches_train);
    tcase_add_test(tc, test_copy_path_hand);
    tcase_add_test(tc, test_copy_hmm_bruteforce);
    tcase_add_test(tc, test_copy_feats_reference);
    tcase_add_test(tc, test_copy_hmm_long);
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_config_check);
    suite_add_tcase(s, tc);
    return spin_check_run(s);
}
