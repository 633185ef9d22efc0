// SPDX-License-Identifier: GPL-2.0
/*
 * Guest side of the kfunc_raw VM check; runs inside the 6.1 guest as root.
 *
 *   kfunc_raw_test MODULE.ko
 *
 * Proves, without clang or ksc, every step a ksc program calling an @kfunc of its
 * own module goes through: the kfunc is unknown before the module is loaded; the
 * module loads (finit_module) and its BTF appears in /sys/kernel/btf; the kfunc's
 * BTF id is found there with libbpf; an XDP program made of raw instructions with
 * a BPF_PSEUDO_KFUNC_CALL to that id (off = index of the module BTF's fd in
 * fd_array) loads and computes a + b; the module unloads again.
 *
 * Each step prints one line "VMTEST kfunc_raw/<step> PASS" or
 * "VMTEST kfunc_raw/<step> FAIL <reason>", which tests/vm/run.sh turns into the
 * host's PASS/FAIL lines. Diagnostics (verifier logs) go to stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#define MOD_NAME   "ksc_vm_kfunc"
#define KFUNC_NAME "ksc_vm_add"
#define MOD_BTF    "/sys/kernel/btf/" MOD_NAME

static int failures;
static char vlog[64 * 1024];	/* verifier log of the last program load */

static void report(const char *step, const char *fail_fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* fail_fmt NULL means the step passed. */
static void report(const char *step, const char *fail_fmt, ...)
{
	va_list ap;

	if (!fail_fmt) {
		printf("VMTEST kfunc_raw/%s PASS\n", step);
		return;
	}
	failures++;
	printf("VMTEST kfunc_raw/%s FAIL ", step);
	va_start(ap, fail_fmt);
	vprintf(fail_fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn i = { .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
	return i;
}

/*
 * XDP program: return ksc_vm_add(*(u32 *)data, *(u32 *)(data + 4)), or
 * 0xdeadbeef if the packet is shorter than 8 bytes. The call is a kfunc call:
 * src_reg BPF_PSEUDO_KFUNC_CALL, imm the kfunc's BTF id, off the index in
 * fd_array of the BTF object holding that id (0 would mean vmlinux).
 */
static int load_prog(int32_t kfunc_id, int16_t btf_idx, const int *fd_array)
{
	struct bpf_insn prog[] = {
		insn(BPF_LDX | BPF_MEM | BPF_W, 2, 1, offsetof(struct xdp_md, data), 0),
		insn(BPF_LDX | BPF_MEM | BPF_W, 3, 1, offsetof(struct xdp_md, data_end), 0),
		insn(BPF_ALU64 | BPF_MOV | BPF_X, 4, 2, 0, 0),
		insn(BPF_ALU64 | BPF_ADD | BPF_K, 4, 0, 0, 8),
		insn(BPF_JMP | BPF_JGT | BPF_X, 4, 3, 4, 0),	/* to the short-packet exit */
		insn(BPF_LDX | BPF_MEM | BPF_W, 1, 2, 0, 0),
		insn(BPF_LDX | BPF_MEM | BPF_W, 2, 2, 4, 0),
		insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, btf_idx, kfunc_id),
		insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		insn(BPF_ALU | BPF_MOV | BPF_K, 0, 0, 0, (int32_t)0xdeadbeef),
		insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .fd_array = fd_array,
		    .log_buf = vlog,
		    .log_size = sizeof(vlog),
		    .log_level = 1);

	vlog[0] = 0;
	return bpf_prog_load(BPF_PROG_TYPE_XDP, "ksc_vm_add_t", "GPL", prog,
			     sizeof(prog) / sizeof(prog[0]), &opts);
}

/* The last non-empty line of the verifier log: the verifier's reason. */
static const char *vlog_reason(void)
{
	static char line[256];
	size_t n = strlen(vlog);
	const char *start;

	while (n && vlog[n - 1] == '\n')
		n--;
	start = vlog + n;
	while (start > vlog && start[-1] != '\n')
		start--;
	snprintf(line, sizeof(line), "%.*s", (int)(vlog + n - start), start);
	return line;
}

/*
 * A kernel BTF object's fd by name ("vmlinux" or a module), as libbpf finds
 * module BTFs for __ksym externs: walk all BTF ids and ask each for its name.
 */
static int kernel_btf_fd(const char *name)
{
	uint32_t id = 0;

	while (!bpf_btf_get_next_id(id, &id)) {
		char got[64] = "";
		struct bpf_btf_info info = { 0 };
		uint32_t len = sizeof(info);
		int fd = bpf_btf_get_fd_by_id(id);

		if (fd < 0)
			continue;	/* freed meanwhile */
		info.name = (uintptr_t)got;
		info.name_len = sizeof(got);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.kernel_btf &&
		    !strcmp(got, name))
			return fd;
		close(fd);
	}
	return -ENOENT;
}

/* Before the module is loaded nothing resolves the kfunc, and the kernel
 * refuses a kfunc call to a function no kfunc set allows. */
static void step_unloaded_rejected(struct btf *vmlinux)
{
	int other, fd;

	if (!access(MOD_BTF, F_OK))
		return report("unloaded_rejected", "%s exists before the module is loaded", MOD_BTF);
	if (btf__find_by_name_kind(vmlinux, KFUNC_NAME, BTF_KIND_FUNC) > 0)
		return report("unloaded_rejected", "vmlinux BTF already has %s", KFUNC_NAME);
	/* The nearest loadable stand-in for "a call to ksc_vm_add": the same program
	 * calling a vmlinux function that is in BTF but is no XDP kfunc. */
	other = btf__find_by_name_kind(vmlinux, "kfree", BTF_KIND_FUNC);
	if (other <= 0)
		return report("unloaded_rejected", "kfree not found in vmlinux BTF");
	fd = load_prog(other, 0, NULL);
	if (fd >= 0) {
		close(fd);
		return report("unloaded_rejected", "kernel loaded a call to a non-kfunc");
	}
	if (!strstr(vlog, "is not allowed")) {
		fprintf(stderr, "verifier log:\n%s\n", vlog);
		return report("unloaded_rejected", "unexpected rejection (errno %d): %s",
			      errno, vlog_reason());
	}
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
		report("module_load", "module loaded but %s missing: no module BTF", MOD_BTF);
		return -1;
	}
	report("module_load", NULL);
	return 0;
}

/* The kfunc's id in the module's split BTF and the fd of that BTF object. */
static int step_btf_resolve(struct btf *vmlinux, int *kfunc_id, int *btf_fd)
{
	struct btf *mod = btf__load_module_btf(MOD_NAME, vmlinux);
	const struct btf_type *t, *proto;
	int id;

	if (!mod) {
		report("btf_resolve", "btf__load_module_btf(%s): %s", MOD_NAME, strerror(errno));
		return -1;
	}
	id = btf__find_by_name_kind(mod, KFUNC_NAME, BTF_KIND_FUNC);
	if (id <= 0) {
		btf__free(mod);
		report("btf_resolve", "%s not in %s", KFUNC_NAME, MOD_BTF);
		return -1;
	}
	/* Module ids continue after vmlinux's: an id below that is not ours. */
	if ((uint32_t)id < btf__type_cnt(vmlinux)) {
		btf__free(mod);
		report("btf_resolve", "id %d is a vmlinux id", id);
		return -1;
	}
	t = btf__type_by_id(mod, id);
	proto = btf__type_by_id(mod, t->type);
	if (!proto || !btf_is_func_proto(proto) || btf_vlen(proto) != 2) {
		btf__free(mod);
		report("btf_resolve", "%s does not have the prototype u32 (u32, u32)", KFUNC_NAME);
		return -1;
	}
	btf__free(mod);
	*btf_fd = kernel_btf_fd(MOD_NAME);
	if (*btf_fd < 0) {
		report("btf_resolve", "no kernel BTF object named %s", MOD_NAME);
		return -1;
	}
	*kfunc_id = id;
	fprintf(stderr, "kfunc_raw: %s is BTF id %d in %s\n", KFUNC_NAME, id, MOD_BTF);
	report("btf_resolve", NULL);
	return 0;
}

static void step_prog_run(int kfunc_id, int btf_fd)
{
	static const uint32_t cases[][2] = {
		{ 40, 2 }, { 123456789, 987654321 }, { 0xffffffffu, 1 }, { 0, 0 },
	};
	/* fd_array[0] stays unused: off 0 in a kfunc call means vmlinux. */
	int fd_array[2] = { -1, btf_fd };
	int fd = load_prog(kfunc_id, 1, fd_array);
	size_t i;

	if (fd < 0) {
		fprintf(stderr, "verifier log:\n%s\n", vlog);
		return report("prog_run", "load failed (errno %d): %s", errno, vlog_reason());
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t pkt[64] = { 0 };	/* XDP test runs need at least ETH_HLEN bytes */
		uint32_t want = cases[i][0] + cases[i][1];
		LIBBPF_OPTS(bpf_test_run_opts, run,
			    .data_in = pkt,
			    .data_size_in = sizeof(pkt),
			    .repeat = 1);

		memcpy(pkt, &cases[i][0], 4);
		memcpy(pkt + 4, &cases[i][1], 4);
		if (bpf_prog_test_run_opts(fd, &run)) {
			close(fd);
			return report("prog_run", "test run: %s", strerror(errno));
		}
		if (run.retval != want) {
			close(fd);
			return report("prog_run", "ksc_vm_add(%u, %u) returned %u, want %u",
				      cases[i][0], cases[i][1], run.retval, want);
		}
	}
	close(fd);
	report("prog_run", NULL);
}

static void step_module_unload(void)
{
	int tries;

	/* A program that called the kfunc holds a module reference until it is
	 * freed, which the kernel does asynchronously after the last close. */
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

int main(int argc, char **argv)
{
	struct btf *vmlinux;
	int kfunc_id = 0, btf_fd = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: %s MODULE.ko\n", argv[0]);
		return 2;
	}
	libbpf_set_print(libbpf_print);
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		report("unloaded_rejected", "cannot read vmlinux BTF: %s", strerror(errno));
		return 1;
	}
	step_unloaded_rejected(vmlinux);
	if (step_module_load(argv[1])) {
		report("btf_resolve", "not run: module_load failed");
		report("prog_run", "not run: module_load failed");
		report("module_unload", "not run: module_load failed");
	} else {
		if (step_btf_resolve(vmlinux, &kfunc_id, &btf_fd))
			report("prog_run", "not run: btf_resolve failed");
		else
			step_prog_run(kfunc_id, btf_fd);
		if (btf_fd >= 0)
			close(btf_fd);
		step_module_unload();
	}
	btf__free(vmlinux);
	return failures ? 1 : 0;
}
