/* model.h -- the SPIN network: parameters and layout (model.c), inference
 * (encode/predict, model_infer.c), training forward+backward (model_train.c),
 * model file I/O (modelio.c); internal to libspin.
 *
 * A window is seen in token coordinates: tokens are the window's sites (typed
 * context + untyped block) in position order, one SNP per token. Alleles are
 * int8 per token: 0 = REF, 1 = ALT (panel coding); -1 = missing (typed) or
 * masked (untyped). doc/architecture.md "The model (v1)" is the spec.
 *
 * Inference, per window (engine.c):
 *   spin_model_window(m, w, wc)                 tabulate per-token K/V (once)
 *   spin_model_encode(m, w, wc, n, rows, H_D, s) panel -> inducing points H_D
 *   spin_model_set_hd(m, wc, H_D)               predictor keys/values of H_D
 *   spin_model_predict(m, w, wc, row, K, nb, p, s) per target haplotype (thread-safe,
 *                                               wc read-only, s per-thread scratch)
 * All buffers are caller-owned and sized by the *_size functions; nothing here
 * allocates during inference.
 */
#ifndef SPIN_MODEL_H
#define SPIN_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "spin.h"
#include "copypath.h"
#include "tokens.h"

/* Named parameter tensor: a contiguous slice [offset, offset+size) of spin_model_t.w. */
typedef struct {
    char name[40];
    int ndim;
    int shape[4];
    int64_t offset, size;
    uint8_t decay;          /* 1 = weight decay applies (matrices); 0 = biases, LN, embeddings, latent inits */
} spin_tensor_t;

/* Offsets into w of one multihead attention block MAB(Xq [m x dq], Y [r x dkv]). */
typedef struct {
    int dq, dkv, f;         /* query/output width, key input width, FFN width */
    int64_t ln1g, ln1b, Wq, bq, Wk, bk, Wv, bv, Wo, bo, ln2g, ln2b, W1, b1, W2, b2;
} spin_mab_t;

#define SPIN_NPHI 4         /* fixed features of a token's cM offset */
#define SPIN_NPSI 3         /* fixed features of a token's allele frequency */
#define SPIN_MAX_L 8

/* Offsets of every tensor (filled by the layout builder). */
typedef struct {
    int64_t E, P, A, b;           /* token embedding: E [6 x e], P [e x NPHI], A [e x NPSI], b [e] */
    int64_t HA0, HD0;             /* latent init [k x e], inducing-point init [h x k*e] */
    spin_mab_t xaba[SPIN_MAX_L], abla[SPIN_MAX_L], xabd[SPIN_MAX_L];
    spin_mab_t pred;              /* MAB(z [1 x ke], H_D [h x ke]) */
    int64_t G;                    /* [k*e x e]: l_nn(u) = <G q_u, c> + ... */
    int64_t bafW, bafb;           /* [1 x NPSI], [1]: b(af_u) */
    int64_t cW1, cb1, cW2, cwl;   /* copy score MLP [CHID x nf], [CHID], [1 x CHID], linear skip [1 x nf], nf = spin_ncopyf
                                   * (no output bias: the score enters a softmax over neighbours) */
    int64_t beta, cbias;          /* copy-path gain (init 1) and bias (K > 0 only) */
    int64_t row_end;              /* params touched by per-row XABA/ABLA + embedding: [0, row_end) */
    int64_t query_end;            /* ... plus predictor/decoder/copy path: [0, query_end); HD0 and XABD follow */
} spin_layout_t;

struct spin_model_s {
    spin_config_t cfg;
    int64_t n_params;
    float *w;                     /* [n_params] flat parameters */
    int n_tensor;
    spin_tensor_t *tensor;
    spin_layout_t lay;
    spin_provenance_t prov;       /* strings owned by the model */
    char checksum[9];             /* CRC32 of the file as loaded/saved; "00000000" if never */
};

/* Copy-path features per (neighbour, gap) with settings c. */
static inline int spin_ncopyf(const spin_config_t *c) { return spin_copy_nfeat(c->hmm); }
/* The copy path's score MLP weights inside m. */
static inline spin_copy_mlp_t spin_model_copy_mlp(const spin_model_t *m)
{
    spin_copy_mlp_t r = {m->w + m->lay.cW1, m->w + m->lay.cb1, m->w + m->lay.cW2, m->w + m->lay.cwl, spin_ncopyf(&m->cfg)};
    return r;
}

/* The copy path's gain and bias on the final logit: l = l_nn + beta logit(pc) + cb. */
static inline void spin_model_copy_gain(const spin_model_t *m, float *beta, float *cb)
{
    *beta = m->w[m->lay.beta], *cb = m->w[m->lay.cbias];
}

/* 0 if cfg is usable, else <0 with a message saying which field is wrong. */
int spin_config_check(const spin_config_t *cfg);
/* A model with the layout of cfg and all parameters zero (used by the loader). */
spin_model_t *spin_model_alloc(const spin_config_t *cfg);
/* Parameters that settings cfg imply, without allocating them (the loader
 * checks a file's size against it first); -1 if cfg is invalid. */
int64_t spin_config_n_params(const spin_config_t *cfg);
/* A model with settings cfg whose parameters come from src where they fit: a tensor
 * of src with the same name and shape is copied; a 2-D tensor with the same rows and
 * fewer columns fills the leading columns and its new columns are zero (so new
 * inputs start unused), except copy.wl whose new columns keep their fresh init (the
 * posterior features' prior weights); anything else keeps the fresh init of seed.
 * *n_fresh (may be NULL) gets the number of tensors left fresh. Provenance is copied. */
spin_model_t *spin_model_adapt(const spin_model_t *src, const spin_config_t *cfg, uint64_t seed, int *n_fresh);
/* Replaces the provenance (strings are copied). */
int spin_model_set_provenance(spin_model_t *m, const spin_provenance_t *p);
/* mask[n_params]: 1 where weight decay applies (matrices), 0 elsewhere. */
void spin_model_decay_mask(const spin_model_t *m, uint8_t *mask);
/* Tensor by name, NULL if absent. */
const spin_tensor_t *spin_model_tensor(const spin_model_t *m, const char *name);
/* Floats in H_D: h * k * e. */
size_t spin_model_hd_size(const spin_config_t *c);

/* ---------------- inference ---------------- */

/* Per-window context: tabulated token K/V for every layer and token state,
 * masked-untyped decoding vectors, predictor K/V of H_D. One per thread (or one
 * shared per window, read-only during predict). Sized for max_D tokens, max_nu untyped. */
typedef struct spin_wctx_s spin_wctx_t;
spin_wctx_t *spin_wctx_init(const spin_model_t *m, int max_D, int max_nu);
void spin_wctx_destroy(spin_wctx_t *wc);
/* Fills wc for window w (w->D <= max_D, w->nu <= max_nu). */
int spin_model_window(const spin_model_t *m, const spin_wtok_t *w, spin_wctx_t *wc);
/* The copy-path gaps spin_model_window found (spin_gaps): their count, and *g0
 * [ng + 1] the first untyped token of each, owned by wc. */
int spin_wctx_gaps(const spin_wctx_t *wc, const int **g0);

/* Encoder over n_rows panel rows (rows: n_rows x D alleles, untyped visible; -1 allowed).
 * Writes H_D [h x k*e]. scratch: spin_enc_scratch_size floats. n_rows >= 1. */
size_t spin_enc_scratch_size(const spin_config_t *c, int D, int n_rows);
int spin_model_encode(const spin_model_t *m, const spin_wtok_t *w, const spin_wctx_t *wc,
                      int n_rows, const int8_t *rows, float *H_D, float *scratch);
/* Projects H_D into the predictor's keys/values in wc (once per window, after encode
 * or after loading a cached H_D). */
int spin_model_set_hd(const spin_model_t *m, spin_wctx_t *wc, const float *H_D);

/* One target haplotype: row [D] (typed alleles 0/1/-1; untyped entries ignored),
 * K neighbour haplotypes nb [K x D] (all alleles visible, 0/1), K >= 0 (0 = no copy path);
 * with src (may be NULL) the untyped alleles come from the panel bits instead and
 * nb's untyped columns are not read; w->act (may be NULL) restricts each gap's mix.
 * Writes p_alt [w->nu] = P(ALT) at the untyped tokens. scratch: spin_pred_scratch_size floats. */
/* ng: the most copy-path gaps a window has (<= nu; <= typed tokens + 1). */
size_t spin_pred_scratch_size(const spin_config_t *c, int D, int nu, int ng, int K);
int spin_model_predict(const spin_model_t *m, const spin_wtok_t *w, const spin_wctx_t *wc,
                       const int8_t *row, int K, const int8_t *nb, const spin_copy_src_t *src, float *p_alt,
                       float *scratch);

/* ---------------- training ---------------- */

/* Forward with caches over n_ctx context rows (untyped visible) and n_q query rows
 * (typed alleles only; untyped ignored), then backward. OpenMP over rows inside
 * (n_threads of ws); the result is bit-identical for every thread count: rows are
 * processed in fixed chunks whose gradient buffers are summed in chunk order. */
typedef struct spin_train_ws_s spin_train_ws_t;
spin_train_ws_t *spin_train_ws_init(const spin_model_t *m, int max_D, int max_nu, int max_ctx,
                                    int max_q, int max_K, int n_threads);
void spin_train_ws_destroy(spin_train_ws_t *ws);
/* nb: n_q x K x D neighbour alleles; y: n_q x nu true alleles (0/1); wt: n_q x nu loss
 * weights or NULL. Returns the summed weighted BCE (nats), or <0 on error;
 * ADDS to grad[n_params] the gradient of the MEAN loss (sum / (n_q*nu)).
 * p_out (n_q x nu, may be NULL) receives P(ALT). */
double spin_model_train_step(const spin_model_t *m, spin_train_ws_t *ws, const spin_wtok_t *w,
                             int n_ctx, const int8_t *ctx, int n_q, const int8_t *q, int K,
                             const int8_t *nb, const float *y, const float *wt, float *grad,
                             float *p_out);

/* Floating-point operations of one spin_model_train_step, counted analytically over
 * the dense work (projections, attention, FFNs, decoder; a multiply-add is 2) with
 * the backward pass taken as twice the forward, the usual convention for matrix
 * products. The copy path's features and mixing are not counted. */
double spin_model_step_flops(const spin_config_t *c, int D, int nu, int n_ctx, int n_q);

/* ---------------- file I/O (modelio.c) ---------------- */

/* Stores crc as 8 lowercase hex digits in m->checksum. */
void spin_model_set_checksum(spin_model_t *m, uint32_t crc);

/* Training checkpoint state (the model itself is a model file): the step
 * reached, the RNG state and best validation score, the Adam moments mv[2n]
 * and the best weights best[n]. Written atomically (temp + rename), read back
 * only if magic, n and CRC32 agree; errors name the file. */
typedef struct {
    int64_t step;
    uint64_t rng;
    double best;
} spin_ckpt_hdr_t;
int spin_ckpt_state_write(const char *fn, const spin_ckpt_hdr_t *h, int64_t n, const float *mv, const float *best);
int spin_ckpt_state_read(const char *fn, spin_ckpt_hdr_t *h, int64_t n, float *mv, float *best);
/* "<ckpt>.state", malloc'ed. */
char *spin_ckpt_state_name(const char *ckpt);

/* ---------------- internal to model.c / model_train.c ---------------- */

/* Token states: typed REF/ALT/missing, untyped REF/ALT/masked. */
enum { SPIN_ST_T0, SPIN_ST_T1, SPIN_ST_TMISS, SPIN_ST_U0, SPIN_ST_U1, SPIN_ST_UMASK };
static inline int spin_tok_state(int typed, int a, int force_mask)
{
    if (typed) return a == 0 ? SPIN_ST_T0 : a == 1 ? SPIN_ST_T1 : SPIN_ST_TMISS;
    if (force_mask) return SPIN_ST_UMASK;
    return a == 0 ? SPIN_ST_U0 : a == 1 ? SPIN_ST_U1 : SPIN_ST_UMASK;
}

/* Activation cache of one MAB over M query rows (P: B*nh*m*r floats). */
typedef struct {
    float *Xn, *mu1, *rs1, *Q, *P, *O, *H, *Hn, *mu2, *rs2, *F, *Gf;
} spin_mabc_t;

void spin_phi(float dcm, float *phi);          /* [SPIN_NPHI] */
void spin_psi(float af, float *psi);           /* [SPIN_NPSI] */
/* tc[D x e] = P phi(dcm) + A psi(af) + b: the state-independent part of each token. */
void spin_tok_const(const spin_model_t *m, int D, const float *dcm, const float *af, float *tc);
void spin_tok_const_bwd(const spin_model_t *m, int D, const float *dcm, const float *af,
                        const float *dtc, float *g);
/* x[e] = E[state] (+ AF prior mix for typed-missing) + tc_d. */
void spin_tok_embed(const spin_model_t *m, int state, float af, const float *tc_d, float *x);
void spin_tok_embed_bwd(const spin_model_t *m, int state, float af, const float *dx, float *g);

/* MAB pieces; the attention core (nn_attn_*) is called in between by the caller. */
void spin_mab_q(const float *w, const spin_mab_t *L, int M, const float *Xq, spin_mabc_t *c);
void spin_mab_kv(const float *w, const spin_mab_t *L, int R, const float *Y, float *K, float *V);
void spin_mab_out(const float *w, const spin_mab_t *L, int M, const float *Xq, spin_mabc_t *c,
                  float *out);
/* tmp: M*(2*dq + 2*f) floats. dXq and g accumulate; dO is overwritten. */
void spin_mab_out_bwd(const float *w, const spin_mab_t *L, int M, const float *Xq,
                      const spin_mabc_t *c, const float *dout, float *dXq, float *dO, float *g,
                      float *tmp);
/* tmp: M*dq floats. */
void spin_mab_q_bwd(const float *w, const spin_mab_t *L, int M, const float *Xq,
                    const spin_mabc_t *c, const float *dQ, float *dXq, float *g, float *tmp);
void spin_mab_kv_bwd(const float *w, const spin_mab_t *L, int R, const float *Y, const float *dK,
                     const float *dV, float *dY, float *g);


#endif
