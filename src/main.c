/* main.c -- spin-impute command dispatch (bcftools style: a table of commands).
 * `spin-impute REF TARGET` without a subcommand means `impute`, so the one-line
 * usage of the README works. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*func)(int, char **);
    const char *help;
} commands[] = {
    {"impute", main_impute, "impute untyped SNPs of phased targets from a phased panel (default)"},
    {"train", main_train, "train a SPIN model on a phased panel"},
    {"score", main_score, "score imputed dosages against true genotypes (r2 by MAF bin)"},
    {"chunk", main_chunk, "cut a contig into imputation chunks made of whole model windows"},
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
    fprintf(fp, "\nRun `spin-impute <command> -h` for a command's options; see man spin-impute(1).\n\n");
}

int cli_parse_long(const char *s, const char *cmd, const char *opt, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "[E::%s] %s expects an integer in [%ld, %ld], got '%s'\n", cmd, opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_double(const char *s, const char *cmd, const char *opt, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "[E::%s] %s expects a number in [%g, %g], got '%s'\n", cmd, opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

char *cli_command_line(int argc, char **argv)
{
    size_t len = 12;
    for (int i = 0; i < argc; i++) len += strlen(argv[i]) + 1;
    char *s = malloc(len);
    if (!s) return NULL;
    strcpy(s, "spin-impute");
    /* argv[0] is the program itself when no subcommand was named ("./spin-impute
     * ref target"): "spin-impute" stands for it, so it is not repeated */
    const char *b0 = argc > 0 ? strrchr(argv[0], '/') : NULL;
    b0 = b0 ? b0 + 1 : argc > 0 ? argv[0] : "";
    for (int i = strncmp(b0, "spin-impute", 11) == 0 ? 1 : 0; i < argc; i++) {
        strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

/* $SPIN_IMPUTE_MODEL, else the installed model, else (an uninstalled build
 * run from its build tree, as in the README's first command) model/default.spin
 * next to the executable. The installed path is returned when none exists, so
 * the error names where the model should be. */
const char *cli_default_model(void)
{
    static char buf[4096];
    const char *env = getenv("SPIN_IMPUTE_MODEL");
    if (env && *env) return env;
    const char *inst = SPIN_PKGDATADIR "/default.spin";
    if (access(inst, R_OK) == 0) return inst;
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 32);
    if (n > 0) {
        buf[n] = 0;
        char *slash = strrchr(buf, '/');
        if (slash) {
            strcpy(slash + 1, "model/default.spin");
            if (access(buf, R_OK) == 0) return buf;
        }
    }
    return inst;
}

int main(int argc, char *argv[])
{
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
