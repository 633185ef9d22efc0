#!/usr/bin/env python3
"""Differential test of counted loops: gen.py's random programs compiled by
ksc and run in the kernel (BPF_PROG_TEST_RUN) on packets of random length,
against gen.py's model. Also checks that the loop rewrites of ir/ivopt.c
happened in some of them (a pointer phi in --emit=ir), so that the test
keeps covering them. Prints PASS/FAIL lines.

  run.py KSC [PROGRAMS] [PACKETS]
"""
import json, os, random, shutil, subprocess, sys, tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen


def sh(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def packet(rnd):
    n = rnd.choice([14, 15, 16, 20, 33, 64, 100, 129, 200, 256, 300])
    return bytes(rnd.randrange(256) for _ in range(n))


def check_program(ksc, seed, npkt, work):
    text, model = gen.program(seed)
    ks, obj = os.path.join(work, 'l%d.ks' % seed), os.path.join(work, 'l%d.o' % seed)
    open(ks, 'w').write(text)
    c = sh([ksc, '-o', obj, ks])
    if c.returncode:
        errs = [l for l in c.stderr.splitlines() if ': error:' in l] or c.stderr.strip().splitlines() or ['?']
        return 'ksc failed: ' + errs[0], 0
    rewritten = sh([ksc, '--emit=ir', ks]).stdout.count('<pkt> = phi')
    pin = '/sys/fs/bpf/ksc_loops_%d_%d' % (os.getpid(), seed)
    try:
        os.makedirs(pin)
        ld = sh(['bpftool', 'prog', 'loadall', obj, pin + '/p', 'pinmaps', pin + '/m'])
        if ld.returncode:
            return 'kernel rejected: ' + ' | '.join(ld.stderr.strip().splitlines()[-3:]), rewritten
        rnd = random.Random(seed * 104729)
        pf = os.path.join(work, 'pkt')
        for _ in range(npkt):
            pkt = packet(rnd)
            open(pf, 'wb').write(pkt)
            r = sh(['bpftool', 'prog', 'run', 'pinned', pin + '/p/loops', 'data_in', pf, 'repeat', '1'])
            if 'Return value: 2' not in r.stdout:
                return 'run failed: ' + (r.stdout + r.stderr).strip()[:120], rewritten
            d = sh(['bpftool', '-j', 'map', 'dump', 'pinned', pin + '/m/res'])
            got = {e['formatted']['key']: e['formatted']['value'] for e in json.loads(d.stdout)}
            for i, w in enumerate(model(pkt)):
                if got.get(i) != w:
                    return 'res[%d] = %s, expected %d for a %d-byte packet' % (i, got.get(i), w, len(pkt)), rewritten
        return None, rewritten
    finally:
        shutil.rmtree(pin, ignore_errors=True)


def main():
    ksc = sys.argv[1]
    nprog = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    npkt = int(sys.argv[3]) if len(sys.argv) > 3 else 6
    work = tempfile.mkdtemp(prefix='ksc-loops.')
    total = 0
    try:
        for seed in range(1, nprog + 1):
            why, n = check_program(ksc, seed, npkt, work)
            total += n
            print('PASS loops/seed%d' % seed if not why else 'FAIL loops/seed%d: %s' % (seed, why))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if total:
        print('PASS loops/rewritten: %d packet walks became pointer induction variables' % total)
    else:
        print('FAIL loops/rewritten: no packet walk became a pointer induction variable')


if __name__ == '__main__':
    main()
