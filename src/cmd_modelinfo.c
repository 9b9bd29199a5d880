/* cmd_modelinfo.c -- `spin-impute model-info FILE`: settings, size, checksum
 * and training provenance of a model file, on stdout. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include <zlib.h>

#include "cli.h"
#include "model.h"

static void usage(FILE *fp)
{
    fprintf(fp, "\nUsage: spin-impute model-info [options] MODEL.spin\n\n"
                "Prints a model file's settings, parameter count, checksum (CRC32, as written\n"
                "into imputed VCF headers) and training provenance. The file is fully\n"
                "verified (magic, version, size, CRC32, tensor shapes).\n\n"
                "Options:\n"
                "  -h, --help   this help\n\n");
}

int main_modelinfo(int argc, char **argv)
{
    static const struct option lopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) >= 0) {
        switch (c) {
        case 'h': usage(stdout); return SPIN_EXIT_OK;
        default: usage(stderr); return SPIN_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        spin_error("give exactly one model file");
        usage(stderr);
        return SPIN_EXIT_USAGE;
    }
    const char *fn = argv[optind];
    spin_model_t *m = spin_model_load(fn);
    if (!m) return SPIN_EXIT_ERROR;
    const spin_config_t *g = spin_model_config(m);
    const spin_provenance_t *p = spin_model_provenance(m);
    printf("file\t%s\n", fn);
    printf("checksum\t%s\n", spin_model_checksum(m));
    printf("parameters\t%" PRId64 "\n", spin_model_n_params(m));
    /* CRC32 of the weights alone: equal for models trained identically whatever
     * their provenance strings (command line, file names) */
    printf("weights_crc32\t%08lx\n",
           (unsigned long)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)m->w, (uInt)(m->n_params * sizeof(float))));
    printf("e\t%d\nheads\t%d\nk\t%d\nh\t%d\nL\t%d\nffn\t%d\n", g->e, g->heads, g->k, g->h, g->L, g->ffn);
    printf("w\t%d\nc\t%d\nK\t%d\nenc_rows\t%d\nhmm\t%d\nseg\t%d\npbwt_p\t%d\n", g->w, g->c, g->K, g->enc_rows, g->hmm,
           g->seg, g->pbwt_p);
    printf("train_command\t%s\n", p->command && *p->command ? p->command : ".");
    printf("train_data\t%s\n", p->data && *p->data ? p->data : ".");
    printf("train_seed\t%" PRIu64 "\n", p->seed);
    printf("train_steps\t%" PRId64 "\n", p->steps);
    /* train stores the measured time (0: a model from before that, printed "."); in
     * ms, since a short run (tests, tiny panels) takes well under 0.1 s */
    if (p->wall_s > 0) printf("train_wall_s\t%.3f\n", p->wall_s);
    else printf("train_wall_s\t.\n");
    spin_model_destroy(m);
    if (fflush(stdout) != 0) {
        spin_error("cannot write to stdout");
        return SPIN_EXIT_ERROR;
    }
    return SPIN_EXIT_OK;
}
