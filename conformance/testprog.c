/* Test program for the conformance images: a tiny static "service" whose
 * behaviour comes from environment variables baked into each image
 * (conformance/images.txt):
 *
 *   START_DELAY_MS  wait this long before being "up" (creating /healthy)
 *   HEALTHY         1 (default): create /healthy when up, so the health
 *                   command `test -e /healthy` passes; 0: never create it
 *   EXIT_AFTER_MS   exit this long after start (default: run until stopped)
 *   EXIT_CODE       code for that exit (default 1)
 *   STOP_DELAY_MS   on SIGTERM, wait this long before exiting (default 0)
 *   TERM_EXIT_CODE  exit code after SIGTERM (default 0); non-zero makes a
 *                   container stopped for being unhealthy a failed task
 *                   rather than a completed one
 *
 * It runs as PID 1 in its container, where the kernel ignores SIGTERM
 * unless a handler is installed, so it installs one.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

static volatile sig_atomic_t got_term = 0;

static void on_term(int sig) { (void)sig; got_term = 1; }

static long env_ms(const char *name, long dflt) {
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') return dflt;
    return strtol(v, NULL, 10);
}

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL); /* a signal cuts it short; callers loop */
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    long start_delay = env_ms("START_DELAY_MS", 0);
    long healthy = env_ms("HEALTHY", 1);
    long exit_after = env_ms("EXIT_AFTER_MS", -1);
    long exit_code = env_ms("EXIT_CODE", 1);
    long stop_delay = env_ms("STOP_DELAY_MS", 0);
    long term_exit_code = env_ms("TERM_EXIT_CODE", 0);
    const char *version = getenv("VERSION");

    long t0 = now_ms();
    int up = 0;
    printf("testprog %s: start_delay=%ld healthy=%ld exit_after=%ld exit_code=%ld stop_delay=%ld\n",
           version ? version : "-", start_delay, healthy, exit_after, exit_code, stop_delay);
    fflush(stdout);
    for (;;) {
        long t = now_ms() - t0;
        if (got_term) {
            long until = now_ms() + stop_delay;
            while (now_ms() < until) sleep_ms(until - now_ms());
            printf("testprog: stopped\n");
            return (int)term_exit_code;
        }
        if (exit_after >= 0 && t >= exit_after) {
            printf("testprog: exiting with %ld\n", exit_code);
            return (int)exit_code;
        }
        if (!up && t >= start_delay) {
            up = 1;
            if (healthy) {
                int fd = open("/healthy", O_CREAT | O_WRONLY, 0644);
                if (fd >= 0) close(fd);
            }
            printf("testprog: up\n");
            fflush(stdout);
        }
        sleep_ms(20);
    }
}
