/* The bounds pass, inside: what its files share. The pass simulates the
 * kernel verifier over the SSA IR (DESIGN.md, "Bounds pass"):
 *
 *   bounds_range.c   scalar ranges, the verifier's arithmetic on them
 *   bounds_state.c   abstract values, facts that hold below a branch,
 *                    the transfer function of each instruction
 *   bounds_flow.c    path facts no dominator can carry: held ring-buffer
 *                    records, map values and packet pointers gone stale,
 *                    written stack slots
 *   bounds_check.c   the checks at each memory access and helper call
 *   bounds_helpers.c what each BPF helper requires of its arguments
 *   bounds_calls.c   what callers pass to @helper subprograms
 *   bounds_loops.c   loop bounds and the estimate of verifier work
 *   bounds_insert.c  the packet and index checks the pass inserts
 *   bounds.c         the driver: fixed point, final pass, diagnostics
 *
 * Values are judged twice: as the verifier will see them (`v`), and as
 * the language defines them (`l`). Where the verifier knows too little
 * but the language knows enough (`i % N`), the pass inserts the check the
 * verifier needs; where neither knows enough, it reports an error. */
#ifndef KSC_IR_BOUNDS_H
#define KSC_IR_BOUNDS_H

#include "ir/ir.h"

/* ---- bounds_range.c: ranges of integers ------------------------------ */

/* The values a w-byte quantity may take, read unsigned (umin..umax within
 * 0..2^(8w)-1) and signed (smin..smax). umin > umax means no value: the
 * code is unreachable under the assumption. */
typedef struct Rng { uint64_t umin, umax; int64_t smin, smax; } Rng;

uint64_t rng_mask(int w);
int64_t rng_sext(uint64_t v, int w);
Rng rng_full(int w);
Rng rng_const(uint64_t v, int w);
Rng rng_unsigned(uint64_t lo, uint64_t hi, int w);
Rng rng_empty(void);
bool rng_is_empty(Rng r);
bool rng_is_const(Rng r, uint64_t *v);
bool rng_eq(Rng a, Rng b);
Rng rng_sync(Rng r, int w);
Rng rng_join(Rng a, Rng b);
Rng rng_meet(Rng a, Rng b, int w);
Rng rng_widen(Rng old, Rng nw, int w);
Rng rng_view(Rng r, int from, int to);          /* the low `to` bytes */
/* The result of op at width w. `exact` is the language's view; without it,
 * the verifier's (which knows nothing after a division or modulo). */
Rng rng_binop(IrOp op, Rng a, Rng b, int w, bool exact);
Rng rng_unop(IrOp op, Rng a, int from, int w);
int rng_decide(Cond cc, Rng a, Rng b);          /* 1 always, 0 never, -1 either */
void rng_refine(Cond cc, bool taken, Rng *a, Rng *b, int w);
const char *rng_str(Rng r);                     /* "0..255", for messages */

/* ---- bounds_state.c: abstract values and facts ------------------------ */

typedef enum { AK_NONE, AK_SCALAR, AK_PTR } AKind;

/* What a value is to the verifier. A pointer is an object (`root`:
 * the stack slot, lookup, reservation, global, packet group...) plus a
 * fixed offset plus a variable one (v/l). The verifier walks every path
 * on its own, so an offset built from constants and loop counters is
 * fixed on each path: off..off_hi spans the paths. For packets, the root
 * is the group of pointers the verifier gives one id: every pointer
 * computed by fixed offsets from ctx->data (pkt0), or from one variable
 * add. */
typedef struct AVal {
    uint8_t kind;           /* AKind */
    uint8_t prov;           /* Prov of a pointer; P_NONE: unchecked */
    bool maybe_null;        /* lookup, reservation, kfunc: null until tested */
    bool pkt0;              /* packet pointer in the group of ctx->data */
    bool exact;             /* scalar: the verifier knows its exact value on
                             * each path (constants, loop counters) */
    Rng v, l;               /* scalar value, or a pointer's variable offset */
    int64_t off, off_hi;    /* pointer: fixed offset, exact on each path */
    int64_t size;           /* bytes in the object, -1 unknown */
    Ins *root;              /* pointer: object or packet group */
    Ins *xbase;             /* off_hi > off: the value whose fixed offset,
                             * exact on each path, this one is xdelta from */
    int64_t xdelta;
} AVal;

/* A fact that holds from a position on, in every block it dominates:
 * a value's range, a pointer proven non-null, packet bytes proven. */
typedef enum { F_RANGE, F_NONNULL, F_PKT } FactKind;

typedef struct Fact {
    int next;               /* next fact of the same key, -1 */
    int blk, idx;           /* from instruction idx of block blk (-1: entry) */
    Rng v, l;               /* F_RANGE */
    int64_t bytes;          /* F_PKT: proven bytes from the group's base */
    Ins *rel;               /* F_PKT: also rel_bytes beyond xbase `rel` */
    int64_t rel_bytes;
} Fact;

typedef struct BState BState;

/* A check to insert before instruction `at` (bounds_insert.c): packet
 * (value + n <= data_end) or index (value <= n). */
typedef enum { CHK_PKT, CHK_MAX } CheckKind;
enum { MAX_HELD = 4 };
/* A check to insert; its failure path discards the ring-buffer records
 * held there (refs) before it returns. */
typedef struct BRequest { CheckKind kind; Ins *at, *value; int64_t n; Ins *refs[MAX_HELD]; int nrefs; } BRequest;

/* One function under analysis. */
typedef struct BFunc {
    IrProgram *ip;
    IrFunc *f;
    AVal *val;              /* by value id */
    uint8_t *zx;            /* by value id: bytes the register may use */
    int *dpre, *dpost;      /* dominator tree numbers, by block id */
    int *head[3];           /* FactKind -> key -> first fact */
    int nkeys;              /* value ids, plus the pkt0 key */
    VEC(Fact) facts;
    bool *reach;            /* by block id: the verifier gets here */
    uint8_t *edges;         /* by block id: bit s = succ[s] may be taken */
    int *widen;             /* by value id: times a phi grew */
    int *trips;             /* by block id: iterations of the loop headed
                             * there, from constants (0: unknown) */
    bool force_widen;       /* past the pass budget: widen every phi */
    bool final;             /* the last pass: check, report, insert */
    int cur_blk, cur_idx;   /* position of the instruction being judged */
    BState *flow;           /* bounds_flow.c */
    int pass_verdict;       /* value returned by a failed inserted check */
    bool void_ret;
    int ret_width;
    int errors;
    VEC(BRequest) requests;
    int64_t *sizes;         /* by value id: object sizes found by name */
    AVal *scratch_in;       /* aval_phi's operands */
    struct Block **scratch_preds;
    int nscratch;
    int *loop_end;          /* by block id: last block of the loop it heads */
    VEC(int) undo;          /* fact_add's log: kind, key, previous head */
} BFunc;

#define PKT0_KEY(bf) ((bf)->nkeys - 1)

void bstate_init(BFunc *bf, IrProgram *ip, IrFunc *f);
void bstate_clear_facts(BFunc *bf);
bool bstate_dominates(BFunc *bf, int ablk, int aidx, int bblk, int bidx);
void fact_add(BFunc *bf, FactKind k, int key, int blk, int idx, Rng v, Rng l, int64_t bytes);
int fact_mark(BFunc *bf);
void fact_undo(BFunc *bf, int mark);       /* drop the facts added since */
void pkt_fact(BFunc *bf, const AVal *p, int blk, int idx, int64_t rel_need);
bool pkt_proven(BFunc *bf, const AVal *p, int64_t rel_need, int blk, int idx);
/* A value as seen at the current position (facts applied). */
AVal aval_at(BFunc *bf, Ins *v);
AVal aval_at_pos(BFunc *bf, Ins *v, int blk, int idx);
bool nonnull_at(BFunc *bf, Ins *root, int blk, int idx);
int64_t pkt_bytes_at(BFunc *bf, const AVal *p, int blk, int idx);
AVal aval_eval(BFunc *bf, Ins *i);             /* transfer function */
AVal aval_phi(BFunc *bf, Ins *phi);
void edge_facts(BFunc *bf, Block *from, int succ, int at_blk);
bool edge_refine(BFunc *bf, Block *from, int succ, Ins *v, AVal *a);
void branch_edges(BFunc *bf, Block *b);
Ins *ptr_root(Ins *v);                          /* through copies */
int64_t map_value_size(BFunc *bf, Ins *map);
const char *value_name(BFunc *bf, Ins *root);  /* 'x', or NULL */

/* ---- bounds_flow.c: facts along paths --------------------------------- */

void flow_analyze(BFunc *bf);
void flow_block_begin(BFunc *bf, Block *b);
void flow_step(BFunc *bf, Ins *i);              /* after checks of i */
void flow_edge_done(BFunc *bf);
bool flow_released(BFunc *bf, Ins *root);
bool flow_stale(BFunc *bf, Ins *root, Ins *use, Ins **why);
bool flow_slot_written(BFunc *bf, int slot);
void flow_check_return(BFunc *bf, Ins *ret);
bool flow_tracks_ref(BFunc *bf, Ins *root);
/* The reserve calls of the records held here on some path (up to max);
 * *released when one of them is also released on some path. */
int flow_held(BFunc *bf, Ins **out, int max, bool *released);

/* ---- bounds_check.c, bounds_helpers.c --------------------------------- */

void check_ins(BFunc *bf, Ins *i);
void check_helper_call(BFunc *bf, Ins *call);
bool helper_changes_pkt(int id);
bool kfunc_may_return_null(const char *name);

/* ---- bounds_calls.c: arguments of @helper subprograms ------------------- */

void calls_reset(void);
IrFunc **calls_order(IrProgram *p);            /* callers first */
void calls_record(BFunc *bf, Ins *call);
bool calls_param(BFunc *bf, Ins *arg, AVal *out);

/* ---- bounds_loops.c ---------------------------------------------------- */

void loops_check(BFunc *bf);
void loops_const_trips(BFunc *bf);

/* ---- bounds_insert.c ---------------------------------------------------- */

BRequest *insert_request(BFunc *bf, CheckKind k, Ins *at, Ins *value, int64_t n);
void insert_apply(BFunc *bf);

/* ---- bounds.c: diagnostics -------------------------------------------- */

void bounds_error(BFunc *bf, Pos p, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
