/* cmd_impute.c -- `spin-impute [impute] REF TARGET`: parses and validates the
 * options, loads the model (so that a missing default model gets its own
 * message) and calls spin_impute_run (impute.c), which does the work.
 * Exit codes: 0 only when every record was written and every stream closed;
 * 1 for data and runtime errors; 2 for usage errors. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "impute.h"

#define DEF_THREADS 1
#define DEF_PROGRESS_EVERY 30 /* s between progress lines in a log */

/* The options of impute, also shown by `spin-impute --help` (main.c): Beagle
 * and Minimac4 users look there first. */
void cli_impute_options(FILE *fp)
{
    fprintf(fp,
            "Output:\n"
            "  -o, --output FILE        write to FILE, atomically [stdout]\n"
            "  -O, --output-type v|z|b|u  VCF, bgzipped VCF, BCF, uncompressed BCF [z, or from -o's extension]\n"
            "  -W, --write-index        write a CSI index next to -o FILE\n"
            "      --gp                 add FORMAT/GP genotype probabilities [off, as Beagle gp=false]\n"
            "      --ap                 add FORMAT/AP1,AP2 per-haplotype ALT dosages [off]\n"
            "      --no-version         omit date, version, command and model lines from the header\n"
            "      --stats FILE         write site-matching statistics and every excluded or recoded site (TSV)\n"
            "      --phase-only         phase TARGET and write it at its typed sites only (no imputation, no model)\n"
            "Model and data:\n"
            "  -m, --model FILE         SPIN model file [installed default model]\n"
            "      --map FILE           genetic map: PLINK (chrom id cM bp) or SHAPEIT5 (pos chr cM) [none: 1 cM/Mb]\n"
            "  -r, --region CHR:FROM-TO impute only this region (indexed inputs)\n"
            "      --buffer INT         bp of typed context read on each side of --region [%d]\n"
            "      --min-match FLOAT    minimum fraction of target sites that must match the panel [%.2f]\n"
            "      --max-panel-mb FLOAT MB of panel haplotypes held at once: a larger contig is imputed in chunks\n"
            "                           of whole windows read by region (same output); needs an indexed or\n"
            "                           prepared REF, else REF is read whole; 0: always whole [%d]\n"
            "Other:\n"
            "  -t, --threads INT        threads for the model, VCF parsing/formatting and BGZF [%d]\n"
            "  -q, --quiet              only errors on stderr (no progress)\n"
            "      --progress-every SEC seconds between progress lines when stderr is not a terminal\n"
            "                           (a terminal gets one line updated in place) [%d]\n"
            "  -h, --help               this help\n"
            "      --version            print the version\n",
            SPIN_DEFAULT_BUFFER, SPIN_MIN_MATCH_FRAC, SPIN_DEFAULT_MAX_PANEL_MB, DEF_THREADS, DEF_PROGRESS_EVERY);
}

static void usage(FILE *fp)
{
    fprintf(fp, "\nUsage: spin-impute [impute] [options] REF TARGET > OUT.vcf.gz\n\n"
                "Imputes the reference sites missing from TARGET samples with a SPIN network.\n"
                "REF: phased reference panel (VCF, VCF.gz or BCF); every record is imputed and written: SNPs,\n"
                "  indels, symbolic (<DEL>), '*' and multi-allelic records (Number=A/G fields per ALT).\n"
                "TARGET: diploid or haploid (male chrX) genotypes (VCF, VCF.gz or BCF), phased, unphased or\n"
                "  partly phased: unphased heterozygotes are phased against REF first (phased ones are kept);\n"
                "  missing alleles are imputed.\n"
                "  Indel, symbolic and multi-allelic records match the panel by identical REF and ALT only:\n"
                "  normalise both files the same way (bcftools norm -f ref.fa).\n\n");
    cli_impute_options(fp);
    fputc('\n', fp);
}

enum { OPT_GP = 256, OPT_AP, OPT_NO_VERSION, OPT_STATS, OPT_MAP, OPT_BUFFER, OPT_MIN_MATCH, OPT_VERSION, OPT_PROGRESS, OPT_PHASE_ONLY, OPT_MAX_PANEL };

/* Progress of a run (spin_impute_opt_t.progress): on a terminal one line
 * redrawn in place (at most every 0.25 s); otherwise, for logs, a line every
 * `every` seconds and at the end. Nothing with -q. */
typedef struct {
    int tty;      /* stderr is a terminal */
    double every; /* s between log lines (not a terminal) */
    double last;  /* elapsed s at the last line drawn or printed */
    int drawn;    /* a terminal line is on screen without its newline */
} progress_t;

/* h:mm:ss: a clock, not "N s", so that log parsers reading "[M::f] ... N s"
 * figures as stage timings (bench/stages.awk) do not take progress for one */
static const char *fmt_secs(char *buf, size_t n, double s)
{
    long t = (long)(s + 0.5);
    snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    return buf;
}

static void show_progress(void *ctx, int64_t done, int64_t total, double elapsed)
{
    progress_t *p = ctx;
    char el[32], eta[32];
    if (spin_verbose < SPIN_LOG_INFO || total <= 0) return;
    int end = done >= total;
    if (p->tty ? !end && p->drawn && elapsed - p->last < 0.25 : !end && (done == 0 || elapsed - p->last < p->every))
        return;
    if (done > 0 && !end) fmt_secs(eta, sizeof(eta), elapsed / (double)done * (double)(total - done));
    else snprintf(eta, sizeof(eta), end ? "0:00:00" : "?");
    fprintf(stderr, "%s[M::impute] %lld/%lld windows imputed (%.0f%%), elapsed %s, ETA %s%s", p->tty ? "\r" : "",
            (long long)done, (long long)total, 100.0 * (double)done / (double)total, fmt_secs(el, sizeof(el), elapsed),
            eta, p->tty ? "\033[K" : "");
    if (!p->tty || end) fputc('\n', stderr);
    fflush(stderr);
    p->drawn = p->tty && !end;
    p->last = elapsed;
}

/* Returns 0 and fills o (REF and TARGET included), or 1 with a usage/help exit
 * status in *status. */
static int parse_args(int argc, char **argv, spin_impute_opt_t *o, int *quiet, double *every, int *status)
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
        {"phase-only", no_argument, 0, OPT_PHASE_ONLY}, {"max-panel-mb", required_argument, 0, OPT_MAX_PANEL},
        {"progress-every", required_argument, 0, OPT_PROGRESS},
        {0, 0, 0, 0}};
    long v;
    int c;
    spin_impute_opt_default(o);
    o->n_threads = DEF_THREADS;
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
        case OPT_PHASE_ONLY: o->phase_only = 1; break;
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
        case OPT_MAX_PANEL:
            if (cli_parse_double(optarg, "impute", "--max-panel-mb", 0.0, 1e9, &o->max_panel_mb) < 0) goto usage_err;
            break;
        case 't':
            if (cli_parse_long(optarg, "impute", "--threads", 1, 1024, &v) < 0) goto usage_err;
            o->n_threads = (int)v;
            break;
        case 'q': *quiet = 1; break;
        case OPT_PROGRESS:
            if (cli_parse_double(optarg, "impute", "--progress-every", 0.0, 1e6, every) < 0) goto usage_err;
            break;
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
    /* binary output on a terminal is garbage on screen (bcftools refuses it too) */
    char fmt = o->out_fmt ? o->out_fmt : 'z';
    if ((!o->out_fn || strcmp(o->out_fn, "-") == 0) && fmt != 'v' && isatty(STDOUT_FILENO)) {
        fprintf(stderr, "[E::impute] refusing to write %s output to a terminal: use -o FILE or -O v\n",
                fmt == 'z' ? "BGZF-compressed" : "BCF (binary)");
        goto usage_err;
    }
    o->ref_fn = argv[optind], o->target_fn = argv[optind + 1];
    return 0;
usage_err:
    fprintf(stderr, "Try 'spin-impute impute --help'.\n");
    *status = SPIN_EXIT_USAGE;
    return 1;
}

int main_impute(int argc, char **argv)
{
    spin_impute_opt_t o;
    int status = SPIN_EXIT_ERROR, quiet = 0;
    progress_t prog = {isatty(STDERR_FILENO), DEF_PROGRESS_EVERY, 0.0, 0};
    if (parse_args(argc, argv, &o, &quiet, &prog.every, &status)) return status;
    if (quiet) spin_verbose = SPIN_LOG_ERROR;
    const char *model_fn = o.model_fn ? o.model_fn : o.phase_only ? NULL : cli_default_model();
    spin_model_t *model = model_fn ? spin_model_load(model_fn) : NULL;
    if (model_fn && !model) {
        if (!o.model_fn)
            spin_error("no usable default model at %s: reinstall spin-impute, or pass --model FILE "
                       "(set SPIN_IMPUTE_MODEL to change the default)", model_fn);
        return SPIN_EXIT_ERROR;
    }
    char *cmd = cli_command_line(argc, argv);
    /* SIGINT/SIGTERM/SIGHUP remove the output's temporaries (cli_signal.c) */
    static const spin_writer_ops_t signal_safe = {cli_writer_open, cli_writer_close, cli_writer_abort};
    if (!cmd) {
        spin_error("out of memory");
    } else if (cli_signal_install() < 0) {
        spin_error("cannot install the signal handlers");
    } else {
        o.model = model, o.model_fn = model_fn, o.command = cmd; /* model_fn: -o must not name it */
        if (!quiet) o.progress = show_progress, o.progress_ctx = &prog;
        int ret = spin_impute_run_ops(&o, &signal_safe);
        if (prog.drawn) fputc('\n', stderr); /* an error ended the run under the progress line */
        status = ret == 0 ? SPIN_EXIT_OK : ret == SPIN_ERR_USAGE ? SPIN_EXIT_USAGE : SPIN_EXIT_ERROR;
    }
    free(cmd);
    spin_model_destroy(model);
    return status;
}
