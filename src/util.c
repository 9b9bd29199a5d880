/* util.c -- logging, timers, peak RSS and version string. */
#include "config.h"
#include <sys/stat.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

#include "spin.h"

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
