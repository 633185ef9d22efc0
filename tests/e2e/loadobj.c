/* loadobj OBJ: opens and loads a BPF object with libbpf the way generated
 * userspace code does (bpf_object__open_file + bpf_object__load), then
 * closes it. Nothing is attached. Exit 0 on success; libbpf's warnings
 * and the reason for a failure go to stderr. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: loadobj OBJ\n");
        return 2;
    }
    libbpf_set_print(print);
    struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
    if (!obj) {
        fprintf(stderr, "cannot open %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    int err = bpf_object__load(obj);
    if (err) {
        fprintf(stderr, "cannot load %s: %s\n", argv[1], strerror(-err));
        bpf_object__close(obj);
        return 1;
    }
    int progs = 0, maps = 0;
    struct bpf_program *p;
    struct bpf_map *m;
    bpf_object__for_each_program(p, obj)
        progs++;
    bpf_object__for_each_map(m, obj)
        maps++;
    printf("%s: %d programs, %d maps loaded\n", argv[1], progs, maps);
    bpf_object__close(obj);
    return 0;
}
