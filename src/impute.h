/* impute.h -- the imputation run with a say in how its writer is opened and
 * closed (impute.c); programs use spin_impute_run (spin.h). */
#ifndef SPIN_IMPUTE_H
#define SPIN_IMPUTE_H

#include "spin.h"
#include "writer.h"

/* spin_impute_run with the writer opened, closed and aborted through ops
 * (NULL: directly). */
int spin_impute_run_ops(const spin_impute_opt_t *o, const spin_writer_ops_t *ops);

#endif
