/* nn.h -- neural-network ops with hand-written backward passes (internal).
 *
 * All tensors are row-major float arrays. Backward functions ACCUMULATE (+=)
 * into every gradient output (dX, dW, db, ...) so that a tensor used twice
 * gets the sum of both contributions; a NULL gradient pointer is skipped.
 * Forward functions write their outputs (=). Caches needed by the backward
 * pass are caller-owned buffers whose sizes are given per function.
 * Single-threaded unless stated: callers parallelise over independent
 * problems; BLAS is used for the large products (cblas_sgemm).
 */
#ifndef SPIN_NN_H
#define SPIN_NN_H

#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

/* Loops marked NN_SIMD / NN_SIMD_SUM(v) are vectorised by the compiler (OpenMP
 * simd; a reduction may be reassociated, which is still deterministic: the same
 * code runs for every thread count). Plain pragmas without OpenMP. */
#ifdef _OPENMP
#define NN_PRAGMA(x) _Pragma(#x)
#define NN_SIMD NN_PRAGMA(omp simd)
#define NN_SIMD_SUM(v) NN_PRAGMA(omp simd reduction(+ : v))
#else
#define NN_SIMD
#define NN_SIMD_SUM(v)
#endif

/* Dot product of n floats (the attention scores' arithmetic, shared by every caller). */
static inline float nn_dot(int n, const float *a, const float *b)
{
    float s = 0.0f;
    NN_SIMD_SUM(s)
    for (int d = 0; d < n; ++d) s += a[d] * b[d];
    return s;
}

/* e^x, branch-free so loops over it vectorise: Cody-Waite reduction by ln 2, a
 * degree-6 polynomial on [-ln2/2, ln2/2], 2^n through the exponent bits.
 * Relative error < 3e-7 on [-87, 88]; below -87.3 (and for -INFINITY, the
 * masked attention scores) exactly 0; above 88 it saturates at e^88; NaN
 * gives NaN (never undefined behaviour). */
static inline float nn_exp(float x)
{
    /* NaN fails x > -87 and clamps to -87, so the float-to-int conversion below
     * stays in range (n in [-126, 127]); the NaN itself is returned at the end */
    float xc = x > -87.0f ? (x < 88.0f ? x : 88.0f) : -87.0f;
    float n = (xc * 1.44269504f + 12582912.0f) - 12582912.0f; /* round to nearest: 1.5 * 2^23 */
    float r = xc - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23; /* biased exponent in [1, 254]: unsigned shift */
    float sc;
    memcpy(&sc, &bits, sizeof(sc));
    return x < -87.3f ? 0.0f : x != x ? x : p * sc;
}

/* Linear: Y[M x O] = X[M x In] W^T + b, W is [O x In], b [O] (b may be NULL). */
void nn_linear_fwd(int M, int In, int O, const float *X, const float *W, const float *b, float *Y);
void nn_linear_bwd(int M, int In, int O, const float *X, const float *W, const float *dY,
                   float *dX, float *dW, float *db);

/* LayerNorm over the last dim D (eps 1e-5); caches mean[M], rstd[M]. */
void nn_layernorm_fwd(int M, int D, const float *X, const float *g, const float *b, float *Y,
                      float *mean, float *rstd);
void nn_layernorm_bwd(int M, int D, const float *X, const float *g, const float *mean,
                      const float *rstd, const float *dY, float *dX, float *dg, float *db);

/* GELU, erf form; erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7) on nn_exp,
 * so both passes vectorise; the backward pass is the derivative of the same form. */
void nn_gelu_fwd(size_t n, const float *x, float *y);
void nn_gelu_bwd(size_t n, const float *x, const float *dy, float *dx);

/* Row softmax of S[M x N] (max-subtracted). Backward: dS += P * (dP - rowsum(dP * P)). */
void nn_softmax_fwd(int M, int N, const float *S, float *P);
void nn_softmax_bwd(int M, int N, const float *P, const float *dP, float *dS);

/* Dropout with probability p: mask[n] (0 or 1/(1-p)) drawn from *rng (xorshift state). */
void nn_dropout_fwd(size_t n, float p, uint64_t *rng, const float *x, float *y, float *mask);
void nn_dropout_bwd(size_t n, const float *mask, const float *dy, float *dx);

/* Multi-head attention core for B independent problems.
 * Q [B x m x de], K/V [B x r x de] (or [r x de] shared by all B when kv_shared),
 * nh heads split de into contiguous slices of de/nh; scale = 1/sqrt(de/nh).
 * P [B x nh x m x r] is the cached attention; O [B x m x de].
 * Optional key mask: kmask [B x r] (1 = attend, 0 = ignore), NULL = all. */
void nn_attn_fwd(int B, int m, int r, int de, int nh, int kv_shared, const float *Q,
                 const float *K, const float *V, const uint8_t *kmask, float *P, float *O);
/* One problem whose scaled scores q.k are already known: P [nh x m x r] holds them on
 * entry and the attention on return (as nn_attn_fwd's P); V [r x de]; O [m x de]. The
 * softmax and weighted sum are nn_attn_fwd's own (its loop path), so results match. */
void nn_attn_fwd_scored(int m, int r, int de, int nh, float *P, const float *V, float *O);
void nn_attn_bwd(int B, int m, int r, int de, int nh, int kv_shared, const float *Q,
                 const float *K, const float *V, const float *P, const float *dO, float *dQ,
                 float *dK, float *dV);

/* Binary cross-entropy with logits on n entries, weights w (NULL = 1):
 * returns sum w*CE; dlogit += scale * w * (sigmoid(z) - y). */
double nn_bce_logits(size_t n, const float *z, const float *y, const float *w, float scale,
                     float *dz);

/* Deterministic RNG (xorshift64*); never returns 0 state. */
uint64_t nn_rng_next(uint64_t *s);
double nn_rng_uniform(uint64_t *s); /* [0,1) */
double nn_rng_normal(uint64_t *s);

/* Adam(W) with bias correction. t is the 1-based step. wd = decoupled weight decay. */
typedef struct {
    float lr, beta1, beta2, eps, wd, clip; /* clip: global L2 norm clip, 0 = off */
} nn_adam_opt_t;
void nn_adam_default(nn_adam_opt_t *o);
/* Clips g (global norm) then updates w; m, v are the moment buffers (zero-initialised).
 * Returns the pre-clip gradient norm. decay_mask[n] (NULL = all 1) selects weights that get wd. */
double nn_adam_step(size_t n, float *w, float *g, float *m, float *v, const uint8_t *decay_mask,
                    const nn_adam_opt_t *o, float lr, int64_t t);
/* Warm-up (linear from 0 over warmup steps) then cosine from lr_max to lr_min at total. */
float nn_lr_schedule(int64_t step, int64_t warmup, int64_t total, float lr_max, float lr_min);

#endif
