// SPDX-License-Identifier: GPL-2.0
/*
 * Guest side of the probes_ksc VM check; runs inside the 6.1 guest as root.
 *
 *   probes_ksc_test OBJECT.bpf.o
 *
 * The object is build/ksc's compilation of probes_ksc.ks: an fentry program
 * on_getpgid (section fentry/__x64_sys_getpgid) counting every call in counts[0]
 * and the calls whose saved first argument is MAGIC in counts[1], and a kprobe
 * program in_getpgid (kprobe/__x64_sys_getpgid+5) counting calls in counts[2].
 * While both are attached this program calls getpgid(MAGIC) CALLS times; the
 * counts must grow by exactly that, and not at all after the links are gone.
 * Prints "VMTEST probes_ksc/<step> PASS|FAIL <reason>" for load, fentry, kprobe.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define MAGIC 4242	/* as in probes_ksc.ks; no such process: getpgid fails, after the probes */
#define CALLS 7

static int failures;

static void report(const char *step, const char *fail_fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void report(const char *step, const char *fail_fmt, ...)
{
	va_list ap;

	if (!fail_fmt) {
		printf("VMTEST probes_ksc/%s PASS\n", step);
		return;
	}
	failures++;
	printf("VMTEST probes_ksc/%s FAIL ", step);
	va_start(ap, fail_fmt);
	vprintf(fail_fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

static void read_counts(int map_fd, uint64_t c[3])
{
	uint32_t k;

	for (k = 0; k < 3; k++) {
		c[k] = 0;
		bpf_map_lookup_elem(map_fd, &k, &c[k]);
	}
}

/* Attaches both programs, makes the calls, detaches, makes one more. */
static void exercise(struct bpf_program *fentry, struct bpf_program *kprobe, int map_fd)
{
	struct bpf_link *lf = bpf_program__attach(fentry), *lk = bpf_program__attach(kprobe);
	uint64_t before[3], during[3], after[3];
	int i;

	if (!lf || !lk) {
		if (!lf)
			report("fentry", "attach: %s", strerror(errno));
		if (!lk)
			report("kprobe", "attach: %s", strerror(errno));
		bpf_link__destroy(lf);
		bpf_link__destroy(lk);
		if (lf)
			report("fentry", "not run: the kprobe did not attach");
		if (lk)
			report("kprobe", "not run: the fentry probe did not attach");
		return;
	}
	read_counts(map_fd, before);
	for (i = 0; i < CALLS; i++)
		syscall(SYS_getpgid, MAGIC);
	read_counts(map_fd, during);
	bpf_link__destroy(lf);
	bpf_link__destroy(lk);
	syscall(SYS_getpgid, MAGIC);
	read_counts(map_fd, after);
	for (i = 0; i < 3; i++) {
		during[i] -= before[i];
		after[i] -= before[i];
	}
	fprintf(stderr, "probes_ksc: fentry all %llu, fentry magic %llu, kprobe %llu\n",
		(unsigned long long)during[0], (unsigned long long)during[1], (unsigned long long)during[2]);
	if (during[0] < CALLS || during[1] != CALLS)
		report("fentry", "counted %llu calls with argument %d (%llu in all), want %d",
		       (unsigned long long)during[1], MAGIC, (unsigned long long)during[0], CALLS);
	else if (after[1] != during[1])
		report("fentry", "still counting after detach");
	else
		report("fentry", NULL);
	if (during[2] != during[0])
		report("kprobe", "counted %llu calls, the fentry probe %llu", (unsigned long long)during[2],
		       (unsigned long long)during[0]);
	else if (after[2] != during[2])
		report("kprobe", "still counting after detach");
	else
		report("kprobe", NULL);
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *fentry, *kprobe;
	struct bpf_map *counts;
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: %s OBJECT.bpf.o\n", argv[0]);
		return 2;
	}
	libbpf_set_print(libbpf_print);
	obj = bpf_object__open_file(argv[1], NULL);
	fentry = obj ? bpf_object__find_program_by_name(obj, "on_getpgid") : NULL;
	kprobe = obj ? bpf_object__find_program_by_name(obj, "in_getpgid") : NULL;
	counts = obj ? bpf_object__find_map_by_name(obj, "counts") : NULL;
	if (!fentry || !kprobe || !counts) {
		report("load", "cannot open %s, or it lacks on_getpgid, in_getpgid or counts", argv[1]);
	} else if ((err = bpf_object__load(obj))) {
		report("load", "%s", strerror(-err));
	} else {
		report("load", NULL);
		exercise(fentry, kprobe, bpf_map__fd(counts));
		bpf_object__close(obj);
		return failures ? 1 : 0;
	}
	report("fentry", "not run: load failed");
	report("kprobe", "not run: load failed");
	bpf_object__close(obj);
	return 1;
}
