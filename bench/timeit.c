/* timeit: runs a command N times and prints the median wall-clock time,
 * the fastest run, the median CPU time (user + system) and the median peak
 * RSS of the child, measured with fork/exec and wait4 (no shell in between,
 * so a fast compiler is not measured against the cost of starting a shell).
 * CPU time is the steadier figure on a busy machine.
 *
 *   timeit [-n RUNS] [-w WARMUP] -- CMD ARGS...
 *
 * Output: "median_ms=M min_ms=F cpu_ms=C rss_kb=R runs=N". The child's
 * stdout and stderr go to /dev/null; exit status 1 if any run fails. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

/* One run: wall and CPU milliseconds, peak RSS in KiB; -1 on failure. */
static int run_once(char **argv, double *ms, double *cpu, long *rss)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0)
        return -1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    *rss = ru.ru_maxrss;
    *cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    int runs = 11, warmup = 1, opt;
    while ((opt = getopt(argc, argv, "+n:w:")) != -1) {
        switch (opt) {
        case 'n': runs = atoi(optarg); break;
        case 'w': warmup = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: timeit [-n RUNS] [-w WARMUP] -- CMD ARGS...\n");
            return 2;
        }
    }
    if (optind >= argc || runs < 1) {
        fprintf(stderr, "usage: timeit [-n RUNS] [-w WARMUP] -- CMD ARGS...\n");
        return 2;
    }
    char **cmd = argv + optind;
    double *ms = calloc((size_t)runs, sizeof(double)), *cpu = calloc((size_t)runs, sizeof(double));
    long *rss = calloc((size_t)runs, sizeof(long));
    if (!ms || !cpu || !rss)
        return 2;
    for (int i = 0; i < warmup; i++) {
        double m, c;
        long r;
        if (run_once(cmd, &m, &c, &r)) {
            fprintf(stderr, "timeit: %s failed\n", cmd[0]);
            return 1;
        }
    }
    for (int i = 0; i < runs; i++) {
        if (run_once(cmd, &ms[i], &cpu[i], &rss[i])) {
            fprintf(stderr, "timeit: %s failed\n", cmd[0]);
            return 1;
        }
    }
    qsort(ms, (size_t)runs, sizeof(double), cmp_double);
    qsort(cpu, (size_t)runs, sizeof(double), cmp_double);
    qsort(rss, (size_t)runs, sizeof(long), cmp_long);
    printf("median_ms=%.3f min_ms=%.3f cpu_ms=%.3f rss_kb=%ld runs=%d\n", ms[runs / 2], ms[0], cpu[runs / 2],
           rss[runs / 2], runs);
    free(ms);
    free(cpu);
    free(rss);
    return 0;
}
