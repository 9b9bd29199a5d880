/* check_nn.c -- NN primitives: forward values against naive double-precision
 * references, backward passes against central finite differences, Adam and
 * the learning-rate schedule by hand. */
#include <check.h>

#include "check_util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"

static uint64_t rs = 12345;
static void fill(float *x, size_t n, double scale)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)((nn_rng_uniform(&rs) * 2 - 1) * scale);
}
static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}
/* analytic vs numeric: relative error with an absolute floor */
static void check_grad(double an, double nu, const char *what, size_t i)
{
    double err = fabs(an - nu) / fmax(fabs(an) + fabs(nu), 2e-3);
    ck_assert_msg(err < 3e-2, "%s[%zu]: analytic %g numeric %g", what, i, an, nu);
}

/* ---- linear ---- */
#define LM 5
#define LI 7
#define LO 4
static float lX[LM * LI], lW[LO * LI], lb[LO], lR[LM * LO];
static double loss_linear(void)
{
    float Y[LM * LO];
    nn_linear_fwd(LM, LI, LO, lX, lW, lb, Y);
    return dot(Y, lR, LM * LO);
}
START_TEST(test_linear)
{
    fill(lX, LM * LI, 1), fill(lW, LO * LI, 1), fill(lb, LO, 1), fill(lR, LM * LO, 1);
    float Y[LM * LO];
    nn_linear_fwd(LM, LI, LO, lX, lW, lb, Y);
    for (int m = 0; m < LM; m++)
        for (int o = 0; o < LO; o++) {
            double s = lb[o];
            for (int i = 0; i < LI; i++) s += (double)lX[m * LI + i] * lW[o * LI + i];
            ck_assert_double_eq_tol(Y[m * LO + o], s, 1e-5);
        }
    float dX[LM * LI] = {0}, dW[LO * LI] = {0}, db[LO] = {0};
    nn_linear_bwd(LM, LI, LO, lX, lW, lR, dX, dW, db);
    struct { float *p, *g; size_t n; const char *name; } t[] = {{lX, dX, LM * LI, "dX"}, {lW, dW, LO * LI, "dW"}, {lb, db, LO, "db"}};
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < t[k].n; i++) {
            float s = t[k].p[i];
            t[k].p[i] = s + 1e-2f;
            double a = loss_linear();
            t[k].p[i] = s - 1e-2f;
            double b = loss_linear();
            t[k].p[i] = s;
            check_grad(t[k].g[i], (a - b) / 2e-2, t[k].name, i);
        }
    /* accumulation: a second call doubles; NULL gradients are skipped */
    float db2[LO];
    memcpy(db2, db, sizeof(db));
    nn_linear_bwd(LM, LI, LO, lX, lW, lR, NULL, NULL, db);
    for (int o = 0; o < LO; o++) ck_assert_float_eq_tol(db[o], 2 * db2[o], 1e-5);
}
END_TEST

/* ---- layernorm ---- */
#define NM 3
#define ND 6
static float nX[NM * ND], ng[ND], nb[ND], nR[NM * ND];
static double loss_ln(void)
{
    float Y[NM * ND], mu[NM], rstd[NM];
    nn_layernorm_fwd(NM, ND, nX, ng, nb, Y, mu, rstd);
    return dot(Y, nR, NM * ND);
}
START_TEST(test_layernorm)
{
    fill(nX, NM * ND, 2), fill(ng, ND, 1), fill(nb, ND, 1), fill(nR, NM * ND, 1);
    float Y[NM * ND], mu[NM], rstd[NM];
    nn_layernorm_fwd(NM, ND, nX, ng, nb, Y, mu, rstd);
    for (int m = 0; m < NM; m++) {
        double s = 0, ss = 0;
        for (int d = 0; d < ND; d++) s += nX[m * ND + d];
        s /= ND;
        for (int d = 0; d < ND; d++) ss += (nX[m * ND + d] - s) * (nX[m * ND + d] - s);
        double r = 1 / sqrt(ss / ND + 1e-5);
        for (int d = 0; d < ND; d++) ck_assert_double_eq_tol(Y[m * ND + d], (nX[m * ND + d] - s) * r * ng[d] + nb[d], 1e-4);
    }
    float dX[NM * ND] = {0}, dg[ND] = {0}, dbb[ND] = {0};
    nn_layernorm_bwd(NM, ND, nX, ng, mu, rstd, nR, dX, dg, dbb);
    struct { float *p, *g; size_t n; const char *name; } t[] = {{nX, dX, NM * ND, "dX"}, {ng, dg, ND, "dg"}, {nb, dbb, ND, "db"}};
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < t[k].n; i++) {
            float s = t[k].p[i];
            t[k].p[i] = s + 1e-2f;
            double a = loss_ln();
            t[k].p[i] = s - 1e-2f;
            double b = loss_ln();
            t[k].p[i] = s;
            check_grad(t[k].g[i], (a - b) / 2e-2, t[k].name, i);
        }
}
END_TEST

/* ---- nn_exp against libm over its whole range, and its edges ---- */
START_TEST(test_exp)
{
    double worst = 0;
    for (double x = -87.0; x <= 88.0; x += 0.00731) {
        double r = fabs(nn_exp((float)x) / exp((double)(float)x) - 1.0);
        worst = r > worst ? r : worst;
    }
    ck_assert_msg(worst < 3e-7, "nn_exp relative error %g", worst);
    ck_assert(nn_exp(0.0f) == 1.0f);
    ck_assert(nn_exp(-INFINITY) == 0.0f);
    ck_assert(nn_exp(-100.0f) == 0.0f);
    ck_assert(isfinite(nn_exp(1000.0f)) && nn_exp(1000.0f) > 1e38f);
    ck_assert(isfinite(nn_exp(INFINITY)));
    /* NaN propagates, with no out-of-range conversion or negative left shift
     * (UBSan flagged both under --enable-sanitizers) */
    volatile float nan = NAN;
    ck_assert(isnan(nn_exp(nan)));
}
END_TEST

/* ---- gelu, softmax, dropout, bce ---- */
START_TEST(test_pointwise)
{
    float x[9], y[9], dx[9] = {0}, R[9];
    fill(x, 9, 3), fill(R, 9, 1);
    nn_gelu_fwd(9, x, y);
    for (int i = 0; i < 9; i++) ck_assert_double_eq_tol(y[i], 0.5 * x[i] * (1 + erf(x[i] / sqrt(2.0))), 1e-5);
    for (float z = -12.0f; z <= 12.0f; z += 0.0137f) {
        float gz;
        nn_gelu_fwd(1, &z, &gz);
        ck_assert_msg(fabs(gz - 0.5 * z * (1 + erf(z / sqrt(2.0)))) < 2e-6, "gelu(%g) = %g", z, gz);
    }
    nn_gelu_bwd(9, x, R, dx);
    for (int i = 0; i < 9; i++) {
        double h = 1e-3, a = 0.5 * (x[i] + h) * (1 + erf((x[i] + h) / sqrt(2.0))),
               b = 0.5 * (x[i] - h) * (1 + erf((x[i] - h) / sqrt(2.0)));
        check_grad(dx[i], R[i] * (a - b) / (2 * h), "gelu", i);
    }
    /* softmax rows: values, sums, gradient */
    float S[6], P[6], dS[6] = {0}, Rp[6];
    fill(S, 6, 3), fill(Rp, 6, 1);
    nn_softmax_fwd(2, 3, S, P);
    for (int m = 0; m < 2; m++) {
        double z = 0;
        for (int j = 0; j < 3; j++) z += exp(S[m * 3 + j]);
        for (int j = 0; j < 3; j++) ck_assert_double_eq_tol(P[m * 3 + j], exp(S[m * 3 + j]) / z, 1e-6);
    }
    nn_softmax_bwd(2, 3, P, Rp, dS);
    for (int i = 0; i < 6; i++) {
        float s = S[i], Pa[6], Pb[6];
        S[i] = s + 1e-2f, nn_softmax_fwd(2, 3, S, Pa);
        S[i] = s - 1e-2f, nn_softmax_fwd(2, 3, S, Pb);
        S[i] = s;
        check_grad(dS[i], (dot(Pa, Rp, 6) - dot(Pb, Rp, 6)) / 2e-2, "softmax", i);
    }
    /* dropout: mask entries are 0 or 1/(1-p); backward multiplies by the mask */
    float mask[1000], xin[1000], xout[1000], dd[1000] = {0}, ones[1000];
    uint64_t r = 99;
    for (int i = 0; i < 1000; i++) xin[i] = 1, ones[i] = 1;
    nn_dropout_fwd(1000, 0.25f, &r, xin, xout, mask);
    int zeros = 0;
    for (int i = 0; i < 1000; i++) {
        ck_assert(mask[i] == 0 || fabsf(mask[i] - 1 / 0.75f) < 1e-6);
        zeros += mask[i] == 0;
        ck_assert_float_eq(xout[i], xin[i] * mask[i]);
    }
    ck_assert(zeros > 180 && zeros < 320);
    nn_dropout_bwd(1000, mask, ones, dd);
    for (int i = 0; i < 1000; i++) ck_assert_float_eq(dd[i], mask[i]);
    /* bce with logits: value and gradient */
    float z[4] = {-3, -0.5f, 0.5f, 4}, yv[4] = {0, 1, 0, 1}, w[4] = {1, 2, 1, 0.5f}, dz[4] = {0};
    double L = nn_bce_logits(4, z, yv, w, 0.5f, dz), ref = 0;
    for (int i = 0; i < 4; i++) {
        double p = 1 / (1 + exp(-z[i]));
        ref += w[i] * -(yv[i] * log(p) + (1 - yv[i]) * log(1 - p));
        ck_assert_double_eq_tol(dz[i], 0.5 * w[i] * (p - yv[i]), 1e-6);
    }
    ck_assert_double_eq_tol(L, ref, 1e-5);
    /* stable at extreme logits */
    float zz[2] = {80, -80}, yy[2] = {0, 1};
    ck_assert(isfinite(nn_bce_logits(2, zz, yy, NULL, 1, NULL)));
}
END_TEST

/* ---- attention: forward vs naive double, finite differences ---- */
#define AB 2
static int am, ar, ade, anh, ashared;
static float *aQ, *aK, *aV, *aR;
static uint8_t *amask;
static void attn_ref(double *O)
{
    int dh = ade / anh;
    double sc = 1 / sqrt((double)dh);
    for (int b = 0; b < AB; b++)
        for (int h = 0; h < anh; h++)
            for (int i = 0; i < am; i++) {
                const float *q = aQ + ((size_t)b * am + i) * ade + h * dh;
                const float *K = aK + (ashared ? 0 : (size_t)b * ar * ade), *V = aV + (ashared ? 0 : (size_t)b * ar * ade);
                double s[256], mx = -1e300, z = 0;
                for (int j = 0; j < ar; j++) {
                    if (amask && !amask[b * ar + j]) continue;
                    double d = 0;
                    for (int c = 0; c < dh; c++) d += q[c] * (double)K[(size_t)j * ade + h * dh + c];
                    s[j] = d * sc, mx = s[j] > mx ? s[j] : mx;
                }
                for (int j = 0; j < ar; j++)
                    if (!amask || amask[b * ar + j]) s[j] = exp(s[j] - mx), z += s[j];
                for (int c = 0; c < dh; c++) {
                    double o = 0;
                    for (int j = 0; j < ar; j++)
                        if (!amask || amask[b * ar + j]) o += s[j] / z * V[(size_t)j * ade + h * dh + c];
                    O[((size_t)b * am + i) * ade + h * dh + c] = o;
                }
            }
}
static double loss_attn(void)
{
    float *P = malloc(sizeof(float) * AB * anh * am * ar), *O = malloc(sizeof(float) * AB * am * ade);
    nn_attn_fwd(AB, am, ar, ade, anh, ashared, aQ, aK, aV, amask, P, O);
    double L = dot(O, aR, (size_t)AB * am * ade);
    free(P), free(O);
    return L;
}
static void attn_case(int m, int r, int de, int nh, int shared, int use_mask)
{
    am = m, ar = r, ade = de, anh = nh, ashared = shared;
    size_t nq = (size_t)AB * m * de, nk = (size_t)(shared ? 1 : AB) * r * de;
    aQ = malloc(nq * 4), aK = malloc(nk * 4), aV = malloc(nk * 4), aR = malloc(nq * 4);
    amask = use_mask ? malloc((size_t)AB * r) : NULL;
    fill(aQ, nq, 1), fill(aK, nk, 1), fill(aV, nk, 1), fill(aR, nq, 1);
    if (amask)
        for (int i = 0; i < AB * r; i++) amask[i] = (i % 3) != 1;
    double *Oref = malloc(nq * sizeof(double));
    attn_ref(Oref);
    float *P = malloc(sizeof(float) * AB * nh * m * r), *O = malloc(nq * 4);
    nn_attn_fwd(AB, m, r, de, nh, shared, aQ, aK, aV, amask, P, O);
    for (size_t i = 0; i < nq; i++) ck_assert_msg(fabs(O[i] - Oref[i]) < 1e-4, "attn O[%zu] %g vs %g", i, O[i], Oref[i]);
    float *dQ = calloc(nq, 4), *dK = calloc(nk, 4), *dV = calloc(nk, 4);
    nn_attn_bwd(AB, m, r, de, nh, shared, aQ, aK, aV, P, aR, dQ, dK, dV);
    struct { float *p, *g; size_t n; const char *name; } t[] = {{aQ, dQ, nq, "dQ"}, {aK, dK, nk, "dK"}, {aV, dV, nk, "dV"}};
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < t[k].n; i += 1 + t[k].n / 40) {
            float s = t[k].p[i];
            t[k].p[i] = s + 1e-2f;
            double a = loss_attn();
            t[k].p[i] = s - 1e-2f;
            double b = loss_attn();
            t[k].p[i] = s;
            check_grad(t[k].g[i], (a - b) / 2e-2, t[k].name, i);
        }
    free(Oref), free(P), free(O), free(dQ), free(dK), free(dV);
    free(aQ), free(aK), free(aV), free(aR), free(amask);
}
START_TEST(test_attention)
{
    attn_case(3, 5, 8, 2, 0, 0);   /* many tiny problems, m != r */
    attn_case(1, 7, 8, 2, 1, 0);   /* one query over shared keys (predictor) */
    attn_case(4, 6, 8, 2, 0, 1);   /* key mask */
    attn_case(16, 128, 16, 2, 0, 0); /* m*r*dh = 16384: the BLAS path */
    attn_case(16, 130, 16, 2, 1, 0); /* BLAS path with shared keys */
}
END_TEST

/* ---- Adam, schedule, RNG ---- */
START_TEST(test_adam)
{
    nn_adam_opt_t o;
    nn_adam_default(&o);
    o.clip = 0;
    float w[3] = {1, -2, 0.5f}, g[3] = {0.3f, -0.1f, 0}, m[3] = {0}, v[3] = {0};
    nn_adam_step(3, w, g, m, v, NULL, &o, 0.01f, 1);
    /* first bias-corrected step moves by lr * g/|g| (eps aside); zero gradient does not move */
    ck_assert_float_eq_tol(w[0], 1 - 0.01f, 1e-6);
    ck_assert_float_eq_tol(w[1], -2 + 0.01f, 1e-6);
    ck_assert_float_eq_tol(w[2], 0.5f, 1e-7);
    /* clipping: returns the pre-clip norm and bounds the step by the clipped gradient */
    o.clip = 1;
    float w2[2] = {0, 0}, g2[2] = {30, 40}, m2[2] = {0}, v2[2] = {0};
    double norm = nn_adam_step(2, w2, g2, m2, v2, NULL, &o, 0.01f, 1);
    ck_assert_double_eq_tol(norm, 50, 1e-9);
    ck_assert_float_eq_tol(m2[0], 0.1f * 0.6f, 1e-6); /* (1-beta1) * clipped g = 0.1 * 30/50 */
    /* decoupled weight decay only on masked weights */
    o.clip = 0, o.wd = 0.1f;
    float w3[2] = {1, 1}, g3[2] = {0, 0}, m3[2] = {0}, v3[2] = {0};
    uint8_t mask[2] = {1, 0};
    nn_adam_step(2, w3, g3, m3, v3, mask, &o, 0.5f, 1);
    ck_assert_float_eq_tol(w3[0], 1 - 0.5f * 0.1f, 1e-6);
    ck_assert_float_eq_tol(w3[1], 1, 1e-7);
}
END_TEST

START_TEST(test_schedule_rng)
{
    ck_assert_float_eq_tol(nn_lr_schedule(9, 10, 110, 1e-3f, 0), 1e-3f, 1e-9); /* end of warm-up */
    ck_assert(nn_lr_schedule(0, 10, 110, 1e-3f, 0) < 2e-4f);
    ck_assert_float_eq_tol(nn_lr_schedule(60, 10, 110, 1e-3f, 1e-4f), 5.5e-4f, 1e-8); /* cosine midpoint */
    ck_assert_float_eq_tol(nn_lr_schedule(110, 10, 110, 1e-3f, 1e-4f), 1e-4f, 1e-9);
    ck_assert_float_eq_tol(nn_lr_schedule(500, 10, 110, 1e-3f, 1e-4f), 1e-4f, 1e-9);
    uint64_t a = 5, b = 5;
    for (int i = 0; i < 10; i++) ck_assert(nn_rng_next(&a) == nn_rng_next(&b));
    double s = 0, ss = 0;
    for (int i = 0; i < 100000; i++) {
        double u = nn_rng_uniform(&a);
        ck_assert(u >= 0 && u < 1);
        double z = nn_rng_normal(&b);
        s += z, ss += z * z;
    }
    ck_assert(fabs(s / 1e5) < 0.02 && fabs(ss / 1e5 - 1) < 0.03);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_linear);
    tcase_add_test(tc, test_layernorm);
    tcase_add_test(tc, test_exp);
    tcase_add_test(tc, test_pointwise);
    tcase_add_test(tc, test_attention);
    tcase_add_test(tc, test_adam);
    tcase_add_test(tc, test_schedule_rng);
    suite_add_tcase(s, tc);
    return spin_check_run(s);
}
