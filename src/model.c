/* model.c -- SPIN network: configuration, parameter layout and initialisation,
 * the shared building blocks (token embedding, MAB, copy path) and inference
 * (per-window tables, panel encoder, per-target predictor).
 * The training forward/backward is in model_train.c; the file format in modelio.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"
#include "nn.h"

void spin_config_default(spin_config_t *c)
{
    /* measured on the eur_lct bench task (bench/RESULTS.md): e=32,k=8,h=16,L=2 with
     * 1024 encoded rows took 21 s against 2.6 s for this size, the copy path
     * carrying most of the accuracy either way */
    c->e = 16;
    c->heads = 2;
    c->k = 4;
    c->h = 8;
    c->L = 1;
    c->ffn = 2;
    c->w = 128;
    c->c = 96;  /* typed tokens a side; c=16/48/96 gave mean r2 .745/.789/.806 on eur_lct */
    c->K = 48;  /* neighbours: K=48 with the 3c neighbour context finds rare-allele carriers */
    c->enc_rows = 256;
    c->hmm = 1; /* eur_lct/sim_ooa3 mean r2 .8138/.9325 -> .8215/.9362 (model/README.md) */
}

int spin_config_check(const spin_config_t *c)
{
#define CHK(cond, ...)                                                                     \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            spin_error(__VA_ARGS__);                                                       \
            return -1;                                                                     \
        }                                                                                  \
    } while (0)
    CHK(c->e >= 1 && c->e <= 4096, "model setting e=%d out of range [1,4096]", c->e);
    CHK(c->heads >= 1 && c->e % c->heads == 0, "model setting heads=%d must divide e=%d", c->heads, c->e);
    CHK(c->k >= 1 && c->k <= 256, "model setting k=%d out of range [1,256]", c->k);
    CHK((c->k * c->e) % c->heads == 0, "model setting heads=%d must divide k*e=%d", c->heads, c->k * c->e);
    CHK(c->h >= 1 && c->h <= 4096, "model setting h=%d out of range [1,4096]", c->h);
    CHK(c->L >= 1 && c->L <= SPIN_MAX_L, "model setting L=%d out of range [1,%d]", c->L, SPIN_MAX_L);
    CHK(c->ffn >= 1 && c->ffn <= 16, "model setting ffn=%d out of range [1,16]", c->ffn);
    CHK(c->w >= 1, "model setting w=%d must be >= 1", c->w);
    CHK(c->c >= 0, "model setting c=%d must be >= 0", c->c);
    CHK(c->K >= 0 && c->K <= 4096, "model setting K=%d out of range [0,4096]", c->K);
    CHK(c->enc_rows >= 0, "model setting enc_rows=%d must be >= 0", c->enc_rows);
    CHK(c->hmm == 0 || c->hmm == 1, "model setting hmm=%d must be 0 or 1", c->hmm);
    CHK((int64_t)c->k * c->e <= 65536, "model setting k*e=%d too large", c->k * c->e);
#undef CHK
    return 0;
}

/* ------------------------------------------------------------------ */
/* Parameter layout                                                     */
/* ------------------------------------------------------------------ */

typedef struct {
    spin_model_t *m;
    int m_tensor;
    int64_t off;
    int err;
} lay_builder_t;

static int64_t add_t(lay_builder_t *b, const char *name, int ndim, int s0, int s1, int decay)
{
    spin_model_t *m = b->m;
    if (m->n_tensor == b->m_tensor) {
        int nm = b->m_tensor ? 2 * b->m_tensor : 64;
        spin_tensor_t *t = realloc(m->tensor, nm * sizeof(*t));
        if (!t) {
            b->err = 1;
            return 0;
        }
        m->tensor = t;
        b->m_tensor = nm;
    }
    spin_tensor_t *t = &m->tensor[m->n_tensor++];
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%s", name);
    t->ndim = ndim;
    t->shape[0] = s0;
    t->shape[1] = ndim > 1 ? s1 : 0;
    t->size = (int64_t)s0 * (ndim > 1 ? s1 : 1);
    t->offset = b->off;
    t->decay = (uint8_t)decay;
    b->off += t->size;
    return t->offset;
}

static void add_mab(lay_builder_t *b, const char *pre, int dq, int dkv, int f, spin_mab_t *L)
{
    char nm[40];
#define T1(field, suf, n)                                        \
    snprintf(nm, sizeof(nm), "%s.%s", pre, suf);                 \
    L->field = add_t(b, nm, 1, n, 0, 0)
#define T2(field, suf, r, c)                                     \
    snprintf(nm, sizeof(nm), "%s.%s", pre, suf);                 \
    L->field = add_t(b, nm, 2, r, c, 1)
    L->dq = dq, L->dkv = dkv, L->f = f;
    T1(ln1g, "ln1.g", dq);
    T1(ln1b, "ln1.b", dq);
    T2(Wq, "Wq", dq, dq);
    T1(bq, "bq", dq);
    T2(Wk, "Wk", dq, dkv);
    T1(bk, "bk", dq);
    T2(Wv, "Wv", dq, dkv);
    T1(bv, "bv", dq);
    T2(Wo, "Wo", dq, dq);
    T1(bo, "bo", dq);
    T1(ln2g, "ln2.g", dq);
    T1(ln2b, "ln2.b", dq);
    T2(W1, "W1", f, dq);
    T1(b1, "b1", f);
    T2(W2, "W2", dq, f);
    T1(b2, "b2", dq);
#undef T1
#undef T2
}

/* Order matters: per-row parameters first, then the predictor, then the
 * panel-only XABD, so gradient buffers of row chunks cover a prefix. */
static int build_layout(spin_model_t *m)
{
    const spin_config_t *c = &m->cfg;
    spin_layout_t *y = &m->lay;
    lay_builder_t b = {m, 0, 0, 0};
    int e = c->e, ke = c->k * c->e;
    char pre[32];
    y->E = add_t(&b, "tok.E", 2, 6, e, 0);
    y->P = add_t(&b, "tok.P", 2, e, SPIN_NPHI, 1);
    y->A = add_t(&b, "tok.A", 2, e, SPIN_NPSI, 1);
    y->b = add_t(&b, "tok.b", 1, e, 0, 0);
    y->HA0 = add_t(&b, "HA0", 2, c->k, e, 0);
    for (int l = 0; l < c->L; ++l) {
        snprintf(pre, sizeof(pre), "xaba%d", l);
        add_mab(&b, pre, e, e, c->ffn * e, &y->xaba[l]);
        snprintf(pre, sizeof(pre), "abla%d", l);
        add_mab(&b, pre, e, e, c->ffn * e, &y->abla[l]);
    }
    y->row_end = b.off;
    add_mab(&b, "pred", ke, ke, c->ffn * ke, &y->pred);
    y->G = add_t(&b, "dec.G", 2, ke, e, 1);
    y->bafW = add_t(&b, "dec.baf.W", 2, 1, SPIN_NPSI, 0);
    y->bafb = add_t(&b, "dec.baf.b", 1, 1, 0, 0);
    int nf = spin_ncopyf(c);
    y->cW1 = add_t(&b, "copy.W1", 2, SPIN_CHID, nf, 1);
    y->cb1 = add_t(&b, "copy.b1", 1, SPIN_CHID, 0, 0);
    y->cW2 = add_t(&b, "copy.W2", 2, 1, SPIN_CHID, 1);
    y->cwl = add_t(&b, "copy.wl", 2, 1, nf, 0);
    y->beta = add_t(&b, "copy.beta", 1, 1, 0, 0);
    y->cbias = add_t(&b, "copy.bias", 1, 1, 0, 0);
    y->query_end = b.off;
    y->HD0 = add_t(&b, "HD0", 2, c->h, ke, 0);
    for (int l = 0; l < c->L; ++l) {
        snprintf(pre, sizeof(pre), "xabd%d", l);
        add_mab(&b, pre, ke, ke, c->ffn * ke, &y->xabd[l]);
    }
    if (b.err) return -1;
    m->n_params = b.off;
    return 0;
}

spin_model_t *spin_model_alloc(const spin_config_t *cfg)
{
    if (spin_config_check(cfg) < 0) return NULL;
    spin_model_t *m = calloc(1, sizeof(*m));
    if (!m) goto oom;
    m->cfg = *cfg;
    if (build_layout(m) < 0) goto oom;
    m->w = calloc((size_t)m->n_params, sizeof(float));
    if (!m->w) goto oom;
    strcpy(m->checksum, "00000000");
    return m;
oom:
    spin_error("out of memory allocating the model");
    spin_model_destroy(m);
    return NULL;
}

void spin_model_destroy(spin_model_t *m)
{
    if (!m) return;
    free(m->w);
    free(m->tensor);
    free(m->prov.command);
    free(m->prov.data);
    free(m);
}

static void xavier(float *w, int fan_out, int fan_in, float gain, uint64_t *rng)
{
    float a = gain * sqrtf(6.0f / (float)(fan_in + fan_out));
    for (int64_t i = 0; i < (int64_t)fan_out * fan_in; ++i)
        w[i] = (float)((2.0 * nn_rng_uniform(rng) - 1.0) * a);
}

spin_model_t *spin_model_init(const spin_config_t *cfg, uint64_t seed)
{
    spin_model_t *m = spin_model_alloc(cfg);
    if (!m) return NULL;
    uint64_t rng = seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
    if (!rng) rng = 1;
    /* every 2-D tensor Xavier-uniform, LN gains 1, everything else 0; then the
     * few special cases that make the untrained model an IBS copier. */
    for (int i = 0; i < m->n_tensor; ++i) {
        spin_tensor_t *t = &m->tensor[i];
        float *w = m->w + t->offset;
        size_t nl = strlen(t->name);
        if (t->ndim == 2) xavier(w, t->shape[0], t->shape[1], 1.0f, &rng);
        else if (nl > 2 && strcmp(t->name + nl - 2, ".g") == 0)
            for (int64_t j = 0; j < t->size; ++j) w[j] = 1.0f;
    }
    const spin_layout_t *y = &m->lay;
    int ke = cfg->k * cfg->e;
    /* neural logit ~0 at init: small G, no AF term */
    for (int64_t j = 0; j < (int64_t)ke * cfg->e; ++j) m->w[y->G + j] *= 0.05f;
    memset(m->w + y->bafW, 0, SPIN_NPSI * sizeof(float));
    /* copy score = log(dl) + log(dr) (+ a small MLP): weight ~ length of the IBS
     * segment; with the HMM, times the posterior at the second switch rate */
    for (int j = 0; j < spin_ncopyf(cfg); ++j)
        m->w[y->cwl + j] = j < 2 || j == SPIN_NIBS + 1 ? 1.0f : 0.0f;
    for (int j = 0; j < SPIN_CHID; ++j) m->w[y->cW2 + j] *= 0.1f;
    m->w[y->beta] = 1.0f;
    m->w[y->cbias] = 0.0f;
    m->prov.seed = seed;
    return m;
}

spin_model_t *spin_model_adapt(const spin_model_t *src, const spin_config_t *cfg, uint64_t seed, int *n_fresh)
{
    spin_model_t *m = spin_model_init(cfg, seed);
    if (!m) return NULL;
    int fresh = 0;
    for (int i = 0; i < m->n_tensor; ++i) {
        const spin_tensor_t *t = &m->tensor[i], *o = spin_model_tensor(src, t->name);
        float *dst = m->w + t->offset;
        int same = o && o->ndim == t->ndim;
        for (int d = 0; same && d < t->ndim; ++d) same = o->shape[d] == t->shape[d];
        if (same) {
            memcpy(dst, src->w + o->offset, (size_t)t->size * sizeof(float));
        } else if (o && t->ndim == 2 && o->ndim == 2 && o->shape[0] == t->shape[0] && o->shape[1] < t->shape[1]) {
            int keep = strcmp(t->name, "copy.wl") == 0;
            for (int r = 0; r < t->shape[0]; ++r)
                for (int cl = 0; cl < t->shape[1]; ++cl) {
                    float *x = dst + (size_t)r * t->shape[1] + cl;
                    if (cl < o->shape[1]) *x = src->w[o->offset + (size_t)r * o->shape[1] + cl];
                    else if (!keep) *x = 0.0f;
                }
        } else {
            ++fresh;
        }
    }
    if (n_fresh) *n_fresh = fresh;
    if (spin_model_set_provenance(m, &src->prov) < 0) {
        spin_model_destroy(m);
        return NULL;
    }
    return m;
}

const spin_config_t *spin_model_config(const spin_model_t *m) { return &m->cfg; }
const spin_provenance_t *spin_model_provenance(const spin_model_t *m) { return &m->prov; }
int64_t spin_model_n_params(const spin_model_t *m) { return m->n_params; }
const char *spin_model_checksum(const spin_model_t *m) { return m->checksum; }
size_t spin_model_hd_size(const spin_config_t *c) { return (size_t)c->h * c->k * c->e; }

void spin_model_set_checksum(spin_model_t *m, uint32_t crc)
{
    snprintf(m->checksum, sizeof(m->checksum), "%08x", (unsigned)crc);
}

static char *dupstr(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

int spin_model_set_provenance(spin_model_t *m, const spin_provenance_t *p)
{
    char *c = dupstr(p->command), *d = dupstr(p->data);
    if ((p->command && !c) || (p->data && !d)) {
        free(c);
        free(d);
        spin_error("out of memory");
        return -1;
    }
    free(m->prov.command);
    free(m->prov.data);
    m->prov = *p;
    m->prov.command = c;
    m->prov.data = d;
    return 0;
}

void spin_model_decay_mask(const spin_model_t *m, uint8_t *mask)
{
    for (int i = 0; i < m->n_tensor; ++i)
        memset(mask + m->tensor[i].offset, m->tensor[i].decay, (size_t)m->tensor[i].size);
}

const spin_tensor_t *spin_model_tensor(const spin_model_t *m, const char *name)
{
    for (int i = 0; i < m->n_tensor; ++i)
        if (strcmp(m->tensor[i].name, name) == 0) return &m->tensor[i];
    return NULL;
}

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

/* ------------------------------------------------------------------ */
/* Inference: per-window tables                                         */
/* ------------------------------------------------------------------ */

struct spin_wctx_s {
    int max_D, max_nu, D, nu, has_hd;
    float *tc;          /* [D x e] */
    float *X3;          /* [D x 3 x e] token embedding per state (typed: T0,T1,TMISS; untyped: U0,U1,UMASK) */
    float *Kt[SPIN_MAX_L], *Vt[SPIN_MAX_L]; /* [D x 3 x e] XABA keys/values per token state */
    float *qu;          /* [nu x e] masked-untyped embeddings (decoder queries) */
    float *bu;          /* [nu] b(af_u) */
    float *Kp, *Vp;     /* [h x ke] predictor keys/values of H_D */
    float *S0;          /* [D x 3 x heads x k] layer-0 XABA scores per token state: every row's
                         * layer-0 queries come from the same HA0, so q.k is a per-window table */
    float *q0;          /* [2 k e + 2 k] scratch for those queries */
    int ng, *g0;        /* copy-path gaps: [max_nu + 1] */
    float *mid;         /* [max_nu] */
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
               (D * 3 * ks + 16) + (2 * (size_t)c->k * e + 2 * (size_t)c->k + 16);
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
    wc->g0 = malloc((nu + 1) * sizeof(int));
    wc->mid = malloc(nu * sizeof(float));
    if (!wc->g0 || !wc->mid) goto oom;
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
    const float *bW = m->w + m->lay.bafW;
    for (int u = 0; u < w->nu; ++u) {
        int d = w->uidx[u];
        memcpy(wc->qu + (size_t)u * e, wc->X3 + ((size_t)d * 3 + 2) * e, e * sizeof(float));
        float psi[SPIN_NPSI];
        spin_psi(w->af[d], psi);
        wc->bu[u] = m->w[m->lay.bafb] + bW[0] * psi[0] + bW[1] * psi[1] + bW[2] * psi[2];
    }
    return 0;
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
    if (l == 0) {
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

static size_t pred_layout(const spin_config_t *c, int D, int nu, int K, float *base, float **ptr)
{
    size_t e = c->e, k = c->k, ke = k * e, nh = c->heads, h = c->h;
    size_t np = nh * k * (size_t)D;
    if (np < nh * k * k) np = nh * k * k;
    if (np < nh * h) np = nh * h;
    size_t rowc = mabc_size(k, e, c->ffn * e, 0), pc = mabc_size(1, ke, c->ffn * ke, 0);
    size_t Kn = (size_t)(K > 0 ? K : 1) * (nu > 0 ? nu : 1);
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

size_t spin_pred_scratch_size(const spin_config_t *c, int D, int nu, int K)
{
    return pred_layout(c, D, nu, K, NULL, NULL);
}

int spin_model_predict(const spin_model_t *m, const spin_wtok_t *w, const spin_wctx_t *wc,
                       const int8_t *row, int K, const int8_t *nb, float *p_alt, float *scratch)
{
    const spin_config_t *c = &m->cfg;
    if (!wc->has_hd || w->D != wc->D || w->nu != wc->nu || K < 0) {
        spin_error("predictor called without a prepared window context");
        return -1;
    }
    size_t e = c->e, k = c->k, ke = k * e, h = c->h, nh = c->heads;
    int D = w->D, nu = w->nu;
    float *pt[18];
    pred_layout(c, D, nu, K, scratch, pt);
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
    for (int u = 0; u < nu; ++u) {
        const float *q = wc->qu + (size_t)u * e;
        float s = wc->bu[u];
        for (size_t j = 0; j < e; ++j) s += q[j] * gc[j];
        lg[u] = s;
    }
    if (K > 0 && nu > 0) {
        float *F = pt[8], *S = pt[11], *A = pt[12], *pc = pt[14], *lc = pt[15];
        int ng = wc->ng;
        spin_copy_feats(m->cfg.hmm, w, ng, wc->g0, wc->mid, row, K, nb, w->nb_beyond, F, pt[16]);
        spin_copy_score(spin_model_copy_mlp(m), K * ng, F, pt[9], pt[10], S);
        spin_copy_mix(w, K, ng, wc->g0, nb, S, A, pc, lc);
        float beta = m->w[m->lay.beta], cb = m->w[m->lay.cbias];
        for (int u = 0; u < nu; ++u) lg[u] += beta * lc[u] + cb;
    }
    for (int u = 0; u < nu; ++u) p_alt[u] = 1.0f / (1.0f + nn_exp(-lg[u]));
    return 0;
}
