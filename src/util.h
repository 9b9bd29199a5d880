/* util.h -- generic helpers of libspin with no domain knowledge (util.c). */
#ifndef SPIN_UTIL_H
#define SPIN_UTIL_H

#include <stdint.h>

/* Index of the first element >= x in the ascending a[0..n) (n if none). */
int spin_pos_lower_bound(const int64_t *a, int n, int64_t x);
int spin_int_lower_bound(const int *a, int n, int x);

/* Bits set in x. Branch-free SWAR count: the portable build (no -march) has no
 * POPCNT instruction and __builtin_popcountll becomes a libgcc call. */
static inline int spin_popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (int)((x * 0x0101010101010101ULL) >> 56);
}

#endif
