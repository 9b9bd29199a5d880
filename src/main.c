/* main.c -- spin-impute command dispatch (bcftools style: a table of commands).
 * `spin-impute REF TARGET` without a subcommand means `impute`, so the one-line
 * usage of the README works. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*func)(int, char **);
    const char *help;
} commands[] = {
    {"impute", main_impute, "impute the untyped panel records of targets (unphased ones phased first) from a phased panel (default)"},
    {"train", main_train, "train a SPIN model on a phased panel"},
    {"score", main_score, "score imputed dosages (r2 by MAF bin) or phase (switch error) against the truth"},
    {"chunk", main_chunk, "cut a contig into imputation chunks made of whole model windows"},
    {"prepare", main_prepare, "write a reference panel as a prepared panel file that loads fast (any run takes it as REF)"},
    {"model-info", main_modelinfo, "print a model file's settings and provenance"},
};
#define N_COMMANDS ((int)(sizeof(commands) / sizeof(commands[0])))

static void usage(FILE *fp)
{
    fprintf(fp, "\nProgram: spin-impute (genotype imputation with Semi-Parametric Inducing Point Networks)\n"
                "Version: %s\n\n"
                "Usage:   spin-impute [impute] [options] REF.bcf TARGET.vcf.gz > OUT.vcf.gz\n"
                "         spin-impute <command> [options]\n\n"
                "Commands:\n", spin_version());
    for (int i = 0; i < N_COMMANDS; i++) fprintf(fp, "  %-11s %s\n", commands[i].name, commands[i].help);
    fprintf(fp, "\nOptions of impute (the default command):\n");
    cli_impute_options(fp);
    fprintf(fp, "\nRun `spin-impute <command> -h` for a command's options; see man spin-impute(1).\n\n");
}

int main(int argc, char *argv[])
{
    /* the parallelism is ours (OpenMP over windows and rows): BLAS runs on the
     * calling thread. Process-wide, so set here by the program, not by libspin. */
    spin_blas_set_num_threads(1);
    if (argc < 2) {
        usage(stderr);
        return SPIN_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return SPIN_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("spin-impute %s\n", spin_version());
        return SPIN_EXIT_OK;
    }
    for (int i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].func(argc - 1, argv + 1);
    /* no subcommand: everything is an impute invocation */
    return main_impute(argc, argv);
}
