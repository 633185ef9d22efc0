/* The front end: lexer, parser, includes and imports, name resolution,
 * type checker and diagnostics. It turns a .ks file into a typed, resolved
 * Program that every back end reads. Nothing after the front end reports a
 * source-level type error: a Program with diag_errors() == 0 is well typed. */
#ifndef KSC_FRONTEND_H
#define KSC_FRONTEND_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct Type Type;
typedef struct Member Member;
typedef struct Node Node;
typedef struct Var Var;
typedef struct Func Func;
typedef struct Global Global;
typedef struct Module Module;
typedef struct Program Program;
typedef struct Sym Sym;
/* The codes enclosing try statements catch at a throw or call. */
typedef struct CatchSet { bool all; int n; int64_t *codes; } CatchSet;
typedef struct Scope Scope;
typedef __int128 i128;

/* ---- util.c: arena, vectors, strings ---------------------------------- */

void *xalloc(size_t n);                 /* zeroed, lives until arena_free_all */
void *xrealloc_vec(void *p, int *cap, int need, size_t elem);
char *xstrndup(const char *s, size_t n);
char *xstrdup(const char *s);
char *xfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void arena_free_all(void);
char *read_file(const char *path, size_t *len);

#define VEC(T) struct { T *v; int n, cap; }
#define vpush(vec, x) do { \
        (vec).v = xrealloc_vec((vec).v, &(vec).cap, (vec).n + 1, sizeof *(vec).v); \
        (vec).v[(vec).n++] = (x); } while (0)

typedef VEC(Node *) NodeVec;
typedef VEC(Var *) VarVec;
typedef VEC(char *) StrVec;

/* Interned-string hash map from names to pointers. */
typedef struct { const char *key; void *val; } MapEnt;
typedef struct { MapEnt *ents; int cap, n; } StrMap;
void *strmap_get(StrMap *m, const char *key);
void strmap_put(StrMap *m, const char *key, void *val);

/* ---- diag.c ------------------------------------------------------------ */

typedef struct Pos { int file, line, col; } Pos;   /* file 0 = none */

int diag_add_file(const char *path, const char *text, size_t len);
const char *diag_file_name(int file);
const char *diag_line_text(int file, int line, int *len);

void error_at(Pos p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void warn_at(Pos p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A warning of a named class ("bounds", "narrowing", ...): -Werror=CLASS
 * makes it an error, -Wno-CLASS silences it. */
void warn_class_at(Pos p, const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void note_at(Pos p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void help(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
int diag_errors(void);
int diag_warnings(void);
void diag_reset(void);
void diag_set_output(FILE *f);
void diag_werror(bool all);
void diag_class_option(const char *cls, int mode);   /* 0 off, 1 warn, 2 error */
void diag_set_color(bool on);

/* ---- lex.c ------------------------------------------------------------- */

typedef enum {
    T_EOF, T_IDENT, T_INT, T_CHAR, T_STR, T_PUNCT, T_KEYWORD,
} TokKind;

typedef struct Token {
    TokKind kind;
    Pos pos;
    const char *text;       /* interned spelling (punct, keyword, ident) */
    int len;
    bool nl;                /* a newline precedes this token */
    uint64_t ival;          /* T_INT, T_CHAR */
    char *sval;             /* T_STR: decoded bytes, NUL-terminated */
    int slen;
} Token;

typedef VEC(Token) TokVec;
void lex_file(int file, const char *src, size_t len, TokVec *out);
const char *intern(const char *s, int len);

/* ---- types ------------------------------------------------------------- */

typedef enum {
    TY_ERROR,       /* after a reported error: accepted everywhere, silently */
    TY_VOID, TY_BOOL, TY_CHAR, TY_INT, TY_UNTYPED, TY_NULL,
    TY_STR, TY_ARRAY, TY_PTR, TY_FUNC,
    TY_STRUCT, TY_UNION, TY_ENUM,
    TY_MAP,         /* the type of a map global */
    TY_HANDLE,      /* ProgramHandle */
    TY_PERFATT,     /* PerfAttachment */
    TY_PROGRAM,     /* the type of an eBPF program name used as a value */
    TY_IMPL,        /* a struct_ops impl used as a value (register) */
    TY_NAMED,       /* parser only: a type name not yet resolved */
    TY_MODULE,      /* the type of an import namespace used as a value */
} TypeKind;

typedef enum {
    MAP_HASH, MAP_ARRAY, MAP_PERCPU_HASH, MAP_PERCPU_ARRAY, MAP_LRU_HASH,
    MAP_LRU_PERCPU_HASH, MAP_RINGBUF, MAP_PROG_ARRAY, MAP_PERF_EVENT_ARRAY,
} MapKind;

struct Member {
    const char *name;       /* NULL for an anonymous struct/union member */
    Type *ty;
    int offset;             /* bytes from the start of the aggregate */
    int bit_off, bit_size;  /* bitfield: bits from `offset`, width; 0 = none */
    Pos pos;
    Node *init;             /* config field default / impl data member value */
};

typedef struct EnumVal { const char *name; i128 val; Pos pos; } EnumVal;

struct Type {
    TypeKind kind;
    int size, align;
    bool is_signed;         /* TY_INT */
    bool packed;            /* TY_STRUCT: @packed */
    bool kernel;            /* from kernel BTF (or the built-in fallback) */
    bool incomplete;        /* kernel struct whose members are read on demand */
    const char *name;       /* struct/union/enum/alias display name */
    Type *base;             /* PTR: pointee; ARRAY: element; MAP: value */
    Type *key;              /* MAP: key */
    long len;               /* ARRAY: length; STR: capacity N; MAP: max_entries */
    Member *members;        /* STRUCT/UNION */
    int nmembers;
    EnumVal *vals;          /* ENUM */
    int nvals;
    Type *ret;              /* FUNC */
    Type **params;
    int nparams;
    MapKind map;            /* MAP */
    uint64_t map_flags;     /* MAP: BPF_F_* */
    int numa_node;          /* MAP: -1 if unset */
    int kbtf_id;            /* kernel BTF type id (0 = none) */
    Pos pos;
    int rstate;             /* resolution: 0 new, 1 in progress, 2 done */
    Func *prog;             /* TY_PROGRAM: which program */
    struct Impl *impl;      /* TY_IMPL */
    Node *len_expr;         /* parser: ARRAY/STR length, MAP max_entries */
    const char *ns;         /* TY_NAMED: namespace (ns.T) */
};

extern Type *ty_void, *ty_bool, *ty_char, *ty_u8, *ty_u16, *ty_u32, *ty_u64,
    *ty_i8, *ty_i16, *ty_i32, *ty_i64, *ty_untyped, *ty_null, *ty_error,
    *ty_handle, *ty_perfatt;

Type *int_type(int size, bool is_signed);
Type *pointer_to(Type *base);
Type *array_of(Type *elem, long len);
Type *str_type(long cap);
Type *func_type(Type *ret, Type **params, int nparams);
Type *new_type(TypeKind kind, int size, int align);
void struct_layout(Type *t);            /* C layout of t->members */
bool is_integer(Type *t);               /* INT, CHAR, ENUM, UNTYPED */
bool is_scalar(Type *t);                /* integer, bool or pointer */
bool is_aggregate(Type *t);             /* struct, union, array, str */
bool same_type(Type *a, Type *b);
Member *find_member(Type *t, const char *name, int *offset);
const char *type_name(Type *t);         /* as the user writes it */
const char *map_kind_name(MapKind k);
bool map_is_percpu(MapKind k);
bool map_is_array(MapKind k);

/* ---- AST --------------------------------------------------------------- */

typedef enum {
    /* expressions */
    N_INT, N_BOOL, N_CHAR, N_STR, N_NULL, N_IDENT,
    N_BINARY,       /* op lhs rhs */
    N_UNARY,        /* op lhs: - ! ~ */
    N_ADDR, N_DEREF,
    N_ASSIGN,       /* op is 0 for '=', or the binary op of a compound */
    N_TERNARY,      /* cond ? then : els */
    N_CALL,         /* lhs(args) */
    N_INDEX,        /* lhs[rhs] */
    N_FIELD,        /* lhs.name or lhs->name (arrow set) */
    N_CAST,         /* lhs as ty; also inserted for implicit conversions */
    N_SIZEOF,       /* sizeof(ty) or sizeof(lhs) */
    N_STRUCT_LIT,   /* name { fields } : args hold N_FIELD_INIT */
    N_FIELD_INIT,   /* name: lhs */
    N_ARRAY_LIT,    /* [args] */
    N_ARRAY_REPEAT, /* [lhs; rhs] */
    N_MATCH,        /* match (cond) { arms } */
    N_ARM,          /* args = patterns (empty = default): body */
    N_IF,           /* also the if-expression and if (var x = e) (init) */
    N_BLOCK,        /* { body }: value = last expression, if any */
    N_SCOPED,       /* name::member (E::V): lhs ident, name member */
    /* statements */
    N_VAR,          /* var/const name: ty = init */
    N_EXPR,         /* expression statement */
    N_RETURN, N_BREAK, N_CONTINUE,
    N_FOR_RANGE,    /* for (var in init..rhs) body */
    N_FOR_MAP,      /* for (key, val) in lhs body */
    N_WHILE, N_LOOP,
    N_TRY,          /* try body, args = N_CATCH */
    N_CATCH,        /* catch ival (has_code) / catch _ : body */
    N_THROW, N_DEFER, N_DELETE,
} NodeKind;

typedef enum {
    OP_NONE,
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD,
    OP_AND, OP_OR, OP_XOR, OP_SHL, OP_SHR,
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
    OP_LAND, OP_LOR,
    OP_NEG, OP_NOT, OP_BITNOT,
} Op;

const char *op_spelling(Op op);

/* What an identifier or call resolved to. */
typedef enum {
    SYM_LOCAL, SYM_GLOBAL, SYM_FUNC, SYM_CONST, SYM_ENUMVAL, SYM_TYPE,
    SYM_MODULE, SYM_BUILTIN, SYM_IMPL,
} SymKind;

struct Sym {
    SymKind kind;
    const char *name;
    Pos pos;
    Var *var;           /* SYM_LOCAL */
    Global *global;     /* SYM_GLOBAL */
    Func *func;         /* SYM_FUNC */
    Type *type;         /* SYM_TYPE; SYM_ENUMVAL: the enum; SYM_CONST: declared */
    i128 val;           /* SYM_ENUMVAL, SYM_CONST (after evaluation) */
    Node *init;         /* SYM_CONST: defining expression */
    Module *module;     /* SYM_MODULE; otherwise the defining module */
    int builtin;        /* SYM_BUILTIN: Builtin id */
    int state;          /* const evaluation: 0 new, 1 busy, 2 done */
};

struct Node {
    NodeKind kind;
    Pos pos;
    Type *ty;               /* after checking: the expression's type */
    Op op;
    Node *lhs, *rhs, *cond, *then, *els, *body, *init;
    NodeVec args;           /* call args, literal elements, arms, patterns */
    const char *name;       /* ident, field, var name, struct literal type */
    Type *decl_ty;          /* N_VAR/N_CAST/N_SIZEOF: written type */
    bool arrow;             /* N_FIELD written with -> */
    bool has_code;          /* N_CATCH with a code */
    bool is_const;          /* N_VAR declared const */
    bool is_value;          /* N_BLOCK/N_IF/N_MATCH used for its value */
    bool no_default;        /* N_MATCH: no default arm */
    uint64_t ival;          /* N_INT/N_CHAR/N_BOOL literal value, N_CATCH code */
    char *sval;             /* N_STR bytes */
    int slen;
    /* resolution results */
    Sym *sym;               /* N_IDENT/N_CALL callee/N_FIELD on a module */
    Var *var;               /* N_VAR, N_FOR_RANGE, N_FOR_MAP key, if-var binding */
    Var *var2;              /* N_FOR_MAP value */
    Member *member;         /* N_FIELD */
    int member_off;         /* N_FIELD: byte offset of the member */
    bool is_const_val;      /* expression is a compile-time constant */
    i128 cval;              /* ... with this value */
    int builtin;            /* N_CALL of a built-in (Builtin id) / method */
    Func *func;             /* N_CALL of a user function */
    int tail_call;          /* N_CALL is a tail call into program kind */
    bool unreachable_arm;   /* N_ARM shadowed by earlier arms */
    bool implicit;          /* N_CAST inserted by the checker */
    bool in_try;            /* N_CALL/N_THROW inside a try block of its function */
    bool is_rebind;         /* N_ASSIGN: mapref variable re-bound to a map entry */
    bool is_presence;       /* N_BINARY ==/!= null on a map entry or reference */
    CatchSet *catches;      /* N_CALL/N_THROW: what encloses it; NULL: no try */
    bool from_var;          /* constant only through a never-assigned var: not a
                             * `const` expression (see var_const()) */
};

/* A local variable or parameter of one function. */
struct Var {
    const char *name;
    Type *ty;
    Pos pos;
    int id;                 /* index in Func.locals */
    bool is_param;
    bool is_mapref;         /* bound to a map entry (var x = m[k]) */
    bool is_const;          /* const, or initialised with a constant and never assigned */
    bool assigned;          /* assigned after its declaration */
    bool addr_taken;
    bool is_ret;            /* the named return value */
    Node *decl;             /* the N_VAR that declares it (NULL for params) */
    i128 cval;              /* value when is_const and integer */
};

typedef enum {
    FN_USER, FN_XDP, FN_TC, FN_PROBE, FN_TRACEPOINT, FN_PERF_EVENT,
    FN_STRUCT_OPS, FN_HELPER, FN_KFUNC, FN_PRIVATE, FN_TEST, FN_EXTERN,
} FuncKind;

typedef enum { TGT_USER, TGT_EBPF, TGT_KMOD, TGT_TEST, TGT_EXTERN } Target;

struct Func {
    const char *name;       /* as written */
    const char *sym_name;   /* unique name in the outputs */
    FuncKind kind;
    Target target;
    const char *attr_arg;   /* @tc("ingress"), @probe("fn+off"), @tracepoint("a/b") */
    bool tc_egress;
    bool kprobe;            /* @probe with +offset, or no BTF function */
    long probe_offset;
    const char *probe_func; /* the traced function (after syscall mapping) */
    Pos pos;
    VarVec params;
    Type *ret;
    Type *fty;              /* TY_FUNC */
    Var *ret_var;           /* named return */
    Node *body;             /* NULL for extern */
    VarVec locals;          /* every Var of the function, params first */
    Module *module;
    struct Impl *impl;      /* struct_ops member */
    bool is_main;
    bool uses_throw;        /* may throw out of itself (helpers) */
    bool called;            /* reachable from a program */
    int helper_id;          /* FN_EXTERN: BPF helper number, or 0 = kfunc */
    bool is_priv;           /* priv: not visible through an import */
    bool probe_syscall;     /* @probe on a syscall: __x64_sys_NAME, args from pt_regs */
    VEC(Node *) calls;      /* every call site in the body (call graph) */
    bool throws;            /* may throw to its caller (after propagation) */
    bool throws_any;        /* ... a code not known at compile time */
    VEC(int64_t) throw_codes; /* ... these constant codes */
    int index;              /* position in Program.funcs */
    VEC(Func *) callees;
};

typedef enum { GV_VAR, GV_LOCAL, GV_PIN, GV_MAP, GV_CONFIG } GlobalKind;

struct Global {
    const char *name;
    GlobalKind kind;
    Type *ty;               /* value type; TY_MAP for maps; struct for config */
    Node *init;
    Pos pos;
    bool pinned;            /* pin var / pin map */
    bool ebpf_used, user_used, written_by_ebpf, written_by_user;
    bool checking, checked; /* its declaration is being / has been checked */
    NodeVec flags;          /* @flags(...) arguments */
    int pin_offset;         /* GV_PIN: offset in the pinned_globals value */
    Pos flags_pos;
    Module *module;
};

typedef struct Impl {
    const char *name;
    const char *ops;        /* "tcp_congestion_ops" */
    Pos pos;
    VEC(Func *) funcs;
    VEC(Member) data;       /* name: value members (init holds the value) */
    Type *kty;              /* the kernel struct, when BTF has it */
    Module *module;
} Impl;

struct Scope {
    StrMap syms;
    Scope *up;
};

struct Module {
    const char *ns;         /* namespace of an import, NULL for the main file */
    const char *path;
    Scope scope;
    Module *parent;
};

typedef struct Decl {
    enum { D_FUNC, D_GLOBAL, D_STRUCT, D_ENUM, D_ALIAS, D_CONST, D_IMPL, D_IMPORT } kind;
    Pos pos;
    Module *module;
    Func *func;
    Global *global;
    Type *type;
    Sym *sym;
    Impl *impl;
    bool in_header;         /* declared in an included .kh file */
} Decl;

struct Program {
    const char *path;
    const char *project;    /* --project, or the file's base name */
    Module *main;
    VEC(Decl) decls;        /* every top-level declaration, in source order */
    VEC(Func *) funcs;
    VEC(Global *) globals;
    VEC(Impl *) impls;
    VEC(Type *) types;      /* user structs and enums */
    VEC(Module *) modules;
    Type *pinned_type;      /* the pinned_globals value: every pin var, C layout */
};

/* ---- builtins.c: built-in functions, helpers and constants ------------- */

typedef enum {
    B_NONE,
    B_PRINT, B_LOAD, B_ATTACH, B_DETACH, B_REGISTER, B_TEST, B_DISPATCH, B_SLEEP,
    B_DAEMON, B_EXIT, B_READ,
    B_HTONS, B_NTOHS, B_HTONL, B_NTOHL,
    B_HELPER,       /* a BPF helper; Node.ival holds its number */
    B_RB_RESERVE, B_RB_SUBMIT, B_RB_DISCARD, B_RB_OUTPUT, B_RB_ON_EVENT,
    B_PER_CPU,
    B_KERNEL_CALL,  /* a kernel-module call passed through to the kernel API */
} Builtin;

/* Where a built-in may be called. */
enum { IN_EBPF = 1, IN_USER = 2, IN_KMOD = 4, IN_TEST = 8, IN_ALL = 15 };

typedef struct BuiltinFn { const char *name; Builtin id; int where; } BuiltinFn;
/* A BPF helper: sig is "R:PPP" with R the result and P each parameter:
 * u/U/i/I u32/u64/i32/i64, p any pointer, c the context, M a map,
 * f a @helper function, v void (result), . more (variadic). */
typedef struct Helper { const char *name; int id; const char *sig; } Helper;

const BuiltinFn *builtin_fn(const char *name);
const Helper *helper_by_name(const char *name);
const Helper *helper_by_id(int id);
bool builtin_const(const char *name, i128 *val);
Type *builtin_type(const char *name);   /* perf_options, perf_type, ... */

/* ---- entry points ------------------------------------------------------ */

typedef struct FrontOpts {
    StrVec include_dirs;
    const char *btf_path;       /* NULL: /sys/kernel/btf/vmlinux; "none": built-ins only */
    const char *project;
} FrontOpts;

/* Parse a file and everything it includes and imports. */
Program *parse_program(const char *path, FrontOpts *opts);
/* Parse a buffer (fuzzing, unit tests). */
Program *parse_buffer(const char *name, const char *src, size_t len, FrontOpts *opts);
/* Resolve names, check types, assign targets. */
void check_program(Program *prog, FrontOpts *opts);
void dump_ast(Program *prog, FILE *out);
bool is_program(Func *f);      /* an eBPF entry point (not @helper) */

/* Kernel types by name (btf/kbtf.c); NULL when unknown. */
Type *kernel_type(const char *name);
bool kernel_enum_value(const char *name, i128 *val, Type **enum_ty);

#endif
