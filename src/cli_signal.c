/* cli_signal.c -- SIGINT/SIGTERM/SIGHUP during a run: remove the temporary
 * output files, then die of the same signal (exit status 128+signal).
 *
 * The handler is the CLI's, not the library's: the library only offers the
 * async-signal-safe spin_writer_unlink_temps. While cli_writer_close/abort
 * run (they free the writer), a signal only records itself: the calling
 * thread blocks the signals, and a handler running on another thread (OpenMP
 * or BGZF workers do not block them) sees `closing` and leaves the writer
 * alone; the signal is re-raised once the writer is closed or removed. */
#include <signal.h>
#include <string.h>

#include "cli.h"
#include "writer.h"

static spin_writer_t *volatile tracked;
static volatile sig_atomic_t closing, pending;

static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
#define N_SIGS ((int)(sizeof(sigs) / sizeof(sigs[0])))

static void on_signal(int sig)
{
    if (closing) {
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

void cli_signal_track(spin_writer_t *w)
{
    sigset_t old;
    block(&old);
    tracked = w;
    sigprocmask(SIG_SETMASK, &old, NULL);
}

static void end_closing(const sigset_t *old)
{
    tracked = NULL;
    closing = 0;
    sigprocmask(SIG_SETMASK, old, NULL); /* a signal blocked meanwhile is delivered here */
    if (pending) {
        signal(pending, SIG_DFL);
        raise(pending);
    }
}

int cli_writer_close(spin_writer_t *w)
{
    sigset_t old;
    block(&old);
    closing = 1;
    int ret = spin_writer_close(w);
    end_closing(&old);
    return ret;
}

void cli_writer_abort(spin_writer_t *w)
{
    sigset_t old;
    block(&old);
    closing = 1;
    spin_writer_abort(w);
    end_closing(&old);
}
