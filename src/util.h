/* util.h -- generic helpers of libspin with no domain knowledge (util.c). */
#ifndef SPIN_UTIL_H
#define SPIN_UTIL_H

#include <stdint.h>

/* Index of the first element >= x in the ascending a[0..n) (n if none). */
int spin_pos_lower_bound(const int64_t *a, int n, int64_t x);
int spin_int_lower_bound(const int *a, int n, int x);

#endif
