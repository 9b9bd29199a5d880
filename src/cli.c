/* cli.c -- helpers shared by the subcommands of the spin-impute CLI: validated
 * option numbers, the command line for provenance headers, the default model
 * path. CLI only: the library never sees argv or the environment. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

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
