/* util.c -- logging, timers, peak RSS, version string, BLAS thread control and
 * small generic helpers (no I/O beyond stderr messages). */
#include "config.h"
#include <sys/stat.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

#include "spin.h"
#include "util.h"

#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
/* OpenBLAS declares it in its own cblas.h only; declared here so that the
 * configure check, not the header, decides. */
void openblas_set_num_threads(int num_threads);
#endif

int spin_verbose = SPIN_LOG_INFO;

void spin_log(int level, const char *func, const char *fmt, ...)
{
    if (level > spin_verbose || !fmt) return;
    char tag = level <= SPIN_LOG_ERROR ? 'E' : level == SPIN_LOG_WARN ? 'W' : level == SPIN_LOG_INFO ? 'M' : 'D';
    va_list ap;
    fprintf(stderr, "[%c::%s] ", tag, func ? func : "spin");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    /* messages are single lines; add the newline unless the caller did */
    size_t n = strlen(fmt);
    if (n == 0 || fmt[n - 1] != '\n') fputc('\n', stderr);
}

const char *spin_version(void) { return PACKAGE_VERSION; }

double spin_realtime(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0.0;
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

double spin_cputime(void)
{
    struct rusage r;
    if (getrusage(RUSAGE_SELF, &r) != 0) return 0.0;
    return r.ru_utime.tv_sec + r.ru_stime.tv_sec + 1e-6 * (r.ru_utime.tv_usec + r.ru_stime.tv_usec);
}

long spin_peakrss(void)
{
    struct rusage r;
    if (getrusage(RUSAGE_SELF, &r) != 0) return -1;
#ifdef __APPLE__
    return (long)r.ru_maxrss; /* bytes on macOS */
#else
    return (long)r.ru_maxrss * 1024L; /* KiB on Linux */
#endif
}

/* mkstemp creates 0600 files; a finished output should get the mode a plain
 * fopen would give it (0666 minus the umask). umask() can only be read by
 * setting it, so it is set and restored at once. */
int spin_fchmod_default(int fd)
{
    mode_t mask = umask(022);
    umask(mask);
    return fchmod(fd, 0666 & ~mask);
}

int spin_blas_set_num_threads(int n)
{
#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
    openblas_set_num_threads(n < 1 ? 1 : n);
    return 0;
#else
    (void)n;
    return -1;
#endif
}

int spin_pos_lower_bound(const int64_t *a, int n, int64_t x)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (a[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

int spin_int_lower_bound(const int *a, int n, int x)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (a[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}
