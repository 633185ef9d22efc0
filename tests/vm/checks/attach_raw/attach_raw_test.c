// SPDX-License-Identifier: GPL-2.0
/*
 * Guest side of the attach_raw VM check: fentry and kprobe programs, which this
 * project's host kernel cannot run, load, attach, fire and detach in the guest.
 * Built from raw instructions and libbpf's low-level API only (no clang, no ksc),
 * so that a later failure of a ksc-compiled fentry or kprobe program in the guest
 * is known to be ksc's, not the test bed's.
 *
 * Both programs count calls of __x64_sys_getpgid in an array map; the test calls
 * getpgid() N times while attached and once more after detaching. Prints
 * "VMTEST attach_raw/<kind> PASS|FAIL <reason>" per kind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>

#define TARGET "__x64_sys_getpgid"	/* in vmlinux BTF; getpgid() always enters it */
#define CALLS  5

static int failures;
static char vlog[64 * 1024];

static void report(const char *step, const char *fail_fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void report(const char *step, const char *fail_fmt, ...)
{
	va_list ap;

	if (!fail_fmt) {
		printf("VMTEST attach_raw/%s PASS\n", step);
		return;
	}
	failures++;
	printf("VMTEST attach_raw/%s FAIL ", step);
	va_start(ap, fail_fmt);
	vprintf(fail_fmt, ap);
	va_end(ap);
	putchar('\n');
}

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn i = { .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
	return i;
}

/* Loads "count[0] += 1; return 0" as the given program type. */
static int load_counter(enum bpf_prog_type type, enum bpf_attach_type attach, uint32_t btf_id,
			int map_fd)
{
	struct bpf_insn prog[] = {
		insn(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0),		/* key = 0 */
		insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0),
		insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4),
		insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map_fd),
		insn(0, 0, 0, 0, 0),
		insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
		insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 2, 0),		/* NULL: skip */
		insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1),
		insn(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_0, BPF_REG_1, 0, BPF_ADD),
		insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
		insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = attach,
		    .attach_btf_id = btf_id,
		    .log_buf = vlog,
		    .log_size = sizeof(vlog),
		    .log_level = 1);
	int fd;

	vlog[0] = 0;
	fd = bpf_prog_load(type, "ksc_vm_count", "GPL", prog, sizeof(prog) / sizeof(prog[0]),
			   &opts);
	if (fd < 0)
		fprintf(stderr, "verifier log:\n%s\n", vlog);
	return fd;
}

static uint64_t count(int map_fd)
{
	uint32_t key = 0;
	uint64_t v = 0;

	bpf_map_lookup_elem(map_fd, &key, &v);
	return v;
}

/*
 * Calls getpgid CALLS times while attached (link_fd from attach()), then once
 * after closing the link, and checks the counter saw exactly the first CALLS.
 */
static void exercise(const char *kind, int map_fd, int link_fd)
{
	uint64_t before = count(map_fd), during, after;
	int i;

	for (i = 0; i < CALLS; i++)
		syscall(SYS_getpgid, 0);
	during = count(map_fd) - before;
	close(link_fd);
	syscall(SYS_getpgid, 0);
	after = count(map_fd) - before;
	if (during != CALLS)
		return report(kind, "counted %llu calls of " TARGET ", want %d",
			      (unsigned long long)during, CALLS);
	if (after != during)
		return report(kind, "still counting after detach");
	report(kind, NULL);
}

static void test_fentry(struct btf *vmlinux, int map_fd)
{
	int id = btf__find_by_name_kind(vmlinux, TARGET, BTF_KIND_FUNC);
	int prog, link;

	if (id <= 0)
		return report("fentry", TARGET " not in vmlinux BTF");
	prog = load_counter(BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, id, map_fd);
	if (prog < 0)
		return report("fentry", "load: %s", strerror(errno));
	link = bpf_link_create(prog, 0, BPF_TRACE_FENTRY, NULL);
	if (link < 0) {
		close(prog);
		return report("fentry", "attach: %s", strerror(errno));
	}
	exercise("fentry", map_fd, link);
	close(prog);
}

/* A kprobe through the perf "kprobe" PMU, with the program attached by a BPF
 * link (BPF_PERF_EVENT), which is what libbpf does on 6.1. */
static void test_kprobe(int map_fd)
{
	struct perf_event_attr attr = { 0 };
	char buf[32] = "";
	int type_fd, pmu_type, pfd, prog, link;

	type_fd = open("/sys/bus/event_source/devices/kprobe/type", O_RDONLY);
	if (type_fd < 0 || read(type_fd, buf, sizeof(buf) - 1) <= 0) {
		if (type_fd >= 0)
			close(type_fd);
		return report("kprobe", "no kprobe PMU in /sys/bus/event_source/devices");
	}
	close(type_fd);
	pmu_type = atoi(buf);

	prog = load_counter(BPF_PROG_TYPE_KPROBE, 0, 0, map_fd);
	if (prog < 0)
		return report("kprobe", "load: %s", strerror(errno));
	attr.size = sizeof(attr);
	attr.type = pmu_type;
	attr.config1 = (uintptr_t)TARGET;	/* kprobe_func */
	attr.config2 = 0;			/* probe_offset */
	pfd = syscall(SYS_perf_event_open, &attr, -1 /* any pid */, 0 /* cpu */, -1,
		      PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0) {
		close(prog);
		return report("kprobe", "perf_event_open(kprobe " TARGET "): %s", strerror(errno));
	}
	link = bpf_link_create(prog, pfd, BPF_PERF_EVENT, NULL);
	if (link < 0) {
		close(pfd);
		close(prog);
		return report("kprobe", "attach: %s", strerror(errno));
	}
	exercise("kprobe", map_fd, link);
	close(pfd);
	close(prog);
}

int main(void)
{
	struct btf *vmlinux;
	int map_fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	vmlinux = btf__load_vmlinux_btf();
	map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ksc_vm_count", 4, 8, 1, NULL);
	if (!vmlinux || map_fd < 0) {
		report("fentry", "setup: vmlinux BTF or map creation failed: %s", strerror(errno));
		report("kprobe", "not run: setup failed");
		return 1;
	}
	test_fentry(vmlinux, map_fd);
	test_kprobe(map_fd);
	btf__free(vmlinux);
	close(map_fd);
	return failures ? 1 : 0;
}
