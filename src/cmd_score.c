/* cmd_score.c -- `spin-impute score`: options and exit codes only (see score.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "score.h"
#include "switcherr.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "\nUsage: spin-impute score --truth TRUTH.vcf.gz [options] IMPUTED.vcf.gz\n\n"
            "Scores imputed dosages (DS, else HDS, else GP, else GT) against true genotypes.\n"
            "Records match by chromosome, position and alleles (REF/ALT swaps handled),\n"
            "samples by name. Each ALT of a multi-allelic record is its own site (truth: copies\n"
            "of that ALT; imputed: its DS value), matched by REF and that ALT exactly. r2 is also\n"
            "reported by class: SNP, indel, symbolic/other, multi-allelic ALT. Only imputed sites\n"
            "are scored: INFO IMP (Beagle, spin-impute), IMPUTED without TYPED (Minimac4), or\n"
            "the sites given with --sites.\n\n"
            "Options:\n"
            "  -t, --truth FILE     true phased or unphased genotypes (GT) [required]\n"
            "  -s, --sites FILE     score exactly these sites: 'CHROM POS [REF ALT]' lines or a VCF\n"
            "  -a, --af-from FILE   panel VCF/BCF for MAF bins (INFO AC/AN, else GT) [MAF of truth]\n"
            "  -b, --bins LIST      MAF bin edges [%s]\n"
            "  -o, --tsv FILE       also write machine-readable TSV (SN/BIN/CLASS lines) to FILE\n"
            "  -w, --switch         score phase instead: switch error rate per sample and pooled, switches\n"
            "                       between consecutive phased heterozygotes of TRUTH / (sites - 1)\n"
            "  -q, --quiet          no table on stdout\n"
            "  -h, --help           this help\n\n",
            SPIN_SCORE_DEFAULT_BINS);
}

/* --switch: the table on stdout (and the same lines to --tsv FILE) */
static int score_switch(const char *truth, const char *phased, const char *tsv, int quiet)
{
    spin_switch_t s;
    if (spin_switch_files(truth, phased, &s) < 0) return SPIN_EXIT_ERROR;
    int ret = SPIN_EXIT_ERROR;
    if (tsv) {
        FILE *fp = fopen(tsv, "w");
        if (!fp) {
            spin_error("cannot write '%s'", tsv);
            goto end;
        }
        int w = spin_switch_write(&s, fp);
        if (fclose(fp) != 0 || w < 0) {
            spin_error("error writing '%s' (disk full?)", tsv);
            goto end;
        }
    }
    if (!quiet && (spin_switch_write(&s, stdout) < 0 || fflush(stdout) != 0)) {
        spin_error("error writing to stdout");
        goto end;
    }
    ret = SPIN_EXIT_OK;
end:
    spin_switch_destroy(&s);
    return ret;
}

int main_score(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"truth", required_argument, NULL, 't'}, {"sites", required_argument, NULL, 's'},
        {"af-from", required_argument, NULL, 'a'}, {"bins", required_argument, NULL, 'b'},
        {"tsv", required_argument, NULL, 'o'},     {"quiet", no_argument, NULL, 'q'},
        {"switch", no_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    spin_score_files_t f = {0};
    const char *bins = NULL, *tsv = NULL;
    int c, quiet = 0, sw = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:s:a:b:o:qwh", lopts, NULL)) >= 0) {
        switch (c) {
        case 't': f.truth = optarg; break;
        case 's': f.sites = optarg; break;
        case 'a': f.af_from = optarg; break;
        case 'b': bins = optarg; break;
        case 'o': tsv = optarg; break;
        case 'q': quiet = 1; break;
        case 'w': sw = 1; break;
        case 'h': usage(stdout); return SPIN_EXIT_OK;
        default: usage(stderr); return SPIN_EXIT_USAGE;
        }
    }
    if (!f.truth || optind + 1 != argc) {
        if (!f.truth) spin_error("--truth is required");
        else spin_error("give exactly one imputed file");
        usage(stderr);
        return SPIN_EXIT_USAGE;
    }
    f.imputed = argv[optind];
    if (sw) return score_switch(f.truth, f.imputed, tsv, quiet);
    spin_score_t *s = spin_score_init(bins);
    if (!s) return bins ? SPIN_EXIT_USAGE : SPIN_EXIT_ERROR;
    int ret = SPIN_EXIT_ERROR;
    if (spin_score_files(s, &f) < 0) goto end;
    if (s->n_site == 0)
        spin_warn("no site was scored: are the imputed sites flagged (IMP/IMPUTED), or is --sites right?");
    if (tsv) {
        FILE *fp = fopen(tsv, "w");
        if (!fp) {
            spin_error("cannot write '%s'", tsv);
            goto end;
        }
        int w = spin_score_write_tsv(s, &f, fp);
        if (fclose(fp) != 0 || w < 0) {
            spin_error("error writing '%s' (disk full?)", tsv);
            goto end;
        }
    }
    if (!quiet && (spin_score_write_table(s, &f, stdout) < 0 || fflush(stdout) != 0)) {
        spin_error("error writing to stdout");
        goto end;
    }
    ret = SPIN_EXIT_OK;
end:
    spin_score_destroy(s);
    return ret;
}
