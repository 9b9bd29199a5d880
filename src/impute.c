/* impute.c -- the imputation run behind `spin-impute impute` (spin.h:
 * spin_impute_run): read the model, panel, map and targets, phase targets
 * that have unphased heterozygotes (phase.c), make windows,
 * impute missing typed alleles, impute the windows in blocks and write every
 * panel site of the region in position order.
 *
 * Memory: the targets are held whole (int8); the panel (bit-packed) whole
 * or, when its index says it exceeds o->max_panel_mb, one internal chunk of
 * whole windows at a time (planned on a sites-only read, chunk.c:
 * spin_chunk_plan); imputed P(ALT) is buffered for one block of
 * BLOCK_WINDOWS windows per thread only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <htslib/kstring.h>
#include <htslib/thread_pool.h>

#include "chunk.h"
#include "impute.h"
#include "phase.h"
#include "stats.h"
#include "util.h"
#include "vcfin.h"

#define BLOCK_WINDOWS 64 /* windows imputed per engine call and thread: bounds output buffering */

void spin_impute_opt_default(spin_impute_opt_t *o)
{
    memset(o, 0, sizeof(*o));
    o->buffer = SPIN_DEFAULT_BUFFER;
    o->min_match = SPIN_MIN_MATCH_FRAC;
    o->n_threads = 1;
    o->max_panel_mb = SPIN_DEFAULT_MAX_PANEL_MB;
}

/* Wall seconds per stage of a run, logged in one line at its end (stderr). */
typedef struct {
    double panel, targets, phase, miss, engine;
    spin_writer_times_t wr; /* format, write/compress: filled by the writer */
} stage_times_t;

static void log_stages(const stage_times_t *t)
{
    spin_info("stage wall times: read panel %.2f s, read targets %.2f s, phasing %.2f s, typed-missing %.2f s, "
              "engine %.2f s, format %.2f s, write/compress %.2f s",
              t->panel, t->targets, t->phase, t->miss, t->engine, t->wr.format_s, t->wr.write_s);
}

/* Region bounds with the buffer, as "CHR:FROM-TO" for the readers. */
static char *buffered_region(const char *chrom, int64_t from, int64_t to, int64_t buffer)
{
    int64_t bf = from > buffer ? from - buffer : 1;
    int64_t bt = to < INT64_MAX - buffer ? to + buffer : INT64_MAX;
    size_t n = strlen(chrom) + 48;
    char *s = malloc(n);
    if (!s) return NULL;
    if (bt == INT64_MAX) snprintf(s, n, "%s:%lld-", chrom, (long long)bf); /* open end: "CHR:BEG" alone is one position to HTSlib */
    else snprintf(s, n, "%s:%lld-%lld", chrom, (long long)bf, (long long)bt);
    return s;
}

/* The output cursor: panel sites are written in order; typed sites carry the
 * observed alleles (a missing allele takes its imputed value from miss[]). */
typedef struct {
    spin_writer_t *wr;
    const spin_panel_t *panel;
    const spin_targets_t *tg;
    const float *miss; /* [n_typed * n_hap] P(ALT) at missing typed alleles */
    float *prob;       /* [n_hap] scratch for one typed site */
    int next_site;     /* next panel site to write */
    int next_typed;    /* next typed site (index into tg->site) */
    int64_t n_imputed, n_typed; /* records written */
    int64_t n_typed_missing; /* typed sites with every allele missing: written as imputed (IMP) */
    /* a multi-allelic record's sites (consecutive in panel order) are
     * collected here and written as one record after its last ALT */
    float *rec_p;      /* [max_nalt * n_hap] P(ALT k) rows */
    const float **rec_k;
    const char **rec_alt;
    int rec_imputed;
    int next_mono;     /* next REF-only panel record (spin_panel_t.mono_*) */
    uint8_t *pl;       /* [n_sample] ploidy scratch (haploid samples: spin_targets_ploidy_at) */
    int64_t from, to;  /* core region: REF-only records outside it are not written */
} out_cursor_t;

/* Writes the REF-only records that come before panel site `before` (all
 * remaining ones for before = n_site) and lie inside the core region. */
static int write_mono_until(out_cursor_t *c, int before)
{
    const spin_panel_t *p = c->panel;
    for (; c->next_mono < p->n_mono && p->mono_site[c->next_mono] <= before; c->next_mono++) {
        int i = c->next_mono;
        if (p->mono_pos[i] < c->from || p->mono_pos[i] > c->to) continue;
        const uint8_t *pl = spin_targets_ploidy_before(c->tg, p->mono_site[i], c->pl) ? c->pl : NULL;
        if (spin_writer_ref_only_pl(c->wr, p->chrom, p->mono_pos[i], p->mono_id[i], p->mono_ref[i], pl) < 0) return -1;
        c->n_imputed++;
    }
    return 0;
}

/* Targets with nothing observed cannot be imputed: every sample would get the
 * same population-frequency dosages, written as if they were data. Refuses
 * (returns -1) when no typed allele of any sample is observed; warns, naming
 * them, about samples with no observed typed allele (their dosages come from
 * the panel alone). */
static int check_observed(const spin_targets_t *tg)
{
    int n_hap = tg->n_hap, n_blind = 0;
    int64_t n_obs = 0;
    for (size_t k = 0; k < (size_t)tg->n_typed * n_hap; k++) n_obs += tg->allele[k] >= 0;
    if (n_obs == 0) {
        spin_error("target file '%s': every genotype of its %d samples at the %d sites shared with the reference "
                   "panel is missing: nothing to impute from (check the GT field and the sample columns)",
                   tg->fn, tg->n_sample, tg->n_typed);
        return -1;
    }
    for (int i = 0; i < tg->n_sample; i++) {
        int t = 0;
        for (; t < tg->n_typed; t++) {
            const int8_t *a = tg->allele + (size_t)t * n_hap + 2 * (size_t)i;
            if (a[0] >= 0 || a[1] >= 0) break;
        }
        if (t == tg->n_typed && ++n_blind <= 20)
            spin_warn("target sample %s in '%s' has no observed allele at any of the %d typed sites: its dosages "
                      "come from the reference panel alone, not from its genotypes",
                      tg->samples[i], tg->fn, tg->n_typed);
    }
    if (n_blind > 20)
        spin_warn("... and %d more: %d of %d target samples in '%s' have no observed typed allele", n_blind - 20,
                  n_blind, tg->n_sample, tg->fn);
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Target samples that are also panel samples (by name) copy their own
 * haplotypes: their accuracy is no test of imputation. Warns with their count
 * and the first names. Returns -1 only when out of memory. */
static int warn_shared_samples(const spin_panel_t *p, const spin_targets_t *tg)
{
    char **ps = malloc((size_t)p->n_sample * sizeof(char *)), **ts = malloc((size_t)tg->n_sample * sizeof(char *));
    if (!ps || !ts) {
        free(ps), free(ts);
        return -1;
    }
    memcpy(ps, p->samples, (size_t)p->n_sample * sizeof(char *));
    memcpy(ts, tg->samples, (size_t)tg->n_sample * sizeof(char *));
    qsort(ps, (size_t)p->n_sample, sizeof(char *), cmp_str);
    qsort(ts, (size_t)tg->n_sample, sizeof(char *), cmp_str);
    kstring_t names = {0, 0, NULL};
    int n = 0;
    for (int i = 0, j = 0; i < p->n_sample && j < tg->n_sample;) {
        int c = strcmp(ps[i], ts[j]);
        if (c < 0) i++;
        else if (c > 0) j++;
        else {
            if (++n <= 10) ksprintf(&names, "%s%s", n > 1 ? ", " : "", ts[j]);
            i++, j++;
        }
    }
    if (n)
        spin_warn("%d of %d target samples in '%s' are also in the reference panel '%s' (%s%s): they copy their own "
                  "haplotypes, so their imputation is no test of accuracy; remove them from the panel "
                  "(bcftools view -s ^NAMES) to impute or evaluate them fairly",
                  n, tg->n_sample, tg->fn, p->fn, names.s ? names.s : "", n > 10 ? ", ..." : "");
    free(names.s), free(ps), free(ts);
    return 0;
}

static int write_site(out_cursor_t *c, int s, int imputed, const float *prob)
{
    const spin_panel_t *p = c->panel;
    int n_hap = c->tg->n_hap, k = p->ialt[s] - 1, n = p->nalt[s];
    if (k == 0 && write_mono_until(c, s) < 0) return -1;
    /* a record's sites are all typed or all untyped (match.h): its last site decides for it */
    const uint8_t *pl = k + 1 == n && spin_targets_ploidy_at(c->tg, s, c->pl) ? c->pl : NULL;
    if (n == 1) {
        const char *alt = spin_panel_alt(p, s);
        *(imputed ? &c->n_imputed : &c->n_typed) += 1;
        return spin_writer_record_pl(c->wr, p->chrom, p->pos[s], p->id[s], spin_panel_ref(p, s), &alt, 1, imputed,
                                     &prob, n_hap, pl);
    }
    if (k == 0) c->rec_imputed = 0;
    memcpy(c->rec_p + (size_t)k * n_hap, prob, (size_t)n_hap * sizeof(float));
    c->rec_k[k] = c->rec_p + (size_t)k * n_hap;
    c->rec_alt[k] = spin_panel_alt(p, s);
    c->rec_imputed |= imputed; /* typed records are typed whole (match.h), so all or none */
    if (k + 1 < n) return 0;
    *(c->rec_imputed ? &c->n_imputed : &c->n_typed) += 1;
    return spin_writer_record_pl(c->wr, p->chrom, p->pos[s], p->id[s], spin_panel_ref(p, s), c->rec_alt, n,
                                 c->rec_imputed, c->rec_k, n_hap, pl);
}

/* Writes the typed sites among panel sites [c->next_site, end) and moves the
 * cursor to end. Panel sites in between that are neither typed nor in a
 * window (outside the core region) are not written. */
static int write_typed_until(out_cursor_t *c, int end)
{
    const spin_targets_t *tg = c->tg;
    int n_hap = tg->n_hap;
    for (; c->next_site < end; c->next_site++) {
        int t = c->next_typed;
        if (t < tg->n_typed && tg->site[t] == c->next_site) {
            const int8_t *a = tg->allele + (size_t)t * n_hap;
            const float *miss = c->miss + (size_t)t * n_hap;
            int n_obs = 0;
            for (int h = 0; h < n_hap; h++) {
                c->prob[h] = a[h] < 0 ? miss[h] : (float)a[h];
                n_obs += a[h] >= 0;
            }
            /* a typed site with every allele missing in the input carries no
             * data: its values are all imputed, so it is flagged IMP (and
             * `score` scores it); a site with some observed alleles is
             * written without IMP, as Beagle writes its target markers */
            if (write_site(c, c->next_site, n_obs == 0, c->prob) < 0) return -1;
            c->next_typed++;
            if (n_obs == 0) c->n_typed_missing++; /* write_site counted the record, as imputed */
        }
    }
    return 0;
}

/* The writer's options of a run; inputs[4] (caller-owned) lists the input
 * files, so that an output naming one of them is refused. */
static void writer_opt(const spin_impute_opt_t *o, const spin_panel_t *panel, const spin_targets_t *tg,
                       const char *inputs[4], spin_writer_opt_t *wo)
{
    memset(wo, 0, sizeof(*wo));
    wo->panel = panel;
    wo->n_sample = tg->n_sample;
    wo->samples = (const char *const *)tg->samples;
    wo->gp = o->gp, wo->ap = o->ap, wo->write_index = o->write_index, wo->no_version = o->no_version;
    wo->command = o->command;
    inputs[0] = o->ref_fn, inputs[1] = o->target_fn, inputs[2] = o->model_fn, inputs[3] = o->map_fn;
    wo->inputs = inputs, wo->n_inputs = 4;
}

/* --phase-only: the phased targets at their typed sites in [from, to] (every
 * allele observed or filled by the phasing). */
static int write_phased(const spin_impute_opt_t *o, const spin_writer_ops_t *ops, const spin_panel_t *panel,
                        const spin_targets_t *tg, const spin_match_stats_t *st, int64_t from, int64_t to,
                        int n_threads, double wall0, stage_times_t *tm, htsThreadPool *pool)
{
    spin_writer_opt_t wo;
    const char *inputs[4];
    writer_opt(o, panel, tg, inputs, &wo);
    wo.times = &tm->wr, wo.pool = pool;
    const char *stats_tmp = NULL;
    /* a typed multi-allelic record is typed whole (match.h): its ALT sites are
     * consecutive typed sites, collected and written as one record */
    int max_nalt = 1;
    for (int s = 0; s < panel->n_site; s++) max_nalt = panel->nalt[s] > max_nalt ? panel->nalt[s] : max_nalt;
    size_t n_hap = (size_t)tg->n_hap;
    float *prob = malloc((size_t)max_nalt * n_hap * sizeof(float));
    const float **rows = malloc((size_t)max_nalt * sizeof(float *));
    const char **alts = malloc((size_t)max_nalt * sizeof(char *));
    uint8_t *pl = malloc((size_t)tg->n_sample);
    spin_writer_t *wr = prob && rows && alts && pl ? ops->open(o->out_fn, o->out_fmt, n_threads, &wo) : NULL;
    if (!wr) goto err;
    if (o->stats_fn && !(stats_tmp = spin_writer_companion(wr, o->stats_fn))) goto err;
    int64_t n = 0;
    for (int t = 0; t < tg->n_typed; t++) {
        int s = tg->site[t], k = panel->ialt[s] - 1, na = panel->nalt[s];
        if (panel->pos[s] < from || panel->pos[s] > to) continue;
        const int8_t *a = tg->allele + (size_t)t * n_hap;
        float *row = prob + (size_t)k * n_hap;
        for (size_t h = 0; h < n_hap; h++) row[h] = a[h] < 0 ? panel->af[s] : (float)a[h];
        rows[k] = row, alts[k] = spin_panel_alt(panel, s);
        if (k + 1 < na) continue;
        if (spin_writer_record_pl(wr, panel->chrom, panel->pos[s], panel->id[s], spin_panel_ref(panel, s), alts, na, 0,
                                  rows, tg->n_hap, spin_targets_ploidy_at(tg, s, pl) ? pl : NULL) < 0)
            goto err;
        n++;
    }
    if (stats_tmp && spin_stats_write_tsv_as(st, stats_tmp, o->stats_fn) < 0) goto err;
    int rc = ops->close(wr);
    wr = NULL;
    if (rc < 0) goto err;
    spin_stats_log_summary(st);
    log_stages(tm);
    spin_info("done: %lld phased typed records written, %d target samples; %.2f s wall, %.2f s CPU", (long long)n,
              tg->n_sample, spin_realtime() - wall0, spin_cputime());
    free(prob), free(rows), free(alts), free(pl);
    return 0;
err:
    if (wr) ops->abort(wr);
    free(prob), free(rows), free(alts), free(pl);
    return SPIN_ERR;
}

static const spin_writer_ops_t direct_ops = {spin_writer_open, spin_writer_close, spin_writer_abort};

/* What the whole-contig pass and every internal chunk share: the engine, the
 * output cursor and the block buffers. */
typedef struct {
    const spin_impute_opt_t *o;
    spin_engine_t *eng;
    out_cursor_t cur;
    int blk;          /* windows per engine call */
    float **pblk;     /* [blk] P(ALT) of one window each, into pbuf */
    float *miss;      /* typed-missing P(ALT) of the current panel's typed sites */
    size_t m_miss;    /* floats allocated in miss */
    stage_times_t *tm;
    int64_t w_done, w_total; /* windows written, for progress */
    int n_hap;        /* the panel's haplotypes (every chunk read must have them) */
    double wall0;
} run_t;

/* Imputes windows win[0, n_win) of panel and tg and writes every record of
 * the core [from, to] in order: untyped sites from the blocks' results, typed
 * sites with their observed alleles (missing ones imputed first), REF-only
 * records. panel and tg are the whole contig's or one chunk's (a contiguous
 * run of the contig's sites with every site the core's windows and typed
 * sites look at). */
static int impute_span(run_t *R, const spin_panel_t *panel, const spin_targets_t *tg, const spin_window_t *win,
                       int n_win, int64_t from, int64_t to)
{
    out_cursor_t *cur = &R->cur;
    const spin_impute_opt_t *o = R->o;
    int n_hap = tg->n_hap;
    size_t nmiss = (size_t)tg->n_typed * n_hap;
    if (nmiss > R->m_miss || !R->miss) {
        float *m = realloc(R->miss, (nmiss ? nmiss : 1) * sizeof(float));
        if (!m) {
            spin_error("out of memory");
            return -1;
        }
        R->miss = m, R->m_miss = nmiss;
    }
    double t0 = spin_realtime();
    if (spin_engine_impute_typed_missing(R->eng, panel, tg, R->miss) < 0) return -1;
    R->tm->miss += spin_realtime() - t0;
    cur->panel = panel, cur->tg = tg, cur->miss = R->miss;
    cur->from = from, cur->to = to;
    cur->next_site = spin_pos_lower_bound(panel->pos, panel->n_site, from);
    cur->next_typed = cur->next_mono = 0;
    while (cur->next_typed < tg->n_typed && tg->site[cur->next_typed] < cur->next_site) cur->next_typed++;
    for (int w0 = 0; w0 < n_win; w0 += R->blk) {
        int n_blk = n_win - w0 < R->blk ? n_win - w0 : R->blk;
        t0 = spin_realtime();
        if (spin_engine_impute(R->eng, panel, tg, win + w0, n_blk, R->pblk) < 0) return -1;
        R->tm->engine += spin_realtime() - t0;
        for (int i = 0; i < n_blk; i++) {
            const spin_window_t *wi = &win[w0 + i];
            for (int j = 0; j < wi->n_untyped; j++) {
                int u = wi->untyped[j];
                if (write_typed_until(cur, u) < 0) return -1;
                if (write_site(cur, u, 1, R->pblk[i] + (size_t)j * n_hap) < 0) return -1;
                cur->next_site = u + 1;
            }
        }
        if (o->progress) o->progress(o->progress_ctx, R->w_done + w0 + n_blk, R->w_total, spin_realtime() - R->wall0);
    }
    R->w_done += n_win;
    /* typed sites after the last window, up to the end of the core region */
    if (write_typed_until(cur, spin_pos_lower_bound(panel->pos, panel->n_site, to == INT64_MAX ? to : to + 1)) < 0 ||
        write_mono_until(cur, panel->n_site) < 0)
        return -1;
    return 0;
}

/* Chunk c's view of the contig's targets tg: the typed sites among panel
 * sites [c->s0, c->s1), with site indices relative to s0 (the chunk's panel
 * holds exactly those sites); the genotype arrays point into tg's (rows of
 * consecutive typed sites are contiguous). Only v->site is allocated. */
static int targets_view(const spin_targets_t *tg, const spin_chunk_t *c, spin_targets_t *v, int *first)
{
    int k0 = 0, k1;
    while (k0 < tg->n_typed && tg->site[k0] < c->s0) k0++; /* chunks are few: a scan is cheap */
    for (k1 = k0; k1 < tg->n_typed && tg->site[k1] < c->s1;) k1++;
    *v = *tg;
    v->n_typed = v->m_typed = k1 - k0;
    if (!(v->site = malloc((size_t)(k1 > k0 ? k1 - k0 : 1) * sizeof(int)))) return -1;
    for (int k = k0; k < k1; k++) v->site[k - k0] = tg->site[k] - c->s0;
    v->allele = tg->allele + (size_t)k0 * tg->n_hap;
    v->gt = tg->gt + (size_t)k0 * tg->n_sample;
    v->phased = tg->phased + (size_t)k0 * tg->n_sample;
    if (tg->ploidy) v->ploidy = tg->ploidy + (size_t)k0 * tg->n_sample;
    v->n_unphased = 0; /* the chunked path only runs on phased targets */
    *first = k0;
    return 0;
}

/* Chunk c's windows: the contig's windows [c->w0, c->w1) with site indices
 * relative to c->s0 and typed indices relative to the view's first typed
 * site k0. <0 OOM or (internal) a window reaching outside the chunk. */
static int windows_view(const spin_window_t *win, const spin_chunk_t *c, int k0, int n_typed, spin_window_t **cw,
                        int **store)
{
    size_t n = 0;
    for (int j = c->w0; j < c->w1; j++) n += (size_t)win[j].n_untyped;
    *cw = malloc((size_t)(c->w1 - c->w0) * sizeof(spin_window_t));
    *store = malloc((n ? n : 1) * sizeof(int));
    if (!*cw || !*store) {
        spin_error("out of memory");
        return -1;
    }
    int *u = *store;
    for (int j = c->w0; j < c->w1; j++) {
        spin_window_t *w = &(*cw)[j - c->w0];
        w->n_untyped = win[j].n_untyped, w->untyped = u;
        for (int i = 0; i < win[j].n_untyped; i++) *u++ = win[j].untyped[i] - c->s0;
        w->t0 = win[j].t0 - k0, w->t1 = win[j].t1 - k0;
        if (w->untyped[0] < 0 || w->untyped[w->n_untyped - 1] >= c->s1 - c->s0 ||
            (w->t1 > w->t0 && (w->t0 < 0 || w->t1 > n_typed))) {
            spin_error("internal: window %d reaches outside its chunk", j);
            return -1;
        }
    }
    return 0;
}

/* The panel's sites at positions [lo, hi] of contig chrom, read by region
 * (quietly: the plan logged the panel), checked to be the plan's n_expect
 * sites of n_hap haplotypes, cM from map. NULL on error (logged). */
static spin_panel_t *read_span(const spin_impute_opt_t *o, const char *chrom, int64_t lo, int64_t hi, int n_expect,
                               int n_hap, const spin_gmap_t *map, int n_threads, htsThreadPool *pool,
                               stage_times_t *tm)
{
    char *reg = buffered_region(chrom, lo, hi, 0);
    if (!reg) {
        spin_error("out of memory");
        return NULL;
    }
    double t0 = spin_realtime();
    spin_panel_t *p = spin_panel_read_flags(o->ref_fn, reg, NULL, n_threads, pool, SPIN_PANEL_QUIET);
    tm->panel += spin_realtime() - t0;
    if (p && (p->n_site != n_expect || p->n_hap != n_hap || p->pos[0] != lo || p->pos[p->n_site - 1] != hi)) {
        spin_error("reference panel '%s' changed while it was read: region %s gave %d sites, %d expected", o->ref_fn,
                   reg, p->n_site, n_expect);
        spin_panel_destroy(p);
        p = NULL;
    }
    free(reg);
    if (p) spin_panel_set_map(p, map);
    return p;
}

/* Imputes chunk c: reads its panel sites by region, checks they are the
 * plan's, and writes its core. */
static int impute_chunk(run_t *R, const char *chrom, const spin_gmap_t *map, const spin_targets_t *tg,
                        const spin_window_t *win, const spin_chunk_t *c, int n_threads, htsThreadPool *pool)
{
    spin_targets_t v;
    spin_window_t *cw = NULL;
    int *cstore = NULL, k0 = 0, rc = -1;
    v.site = NULL;
    spin_panel_t *p = read_span(R->o, chrom, c->read_from, c->read_to, c->s1 - c->s0, R->n_hap, map,
                                n_threads, pool, R->tm);
    if (!p) goto end;
    if (targets_view(tg, c, &v, &k0) < 0) {
        spin_error("out of memory");
        goto end;
    }
    if (windows_view(win, c, k0, v.n_typed, &cw, &cstore) < 0) goto end;
    spin_log(SPIN_LOG_DEBUG, __func__, "chunk %s:%lld-%lld (core), read %lld-%lld: %d sites, %d typed, %d windows",
             chrom, (long long)c->from, (long long)c->to, (long long)c->read_from, (long long)c->read_to, p->n_site,
             v.n_typed, c->w1 - c->w0);
    rc = impute_span(R, p, &v, cw, c->w1 - c->w0, c->from, c->to);
end:
    free(v.site), free(cw), free(cstore);
    spin_panel_destroy(p);
    return rc;
}

/* The panel at the typed sites only (site k = typed site k of tg), which is
 * all phasing looks at (phase.c reads hap and cm at t->site): read from plan
 * (sites-only) by region in runs of at most max_sites panel sites, each
 * checked against the plan, its typed rows kept and the rest freed. Memory:
 * n_typed x n_hap bits. NULL on error (logged). */
static spin_panel_t *typed_panel(const spin_impute_opt_t *o, const spin_panel_t *plan, const spin_targets_t *tg,
                                 const spin_gmap_t *map, int64_t max_sites, int n_threads, htsThreadPool *pool,
                                 stage_times_t *tm)
{
    spin_panel_t *q = calloc(1, sizeof(*q));
    int nt = tg->n_typed;
    if (!q) goto oom;
    q->n_hap = plan->n_hap, q->nw = (plan->n_hap + 63) / 64; /* no sample names: phasing needs none */
    q->n_site = q->m_site = nt;
    if (!(q->fn = strdup(plan->fn)) || !(q->chrom = strdup(plan->chrom)) ||
        !(q->pos = malloc((size_t)nt * sizeof(int64_t))) || !(q->cm = malloc((size_t)nt * sizeof(double))) ||
        !(q->af = malloc((size_t)nt * sizeof(float))) ||
        !(q->hap = malloc((size_t)nt * (size_t)q->nw * sizeof(uint64_t))))
        goto oom;
    for (int k0 = 0, k1; k0 < nt; k0 = k1) {
        for (k1 = k0 + 1; k1 < nt && tg->site[k1] - tg->site[k0] < max_sites;) k1++;
        int64_t lo = plan->pos[tg->site[k0]], hi = plan->pos[tg->site[k1 - 1]];
        int s0 = spin_pos_lower_bound(plan->pos, plan->n_site, lo), s1 = spin_pos_lower_bound(plan->pos, plan->n_site, hi + 1);
        spin_panel_t *p = read_span(o, plan->chrom, lo, hi, s1 - s0, q->n_hap, map, n_threads, pool, tm);
        if (!p) goto err;
        for (int k = k0; k < k1; k++) {
            int s = tg->site[k] - s0;
            q->pos[k] = p->pos[s], q->cm[k] = p->cm[s], q->af[k] = p->af[s];
            memcpy(q->hap + (size_t)k * q->nw, p->hap + (size_t)s * p->nw, (size_t)q->nw * sizeof(uint64_t));
        }
        spin_panel_destroy(p);
    }
    return q;
oom:
    spin_error("out of memory");
err:
    spin_panel_destroy(q);
    return NULL;
}

/* Phases tg's unphased heterozygotes against the panel's typed sites only
 * (typed_panel): the same inputs phase.c would read from the whole panel,
 * so the same result, at n_typed x n_hap bits. */
static int phase_chunked(const spin_impute_opt_t *o, const spin_panel_t *plan, spin_targets_t *tg,
                         const spin_gmap_t *map, int64_t max_sites, const spin_phase_opt_t *po, int64_t *n_ph,
                         int n_threads, htsThreadPool *pool, stage_times_t *tm)
{
    spin_panel_t *q = typed_panel(o, plan, tg, map, max_sites, n_threads, pool, tm);
    spin_targets_t v = *tg;
    int rc = -1;
    if (!q) return -1;
    if (!(v.site = malloc((size_t)(tg->n_typed ? tg->n_typed : 1) * sizeof(int)))) {
        spin_error("out of memory");
        goto end;
    }
    for (int k = 0; k < tg->n_typed; k++) v.site[k] = k;
    rc = spin_phase_run(q, &v, po, n_ph); /* phases tg's allele rows in place (shared) */
    tg->n_unphased = v.n_unphased;
end:
    free(v.site);
    spin_panel_destroy(q);
    return rc;
}

int spin_impute_run(const spin_impute_opt_t *o) { return spin_impute_run_ops(o, NULL); }

int spin_impute_run_ops(const spin_impute_opt_t *o, const spin_writer_ops_t *ops)
{
    int status = SPIN_ERR;
    double wall0 = spin_realtime();
    spin_model_t *own_model = NULL;
    spin_panel_t *panel = NULL;
    spin_gmap_t *map = NULL;
    spin_targets_t *tg = NULL;
    spin_match_stats_t *st = NULL;
    spin_window_t *win = NULL;
    spin_chunk_t *chunk = NULL;
    int *win_store = NULL, n_win = 0, n_chunk = 0;
    run_t R;
    out_cursor_t *cur = &R.cur;
    char *rchrom = NULL, *rbuf = NULL, *rshown = NULL, *chrom = NULL;
    float *pbuf = NULL, *prob = NULL;
    int64_t from = 0, to = INT64_MAX, max_sites = 0;
    int n_threads = o->n_threads < 1 ? 1 : o->n_threads;
    const char *stats_tmp = NULL; /* --stats is published with the output: both or neither */
    stage_times_t tm;
    double t0;
    /* one HTSlib pool of n_threads for the run: panel and target decompression, output compression */
    htsThreadPool tpool = {NULL, 0}, *pool = NULL;
    memset(&R, 0, sizeof(R));
    memset(&tm, 0, sizeof(tm));
    if (!ops) ops = &direct_ops;

    /* the model first: a bad model file fails before any data work */
    const spin_model_t *model = o->model;
    if (!model && !o->model_fn && !o->phase_only) {
        spin_error("no model: set spin_impute_opt_t.model or .model_fn");
        return SPIN_ERR_USAGE;
    }
    if (!o->ref_fn || !o->target_fn) {
        spin_error("spin_impute_opt_t needs ref_fn and target_fn");
        return SPIN_ERR_USAGE;
    }
    if (!(o->max_panel_mb >= 0)) {
        spin_error("spin_impute_opt_t.max_panel_mb must be >= 0 (0: no chunking)");
        return SPIN_ERR_USAGE;
    }
    if (!o->phase_only && !model && !(model = own_model = spin_model_load(o->model_fn))) goto done;
    if (n_threads > 1) {
        if ((tpool.pool = hts_tpool_init(n_threads))) pool = &tpool;
        else spin_warn("could not start a pool of %d HTSlib threads; (de)compressing in threads of each file", n_threads);
    }

    if (o->region) {
        if (spin_region_parse(o->region, &rchrom, &from, &to) < 0) {
            status = SPIN_ERR_USAGE;
            goto done;
        }
        if (!(rbuf = buffered_region(rchrom, from, to, o->buffer))) goto oom;
        /* messages name what the user typed, and the buffer only if there is one */
        size_t n = strlen(o->region) + 64;
        if (!(rshown = malloc(n))) goto oom;
        if (o->buffer > 0) snprintf(rshown, n, "%s (or its %lld bp buffer)", o->region, (long long)o->buffer);
        else snprintf(rshown, n, "%s", o->region);
    }
    /* internal chunks need region reads; without an index the panel is read
     * whole, once, and so is one whose index says it fits the budget */
    int64_t bits = o->phase_only || !(o->max_panel_mb > 0) ? -1 : spin_panel_indexed_bits(o->ref_fn);
    int chunked = bits >= 0 && (double)bits / 8.0 > o->max_panel_mb * 1048576.0;
    t0 = spin_realtime();
    if (!(panel = spin_panel_read_flags(o->ref_fn, rbuf, rshown, n_threads, pool, chunked ? SPIN_PANEL_SITES_ONLY : 0)))
        goto done;
    tm.panel = spin_realtime() - t0;
    if (panel->n_site == 0) {
        spin_error("%s: no records%s%s in the reference panel", o->ref_fn, o->region ? " in " : "",
                   o->region ? o->region : "");
        goto done;
    }
    if (o->map_fn) {
        if (!(map = spin_gmap_load(o->map_fn, panel->chrom))) goto done;
    } else {
        spin_info("no genetic map given (--map): using 1 cM = 1 Mb");
    }
    if (spin_panel_set_map(panel, map) < 0) goto done;
    if (!(st = spin_match_stats_init())) goto oom;
    st->n_panel_snp = panel->n_rec_snp, st->n_panel_indel = panel->n_rec_indel;
    st->n_panel_other = panel->n_rec_other, st->n_panel_multi = panel->n_rec_multi;
    t0 = spin_realtime();
    if (!(tg = spin_targets_read_matched(o->target_fn, panel, rbuf, rshown, n_threads, pool, o->min_match, st))) goto done;
    tm.targets = spin_realtime() - t0;
    if (check_observed(tg) < 0) goto done;
    if (warn_shared_samples(panel, tg) < 0) goto oom;
    const spin_config_t *cfg = o->phase_only ? NULL : spin_model_config(model);
    if (chunked) {
        /* the sites-only plan: windows of the whole region, cut into chunks
         * whose bit matrix stays under the budget */
        if (spin_windows_make_cfg(panel, tg, cfg, from, to, &win, &n_win, &win_store) < 0) goto done;
        int64_t row = (int64_t)((panel->n_hap + 63) / 64) * 8;
        max_sites = (int64_t)(o->max_panel_mb * 1048576.0 / (double)row);
        if (max_sites < 1) max_sites = 1;
        int c_miss = cfg->c > 0 ? cfg->c : 1; /* engine.c: a missing typed allele looks at c typed sites a side */
        if (n_win > 0 && spin_chunk_plan(panel, tg, win, n_win, from, to, c_miss, max_sites, n_threads, &chunk,
                                         &n_chunk) < 0)
            goto oom;
        int64_t mx = 0;
        for (int i = 0; i < n_chunk; i++) mx = chunk[i].s1 - chunk[i].s0 > mx ? chunk[i].s1 - chunk[i].s0 : mx;
        /* one chunk; or the budget cannot be met (a window's typed context
         * alone needs more) and chunks would still hold over half the panel:
         * they would save little memory for reading much of it again and again */
        if (n_chunk <= 1 || (mx > max_sites && 2 * mx > panel->n_site)) {
            if (n_chunk > 1)
                spin_info("the typed context of a window spans %lld of the panel's %d sites, over the budget: "
                          "reading it at once, not in %d chunks",
                          (long long)mx, panel->n_site, n_chunk);
            chunked = 0;
            free(chunk), chunk = NULL, n_chunk = 0;
            t0 = spin_realtime();
            spin_panel_t *full = spin_panel_read_flags(o->ref_fn, rbuf, rshown, n_threads, pool, SPIN_PANEL_QUIET);
            tm.panel += spin_realtime() - t0;
            if (!full) goto done;
            if (full->n_site != panel->n_site) {
                spin_error("reference panel '%s' changed while it was read: %d sites, then %d", o->ref_fn,
                           panel->n_site, full->n_site);
                spin_panel_destroy(full);
                goto done;
            }
            spin_panel_destroy(panel);
            panel = full;
            spin_panel_set_map(panel, map);
        } else {
            spin_info("reading the panel in %d chunks of whole windows (at most %lld sites, %.3g MB of haplotypes; "
                      "budget %g MB, --max-panel-mb)",
                      n_chunk, (long long)mx, (double)(mx * row) / 1048576.0, o->max_panel_mb);
        }
    }
    if (tg->n_unphased > 0 || o->phase_only) { /* the engine needs haplotypes */
        spin_phase_opt_t po;
        spin_phase_opt_default(&po);
        po.n_threads = n_threads, po.fill_missing = o->phase_only;
        int64_t n_ph = 0;
        double panel_s = tm.panel; /* chunked: the typed sites' reads count as reading the panel */
        t0 = spin_realtime();
        /* chunked: the panel at the typed sites is all phasing reads */
        if (chunked ? phase_chunked(o, panel, tg, map, max_sites, &po, &n_ph, n_threads, pool, &tm) < 0
                    : spin_phase_run(panel, tg, &po, &n_ph) < 0)
            goto done;
        tm.phase = spin_realtime() - t0 - (chunked ? tm.panel - panel_s : 0);
        spin_info("phased %lld unphased heterozygous genotypes of %d target samples at %d typed sites against %d "
                  "reference haplotypes (%d iterations, %.2f s)",
                  (long long)n_ph, tg->n_sample, tg->n_typed, panel->n_hap, po.n_iter, tm.phase);
    }
    if (o->phase_only) {
        status = write_phased(o, ops, panel, tg, st, from, to, n_threads, wall0, &tm, pool);
        goto done;
    }
    if (!chunked && spin_windows_make_cfg(panel, tg, cfg, from, to, &win, &n_win, &win_store) < 0) goto done;
    spin_info("%d reference haplotypes, %d target samples, %d typed sites, %d windows of up to %d untyped sites",
              panel->n_hap, tg->n_sample, tg->n_typed, n_win, cfg->w);

    spin_writer_opt_t wo;
    const char *inputs[4];
    writer_opt(o, panel, tg, inputs, &wo);
    wo.model_checksum = spin_model_checksum(model);
    wo.times = &tm.wr, wo.pool = pool;
    if (!(cur->wr = ops->open(o->out_fn, o->out_fmt, n_threads, &wo))) goto done;
    if (o->stats_fn && !(stats_tmp = spin_writer_companion(cur->wr, o->stats_fn))) goto done;

    if (!(R.eng = spin_engine_init(model, n_threads))) goto oom;
    int n_hap = tg->n_hap;
    if (!(prob = malloc((size_t)n_hap * sizeof(float)))) goto oom;
    /* impute windows in blocks of about BLOCK_WINDOWS x 128 untyped sites per
     * thread, whatever the window size (segments hold thousands), and at
     * least one window per thread */
    size_t max_u = 0;
    for (int i = 0; i < n_win; i++) max_u = (size_t)win[i].n_untyped > max_u ? (size_t)win[i].n_untyped : max_u;
    size_t per = (size_t)BLOCK_WINDOWS * 128 / (max_u ? max_u : 1);
    R.blk = (int)((per < 1 ? 1 : per > BLOCK_WINDOWS ? BLOCK_WINDOWS : per) * n_threads);
    if (!(R.pblk = calloc((size_t)R.blk, sizeof(float *))) ||
        !(pbuf = malloc((size_t)R.blk * max_u * n_hap * sizeof(float) + 1)))
        goto oom;
    for (int i = 0; i < R.blk; i++) R.pblk[i] = pbuf + (size_t)i * max_u * n_hap;
    R.o = o, R.tm = &tm, R.wall0 = wall0, R.w_total = n_win, R.n_hap = panel->n_hap;
    cur->prob = prob;
    int max_nalt = 1;
    for (int s = 0; s < panel->n_site; s++) max_nalt = panel->nalt[s] > max_nalt ? panel->nalt[s] : max_nalt;
    if (!(cur->rec_p = malloc((size_t)max_nalt * n_hap * sizeof(float))) || !(cur->pl = malloc((size_t)tg->n_sample)) ||
        !(cur->rec_k = malloc((size_t)max_nalt * sizeof(float *))) ||
        !(cur->rec_alt = malloc((size_t)max_nalt * sizeof(char *))))
        goto oom;
    if (o->progress && n_win > 0) o->progress(o->progress_ctx, 0, n_win, spin_realtime() - wall0);
    if (!chunked) {
        if (impute_span(&R, panel, tg, win, n_win, from, to) < 0) goto done;
    } else {
        /* the plan's sites are no longer needed: each chunk reads its own */
        if (!(chrom = strdup(panel->chrom))) goto oom;
        spin_panel_destroy(panel);
        panel = NULL;
        for (int i = 0; i < n_chunk; i++)
            if (impute_chunk(&R, chrom, map, tg, win, &chunk[i], n_threads, pool) < 0) goto done;
    }
    if (stats_tmp && spin_stats_write_tsv_as(st, stats_tmp, o->stats_fn) < 0) goto done;
    int rc = ops->close(cur->wr);
    cur->wr = NULL;
    if (rc < 0) goto done;
    spin_stats_log_summary(st);
    if (cur->n_typed_missing)
        spin_warn("%lld typed site(s) had every target allele missing: written as imputed, flagged IMP",
                  (long long)cur->n_typed_missing);
    spin_engine_log_costs(R.eng);
    log_stages(&tm);
    double rss = (double)spin_peakrss() / (1024.0 * 1024.0);
    spin_info("done: %lld records written (%lld imputed, %lld typed), %d windows, %d target samples; "
              "%.2f s wall, %.2f s CPU, peak RSS %.1f MB",
              (long long)(cur->n_imputed + cur->n_typed), (long long)cur->n_imputed, (long long)cur->n_typed, n_win,
              tg->n_sample, spin_realtime() - wall0, spin_cputime(), rss);
    status = 0;
    goto done;
oom:
    spin_error("out of memory");
done:
    if (cur->wr) ops->abort(cur->wr);
    spin_engine_destroy(R.eng);
    free(R.pblk), free(pbuf), free(R.miss), free(prob);
    free(cur->rec_p), free((void *)cur->rec_k), free((void *)cur->rec_alt), free(cur->pl);
    free(win), free(win_store), free(chunk), free(chrom);
    spin_match_stats_destroy(st);
    spin_targets_destroy(tg);
    spin_gmap_destroy(map);
    spin_panel_destroy(panel);
    spin_model_destroy(own_model);
    if (tpool.pool) hts_tpool_destroy(tpool.pool); /* after every file that used it is closed */
    free(rchrom), free(rbuf), free(rshown);
    return status;
}
