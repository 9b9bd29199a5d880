/* check_util.h -- shared runner for the Check unit-test programs. */
#ifndef SPIN_CHECK_UTIL_H
#define SPIN_CHECK_UTIL_H

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

/* splitmix64: the tests' reproducible, platform-independent random stream. */
static inline uint64_t spin_check_splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

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
