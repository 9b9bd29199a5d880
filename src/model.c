/* model.c -- SPIN network: configuration, parameter layout, initialisation,
 * adaptation of a model to new settings, provenance and accessors.
 * The building blocks are in model_blocks.c, inference in model_infer.c, the
 * training forward/backward in model_train.c, the file format in modelio.c. */
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
    c->seg = 0;
    c->pbwt_p = 24;
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
    CHK(c->seg >= 0 && c->seg <= 100000, "model setting seg=%d out of range [0,100000]", c->seg);
    CHK(c->seg == 0 || (c->pbwt_p >= 1 && c->pbwt_p <= 1024), "model setting pbwt_p=%d out of range [1,1024]", c->pbwt_p);
    CHK(c->seg == 0 || c->K >= 1, "model setting K=%d must be >= 1 with segments", c->K);
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

int64_t spin_config_n_params(const spin_config_t *cfg)
{
    spin_model_t m; /* the layout only: no weights allocated */
    memset(&m, 0, sizeof(m));
    m.cfg = *cfg;
    int64_t n = spin_config_check(cfg) < 0 || build_layout(&m) < 0 ? -1 : m.n_params;
    free(m.tensor);
    return n;
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
