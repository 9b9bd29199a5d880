/* nn.c -- neural-network ops with hand-written backward passes.
 *
 * Conventions (see nn.h): row-major floats; forward writes, backward
 * accumulates (+=) and skips NULL gradients. Nothing here allocates, starts
 * threads or keeps state, so a given input always gives bit-identical output
 * (BLAS products are deterministic for a fixed BLAS thread count, which the
 * engine sets). Which code path an op takes depends only on its sizes.
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "nn.h"

/* ------------------------------------------------------------------ */
/* Linear                                                               */
/* ------------------------------------------------------------------ */

void nn_linear_fwd(int M, int In, int O, const float *X, const float *W, const float *b, float *Y)
{
    if (M <= 0 || O <= 0) return;
    if (In <= 0) { /* empty product: Y = b (or 0) */
        for (int i = 0; i < M; ++i)
            for (int o = 0; o < O; ++o) Y[(size_t)i * O + o] = b ? b[o] : 0.0f;
        return;
    }
    if (b)
        for (int i = 0; i < M; ++i) memcpy(Y + (size_t)i * O, b, (size_t)O * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, O, In, 1.0f, X, In, W, In,
                b ? 1.0f : 0.0f, Y, O);
}

void nn_linear_bwd(int M, int In, int O, const float *X, const float *W, const float *dY,
                   float *dX, float *dW, float *db)
{
    if (M <= 0 || O <= 0) return;
    if (In > 0 && dX) /* dX[M x In] += dY[M x O] W[O x In] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, In, O, 1.0f, dY, O, W, In, 1.0f,
                    dX, In);
    if (In > 0 && dW) /* dW[O x In] += dY^T X */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, O, In, M, 1.0f, dY, O, X, In, 1.0f,
                    dW, In);
    if (db)
        for (int i = 0; i < M; ++i) {
            const float *d = dY + (size_t)i * O;
            for (int o = 0; o < O; ++o) db[o] += d[o];
        }
}

/* ------------------------------------------------------------------ */
/* LayerNorm                                                            */
/* ------------------------------------------------------------------ */

#define NN_LN_EPS 1e-5f

void nn_layernorm_fwd(int M, int D, const float *X, const float *g, const float *b, float *Y,
                      float *mean, float *rstd)
{
    if (D <= 0) return;
    for (int i = 0; i < M; ++i) {
        const float *x = X + (size_t)i * D;
        float *y = Y + (size_t)i * D;
        float s = 0.0f, v = 0.0f;
        for (int d = 0; d < D; ++d) s += x[d];
        float mu = s / (float)D;
        for (int d = 0; d < D; ++d) v += (x[d] - mu) * (x[d] - mu); /* two-pass: no cancellation */
        float rs = 1.0f / sqrtf(v / (float)D + NN_LN_EPS);
        for (int d = 0; d < D; ++d) y[d] = (x[d] - mu) * rs * g[d] + b[d];
        mean[i] = mu, rstd[i] = rs;
    }
}

void nn_layernorm_bwd(int M, int D, const float *X, const float *g, const float *mean,
                      const float *rstd, const float *dY, float *dX, float *dg, float *db)
{
    if (D <= 0) return;
    for (int i = 0; i < M; ++i) {
        const float *x = X + (size_t)i * D, *dy = dY + (size_t)i * D;
        float mu = mean[i], rs = rstd[i];
        float s1 = 0.0f, s2 = 0.0f; /* sum dxhat, sum dxhat*xhat */
        for (int d = 0; d < D; ++d) {
            float xh = (x[d] - mu) * rs, dxh = dy[d] * g[d];
            s1 += dxh, s2 += dxh * xh;
            if (dg) dg[d] += dy[d] * xh;
            if (db) db[d] += dy[d];
        }
        if (!dX) continue;
        float *dx = dX + (size_t)i * D;
        s1 /= (float)D, s2 /= (float)D;
        for (int d = 0; d < D; ++d) {
            float xh = (x[d] - mu) * rs;
            dx[d] += rs * (dy[d] * g[d] - s1 - xh * s2);
        }
    }
}

/* ------------------------------------------------------------------ */
/* GELU (exact)                                                         */
/* ------------------------------------------------------------------ */

#define NN_SQRT1_2 0.70710678118654752440f
#define NN_INV_SQRT_2PI 0.39894228040143267794f

/* Phi(z) = 0.5 (1 + erf(z / sqrt 2)), erf by A&S 7.1.26 on its kernel ex = e^(-z^2/2). */
static inline float gelu_phi(float z, float ex)
{
    float t = 1.0f / (1.0f + 0.3275911f * fabsf(z * NN_SQRT1_2));
    float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
    return 0.5f * (1.0f + copysignf(1.0f - poly * ex, z));
}

void nn_gelu_fwd(size_t n, const float *x, float *y)
{
    NN_SIMD
    for (ptrdiff_t i = 0; i < (ptrdiff_t)n; ++i) {
        float z = x[i];
        y[i] = z * gelu_phi(z, nn_exp(-0.5f * z * z));
    }
}

void nn_gelu_bwd(size_t n, const float *x, const float *dy, float *dx)
{
    NN_SIMD
    for (ptrdiff_t i = 0; i < (ptrdiff_t)n; ++i) {
        float z = x[i], ex = nn_exp(-0.5f * z * z);
        dx[i] += dy[i] * (gelu_phi(z, ex) + z * NN_INV_SQRT_2PI * ex);
    }
}

/* ------------------------------------------------------------------ */
/* Softmax                                                              */
/* ------------------------------------------------------------------ */

/* In-place softmax of one row; a row with no finite entry (all keys masked
 * with -INFINITY) becomes all zeros, so it contributes nothing downstream. */
static void softmax_row(int N, float *p)
{
    float mx = -INFINITY;
    for (int j = 0; j < N; ++j) mx = p[j] > mx ? p[j] : mx;
    if (mx == -INFINITY) {
        memset(p, 0, (size_t)N * sizeof(float));
        return;
    }
    float s = 0.0f;
    NN_SIMD_SUM(s)
    for (int j = 0; j < N; ++j) s += (p[j] = nn_exp(p[j] - mx));
    float inv = 1.0f / s;
    NN_SIMD
    for (int j = 0; j < N; ++j) p[j] *= inv;
}

void nn_softmax_fwd(int M, int N, const float *S, float *P)
{
    for (int i = 0; i < M; ++i) {
        if (P != S) memcpy(P + (size_t)i * N, S + (size_t)i * N, (size_t)N * sizeof(float));
        softmax_row(N, P + (size_t)i * N);
    }
}

void nn_softmax_bwd(int M, int N, const float *P, const float *dP, float *dS)
{
    for (int i = 0; i < M; ++i) {
        const float *p = P + (size_t)i * N, *dp = dP + (size_t)i * N;
        float *ds = dS + (size_t)i * N;
        float s = 0.0f;
        for (int j = 0; j < N; ++j) s += dp[j] * p[j];
        for (int j = 0; j < N; ++j) ds[j] += p[j] * (dp[j] - s);
    }
}

/* ------------------------------------------------------------------ */
/* Dropout                                                              */
/* ------------------------------------------------------------------ */

void nn_dropout_fwd(size_t n, float p, uint64_t *rng, const float *x, float *y, float *mask)
{
    /* p <= 0: identity (no RNG draws); p >= 1: everything dropped */
    float keep = p >= 1.0f ? 0.0f : 1.0f / (1.0f - (p > 0.0f ? p : 0.0f));
    for (size_t i = 0; i < n; ++i) {
        float mk = p <= 0.0f ? 1.0f : p >= 1.0f ? 0.0f : nn_rng_uniform(rng) < p ? 0.0f : keep;
        mask[i] = mk;
        y[i] = x[i] * mk;
    }
}

void nn_dropout_bwd(size_t n, const float *mask, const float *dy, float *dx)
{
    for (size_t i = 0; i < n; ++i) dx[i] += dy[i] * mask[i];
}

/* ------------------------------------------------------------------ */
/* Attention                                                            */
/* ------------------------------------------------------------------ */

/* Problems with m*r*dh at least this many multiply-adds per head (and m >= 2)
 * use BLAS; below it the call overhead dominates and plain loops win. */
#define NN_ATTN_BLAS_MIN 16384
/* Stack scratch (floats) for the BLAS backward: dS for a block of query rows. */
#define NN_ATTN_SCR 8192

static inline void axpyf(int n, float a, const float *x, float *y)
{
    NN_SIMD
    for (int d = 0; d < n; ++d) y[d] += a * x[d];
}

static inline int attn_use_blas(int m, int r, int dh)
{
    return m >= 2 && (size_t)m * r * dh >= NN_ATTN_BLAS_MIN;
}

/* One problem, one head. Q, K, V, O point at the head's first column; rows of
 * Q/O/K/V are de apart. P is this head's [m x r] block. */
static void attn_fwd_head(int m, int r, int dh, int de, float scale, const float *Q,
                          const float *K, const float *V, const uint8_t *km, float *P, float *O)
{
    if (attn_use_blas(m, r, dh)) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, r, dh, scale, Q, de, K, de, 0.0f,
                    P, r);
        for (int i = 0; i < m; ++i) {
            float *p = P + (size_t)i * r;
            if (km)
                for (int j = 0; j < r; ++j)
                    if (!km[j]) p[j] = -INFINITY;
            softmax_row(r, p);
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, dh, r, 1.0f, P, r, V, de, 0.0f,
                    O, de);
        return;
    }
    for (int i = 0; i < m; ++i) {
        const float *q = Q + (size_t)i * de;
        float *p = P + (size_t)i * r, *o = O + (size_t)i * de;
        for (int j = 0; j < r; ++j)
            p[j] = km && !km[j] ? -INFINITY : scale * nn_dot(dh, q, K + (size_t)j * de);
        softmax_row(r, p);
        memset(o, 0, (size_t)dh * sizeof(float));
        for (int j = 0; j < r; ++j)
            if (p[j] != 0.0f) axpyf(dh, p[j], V + (size_t)j * de, o);
    }
}

void nn_attn_fwd_scored(int m, int r, int de, int nh, float *P, const float *V, float *O)
{
    int dh = de / nh;
    for (int h = 0; h < nh; ++h)
        for (int i = 0; i < m; ++i) {
            float *p = P + ((size_t)h * m + i) * r, *o = O + (size_t)i * de + h * dh;
            softmax_row(r, p);
            memset(o, 0, (size_t)dh * sizeof(float));
            for (int j = 0; j < r; ++j)
                if (p[j] != 0.0f) axpyf(dh, p[j], V + (size_t)j * de + h * dh, o);
        }
}

void nn_attn_fwd(int B, int m, int r, int de, int nh, int kv_shared, const float *Q,
                 const float *K, const float *V, const uint8_t *kmask, float *P, float *O)
{
    if (B <= 0 || m <= 0 || nh <= 0 || de <= 0) return;
    int dh = de / nh;
    float scale = 1.0f / sqrtf((float)dh);
    if (r <= 0) { /* nothing to attend to */
        memset(O, 0, (size_t)B * m * de * sizeof(float));
        return;
    }
    for (int b = 0; b < B; ++b) {
        size_t kv = kv_shared ? 0 : (size_t)b * r * de;
        const uint8_t *km = kmask ? kmask + (size_t)b * r : NULL;
        for (int h = 0; h < nh; ++h)
            attn_fwd_head(m, r, dh, de, scale, Q + (size_t)b * m * de + h * dh, K + kv + h * dh,
                          V + kv + h * dh, km, P + ((size_t)b * nh + h) * m * r,
                          O + (size_t)b * m * de + h * dh);
    }
}

/* Backward of one problem, one head, with plain loops and no scratch beyond a
 * bounded stack row. Uses dS_ij = P_ij (dP_ij - delta_i), delta_i = sum_j P_ij dP_ij,
 * dP_ij = dO_i . V_j. Masked keys have P_ij = 0 and are skipped. */
#define NN_ATTN_ROW 512
static void attn_bwd_head_loops(int m, int r, int dh, int de, float scale, const float *Q,
                                const float *K, const float *V, const float *P, const float *dO,
                                float *dQ, float *dK, float *dV)
{
    float dpb[NN_ATTN_ROW]; /* dP row when r fits; else recomputed in the second pass */
    int keep = r <= NN_ATTN_ROW;
    for (int i = 0; i < m; ++i) {
        const float *p = P + (size_t)i * r, *go = dO + (size_t)i * de, *q = Q + (size_t)i * de;
        float delta = 0.0f;
        for (int j = 0; j < r; ++j) {
            if (p[j] == 0.0f) continue;
            float dp = nn_dot(dh, go, V + (size_t)j * de);
            if (keep) dpb[j] = dp;
            delta += p[j] * dp;
        }
        for (int j = 0; j < r; ++j) {
            if (p[j] == 0.0f) continue;
            float dp = keep ? dpb[j] : nn_dot(dh, go, V + (size_t)j * de);
            float ds = scale * p[j] * (dp - delta);
            if (dQ) axpyf(dh, ds, K + (size_t)j * de, dQ + (size_t)i * de);
            if (dK) axpyf(dh, ds, q, dK + (size_t)j * de);
            if (dV) axpyf(dh, p[j], go, dV + (size_t)j * de);
        }
    }
}

/* BLAS backward of one head, query rows in blocks so dS fits the stack buffer. */
static void attn_bwd_head_blas(int m, int r, int dh, int de, float scale, const float *Q,
                               const float *K, const float *V, const float *P, const float *dO,
                               float *dQ, float *dK, float *dV)
{
    float S[NN_ATTN_SCR];
    int mb = NN_ATTN_SCR / r;
    if (dV) /* dV[r x dh] += P^T dO */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, dh, m, 1.0f, P, r, dO, de, 1.0f,
                    dV, de);
    if (!dQ && !dK) return;
    for (int i0 = 0; i0 < m; i0 += mb) {
        int n = m - i0 < mb ? m - i0 : mb;
        const float *Pb = P + (size_t)i0 * r, *dOb = dO + (size_t)i0 * de;
        /* S = dO V^T [n x r], then dS = scale * P * (S - rowsum(P*S)) in place */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, r, dh, 1.0f, dOb, de, V, de, 0.0f,
                    S, r);
        for (int i = 0; i < n; ++i) {
            const float *p = Pb + (size_t)i * r;
            float *s = S + (size_t)i * r, delta = 0.0f;
            for (int j = 0; j < r; ++j) delta += p[j] * s[j];
            for (int j = 0; j < r; ++j) s[j] = scale * p[j] * (s[j] - delta);
        }
        if (dQ) /* dQ[n x dh] += dS K */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, dh, r, 1.0f, S, r, K, de,
                        1.0f, dQ + (size_t)i0 * de, de);
        if (dK) /* dK[r x dh] += dS^T Q */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, dh, n, 1.0f, S, r,
                        Q + (size_t)i0 * de, de, 1.0f, dK, de);
    }
}

void nn_attn_bwd(int B, int m, int r, int de, int nh, int kv_shared, const float *Q,
                 const float *K, const float *V, const float *P, const float *dO, float *dQ,
                 float *dK, float *dV)
{
    if (B <= 0 || m <= 0 || r <= 0 || nh <= 0 || de <= 0) return;
    int dh = de / nh;
    float scale = 1.0f / sqrtf((float)dh);
    int blas = attn_use_blas(m, r, dh) && r <= NN_ATTN_SCR;
    for (int b = 0; b < B; ++b) {
        size_t qo = (size_t)b * m * de, kv = kv_shared ? 0 : (size_t)b * r * de;
        for (int h = 0; h < nh; ++h) {
            size_t c = (size_t)h * dh;
            const float *Pb = P + ((size_t)b * nh + h) * m * r;
            (blas ? attn_bwd_head_blas : attn_bwd_head_loops)(
                m, r, dh, de, scale, Q + qo + c, K + kv + c, V + kv + c, Pb, dO + qo + c,
                dQ ? dQ + qo + c : NULL, dK ? dK + kv + c : NULL, dV ? dV + kv + c : NULL);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Binary cross-entropy with logits                                     */
/* ------------------------------------------------------------------ */

double nn_bce_logits(size_t n, const float *z, const float *y, const float *w, float scale,
                     float *dz)
{
    double loss = 0.0;
    for (size_t i = 0; i < n; ++i) {
        double zi = z[i], wi = w ? w[i] : 1.0;
        /* CE = max(z,0) - z*y + log(1 + exp(-|z|)): no overflow for any z */
        loss += wi * ((zi > 0 ? zi : 0.0) - zi * y[i] + log1p(exp(-fabs(zi))));
        if (dz) {
            double e = exp(-fabs(zi));
            double sg = zi >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
            dz[i] += (float)(scale * wi * (sg - y[i]));
        }
    }
    return loss;
}

/* ------------------------------------------------------------------ */
/* RNG: xorshift64*                                                     */
/* ------------------------------------------------------------------ */

uint64_t nn_rng_next(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ULL; /* a zero state would stay zero */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

double nn_rng_uniform(uint64_t *s) { return (double)(nn_rng_next(s) >> 11) * 0x1.0p-53; }

double nn_rng_normal(uint64_t *s)
{
    /* Box-Muller; u1 in (0,1] so the log is finite. No cached second value:
     * the output depends on *s alone. */
    double u1 = 1.0 - nn_rng_uniform(s), u2 = nn_rng_uniform(s);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}
