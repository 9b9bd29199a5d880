/* chunk.h -- cut a contig into imputation chunks made of whole model windows
 * (chunk.c; `spin-impute chunk`). */
#ifndef SPIN_CHUNK_H
#define SPIN_CHUNK_H

#include <stdint.h>

#include "spin.h"

typedef struct {
    int w0, w1;          /* windows [w0, w1) of the whole-contig partition */
    int64_t from, to;    /* core region, 1-based inclusive */
    int64_t buffer;      /* bp on each side: >= the requested buffer and >= what the typed context needs */
    int n_untyped, n_typed;
    /* spin_chunk_plan only: the chunk reads panel sites [s0, s1) of the plan's
     * panel, positions [read_from, read_to] (every site at those positions) */
    int s0, s1;
    int64_t read_from, read_to;
} spin_chunk_t;

typedef struct {
    const char *ref_fn, *target_fn;
    const char *region;  /* contig to chunk when REF holds several (indexed REF); NULL: the only one */
    int64_t size;        /* approximate chunk length in bp (> 0) */
    int64_t buffer;      /* minimum bp of typed context on each side of a chunk */
    double min_match;    /* as spin_targets_read */
    int n_threads;       /* BGZF decompression threads */
} spin_chunk_opt_t;

typedef struct {
    char *chrom;         /* the panel's contig name */
    int64_t chrom_len;   /* ##contig length, 0 if absent */
    int n_chunk, n_win;  /* chunks; windows of the whole-contig partition */
    spin_chunk_t *chunk; /* [n_chunk], in position order; cores contiguous and disjoint */
} spin_chunks_t;

/* Reads the panel and targets and cuts the whole-contig window partition of
 * model settings cfg (w, c) into chunks of about o->size bp. With no untyped
 * site there is one chunk, the whole contig. NULL on error (message logged).
 * Free with spin_chunks_destroy. */
spin_chunks_t *spin_chunk_run(const spin_chunk_opt_t *o, const spin_config_t *cfg);
void spin_chunks_destroy(spin_chunks_t *c);

/* Internal chunks of one imputation run (impute.c): cuts windows [0, n_win)
 * of the region core [from, to] (0, INT64_MAX: the whole contig), made on
 * panel p (sites-only is enough) and targets t, into runs of whole windows
 * such that the panel sites a chunk needs -- its core, every window's typed
 * context and c_miss typed sites beyond its first and last core typed site
 * (the typed-missing imputation's context) -- number at most max_sites where
 * that is possible (a single window that needs more is a chunk of its own).
 * Cuts only between windows at different positions, as spin_chunk_run. The
 * first core starts at from, the last ends at to, cores are contiguous and
 * disjoint. *ch (malloc'ed, caller frees) gets *n_ch chunks with s0, s1,
 * read_from, read_to, w0, w1, from, to, n_untyped, n_typed and buffer (bp
 * read beyond the core, the larger side). n_win >= 1. Up to twice max_sites, a
 * chunk takes windows until it holds min_win of them (the engine runs a chunk's
 * windows in parallel: fewer than the threads leave threads idle). Returns 0,
 * <0 OOM. */
int spin_chunk_plan(const spin_panel_t *p, const spin_targets_t *t, const spin_window_t *win, int n_win,
                    int64_t from, int64_t to, int c_miss, int64_t max_sites, int min_win, spin_chunk_t **ch,
                    int *n_ch);

#endif
