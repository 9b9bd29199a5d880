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

/* "spin-impute" followed by argv joined with spaces (for provenance headers); caller frees. */
char *cli_command_line(int argc, char **argv);
/* The installed default model path: $SPIN_IMPUTE_MODEL if set, else SPIN_PKGDATADIR/default.spin. */
const char *cli_default_model(void);

#endif
