/* model_blocks.c -- the SPIN network's building blocks, forward and backward,
 * shared by inference (model_infer.c) and training (model_train.c): fixed
 * features of a token's cM offset and allele frequency, the token embedding,
 * and the pieces of a multihead attention block (MAB) around the attention
 * core (nn_attn_*). */
#include <math.h>
#include <string.h>
#include "model.h"
#include "nn.h"

/* ------------------------------------------------------------------ */
/* Token embedding                                                      */
/* ------------------------------------------------------------------ */

/* Offsets of 1e-3..1 cM must be distinguishable: two log scales plus two
 * saturating linear ones; all features O(1). */
void spin_phi(float d, float *phi)
{
    float s = d < 0 ? -1.0f : 1.0f, a = fabsf(d);
    phi[0] = s * log1pf(a / 1e-3f) * 0.25f;
    phi[1] = s * log1pf(a / 3e-2f) * 0.5f;
    phi[2] = tanhf(10.0f * d);
    phi[3] = tanhf(d);
}

void spin_psi(float af, float *psi)
{
    psi[0] = af;
    psi[1] = logf(af + 1e-3f);
    psi[2] = logf(1.0f - af + 1e-3f);
}

void spin_tok_const(const spin_model_t *m, int D, const float *dcm, const float *af, float *tc)
{
    int e = m->cfg.e;
    const float *P = m->w + m->lay.P, *A = m->w + m->lay.A, *b = m->w + m->lay.b;
    for (int d = 0; d < D; ++d) {
        float phi[SPIN_NPHI], psi[SPIN_NPSI];
        spin_phi(dcm[d], phi);
        spin_psi(af[d], psi);
        float *x = tc + (size_t)d * e;
        for (int i = 0; i < e; ++i) {
            float s = b[i];
            for (int j = 0; j < SPIN_NPHI; ++j) s += P[i * SPIN_NPHI + j] * phi[j];
            for (int j = 0; j < SPIN_NPSI; ++j) s += A[i * SPIN_NPSI + j] * psi[j];
            x[i] = s;
        }
    }
}

void spin_tok_const_bwd(const spin_model_t *m, int D, const float *dcm, const float *af,
                        const float *dtc, float *g)
{
    int e = m->cfg.e;
    float *P = g + m->lay.P, *A = g + m->lay.A, *b = g + m->lay.b;
    for (int d = 0; d < D; ++d) {
        float phi[SPIN_NPHI], psi[SPIN_NPSI];
        spin_phi(dcm[d], phi);
        spin_psi(af[d], psi);
        const float *dx = dtc + (size_t)d * e;
        for (int i = 0; i < e; ++i) {
            b[i] += dx[i];
            for (int j = 0; j < SPIN_NPHI; ++j) P[i * SPIN_NPHI + j] += dx[i] * phi[j];
            for (int j = 0; j < SPIN_NPSI; ++j) A[i * SPIN_NPSI + j] += dx[i] * psi[j];
        }
    }
}

void spin_tok_embed(const spin_model_t *m, int st, float af, const float *tc_d, float *x)
{
    int e = m->cfg.e;
    const float *E = m->w + m->lay.E;
    if (st == SPIN_ST_TMISS) {
        for (int i = 0; i < e; ++i)
            x[i] = (1.0f - af) * E[i] + af * E[e + i] + E[2 * e + i] + tc_d[i];
    } else {
        const float *Es = E + (size_t)st * e;
        for (int i = 0; i < e; ++i) x[i] = Es[i] + tc_d[i];
    }
}

void spin_tok_embed_bwd(const spin_model_t *m, int st, float af, const float *dx, float *g)
{
    int e = m->cfg.e;
    float *E = g + m->lay.E;
    if (st == SPIN_ST_TMISS) {
        for (int i = 0; i < e; ++i) {
            E[i] += (1.0f - af) * dx[i];
            E[e + i] += af * dx[i];
            E[2 * e + i] += dx[i];
        }
    } else {
        float *Es = E + (size_t)st * e;
        for (int i = 0; i < e; ++i) Es[i] += dx[i];
    }
}

/* ------------------------------------------------------------------ */
/* MAB                                                                  */
/* ------------------------------------------------------------------ */

void spin_mab_q(const float *w, const spin_mab_t *L, int M, const float *Xq, spin_mabc_t *c)
{
    nn_layernorm_fwd(M, L->dq, Xq, w + L->ln1g, w + L->ln1b, c->Xn, c->mu1, c->rs1);
    nn_linear_fwd(M, L->dq, L->dq, c->Xn, w + L->Wq, w + L->bq, c->Q);
}

void spin_mab_kv(const float *w, const spin_mab_t *L, int R, const float *Y, float *K, float *V)
{
    nn_linear_fwd(R, L->dkv, L->dq, Y, w + L->Wk, w + L->bk, K);
    nn_linear_fwd(R, L->dkv, L->dq, Y, w + L->Wv, w + L->bv, V);
}

void spin_mab_out(const float *w, const spin_mab_t *L, int M, const float *Xq, spin_mabc_t *c,
                  float *out)
{
    size_t n = (size_t)M * L->dq;
    nn_linear_fwd(M, L->dq, L->dq, c->O, w + L->Wo, w + L->bo, c->H);
    for (size_t i = 0; i < n; ++i) c->H[i] += Xq[i];
    nn_layernorm_fwd(M, L->dq, c->H, w + L->ln2g, w + L->ln2b, c->Hn, c->mu2, c->rs2);
    nn_linear_fwd(M, L->dq, L->f, c->Hn, w + L->W1, w + L->b1, c->F);
    nn_gelu_fwd((size_t)M * L->f, c->F, c->Gf);
    nn_linear_fwd(M, L->f, L->dq, c->Gf, w + L->W2, w + L->b2, out);
    for (size_t i = 0; i < n; ++i) out[i] += c->H[i];
}

void spin_mab_out_bwd(const float *w, const spin_mab_t *L, int M, const float *Xq,
                      const spin_mabc_t *c, const float *dout, float *dXq, float *dO, float *g,
                      float *tmp)
{
    (void)Xq;
    int dq = L->dq, f = L->f;
    size_t n = (size_t)M * dq, nf = (size_t)M * f;
    float *dH = tmp, *dHn = dH + n, *dG = dHn + n, *dF = dG + nf;
    memcpy(dH, dout, n * sizeof(float));
    memset(dG, 0, nf * sizeof(float));
    nn_linear_bwd(M, f, dq, c->Gf, w + L->W2, dout, dG, g + L->W2, g + L->b2);
    memset(dF, 0, nf * sizeof(float));
    nn_gelu_bwd(nf, c->F, dG, dF);
    memset(dHn, 0, n * sizeof(float));
    nn_linear_bwd(M, dq, f, c->Hn, w + L->W1, dF, dHn, g + L->W1, g + L->b1);
    nn_layernorm_bwd(M, dq, c->H, w + L->ln2g, c->mu2, c->rs2, dHn, dH, g + L->ln2g, g + L->ln2b);
    for (size_t i = 0; i < n; ++i) dXq[i] += dH[i];
    memset(dO, 0, n * sizeof(float));
    nn_linear_bwd(M, dq, dq, c->O, w + L->Wo, dH, dO, g + L->Wo, g + L->bo);
}

void spin_mab_q_bwd(const float *w, const spin_mab_t *L, int M, const float *Xq,
                    const spin_mabc_t *c, const float *dQ, float *dXq, float *g, float *tmp)
{
    int dq = L->dq;
    float *dXn = tmp;
    memset(dXn, 0, (size_t)M * dq * sizeof(float));
    nn_linear_bwd(M, dq, dq, c->Xn, w + L->Wq, dQ, dXn, g + L->Wq, g + L->bq);
    nn_layernorm_bwd(M, dq, Xq, w + L->ln1g, c->mu1, c->rs1, dXn, dXq, g + L->ln1g, g + L->ln1b);
}

void spin_mab_kv_bwd(const float *w, const spin_mab_t *L, int R, const float *Y, const float *dK,
                     const float *dV, float *dY, float *g)
{
    nn_linear_bwd(R, L->dkv, L->dq, Y, w + L->Wk, dK, dY, g + L->Wk, g + L->bk);
    nn_linear_bwd(R, L->dkv, L->dq, Y, w + L->Wv, dV, dY, g + L->Wv, g + L->bv);
}
