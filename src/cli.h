/* cli.h -- subcommand entry points of the spin-impute CLI.
 * Each returns the process exit status: 0 success, 1 data/runtime error,
 * 2 usage error. Only the CLI turns library errors into exit codes. */
#ifndef SPIN_CLI_H
#define SPIN_CLI_H

#include <stdio.h>

#include "spin.h"

#define SPIN_EXIT_OK 0
#define SPIN_EXIT_ERROR 1
#define SPIN_EXIT_USAGE 2

int main_impute(int argc, char **argv);
int main_train(int argc, char **argv);
int main_score(int argc, char **argv);
int main_modelinfo(int argc, char **argv);
int main_chunk(int argc, char **argv);
int main_prepare(int argc, char **argv);
/* impute's option list (cmd_impute.c), for `spin-impute --help` too */
void cli_impute_options(FILE *fp);

/* Validated numbers for options: the whole string must parse and lie in [lo, hi];
 * otherwise "[E::cmd] OPT expects ..." on stderr and -1 (a usage error). */
int cli_parse_long(const char *s, const char *cmd, const char *opt, long lo, long hi, long *out);
int cli_parse_double(const char *s, const char *cmd, const char *opt, double lo, double hi, double *out);

/* "spin-impute" followed by argv joined with spaces (for provenance headers); caller frees. */
char *cli_command_line(int argc, char **argv);
/* The installed default model path: $SPIN_IMPUTE_MODEL if set, else SPIN_PKGDATADIR/default.spin. */
const char *cli_default_model(void);

/* cli_signal.c: on SIGINT/SIGTERM/SIGHUP remove the open writer's temporary
 * files, then die of the signal (status 128+sig). Install the handler, then
 * open, close or abort the writer with these (spin_writer_* with signals held). */
#include "writer.h"
int cli_signal_install(void);
spin_writer_t *cli_writer_open(const char *fn, char fmt, int n_threads, const spin_writer_opt_t *opt);
int cli_writer_close(spin_writer_t *w);
void cli_writer_abort(spin_writer_t *w);

#endif
