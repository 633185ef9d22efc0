/* Deterministic packet generator for the differential tests (tests/diff)
 * and the benchmarks (bench/): random and edge-case Ethernet frames of 14
 * to 1500 bytes. Valid and corrupt IPv4/IPv6/TCP/UDP/ICMP headers, VLAN
 * tags, IPv6 extension headers, ARP, random bytes, truncated headers, and
 * field values at their edges (ports 0/53/65535, TTL 0/1/255, IHL 0..15,
 * lengths that lie). The same seed always gives the same packets. */
#ifndef KSC_PKTGEN_H
#define KSC_PKTGEN_H

#include <stdint.h>
#include <string.h>

#define PKT_MIN 14
#define PKT_MAX 1500

struct rng {
    uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
    /* splitmix64 */
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint32_t rng_below(struct rng *r, uint32_t n)
{
    return n ? (uint32_t)(rng_next(r) % n) : 0;
}

static inline int rng_pct(struct rng *r, unsigned pct)
{
    return rng_below(r, 100) < pct;
}

#define PICK(r, arr) ((arr)[rng_below((r), sizeof(arr) / sizeof((arr)[0]))])

static const uint16_t pg_ports[] = {0, 1, 7, 22, 23, 53, 67, 68, 80, 123, 443, 1023, 1024,
                                    5353, 8080, 8443, 32767, 32768, 49152, 65534, 65535};
static const uint32_t pg_addrs[] = {0x0a000001, 0x0a000002, 0xc0a80101, 0x00000000, 0xffffffff,
                                    0xac100009, 0x7f000001, 0xe0000001, 0x0a0000ff};
static const uint8_t pg_protos[] = {0, 1, 2, 4, 6, 17, 41, 47, 50, 58, 132, 255};
static const uint8_t pg_ttls[] = {0, 1, 2, 63, 64, 128, 254, 255};
static const uint16_t pg_etypes[] = {0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8, 0x0000,
                                     0xffff, 0x05dc, 0x0600, 0x88cc};
static const uint16_t pg_lens[] = {14, 15, 16, 20, 33, 34, 35, 41, 42, 43, 53, 54, 55, 60, 61,
                                   62, 63, 64, 65, 74, 75, 127, 128, 129, 255, 256, 257,
                                   511, 512, 513, 1023, 1024, 1025, 1499, 1500};

static inline void pg_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void pg_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void pg_fill(struct rng *r, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rng_next(r);
}

static inline uint16_t pg_csum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static inline uint16_t pg_port(struct rng *r)
{
    return rng_pct(r, 60) ? PICK(r, pg_ports) : (uint16_t)rng_next(r);
}

static inline uint32_t pg_addr(struct rng *r)
{
    return rng_pct(r, 60) ? PICK(r, pg_addrs) : (uint32_t)rng_next(r);
}

static inline void pg_addr6(struct rng *r, uint8_t *p)
{
    static const uint8_t pool[4][16] = {
        {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
        {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
        {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
        {0},
    };
    if (rng_pct(r, 60))
        memcpy(p, pool[rng_below(r, 4)], 16);
    else
        pg_fill(r, p, 16);
}

/* L4 header at p (room for 60 bytes); returns its length. */
static inline size_t pg_l4(struct rng *r, uint8_t *p, uint8_t proto, size_t payload)
{
    if (proto == 6) {
        unsigned doff = rng_pct(r, 85) ? 5 + (rng_pct(r, 20) ? rng_below(r, 11) : 0)
                                       : rng_below(r, 16);
        pg_put16(p, pg_port(r));
        pg_put16(p + 2, pg_port(r));
        pg_put32(p + 4, rng_pct(r, 20) ? 0xffffffffu * rng_below(r, 2) : (uint32_t)rng_next(r));
        pg_put32(p + 8, (uint32_t)rng_next(r));
        p[12] = (uint8_t)(doff << 4);
        p[13] = rng_pct(r, 50) ? (uint8_t)PICK(r, ((const uint8_t[]){0x02, 0x10, 0x12, 0x11, 0x04, 0x18, 0x01, 0x00, 0xff}))
                               : (uint8_t)rng_next(r);
        pg_put16(p + 14, (uint16_t)rng_next(r));
        pg_put16(p + 16, (uint16_t)rng_next(r));
        pg_put16(p + 18, 0);
        size_t n = doff >= 5 ? doff * 4 : 20;
        pg_fill(r, p + 20, n - 20);
        return n;
    }
    if (proto == 17) {
        pg_put16(p, rng_pct(r, 20) ? 53 : pg_port(r));
        pg_put16(p + 2, rng_pct(r, 20) ? 53 : pg_port(r));
        pg_put16(p + 4, rng_pct(r, 80) ? (uint16_t)(payload + 8) : (uint16_t)rng_next(r));
        pg_put16(p + 6, (uint16_t)rng_next(r));
        return 8;
    }
    if (proto == 1 || proto == 58) {
        p[0] = rng_pct(r, 50) ? PICK(r, ((const uint8_t[]){0, 3, 8, 11, 128, 129, 135, 136}))
                              : (uint8_t)rng_next(r);
        p[1] = (uint8_t)rng_below(r, 4);
        pg_put16(p + 2, 0);
        pg_put32(p + 4, (uint32_t)rng_next(r));
        return 8;
    }
    size_t n = rng_below(r, 24);
    pg_fill(r, p, n);
    return n;
}

static inline uint8_t pg_l4proto(struct rng *r)
{
    uint32_t k = rng_below(r, 10);
    if (k < 4)
        return 6;
    if (k < 7)
        return 17;
    if (k < 8)
        return 1;
    return PICK(r, pg_protos);
}

/* Writes one packet into buf (at least PKT_MAX bytes) and returns its length. */
static inline size_t pkt_gen(struct rng *r, uint8_t *buf)
{
    uint8_t hdr[256];
    size_t h = 0;
    unsigned kind = rng_below(r, 20);

    /* Ethernet */
    static const uint8_t macs[4][6] = {
        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
        {0, 0, 0, 0, 0, 0},
        {0x01, 0x00, 0x5e, 0, 0, 1},
        {0x02, 0, 0, 0, 0, 1},
    };
    for (int i = 0; i < 2; i++) {
        if (rng_pct(r, 30))
            memcpy(hdr + 6 * i, macs[rng_below(r, 4)], 6);
        else
            pg_fill(r, hdr + 6 * i, 6);
    }
    h = 12;
    uint16_t etype;
    if (kind < 9)
        etype = 0x0800;
    else if (kind < 14)
        etype = 0x86dd;
    else if (kind < 15)
        etype = 0x0806;
    else if (kind < 17)
        etype = 0x8100;
    else
        etype = rng_pct(r, 50) ? PICK(r, pg_etypes) : (uint16_t)rng_next(r);
    pg_put16(hdr + h, etype);
    h += 2;
    if (etype == 0x8100 || etype == 0x88a8) {
        pg_put16(hdr + h, (uint16_t)rng_next(r));
        etype = rng_pct(r, 70) ? 0x0800 : PICK(r, pg_etypes);
        pg_put16(hdr + h + 2, etype);
        h += 4;
    }

    size_t payload = rng_pct(r, 30) ? rng_below(r, 16) : rng_below(r, 1400);
    if (etype == 0x0800) {
        uint8_t *ip = hdr + h;
        unsigned ihl = rng_pct(r, 85) ? 5 + (rng_pct(r, 15) ? rng_below(r, 11) : 0)
                                      : rng_below(r, 16);
        unsigned ver = rng_pct(r, 95) ? 4 : rng_below(r, 16);
        uint8_t proto = pg_l4proto(r);
        size_t ihl_len = ihl >= 5 ? ihl * 4 : 20;
        ip[0] = (uint8_t)(ver << 4 | ihl);
        ip[1] = (uint8_t)rng_next(r);
        pg_put16(ip + 4, (uint16_t)rng_next(r));
        uint16_t frag = 0;
        if (rng_pct(r, 30))
            frag = 0x4000;
        else if (rng_pct(r, 10))
            frag = (uint16_t)rng_next(r);
        pg_put16(ip + 6, frag);
        ip[8] = rng_pct(r, 50) ? PICK(r, pg_ttls) : (uint8_t)rng_next(r);
        ip[9] = proto;
        pg_put16(ip + 10, 0);
        pg_put32(ip + 12, pg_addr(r));
        pg_put32(ip + 16, pg_addr(r));
        pg_fill(r, ip + 20, ihl_len - 20);
        size_t l4 = pg_l4(r, ip + ihl_len, proto, payload);
        uint16_t tot = (uint16_t)(ihl_len + l4 + payload);
        if (rng_pct(r, 10))
            tot = PICK(r, ((const uint16_t[]){0, 1, 19, 20, 21, 0xffff, 1500}));
        pg_put16(ip + 2, tot);
        if (rng_pct(r, 85))
            pg_put16(ip + 10, pg_csum(ip, ihl_len, 0));
        else
            pg_put16(ip + 10, (uint16_t)rng_next(r));
        h += ihl_len + l4;
    } else if (etype == 0x86dd) {
        uint8_t *ip6 = hdr + h;
        pg_put32(ip6, (rng_pct(r, 95) ? 6u : rng_below(r, 16)) << 28 | (uint32_t)rng_below(r, 1u << 28));
        uint8_t nh = pg_l4proto(r);
        ip6[7] = rng_pct(r, 50) ? PICK(r, pg_ttls) : (uint8_t)rng_next(r);
        pg_addr6(r, ip6 + 8);
        pg_addr6(r, ip6 + 24);
        size_t off = 40;
        uint8_t *nhp = ip6 + 6;
        unsigned next = rng_pct(r, 70) ? 0 : rng_below(r, 4);
        for (unsigned i = 0; i < next; i++) {
            static const uint8_t ext[] = {0, 43, 44, 60};
            uint8_t e = PICK(r, ext);
            *nhp = e;
            uint8_t *x = ip6 + off;
            unsigned xl = e == 44 ? 0 : rng_below(r, 3);
            pg_fill(r, x, 8 * (xl + 1));
            x[1] = (uint8_t)xl;
            nhp = x;
            off += 8 * (xl + 1);
        }
        *nhp = nh;
        size_t l4 = pg_l4(r, ip6 + off, nh, payload);
        uint16_t plen = (uint16_t)(off - 40 + l4 + payload);
        pg_put16(ip6 + 4, rng_pct(r, 90) ? plen : (uint16_t)rng_next(r));
        h += off + l4;
    } else if (etype == 0x0806) {
        uint8_t *a = hdr + h;
        pg_put16(a, 1);
        pg_put16(a + 2, 0x0800);
        a[4] = 6;
        a[5] = 4;
        pg_put16(a + 6, (uint16_t)(1 + rng_below(r, 2)));
        pg_fill(r, a + 8, 6);
        pg_put32(a + 14, pg_addr(r));
        pg_fill(r, a + 18, 6);
        pg_put32(a + 24, pg_addr(r));
        h += 28;
    }

    /* the length: uniform, near the headers (truncation), or an edge value */
    size_t len;
    uint32_t lk = rng_below(r, 10);
    if (lk < 4)
        len = PKT_MIN + rng_below(r, PKT_MAX - PKT_MIN + 1);
    else if (lk < 7)
        len = h + payload;
    else if (lk < 8)
        len = PKT_MIN + rng_below(r, (uint32_t)(h + 9 - PKT_MIN));
    else
        len = PICK(r, pg_lens);
    if (len < PKT_MIN)
        len = PKT_MIN;
    if (len > PKT_MAX)
        len = PKT_MAX;

    size_t keep = h < len ? h : len;
    memcpy(buf, hdr, keep);
    if (len > keep) {
        unsigned fill = rng_below(r, 4);
        if (fill == 0)
            memset(buf + keep, 0, len - keep);
        else if (fill == 1)
            memset(buf + keep, 0xff, len - keep);
        else
            pg_fill(r, buf + keep, len - keep);
    }
    /* corruption: a few random bytes anywhere in the headers */
    if (rng_pct(r, 8)) {
        unsigned n = 1 + rng_below(r, 3);
        for (unsigned i = 0; i < n; i++)
            buf[rng_below(r, (uint32_t)(keep ? keep : 1))] = (uint8_t)rng_next(r);
    }
    /* all-zero and all-ones frames of edge lengths */
    if (kind == 19 && rng_pct(r, 30))
        memset(buf, rng_pct(r, 50) ? 0 : 0xff, len);
    return len;
}

#endif
