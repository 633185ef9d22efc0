#!/usr/bin/env python3
"""Evaluates gen.py's expression models with LANGUAGE.md's integer rules."""
import struct
from gen import TYPES, wrap, common


def conv(v, t):
    return wrap(v, t)


def untyped_as(v, t):
    return wrap(v, t)


def ev(m, env):
    """Returns (value, type); type None for an untyped literal."""
    if isinstance(m, int):
        return m, None
    tag = m[0]
    if tag == 'var':
        return env[m[1]]
    if tag == 'cast':
        v, t = ev(m[2], env)
        return wrap(v, m[1]), m[1]
    if tag == 'un':
        v, t = ev(m[2], env)
        return wrap(-v if m[1] == '-' else ~v, t), t
    if tag == 'bin':
        op, am, bm = m[1], m[2], m[3]
        a, at = ev(am, env)
        b, bt = ev(bm, env)
        if op in ('<<', '>>'):
            t = at
            bits, signed = TYPES[t]
            cnt = (b % (1 << 64)) % bits if bt is None else (wrap(b, 'u%d' % TYPES[bt][0]) % bits)
            if op == '<<':
                return wrap(a << cnt, t), t
            x = wrap(a, t) if signed else wrap(a, t) & ((1 << bits) - 1)
            return wrap(x >> cnt, t), t
        t = at if bt is None else bt if at is None else common(at, bt)
        a, b = wrap(a, t), wrap(b, t)
        bits, signed = TYPES[t]
        if op == '+': r = a + b
        elif op == '-': r = a - b
        elif op == '*': r = a * b
        elif op == '/':
            if b == 0: r = 0
            else:
                q = abs(a) // abs(b)
                r = q if (a >= 0) == (b >= 0) else -q
        elif op == '%':
            if b == 0: r = a
            else:
                q = abs(a) % abs(b)
                r = q if a >= 0 else -q
        elif op == '&': r = a & b
        elif op == '|': r = a | b
        else: r = a ^ b
        return wrap(r, t), t
    if tag == 'sel':
        _, cmp, xm, ym, xt, yt, am, bm, at, bt, t = m
        x, xt2 = ev(xm, env)
        y, yt2 = ev(ym, env)
        ct = xt2 if yt2 is None else yt2 if xt2 is None else common(xt2, yt2, compare=True)
        sx = (xt2 is None or TYPES[xt2][1]) and (yt2 is None or TYPES[yt2][1])
        ct_bits = TYPES[ct][0]
        ctype = 'i%d' % ct_bits if (xt2 and yt2 and TYPES[xt2][1] and TYPES[yt2][1]) else ct
        if xt2 is None or yt2 is None:
            ctype = ct
        x, y = wrap(x, ctype), wrap(y, ctype)
        res = {'<': x < y, '<=': x <= y, '>': x > y, '>=': x >= y, '==': x == y, '!=': x != y}[cmp]
        v, vt = ev(am if res else bm, env)
        return wrap(v, t), t
    raise ValueError(tag)


def inputs_from(pkt, inputs):
    env = {}
    fmt = {'u8': '<B', 'i8': '<b', 'u16': '<H', 'i16': '<h', 'u32': '<I', 'i32': '<i', 'u64': '<Q', 'i64': '<q'}
    for name, t, off in inputs:
        size = TYPES[t][0] // 8
        env[name] = (struct.unpack(fmt[t], pkt[off:off + size])[0], t)
    return env


def expected(model, pkt):
    env = inputs_from(pkt, [tuple(x) for x in model['inputs']])
    out = []
    for e in model['exprs']:
        v, t = ev(to_tuple(e['model']), env)
        out.append(wrap(v, 'u64') if TYPES[e['type']][1] else wrap(v, e['type']) & ((1 << 64) - 1))
    return [wrap(v, 'u64') & ((1 << 64) - 1) for v in out]


def to_tuple(m):
    if isinstance(m, list):
        return tuple(to_tuple(x) for x in m)
    return m
