/* cmd_chunk.c -- `spin-impute chunk REF TARGET`: options, then spin_chunk_run
 * (chunk.c holds the algorithm and why its chunks are exact), then the chunk
 * list on stdout. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "chunk.h"

#define DEF_SIZE 20000000 /* bp per chunk (Minimac4 and Michigan Imputation Server use 20 Mb) */

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
            SPIN_DEFAULT_BUFFER, SPIN_MIN_MATCH_FRAC);
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

static int print_chunks(const spin_chunks_t *r, int tsv)
{
    if (tsv && printf("#id\tchrom\tcore\tbuffered\tbuffer\tn_windows\tn_untyped\tn_typed\n") < 0) return -1;
    const char *chrom = r->chrom;
    for (int i = 0; i < r->n_chunk; ++i) {
        const spin_chunk_t *c = &r->chunk[i];
        int rc;
        if (tsv) {
            int64_t bfrom = c->from - c->buffer > 1 ? c->from - c->buffer : 1, bto = c->to + c->buffer;
            if (r->chrom_len > 0 && bto > r->chrom_len) bto = r->chrom_len;
            rc = printf("chunk%04d\t%s\t%s:%lld-%lld\t%s:%lld-%lld\t%lld\t%d\t%d\t%d\n", i + 1, chrom, chrom,
                       (long long)c->from, (long long)c->to, chrom, (long long)bfrom,
                       (long long)bto, (long long)c->buffer, c->w1 - c->w0, c->n_untyped, c->n_typed);
        } else {
            rc = printf("%s:%lld-%lld\n", chrom, (long long)c->from, (long long)c->to);
        }
        if (rc < 0) return -1;
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
    int64_t size = DEF_SIZE, buffer = SPIN_DEFAULT_BUFFER;
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

    int ret = SPIN_EXIT_ERROR;
    spin_chunks_t *r = NULL;
    if (!model_fn) model_fn = cli_default_model();
    spin_model_t *m = spin_model_load(model_fn);
    if (!m) {
        spin_error("cannot load model '%s': give one with -m FILE or SPIN_IMPUTE_MODEL", model_fn);
        return SPIN_EXIT_ERROR;
    }
    const spin_config_t *cfg = spin_model_config(m);
    spin_chunk_opt_t co = {argv[optind], argv[optind + 1], region, size, buffer, min_match, n_threads};
    if (!(r = spin_chunk_run(&co, cfg))) goto end;
    if (print_chunks(r, tsv) < 0) {
        spin_error("error writing to stdout");
        goto end;
    }
    spin_info("%d chunks of %d windows (w = %d untyped sites, c = %d typed context sites) on %s", r->n_chunk, r->n_win,
              cfg->w, cfg->c, r->chrom);
    ret = SPIN_EXIT_OK;
end:
    spin_chunks_destroy(r);
    spin_model_destroy(m);
    return ret;
usage_err:
    fprintf(stderr, "Try 'spin-impute chunk --help'.\n");
    return SPIN_EXIT_USAGE;
}
