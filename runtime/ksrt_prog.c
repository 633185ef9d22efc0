/* ksrt: program handles, attach and detach for each program kind, perf
 * events, struct_ops registration, and BPF_PROG_TEST_RUN for @test. */
#include "ksrt.h"

#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/perf_event.h>
#include <net/if.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

struct ks_prog {
    struct ks_prog *next;
    const char *name;
    ks_kind kind;
    bool egress;
    struct bpf_program *prog;
    int fd;
};

typedef enum { KA_XDP, KA_TC, KA_LINK, KA_PERF } ks_att_kind;

/* One attachment. Never freed, so a handle used after detach is caught
 * (live is false) instead of reading freed memory. */
struct ks_att {
    struct ks_att *next;
    ks_prog *prog;                  /* NULL for struct_ops */
    ks_att_kind kind;
    bool live;
    int ifindex;
    uint32_t flags;
    struct bpf_tc_hook hook;
    struct bpf_tc_opts tc;
    bool made_clsact;               /* this attach created the clsact qdisc */
    struct bpf_link *link;
    int perf_fd;
    char what[96];                  /* for messages: "xdp watch on veth0" */
};

static ks_prog *ks_progs;
static struct ks_att *ks_atts;

static const char *ks_kind_name(ks_kind k)
{
    static const char *names[] = { "xdp", "tc", "probe", "tracepoint", "perf_event" };
    return names[k];
}

/* ---- load ------------------------------------------------------------------ */

ks_prog *ks_load(const char *name, ks_kind kind, bool egress)
{
    for (ks_prog *p = ks_progs; p; p = p->next)
        if (!strcmp(p->name, name))
            return p;
    int err = ks_obj_load();
    if (err) {
        fprintf(stderr, "%s: load(%s) failed: %s\n", ks_progname, name, strerror(-err));
        return NULL;
    }
    struct bpf_program *bp = bpf_object__find_program_by_name(ks_obj, name);
    int fd = bp ? bpf_program__fd(bp) : -1;
    if (fd < 0) {
        fprintf(stderr, "%s: load(%s) failed: the object has no such loaded program\n", ks_progname, name);
        return NULL;
    }
    ks_prog *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    *p = (ks_prog){ ks_progs, name, kind, egress, bp, fd };
    ks_progs = p;
    return p;
}

/* ---- attach -------------------------------------------------------------------- */

static struct ks_att *ks_new_att(ks_prog *h, ks_att_kind kind, const char *target)
{
    struct ks_att *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->prog = h;
    a->kind = kind;
    a->perf_fd = -1;
    if (h)
        snprintf(a->what, sizeof a->what, "%s %s%s%s", ks_kind_name(h->kind), h->name, target ? " on " : "",
                 target ? target : "");
    return a;
}

static void ks_record(struct ks_att *a)
{
    ks_lock();
    a->live = true;
    a->next = ks_atts;
    ks_atts = a;
    ks_unlock();
}

static int ks_fail(const char *call, ks_prog *h, const char *target, int err)
{
    fprintf(stderr, "%s: attach(%s, \"%s\"): %s failed: %s\n", ks_progname, h->name, target ? target : "", call,
            strerror(err < 0 ? -err : err));
    return err < 0 ? err : -err;
}

static int ks_ifindex(ks_prog *h, const char *target)
{
    int ifindex = target ? (int)if_nametoindex(target) : 0;
    if (!ifindex) {
        fprintf(stderr, "%s: attach(%s, \"%s\"): no such network interface\n", ks_progname, h->name,
                target ? target : "");
        return -ENODEV;
    }
    return ifindex;
}

static int ks_attach_xdp(ks_prog *h, const char *target, uint32_t flags)
{
    int ifindex = ks_ifindex(h, target);
    if (ifindex < 0)
        return ifindex;
    int err = bpf_xdp_attach(ifindex, h->fd, flags, NULL);
    if (err)
        return ks_fail("bpf_xdp_attach", h, target, err);
    struct ks_att *a = ks_new_att(h, KA_XDP, target);
    if (!a)
        return -ENOMEM;
    a->ifindex = ifindex;
    a->flags = flags;
    ks_record(a);
    return 0;
}

/* tc: a clsact qdisc (created if the interface has none) and a filter on
 * the direction the program's attribute names. */
static int ks_attach_tc(ks_prog *h, const char *target)
{
    int ifindex = ks_ifindex(h, target);
    if (ifindex < 0)
        return ifindex;
    struct ks_att *a = ks_new_att(h, KA_TC, target);
    if (!a)
        return -ENOMEM;
    a->ifindex = ifindex;
    a->hook.sz = sizeof a->hook;
    a->hook.ifindex = ifindex;
    a->hook.attach_point = h->egress ? BPF_TC_EGRESS : BPF_TC_INGRESS;
    int err = bpf_tc_hook_create(&a->hook);
    if (err && err != -EEXIST) {
        free(a);
        return ks_fail("bpf_tc_hook_create", h, target, err);
    }
    a->made_clsact = !err;
    a->tc.sz = sizeof a->tc;
    a->tc.prog_fd = h->fd;
    err = bpf_tc_attach(&a->hook, &a->tc);
    if (err) {
        if (a->made_clsact) {
            a->hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
            bpf_tc_hook_destroy(&a->hook);
        }
        free(a);
        return ks_fail("bpf_tc_attach", h, target, err);
    }
    ks_record(a);
    return 0;
}

/* libbpf finds tracepoint ids in tracefs; mount it where it looks when
 * the system has not. */
static void ks_need_tracefs(void)
{
    struct statfs st;
    if (!access("/sys/kernel/debug/tracing/events", F_OK) || !access("/sys/kernel/tracing/events", F_OK))
        return;
    if (statfs("/sys/kernel/tracing", &st) || st.f_type != TRACEFS_MAGIC)
        if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
            fprintf(stderr, "%s: tracefs is not mounted and cannot be: %s\n", ks_progname, strerror(errno));
}

static int ks_attach_link(ks_prog *h)
{
    if (h->kind == KS_TRACEPOINT)
        ks_need_tracefs();
    struct bpf_link *link = bpf_program__attach(h->prog);
    if (!link)
        return ks_fail("bpf_program__attach", h, NULL, errno);
    struct ks_att *a = ks_new_att(h, KA_LINK, NULL);
    if (!a) {
        bpf_link__destroy(link);
        return -ENOMEM;
    }
    a->link = link;
    ks_record(a);
    return 0;
}

int32_t ks_attach(ks_prog *h, const char *target, uint32_t flags)
{
    if (!h) {
        fprintf(stderr, "%s: attach: the program handle is null (its load failed)\n", ks_progname);
        return -EINVAL;
    }
    switch (h->kind) {
    case KS_XDP: return ks_attach_xdp(h, target, flags);
    case KS_TC: return ks_attach_tc(h, target);
    case KS_PROBE: case KS_TRACEPOINT: return ks_attach_link(h);
    default:
        fprintf(stderr, "%s: attach(%s): a perf_event program attaches with perf_options\n", ks_progname, h->name);
        return -EINVAL;
    }
}

/* ---- detach ---------------------------------------------------------------------- */

static bool ks_other_tc_on(struct ks_att *a)
{
    for (struct ks_att *o = ks_atts; o; o = o->next)
        if (o != a && o->live && o->kind == KA_TC && o->ifindex == a->ifindex)
            return true;
    return false;
}

/* The clsact qdisc goes when the last of our filters on the interface
 * goes, if one of our attaches created it. */
static void ks_drop_clsact(struct ks_att *a)
{
    if (ks_other_tc_on(a))
        return;
    for (struct ks_att *o = ks_atts; o; o = o->next) {
        if (o->kind != KA_TC || o->ifindex != a->ifindex || !o->made_clsact)
            continue;
        o->made_clsact = false;
        struct bpf_tc_hook hook = o->hook;
        hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
        int err = bpf_tc_hook_destroy(&hook);
        if (err && err != -ENOENT && err != -ENODEV)
            fprintf(stderr, "%s: removing the clsact qdisc of %s: %s\n", ks_progname, a->what, strerror(-err));
    }
}

static void ks_detach_one(struct ks_att *a)
{
    int err = 0;
    a->live = false;
    switch (a->kind) {
    case KA_XDP: {
        LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = a->prog->fd);
        err = bpf_xdp_detach(a->ifindex, a->flags & XDP_FLAGS_MODES, &o);
        break;
    }
    case KA_TC: {
        LIBBPF_OPTS(bpf_tc_opts, o, .handle = a->tc.handle, .priority = a->tc.priority);
        err = bpf_tc_detach(&a->hook, &o);
        ks_drop_clsact(a);
        break;
    }
    default:
        err = bpf_link__destroy(a->link);
        a->link = NULL;
        a->perf_fd = -1;
        break;
    }
    /* an interface that is gone took the attachment with it */
    if (err && err != -ENODEV && err != -ENOENT)
        fprintf(stderr, "%s: detaching %s: %s\n", ks_progname, a->what, strerror(-err));
}

void ks_detach(ks_prog *h)
{
    if (!h)
        return;
    ks_lock();
    for (struct ks_att *a = ks_atts; a; a = a->next)
        if (a->live && a->prog == h)
            ks_detach_one(a);
    ks_unlock();
}

/* Called with the lock held; newest first. */
void ks_detach_all(void)
{
    for (struct ks_att *a = ks_atts; a; a = a->next)
        if (a->live)
            ks_detach_one(a);
}

/* ---- perf events ------------------------------------------------------------------------- */

ks_perf *ks_attach_perf(ks_prog *h, uint32_t type, uint64_t config, int32_t pid, int32_t cpu, uint64_t period,
                        uint32_t wakeup, bool inherit, bool exclude_kernel, bool exclude_user)
{
    if (!h) {
        fprintf(stderr, "%s: attach: the program handle is null (its load failed)\n", ks_progname);
        return NULL;
    }
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = type;
    attr.config = config;
    attr.sample_period = period;
    attr.wakeup_events = wakeup;
    attr.inherit = inherit;
    attr.exclude_kernel = exclude_kernel;
    attr.exclude_user = exclude_user;
    int fd = (int)syscall(SYS_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) {
        ks_fail("perf_event_open", h, NULL, errno);
        return NULL;
    }
    struct bpf_link *link = bpf_program__attach_perf_event(h->prog, fd);
    if (!link) {
        ks_fail("bpf_program__attach_perf_event", h, NULL, errno);
        close(fd);
        return NULL;
    }
    struct ks_att *a = ks_new_att(h, KA_PERF, NULL);
    if (!a) {
        bpf_link__destroy(link);
        return NULL;
    }
    a->link = link;
    a->perf_fd = fd;
    ks_record(a);
    return a;
}

int64_t ks_perf_read(ks_perf *a)
{
    uint64_t v;
    if (!a || !a->live || read(a->perf_fd, &v, sizeof v) != (ssize_t)sizeof v)
        return -1;
    return (int64_t)v;
}

void ks_perf_detach(ks_perf *a)
{
    if (!a)
        return;
    ks_lock();
    if (a->live)
        ks_detach_one(a);
    ks_unlock();
}

/* ---- struct_ops -------------------------------------------------------------------------------- */

int32_t ks_register(const char *impl)
{
    int err = ks_obj_load();
    if (err) {
        fprintf(stderr, "%s: register(%s) failed: %s\n", ks_progname, impl, strerror(-err));
        return err;
    }
    struct bpf_map *m = bpf_object__find_map_by_name(ks_obj, impl);
    if (!m) {
        fprintf(stderr, "%s: register(%s): the object has no such struct_ops map\n", ks_progname, impl);
        return -ENOENT;
    }
    struct bpf_link *link = bpf_map__attach_struct_ops(m);
    if (!link) {
        int e = errno;
        fprintf(stderr, "%s: register(%s): bpf_map__attach_struct_ops failed: %s\n", ks_progname, impl, strerror(e));
        return -e;
    }
    struct ks_att *a = ks_new_att(NULL, KA_LINK, NULL);
    if (!a) {
        bpf_link__destroy(link);
        return -ENOMEM;
    }
    snprintf(a->what, sizeof a->what, "struct_ops %s", impl);
    a->link = link;
    ks_record(a);
    return 0;
}

/* ---- BPF_PROG_TEST_RUN ---------------------------------------------------------------------------- */

/* The program's verdict on one input. A failed run throws its errno, so
 * the @test that asked fails with the reason printed. */
uint32_t ks_test_run(const char *prog, const void *data, size_t size)
{
    ks_need_loaded("test()");
    struct bpf_program *bp = bpf_object__find_program_by_name(ks_obj, prog);
    if (!bp) {
        fprintf(stderr, "%s: test(%s): the object has no such program\n", ks_progname, prog);
        ks_throw(ENOENT);
        return 0;
    }
    LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = (uint32_t)size, .repeat = 1);
    if (bpf_prog_test_run_opts(bpf_program__fd(bp), &o)) {
        int e = errno;
        fprintf(stderr, "%s: test(%s): BPF_PROG_TEST_RUN on %zu bytes failed: %s\n", ks_progname, prog, size,
                strerror(e));
        ks_throw(e);
        return 0;
    }
    return o.retval;
}

uint32_t ks_test_run_zeros(const char *prog, uint64_t size)
{
    void *buf = calloc(1, size ? (size_t)size : 1);
    if (!buf) {
        ks_throw(ENOMEM);
        return 0;
    }
    uint32_t r = ks_test_run(prog, buf, (size_t)size);
    free(buf);
    return r;
}
