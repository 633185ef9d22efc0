#!/usr/bin/env python3
"""Differential test of integer semantics: random expressions compiled by
ksc and run in the kernel (BPF_PROG_TEST_RUN) against gen.py's model of
LANGUAGE.md section 2. Prints PASS/FAIL lines.

  run.py KSC [PROGRAMS] [PACKETS] [EXPRS]
"""
import json, os, random, shutil, subprocess, sys, tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen, model

EDGE = [0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe]


def packet(rnd):
    kind = rnd.random()
    if kind < 0.3:      # edge values everywhere
        return bytes(rnd.choice(EDGE) for _ in range(64))
    return bytes(rnd.randrange(256) for _ in range(64))


def sh(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def check_program(ksc, seed, npkt, nexpr, work):
    ks, js, obj = [os.path.join(work, 'p%d.%s' % (seed, x)) for x in ('ks', 'json', 'o')]
    gen_argv = [sys.executable, os.path.join(os.path.dirname(__file__), 'gen.py'), str(seed), str(nexpr), ks, js]
    subprocess.run(gen_argv, check=True)
    c = sh([ksc, '-o', obj, ks])
    if c.returncode:
        errs = [l for l in c.stderr.splitlines() if ': error:' in l] or c.stderr.strip().splitlines() or ['?']
        return 'ksc failed: ' + errs[0]
    pin = '/sys/fs/bpf/ksc_arith_%d_%d' % (os.getpid(), seed)
    try:
        os.makedirs(pin)
        ld = sh(['bpftool', 'prog', 'loadall', obj, pin + '/p', 'pinmaps', pin + '/m'])
        if ld.returncode:
            return 'kernel rejected: ' + ' | '.join(ld.stderr.strip().splitlines()[-3:])
        m = json.load(open(js))
        rnd = random.Random(seed * 7919)
        pf = os.path.join(work, 'pkt')
        for _ in range(npkt):
            pkt = packet(rnd)
            open(pf, 'wb').write(pkt)
            r = sh(['bpftool', 'prog', 'run', 'pinned', pin + '/p/arith', 'data_in', pf, 'repeat', '1'])
            if 'Return value: 2' not in r.stdout:
                return 'run failed: ' + r.stdout.strip()[:80]
            d = sh(['bpftool', '-j', 'map', 'dump', 'pinned', pin + '/m/res'])
            got = {e['formatted']['key']: e['formatted']['value'] for e in json.loads(d.stdout)}
            want = model.expected(m, pkt)
            for i, w in enumerate(want):
                g = got.get(i)
                if g != w:
                    return 'res[%d] = %s, expected %d for packet %s: %s' % (
                        i, g, w, pkt[:40].hex(), m['exprs'][i]['text'])
        return None
    finally:
        shutil.rmtree(pin, ignore_errors=True)


def main():
    ksc = sys.argv[1]
    nprog = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    npkt = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    nexpr = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    work = tempfile.mkdtemp(prefix='ksc-arith.')
    try:
        for seed in range(1, nprog + 1):
            why = check_program(ksc, seed, npkt, nexpr, work)
            print('PASS arith/seed%d' % seed if not why else 'FAIL arith/seed%d: %s' % (seed, why))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
