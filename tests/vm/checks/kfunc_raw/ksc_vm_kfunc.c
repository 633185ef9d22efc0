// SPDX-License-Identifier: GPL-2.0
/*
 * ksc_vm_kfunc: a minimal module exporting one kfunc, ksc_vm_add(a, b) = a + b
 * (u32, wrapping), to XDP programs. It is the hand-written reference for what
 * ksc's kernel-module back end generates for an @kfunc function (LANGUAGE.md
 * section 10) and proves that the VM test bed builds modules with BTF.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/init.h>
#include <linux/module.h>

/*
 * A kfunc is a global function that only BPF programs call, so nothing in C
 * declares it: silence -Wmissing-prototypes the way in-tree kfuncs do. noinline
 * keeps the symbol and its exact signature, which pahole turns into the BTF FUNC
 * that programs reference by id.
 */
__diag_push();
__diag_ignore_all("-Wmissing-prototypes",
		  "kfuncs are called from BPF programs only, no C prototype");

noinline u32 ksc_vm_add(u32 a, u32 b)
{
	return a + b;
}

__diag_pop();

/* The ids are filled in by resolve_btfids when kbuild generates module BTF. */
BTF_SET8_START(ksc_vm_kfunc_ids)
BTF_ID_FLAGS(func, ksc_vm_add)
BTF_SET8_END(ksc_vm_kfunc_ids)

static const struct btf_kfunc_id_set ksc_vm_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &ksc_vm_kfunc_ids,
};

static int __init ksc_vm_kfunc_init(void)
{
	/* One registration per program type allowed to call the kfuncs. */
	return register_btf_kfunc_id_set(BPF_PROG_TYPE_XDP, &ksc_vm_kfunc_set);
}

/* Kfunc sets cannot be unregistered on 6.1; the module BTF (and the set with
 * it) goes away on unload, and a loaded program holds a module reference. */
static void __exit ksc_vm_kfunc_exit(void)
{
}

module_init(ksc_vm_kfunc_init);
module_exit(ksc_vm_kfunc_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ksc VM test bed: kfunc ksc_vm_add for XDP programs");
