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

// `relance serve` catches them from its first instant: before Swift's runtime, the
// argument parser, the configuration and the database are up (tens of milliseconds), a
// SIGTERM from systemd or an operator would otherwise kill it by the signal. glibc passes
// the program's arguments to constructors; other commands keep the default action.
__attribute__((constructor)) static void catch_signals_when_serving(int argc, char **argv, char **envp) {
    (void)envp;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') continue;  // an option before the subcommand
        if (strcmp(argv[i], "serve") == 0) relance_catch_early_signals();
        return;
    }
}
