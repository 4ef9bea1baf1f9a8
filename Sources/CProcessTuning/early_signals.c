#include "process_tuning.h"
#include <signal.h>
#include <string.h>

// A signal that arrives while the daemon is starting (loading its configuration,
// opening the database, loading the templates) must stop it cleanly, not kill it: the
// handler only remembers it; the service group, once running, is told to shut down.
static volatile sig_atomic_t early_signal = 0;

static void remember(int signal_number) { early_signal = signal_number; }

void relance_catch_early_signals(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = remember;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
}

int relance_early_signal(void) { return early_signal; }
