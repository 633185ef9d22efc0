#!/usr/bin/env python3
"""Random counted loops as a KernelScript XDP program, with a Python model
of what they compute. The loops are the shapes the back end rewrites
(ir/ivopt.c): packet walks whose address is the counter times a scale,
counters beside the loop index, local arrays filled and read by index,
u32 and u64 counters, non-zero starts, steps other than one, `continue`
and `break`. Each loop stores its results in an array map.

  gen.py SEED OUT.ks        writes the program
  (as a module)             program(seed) -> (text, model), model(pkt) -> [u64]
"""
import random, sys

M32, M64 = (1 << 32) - 1, (1 << 64) - 1


def loop_spec(rnd, j):
    s = rnd.choice([0, 0, 0, 1, 2, 3, 5])
    return {
        'j': j, 'start': s, 'end': s + rnd.randint(1, 48), 'wide': rnd.random() < 0.3,
        'base': rnd.randint(0, 20), 'scale': rnd.choice([1, 2, 4, 8]), 'shift': rnd.random() < 0.3,
        'width': rnd.choice([1, 2, 4]), 'step': rnd.choice([1, 1, 1, 2, 3]),
        'skip': rnd.random() < 0.3, 'array': rnd.random() < 0.4,
    }


def loop_text(L):
    j, w = L['j'], L['width']
    ty = 'u64' if L['wide'] else 'u32'
    idx = '(i << %d)' % (L['scale'].bit_length() - 1) if L['shift'] else 'i * %d' % L['scale']
    out = ['    var a%d: u32 = 0' % j, '    var c%d: u32 = 0' % j]
    if L['array']:
        out.append('    var arr%d: u32[%d]' % (j, L['end']))
    out += ['    for (i in LO%d..HI%d) {' % (j, j),
            '        var p = data + %d + %s' % (L['base'], idx),
            '        if (p + %d > end) {' % w, '            break', '        }',
            '        var v = *(p as *u%d) as u32' % (8 * w)]
    if L['skip']:
        out += ['        if ((v & 3) == 1) {', '            continue', '        }']
    out += ['        a%d = a%d * 31 + v + (i as u32)' % (j, j), '        c%d += %d' % (j, L['step'])]
    if L['array']:
        out.append('        arr%d[i] = v ^ (i as u32)' % j)
    out.append('    }')
    if L['array']:
        out += ['    var s%d: u32 = 0' % j, '    for (t in 0..%d) {' % L['end'],
                '        s%d = s%d * 7 + arr%d[t]' % (j, j, j), '    }']
    return out, ty


def program(seed):
    rnd = random.Random(seed)
    loops = [loop_spec(rnd, j) for j in range(rnd.randint(1, 4))]
    room = 384                  # bytes of local arrays, well within the 512-byte stack
    for L in loops:
        L['array'] = L['array'] and 4 * L['end'] <= room
        room -= 4 * L['end'] if L['array'] else 0
    head, body, stores = ['var res : array<u32, u64>(16)', ''], [], []
    for L in loops:
        text, ty = loop_text(L)
        head += ['const LO%d: %s = %d' % (L['j'], ty, L['start']), 'const HI%d: %s = %d' % (L['j'], ty, L['end'])]
        body += text
        stores += ['a%d' % L['j'], 'c%d' % L['j']] + (['s%d' % L['j']] if L['array'] else [])
    lines = head + ['', '@xdp fn loops(ctx: *xdp_md) -> xdp_action {',
                    '    var data = ctx->data', '    var end = ctx->data_end'] + body
    lines += ['    res[%d] = %s' % (k, v) for k, v in enumerate(stores)] + ['    return XDP_PASS', '}', '']

    def model(pkt):
        out = []
        for L in loops:
            a = c = 0
            arr = [0] * L['end']
            for i in range(L['start'], L['end']):
                off = L['base'] + i * L['scale']
                if off + L['width'] > len(pkt):
                    break
                v = int.from_bytes(pkt[off:off + L['width']], 'little')
                if L['skip'] and v & 3 == 1:
                    continue
                a = (a * 31 + v + i) & M32
                c = (c + L['step']) & M32
                arr[i] = (v ^ i) & M32
            out += [a, c]
            if L['array']:
                s = 0
                for t in range(L['end']):
                    s = (s * 7 + arr[t]) & M32
                out.append(s)
        return out

    return '\n'.join(lines), model


if __name__ == '__main__':
    open(sys.argv[2], 'w').write(program(int(sys.argv[1]))[0])
