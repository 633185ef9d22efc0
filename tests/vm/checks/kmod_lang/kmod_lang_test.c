// SPDX-License-Identifier: GPL-2.0
/*
 * Guest side of the kmod_lang VM check; runs inside the 6.1 guest as root.
 *
 *   kmod_lang_test OBJECT.bpf.o MODULE.ko
 *
 * Loads the module ksc generated for kmod_lang.ks, then the object, whose XDP
 * program runs @kfunc number w[0] on (w[1], w[2]) and returns its u32 result.
 * For each kfunc, every input pair below is run under BPF_PROG_TEST_RUN and the
 * result compared with the model here, which follows LANGUAGE.md's rules (not
 * C's). Prints "VMTEST kmod_lang/<kfunc> PASS|FAIL <reason>".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define MOD_NAME "kmod_lang_kmod"

static int failures;

static void report(const char *step, const char *fail_fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void report(const char *step, const char *fail_fmt, ...)
{
	va_list ap;

	if (!fail_fmt) {
		printf("VMTEST kmod_lang/%s PASS\n", step);
		return;
	}
	failures++;
	printf("VMTEST kmod_lang/%s FAIL ", step);
	va_start(ap, fail_fmt);
	vprintf(fail_fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

/* ---- the model: kmod_lang.ks's kfuncs under the language's rules ---------- */

static uint32_t m_small(uint32_t a, uint32_t b)
{
	uint8_t x = a, y = b;
	uint8_t s = x + y, m = x * y, d = x - y, n = ~x;
	bool lt = (uint16_t)(int8_t)b < (uint16_t)a;	/* i8 -1 against a u16 reads as 65535 */

	return s | (uint32_t)m << 8 | (uint32_t)d << 16 | (((uint32_t)n << 24) ^ lt);
}

static uint32_t m_div(uint32_t a, uint32_t b)
{
	int32_t sa = (int32_t)a, sb = (int32_t)b;
	uint32_t q = b ? a / b : 0, r = b ? a % b : a;
	/* x / 0 == 0, x % 0 == x; MIN / -1 wraps to MIN, MIN % -1 is 0 */
	int32_t sq = !sb ? 0 : sb == -1 ? (int32_t)(0u - (uint32_t)sa) : sa / sb;
	int32_t sr = !sb ? sa : sb == -1 ? 0 : sa % sb;
	uint32_t sh = (a << (b & 31)) ^ (a >> ((b + 1) & 31));
	uint8_t small = (uint8_t)((uint8_t)a << ((uint8_t)b & 7));	/* counts modulo the width */

	return q + r * 3 + (uint32_t)sq * 5 + (uint32_t)sr * 7 + sh + small;
}

static uint32_t m_str(uint32_t a, uint32_t b)
{
	char g[16];
	uint32_t score;

	snprintf(g, sizeof(g), "hi %s%s", a > 5 ? "world" : "you", b > 1 ? "!" : "");
	score = !strcmp(g, "hi you") ? 1 : !strcmp(g, "hi world") ? 2 : !strcmp(g, "hi world!") ? 3 : 4;
	return score * 100 + (uint32_t)strlen(g) * 2 + !strcmp(g, "hi you!") + 80 * 1000 + 3 * 10000;
}

static uint32_t m_struct(uint32_t a, uint32_t b)
{
	uint16_t lo = a;
	uint64_t qhi = (uint64_t)b * 2 + lo;
	uint32_t sum = a * 1 + b * 2 + 3 * 3 + 4 * 7;

	return (uint32_t)qhi + sum + 1000000 + b;
}

static uint32_t m_flow(uint32_t a, uint32_t b)
{
	uint32_t total = a % 3 == 0 ? 300 : a % 5 == 0 ? 500 : a + 1;
	uint32_t log = b % 2 ? 521 : 51;
	uint32_t j = b;

	total += (a % 2 ? 1000 : 1) + 17 * 10;	/* guarded(): its defer runs on the throw too */
	total += 1 + 3 + 5 + 7 + 9 + 11 + 13 + 15 + 17 + 19;
	while (j > 100)
		j /= 2;
	return total + j + log * 100000;
}

static uint32_t m_abi(uint32_t a, uint32_t b)
{
	uint32_t take = (uint16_t)((uint16_t)a + 1) + b * 3 + 3 * 1000 + 'p' * 100000;
	uint32_t make = (uint16_t)(b & 0xffff) + (uint32_t)((uint64_t)b << 8);

	return take + make + 7;
}

/* ---- running them -------------------------------------------------------- */

static const struct { const char *name; uint32_t (*model)(uint32_t, uint32_t); } kfuncs[] = {
	{ "small", m_small }, { "div", m_div }, { "str", m_str }, { "struct", m_struct }, { "flow", m_flow },
	{ "abi", m_abi },
};

static const uint32_t inputs[][2] = {
	{ 0, 0 }, { 7, 0 }, { 0, 7 }, { 1, 2 }, { 6, 2 }, { 3, 1 }, { 255, 1 }, { 200, 100 },
	{ 100, 7 }, { 10, 40 }, { 9, 33 }, { 12345, 3 }, { 25, 1000 }, { 0x80000000u, 0xffffffffu },
	{ 0xffffffffu, 0xffffffffu }, { 0xfffffff9u, 5 }, { 0x7fffffffu, 0x80000000u }, { 77, 250 },
};

static void check_kfunc(int prog_fd, uint32_t sel)
{
	size_t i;

	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		uint32_t w[3] = { sel, inputs[i][0], inputs[i][1] };
		uint32_t want = kfuncs[sel].model(w[1], w[2]);
		uint8_t pkt[64] = { 0 };	/* XDP test runs need at least ETH_HLEN bytes */
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt),
			    .repeat = 1);

		memcpy(pkt, w, sizeof(w));
		if (bpf_prog_test_run_opts(prog_fd, &opts))
			return report(kfuncs[sel].name, "test run: %s", strerror(errno));
		if (opts.retval != want)
			return report(kfuncs[sel].name, "k_%s(%#x, %#x) returned %u, the model %u", kfuncs[sel].name,
				      w[1], w[2], opts.retval, want);
	}
	report(kfuncs[sel].name, NULL);
}

static void fail_all(const char *fmt, const char *what)
{
	size_t i;

	for (i = 0; i < sizeof(kfuncs) / sizeof(kfuncs[0]); i++)
		report(kfuncs[i].name, fmt, what);
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	int fd;
	uint32_t sel;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 3) {
		fprintf(stderr, "usage: %s OBJECT.bpf.o MODULE.ko\n", argv[0]);
		return 2;
	}
	libbpf_set_print(libbpf_print);
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || syscall(SYS_finit_module, fd, "", 0)) {
		fail_all("module %s does not load", argv[2]);
		return 1;
	}
	close(fd);
	obj = bpf_object__open_file(argv[1], NULL);
	prog = obj ? bpf_object__find_program_by_name(obj, "kmod_lang") : NULL;
	if (!prog || bpf_object__load(obj)) {
		fail_all("object %s does not open or load", argv[1]);
		bpf_object__close(obj);
		return 1;
	}
	for (sel = 0; sel < sizeof(kfuncs) / sizeof(kfuncs[0]); sel++)
		check_kfunc(bpf_program__fd(prog), sel);
	bpf_object__close(obj);
	return failures ? 1 : 0;
}
