/* cmd_impute.c -- `spin-impute [impute] REF TARGET`: the thin CLI around the
 * library: options -> read panel and targets -> windows -> engine -> writer.
 * Exit codes: 0 only when every record was written and every stream closed;
 * 1 for data and runtime errors; 2 for usage errors. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "match.h"
#include "stats.h"
#include "vcfin.h"
#include "windows.h"
#include "writer.h"

#define DEF_BUFFER 1000000 /* bp of typed context read around --region: the neighbour search sees 3c = 288
                            * typed sites a side, 1.4 Mb at one per 5 kb; 1 Mb covers arrays of >= 1 per 3.5 kb */
#define DEF_THREADS 1
#define BLOCK_WINDOWS 64 /* windows imputed per engine call: bounds output buffering */

typedef struct {
    const char *out_fn, *model_fn, *map_fn, *region, *stats_fn;
    char out_fmt;
    int write_index, gp, ap, no_version, n_threads, quiet;
    int64_t buffer;
    double min_match;
} impute_opt_t;

static void usage(FILE *fp)
{
    fprintf(fp,
            "\nUsage: spin-impute [impute] [options] REF TARGET > OUT.vcf.gz\n\n"
            "Imputes the reference sites missing from phased TARGET samples with a SPIN network.\n"
            "REF: phased reference panel (VCF, VCF.gz or BCF; biallelic SNPs are used).\n"
            "TARGET: phased diploid genotypes (VCF, VCF.gz or BCF); missing alleles are imputed.\n\n"
            "Output:\n"
            "  -o, --output FILE        write to FILE, atomically [stdout]\n"
            "  -O, --output-type v|z|b|u  VCF, bgzipped VCF, BCF, uncompressed BCF [z, or from -o's extension]\n"
            "  -W, --write-index        write a CSI index next to -o FILE\n"
            "      --gp                 add FORMAT/GP genotype probabilities [off, as Beagle gp=false]\n"
            "      --ap                 add FORMAT/AP1,AP2 per-haplotype ALT dosages [off]\n"
            "      --no-version         omit date, version, command and model lines from the header\n"
            "      --stats FILE         write site-matching statistics and every excluded or recoded site (TSV)\n"
            "Model and data:\n"
            "  -m, --model FILE         SPIN model file [installed default model]\n"
            "      --map FILE           genetic map: PLINK (chrom id cM bp) or SHAPEIT5 (pos chr cM) [none: 1 cM/Mb]\n"
            "  -r, --region CHR:FROM-TO impute only this region (indexed inputs)\n"
            "      --buffer INT         bp of typed context read on each side of --region [%d]\n"
            "      --min-match FLOAT    minimum fraction of target sites that must match the panel [%.2f]\n"
            "Other:\n"
            "  -t, --threads INT        threads for the model and for BGZF [%d]\n"
            "  -q, --quiet              only errors on stderr\n"
            "  -h, --help               this help\n"
            "      --version            print the version\n\n",
            DEF_BUFFER, SPIN_MIN_MATCH_FRAC, DEF_THREADS);
}

enum { OPT_GP = 256, OPT_AP, OPT_NO_VERSION, OPT_STATS, OPT_MAP, OPT_BUFFER, OPT_MIN_MATCH, OPT_VERSION };

/* Returns 0 and fills o, or a usage/help exit status (>= 0) in *status. */
static int parse_args(int argc, char **argv, impute_opt_t *o, int *status)
{
    static const struct option lopts[] = {
        {"output", required_argument, 0, 'o'},   {"output-type", required_argument, 0, 'O'},
        {"write-index", no_argument, 0, 'W'},    {"gp", no_argument, 0, OPT_GP},
        {"ap", no_argument, 0, OPT_AP},          {"no-version", no_argument, 0, OPT_NO_VERSION},
        {"stats", required_argument, 0, OPT_STATS}, {"model", required_argument, 0, 'm'},
        {"map", required_argument, 0, OPT_MAP},  {"region", required_argument, 0, 'r'},
        {"buffer", required_argument, 0, OPT_BUFFER}, {"min-match", required_argument, 0, OPT_MIN_MATCH},
        {"threads", required_argument, 0, 't'},  {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},           {"version", no_argument, 0, OPT_VERSION},
        {0, 0, 0, 0}};
    long v;
    int c;
    memset(o, 0, sizeof(*o));
    o->n_threads = DEF_THREADS;
    o->buffer = DEF_BUFFER;
    o->min_match = SPIN_MIN_MATCH_FRAC;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:O:Wm:r:t:qh", lopts, NULL)) >= 0) {
        switch (c) {
        case 'o': o->out_fn = optarg; break;
        case 'O':
            if (strlen(optarg) != 1 || !strchr("vzbu", optarg[0])) {
                fprintf(stderr, "[E::impute] -O expects one of v, z, b, u; got '%s'\n", optarg);
                goto usage_err;
            }
            o->out_fmt = optarg[0];
            break;
        case 'W': o->write_index = 1; break;
        case OPT_GP: o->gp = 1; break;
        case OPT_AP: o->ap = 1; break;
        case OPT_NO_VERSION: o->no_version = 1; break;
        case OPT_STATS: o->stats_fn = optarg; break;
        case 'm': o->model_fn = optarg; break;
        case OPT_MAP: o->map_fn = optarg; break;
        case 'r': o->region = optarg; break;
        case OPT_BUFFER:
            if (cli_parse_long(optarg, "impute", "--buffer", 0, 100000000L, &v) < 0) goto usage_err;
            o->buffer = v;
            break;
        case OPT_MIN_MATCH:
            if (cli_parse_double(optarg, "impute", "--min-match", 0.0, 1.0, &o->min_match) < 0) goto usage_err;
            break;
        case 't':
            if (cli_parse_long(optarg, "impute", "--threads", 1, 1024, &v) < 0) goto usage_err;
            o->n_threads = (int)v;
            break;
        case 'q': o->quiet = 1; break;
        case 'h': usage(stdout); *status = SPIN_EXIT_OK; return 1;
        case OPT_VERSION: printf("spin-impute %s\n", spin_version()); *status = SPIN_EXIT_OK; return 1;
        default: goto usage_err;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "[E::impute] expected two input files, REF and TARGET (got %d)\n", argc - optind);
        goto usage_err;
    }
    if (o->write_index && (!o->out_fn || strcmp(o->out_fn, "-") == 0)) {
        fprintf(stderr, "[E::impute] -W needs -o FILE: an index cannot be written for stdout\n");
        goto usage_err;
    }
    if (o->write_index && (o->out_fmt == 'v' || o->out_fmt == 'u')) {
        fprintf(stderr, "[E::impute] -W needs compressed output (-O z or b)\n");
        goto usage_err;
    }
    return 0;
usage_err:
    fprintf(stderr, "Try 'spin-impute impute --help'.\n");
    *status = SPIN_EXIT_USAGE;
    return 1;
}

/* Region bounds with the buffer, as "CHR:FROM-TO" for the readers. */
static char *buffered_region(const char *chrom, int64_t from, int64_t to, int64_t buffer)
{
    int64_t bf = from > buffer ? from - buffer : 1;
    int64_t bt = to < INT64_MAX - buffer ? to + buffer : INT64_MAX;
    size_t n = strlen(chrom) + 48;
    char *s = malloc(n);
    if (!s) return NULL;
    if (bt == INT64_MAX) snprintf(s, n, "%s:%lld", chrom, (long long)bf);
    else snprintf(s, n, "%s:%lld-%lld", chrom, (long long)bf, (long long)bt);
    return s;
}

/* Observed P(ALT) of every target haplotype at typed site t (panel coding);
 * a missing allele takes the engine's imputed value from miss[]. */
static void typed_probs(const spin_targets_t *tg, int t, const float *miss, float *p)
{
    const int8_t *a = tg->allele + (size_t)t * tg->n_hap;
    for (int h = 0; h < tg->n_hap; h++) p[h] = a[h] < 0 ? miss[h] : (float)a[h];
}

static int write_site(spin_writer_t *wr, const spin_panel_t *p, int s, int imputed, const float *prob, int n_hap)
{
    return spin_writer_site(wr, p->chrom, p->pos[s], p->id[s], p->ref[s], p->alt[s], imputed, prob, n_hap);
}

int main_impute(int argc, char **argv)
{
    impute_opt_t o;
    int status = SPIN_EXIT_ERROR;
    if (parse_args(argc, argv, &o, &status)) return status;
    if (o.quiet) spin_verbose = SPIN_LOG_ERROR;
    const char *ref_fn = argv[optind], *tgt_fn = argv[optind + 1];
    double t0 = spin_realtime();
    const char *inputs[4] = {ref_fn, tgt_fn, o.model_fn ? o.model_fn : cli_default_model(), o.map_fn};

    spin_model_t *model = NULL;
    spin_panel_t *panel = NULL;
    spin_gmap_t *map = NULL;
    spin_targets_t *tg = NULL;
    spin_match_stats_t *st = NULL;
    spin_window_t *win = NULL;
    int *win_store = NULL, n_win = 0;
    spin_engine_t *eng = NULL;
    spin_writer_t *wr = NULL;
    char *cmd = NULL, *rchrom = NULL, *rbuf = NULL;
    float **pblk = NULL, *pbuf = NULL, *miss = NULL, *prob = NULL;
    int64_t from = 0, to = INT64_MAX;

    /* the model first: a bad model file fails before any data work */
    const char *model_fn = o.model_fn ? o.model_fn : cli_default_model();
    if (!(model = spin_model_load(model_fn))) {
        if (!o.model_fn)
            spin_error("no usable default model at %s: reinstall spin-impute, or pass --model FILE "
                       "(set SPIN_IMPUTE_MODEL to change the default)", model_fn);
        goto done;
    }
    const spin_config_t *cfg = spin_model_config(model);

    if (o.region) {
        if (spin_region_parse(o.region, &rchrom, &from, &to) < 0) {
            status = SPIN_EXIT_USAGE;
            goto done;
        }
        if (!(rbuf = buffered_region(rchrom, from, to, o.buffer))) goto done;
    }
    if (!(panel = spin_panel_read(ref_fn, rbuf, o.n_threads))) goto done;
    if (panel->n_site == 0) {
        spin_error("%s: no biallelic SNPs%s%s in the reference panel", ref_fn, o.region ? " in " : "",
                   o.region ? o.region : "");
        goto done;
    }
    if (o.map_fn) {
        if (!(map = spin_gmap_load(o.map_fn, panel->chrom))) goto done;
    } else {
        spin_info("no genetic map given (--map): using 1 cM = 1 Mb");
    }
    if (spin_panel_set_map(panel, map) < 0) goto done;
    if (!(st = spin_match_stats_init())) goto done;
    if (!(tg = spin_targets_read2(tgt_fn, panel, rbuf, o.n_threads, o.min_match, st))) goto done;
    if (spin_windows_make(panel, tg, cfg->w, spin_config_nbr_context(cfg), from, to, &win, &n_win, &win_store) < 0) goto done;
    spin_info("%d reference haplotypes, %d target samples, %d typed sites, %d windows of up to %d untyped sites",
              panel->n_hap, tg->n_sample, tg->n_typed, n_win, cfg->w);

    /* output */
    if (!(cmd = cli_command_line(argc, argv))) goto done;
    spin_writer_opt_t wo;
    memset(&wo, 0, sizeof(wo));
    wo.panel = panel;
    wo.n_sample = tg->n_sample;
    wo.samples = (const char *const *)tg->samples;
    wo.gp = o.gp, wo.ap = o.ap, wo.write_index = o.write_index, wo.no_version = o.no_version;
    wo.command = cmd;
    wo.model_checksum = spin_model_checksum(model);
    wo.inputs = inputs, wo.n_inputs = 4; /* -o naming one of them is refused */
    /* SIGTERM/SIGINT remove the temporaries */
    if (cli_signal_install() < 0 || !(wr = cli_writer_open(o.out_fn, o.out_fmt, o.n_threads, &wo))) goto done;
    const char *stats_tmp = NULL; /* --stats is published with the output: both or neither */
    if (o.stats_fn && !(stats_tmp = spin_writer_companion(wr, o.stats_fn))) goto done;

    if (!(eng = spin_engine_init(model, o.n_threads))) goto done;
    int n_hap = tg->n_hap;
    /* P(ALT) at missing typed alleles, for all typed sites of the region */
    size_t nmiss = (size_t)tg->n_typed * n_hap;
    if (!(miss = malloc((nmiss ? nmiss : 1) * sizeof(float))) || !(prob = malloc((size_t)n_hap * sizeof(float))))
        goto oom;
    if (spin_engine_impute_typed_missing(eng, panel, tg, miss) < 0) goto done;

    /* impute windows in blocks and write every panel site of [from, to] in order:
     * untyped sites from the block's results, typed sites with observed alleles */
    size_t max_u = 0;
    for (int i = 0; i < n_win; i++) max_u = (size_t)win[i].n_untyped > max_u ? (size_t)win[i].n_untyped : max_u;
    int blk = BLOCK_WINDOWS * o.n_threads;
    if (!(pblk = calloc((size_t)blk, sizeof(float *))) || !(pbuf = malloc((size_t)blk * max_u * n_hap * sizeof(float) + 1)))
        goto oom;
    for (int i = 0; i < blk; i++) pblk[i] = pbuf + (size_t)i * max_u * n_hap;

    int s = spin_pos_lower_bound(panel->pos, panel->n_site, from); /* next panel site to write */
    int t = 0;                                                       /* next typed site */
    while (t < tg->n_typed && tg->site[t] < s) t++;
    int64_t n_imputed = 0, n_typed_out = 0;
    for (int w0 = 0; w0 < n_win; w0 += blk) {
        int nb = n_win - w0 < blk ? n_win - w0 : blk;
        if (spin_engine_impute(eng, panel, tg, win + w0, nb, pblk) < 0) goto done;
        for (int i = 0; i < nb; i++) {
            const spin_window_t *W = &win[w0 + i];
            for (int j = 0; j < W->n_untyped; j++) {
                int u = W->untyped[j];
                for (; s < u; s++) { /* typed sites before u */
                    if (t < tg->n_typed && tg->site[t] == s) {
                        typed_probs(tg, t, miss + (size_t)t * n_hap, prob);
                        if (write_site(wr, panel, s, 0, prob, n_hap) < 0) goto done;
                        t++, n_typed_out++;
                    }
                }
                if (write_site(wr, panel, u, 1, pblk[i] + (size_t)j * n_hap, n_hap) < 0) goto done;
                s = u + 1, n_imputed++;
            }
        }
    }
    for (; s < panel->n_site && panel->pos[s] <= to; s++) { /* typed sites after the last window */
        if (t < tg->n_typed && tg->site[t] == s) {
            typed_probs(tg, t, miss + (size_t)t * n_hap, prob);
            if (write_site(wr, panel, s, 0, prob, n_hap) < 0) goto done;
            t++, n_typed_out++;
        }
    }
    if (stats_tmp && spin_stats_write_tsv_as(st, stats_tmp, o.stats_fn) < 0) goto done;
    if (cli_writer_close(wr) < 0) {
        wr = NULL;
        goto done;
    }
    wr = NULL;
    spin_stats_log_summary(st);
    spin_engine_log_costs(eng);
    double rss = (double)spin_peakrss() / (1024.0 * 1024.0);
    spin_info("done: %lld sites written (%lld imputed, %lld typed), %d windows, %d target samples; "
              "%.2f s wall, %.2f s CPU, peak RSS %.1f MB",
              (long long)(n_imputed + n_typed_out), (long long)n_imputed, (long long)n_typed_out, n_win,
              tg->n_sample, spin_realtime() - t0, spin_cputime(), rss);
    status = SPIN_EXIT_OK;
    goto done;
oom:
    spin_error("out of memory");
done:
    if (wr) cli_writer_abort(wr);
    spin_engine_destroy(eng);
    free(pblk), free(pbuf), free(miss), free(prob);
    free(win), free(win_store);
    spin_match_stats_destroy(st);
    spin_targets_destroy(tg);
    spin_gmap_destroy(map);
    spin_panel_destroy(panel);
    spin_model_destroy(model);
    free(cmd), free(rchrom), free(rbuf);
    return status;
}
