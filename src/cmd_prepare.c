/* cmd_prepare.c -- `spin-impute prepare REF -o PANEL`: writes a prepared panel
 * (panelfile.h); `--check` loads a panel (prepared or VCF/BCF) as a run would
 * and reports what it holds and how long loading took; `--header` prints a
 * prepared panel's stored VCF header. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <htslib/kstring.h>
#include <htslib/vcf.h>

#include "cli.h"
#include "panelfile.h"

#define DEF_LEVEL 6 /* zlib's default: level 9 saves ~1% here at twice the time */

static void usage(FILE *fp)
{
    fprintf(fp,
            "\nUsage: spin-impute prepare [options] -o PANEL.spanel REF\n"
            "       spin-impute prepare --check [-r CHR:FROM-TO] PANEL\n"
            "       spin-impute prepare --header PANEL\n\n"
            "Writes the phased reference panel REF (VCF, VCF.gz or BCF; every contig of its index,\n"
            "or its one contig without an index) as a prepared panel: sites, alleles, IDs, REF-only\n"
            "records and bit-packed or sparse haplotypes in CRC-checked zlib blocks with a region\n"
            "index. Give PANEL.spanel wherever a run takes REF (impute, chunk, train, the workflow):\n"
            "the output is the same as with REF, and it loads without parsing genotypes. It holds\n"
            "no model state and no genetic map: it serves every model and --map.\n\n"
            "Options:\n"
            "  -o, --output FILE   prepared panel to write (written to a temporary, renamed when complete)\n"
            "  -l, --level INT     zlib compression level, 1 (fast) to 9 (small) [%d]\n"
            "  -t, --threads INT   BGZF decompression threads for reading REF [1]\n"
            "      --check         load PANEL (prepared, or VCF/BCF) as a run would, verifying every block\n"
            "                      read, and print per contig: file, format, contig, haplotypes, sites,\n"
            "                      records, REF-only records, load seconds (TSV); writes nothing\n"
            "  -r, --region REG    with --check: load only CHR or CHR:FROM-TO\n"
            "      --header        print the VCF header stored in prepared PANEL\n"
            "  -q, --quiet         only errors on stderr\n"
            "  -h, --help          this help\n\n",
            DEF_LEVEL);
}

/* Loads fn (region may be NULL) and prints one TSV row; 0 or -1. */
static int check_one(const char *fn, const char *region, int prepared, int n_threads)
{
    double t0 = spin_realtime();
    spin_panel_t *p = spin_panel_read(fn, region, n_threads);
    double dt = spin_realtime() - t0;
    if (!p) return -1;
    long long n_rec = (long long)(p->n_rec_snp + p->n_rec_indel + p->n_rec_other + p->n_rec_multi);
    int rc = printf("%s\t%s\t%s\t%d\t%d\t%lld\t%d\t%.4f\n", fn, prepared ? "prepared" : "vcf", p->chrom, p->n_hap,
                    p->n_site, n_rec, p->n_mono, dt);
    spin_panel_destroy(p);
    return rc < 0 ? -1 : 0;
}

static int run_check(const char *fn, const char *region, int n_threads)
{
    int prepared = spin_panelfile_detect(fn);
    if (printf("#file\tformat\tcontig\thaplotypes\tsites\trecords\tref_only\tload_s\n") < 0) return -1;
    if (region || !prepared) return check_one(fn, region, prepared, n_threads);
    char **names = NULL;
    int n = 0, ret = spin_panelfile_contigs(fn, &names, &n);
    char reg[1024];
    for (int i = 0; i < n && ret == 0; ++i) {
        /* "NAME:1-": the last colon ends the name */
        if (n > 1) snprintf(reg, sizeof(reg), "%s:1-", names[i]);
        ret = check_one(fn, n > 1 ? reg : NULL, prepared, n_threads);
    }
    for (int i = 0; i < n; ++i) free(names[i]);
    free(names);
    return ret;
}

static int run_header(const char *fn)
{
    bcf_hdr_t *h = spin_panelfile_detect(fn) ? spin_panelfile_header(fn) : NULL;
    if (!h) {
        spin_error("'%s' is not a readable prepared panel (run `spin-impute prepare --check %s` to see why)", fn, fn);
        return -1;
    }
    kstring_t s = {0, 0, NULL};
    int ret = bcf_hdr_format(h, 0, &s) < 0 || fwrite(s.s, 1, s.l, stdout) != s.l ? -1 : 0;
    free(s.s);
    bcf_hdr_destroy(h);
    return ret;
}

enum { OPT_CHECK = 256, OPT_HEADER };

int main_prepare(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"output", required_argument, 0, 'o'}, {"level", required_argument, 0, 'l'},
        {"threads", required_argument, 0, 't'}, {"check", no_argument, 0, OPT_CHECK},
        {"region", required_argument, 0, 'r'}, {"header", no_argument, 0, OPT_HEADER},
        {"quiet", no_argument, 0, 'q'},        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *out = NULL, *region = NULL;
    int c, check = 0, header = 0;
    long level = DEF_LEVEL, n_threads = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:l:t:r:qh", lopts, NULL)) >= 0) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'l':
            if (cli_parse_long(optarg, "prepare", "--level", 1, 9, &level) < 0) goto usage_err;
            break;
        case 't':
            if (cli_parse_long(optarg, "prepare", "--threads", 1, 1024, &n_threads) < 0) goto usage_err;
            break;
        case 'r': region = optarg; break;
        case OPT_CHECK: check = 1; break;
        case OPT_HEADER: header = 1; break;
        case 'q': spin_verbose = SPIN_LOG_ERROR; break;
        case 'h': usage(stdout); return SPIN_EXIT_OK;
        default: goto usage_err;
        }
    }
    if (argc - optind != 1) {
        spin_error("expected one input file (got %d)", argc - optind);
        goto usage_err;
    }
    const char *in = argv[optind];
    if (check + header + (out != NULL) != 1) {
        spin_error("give exactly one of -o FILE, --check and --header");
        goto usage_err;
    }
    if (region && !check) {
        spin_error("--region goes with --check (a prepared panel holds every contig of REF; runs take -r)");
        goto usage_err;
    }
    if (check || header) {
        int rc = check ? run_check(in, region, (int)n_threads) : run_header(in);
        if (rc == 0 && fflush(stdout) != 0) {
            spin_error("cannot write to stdout");
            rc = -1;
        }
        return rc == 0 ? SPIN_EXIT_OK : SPIN_EXIT_ERROR;
    }
    spin_panelfile_info_t info;
    double t0 = spin_realtime();
    if (spin_panelfile_write(in, out, (int)n_threads, (int)level, &info) < 0) return SPIN_EXIT_ERROR;
    spin_info("wrote %s: %d contig(s), %lld sites (%lld as minor-allele lists), %lld REF-only records, %lld blocks, "
              "%lld bytes (%.1f%% of the %lld-byte bit matrix) in %.2f s",
              out, info.n_contig, (long long)info.n_site, (long long)info.n_sparse, (long long)info.n_mono,
              (long long)info.n_block, (long long)info.bytes,
              info.raw_bits ? 100.0 * (double)info.bytes / ((double)info.raw_bits / 8) : 0.0,
              (long long)(info.raw_bits / 8), spin_realtime() - t0);
    return SPIN_EXIT_OK;
usage_err:
    fprintf(stderr, "Try 'spin-impute prepare --help'.\n");
    return SPIN_EXIT_USAGE;
}
