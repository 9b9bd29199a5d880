/* check_util.h -- shared runner for the Check unit-test programs. */
#ifndef SPIN_CHECK_UTIL_H
#define SPIN_CHECK_UTIL_H

#include <check.h>
#include <stdlib.h>

/* Runs every test of s; the exit status make check reads. */
static inline int spin_check_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
