/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * btf.c -- a parser of BTF (the BPF Type Format in the .BTF section of an
 * object built with clang -g), for the libbpf flavour of programs: it reads
 * the BTF-defined maps of the `.maps` section and formats map keys and
 * values by their C types.
 *
 * Why our own parser and not libbpf's (Debian's libbpf-dev has one):
 *  - libbpf's BTF API is tied to its object model (struct btf is built by
 *    btf__new() and friends, then used by bpf_object__open(), which also
 *    wants to create kernel maps, sanitize BTF for the running kernel and
 *    apply CO-RE); we only need to read four kinds of facts, and our maps
 *    live in shared memory, not in the kernel;
 *  - the input is untrusted (it arrives over OpenFlow): a small parser
 *    whose every offset, length, kind and type id is checked here, and that
 *    builds with the rest of bpf/ under ASan, UBSan and libFuzzer, is
 *    easier to audit and fuzz than a dependency whose version we do not
 *    control (and which would be one more library for every process);
 *  - the format is small and stable (kinds 1-19 of linux/btf.h); about 1,200
 *    lines cover the parser, the libbpf map encoding and the formatter.
 *
 * Every check happens in bpf_btf_parse(): the header, the bounds and
 * alignment of the type and string sections, every type record (kind,
 * variable-length tail, name offset) and every type id a record refers to.
 * After that, walks over the graph (typedef chains, array sizes, the
 * formatter) only need a depth limit, because ids are known to be valid
 * but the graph may still have cycles (a typedef of itself).
 */
#include "bpf_priv.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The BTF format (linux/btf.h), spelled out here so that the library does
 * not depend on kernel headers. */
#define BTF_MAGIC           0xeB9F
#define BTF_VERSION         1
#define BTF_HDR_SIZE        24      /* the version-1 header */
#define BTF_TYPE_SIZE       12      /* name_off, info, size/type */
#define BTF_MAX_TYPES       0x000fffffu
#define BTF_MAX_VLEN        0xffffu

enum {
    BTF_K_INT = 1, BTF_K_PTR, BTF_K_ARRAY, BTF_K_STRUCT, BTF_K_UNION,
    BTF_K_ENUM, BTF_K_FWD, BTF_K_TYPEDEF, BTF_K_VOLATILE, BTF_K_CONST,
    BTF_K_RESTRICT, BTF_K_FUNC, BTF_K_FUNC_PROTO, BTF_K_VAR, BTF_K_DATASEC,
    BTF_K_FLOAT, BTF_K_DECL_TAG, BTF_K_TYPE_TAG, BTF_K_ENUM64,
    BTF_K_MAX = BTF_K_ENUM64,
};

#define BTF_INFO_KIND(info)  (((info) >> 24) & 0x1f)
#define BTF_INFO_VLEN(info)  ((info) & 0xffff)
#define BTF_INFO_KFLAG(info) ((info) >> 31)
#define BTF_INT_ENC_SIGNED 0x1
#define BTF_INT_ENC_CHAR   0x2
#define BTF_INT_ENC_BOOL   0x4

/* How deep a walk through typedefs, modifiers, arrays and nested structs
 * may go.  Real programs need a handful of levels; a cycle (only possible
 * in a crafted object) hits the limit and is reported, never followed. */
#define BTF_MAX_DEPTH 32

/* A libbpf map attribute (`__uint(name, val)`) is a pointer to an array of
 * val elements; val is at most this (the largest value any of them
 * meaningfully takes is max_entries). */
#define BTF_MAX_ATTR_VALUE 0xffffffffu

struct bpf_btf {
    uint8_t *data;              /* copy of the whole .BTF section */
    size_t len;
    const uint8_t *types;       /* type section */
    uint32_t types_len;
    const char *strs;           /* string section, NUL-terminated */
    uint32_t strs_len;
    uint32_t *off;              /* [ntypes] offset of type id in types;
                                 * off[0] unused (void) */
    uint32_t ntypes;            /* highest id + 1 */
};

/* One type record, decoded. */
struct btf_t {
    uint32_t name_off;
    uint32_t kind;
    uint32_t vlen;
    bool kflag;
    uint32_t size_type;         /* size or referred type */
    const uint8_t *tail;        /* kind-specific data after the record */
};

static uint32_t
rd32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof v);
    return le32toh(v);
}

static uint16_t
rd16(const uint8_t *p)
{
    uint16_t v;

    memcpy(&v, p, sizeof v);
    return le16toh(v);
}

/* Size of the kind-specific tail of a record of kind with vlen entries, or
 * -1 for an unknown kind. */
static int64_t
btf_tail_size(uint32_t kind, uint32_t vlen)
{
    switch (kind) {
    case BTF_K_INT: return 4;
    case BTF_K_PTR: case BTF_K_FWD: case BTF_K_TYPEDEF: case BTF_K_VOLATILE:
    case BTF_K_CONST: case BTF_K_RESTRICT: case BTF_K_FUNC:
    case BTF_K_FLOAT: case BTF_K_TYPE_TAG:
        return 0;
    case BTF_K_ARRAY: return 12;
    case BTF_K_STRUCT: case BTF_K_UNION: return 12 * (int64_t) vlen;
    case BTF_K_ENUM: return 8 * (int64_t) vlen;
    case BTF_K_FUNC_PROTO: return 8 * (int64_t) vlen;
    case BTF_K_VAR: return 4;
    case BTF_K_DATASEC: return 12 * (int64_t) vlen;
    case BTF_K_DECL_TAG: return 4;
    case BTF_K_ENUM64: return 12 * (int64_t) vlen;
    default: return -1;
    }
}

static const char *const btf_kind_names[] = {
    "UNKN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD",
    "TYPEDEF", "VOLATILE", "CONST", "RESTRICT", "FUNC", "FUNC_PROTO", "VAR",
    "DATASEC", "FLOAT", "DECL_TAG", "TYPE_TAG", "ENUM64",
};

static const char *
btf_kind_name(uint32_t kind)
{
    return kind <= BTF_K_MAX ? btf_kind_names[kind] : "unknown";
}

/* Decodes type id (valid, non-zero) of a parsed BTF. */
static void
btf_get(const struct bpf_btf *btf, uint32_t id, struct btf_t *t)
{
    const uint8_t *p = btf->types + btf->off[id];
    uint32_t info = rd32(p + 4);

    t->name_off = rd32(p);
    t->kind = BTF_INFO_KIND(info);
    t->vlen = BTF_INFO_VLEN(info);
    t->kflag = BTF_INFO_KFLAG(info);
    t->size_type = rd32(p + 8);
    t->tail = p + BTF_TYPE_SIZE;
}

static const char *
btf_str(const struct bpf_btf *btf, uint32_t off)
{
    /* Offsets were checked at parse time. */
    return off < btf->strs_len ? btf->strs + off : "";
}

static int
btf_check_name(const struct bpf_btf *btf, uint32_t id, uint32_t off,
               char *err, size_t errlen)
{
    if (off >= btf->strs_len) {
        return bpf_set_err(err, errlen, EINVAL, "BTF type %" PRIu32 ": name "
                           "offset %" PRIu32 " is outside the string section "
                           "(%" PRIu32 " bytes)", id, off, btf->strs_len);
    }
    return 0;
}

static int
btf_check_ref(const struct bpf_btf *btf, uint32_t id, uint32_t ref,
              const char *what, char *err, size_t errlen)
{
    if (ref >= btf->ntypes) {
        return bpf_set_err(err, errlen, EINVAL, "BTF type %" PRIu32 " (%s): "
                           "%s refers to type %" PRIu32 ", past the last "
                           "type %" PRIu32, id, btf_kind_name(
                               BTF_INFO_KIND(rd32(btf->types + btf->off[id]
                                                  + 4))),
                           what, ref, btf->ntypes - 1);
    }
    return 0;
}

/* Checks the names and type references of type id, once every record is
 * known to be inside the type section. */
static int
btf_check_type(const struct bpf_btf *btf, uint32_t id, char *err,
               size_t errlen)
{
    struct btf_t t;
    uint32_t i;
    int ret;

    btf_get(btf, id, &t);
    ret = btf_check_name(btf, id, t.name_off, err, errlen);
    if (ret) {
        return ret;
    }
    switch (t.kind) {
    case BTF_K_INT: {
        uint32_t enc = rd32(t.tail);
        uint32_t bits = enc & 0xff, off = (enc >> 16) & 0xff;

        if (t.size_type != 1 && t.size_type != 2 && t.size_type != 4
            && t.size_type != 8 && t.size_type != 16) {
            return bpf_set_err(err, errlen, EINVAL, "BTF type %" PRIu32
                               " (INT): size %" PRIu32 " is not 1, 2, 4, 8 "
                               "or 16", id, t.size_type);
        }
        if (bits == 0 || bits + off > t.size_type * 8) {
            return bpf_set_err(err, errlen, EINVAL, "BTF type %" PRIu32
                               " (INT): %" PRIu32 " bits at offset %" PRIu32
                               " do not fit in %" PRIu32 " bytes", id, bits,
                               off, t.size_type);
        }
        return 0;
    }
    case BTF_K_PTR: case BTF_K_TYPEDEF: case BTF_K_VOLATILE:
    case BTF_K_CONST: case BTF_K_RESTRICT: case BTF_K_TYPE_TAG:
    case BTF_K_FUNC: case BTF_K_VAR: case BTF_K_DECL_TAG:
    case BTF_K_FUNC_PROTO:
        /* FUNC_PROTO: size_type is the return type. */
        ret = btf_check_ref(btf, id, t.size_type, "its type", err, errlen);
        if (ret || t.kind != BTF_K_FUNC_PROTO) {
            return ret;
        }
        for (i = 0; i < t.vlen; i++) {
            ret = btf_check_name(btf, id, rd32(t.tail + 8 * i), err, errlen);
            if (!ret) {
                ret = btf_check_ref(btf, id, rd32(t.tail + 8 * i + 4),
                                    "a parameter", err, errlen);
            }
            if (ret) {
                return ret;
            }
        }
        return 0;
    case BTF_K_ARRAY:
        ret = btf_check_ref(btf, id, rd32(t.tail), "its element type", err,
                            errlen);
        if (!ret) {
            ret = btf_check_ref(btf, id, rd32(t.tail + 4), "its index type",
                                err, errlen);
        }
        return ret;
    case BTF_K_STRUCT: case BTF_K_UNION:
        for (i = 0; i < t.vlen; i++) {
            const uint8_t *m = t.tail + 12 * i;
            uint32_t moff = rd32(m + 8);
            uint64_t bit = t.kflag ? (moff & 0xffffff) : moff;

            ret = btf_check_name(btf, id, rd32(m), err, errlen);
            if (!ret) {
                ret = btf_check_ref(btf, id, rd32(m + 4), "a member", err,
                                    errlen);
            }
            if (ret) {
                return ret;
            }
            if (bit / 8 > t.size_type) {
                return bpf_set_err(err, errlen, EINVAL, "BTF type %" PRIu32
                                   " (%s): member %" PRIu32 " at bit %" PRIu64
                                   " is past its size %" PRIu32, id,
                                   btf_kind_name(t.kind), i, bit,
                                   t.size_type);
            }
        }
        return 0;
    case BTF_K_ENUM: case BTF_K_ENUM64:
        if (t.size_type == 0 || t.size_type > 8) {
            return bpf_set_err(err, errlen, EINVAL, "BTF type %" PRIu32
                               " (%s): size %" PRIu32 " is not 1 to 8", id,
                               btf_kind_name(t.kind), t.size_type);
        }
        for (i = 0; i < t.vlen; i++) {
            ret = btf_check_name(btf, id,
                                 rd32(t.tail + (t.kind == BTF_K_ENUM ? 8 : 12)
                                               * i), err, errlen);
            if (ret) {
                return ret;
            }
        }
        return 0;
    case BTF_K_DATASEC:
        for (i = 0; i < t.vlen; i++) {
            ret = btf_check_ref(btf, id, rd32(t.tail + 12 * i), "a variable",
                                err, errlen);
            if (ret) {
                return ret;
            }
        }
        return 0;
    case BTF_K_FLOAT:
        if (t.size_type != 2 && t.size_type != 4 && t.size_type != 8
            && t.size_type != 12 && t.size_type != 16) {
            return bpf_set_err(err, errlen, EINVAL, "BTF type %" PRIu32
                               " (FLOAT): size %" PRIu32 " is invalid", id,
                               t.size_type);
        }
        return 0;
    default:    /* FWD */
        return 0;
    }
}

/* Parses the .BTF section of len bytes at data (copied; the caller's
 * buffer is not kept).  Every offset, length, kind and type id is checked,
 * so that the accessors below never read outside the copy.  Returns the
 * parsed BTF, to be freed with bpf_btf_free(), or NULL with errno set
 * (EINVAL malformed, with a message in err naming the field or type at
 * fault; E2BIG too many types; ENOMEM). */
struct bpf_btf *
bpf_btf_parse(const void *data, size_t len, char *err, size_t errlen)
{
    struct bpf_btf *btf = NULL;
    const uint8_t *p = data;
    uint32_t hdr_len, type_off, type_len, str_off, str_len, pos, n, cap;
    uint64_t body;
    int ret;

    if (!p || len < BTF_HDR_SIZE) {
        ret = bpf_set_err(err, errlen, EINVAL, "BTF is truncated: %zu "
                          "bytes, smaller than its %d-byte header", len,
                          BTF_HDR_SIZE);
        goto fail;
    }
    if (rd16(p) != BTF_MAGIC) {
        ret = bpf_set_err(err, errlen, EINVAL, "BTF magic 0x%04x is not "
                          "0x%04x%s", rd16(p), BTF_MAGIC,
                          rd16(p) == 0x9feb ? " (big-endian BTF is not "
                          "supported)" : "");
        goto fail;
    }
    if (p[2] != BTF_VERSION) {
        ret = bpf_set_err(err, errlen, EINVAL, "BTF version %u is not %d",
                          p[2], BTF_VERSION);
        goto fail;
    }
    if (p[3] != 0) {
        ret = bpf_set_err(err, errlen, EINVAL, "BTF flags 0x%02x: none are "
                          "defined", p[3]);
        goto fail;
    }
    hdr_len = rd32(p + 4);
    type_off = rd32(p + 8);
    type_len = rd32(p + 12);
    str_off = rd32(p + 16);
    str_len = rd32(p + 20);
    if (hdr_len < BTF_HDR_SIZE || hdr_len > len) {
        ret = bpf_set_err(err, errlen, EINVAL, "BTF header length %" PRIu32
                          " is not between %d and the section size %zu",
                          hdr_len, BTF_HDR_SIZE, len);
        goto fail;
    }
    for (pos = BTF_HDR_SIZE; pos < hdr_len; pos++) {
        /* A longer header from a newer format: fine if the fields we do
         * not know are zero (as the kernel requires). */
        if (p[pos]) {
            ret = bpf_set_err(err, errlen, EINVAL, "BTF header byte %" PRIu32
                              " is not zero (unknown header field)", pos);
            goto fail;
        }
    }
    body = len - hdr_len;
    if (type_off % 4 || (uint64_t) type_off + type_len > body) {
        ret = bpf_set_err(err, errlen, EINVAL, "BTF type section (offset %"
                          PRIu32 ", %" PRIu32 " bytes) is misaligned or "
                          "extends past the end of the BTF (%" PRIu64
                          " bytes after the header)", type_off, type_len,
                          body);
        goto fail;
    }
    if ((uint64_t) str_off + str_len > body) {
        ret = bpf_set_err(err, errlen, EINVAL, "BTF string section (offset %"
                          PRIu32 ", %" PRIu32 " bytes) extends past the end "
                          "of the BTF (%" PRIu64 " bytes after the header)",
                          str_off, str_len, body);
        goto fail;
    }
    if (type_len && str_len
        && (uint64_t) type_off < (uint64_t) str_off + str_len
        && (uint64_t) str_off < (uint64_t) type_off + type_len) {
        ret = bpf_set_err(err, errlen, EINVAL, "BTF type section (offset %"
                          PRIu32 ") and string section (offset %" PRIu32
                          ") overlap", type_off, str_off);
        goto fail;
    }
    if (type_len % 4) {
        ret = bpf_set_err(err, errlen, EINVAL, "BTF type section length %"
                          PRIu32 " is not a multiple of 4", type_len);
        goto fail;
    }
    if (str_len == 0 || p[hdr_len + str_off] != '\0'
        || p[hdr_len + str_off + str_len - 1] != '\0') {
        ret = bpf_set_err(err, errlen, EINVAL, "BTF string section (%" PRIu32
                          " bytes) must start and end with a NUL byte",
                          str_len);
        goto fail;
    }

    btf = calloc(1, sizeof *btf);
    if (!btf || !(btf->data = malloc(len))) {
        ret = bpf_set_err(err, errlen, ENOMEM, "out of memory");
        goto fail;
    }
    memcpy(btf->data, p, len);
    btf->len = len;
    btf->types = btf->data + hdr_len + type_off;
    btf->types_len = type_len;
    btf->strs = (const char *) btf->data + hdr_len + str_off;
    btf->strs_len = str_len;

    /* Pass 1: the records one after the other, each inside the section. */
    cap = 64;
    btf->off = malloc(cap * sizeof *btf->off);
    if (!btf->off) {
        ret = bpf_set_err(err, errlen, ENOMEM, "out of memory");
        goto fail;
    }
    btf->off[0] = 0;
    n = 1;
    for (pos = 0; pos < type_len;) {
        uint32_t info, kind;
        int64_t tail;

        if (type_len - pos < BTF_TYPE_SIZE) {
            ret = bpf_set_err(err, errlen, EINVAL, "BTF type %" PRIu32 " at "
                              "offset %" PRIu32 " is truncated (%" PRIu32
                              " bytes left)", n, pos, type_len - pos);
            goto fail;
        }
        info = rd32(btf->types + pos + 4);
        kind = BTF_INFO_KIND(info);
        tail = btf_tail_size(kind, BTF_INFO_VLEN(info));
        if (kind == 0 || tail < 0) {
            ret = bpf_set_err(err, errlen, EINVAL, "BTF type %" PRIu32 " at "
                              "offset %" PRIu32 ": unknown kind %" PRIu32, n,
                              pos, kind);
            goto fail;
        }
        if ((uint64_t) tail > type_len - pos - BTF_TYPE_SIZE) {
            ret = bpf_set_err(err, errlen, EINVAL, "BTF type %" PRIu32 " (%s, "
                              "%" PRIu32 " entries) at offset %" PRIu32
                              " extends past the type section (%" PRIu32
                              " bytes)", n, btf_kind_name(kind),
                              BTF_INFO_VLEN(info), pos, type_len);
            goto fail;
        }
        if (n > BTF_MAX_TYPES) {
            ret = bpf_set_err(err, errlen, E2BIG, "BTF has more than %u "
                              "types", BTF_MAX_TYPES);
            goto fail;
        }
        if (n == cap) {
            uint32_t *grown = realloc(btf->off, 2 * cap * sizeof *btf->off);

            if (!grown) {
                ret = bpf_set_err(err, errlen, ENOMEM, "out of memory");
                goto fail;
            }
            btf->off = grown;
            cap *= 2;
        }
        btf->off[n++] = pos;
        pos += BTF_TYPE_SIZE + (uint32_t) tail;
    }
    btf->ntypes = n;

    /* Pass 2: names and references, now that every id is known. */
    for (pos = 1; pos < n; pos++) {
        ret = btf_check_type(btf, pos, err, errlen);
        if (ret) {
            goto fail;
        }
    }
    return btf;

fail:
    bpf_btf_free(btf);
    errno = -ret;
    return NULL;
}

/* Frees a parsed BTF (NULL is fine). */
void
bpf_btf_free(struct bpf_btf *btf)
{
    if (btf) {
        free(btf->off);
        free(btf->data);
        free(btf);
    }
}

/* Returns the number of type ids of btf, including void (id 0). */
uint32_t
bpf_btf_ntypes(const struct bpf_btf *btf)
{
    return btf ? btf->ntypes : 0;
}

/* Returns the kind (BTF_KIND_* of linux/btf.h) of type id, 0 for void, or
 * -ENOENT if id is not a type of btf. */
int
bpf_btf_kind(const struct bpf_btf *btf, uint32_t id)
{
    struct btf_t t;

    if (!btf || id >= btf->ntypes) {
        return -ENOENT;
    }
    if (id == 0) {
        return 0;
    }
    btf_get(btf, id, &t);
    return (int) t.kind;
}

/* Returns the name of type id ("" if anonymous or not a type). */
const char *
bpf_btf_name(const struct bpf_btf *btf, uint32_t id)
{
    struct btf_t t;

    if (!btf || id == 0 || id >= btf->ntypes) {
        return "";
    }
    btf_get(btf, id, &t);
    return btf_str(btf, t.name_off);
}

/* Returns the string at offset off of the string section, or NULL if off
 * is outside it. */
const char *
bpf_btf_str(const struct bpf_btf *btf, uint32_t off)
{
    return btf && off < btf->strs_len ? btf->strs + off : NULL;
}

static bool
btf_is_modifier(uint32_t kind)
{
    return kind == BTF_K_TYPEDEF || kind == BTF_K_VOLATILE
           || kind == BTF_K_CONST || kind == BTF_K_RESTRICT
           || kind == BTF_K_TYPE_TAG;
}

/* Follows typedef, const, volatile, restrict and type tags from type id
 * and stores the first other type in *out (0 for void).  Returns 0, or
 * -ENOENT (id not a type) or -ELOOP (a chain longer than BTF_MAX_DEPTH,
 * which includes every cycle). */
int
bpf_btf_resolve(const struct bpf_btf *btf, uint32_t id, uint32_t *out)
{
    int depth;

    if (!btf || id >= btf->ntypes) {
        return -ENOENT;
    }
    for (depth = 0; depth <= BTF_MAX_DEPTH; depth++) {
        struct btf_t t;

        if (id == 0) {
            *out = 0;
            return 0;
        }
        btf_get(btf, id, &t);
        if (!btf_is_modifier(t.kind)) {
            *out = id;
            return 0;
        }
        id = t.size_type;
    }
    return -ELOOP;
}

static int
btf_size_depth(const struct bpf_btf *btf, uint32_t id, uint64_t *size,
               int depth)
{
    struct btf_t t;
    uint64_t elem;
    int ret;

    if (depth > BTF_MAX_DEPTH) {
        return -ELOOP;
    }
    ret = bpf_btf_resolve(btf, id, &id);
    if (ret) {
        return ret;
    }
    if (id == 0) {
        return -EINVAL;     /* void has no size */
    }
    btf_get(btf, id, &t);
    switch (t.kind) {
    case BTF_K_INT: case BTF_K_STRUCT: case BTF_K_UNION: case BTF_K_ENUM:
    case BTF_K_ENUM64: case BTF_K_FLOAT: case BTF_K_DATASEC:
        *size = t.size_type;
        return 0;
    case BTF_K_PTR:
        *size = sizeof(uint64_t);   /* BPF pointers are 64-bit */
        return 0;
    case BTF_K_VAR:
        return btf_size_depth(btf, t.size_type, size, depth + 1);
    case BTF_K_ARRAY:
        ret = btf_size_depth(btf, rd32(t.tail), &elem, depth + 1);
        if (ret) {
            return ret;
        }
        /* elem is at most UINT32_MAX (checked below at every level), so
         * the product fits in 64 bits; a type of 4 GiB or more is not a
         * map key or value. */
        *size = elem * rd32(t.tail + 8);
        return *size > UINT32_MAX ? -E2BIG : 0;
    default:
        return -EINVAL;     /* FWD, FUNC, FUNC_PROTO, DECL_TAG */
    }
}

/* Stores in *size the size in bytes of type id (ints, floats, enums,
 * structs, unions, pointers = 8, arrays = elements x element size, through
 * typedefs and modifiers).  Returns 0, -ENOENT (not a type), -EINVAL (a
 * type without a size: void, function, forward declaration), -E2BIG (an
 * array of 4 GiB or more) or -ELOOP (too deep or cyclic). */
int
bpf_btf_size(const struct bpf_btf *btf, uint32_t id, uint64_t *size)
{
    return btf_size_depth(btf, id, size, 0);
}

/* Finds the DATASEC named name.  Returns its type id, or 0 if there is
 * none. */
uint32_t
bpf_btf_find_datasec(const struct bpf_btf *btf, const char *name)
{
    uint32_t id;

    for (id = 1; btf && id < btf->ntypes; id++) {
        struct btf_t t;

        btf_get(btf, id, &t);
        if (t.kind == BTF_K_DATASEC && !strcmp(btf_str(btf, t.name_off),
                                               name)) {
            return id;
        }
    }
    return 0;
}

/* Returns the number of variables of DATASEC sec (0 if sec is not a
 * DATASEC) and, if i is below it, stores the type id of variable i in
 * *var. */
uint32_t
bpf_btf_datasec_var(const struct bpf_btf *btf, uint32_t sec, uint32_t i,
                    uint32_t *var)
{
    struct btf_t t;

    if (!btf || sec == 0 || sec >= btf->ntypes) {
        return 0;
    }
    btf_get(btf, sec, &t);
    if (t.kind != BTF_K_DATASEC) {
        return 0;
    }
    if (i < t.vlen && var) {
        *var = rd32(t.tail + 12 * i);
    }
    return t.vlen;
}

/* ---------------------------------------------------------------------
 * BTF-defined maps, encoded the way libbpf's bpf_helpers.h does it:
 *   __uint(name, val)  ->  int (*name)[val]     pointer to array of val
 *   __type(name, T)    ->  typeof(T) *name      pointer to T
 * ------------------------------------------------------------------- */

/* Reads `__uint(name, val)`: member type must be a pointer to an array. */
static int
btf_map_uint(const struct bpf_btf *btf, const char *map, const char *field,
             uint32_t type, uint32_t *val, char *err, size_t errlen)
{
    struct btf_t t;
    uint32_t id;

    if (bpf_btf_resolve(btf, type, &id) || id == 0
        || (btf_get(btf, id, &t), t.kind != BTF_K_PTR)
        || bpf_btf_resolve(btf, t.size_type, &id) || id == 0
        || (btf_get(btf, id, &t), t.kind != BTF_K_ARRAY)) {
        return bpf_set_err(err, errlen, EINVAL, "map '%s': field '%s' is not "
                           "declared with __uint(%s, value) (a pointer to "
                           "an array)", map, field, field);
    }
    *val = rd32(t.tail + 8);
    return 0;
}

/* Reads `__type(name, T)`: member type must be a pointer to T; stores T's
 * id and size. */
static int
btf_map_type(const struct bpf_btf *btf, const char *map, const char *field,
             uint32_t type, uint32_t *tid, uint32_t *size, char *err,
             size_t errlen)
{
    struct btf_t t;
    uint64_t sz;
    uint32_t id;
    int ret;

    if (bpf_btf_resolve(btf, type, &id) || id == 0
        || (btf_get(btf, id, &t), t.kind != BTF_K_PTR)) {
        return bpf_set_err(err, errlen, EINVAL, "map '%s': field '%s' is not "
                           "declared with __type(%s, T) (a pointer to T)",
                           map, field, field);
    }
    ret = bpf_btf_size(btf, t.size_type, &sz);
    if (ret) {
        return bpf_set_err(err, errlen, -ret, "map '%s': type of '%s' has "
                           "no size (%s)", map, field,
                           ret == -ELOOP ? "type chain too deep or cyclic"
                           : "void, function or incomplete type");
    }
    if (sz > UINT32_MAX) {
        return bpf_set_err(err, errlen, E2BIG, "map '%s': type of '%s' is "
                           "%" PRIu64 " bytes", map, field, sz);
    }
    *tid = t.size_type;
    *size = (uint32_t) sz;
    return 0;
}

/* Reads the libbpf map definition of variable var (a VAR of the .maps
 * DATASEC) into *def: name, kernel map type, sizes, max_entries, flags,
 * map_extra and the BTF ids of the key and value types (0 when given as a
 * size).  Fields: type, key, key_size, value, value_size, max_entries,
 * map_flags, map_extra, numa_node and pinning (both ignored: oko's maps
 * are shared memory).  Inner maps (`values`) and unknown fields are
 * errors.  Returns 0, or a negative errno with a message in err naming
 * the map and the field. */
int
bpf_btf_map_def(const struct bpf_btf *btf, uint32_t var,
                struct bpf_btf_map *def, char *err, size_t errlen)
{
    struct btf_t t;
    const char *name;
    uint32_t id, i, size = 0;
    int ret;

    memset(def, 0, sizeof *def);
    if (!btf || var == 0 || var >= btf->ntypes) {
        return bpf_set_err(err, errlen, EINVAL, "BTF: .maps variable type %"
                           PRIu32 " does not exist", var);
    }
    btf_get(btf, var, &t);
    name = btf_str(btf, t.name_off);
    if (t.kind != BTF_K_VAR) {
        return bpf_set_err(err, errlen, EINVAL, "BTF: .maps entry %" PRIu32
                           " is a %s, not a variable", var,
                           btf_kind_name(t.kind));
    }
    if (!*name || strlen(name) >= sizeof def->name) {
        return bpf_set_err(err, errlen, EINVAL, "BTF: .maps variable %" PRIu32
                           " has no name or a name longer than %zu bytes",
                           var, sizeof def->name - 1);
    }
    strcpy(def->name, name);
    if (bpf_btf_resolve(btf, t.size_type, &id) || id == 0
        || (btf_get(btf, id, &t), t.kind != BTF_K_STRUCT)) {
        return bpf_set_err(err, errlen, EINVAL, "map '%s': its type is not a "
                           "struct (declare it as struct { __uint(type, ...); "
                           "... } %s SEC(\".maps\"))", name, name);
    }
    for (i = 0; i < t.vlen; i++) {
        const uint8_t *m = t.tail + 12 * i;
        const char *field = btf_str(btf, rd32(m));
        uint32_t mtype = rd32(m + 4), val;

        if (!strcmp(field, "type")) {
            ret = btf_map_uint(btf, name, field, mtype, &def->type, err,
                               errlen);
            def->has_type = !ret;
        } else if (!strcmp(field, "max_entries")) {
            ret = btf_map_uint(btf, name, field, mtype, &def->max_entries,
                               err, errlen);
        } else if (!strcmp(field, "map_flags")) {
            ret = btf_map_uint(btf, name, field, mtype, &def->map_flags, err,
                               errlen);
        } else if (!strcmp(field, "map_extra")) {
            ret = btf_map_uint(btf, name, field, mtype, &val, err, errlen);
            def->map_extra = val;
        } else if (!strcmp(field, "numa_node")
                   || !strcmp(field, "pinning")) {
            ret = btf_map_uint(btf, name, field, mtype, &val, err, errlen);
        } else if (!strcmp(field, "key_size")
                   || !strcmp(field, "value_size")) {
            bool key = field[0] == 'k';
            uint32_t *dst = key ? &def->key_size : &def->value_size;

            ret = btf_map_uint(btf, name, field, mtype, &val, err, errlen);
            if (!ret && *dst && *dst != val) {
                ret = bpf_set_err(err, errlen, EINVAL, "map '%s': %s %" PRIu32
                                  " disagrees with the size %" PRIu32 " of "
                                  "its %s type", name, field, val, *dst,
                                  key ? "key" : "value");
            }
            *dst = val;
        } else if (!strcmp(field, "key") || !strcmp(field, "value")) {
            bool key = field[0] == 'k';
            uint32_t *dst = key ? &def->key_size : &def->value_size;

            ret = btf_map_type(btf, name, field, mtype,
                               key ? &def->key_type : &def->value_type,
                               &size, err, errlen);
            if (!ret && *dst && *dst != size) {
                ret = bpf_set_err(err, errlen, EINVAL, "map '%s': %s_size %"
                                  PRIu32 " disagrees with the size %" PRIu32
                                  " of its %s type", name, field, *dst, size,
                                  field);
            }
            *dst = size;
        } else if (!strcmp(field, "values")) {
            ret = bpf_set_err(err, errlen, ENOTSUP, "map '%s': maps of maps "
                              "(field 'values') are not supported", name);
        } else {
            ret = bpf_set_err(err, errlen, EINVAL, "map '%s': unknown field "
                              "'%s' in its definition", name, field);
        }
        if (ret) {
            return ret;
        }
    }
    if (!def->has_type) {
        return bpf_set_err(err, errlen, EINVAL, "map '%s': no map type "
                           "(__uint(type, BPF_MAP_TYPE_...))", name);
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * Formatting values by their C types
 * ------------------------------------------------------------------- */

struct btf_out {
    char *buf;
    size_t size;
    size_t len;                 /* as if buf were large enough */
    uint32_t items;             /* values formatted so far */
};

/* At most this many values (members, elements) per call: arrays of
 * zero-sized structs can announce billions of elements in no bytes. */
#define BTF_MAX_ITEMS (1u << 20)

static void __attribute__((format(printf, 2, 3)))
out_printf(struct btf_out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(o->len < o->size ? o->buf + o->len : NULL,
                  o->len < o->size ? o->size - o->len : 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        o->len += (size_t) n;
    }
}

static void
out_hex(struct btf_out *o, const uint8_t *p, size_t n)
{
    size_t i;

    out_printf(o, "0x");
    for (i = 0; i < n; i++) {
        out_printf(o, "%02x", p[i]);
    }
}

/* Reads nbits (1 to 64) at bit offset bit of p (little-endian). */
static uint64_t
btf_bits(const uint8_t *p, uint64_t bit, uint32_t nbits)
{
    uint64_t v = 0;
    uint32_t i;

    for (i = 0; i < nbits; i++) {
        uint64_t b = bit + i;

        v |= (uint64_t) ((p[b / 8] >> (b % 8)) & 1) << i;
    }
    return v;
}

static bool
btf_name_is_ipv4(const char *name)
{
    return name && (strstr(name, "addr") || !strncmp(name, "ip", 2));
}

static void
out_int(struct btf_out *o, uint64_t v, uint32_t nbits, bool is_signed,
        bool is_bool)
{
    if (is_bool) {
        out_printf(o, "%s", v ? "true" : "false");
    } else if (is_signed) {
        int64_t s = nbits < 64 && (v >> (nbits - 1)) & 1
                    ? (int64_t) (v | ~((UINT64_C(1) << nbits) - 1))
                    : (int64_t) v;

        out_printf(o, "%" PRId64, s);
    } else {
        out_printf(o, "%" PRIu64, v);
    }
}

static int btf_fmt(const struct bpf_btf *btf, uint32_t id,
                   const uint8_t *p, uint64_t bit, uint32_t bitsize,
                   const char *field, struct btf_out *o, int depth);

static int
btf_fmt_members(const struct bpf_btf *btf, const struct btf_t *t,
                const uint8_t *p, struct btf_out *o, int depth)
{
    uint32_t i;
    int ret;

    out_printf(o, "{ ");
    for (i = 0; i < t->vlen; i++) {
        const uint8_t *m = t->tail + 12 * i;
        const char *mname = btf_str(btf, rd32(m));
        uint32_t moff = rd32(m + 8);
        uint64_t bit = t->kflag ? (moff & 0xffffff) : moff;
        uint32_t bitsize = t->kflag ? moff >> 24 : 0;
        uint64_t msize = 0;

        if (bitsize) {
            msize = (bit % 8 + bitsize + 7) / 8;
        } else {
            ret = bpf_btf_size(btf, rd32(m + 4), &msize);
            if (ret) {
                return ret;
            }
        }
        if (bit / 8 > t->size_type || msize > t->size_type - bit / 8) {
            return -EINVAL;     /* the member sticks out of its struct */
        }
        if (i) {
            out_printf(o, ", ");
        }
        if (*mname) {
            out_printf(o, ".%s = ", mname);
        }
        ret = btf_fmt(btf, rd32(m + 4), p, bit, bitsize, mname, o,
                      depth + 1);
        if (ret) {
            return ret;
        }
    }
    out_printf(o, t->vlen ? " }" : "}");
    return 0;
}

/* Formats the object of type id at bit offset bit of p (the caller has
 * checked that its bytes are there; bitsize != 0 for a bitfield). */
static int
btf_fmt(const struct bpf_btf *btf, uint32_t id, const uint8_t *p,
        uint64_t bit, uint32_t bitsize, const char *field,
        struct btf_out *o, int depth)
{
    struct btf_t t;
    uint64_t v;
    uint32_t i;
    int ret;

    if (depth > BTF_MAX_DEPTH) {
        return -ELOOP;
    }
    if (++o->items > BTF_MAX_ITEMS) {
        return -E2BIG;
    }
    ret = bpf_btf_resolve(btf, id, &id);
    if (ret) {
        return ret;
    }
    if (id == 0) {
        return -EINVAL;
    }
    btf_get(btf, id, &t);
    if (bitsize) {
        /* A bitfield: an integer or an enum. */
        bool sgn = t.kind == BTF_K_INT && (rd32(t.tail) >> 24)
                                          & BTF_INT_ENC_SIGNED;

        out_int(o, btf_bits(p, bit, bitsize > 64 ? 64 : bitsize),
                bitsize > 64 ? 64 : bitsize, sgn, false);
        return 0;
    }
    p += bit / 8;
    switch (t.kind) {
    case BTF_K_INT: {
        uint32_t enc = rd32(t.tail), nbits = enc & 0xff;
        uint32_t enc_off = (enc >> 16) & 0xff, flags = enc >> 24;

        if (nbits > 64) {
            out_hex(o, p, t.size_type);
            return 0;
        }
        v = btf_bits(p, enc_off, nbits);
        if (t.size_type == 4 && nbits == 32 && btf_name_is_ipv4(field)) {
            /* Addresses are kept in network order, as in the packet. */
            out_printf(o, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
            return 0;
        }
        out_int(o, v, nbits, flags & BTF_INT_ENC_SIGNED,
                flags & BTF_INT_ENC_BOOL);
        return 0;
    }
    case BTF_K_ENUM: case BTF_K_ENUM64: {
        bool sgn = t.kflag;

        v = btf_bits(p, 0, t.size_type * 8);
        for (i = 0; i < t.vlen; i++) {
            uint64_t ev;

            if (t.kind == BTF_K_ENUM) {
                /* 32-bit values, sign-extended as the C compiler would. */
                ev = (uint64_t) (int64_t) (int32_t) rd32(t.tail + 8 * i + 4);
            } else {
                ev = rd32(t.tail + 12 * i + 4)
                     | (uint64_t) rd32(t.tail + 12 * i + 8) << 32;
            }
            if (t.size_type < 8) {
                ev &= (UINT64_C(1) << (t.size_type * 8)) - 1;
            }
            if (ev == v) {
                out_printf(o, "%s", btf_str(btf, rd32(t.tail
                                   + (t.kind == BTF_K_ENUM ? 8 : 12) * i)));
                return 0;
            }
        }
        out_int(o, v, t.size_type * 8, sgn, false);
        return 0;
    }
    case BTF_K_PTR:
        memcpy(&v, p, sizeof v);
        out_printf(o, "0x%" PRIx64, le64toh(v));
        return 0;
    case BTF_K_FLOAT:
        if (t.size_type == sizeof(float)) {
            float f;

            memcpy(&f, p, sizeof f);
            out_printf(o, "%g", (double) f);
        } else if (t.size_type == sizeof(double)) {
            double d;

            memcpy(&d, p, sizeof d);
            out_printf(o, "%g", d);
        } else {
            out_hex(o, p, t.size_type);
        }
        return 0;
    case BTF_K_ARRAY: {
        uint32_t elem = rd32(t.tail), n = rd32(t.tail + 8), rid;
        uint64_t esize;
        struct btf_t e;

        ret = bpf_btf_size(btf, elem, &esize);
        if (ret) {
            return ret;
        }
        ret = bpf_btf_resolve(btf, elem, &rid);
        if (ret) {
            return ret;
        }
        btf_get(btf, rid, &e);
        if (e.kind == BTF_K_INT && e.size_type == 1) {
            out_hex(o, p, n);       /* u8 / char arrays: bytes */
            return 0;
        }
        out_printf(o, "[ ");
        for (i = 0; i < n; i++) {
            if (i) {
                out_printf(o, ", ");
            }
            ret = btf_fmt(btf, elem, p + i * esize, 0, 0, NULL, o,
                          depth + 1);
            if (ret) {
                return ret;
            }
        }
        out_printf(o, n ? " ]" : "]");
        return 0;
    }
    case BTF_K_STRUCT: case BTF_K_UNION:
        return btf_fmt_members(btf, &t, p, o, depth);
    default:
        return -EINVAL;
    }
}

/* Formats the len bytes at data as an object of type id into buf (buflen
 * bytes, always NUL-terminated when buflen > 0), in C-initialiser style:
 *   structs and unions  { .saddr = 10.0.0.1, .count = 5 }
 *   integers            decimal (signed if the type is), bool true/false,
 *                       4-byte integer members whose name contains "addr"
 *                       or starts with "ip": IPv4 dotted quad of the bytes
 *                       in memory order (network order, as in the packet)
 *   enums               the enumerator's name, else the number
 *   arrays of 1-byte    hex of the bytes, 0x0a0b0c
 *   integers
 *   other arrays        [ 1, 2, 3 ]
 *   pointers            0x hex;  floats %g;  bitfields decimal.
 * Type id 0 (unknown) formats the bytes as hex.  Returns the length of the
 * whole text (as snprintf: larger than buflen - 1 means it was cut), or
 * -EINVAL (len differs from the type's size, or a type that has no
 * value such as void or a function), -ENOENT (no such type), -ELOOP (too
 * deep or cyclic), -E2BIG (more than 2^20 values to print). */
int
bpf_btf_format(const struct bpf_btf *btf, uint32_t id, const void *data,
               size_t len, char *buf, size_t buflen)
{
    struct btf_out o = { buf, buflen, 0, 0 };
    uint64_t size;
    int ret;

    if (buf && buflen) {
        buf[0] = '\0';
    }
    if (!data && len) {
        return -EINVAL;
    }
    if (id == 0) {
        out_hex(&o, data, len);
        return o.len > INT32_MAX ? INT32_MAX : (int) o.len;
    }
    if (!btf || id >= btf->ntypes) {
        return -ENOENT;
    }
    ret = bpf_btf_size(btf, id, &size);
    if (ret) {
        return ret;
    }
    if (size != len) {
        return -EINVAL;
    }
    ret = btf_fmt(btf, id, data, 0, 0, NULL, &o, 0);
    if (ret) {
        if (buf && buflen) {
            buf[0] = '\0';
        }
        return ret;
    }
    return o.len > INT32_MAX ? INT32_MAX : (int) o.len;
}

static void
btf_type_str(const struct bpf_btf *btf, uint32_t id, struct btf_out *o,
             int depth)
{
    struct btf_t t;

    if (depth > BTF_MAX_DEPTH) {
        out_printf(o, "...");
        return;
    }
    if (id == 0) {
        out_printf(o, "void");
        return;
    }
    btf_get(btf, id, &t);
    switch (t.kind) {
    case BTF_K_STRUCT: case BTF_K_UNION: case BTF_K_ENUM:
    case BTF_K_ENUM64: case BTF_K_FWD:
        out_printf(o, "%s %s", t.kind == BTF_K_STRUCT ? "struct"
                   : t.kind == BTF_K_UNION ? "union"
                   : t.kind == BTF_K_FWD ? (t.kflag ? "union" : "struct")
                   : "enum", *btf_str(btf, t.name_off)
                   ? btf_str(btf, t.name_off) : "<anon>");
        return;
    case BTF_K_PTR:
        btf_type_str(btf, t.size_type, o, depth + 1);
        out_printf(o, " *");
        return;
    case BTF_K_ARRAY:
        btf_type_str(btf, rd32(t.tail), o, depth + 1);
        out_printf(o, "[%" PRIu32 "]", rd32(t.tail + 8));
        return;
    case BTF_K_CONST: case BTF_K_VOLATILE: case BTF_K_RESTRICT:
        out_printf(o, "%s ", t.kind == BTF_K_CONST ? "const"
                   : t.kind == BTF_K_VOLATILE ? "volatile" : "restrict");
        btf_type_str(btf, t.size_type, o, depth + 1);
        return;
    case BTF_K_TYPE_TAG:
        btf_type_str(btf, t.size_type, o, depth + 1);
        return;
    default:
        out_printf(o, "%s", *btf_str(btf, t.name_off)
                   ? btf_str(btf, t.name_off) : btf_kind_name(t.kind));
        return;
    }
}

/* Writes the C name of type id ("struct src_key", "__u32", "__u8[6]")
 * into buf as snprintf does.  Returns the length of the whole name, or
 * -ENOENT if id is 0 (no type) or not a type. */
int
bpf_btf_type_name(const struct bpf_btf *btf, uint32_t id, char *buf,
                  size_t buflen)
{
    struct btf_out o = { buf, buflen, 0, 0 };

    if (buf && buflen) {
        buf[0] = '\0';
    }
    if (!btf || id == 0 || id >= btf->ntypes) {
        return -ENOENT;
    }
    btf_type_str(btf, id, &o, 0);
    return o.len > INT32_MAX ? INT32_MAX : (int) o.len;
}

/* Formats a map key or value of the program by its BTF type; see
 * bpf_btf_format() for the format.  A program without BTF formats every
 * value as hex. */
int
bpf_prog_format_value(const struct bpf_prog *prog, uint32_t btf_type,
                      const void *data, size_t len, char *buf, size_t buflen)
{
    return bpf_btf_format(prog ? prog->btf : NULL, prog && prog->btf
                          ? btf_type : 0, data, len, buf, buflen);
}

/* Writes the C name of a BTF type of the program into buf; see
 * bpf_btf_type_name(). */
int
bpf_prog_format_type(const struct bpf_prog *prog, uint32_t btf_type,
                     char *buf, size_t buflen)
{
    return bpf_btf_type_name(prog ? prog->btf : NULL, btf_type, buf, buflen);
}
