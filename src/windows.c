/* windows.c -- partition of untyped sites into windows, typed context.
 *
 * Windows are anchored at the first untyped site in [from, to]: blocks of
 * exactly w consecutive untyped sites, so a region that starts at a window
 * boundary of the whole-contig partition and holds whole windows is
 * partitioned exactly as in the whole run (what `spin-impute chunk` relies on
 * to make chunk outputs concatenate into the whole-run output). The remainder
 * r = U mod w forms a last window, or joins the previous one when r < w/4 so
 * there is never a tiny last window (the model is trained on about w sites). */
#include <stdlib.h>

#include "util.h"
#include "spin.h"

/* The untyped panel sites s (not in t->site) with from <= pos[s] <= to, in order,
 * into a malloc'ed *u; with iv (may be NULL), also each one's interval: the
 * number of typed sites before it. Returns their count (0: nothing allocated),
 * or -1 out of memory (message given). */
static int untyped_in(const spin_panel_t *p, const spin_targets_t *t, int64_t from, int64_t to, int **u, int **iv)
{
    int n_typed = t ? t->n_typed : 0, U = 0;
    const int *tsite = t ? t->site : NULL;
    for (int pass = 0; pass < 2; ++pass) {
        int j = 0;
        for (int s = 0, k = 0; s < p->n_site; ++s) {
            while (k < n_typed && tsite[k] < s) ++k;
            if (k < n_typed && tsite[k] == s) continue;
            if (p->pos[s] < from || p->pos[s] > to) continue;
            if (pass) {
                (*u)[j] = s;
                if (iv) (*iv)[j] = k;
            }
            ++j;
        }
        if (pass) break;
        if ((U = j) == 0) return 0;
        *u = malloc((size_t)U * sizeof(int));
        if (iv) *iv = malloc((size_t)U * sizeof(int));
        if (!*u || (iv && !*iv)) {
            free(*u), *u = NULL;
            if (iv) free(*iv), *iv = NULL;
            spin_error("out of memory making windows over %d sites", p->n_site);
            return -1;
        }
    }
    return U;
}

/* first k in a[0..n) with a[k] >= x */
int spin_windows_make(const spin_panel_t *p, const spin_targets_t *t, int w, int c, int64_t from, int64_t to,
                      spin_window_t **win, int *n_win, int **store)
{
    *win = NULL, *store = NULL, *n_win = 0;
    if (w < 1 || c < 0) {
        spin_error("window size (%d) must be >= 1 and context (%d) >= 0", w, c);
        return -1;
    }
    int n_typed = t ? t->n_typed : 0;
    const int *tsite = t ? t->site : NULL;
    int *u = NULL, U = untyped_in(p, t, from, to, &u, NULL);
    if (U <= 0) return U;
    int n_full = U / w, rem = U % w;
    int nw = n_full + (rem > 0);
    if (rem > 0 && n_full > 0 && rem < (w + 3) / 4) nw = n_full; /* tail joins the last full window */
    spin_window_t *W = calloc((size_t)nw, sizeof(*W));
    if (!W) {
        free(u);
        goto oom;
    }
    for (int i = 0, off = 0; i < nw; ++i) {
        int n = i < nw - 1 ? w : U - off;
        int first = u[off], last = u[off + n - 1];
        W[i].n_untyped = n;
        W[i].untyped = u + off;
        int lo = spin_int_lower_bound(tsite, n_typed, first);    /* first typed after the block start */
        int hi = spin_int_lower_bound(tsite, n_typed, last + 1); /* first typed after the block end */
        W[i].t0 = lo - c > 0 ? lo - c : 0;
        W[i].t1 = hi + c < n_typed ? hi + c : n_typed;
        off += n;
    }
    *win = W, *store = u, *n_win = nw;
    return 0;
oom:
    spin_error("out of memory making windows over %d sites", p->n_site);
    return -1;
}

/* Segments: intervals are numbered by the typed sites before them (interval i
 * holds the untyped sites between typed sites i-1 and i), so interval numbers
 * come from the typed list alone and a region run that sees the same typed
 * sites (its buffer) numbers them alike up to an offset. */
int spin_windows_make_seg(const spin_panel_t *p, const spin_targets_t *t, int B, int c, int64_t from, int64_t to,
                          spin_window_t **win, int *n_win, int **store)
{
    *win = NULL, *store = NULL, *n_win = 0;
    if (B < 1 || c < 0) {
        spin_error("segment size (%d) must be >= 1 and context (%d) >= 0", B, c);
        return -1;
    }
    int n_typed = t ? t->n_typed : 0;
    const int *tsite = t ? t->site : NULL;
    int *u = NULL, *iv = NULL, U = untyped_in(p, t, from, to, &u, &iv);
    if (U <= 0) return U;
    int n_int = 0; /* non-empty intervals */
    for (int j = 0; j < U; ++j) n_int += j == 0 || iv[j - 1] != iv[j];
    int n_full = n_int / B, rem = n_int % B;
    int nw = n_full + (rem > 0);
    if (rem > 0 && n_full > 0 && rem < (B + 3) / 4) nw = n_full;
    spin_window_t *W = calloc((size_t)nw, sizeof(*W));
    if (!W) {
        free(u), free(iv);
        goto oom;
    }
    for (int i = 0, off = 0; i < nw; ++i) {
        int end = off, seen = 0;
        if (i < nw - 1) {
            while (end < U && (seen < B || iv[end] == iv[end - 1])) seen += end == off || iv[end] != iv[end - 1], ++end;
        } else {
            end = U;
        }
        int first = u[off], last = u[end - 1];
        W[i].n_untyped = end - off;
        W[i].untyped = u + off;
        int lo = spin_int_lower_bound(tsite, n_typed, first);
        int hi = spin_int_lower_bound(tsite, n_typed, last + 1);
        W[i].t0 = lo - c > 0 ? lo - c : 0;
        W[i].t1 = hi + c < n_typed ? hi + c : n_typed;
        off = end;
    }
    free(iv);
    *win = W, *store = u, *n_win = nw;
    return 0;
oom:
    spin_error("out of memory making segments over %d sites", p->n_site);
    return -1;
}

int spin_windows_make_cfg(const spin_panel_t *p, const spin_targets_t *t, const spin_config_t *cfg, int64_t from,
                          int64_t to, spin_window_t **win, int *n_win, int **store)
{
    if (cfg->seg > 0) return spin_windows_make_seg(p, t, cfg->seg, cfg->c, from, to, win, n_win, store);
    return spin_windows_make(p, t, cfg->w, spin_config_nbr_context(cfg), from, to, win, n_win, store);
}
