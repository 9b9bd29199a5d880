/* windows.h -- partition the untyped panel sites into windows and choose each
 * window's typed context. */
#pragma once
#include <stdint.h>

#include "spin.h"

/* Builds the windows over the untyped panel sites s (sites not in t->site)
 * with from <= p->pos[s] <= to (pass 0, INT64_MAX for the whole contig).
 *
 * Sizes: blocks of exactly w consecutive untyped sites, anchored at the first
 * untyped site in [from, to]; the remainder r = U mod w is a last window of r
 * sites, or joins the previous window when r < w/4 (never a tiny last
 * window). So a region that starts at a window boundary of the whole-contig
 * partition and holds whole windows gets exactly the whole run's windows
 * (`spin-impute chunk` cuts chunks that way). Deterministic.
 *
 * Context: [t0, t1) indexes t->site: every typed site between the window's
 * first and last untyped site, plus the c nearest typed sites on each side
 * (fewer at the ends of the typed set; t0 == t1 when there are no typed sites).
 * For --region with a buffer, read the panel and targets over region +/-
 * buffer and pass the core region as [from, to]: the context then reaches into
 * the buffer while only core sites are imputed.
 *
 * Output: *win (n_win entries) and *store (all untyped indices; win[i].untyped
 * points into it) are malloc'ed here, replacing whatever they held; the caller
 * frees both with free(). U == 0 gives *n_win = 0 and returns 0.
 * t may be NULL (no typed sites). Returns 0, <0 on error (w < 1, c < 0, OOM). */
int spin_windows_make(const spin_panel_t *p, const spin_targets_t *t, int w, int c, int64_t from, int64_t to,
                      spin_window_t **win, int *n_win, int **store);
