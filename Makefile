# ksc: KernelScript compiler. `make` builds build/ksc.
# make run     install missing deps, build, compile an example and run it in the kernel
# make check   install missing deps, build, run every test; ends with "N passed, N failed"
# make bench   compare with clang -O2 -target bpf (bench/)
# make fuzz    libFuzzer over the front end (FUZZ_SECONDS, default 60)
# make fuzz-pipeline   libFuzzer over the whole pipeline to the object
# make fuzz-sweep      load what ksc compiles of that corpus into the kernel
# make install PREFIX=/usr/local

CC      ?= cc
PREFIX  ?= /usr/local
VERSION := 0.1.0
WARN    := -Wall -Wextra -Werror
CFLAGS  ?= -O2 -g
BASE    := -std=gnu11 $(WARN) -I. -DKSC_VERSION='"$(VERSION)"' -D_GNU_SOURCE
LIBS    := -lbpf -lelf -lz
B       := build

DIRS    := frontend ir bpf_backend btf elf c_backend kmod_backend
SRCS    := $(foreach d,$(DIRS),$(wildcard $(d)/*.c))
OBJS    := $(SRCS:%.c=$(B)/obj/%.o)
SAN_OBJS := $(SRCS:%.c=$(B)/san/%.o)
RUNTIME := $(wildcard runtime/*.c runtime/*.h)
UNIT_SRCS := $(wildcard tests/unit/*.c)

.PHONY: all run check unit check-e2e check-vm bench fuzz fuzz-pipeline fuzz-sweep install clean deps

all: $(B)/ksc

deps:
	@scripts/deps.sh

$(B)/obj/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(CFLAGS) -c $< -o $@

$(B)/san/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASE) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	    -fno-omit-frame-pointer -c $< -o $@

# The runtime's source is embedded in ksc and compiled into every generated program.
$(B)/obj/runtime_blob.c: $(RUNTIME) scripts/embed.sh
	@mkdir -p $(dir $@)
	scripts/embed.sh $@ $(RUNTIME)

$(B)/obj/runtime_blob.o: $(B)/obj/runtime_blob.c
	$(CC) $(BASE) $(CFLAGS) -c $< -o $@

# ksc is linked statically where the static libraries are there (Debian's
# -dev packages ship them): loading libbpf, libelf and libz at run time
# cost 0.4 ms of every 2.5 ms compile (bench/). Otherwise, dynamically.
$(B)/ksc: $(OBJS) $(B)/obj/ksc.o $(B)/obj/runtime_blob.o
	$(CC) $(CFLAGS) -static -o $@ $^ $(LIBS) 2>/dev/null || $(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(B)/ksc-san: $(SAN_OBJS) $(B)/san/ksc.o $(B)/obj/runtime_blob.o
	$(CC) -fsanitize=address,undefined -o $@ $^ $(LIBS)

$(B)/unit: $(SAN_OBJS) $(UNIT_SRCS:%.c=$(B)/san/%.o) $(B)/obj/runtime_blob.o
	$(CC) -fsanitize=address,undefined -o $@ $^ $(LIBS) -lcunit

unit: $(B)/unit
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(B)/unit

run: deps $(B)/ksc
	@tests/run-example.sh

check: deps $(B)/ksc $(B)/ksc-san $(B)/unit
	@tests/run-all.sh

check-vm: deps $(B)/ksc
	@tests/vm/run.sh

bench: deps $(B)/ksc
	@bench/run.sh

fuzz: $(B)/ksc
	@tests/fuzz/run.sh

fuzz-pipeline: $(B)/ksc
	@FUZZ_TARGET=pipeline tests/fuzz/run.sh

fuzz-sweep: $(B)/ksc
	@tests/fuzz/sweep.sh

install: $(B)/ksc
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(B)/ksc $(DESTDIR)$(PREFIX)/bin/ksc

clean:
	rm -rf $(B) tests/out bench/out
