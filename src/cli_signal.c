/* cli_signal.c -- SIGINT/SIGTERM/SIGHUP during a run: remove the temporary
 * output files, then die of the same signal (exit status 128+signal).
 *
 * The handler is the CLI's, not the library's: the library only offers the
 * async-signal-safe spin_writer_unlink_temps. While cli_writer_open, _close
 * or _abort run (they create or free the writer), a signal only records
 * itself: the calling thread blocks the signals, and a handler running on
 * another thread (OpenMP or BGZF workers do not block them) sees `busy` and
 * leaves the writer alone; the signal is re-raised once the writer is open,
 * closed or removed. */
#include <signal.h>
#include <string.h>

#include "cli.h"
#include "writer.h"

static spin_writer_t *volatile tracked;
static volatile sig_atomic_t busy, pending; /* busy: the writer is being opened, closed or freed */

static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
#define N_SIGS ((int)(sizeof(sigs) / sizeof(sigs[0])))

static void on_signal(int sig)
{
    if (busy) {
        pending = sig;
        return;
    }
    spin_writer_unlink_temps(tracked);
    /* die of the signal itself, so the parent sees it (shells report 128+sig) */
    signal(sig, SIG_DFL);
    raise(sig);
}

static void block(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < N_SIGS; i++) sigaddset(&set, sigs[i]);
    sigprocmask(SIG_BLOCK, &set, old);
}

int cli_signal_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < N_SIGS; i++) sigaddset(&sa.sa_mask, sigs[i]);
    for (int i = 0; i < N_SIGS; i++) {
        struct sigaction prev;
        /* keep an inherited "ignore" (nohup): the user asked not to be stopped by it */
        if (sigaction(sigs[i], NULL, &prev) == 0 && prev.sa_handler == SIG_IGN) continue;
        if (sigaction(sigs[i], &sa, NULL) != 0) return -1;
    }
    return 0;
}

/* While the writer is being opened, closed or removed, a signal is only
 * recorded; afterwards the temporaries still tracked are removed and the
 * signal is re-raised. */
static void end_busy(const sigset_t *old)
{
    busy = 0;
    sigprocmask(SIG_SETMASK, old, NULL); /* a signal blocked meanwhile is delivered here */
    if (pending) {
        spin_writer_unlink_temps(tracked);
        signal(pending, SIG_DFL);
        raise(pending);
    }
}

spin_writer_t *cli_writer_open(const char *fn, char fmt, int n_threads, const spin_writer_opt_t *opt)
{
    sigset_t old;
    block(&old);
    busy = 1;
    spin_writer_t *w = spin_writer_open(fn, fmt, n_threads, opt);
    tracked = w;
    end_busy(&old);
    return w;
}

int cli_writer_close(spin_writer_t *w)
{
    sigset_t old;
    block(&old);
    busy = 1;
    int ret = spin_writer_close(w);
    tracked = NULL;
    end_busy(&old);
    return ret;
}

void cli_writer_abort(spin_writer_t *w)
{
    sigset_t old;
    block(&old);
    busy = 1;
    spin_writer_abort(w);
    tracked = NULL;
    end_busy(&old);
}
