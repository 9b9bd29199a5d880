/* train.c -- self-supervised training of the shared SPIN model on a phased panel.
 *
 * Each step: a window (random anchor; w untyped sites and c typed context sites
 * on each side), a random array-like typed set, n_ctx context rows (untyped
 * visible) and n_q query rows from other samples (untyped masked, 10% of typed
 * alleles masked), K neighbours per query found among all training haplotypes
 * except the query's own sample (as at inference), BCE on the queries' untyped
 * alleles, AdamW with global-norm clipping, warm-up + cosine LR.
 * Validation imputes held-out samples (both haplotypes) exactly as `impute`
 * does and keeps the model with the best mean per-variant r2.
 * Determinism: one RNG stream (nn_rng) drives every random choice in a fixed
 * order; the model's training step is bit-identical for a fixed thread count. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "nn.h"
#include "copystates.h"
#include "neighbors.h"
#include "score.h"
#include "train.h"
#include "vcfin.h"

#define MASK_TYPED 0.10   /* fraction of query typed alleles masked: missing target genotypes */
#define COMMON_MAF 0.05
#define WARMUP_FRAC 0.05

void spin_train_opt_default(spin_train_opt_t *o)
{
    memset(o, 0, sizeof(*o));
    o->out_fn = "spin-model.spin";
    o->steps = 2000;
    o->n_threads = 1;
    o->n_ctx = 256;
    o->n_q = 32;
    o->val_samples = -1; /* 5% of samples, at least 5 */
    o->log_every = 50;
    o->val_every = 250;
    o->val_windows = 24;
    o->seed = 1;
    o->lr = 1e-3f;
    o->wd = 0.01f;
    spin_config_default(&o->cfg);
}

/* ---- panel subsets: training haplotypes as a panel, validation as targets ---- */

static spin_panel_t *panel_subset(const spin_panel_t *p, const int *haps, int n)
{
    spin_panel_t *q = calloc(1, sizeof(*q));
    if (!q) return NULL;
    q->fn = strdup(p->fn ? p->fn : "panel");
    q->chrom = strdup(p->chrom);
    q->chrom_len = p->chrom_len;
    q->n_sample = n / 2, q->n_hap = n;
    q->samples = calloc((size_t)(q->n_sample ? q->n_sample : 1), sizeof(char *));
    q->n_site = q->m_site = p->n_site;
    q->pos = malloc((size_t)p->n_site * sizeof(int64_t));
    q->astr = malloc(p->n_astr + 1), q->n_astr = q->m_astr = p->n_astr;
    q->aoff = malloc((size_t)p->n_site * sizeof(size_t));
    q->ialt = malloc((size_t)p->n_site * sizeof(uint16_t)), q->nalt = malloc((size_t)p->n_site * sizeof(uint16_t));
    q->cm = malloc((size_t)p->n_site * sizeof(double));
    q->af = malloc((size_t)p->n_site * sizeof(float));
    q->nw = (n + 63) / 64;
    q->hap = calloc((size_t)p->n_site * q->nw, sizeof(uint64_t));
    if (!q->fn || !q->chrom || !q->samples || !q->pos || !q->astr || !q->aoff || !q->ialt || !q->nalt || !q->cm || !q->af || !q->hap) {
        spin_panel_destroy(q);
        return NULL;
    }
    for (int i = 0; i < q->n_sample; i++) q->samples[i] = strdup(p->samples[haps[2 * i] / 2]);
    memcpy(q->pos, p->pos, (size_t)p->n_site * sizeof(int64_t));
    memcpy(q->astr, p->astr, p->n_astr), memcpy(q->aoff, p->aoff, (size_t)p->n_site * sizeof(size_t));
    memcpy(q->ialt, p->ialt, (size_t)p->n_site * sizeof(uint16_t));
    memcpy(q->nalt, p->nalt, (size_t)p->n_site * sizeof(uint16_t));
    memcpy(q->cm, p->cm, (size_t)p->n_site * sizeof(double));
    for (int s = 0; s < p->n_site; s++) {
        int ac = 0;
        uint64_t *row = q->hap + (size_t)s * q->nw;
        for (int j = 0; j < n; j++) {
            int a = spin_panel_allele(p, s, haps[j]);
            ac += a;
            if (a) row[j >> 6] |= 1ULL << (j & 63);
        }
        q->af[s] = n ? (float)ac / n : 0;
    }
    return q;
}

/* Validation targets: haplotypes vh[0..nv) of p at one MAF>=5% site per 5 kb
 * (a fixed array-like typed set chosen with rng). */
static spin_targets_t *val_targets(const spin_panel_t *p, const spin_panel_t *ptr, const int *vh, int nv,
                                   uint64_t *rng)
{
    spin_targets_t *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    t->fn = strdup("validation");
    t->n_sample = nv / 2, t->n_hap = nv;
    t->samples = calloc((size_t)(t->n_sample ? t->n_sample : 1), sizeof(char *));
    t->site = malloc((size_t)(p->n_site / 2 + 1) * sizeof(int));
    if (!t->fn || !t->samples || !t->site) goto fail;
    for (int i = 0; i < t->n_sample; i++) t->samples[i] = strdup(p->samples[vh[2 * i] / 2]);
    /* one common site per 5 kb bin, chosen by reservoir sampling within the bin */
    int64_t bin = -1;
    int cand = -1, n_in_bin = 0;
    for (int s = 0; s <= p->n_site; s++) {
        int64_t b = s < p->n_site ? p->pos[s] / 5000 : -2;
        if (b != bin) {
            if (cand >= 0) t->site[t->n_typed++] = cand;
            bin = b, cand = -1, n_in_bin = 0;
        }
        if (s == p->n_site) break;
        float af = ptr->af[s], maf = af < 0.5f ? af : 1 - af;
        if (maf < COMMON_MAF) continue;
        if (nn_rng_uniform(rng) * ++n_in_bin < 1.0) cand = s;
    }
    t->m_typed = t->n_typed;
    t->allele = malloc((size_t)(t->n_typed ? t->n_typed : 1) * nv);
    if (!t->allele) goto fail;
    for (int k = 0; k < t->n_typed; k++)
        for (int j = 0; j < nv; j++) t->allele[(size_t)k * nv + j] = (int8_t)spin_panel_allele(p, t->site[k], vh[j]);
    return t;
fail:
    spin_targets_destroy(t);
    return NULL;
}

/* ---- one training example ---- */

typedef struct {
    int D, nu, nt, ic;
    int k0, k1;    /* typed tokens are tsite[k0, k1) (plus those inside the block) */
    double centre; /* cM of the window centre */
    int *site;     /* [D] panel site of each token */
    uint8_t *typed;
    float *dcm, *af;
    int *uidx, *tsite; /* untyped token indices; typed sites (panel index) in order */
} ex_t;

/* Draws a window and typed set; returns 0, or 1 when the draw is unusable.
 * Walks the panel from a random site: cn = SPIN_NBR_CONTEXT_MULT * c typed
 * sites (left neighbour context), then the block of w untyped sites (with the
 * typed sites among them), then cn typed sites (right). The neighbour search
 * sees all typed sites of that range (x->tsite, centre x->ic), the model the
 * c nearest on each side as tokens, exactly as the engine does at inference. */
static int draw_window(const spin_panel_t *p, const spin_config_t *cfg, double common_per_bp, uint64_t *rng, ex_t *x,
                       int max_D)
{
    int spacing = nn_rng_uniform(rng) < 0.5;
    double pt_common, pt_rare;
    if (spacing) { /* one common SNP per 2-10 kb */
        double kb = 2.0 + 8.0 * nn_rng_uniform(rng);
        pt_common = 1.0 / (common_per_bp * kb * 1000.0 + 1e-9);
        if (pt_common > 1) pt_common = 1;
        pt_rare = 0;
    } else { /* a fraction 1/30..1/3 of SNPs, common ones x5 */
        double f = exp(log(1.0 / 30) + (log(1.0 / 3) - log(1.0 / 30)) * nn_rng_uniform(rng));
        pt_common = f * 2.5 > 1 ? 1 : f * 2.5;
        pt_rare = f * 0.5;
    }
    int cn = spin_config_nbr_context(cfg);
    int s = (int)(nn_rng_uniform(rng) * p->n_site);
    int n_left = 0, n_right = 0, nu = 0, n_in = 0; /* n_in: typed inside the block */
    x->D = x->nu = x->nt = x->ic = 0;
    /* left neighbour context */
    int first_tok_typed;
    for (; s < p->n_site && n_left < cn; s++) {
        float maf = p->af[s] < 0.5f ? p->af[s] : 1 - p->af[s];
        if (maf <= 0) continue;
        if (nn_rng_uniform(rng) < (maf >= COMMON_MAF ? pt_common : pt_rare)) x->tsite[x->nt++] = s, n_left++;
    }
    x->ic = x->nt;
    first_tok_typed = x->nt - cfg->c > 0 ? x->nt - cfg->c : 0;
    x->k0 = first_tok_typed;
    for (int k = first_tok_typed; k < x->nt; k++) x->site[x->D] = x->tsite[k], x->typed[x->D++] = 1;
    /* the block (segments: until its cfg->seg-th typed interval ends, w untyped at most) */
    int seg_end = 0;
    for (; s < p->n_site && nu < cfg->w && x->D < max_D - cfg->c; s++) {
        float maf = p->af[s] < 0.5f ? p->af[s] : 1 - p->af[s];
        if (maf <= 0) continue;
        int typed = nn_rng_uniform(rng) < (maf >= COMMON_MAF ? pt_common : pt_rare);
        if (typed) {
            if (nu == 0) { /* typed before the first untyped site: still left context */
                x->tsite[x->nt++] = s, x->ic = x->nt;
                x->site[x->D] = s, x->typed[x->D++] = 1;
                continue;
            }
            if (cfg->seg > 0 && n_in + 1 >= cfg->seg) { /* the right context's first site */
                seg_end = 1;
                break;
            }
            x->tsite[x->nt++] = s, n_in++;
        } else {
            x->uidx[x->nu++] = x->D, nu++;
        }
        x->site[x->D] = s, x->typed[x->D++] = (uint8_t)typed;
    }
    /* right neighbour context; the first c are tokens */
    int kr = x->nt;
    if (seg_end) {
        x->tsite[x->nt++] = s;
        if (n_right < cfg->c) x->site[x->D] = s, x->typed[x->D++] = 1;
        n_right++, s++;
    }
    for (; s < p->n_site && n_right < cn; s++) {
        float maf = p->af[s] < 0.5f ? p->af[s] : 1 - p->af[s];
        if (maf <= 0) continue;
        if (nn_rng_uniform(rng) < (maf >= COMMON_MAF ? pt_common : pt_rare)) {
            x->tsite[x->nt++] = s;
            if (n_right < cfg->c) x->site[x->D] = s, x->typed[x->D++] = 1;
            n_right++;
        }
    }
    (void)n_in;
    x->k1 = kr + (n_right < cfg->c ? n_right : cfg->c);
    if (x->nu < 8) return 1;
    double c = 0;
    for (int u = 0; u < x->nu; u++) c += p->cm[x->site[x->uidx[u]]];
    c /= x->nu;
    x->centre = c;
    for (int d = 0; d < x->D; d++) x->dcm[d] = (float)(p->cm[x->site[d]] - c), x->af[d] = p->af[x->site[d]];
    return 0;
}

/* ---- validation: impute the held-out haplotypes as `impute` does ---- */

#define VAL_MAF_BINS "0,0.005,0.01,0.05,0.5" /* 4 bins, as the log line names them */

typedef struct {
    double pooled, mean, bin[4]; /* pooled and mean per-variant r2 (0 if undefined); per MAF bin (NaN if none) */
} val_t;

static int validate(const spin_model_t *m, int n_threads, const spin_panel_t *ptr, const spin_targets_t *tv,
                    const spin_panel_t *p, const int *vh, const spin_window_t *win, int n_win, val_t *v)
{
    spin_engine_t *e = spin_engine_init(m, n_threads);
    float **pa = calloc((size_t)n_win, sizeof(float *));
    int ok = e && pa;
    for (int i = 0; ok && i < n_win; i++) ok = (pa[i] = malloc((size_t)win[i].n_untyped * tv->n_hap * sizeof(float))) != NULL;
    if (ok) ok = spin_engine_impute(e, ptr, tv, win, n_win, pa) == 0;
    memset(v, 0, sizeof(*v));
    /* score.c's accumulator, as `spin-impute score` computes r2: genotype
     * dosages against true alt counts, MAF from the training panel */
    int nh = tv->n_hap, ng = nh / 2;
    spin_score_t *sc = ok ? spin_score_init(VAL_MAF_BINS) : NULL;
    int8_t *truth = ok ? malloc((size_t)ng) : NULL;
    float *ds = ok ? malloc((size_t)ng * sizeof(float)) : NULL;
    ok = ok && sc && truth && ds;
    for (int i = 0; ok && i < n_win; i++)
        for (int j = 0; j < win[i].n_untyped; j++) {
            int s = win[i].untyped[j];
            const float *pj = pa[i] + (size_t)j * nh;
            for (int g = 0; g < ng; g++) {
                ds[g] = pj[2 * g] + pj[2 * g + 1];
                truth[g] = (int8_t)(spin_panel_allele(p, s, vh[2 * g]) + spin_panel_allele(p, s, vh[2 * g + 1]));
            }
            float af = ptr->af[s];
            spin_score_add(sc, ng, truth, ds, NULL, af < 0.5f ? af : 1 - af, NAN);
        }
    if (ok) {
        double pooled = spin_score_pooled_r2(sc), mean = spin_score_mean_r2(sc);
        v->pooled = isnan(pooled) ? 0 : pooled;
        v->mean = isnan(mean) ? 0 : mean;
        for (int k = 0; k < 4; k++) v->bin[k] = spin_score_bin_mean_r2(sc, k);
    }
    spin_score_destroy(sc);
    free(truth), free(ds);
    for (int i = 0; pa && i < n_win; i++) free(pa[i]);
    free(pa);
    spin_engine_destroy(e);
    return ok ? 0 : -1;
}

/* ---- the loop ---- */

int spin_train_run(const spin_train_opt_t *o)
{
    int ret = -1;
    double t_start = spin_realtime();
    uint64_t rng = o->seed * 0x9E3779B97F4A7C15ULL + 1;
    spin_panel_t *p = NULL, *ptr = NULL;
    spin_gmap_t *map = NULL;
    spin_targets_t *tv = NULL;
    spin_model_t *m = NULL;
    spin_train_ws_t *ws = NULL;
    spin_nbr_ws_t *nws = NULL;
    spin_window_t *win = NULL, *vwin = NULL;
    int *wstore = NULL, n_win = 0, n_vwin = 0;
    int *perm = NULL, *th = NULL, *vh = NULL, *nbr = NULL;
    float *grad = NULL, *mv = NULL, *best = NULL, *y = NULL, *beyond = NULL, *wt = NULL;
    uint8_t *dmask = NULL;
    int8_t *ctx = NULL, *q = NULL, *nb = NULL, *ta = NULL;
    /* segments: queries' typed alleles [nt x n_q], excluded haplotypes, gaps, states per query, active pairs */
    int8_t *tq = NULL;
    int *qex = NULL, *sgl = NULL, *qk = NULL;
    uint8_t *sact = NULL;
    spin_cstates_t cst;
    memset(&cst, 0, sizeof(cst));
    ex_t x;
    memset(&x, 0, sizeof(x));
    char *state_fn = NULL;

    /* our OpenMP threads do the parallel work; BLAS threads on top of them only
     * spin (oversubscription) */
    if (!(p = spin_panel_read(o->panel_fn, o->region, o->n_threads))) goto done;
    if (o->map_fn) {
        if (!(map = spin_gmap_load(o->map_fn, p->chrom))) goto done;
    } else {
        spin_info("no genetic map given (--map): using 1 cM = 1 Mb");
    }
    if (spin_panel_set_map(p, map) < 0) goto done;

    /* model: fresh, --init (fine-tune) or --resume */
    if (o->resume_fn) m = spin_model_load(o->resume_fn);
    else if (o->init_fn) m = spin_model_load(o->init_fn);
    else m = spin_model_init(&o->cfg, o->seed);
    if (!m) goto done;
    if (o->init_fn && o->cfg_set) {
        /* settings given with --init override the init model's; weights carry over where they fit */
        spin_config_t c = m->cfg;
        unsigned b = o->cfg_set;
        if (b & SPIN_SET_E) c.e = o->cfg.e;
        if (b & SPIN_SET_HEADS) c.heads = o->cfg.heads;
        if (b & SPIN_SET_K) c.k = o->cfg.k;
        if (b & SPIN_SET_H) c.h = o->cfg.h;
        if (b & SPIN_SET_L) c.L = o->cfg.L;
        if (b & SPIN_SET_FFN) c.ffn = o->cfg.ffn;
        if (b & SPIN_SET_W) c.w = o->cfg.w;
        if (b & SPIN_SET_C) c.c = o->cfg.c;
        if (b & SPIN_SET_NBR_K) c.K = o->cfg.K;
        if (b & SPIN_SET_ENC) c.enc_rows = o->cfg.enc_rows;
        if (b & SPIN_SET_HMM) c.hmm = o->cfg.hmm;
        if (b & SPIN_SET_SEG) c.seg = o->cfg.seg;
        if (b & SPIN_SET_PBWTP) c.pbwt_p = o->cfg.pbwt_p;
        if (c.seg > 0 && c.pbwt_p < 1) c.pbwt_p = 24; /* models written before segments existed */
        int n_fresh = 0;
        spin_model_t *a = spin_model_adapt(m, &c, o->seed, &n_fresh);
        spin_model_destroy(m);
        if (!(m = a)) goto done;
        spin_info("--init %s with changed settings: %d of %d tensors start fresh", o->init_fn, n_fresh, m->n_tensor);
    }
    const spin_config_t *cfg = &m->cfg;

    /* samples: validation held out (both haplotypes), the rest trains */
    int ns = p->n_sample;
    int nv = o->val_samples >= 0 ? o->val_samples : (ns / 20 > 5 ? ns / 20 : 5);
    if (ns - nv < 10) {
        spin_error("%s: %d samples are too few to train (need at least %d besides %d validation samples)", o->panel_fn,
                   ns, 10, nv);
        goto done;
    }
    if (!(perm = malloc((size_t)ns * sizeof(int)))) goto oom;
    for (int i = 0; i < ns; i++) perm[i] = i;
    for (int i = ns - 1; i > 0; i--) {
        int j = (int)(nn_rng_uniform(&rng) * (i + 1));
        int t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
    int n_tr = ns - nv;
    if (!(th = malloc((size_t)2 * n_tr * sizeof(int))) || !(vh = malloc((size_t)(2 * nv + 1) * sizeof(int)))) goto oom;
    /* sorted, so panel_subset keeps the panel's order */
    {
        uint8_t *isval = calloc((size_t)ns, 1);
        if (!isval) goto oom;
        for (int i = 0; i < nv; i++) isval[perm[i]] = 1;
        int a = 0, b = 0;
        for (int i = 0; i < ns; i++) {
            if (isval[i]) vh[a++] = 2 * i, vh[a++] = 2 * i + 1;
            else th[b++] = 2 * i, th[b++] = 2 * i + 1;
        }
        free(isval);
    }
    if (!(ptr = panel_subset(p, th, 2 * n_tr))) goto oom;
    if (!(tv = val_targets(p, ptr, vh, 2 * nv, &rng))) goto oom;
    if (spin_windows_make_cfg(ptr, tv, cfg, 0, INT64_MAX, &win, &n_win, &wstore) < 0) goto done;
    /* validation on val_windows windows spread over the panel */
    n_vwin = n_win < o->val_windows ? n_win : o->val_windows;
    if (!(vwin = malloc((size_t)(n_vwin ? n_vwin : 1) * sizeof(*vwin)))) goto oom;
    for (int i = 0; i < n_vwin; i++) vwin[i] = win[(int64_t)i * n_win / n_vwin];

    int64_t np = m->n_params;
    int max_D = cfg->w + 3 * cfg->c + cfg->w; /* draw_window caps D */
    int max_T = 2 * spin_config_nbr_context(cfg) + max_D; /* typed sites the neighbour search sees */
    int K = cfg->K < 2 * n_tr - 2 ? cfg->K : 2 * n_tr - 2;
    int n_ctx = o->n_ctx < 2 * n_tr - 2 * o->n_q ? o->n_ctx : 2 * n_tr - 2 * o->n_q;
    if (n_ctx < 8) {
        spin_error("too few training haplotypes for %d queries", o->n_q);
        goto done;
    }
    x.site = malloc((size_t)max_D * sizeof(int)), x.typed = malloc((size_t)max_D);
    x.dcm = malloc((size_t)max_D * sizeof(float)), x.af = malloc((size_t)max_D * sizeof(float));
    x.uidx = malloc((size_t)max_D * sizeof(int)), x.tsite = malloc((size_t)max_T * sizeof(int));
    grad = calloc((size_t)np, sizeof(float));
    mv = calloc((size_t)2 * np, sizeof(float));
    best = malloc((size_t)np * sizeof(float));
    dmask = malloc((size_t)np);
    ctx = malloc((size_t)n_ctx * max_D), q = malloc((size_t)o->n_q * max_D);
    nb = malloc((size_t)o->n_q * (K ? K : 1) * max_D), ta = malloc((size_t)max_T);
    y = malloc((size_t)o->n_q * max_D * sizeof(float));
    wt = malloc((size_t)o->n_q * max_D * sizeof(float));
    nbr = malloc((size_t)(K ? K : 1) * sizeof(int));
    beyond = malloc((size_t)o->n_q * (K ? K : 1) * 4 * sizeof(float));
    if (!x.site || !x.typed || !x.dcm || !x.af || !x.uidx || !x.tsite || !grad || !mv || !best || !dmask || !ctx || !q ||
        !nb || !ta || !y || !wt || !nbr || !beyond)
        goto oom;
    if (!(ws = spin_train_ws_init(m, max_D, max_D, n_ctx, o->n_q, K, o->n_threads))) goto oom;
    if (!(nws = spin_nbr_ws_init(ptr->n_hap))) goto oom;
    if (cfg->seg > 0) {
        if (!(tq = malloc((size_t)max_T * o->n_q)) || !(qex = malloc((size_t)2 * o->n_q * sizeof(int))) ||
            !(sgl = malloc((size_t)max_D * sizeof(int))) || !(qk = malloc((size_t)o->n_q * sizeof(int))) ||
            !(sact = malloc((size_t)o->n_q * (K ? K : 1) * max_D)))
            goto oom;
        if (spin_cstates_init(&cst, cfg->pbwt_p, o->n_q, max_T, ptr->n_hap) < 0) goto done;
    }
    spin_model_decay_mask(m, dmask);
    memcpy(best, m->w, (size_t)np * sizeof(float));

    /* common-SNP density for the "one common SNP per X kb" typed sets */
    int64_t n_common = 0;
    for (int s = 0; s < ptr->n_site; s++) {
        float maf = ptr->af[s] < 0.5f ? ptr->af[s] : 1 - ptr->af[s];
        n_common += maf >= COMMON_MAF;
    }
    double span = ptr->n_site > 1 ? (double)(ptr->pos[ptr->n_site - 1] - ptr->pos[0] + 1) : 1;
    double common_per_bp = (double)n_common / span;

    double best_r2 = -1;
    int64_t step0 = 0;
    if (o->resume_fn) {
        spin_ckpt_hdr_t h;
        if (!(state_fn = spin_ckpt_state_name(o->resume_fn))) goto oom;
        if (spin_ckpt_state_read(state_fn, &h, np, mv, best) < 0) goto done;
        step0 = h.step, rng = h.rng, best_r2 = h.best;
        free(state_fn), state_fn = NULL;
        spin_info("resuming %s at step %lld", o->resume_fn, (long long)step0);
    }
    nn_adam_opt_t ao;
    nn_adam_default(&ao);
    ao.wd = o->wd;
    int64_t warm = (int64_t)(o->steps * WARMUP_FRAC);
    spin_info("training on %s: %d haplotypes (%d held out), %d sites, %lld parameters, %lld steps",
              o->panel_fn, 2 * n_tr, 2 * nv, p->n_site, (long long)np, (long long)o->steps);
    int tty = isatty(2);
    double loss_acc = 0, t_log = spin_realtime();
    double flops_acc = 0, flops_tot = 0, t_steps = 0; /* t_steps: seconds inside optimisation steps only */
    int64_t n_steps_run = 0;
    int64_t n_acc = 0, n_log = 0;
    int *qh = malloc((size_t)o->n_q * sizeof(int)), *ch = malloc((size_t)n_ctx * sizeof(int));
    int *tperm = malloc((size_t)n_tr * sizeof(int)), *hperm = malloc((size_t)2 * n_tr * sizeof(int));
    if (!qh || !ch || !tperm || !hperm) {
        free(qh), free(ch), free(tperm), free(hperm);
        goto oom;
    }
    for (int64_t step = step0; step < o->steps; step++) {
        while (draw_window(ptr, cfg, common_per_bp, &rng, &x, max_D)) {}
        int D = x.D;
        /* queries: n_q haplotypes from distinct samples; context: n_ctx others */
        for (int i = 0; i < n_tr; i++) tperm[i] = i;
        for (int i = 0; i < o->n_q; i++) {
            int j = i + (int)(nn_rng_uniform(&rng) * (n_tr - i));
            int t = tperm[i];
            tperm[i] = tperm[j], tperm[j] = t;
            qh[i] = 2 * tperm[i] + (nn_rng_uniform(&rng) < 0.5);
        }
        int nh = 0;
        for (int i = o->n_q; i < n_tr; i++) hperm[nh++] = 2 * tperm[i], hperm[nh++] = 2 * tperm[i] + 1;
        for (int i = 0; i < n_ctx; i++) {
            int j = i + (int)(nn_rng_uniform(&rng) * (nh - i));
            int t = hperm[i];
            hperm[i] = hperm[j], hperm[j] = t;
            ch[i] = hperm[i];
        }
        for (int i = 0; i < n_ctx; i++)
            for (int d = 0; d < D; d++) ctx[(size_t)i * D + d] = (int8_t)spin_panel_allele(ptr, x.site[d], ch[i]);
        for (int i = 0; i < o->n_q; i++) {
            int8_t *qr = q + (size_t)i * D;
            /* the query's typed alleles over the neighbour context, some masked;
             * typed tokens take theirs from it (both lists ascend by site) */
            for (int k = 0; k < x.nt; k++) {
                int a = spin_panel_allele(ptr, x.tsite[k], qh[i]);
                ta[k] = nn_rng_uniform(&rng) < MASK_TYPED ? -1 : (int8_t)a;
            }
            for (int d = 0, k = 0; d < D; d++) {
                if (!x.typed[d]) {
                    qr[d] = -1;
                    continue;
                }
                while (x.tsite[k] != x.site[d]) k++;
                qr[d] = ta[k];
            }
            for (int u = 0; u < x.nu; u++) {
                y[(size_t)i * x.nu + u] = (float)spin_panel_allele(ptr, x.site[x.uidx[u]], qh[i]);
                /* rarer sites weigh more: mean per-variant r2 counts every site alike,
                 * while BCE is dominated by the many easy common-allele calls */
                if (o->maf_weight > 0) {
                    float af = x.af[x.uidx[u]], maf = af < 0.5f ? af : 1 - af;
                    wt[(size_t)i * x.nu + u] = powf(maf > 0.005f ? maf / 0.5f : 0.01f, -o->maf_weight);
                }
            }
            if (cfg->seg > 0) { /* copy states for all queries at once, below */
                for (int k = 0; k < x.nt; k++) tq[(size_t)k * o->n_q + i] = ta[k];
                continue;
            }
            int ex[2] = {qh[i] & ~1, qh[i] | 1};
            int got = spin_nbr_select(nws, ptr, x.nt, x.tsite, ta, x.ic, ex, 2, K, nbr, NULL);
            float *e = beyond + (size_t)i * K * 4;
            spin_nbr_beyond(ptr, x.tsite, ta, x.k0, x.k1, x.nt, got, nbr, x.centre, e);
            for (int j = got; j < K; j++) e[4 * j] = e[4 * j + 2] = 0.0f, e[4 * j + 1] = e[4 * j + 3] = -1.0f;
            for (int j = 0; j < K; j++)
                for (int d = 0; d < D; d++)
                    nb[((size_t)i * K + j) * D + d] =
                        j < got ? (int8_t)spin_panel_allele(ptr, x.site[d], nbr[j]) : (int8_t)0;
        }
        if (cfg->seg > 0) {
            /* segments, as the engine chooses them (copystates.h); the queries'
             * samples are never states (each query copies from other samples only) */
            for (int i = 0; i < o->n_q; i++) qex[2 * i] = qh[i] & ~1, qex[2 * i + 1] = qh[i] | 1;
            int ng = spin_cstates_gaps(x.typed, x.site, D, sgl, NULL);
            spin_cstates_range(&cst, sgl, ng, x.nt);
            if (spin_cstates_pbwt(&cst, ptr->hap, ptr->nw, x.tsite, x.nt, qex, 2 * o->n_q, tq, (size_t)o->n_q, o->n_q) < 0)
                goto loopfail;
            for (int i = 0; i < o->n_q; i++) {
                int got = spin_cstates_pick(&cst, i, sgl, ng, K, nbr, sact + (size_t)i * K * ng);
                qk[i] = got;
                for (int j = 0; j < got; j++)
                    for (int d = 0; d < D; d++)
                        nb[((size_t)i * K + j) * D + d] = (int8_t)spin_panel_allele(ptr, x.site[d], nbr[j]);
            }
        }
        spin_wtok_t w = {D, x.typed, x.dcm, x.af, x.nu, x.uidx, cfg->seg > 0 ? NULL : beyond, cfg->seg > 0 ? sact : NULL,
                         cfg->seg > 0 ? qk : NULL, NULL};
        memset(grad, 0, (size_t)np * sizeof(float));
        if (o->maf_weight > 0) { /* normalise: mean weight 1 */
            double sw = 0;
            size_t nn = (size_t)o->n_q * x.nu;
            for (size_t k = 0; k < nn; k++) sw += wt[k];
            for (size_t k = 0; k < nn; k++) wt[k] = (float)(wt[k] * nn / sw);
        }
        double t_s0 = spin_realtime();
        double loss = spin_model_train_step(m, ws, &w, n_ctx, ctx, o->n_q, q, K, nb, y, o->maf_weight > 0 ? wt : NULL,
                                            grad, NULL);
        if (loss < 0) goto loopfail;
        float lr = nn_lr_schedule(step, warm, o->steps, o->lr, o->lr * 0.05f);
        nn_adam_step((size_t)np, m->w, grad, mv, mv + np, dmask, &ao, lr, step + 1);
        t_steps += spin_realtime() - t_s0, n_steps_run++;
        loss_acc += loss / ((double)o->n_q * x.nu), n_acc++;
        flops_acc += spin_model_step_flops(cfg, D, x.nu, n_ctx, o->n_q);

        int last = step + 1 == o->steps;
        if ((o->val_every > 0 && (step + 1) % o->val_every == 0) || last) {
            val_t v;
            if (validate(m, o->n_threads, ptr, tv, p, vh, vwin, n_vwin, &v) < 0) goto loopfail;
            int better = v.mean > best_r2;
            if (better) best_r2 = v.mean, memcpy(best, m->w, (size_t)np * sizeof(float));
            if (tty) fputc('\n', stderr);
            spin_info("step %lld validation: pooled r2 %.4f, mean r2 %.4f; by MAF [0,.005] %.3f (.005,.01] %.3f "
                      "(.01,.05] %.3f (.05,.5] %.3f%s",
                      (long long)step + 1, v.pooled, v.mean, v.bin[0], v.bin[1], v.bin[2], v.bin[3],
                      better ? " (best)" : "");
        }
        if ((o->log_every > 0 && (step + 1) % o->log_every == 0) || last) {
            double now = spin_realtime(), sps = (double)(step + 1 - step0 - n_log) / (now - t_log + 1e-9);
            double gfs = flops_acc / (now - t_log + 1e-9) * 1e-9;
            flops_tot += flops_acc, flops_acc = 0;
            n_log = step + 1 - step0, t_log = now;
            double eta = (double)(o->steps - step - 1) / (sps + 1e-9);
            if (tty)
                fprintf(stderr, "\r[M::train] step %lld/%lld loss %.4f lr %.2e %.2f steps/s %.2f GFLOP/s ETA %.0f s   ",
                        (long long)step + 1, (long long)o->steps, loss_acc / n_acc, lr, sps, gfs, eta);
            else
                spin_info("step %lld/%lld loss %.4f lr %.2e %.2f steps/s %.2f GFLOP/s ETA %.0f s", (long long)step + 1,
                          (long long)o->steps, loss_acc / n_acc, lr, sps, gfs, eta);
            loss_acc = 0, n_acc = 0;
        }
        if (o->checkpoint_every > 0 && (step + 1) % o->checkpoint_every == 0 && !last) {
            size_t len = strlen(o->out_fn) + 8;
            char *ck = malloc(len);
            if (!ck) goto loopfail;
            snprintf(ck, len, "%s.ckpt", o->out_fn);
            spin_ckpt_hdr_t h = {step + 1, rng, best_r2};
            char *sf = spin_ckpt_state_name(ck);
            int bad = !sf || spin_model_save(m, ck) < 0 || spin_ckpt_state_write(sf, &h, np, mv, best) < 0;
            free(sf), free(ck);
            if (bad) goto loopfail;
        }
    }
    if (tty) fputc('\n', stderr);
    free(qh), free(ch), free(tperm), free(hperm);
    /* write the best model */
    memcpy(m->w, best, (size_t)np * sizeof(float));
    {
        /* the measured wall time is stored (model-info shows it), so two runs with
         * the same seed and thread count give the same weights and settings
         * (weights_crc32), not the same file bytes */
        spin_provenance_t pv = {(char *)(o->command ? o->command : "spin-impute train"), (char *)o->panel_fn, o->seed,
                                o->steps, spin_realtime() - t_start};
        if (spin_model_set_provenance(m, &pv) < 0 || spin_model_save(m, o->out_fn) < 0) goto done;
    }
    flops_tot += flops_acc;
    if (t_steps > 0)
        spin_info("optimisation steps alone (no data drawing, neighbour search or validation): %.2f steps/s, "
                  "%.2f GFLOP/s (dense ops, analytic count)",
                  (double)n_steps_run / t_steps, flops_tot / t_steps * 1e-9);
    spin_info("wrote %s (best validation mean r2 %.4f); %.1f s", o->out_fn, best_r2, spin_realtime() - t_start);
    ret = 0;
    goto done;
loopfail:
    free(qh), free(ch), free(tperm), free(hperm);
    spin_error("training failed");
    goto done;
oom:
    spin_error("out of memory");
done:
    free(x.site), free(x.typed), free(x.dcm), free(x.af), free(x.uidx), free(x.tsite);
    free(grad), free(mv), free(best), free(dmask), free(ctx), free(q), free(nb), free(ta), free(y), free(wt), free(nbr), free(beyond);
    free(perm), free(th), free(vh), free(win), free(wstore), free(vwin), free(state_fn);
    spin_nbr_ws_destroy(nws);
    spin_cstates_destroy(&cst);
    free(tq), free(qex), free(sgl), free(qk), free(sact);
    spin_train_ws_destroy(ws);
    spin_model_destroy(m);
    spin_targets_destroy(tv);
    spin_panel_destroy(ptr);
    spin_gmap_destroy(map);
    spin_panel_destroy(p);
    return ret;
}
