/* chunk.c -- cut a contig into imputation chunks (`spin-impute chunk`):
 * chunks whose outputs concatenate (bcftools concat, no ligation) into exactly
 * the records of one whole-contig run.
 *
 * Why this is exact: windows.c anchors windows at the first untyped site of
 * the region it is given and cuts blocks of w untyped sites. A chunk here is
 * a run of consecutive whole windows of the whole-contig partition, and its
 * core region starts right after the previous chunk's last untyped site, so
 * `impute --region CORE` rebuilds exactly those windows (the last chunk also
 * gets the whole run's last, possibly merged, window). The typed context of a
 * window reaches c typed sites beyond its block: the buffer printed for each
 * chunk is at least what that context needs, so `impute --buffer` with it
 * sees the same typed sites as the whole run. Cores are contiguous and
 * disjoint, so every output record (imputed or typed) is in exactly one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "util.h"
#include "vcfin.h"

/* Groups windows [0, n_win) into chunks of about `size` bp. Cuts go only
 * between windows whose boundary sites sit at different positions (a core
 * region is a position interval, so two sites at one position cannot be
 * split). Chunk k ends at the first allowed cut whose end position reaches
 * start + k*span/n. Returns the number of chunks written to ch[]. */
static int cut_chunks(const spin_panel_t *p, const spin_window_t *win, int n_win, int64_t size, spin_chunk_t *ch)
{
    int64_t first = p->pos[win[0].untyped[0]];
    const spin_window_t *lw = &win[n_win - 1];
    int64_t last = p->pos[lw->untyped[lw->n_untyped - 1]];
    int64_t span = last - first + 1;
    int n = size > 0 ? (int)((span + size / 2) / size) : 1;
    if (n < 1) n = 1;
    if (n > n_win) n = n_win;
    int nc = 0, w0 = 0;
    for (int k = 1; k <= n && w0 < n_win; ++k) {
        int w1 = n_win; /* the last chunk takes everything left */
        if (k < n) {
            int64_t target = first + (int64_t)((double)span * k / n);
            for (w1 = w0 + 1; w1 < n_win; ++w1) {
                const spin_window_t *a = &win[w1 - 1];
                int64_t end = p->pos[a->untyped[a->n_untyped - 1]];
                if (end >= target && end != p->pos[win[w1].untyped[0]]) break;
            }
        }
        ch[nc].w0 = w0, ch[nc].w1 = w1;
        ++nc;
        w0 = w1;
    }
    return nc;
}

/* Core bounds, untyped/typed counts and the buffer each chunk needs. */
static void fill_chunks(const spin_panel_t *p, const spin_targets_t *t, const spin_window_t *win, spin_chunk_t *ch,
                        int nc, int64_t min_buffer)
{
    int64_t contig_end = p->chrom_len > 0 ? p->chrom_len : p->pos[p->n_site - 1];
    for (int i = 0; i < nc; ++i) {
        spin_chunk_t *c = &ch[i];
        const spin_window_t *lw = &win[c->w1 - 1];
        c->from = i == 0 ? 1 : ch[i - 1].to + 1;
        c->to = i == nc - 1 ? contig_end : p->pos[lw->untyped[lw->n_untyped - 1]];
        if (c->to < c->from) c->to = c->from; /* only if the panel runs past ##contig length */
        c->n_untyped = 0;
        c->buffer = min_buffer;
        for (int j = c->w0; j < c->w1; ++j) {
            c->n_untyped += win[j].n_untyped;
            if (win[j].t1 > win[j].t0) {
                int64_t lo = p->pos[t->site[win[j].t0]], hi = p->pos[t->site[win[j].t1 - 1]];
                if (c->from - lo > c->buffer) c->buffer = c->from - lo;
                if (hi - c->to > c->buffer) c->buffer = hi - c->to;
            }
        }
        c->n_typed = 0;
        for (int k = 0; k < t->n_typed; ++k) {
            int64_t pos = p->pos[t->site[k]];
            if (pos >= c->from && pos <= c->to) ++c->n_typed;
        }
    }
}

/* Lower bound of position x in the typed sites' positions (t->site ascending). */
static int typed_lower_bound(const spin_panel_t *p, const spin_targets_t *t, int64_t x)
{
    int lo = 0, hi = t->n_typed;
    while (lo < hi) {
        int m = lo + (hi - lo) / 2;
        if (p->pos[t->site[m]] < x) lo = m + 1;
        else hi = m;
    }
    return lo;
}

/* The sites chunk c (w0, w1, from, to set) needs, as spin_chunk_plan says:
 * fills s0, s1, read_from, read_to, n_typed and buffer. */
static void chunk_span(const spin_panel_t *p, const spin_targets_t *t, const spin_window_t *win, int c_miss,
                       spin_chunk_t *c)
{
    int s0 = spin_pos_lower_bound(p->pos, p->n_site, c->from);
    int s1 = c->to == INT64_MAX ? p->n_site : spin_pos_lower_bound(p->pos, p->n_site, c->to + 1);
    int k0 = typed_lower_bound(p, t, c->from), k1 = c->to == INT64_MAX ? t->n_typed : typed_lower_bound(p, t, c->to + 1);
    c->n_typed = k1 - k0;
    int ta = k0 - c_miss > 0 ? k0 - c_miss : 0, tb = k1 + c_miss < t->n_typed ? k1 + c_miss : t->n_typed;
    for (int j = c->w0; j < c->w1; ++j) {
        if (win[j].untyped[0] < s0) s0 = win[j].untyped[0];
        if (win[j].untyped[win[j].n_untyped - 1] >= s1) s1 = win[j].untyped[win[j].n_untyped - 1] + 1;
        if (win[j].t1 > win[j].t0) {
            ta = win[j].t0 < ta ? win[j].t0 : ta;
            tb = win[j].t1 > tb ? win[j].t1 : tb;
        }
    }
    if (tb > ta) {
        s0 = t->site[ta] < s0 ? t->site[ta] : s0;
        s1 = t->site[tb - 1] >= s1 ? t->site[tb - 1] + 1 : s1;
    }
    /* a region read gets every site at its end positions */
    c->read_from = p->pos[s0], c->read_to = p->pos[s1 - 1];
    c->s0 = spin_pos_lower_bound(p->pos, p->n_site, c->read_from);
    c->s1 = spin_pos_lower_bound(p->pos, p->n_site, c->read_to + 1);
    int64_t lo = c->from - c->read_from, hi = c->to == INT64_MAX ? 0 : c->read_to - c->to;
    c->buffer = lo > hi ? lo : hi > 0 ? hi : 0;
}

int spin_chunk_plan(const spin_panel_t *p, const spin_targets_t *t, const spin_window_t *win, int n_win,
                    int64_t from, int64_t to, int c_miss, int64_t max_sites, int min_win, spin_chunk_t **ch,
                    int *n_ch)
{
    spin_chunk_t *c = calloc((size_t)n_win, sizeof(*c));
    if (!c) return -1;
    int nc = 0;
    for (int w0 = 0; w0 < n_win;) {
        spin_chunk_t *k = &c[nc];
        k->from = nc == 0 ? from : c[nc - 1].to + 1;
        /* the windows [w0, w1) up to the last allowed cut that keeps the span within max_sites */
        int best = -1;
        for (int w1 = w0 + 1; w1 <= n_win; ++w1) {
            const spin_window_t *a = &win[w1 - 1];
            int64_t end = p->pos[a->untyped[a->n_untyped - 1]];
            if (w1 < n_win && end == p->pos[win[w1].untyped[0]]) continue; /* no cut inside a position */
            k->w0 = w0, k->w1 = w1, k->to = w1 == n_win ? to : end;
            chunk_span(p, t, win, c_miss, k);
            /* over the budget: stop, unless fewer than min_win windows are taken and
             * the span is within twice the budget (idle threads cost more than that) */
            const int64_t sp = k->s1 - k->s0;
            if (best >= 0 && sp > max_sites && (best - w0 >= min_win || sp > 2 * max_sites)) break;
            best = w1;
            if (sp > max_sites && (w1 - w0 >= min_win || sp > 2 * max_sites)) break; /* alone if it must */
        }
        const spin_window_t *a = &win[best - 1];
        k->w0 = w0, k->w1 = best, k->to = best == n_win ? to : p->pos[a->untyped[a->n_untyped - 1]];
        chunk_span(p, t, win, c_miss, k);
        k->n_untyped = 0;
        for (int j = w0; j < best; ++j) k->n_untyped += win[j].n_untyped;
        ++nc;
        w0 = best;
    }
    *ch = c, *n_ch = nc;
    return 0;
}

void spin_chunks_destroy(spin_chunks_t *c)
{
    if (!c) return;
    free(c->chrom);
    free(c->chunk);
    free(c);
}

spin_chunks_t *spin_chunk_run(const spin_chunk_opt_t *o, const spin_config_t *cfg)
{
    int n_win = 0, *store = NULL, ok = 0;
    spin_window_t *win = NULL;
    spin_targets_t *t = NULL;
    spin_panel_t *p = NULL;
    spin_chunks_t *r = calloc(1, sizeof(*r));
    if (!r) goto oom;
    if (!(p = spin_panel_read(o->ref_fn, o->region, o->n_threads))) goto end;
    if (p->n_site == 0) {
        spin_error("no biallelic SNP in '%s'%s%s", o->ref_fn, o->region ? " in " : "", o->region ? o->region : "");
        goto end;
    }
    if (!(r->chrom = strdup(p->chrom))) goto oom;
    r->chrom_len = p->chrom_len;
    if (!(t = spin_targets_read(o->target_fn, p, o->region, o->n_threads, o->min_match))) goto end;
    if (spin_windows_make_cfg(p, t, cfg, 0, INT64_MAX, &win, &n_win, &store) < 0)
        goto end;
    r->n_win = n_win;
    if (n_win > 0) {
        if (!(r->chunk = calloc((size_t)n_win, sizeof(*r->chunk)))) goto oom;
        r->n_chunk = cut_chunks(p, win, n_win, o->size, r->chunk);
        fill_chunks(p, t, win, r->chunk, r->n_chunk, o->buffer);
    } else { /* nothing to impute: one chunk, the whole contig */
        if (!(r->chunk = calloc(1, sizeof(*r->chunk)))) goto oom;
        r->n_chunk = 1;
        r->chunk[0].from = 1, r->chunk[0].to = p->chrom_len > 0 ? p->chrom_len : p->pos[p->n_site - 1];
        r->chunk[0].buffer = o->buffer, r->chunk[0].n_typed = t->n_typed;
    }
    ok = 1;
    goto end;
oom:
    spin_error("out of memory");
end:
    free(win);
    free(store);
    spin_targets_destroy(t);
    spin_panel_destroy(p);
    if (!ok) {
        spin_chunks_destroy(r);
        r = NULL;
    }
    return r;
}
