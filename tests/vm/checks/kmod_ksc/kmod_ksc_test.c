// SPDX-License-Identifier: GPL-2.0
/*
 * Guest side of the kmod_ksc VM check; runs inside the 6.1 guest as root.
 *
 *   kmod_ksc_test OBJECT.bpf.o MODULE.ko
 *
 * Both files come from build/ksc and kmod_ksc.ks: the object's XDP program
 * kmod_prog calls the @kfuncs ksc_vm_mix and ksc_vm_limit of the module. Steps,
 * each reported as "VMTEST kmod_ksc/<step> PASS" or "... FAIL <reason>":
 *   unloaded_rejected  without the module, libbpf refuses the object, naming the
 *                      kfunc it cannot find (the message a user would see)
 *   module_load        finit_module, and the module's BTF appears
 *   prog_run           the object loads; BPF_PROG_TEST_RUN returns ksc_vm_mix(a, b)
 *                      as computed in the module (expected values computed here)
 *   throw              ksc_vm_limit's throw reaches the program's catch
 *   printk             the module's print() is in the kernel log
 *   module_unload      delete_module once the program is gone
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define MOD_NAME "kmod_ksc_kmod"
#define MOD_BTF  "/sys/kernel/btf/" MOD_NAME
#define PROG     "kmod_prog"

static int failures;
static char libbpf_log[64 * 1024];	/* libbpf's messages since the last reset */

static void report(const char *step, const char *fail_fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* fail_fmt NULL means the step passed. */
static void report(const char *step, const char *fail_fmt, ...)
{
	va_list ap;

	if (!fail_fmt) {
		printf("VMTEST kmod_ksc/%s PASS\n", step);
		return;
	}
	failures++;
	printf("VMTEST kmod_ksc/%s FAIL ", step);
	va_start(ap, fail_fmt);
	vprintf(fail_fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Keeps libbpf's warnings (to check the refusal's wording) and shows them. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	size_t n = strlen(libbpf_log);
	va_list copy;

	if (level == LIBBPF_DEBUG)
		return 0;
	va_copy(copy, ap);
	if (n < sizeof(libbpf_log) - 1)
		vsnprintf(libbpf_log + n, sizeof(libbpf_log) - n, fmt, copy);
	va_end(copy);
	return vfprintf(stderr, fmt, ap);
}

/* ksc_vm_mix of kmod_ksc.ks, as the module should compute it. */
static uint32_t expect_mix(uint32_t a, uint32_t b)
{
	uint32_t sum = a;
	int i;

	for (i = 0; i < 4; i++)
		sum = sum * 31 + ((b >> (i * 8)) & 0xff);
	return b == 0xdead ? 0xfee1 : sum ^ b;
}

static struct bpf_object *open_obj(const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);

	if (!obj)
		fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
	return obj;
}

static void step_unloaded_rejected(const char *path)
{
	struct bpf_object *obj = open_obj(path);
	int err;

	if (!obj)
		return report("unloaded_rejected", "cannot open %s", path);
	if (!access(MOD_BTF, F_OK)) {
		bpf_object__close(obj);
		return report("unloaded_rejected", "%s exists before the module is loaded", MOD_BTF);
	}
	libbpf_log[0] = 0;
	err = bpf_object__load(obj);
	bpf_object__close(obj);
	if (!err)
		return report("unloaded_rejected", "the object loaded without the module");
	if (!strstr(libbpf_log, "'ksc_vm_mix'") && !strstr(libbpf_log, "'ksc_vm_limit'"))
		return report("unloaded_rejected", "refused (%d), but libbpf's message names no kfunc", err);
	if (!strstr(libbpf_log, "not found in kernel or module BTFs"))
		return report("unloaded_rejected", "refused (%d) for another reason", err);
	fprintf(stderr, "kmod_ksc: refused as expected (%s)\n", strerror(-err));
	report("unloaded_rejected", NULL);
}

static int step_module_load(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		report("module_load", "open %s: %s", path, strerror(errno));
		return -1;
	}
	if (syscall(SYS_finit_module, fd, "", 0)) {
		report("module_load", "finit_module %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (access(MOD_BTF, R_OK)) {
		report("module_load", "module loaded but %s is missing: no module BTF", MOD_BTF);
		return -1;
	}
	report("module_load", NULL);
	return 0;
}

/* One test run on a 64-byte packet starting with words w[0..2]. */
static int run(int prog_fd, const uint32_t w[3], uint32_t *ret)
{
	uint8_t pkt[64] = { 0 };	/* XDP test runs need at least ETH_HLEN bytes */
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = 1);

	memcpy(pkt, w, 3 * sizeof(w[0]));
	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -errno;
	*ret = opts.retval;
	return 0;
}

static void step_prog_run(int prog_fd)
{
	static const uint32_t cases[][2] = {
		{ 1, 2 }, { 40, 0x01020304 }, { 0xffffffffu, 0xffffffffu }, { 7, 0xdead }, { 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t w[3] = { cases[i][0], cases[i][1], 0 }, got, want = expect_mix(w[0], w[1]);
		int err = run(prog_fd, w, &got);

		if (err)
			return report("prog_run", "test run: %s", strerror(-err));
		if (got != want)
			return report("prog_run", "ksc_vm_mix(%u, %#x) returned %u, want %u", w[0], w[1], got,
				      want);
	}
	report("prog_run", NULL);
}

/* kmod_prog: try { return ksc_vm_limit(x) } catch 42 { return 4242 }, and
 * ksc_vm_limit throws 42 for x > 1000. */
static void step_throw(int prog_fd)
{
	static const uint32_t cases[][2] = { { 5, 6 }, { 1000, 1001 }, { 1001, 4242 }, { 99999, 4242 } };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t w[3] = { cases[i][0], 0, 1 }, got;
		int err = run(prog_fd, w, &got);

		if (err)
			return report("throw", "test run: %s", strerror(-err));
		if (got != cases[i][1])
			return report("throw", "ksc_vm_limit(%u) gave %u, want %u", w[0], got, cases[i][1]);
	}
	report("throw", NULL);
}

/* The line print() made for ksc_vm_mix(1, 2) in prog_run. */
static void step_printk(void)
{
	char want[64], rec[1024];
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ssize_t n;

	snprintf(want, sizeof(want), "ksc_vm_mix(1, 2) = %u", expect_mix(1, 2));
	if (fd < 0)
		return report("printk", "open /dev/kmsg: %s", strerror(errno));
	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue;	/* EPIPE: records overwritten meanwhile */
		rec[n] = 0;
		/* "6,seq,ts,-;text": level 6 is KERN_INFO */
		if (strstr(rec, want) && rec[0] == '6') {
			close(fd);
			return report("printk", NULL);
		}
	}
	close(fd);
	report("printk", "no KERN_INFO line \"%s\" in the kernel log", want);
}

static void step_module_unload(void)
{
	int tries;

	/* A program that called a kfunc holds a module reference until the
	 * kernel frees it, asynchronously after the last close. */
	for (tries = 0; tries < 50; tries++) {
		if (!syscall(SYS_delete_module, MOD_NAME, O_NONBLOCK))
			break;
		if (errno != EAGAIN && errno != EBUSY && errno != EWOULDBLOCK)
			return report("module_unload", "delete_module: %s", strerror(errno));
		usleep(100 * 1000);
	}
	if (tries == 50)
		return report("module_unload", "module still in use after 5 s");
	if (!access(MOD_BTF, F_OK))
		return report("module_unload", "%s still present after unload", MOD_BTF);
	report("module_unload", NULL);
}

static void loaded_steps(const char *obj_path)
{
	struct bpf_object *obj = open_obj(obj_path);
	struct bpf_program *prog = obj ? bpf_object__find_program_by_name(obj, PROG) : NULL;
	int err;

	if (!prog) {
		report("prog_run", "no program %s in %s", PROG, obj_path);
		report("throw", "not run: no program");
	} else if ((err = bpf_object__load(obj))) {
		report("prog_run", "the object does not load with the module: %s", strerror(-err));
		report("throw", "not run: the object does not load");
	} else {
		step_prog_run(bpf_program__fd(prog));
		step_throw(bpf_program__fd(prog));
	}
	bpf_object__close(obj);
	step_printk();
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 3) {
		fprintf(stderr, "usage: %s OBJECT.bpf.o MODULE.ko\n", argv[0]);
		return 2;
	}
	libbpf_set_print(libbpf_print);
	step_unloaded_rejected(argv[1]);
	if (step_module_load(argv[2])) {
		report("prog_run", "not run: module_load failed");
		report("throw", "not run: module_load failed");
		report("printk", "not run: module_load failed");
		report("module_unload", "not run: module_load failed");
		return 1;
	}
	loaded_steps(argv[1]);
	step_module_unload();
	return failures ? 1 : 0;
}
