/* cmd_chunk.c -- `spin-impute chunk REF TARGET`: cut a contig into imputation
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
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "vcfin.h"
#include "windows.h"

#define DEF_SIZE 20000000 /* bp per chunk (Minimac4 and Michigan Imputation Server use 20 Mb) */
#define DEF_BUFFER 1000000 /* bp, as `impute --buffer` */

typedef struct {
    int w0, w1;          /* windows [w0, w1) of the whole-contig partition */
    int64_t from, to;    /* core region, 1-based inclusive */
    int64_t buffer;      /* bp on each side: >= --buffer and >= what the typed context needs */
    int n_untyped, n_typed;
} chunk_t;

static void usage(FILE *fp)
{
    fprintf(fp,
            "\nUsage: spin-impute chunk [options] REF TARGET\n\n"
            "Cuts the panel's contig into imputation chunks made of whole model windows and prints\n"
            "one core region per line (CHR:FROM-TO). Running `spin-impute impute --region CORE\n"
            "--buffer BUF` per chunk and `bcftools concat` of the outputs in order gives the same\n"
            "records as one whole-contig run (phased targets need no ligation).\n\n"
            "Options:\n"
            "  -s, --size INT[k|M]      approximate chunk length in bp [20M]\n"
            "  -b, --buffer INT[k|M]    minimum bp of typed context around each chunk [%d]\n"
            "  -m, --model FILE         SPIN model file (gives the window size) [installed default model]\n"
            "  -r, --region CHR         contig to chunk when REF holds several (indexed REF)\n"
            "      --tsv                print a TSV: id, chrom, core, buffered region, buffer,\n"
            "                           windows, untyped sites, typed sites\n"
            "      --min-match FLOAT    minimum fraction of target sites that must match the panel [%.2f]\n"
            "  -t, --threads INT        BGZF decompression threads [1]\n"
            "  -q, --quiet              only errors on stderr\n"
            "  -h, --help               this help\n\n",
            DEF_BUFFER, SPIN_MIN_MATCH_FRAC);
}

/* "250000", "250k", "250kb", "1.5M", "20Mb" (case-insensitive) -> bp; <0 on error */
static int64_t parse_bp(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !(v >= 0)) return -1;
    double mul = 1;
    if (*end == 'k' || *end == 'K') mul = 1e3, ++end;
    else if (*end == 'm' || *end == 'M') mul = 1e6, ++end;
    else if (*end == 'g' || *end == 'G') mul = 1e9, ++end;
    if (mul > 1 && (*end == 'b' || *end == 'B')) ++end;
    else if (mul == 1 && strcasecmp(end, "bp") == 0) end += 2;
    if (*end) return -1;
    v *= mul;
    if (v > 1e12) return -1;
    return (int64_t)llround(v);
}

/* Groups windows [0, n_win) into chunks of about `size` bp. Cuts go only
 * between windows whose boundary sites sit at different positions (a core
 * region is a position interval, so two sites at one position cannot be
 * split). Chunk k ends at the first allowed cut whose end position reaches
 * start + k*span/n. Returns the number of chunks written to ch[]. */
static int cut_chunks(const spin_panel_t *p, const spin_window_t *win, int n_win, int64_t size, chunk_t *ch)
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
static void fill_chunks(const spin_panel_t *p, const spin_targets_t *t, const spin_window_t *win, chunk_t *ch,
                        int nc, int64_t min_buffer)
{
    int64_t contig_end = p->chrom_len > 0 ? p->chrom_len : p->pos[p->n_site - 1];
    for (int i = 0; i < nc; ++i) {
        chunk_t *c = &ch[i];
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

static int print_chunks(const spin_panel_t *p, const chunk_t *ch, int nc, int tsv)
{
    if (tsv && printf("#id\tchrom\tcore\tbuffered\tbuffer\tn_windows\tn_untyped\tn_typed\n") < 0) return -1;
    for (int i = 0; i < nc; ++i) {
        const chunk_t *c = &ch[i];
        int r;
        if (tsv) {
            int64_t bfrom = c->from - c->buffer > 1 ? c->from - c->buffer : 1, bto = c->to + c->buffer;
            if (p->chrom_len > 0 && bto > p->chrom_len) bto = p->chrom_len;
            r = printf("chunk%04d\t%s\t%s:%lld-%lld\t%s:%lld-%lld\t%lld\t%d\t%d\t%d\n", i + 1, p->chrom, p->chrom,
                       (long long)c->from, (long long)c->to, p->chrom, (long long)bfrom,
                       (long long)bto, (long long)c->buffer, c->w1 - c->w0, c->n_untyped, c->n_typed);
        } else {
            r = printf("%s:%lld-%lld\n", p->chrom, (long long)c->from, (long long)c->to);
        }
        if (r < 0) return -1;
    }
    return fflush(stdout) == 0 ? 0 : -1;
}

enum { OPT_TSV = 256, OPT_MIN_MATCH };

int main_chunk(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"size", required_argument, 0, 's'},     {"buffer", required_argument, 0, 'b'},
        {"model", required_argument, 0, 'm'},    {"region", required_argument, 0, 'r'},
        {"tsv", no_argument, 0, OPT_TSV},        {"min-match", required_argument, 0, OPT_MIN_MATCH},
        {"threads", required_argument, 0, 't'},  {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    int64_t size = DEF_SIZE, buffer = DEF_BUFFER;
    const char *model_fn = NULL, *region = NULL;
    int c, tsv = 0, n_threads = 1;
    double min_match = SPIN_MIN_MATCH_FRAC;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:b:m:r:t:qh", lopts, NULL)) >= 0) {
        switch (c) {
        case 's':
            if ((size = parse_bp(optarg)) < 1) {
                spin_error("--size expects a positive length in bp (e.g. 20M, 500k), got '%s'", optarg);
                goto usage_err;
            }
            break;
        case 'b':
            if ((buffer = parse_bp(optarg)) < 0) {
                spin_error("--buffer expects a length in bp (e.g. 250k), got '%s'", optarg);
                goto usage_err;
            }
            break;
        case 'm': model_fn = optarg; break;
        case 'r': region = optarg; break;
        case OPT_TSV: tsv = 1; break;
        case OPT_MIN_MATCH:
            errno = 0;
            min_match = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(min_match >= 0 && min_match <= 1)) {
                spin_error("--min-match expects a number in [0, 1], got '%s'", optarg);
                goto usage_err;
            }
            break;
        case 't':
            errno = 0;
            n_threads = (int)strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || n_threads < 1 || n_threads > 1024) {
                spin_error("--threads expects an integer in [1, 1024], got '%s'", optarg);
                goto usage_err;
            }
            break;
        case 'q': spin_verbose = SPIN_LOG_ERROR; break;
        case 'h': usage(stdout); return SPIN_EXIT_OK;
        default: goto usage_err;
        }
    }
    if (argc - optind != 2) {
        spin_error("expected two input files, REF and TARGET (got %d)", argc - optind);
        goto usage_err;
    }

    int ret = SPIN_EXIT_ERROR, n_win = 0, *store = NULL;
    spin_window_t *win = NULL;
    chunk_t *ch = NULL;
    spin_targets_t *t = NULL;
    spin_panel_t *p = NULL;
    if (!model_fn) model_fn = cli_default_model();
    spin_model_t *m = spin_model_load(model_fn);
    if (!m) {
        spin_error("cannot load model '%s': give one with -m FILE or SPIN_IMPUTE_MODEL", model_fn);
        goto end;
    }
    const spin_config_t *cfg = spin_model_config(m);
    if (!(p = spin_panel_read(argv[optind], region, n_threads))) goto end;
    if (p->n_site == 0) {
        spin_error("no biallelic SNP in '%s'%s%s", argv[optind], region ? " in " : "", region ? region : "");
        goto end;
    }
    if (!(t = spin_targets_read2(argv[optind + 1], p, region, n_threads, min_match, NULL))) goto end;
    if (spin_windows_make(p, t, cfg->w, spin_config_nbr_context(cfg), 0, INT64_MAX, &win, &n_win, &store) < 0) goto end;
    int nc = 1;
    if (n_win > 0) {
        if (!(ch = calloc((size_t)n_win, sizeof(*ch)))) {
            spin_error("out of memory for %d chunks", n_win);
            goto end;
        }
        nc = cut_chunks(p, win, n_win, size, ch);
        fill_chunks(p, t, win, ch, nc, buffer);
    } else { /* nothing to impute: one chunk, the whole contig */
        if (!(ch = calloc(1, sizeof(*ch)))) goto end;
        ch[0].from = 1, ch[0].to = p->chrom_len > 0 ? p->chrom_len : p->pos[p->n_site - 1];
        ch[0].buffer = buffer, ch[0].n_typed = t->n_typed;
    }
    if (print_chunks(p, ch, nc, tsv) < 0) {
        spin_error("error writing to stdout");
        goto end;
    }
    spin_info("%d chunks of %d windows (w = %d untyped sites, c = %d typed context sites) on %s", nc, n_win, cfg->w,
              cfg->c, p->chrom);
    ret = SPIN_EXIT_OK;
end:
    free(ch);
    free(win);
    free(store);
    spin_targets_destroy(t);
    spin_panel_destroy(p);
    spin_model_destroy(m);
    return ret;
usage_err:
    fprintf(stderr, "Try 'spin-impute chunk --help'.\n");
    return SPIN_EXIT_USAGE;
}
