/* cli.h -- subcommand entry points of the spin-impute CLI.
 * Each returns the process exit status: 0 success, 1 data/runtime error,
 * 2 usage error. Only the CLI turns library errors into exit codes. */
#ifndef SPIN_CLI_H
#define SPIN_CLI_H

#include "spin.h"

#define SPIN_EXIT_OK 0
#define SPIN_EXIT_ERROR 1
#define SPIN_EXIT_USAGE 2

int main_impute(int argc, char **argv);
int main_train(int argc, char **argv);
int main_score(int argc, char **argv);
int main_modelinfo(int argc, char **argv);
int main_chunk(int argc, char **argv);

/* Validated numbers for options: the whole string must parse and lie in [lo, hi];
 * otherwise "[E::cmd] OPT expects ..." on stderr and -1 (a usage error). */
int cli_parse_long(const char *s, const char *cmd, const char *opt, long lo, long hi, long *out);
int cli_parse_double(const char *s, const char *cmd, const char *opt, double lo, double hi, double *out);

/* "spin-impute" followed by argv joined with spaces (for provenance headers); caller frees. */
char *cli_command_line(int argc, char **argv);
/* The installed default model path: $SPIN_IMPUTE_MODEL if set, else SPIN_PKGDATADIR/default.spin. */
const char *cli_default_model(void);

/* cli_signal.c: on SIGINT/SIGTERM/SIGHUP remove the tracked writer's
 * temporary files, then die of the signal (status 128+sig). Track a writer
 * right after spin_writer_open; close or abort it with cli_writer_*. */
struct spin_writer_s;
int cli_signal_install(void);
void cli_signal_track(struct spin_writer_s *w);
int cli_writer_close(struct spin_writer_s *w);
void cli_writer_abort(struct spin_writer_s *w);

#endif
