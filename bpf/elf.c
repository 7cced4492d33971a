/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * elf.c -- loads a filter program from an ELF relocatable object
 * (OKO-ABI.md section 1): picks the code section, collects the map
 * definitions and the read-only data the code refers to, applies the
 * relocations of the code section and fills a struct bpf_prog.
 *
 * The object is untrusted: it arrives from a controller over OpenFlow.
 * The ELF header and the section header table are checked against the
 * buffer before libelf sees them, every section libelf hands out is checked
 * against the size of the buffer, and every index and offset taken from the
 * object (section links, symbol sections, symbol values, relocation offsets,
 * addends) is range-checked before it is used.  A malformed object yields a
 * message that names the section, symbol, relocation or offset at fault.
 *
 * Only what the program needs is read: the code section, the symbol table
 * and its strings, the relocations that apply to the code, the map sections
 * and the read-only sections the code refers to.  Everything else (DWARF,
 * relocations of other sections, possibly compressed) is ignored, so
 * objects built with -g load like the others.
 *
 * Two flavours (enum bpf_flavour), decided before anything else from the
 * load option or, by default, from the object:
 *  - oko (OKO-ABI.md): as above; BTF is ignored;
 *  - libbpf/XDP, for an object with a `.maps` section or a code section
 *    named xdp, xdp/..., classifier, tc or socket...: the code is that
 *    section, the entry its first global function; maps are the variables
 *    of the `.maps` DATASEC of the object's BTF (parsed by btf.c), mapped
 *    onto oko's map types (elf_btf_map_to_oko), with their key and value
 *    BTF types kept for formatting; helper calls keep their kernel ids
 *    (call imm N, no relocation); CO-RE relocations (.BTF.ext), global
 *    data (.data, .bss and other writable sections) and calls to extern
 *    functions are refused with a message that names them.
 */
#include "bpf_priv.h"

#include <endian.h>
#include <errno.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* BPF relocation types (LLVM's BPF back end; <elf.h> lacks some). */
#define OKO_R_BPF_NONE      0
#define OKO_R_BPF_64_64     1   /* lddw: 64-bit address of the symbol */
#define OKO_R_BPF_64_ABS64  2   /* data: 64-bit absolute (debug info) */
#define OKO_R_BPF_64_ABS32  3   /* data: 32-bit absolute (debug info) */
#define OKO_R_BPF_64_32     10  /* call: function or helper */

/* Opcodes the loader rewrites. */
#define ELF_OP_LDDW (BPF_CLS_LD | BPF_SIZE_DW | BPF_MODE_IMM)   /* 0x18 */
#define ELF_OP_CALL (BPF_CLS_JMP | BPF_JMP_CALL)                /* 0x85 */

/* Bytes of one instruction slot, and of a map definition in the object. */
#define ELF_INSN_SIZE 8
#define ELF_MAP_DEF_SIZE 20

/* Read-only data is addressed by a 32-bit immediate; strings and small
 * constant tables need far less than this. */
#define ELF_MAX_RODATA (16u << 20)

/* What a section is to the loader (bits of elf_ctx.role[]). */
#define ROLE_CODE   0x01
#define ROLE_SYMTAB 0x02
#define ROLE_STRTAB 0x04    /* symbol or section names */
#define ROLE_RELOC  0x08    /* relocations of the code section */
#define ROLE_MAPS   0x10    /* map definitions */
#define ROLE_RODATA 0x20    /* read-only data the code refers to */
#define ROLE_BTF_MAPS 0x40  /* `.maps`: BTF-defined maps (libbpf flavour) */
#define ROLE_BTF    0x80    /* .BTF and .BTF.ext (libbpf flavour) */

/* The section of BTF-defined maps, and the BTF sections (libbpf). */
#define ELF_BTF_MAPS_SEC ".maps"
#define ELF_BTF_SEC      ".BTF"
#define ELF_BTF_EXT_SEC  ".BTF.ext"

/* A map definition found in a map section. */
struct elf_map {
    size_t shndx;               /* section */
    uint64_t off;               /* offset in the section */
    uint64_t size;              /* bytes of the definition */
    const char *name;
    struct bpf_map_def def;
    uint32_t btf_key_type;      /* BTF-defined maps */
    uint32_t btf_value_type;
};

/* One relocation of the code section, checked and resolved (pass 1), to
 * be applied once maps and read-only data are laid out (pass 2). */
struct elf_reloc {
    size_t insn;                /* instruction index */
    unsigned int type;          /* OKO_R_BPF_* */
    bool rela;                  /* explicit addend */
    int64_t addend;             /* RELA only */
    GElf_Sym sym;
    const char *name;           /* symbol name, or its section's name */
    int helper;                 /* R_BPF_64_32 against an undefined symbol */
};

/* State of one load.  Pointers into the ELF (names) stay valid until
 * elf_end(). */
struct elf_ctx {
    Elf *elf;
    size_t len;                 /* bytes in the object */
    size_t shnum;
    size_t shstrndx;
    uint64_t shoff;
    GElf_Shdr *shdrs;           /* [shnum] */
    const char **names;         /* [shnum] section names */
    uint8_t *role;              /* [shnum] ROLE_* */
    size_t symtab;              /* 0: none */
    Elf_Data *symdata;
    size_t nsyms;
    size_t code;
    size_t text;                /* .text appended after the code, or 0 */
    size_t text_base;           /* its first instruction in insns */
    struct bpf_inst *insns;     /* the program's, being relocated */
    size_t ninsns;              /* code, then .text if appended */
    struct elf_reloc *relocs;
    size_t nrelocs;
    uint8_t *relocated;         /* [ninsns] 1 if a relocation applies */
    struct elf_map *maps;       /* sorted by (shndx, off) */
    size_t nmaps;
    size_t *ro_base;            /* [shnum] offset of a section in rodata */
    enum bpf_flavour flavour;   /* OKO or XDP, decided before the code */
    struct bpf_btf *btf;        /* parsed .BTF (XDP flavour) */
    char *err;
    size_t errlen;
};

#define ELF_ERR(CTX, ERRNUM, ...) \
    bpf_set_err((CTX)->err, (CTX)->errlen, (ERRNUM), __VA_ARGS__)

static const char *
elf_rel_type_name(unsigned int type)
{
    switch (type) {
    case OKO_R_BPF_NONE: return "R_BPF_NONE";
    case OKO_R_BPF_64_64: return "R_BPF_64_64";
    case OKO_R_BPF_64_ABS64: return "R_BPF_64_ABS64";
    case OKO_R_BPF_64_ABS32: return "R_BPF_64_ABS32";
    case OKO_R_BPF_64_32: return "R_BPF_64_32";
    default: return "unknown";
    }
}

/* Checks the ELF header on the raw bytes, before libelf parses anything,
 * so that the common ways an object can be wrong get precise messages. */
static int
elf_check_ehdr(struct elf_ctx *c, const uint8_t *img, size_t len)
{
    Elf64_Ehdr eh;
    uint64_t shoff;
    uint16_t shnum, shentsize, type, machine;

    if (!img || len < EI_NIDENT) {
        return ELF_ERR(c, EINVAL, "truncated ELF object: %zu bytes, "
                       "smaller than the ELF identification", len);
    }
    if (memcmp(img, ELFMAG, SELFMAG)) {
        return ELF_ERR(c, EINVAL, "not an ELF object (bad magic)");
    }
    if (img[EI_CLASS] != ELFCLASS64) {
        return ELF_ERR(c, EINVAL, "ELF class %u is not ELF64",
                       img[EI_CLASS]);
    }
    if (img[EI_DATA] != ELFDATA2LSB) {
        return ELF_ERR(c, EINVAL, "ELF data encoding %u is not "
                       "little-endian", img[EI_DATA]);
    }
    if (img[EI_VERSION] != EV_CURRENT) {
        return ELF_ERR(c, EINVAL, "ELF version %u is not %u",
                       img[EI_VERSION], EV_CURRENT);
    }
    if (len < sizeof eh) {
        return ELF_ERR(c, EINVAL, "truncated ELF object: %zu bytes, "
                       "smaller than the ELF header", len);
    }
    memcpy(&eh, img, sizeof eh);
    type = le16toh(eh.e_type);
    machine = le16toh(eh.e_machine);
    shoff = le64toh(eh.e_shoff);
    shnum = le16toh(eh.e_shnum);
    shentsize = le16toh(eh.e_shentsize);
    if (type != ET_REL) {
        return ELF_ERR(c, EINVAL, "ELF type %u is not a relocatable "
                       "object (ET_REL)", type);
    }
    if (machine != EM_BPF && machine != EM_NONE) {
        return ELF_ERR(c, EINVAL, "ELF machine %u is not BPF (%u)",
                       machine, EM_BPF);
    }
    if (shoff == 0) {
        return ELF_ERR(c, EINVAL, "ELF object has no section header "
                       "table");
    }
    if (shentsize != sizeof(Elf64_Shdr)) {
        return ELF_ERR(c, EINVAL, "ELF section header size %u is not %zu",
                       shentsize, sizeof(Elf64_Shdr));
    }
    /* With more than SHN_LORESERVE sections e_shnum is 0 and the count is
     * in section 0; it is checked once libelf has read it. */
    if (shoff > len || len - shoff < sizeof(Elf64_Shdr)
        || (shnum && (len - shoff) / sizeof(Elf64_Shdr) < shnum)) {
        return ELF_ERR(c, EINVAL, "section header table (offset %" PRIu64
                       ", %u entries) extends past the end of the object "
                       "(truncated? %zu bytes)", shoff, shnum, len);
    }
    c->shoff = shoff;
    return 0;
}

/* Reads and checks every section header: data inside the object, links
 * inside the table, names resolvable. */
static int
elf_load_sections(struct elf_ctx *c)
{
    size_t i;

    if (elf_kind(c->elf) != ELF_K_ELF) {
        return ELF_ERR(c, EINVAL, "not an ELF object");
    }
    if (elf_getshdrnum(c->elf, &c->shnum)
        || elf_getshdrstrndx(c->elf, &c->shstrndx)) {
        return ELF_ERR(c, EINVAL, "bad section header table: %s",
                       elf_errmsg(-1));
    }
    if (c->shnum < 2) {
        return ELF_ERR(c, EINVAL, "ELF object has no sections (section "
                       "count %zu)", c->shnum);
    }
    if ((c->len - c->shoff) / sizeof(Elf64_Shdr) < c->shnum) {
        return ELF_ERR(c, EINVAL, "section header table (%zu entries) "
                       "extends past the end of the object", c->shnum);
    }
    c->shdrs = calloc(c->shnum, sizeof *c->shdrs);
    c->names = calloc(c->shnum, sizeof *c->names);
    c->role = calloc(c->shnum, sizeof *c->role);
    c->ro_base = calloc(c->shnum, sizeof *c->ro_base);
    if (!c->shdrs || !c->names || !c->role || !c->ro_base) {
        return ELF_ERR(c, ENOMEM, "out of memory");
    }
    for (i = 0; i < c->shnum; i++) {
        Elf_Scn *scn = elf_getscn(c->elf, i);
        GElf_Shdr *sh = &c->shdrs[i];

        if (!scn || !gelf_getshdr(scn, sh)) {
            return ELF_ERR(c, EINVAL, "section %zu: bad header: %s", i,
                           elf_errmsg(-1));
        }
        if (i == 0) {
            continue;
        }
        if (sh->sh_type != SHT_NOBITS && sh->sh_type != SHT_NULL
            && sh->sh_size
            && (sh->sh_offset > c->len
                || sh->sh_size > c->len - sh->sh_offset)) {
            return ELF_ERR(c, EINVAL, "section %zu: data at offset %" PRIu64
                           ", size %" PRIu64 " extends past the end of the "
                           "object (%zu bytes)", i, sh->sh_offset,
                           sh->sh_size, c->len);
        }
        if ((sh->sh_type == SHT_SYMTAB || sh->sh_type == SHT_REL
             || sh->sh_type == SHT_RELA) && sh->sh_link >= c->shnum) {
            return ELF_ERR(c, EINVAL, "section %zu: sh_link %u out of range "
                           "(%zu sections)", i, sh->sh_link, c->shnum);
        }
        if ((sh->sh_type == SHT_REL || sh->sh_type == SHT_RELA)
            && sh->sh_info >= c->shnum) {
            return ELF_ERR(c, EINVAL, "section %zu: sh_info %u out of range "
                           "(%zu sections)", i, sh->sh_info, c->shnum);
        }
    }
    if (c->shstrndx == SHN_UNDEF || c->shstrndx >= c->shnum
        || c->shdrs[c->shstrndx].sh_type != SHT_STRTAB) {
        return ELF_ERR(c, EINVAL, "section name table index %zu is not a "
                       "string table", c->shstrndx);
    }
    c->role[c->shstrndx] |= ROLE_STRTAB;
    c->names[0] = "";
    for (i = 1; i < c->shnum; i++) {
        c->names[i] = elf_strptr(c->elf, c->shstrndx, c->shdrs[i].sh_name);
        if (!c->names[i]) {
            return ELF_ERR(c, EINVAL, "section %zu: name offset %u is not "
                           "in the section name table", i,
                           c->shdrs[i].sh_name);
        }
    }
    return 0;
}

/* Returns the data of section idx, checked to be exactly the bytes the
 * header announces. */
static Elf_Data *
elf_section_data(struct elf_ctx *c, size_t idx, int *ret)
{
    Elf_Scn *scn = elf_getscn(c->elf, idx);
    Elf_Data *data = scn ? elf_getdata(scn, NULL) : NULL;

    if (c->shdrs[idx].sh_flags & SHF_COMPRESSED) {
        *ret = ELF_ERR(c, EINVAL, "section %s: compressed sections are not "
                       "supported here", c->names[idx]);
        return NULL;
    }
    if (!data || data->d_size != c->shdrs[idx].sh_size
        || (data->d_size && !data->d_buf)) {
        *ret = ELF_ERR(c, EINVAL, "section %s: cannot read its data: %s",
                       c->names[idx], data ? "size mismatch"
                       : elf_errmsg(-1));
        return NULL;
    }
    *ret = 0;
    return data;
}

/* Finds the symbol table and checks every symbol's section index. */
static int
elf_load_symtab(struct elf_ctx *c)
{
    const GElf_Shdr *sh;
    size_t i;
    int ret;

    for (i = 1; i < c->shnum; i++) {
        if (c->shdrs[i].sh_type != SHT_SYMTAB) {
            continue;
        }
        if (c->symtab) {
            return ELF_ERR(c, EINVAL, "more than one symbol table (sections "
                           "%zu and %zu)", c->symtab, i);
        }
        c->symtab = i;
    }
    if (!c->symtab) {
        return 0;
    }
    sh = &c->shdrs[c->symtab];
    if (sh->sh_entsize != sizeof(Elf64_Sym)
        || sh->sh_size % sizeof(Elf64_Sym)) {
        return ELF_ERR(c, EINVAL, "symbol table %s: entry size %" PRIu64
                       ", size %" PRIu64 " (entries are %zu bytes)",
                       c->names[c->symtab], sh->sh_entsize, sh->sh_size,
                       sizeof(Elf64_Sym));
    }
    if (sh->sh_link == SHN_UNDEF
        || c->shdrs[sh->sh_link].sh_type != SHT_STRTAB) {
        return ELF_ERR(c, EINVAL, "symbol table %s: sh_link %u is not a "
                       "string table", c->names[c->symtab], sh->sh_link);
    }
    c->role[c->symtab] |= ROLE_SYMTAB;
    c->role[sh->sh_link] |= ROLE_STRTAB;
    c->symdata = elf_section_data(c, c->symtab, &ret);
    if (!c->symdata) {
        return ret;
    }
    c->nsyms = sh->sh_size / sizeof(Elf64_Sym);
    for (i = 1; i < c->nsyms; i++) {
        GElf_Sym sym;

        if (!gelf_getsym(c->symdata, (int) i, &sym)) {
            return ELF_ERR(c, EINVAL, "symbol %zu: cannot read it: %s", i,
                           elf_errmsg(-1));
        }
        if (sym.st_shndx == SHN_XINDEX) {
            return ELF_ERR(c, EINVAL, "symbol %zu: extended section indexes "
                           "are not supported", i);
        }
        if (sym.st_shndx != SHN_UNDEF && sym.st_shndx < SHN_LORESERVE
            && sym.st_shndx >= c->shnum) {
            return ELF_ERR(c, EINVAL, "symbol %zu: section index %u out of "
                           "range (%zu sections)", i, sym.st_shndx,
                           c->shnum);
        }
    }
    return 0;
}

/* Reads symbol idx (already range-checked) and its name.  A section symbol
 * is named after its section. */
static int
elf_get_sym(struct elf_ctx *c, size_t idx, GElf_Sym *sym, const char **name)
{
    if (!c->symtab || idx == 0 || idx >= c->nsyms) {
        return ELF_ERR(c, EINVAL, "symbol index %zu out of range (%zu "
                       "symbols)", idx, c->nsyms);
    }
    if (!gelf_getsym(c->symdata, (int) idx, sym)) {
        return ELF_ERR(c, EINVAL, "symbol %zu: cannot read it: %s", idx,
                       elf_errmsg(-1));
    }
    if (GELF_ST_TYPE(sym->st_info) == STT_SECTION
        && sym->st_shndx != SHN_UNDEF && sym->st_shndx < c->shnum) {
        *name = c->names[sym->st_shndx];
        return 0;
    }
    *name = elf_strptr(c->elf, c->shdrs[c->symtab].sh_link, sym->st_name);
    if (!*name) {
        return ELF_ERR(c, EINVAL, "symbol %zu: name offset %u is not in the "
                       "string table", idx, sym->st_name);
    }
    return 0;
}

static bool
elf_is_code_section(const GElf_Shdr *sh)
{
    return sh->sh_type == SHT_PROGBITS
           && (sh->sh_flags & (SHF_ALLOC | SHF_EXECINSTR))
              == (SHF_ALLOC | SHF_EXECINSTR);
}

/* Where the instructions of section shndx start in the program (the code
 * section, then the appended .text), or false if they are not in it. */
static bool
elf_insn_base(const struct elf_ctx *c, size_t shndx, size_t *base,
              size_t *count)
{
    if (shndx == c->code) {
        *base = 0;
        *count = c->text ? c->text_base : c->ninsns;
        return true;
    }
    if (c->text && shndx == c->text) {
        *base = c->text_base;
        *count = c->ninsns - c->text_base;
        return true;
    }
    return false;
}

/* True if a relocation of code section code calls a function of section
 * text (libbpf: subprograms in .text called from a program section).  A
 * malformed relocation is left for elf_scan_relocs to report. */
static bool
elf_calls_into(struct elf_ctx *c, size_t code, size_t text)
{
    size_t i, j;

    for (i = 1; i < c->shnum; i++) {
        const GElf_Shdr *sh = &c->shdrs[i];
        bool rel = sh->sh_type == SHT_REL;
        Elf_Data *data;
        size_t n;

        if ((!rel && sh->sh_type != SHT_RELA) || sh->sh_info != code
            || !c->symtab || sh->sh_link != c->symtab
            || sh->sh_entsize != (rel ? sizeof(Elf64_Rel)
                                      : sizeof(Elf64_Rela))) {
            continue;
        }
        data = elf_getdata(elf_getscn(c->elf, i), NULL);
        if (!data || data->d_size != sh->sh_size) {
            continue;
        }
        n = sh->sh_size / sh->sh_entsize;
        for (j = 0; j < n; j++) {
            GElf_Rela ra;
            GElf_Rel rl;
            GElf_Sym sym;
            uint64_t info;
            size_t symidx;

            if (rel ? !gelf_getrel(data, (int) j, &rl)
                    : !gelf_getrela(data, (int) j, &ra)) {
                break;
            }
            info = rel ? rl.r_info : ra.r_info;
            symidx = GELF_R_SYM(info);
            if (GELF_R_TYPE(info) != OKO_R_BPF_64_32 || symidx == 0
                || symidx >= c->nsyms
                || !gelf_getsym(c->symdata, (int) symidx, &sym)) {
                continue;
            }
            if (sym.st_shndx == text) {
                return true;
            }
        }
    }
    return false;
}

/* True if name is a libbpf program section oko can run as a filter:
 * xdp, xdp/..., xdp.frags, classifier, classifier/..., tc, tc/...,
 * socket... (socket filters). */
static bool
elf_is_prog_section_name(const char *name)
{
    static const char *const exact[] = { "xdp", "xdp.frags", "classifier",
                                         "tc" };
    static const char *const prefix[] = { "xdp/", "xdp.frags/",
                                          "classifier/", "tc/", "socket" };
    size_t i;

    for (i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        if (!strcmp(name, exact[i])) {
            return true;
        }
    }
    for (i = 0; i < sizeof prefix / sizeof prefix[0]; i++) {
        if (!strncmp(name, prefix[i], strlen(prefix[i]))) {
            return true;
        }
    }
    return false;
}

/* Decides the flavour: the load option, else libbpf/XDP if the object has
 * a `.maps` section or an executable section with a program name. */
static int
elf_detect_flavour(struct elf_ctx *c, const struct bpf_load_opts *opts)
{
    enum bpf_flavour want = opts ? opts->flavour : BPF_FLAVOUR_AUTO;
    size_t i;

    if (want != BPF_FLAVOUR_AUTO && want != BPF_FLAVOUR_OKO
        && want != BPF_FLAVOUR_XDP) {
        return ELF_ERR(c, EINVAL, "unknown program flavour %d in the load "
                       "options", (int) want);
    }
    c->flavour = want;
    if (want != BPF_FLAVOUR_AUTO) {
        return 0;
    }
    c->flavour = BPF_FLAVOUR_OKO;
    for (i = 1; i < c->shnum; i++) {
        if (!strcmp(c->names[i], ELF_BTF_MAPS_SEC)
            || (elf_is_code_section(&c->shdrs[i])
                && elf_is_prog_section_name(c->names[i]))) {
            c->flavour = BPF_FLAVOUR_XDP;
            break;
        }
    }
    return 0;
}

/* Picks the code section (opts->section; else in the XDP flavour the first
 * non-empty executable section with a program name, such as `xdp`; else
 * the first non-empty executable one) and copies its instructions into
 * prog. */
static int
elf_load_code(struct elf_ctx *c, const struct bpf_load_opts *opts,
              struct bpf_prog *prog)
{
    const char *want = opts ? opts->section : NULL;
    const GElf_Shdr *sh;
    Elf_Data *data, *tdata = NULL;
    size_t i, t;
    int ret;

    i = c->shnum;
    if (!want && c->flavour != BPF_FLAVOUR_XDP) {
        /* oko flavour: the section that holds the global function `entry`
         * (clang puts static noinline callees in .text, which may come
         * first), else the first non-empty executable section. */
        size_t s;

        for (s = 1; s < c->nsyms; s++) {
            const char *name;
            GElf_Sym sym;

            int ret2 = elf_get_sym(c, s, &sym, &name);

            if (ret2) {
                return ret2;
            }
            if (GELF_ST_TYPE(sym.st_info) == STT_FUNC
                && GELF_ST_BIND(sym.st_info) == STB_GLOBAL
                && sym.st_shndx > 0 && sym.st_shndx < c->shnum
                && elf_is_code_section(&c->shdrs[sym.st_shndx])
                && c->shdrs[sym.st_shndx].sh_size
                && name && !strcmp(name, "entry")) {
                i = sym.st_shndx;
                break;
            }
        }
    }
    if (i == c->shnum && !want && c->flavour == BPF_FLAVOUR_XDP) {
        for (i = 1; i < c->shnum; i++) {
            if (elf_is_code_section(&c->shdrs[i]) && c->shdrs[i].sh_size
                && elf_is_prog_section_name(c->names[i])) {
                break;
            }
        }
    }
    if (i == c->shnum) {
        for (i = 1; i < c->shnum; i++) {
            if (want ? !strcmp(c->names[i], want)
                     : elf_is_code_section(&c->shdrs[i])
                       && c->shdrs[i].sh_size) {
                break;
            }
        }
    }
    if (i == c->shnum) {
        if (want) {
            return ELF_ERR(c, ENOENT, "no section named '%s'", want);
        }
        return ELF_ERR(c, EINVAL, "no code: no non-empty executable "
                       "(ALLOC|EXECINSTR) section");
    }
    c->code = i;
    sh = &c->shdrs[i];
    if (!elf_is_code_section(sh)) {
        return ELF_ERR(c, EINVAL, "section %s is not executable code "
                       "(PROGBITS with ALLOC|EXECINSTR)", c->names[i]);
    }
    if (sh->sh_size == 0) {
        return ELF_ERR(c, EINVAL, "code section %s is empty", c->names[i]);
    }
    if (sh->sh_size % ELF_INSN_SIZE) {
        return ELF_ERR(c, EINVAL, "code section %s: size %" PRIu64 " is not "
                       "a multiple of 8", c->names[i], sh->sh_size);
    }
    if (sh->sh_size / ELF_INSN_SIZE > BPF_MAX_INSNS) {
        return ELF_ERR(c, E2BIG, "code section %s: %" PRIu64 " instructions, "
                       "more than %d", c->names[i],
                       sh->sh_size / ELF_INSN_SIZE, BPF_MAX_INSNS);
    }
    if (strlen(c->names[i]) >= sizeof prog->section) {
        return ELF_ERR(c, EINVAL, "code section name '%.40s...' is longer "
                       "than %zu bytes", c->names[i],
                       sizeof prog->section - 1);
    }
    c->role[i] |= ROLE_CODE;
    data = elf_section_data(c, i, &ret);
    if (!data) {
        return ret;
    }
    c->ninsns = sh->sh_size / ELF_INSN_SIZE;

    /* libbpf: functions the program calls in .text (clang puts static
     * noinline functions there) are appended after its code. */
    for (t = 1; t < c->shnum; t++) {
        if (t != i && !strcmp(c->names[t], ".text")
            && elf_is_code_section(&c->shdrs[t]) && c->shdrs[t].sh_size
            && elf_calls_into(c, i, t)) {
            break;
        }
    }
    if (t < c->shnum) {
        const GElf_Shdr *tsh = &c->shdrs[t];

        if (tsh->sh_size % ELF_INSN_SIZE) {
            return ELF_ERR(c, EINVAL, "code section %s: size %" PRIu64 " is "
                           "not a multiple of 8", c->names[t], tsh->sh_size);
        }
        if (c->ninsns + tsh->sh_size / ELF_INSN_SIZE > BPF_MAX_INSNS) {
            return ELF_ERR(c, E2BIG, "code sections %s and %s: %" PRIu64
                           " instructions, more than %d", c->names[i],
                           c->names[t],
                           c->ninsns + tsh->sh_size / ELF_INSN_SIZE,
                           BPF_MAX_INSNS);
        }
        tdata = elf_section_data(c, t, &ret);
        if (!tdata) {
            return ret;
        }
        c->text = t;
        c->text_base = c->ninsns;
        c->ninsns += tsh->sh_size / ELF_INSN_SIZE;
        c->role[t] |= ROLE_CODE;
    }
    prog->insns = malloc(c->ninsns * sizeof *prog->insns);
    if (!prog->insns) {
        return ELF_ERR(c, ENOMEM, "out of memory");
    }
    if (c->text) {
        memcpy(prog->insns, data->d_buf, c->text_base * sizeof *prog->insns);
        memcpy(prog->insns + c->text_base, tdata->d_buf,
               (c->ninsns - c->text_base) * sizeof *prog->insns);
    } else {
        memcpy(prog->insns, data->d_buf, c->ninsns * sizeof *prog->insns);
    }
    prog->ninsns = c->ninsns;
    strcpy(prog->section, c->names[i]);
    c->insns = prog->insns;
    return 0;
}

/* Pass 1 over one relocation of the code section: checks where it applies
 * and what it refers to, and records it.  Nothing is rewritten yet. */
static int
elf_check_reloc(struct elf_ctx *c, const char *secname, size_t n,
                size_t target_sec, uint64_t r_offset, uint64_t r_info,
                bool rela, int64_t addend)
{
    size_t base = 0, count = 0;
    unsigned int type = (unsigned int) GELF_R_TYPE(r_info);
    size_t symidx = GELF_R_SYM(r_info);
    struct elf_reloc *r;
    const GElf_Shdr *tsh;
    const char *name;
    GElf_Sym sym;
    size_t idx;
    int ret;

    if (r_offset % ELF_INSN_SIZE) {
        return ELF_ERR(c, EINVAL, "%s: relocation %zu (%s): offset 0x%"
                       PRIx64 " is not 8-byte aligned", secname, n,
                       elf_rel_type_name(type), r_offset);
    }
    elf_insn_base(c, target_sec, &base, &count);
    if (r_offset / ELF_INSN_SIZE >= count) {
        return ELF_ERR(c, EINVAL, "%s: relocation %zu (%s): offset 0x%"
                       PRIx64 " is past the end of the code (%zu bytes)",
                       secname, n, elf_rel_type_name(type), r_offset,
                       count * ELF_INSN_SIZE);
    }
    idx = base + r_offset / ELF_INSN_SIZE;
    if (symidx == 0 || symidx >= c->nsyms) {
        return ELF_ERR(c, EINVAL, "%s: relocation %zu at offset 0x%" PRIx64
                       ": symbol index %zu out of range (%zu symbols)",
                       secname, n, r_offset, symidx, c->nsyms);
    }
    ret = elf_get_sym(c, symidx, &sym, &name);
    if (ret) {
        return ret;
    }
    if (type != OKO_R_BPF_64_64 && type != OKO_R_BPF_64_32) {
        return ELF_ERR(c, EINVAL, "unsupported relocation type %u (%s) at "
                       "offset 0x%" PRIx64 " of %s against symbol '%s'",
                       type, elf_rel_type_name(type), r_offset,
                       c->names[target_sec], name);
    }
    if (c->relocated[idx]) {
        return ELF_ERR(c, EINVAL, "two relocations at offset 0x%" PRIx64
                       " (insn %zu, symbol '%s')", r_offset, idx, name);
    }
    c->relocated[idx] = 1;
    if (sym.st_shndx >= SHN_LORESERVE) {
        return ELF_ERR(c, EINVAL, "relocation at insn %zu: symbol '%s' is "
                       "not in a section (index 0x%x)", idx, name,
                       sym.st_shndx);
    }

    r = &c->relocs[c->nrelocs];
    memset(r, 0, sizeof *r);
    r->insn = idx;
    r->type = type;
    r->rela = rela;
    r->addend = addend;
    r->sym = sym;
    r->name = name;
    r->helper = -1;

    if (type == OKO_R_BPF_64_64) {
        if (c->insns[idx].code != ELF_OP_LDDW) {
            return ELF_ERR(c, EINVAL, "R_BPF_64_64 relocation at insn %zu "
                           "(offset 0x%" PRIx64 ", symbol '%s'): instruction "
                           "0x%02x is not an lddw", idx, r_offset, name,
                           c->insns[idx].code);
        }
        if (idx + 1 >= base + count || c->insns[idx + 1].code != 0) {
            return ELF_ERR(c, EINVAL, "lddw at insn %zu (symbol '%s') is "
                           "missing its second half", idx, name);
        }
        if (sym.st_shndx == SHN_UNDEF) {
            return ELF_ERR(c, EINVAL, "lddw at insn %zu refers to undefined "
                           "symbol '%s' (unknown map or data)", idx, name);
        }
        tsh = &c->shdrs[sym.st_shndx];
        if (sym.st_value > tsh->sh_size) {
            return ELF_ERR(c, EINVAL, "lddw at insn %zu: symbol '%s' value %"
                           PRIu64 " is past the end of %s (%" PRIu64
                           " bytes)", idx, name, sym.st_value,
                           c->names[sym.st_shndx], tsh->sh_size);
        }
        if (tsh->sh_flags & SHF_EXECINSTR) {
            return ELF_ERR(c, EINVAL, "lddw at insn %zu takes the address of "
                           "code ('%s'): not supported", idx, name);
        }
        if (!(tsh->sh_flags & SHF_ALLOC)) {
            return ELF_ERR(c, EINVAL, "lddw at insn %zu refers to '%s' in "
                           "non-allocated section %s", idx, name,
                           c->names[sym.st_shndx]);
        }
        if (tsh->sh_type == SHT_NOBITS) {
            return ELF_ERR(c, EINVAL, "lddw at insn %zu refers to '%s' in %s: "
                           "zero-initialised data is not supported (maps "
                           "must be initialised definitions)", idx, name,
                           c->names[sym.st_shndx]);
        }
        if (tsh->sh_type != SHT_PROGBITS) {
            return ELF_ERR(c, EINVAL, "lddw at insn %zu refers to '%s' in %s, "
                           "which is not a data section", idx, name,
                           c->names[sym.st_shndx]);
        }
        if (c->flavour == BPF_FLAVOUR_XDP) {
            /* libbpf: maps are in `.maps`; other writable data would be
             * a global variable, which libbpf turns into a map of its
             * own (.data, .bss, custom sections) and oko does not. */
            if (!strcmp(c->names[sym.st_shndx], ELF_BTF_MAPS_SEC)) {
                c->role[sym.st_shndx] |= ROLE_BTF_MAPS;
            } else if ((tsh->sh_flags & SHF_WRITE)
                       || !strcmp(c->names[sym.st_shndx], "maps")) {
                return ELF_ERR(c, EINVAL, "lddw at insn %zu refers to '%s' "
                               "in %s: global data and legacy map "
                               "definitions are not supported in the libbpf "
                               "flavour (declare maps in SEC(\".maps\"))",
                               idx, name, c->names[sym.st_shndx]);
            } else {
                c->role[sym.st_shndx] |= ROLE_RODATA;
            }
        } else {
            /* A section named `maps` holds maps even if clang made it
             * read-only (const definitions). */
            c->role[sym.st_shndx] |= (tsh->sh_flags & SHF_WRITE)
                                     || !strcmp(c->names[sym.st_shndx],
                                                "maps")
                                     ? ROLE_MAPS : ROLE_RODATA;
        }
    } else {
        if (c->insns[idx].code != ELF_OP_CALL) {
            return ELF_ERR(c, EINVAL, "R_BPF_64_32 relocation at insn %zu "
                           "(offset 0x%" PRIx64 ", symbol '%s'): instruction "
                           "0x%02x is not a call", idx, r_offset, name,
                           c->insns[idx].code);
        }
        if (sym.st_shndx == SHN_UNDEF && c->flavour == BPF_FLAVOUR_XDP) {
            /* libbpf programs call helpers by kernel id (no relocation);
             * a call to an undefined symbol is a kfunc or an extern. */
            return ELF_ERR(c, EINVAL, "call at insn %zu to external function "
                           "'%s': kfuncs and extern functions are not "
                           "supported in the libbpf flavour", idx, name);
        }
        if (sym.st_shndx == SHN_UNDEF) {
            r->helper = *name ? bpf_helper_by_name(name) : -ENOENT;
            if (r->helper < 0) {
                return ELF_ERR(c, EINVAL, "unknown helper '%s' called at "
                               "insn %zu", name, idx);
            }
        } else if (sym.st_shndx != c->code
                   && !(c->text && sym.st_shndx == c->text)) {
            return ELF_ERR(c, EINVAL, "call at insn %zu to '%s' in section "
                           "%s, not in the code section %s", idx, name,
                           c->names[sym.st_shndx], c->names[c->code]);
        }
    }
    c->nrelocs++;
    return 0;
}

/* Pass 1: finds the relocation sections of the code section and checks
 * every relocation in them. */
static int
elf_scan_relocs(struct elf_ctx *c)
{
    size_t i, total = 0;
    int ret = 0;

    for (i = 1; i < c->shnum; i++) {
        const GElf_Shdr *sh = &c->shdrs[i];
        size_t entsize;

        if ((sh->sh_type != SHT_REL && sh->sh_type != SHT_RELA)
            || (sh->sh_info != c->code
                && !(c->text && sh->sh_info == c->text))) {
            continue;
        }
        entsize = sh->sh_type == SHT_REL ? sizeof(Elf64_Rel)
                                         : sizeof(Elf64_Rela);
        if (sh->sh_entsize != entsize || sh->sh_size % entsize) {
            return ELF_ERR(c, EINVAL, "relocation section %s: entry size %"
                           PRIu64 ", size %" PRIu64 " (entries are %zu "
                           "bytes)", c->names[i], sh->sh_entsize,
                           sh->sh_size, entsize);
        }
        if (!c->symtab || sh->sh_link != c->symtab) {
            return ELF_ERR(c, EINVAL, "relocation section %s: sh_link %u is "
                           "not the symbol table", c->names[i], sh->sh_link);
        }
        c->role[i] |= ROLE_RELOC;
        total += sh->sh_size / entsize;
    }
    c->relocated = calloc(c->ninsns, 1);
    c->relocs = calloc(total ? total : 1, sizeof *c->relocs);
    if (!c->relocs || !c->relocated) {
        return ELF_ERR(c, ENOMEM, "out of memory");
    }
    for (i = 1; i < c->shnum && !ret; i++) {
        const GElf_Shdr *sh = &c->shdrs[i];
        Elf_Data *data;
        size_t j, n;

        if (!(c->role[i] & ROLE_RELOC)) {
            continue;
        }
        data = elf_section_data(c, i, &ret);
        if (!data) {
            break;
        }
        if (sh->sh_type == SHT_REL) {
            n = sh->sh_size / sizeof(Elf64_Rel);
            for (j = 0; j < n && !ret; j++) {
                GElf_Rel rel;

                if (!gelf_getrel(data, (int) j, &rel)) {
                    ret = ELF_ERR(c, EINVAL, "%s: cannot read relocation "
                                  "%zu", c->names[i], j);
                    break;
                }
                ret = elf_check_reloc(c, c->names[i], j, sh->sh_info,
                                      rel.r_offset, rel.r_info, false, 0);
            }
        } else {
            n = sh->sh_size / sizeof(Elf64_Rela);
            for (j = 0; j < n && !ret; j++) {
                GElf_Rela rela;

                if (!gelf_getrela(data, (int) j, &rela)) {
                    ret = ELF_ERR(c, EINVAL, "%s: cannot read relocation "
                                  "%zu", c->names[i], j);
                    break;
                }
                ret = elf_check_reloc(c, c->names[i], j, sh->sh_info,
                                      rela.r_offset, rela.r_info, true,
                                      rela.r_addend);
            }
        }
    }
    return ret;
}

/* Marks the sections named `maps` and `.data` as map sections (those the
 * code refers to are marked by pass 1): their maps get ids even if the
 * code does not use them.  In the XDP flavour, marks `.maps` and the BTF
 * sections instead. */
static void
elf_mark_map_sections(struct elf_ctx *c)
{
    size_t i;

    for (i = 1; i < c->shnum; i++) {
        const GElf_Shdr *sh = &c->shdrs[i];

        if (c->flavour == BPF_FLAVOUR_XDP) {
            if (!strcmp(c->names[i], ELF_BTF_MAPS_SEC)) {
                c->role[i] |= ROLE_BTF_MAPS;
            } else if (!strcmp(c->names[i], ELF_BTF_SEC)
                       || !strcmp(c->names[i], ELF_BTF_EXT_SEC)) {
                c->role[i] |= ROLE_BTF;
            }
            continue;
        }
        if (sh->sh_type != SHT_PROGBITS
            || (sh->sh_flags & (SHF_ALLOC | SHF_EXECINSTR)) != SHF_ALLOC) {
            continue;
        }
        if (!strcmp(c->names[i], "maps")
            || (!strcmp(c->names[i], ".data") && (sh->sh_flags & SHF_WRITE))) {
            c->role[i] |= ROLE_MAPS;
        }
    }
}

static int
elf_map_cmp(const void *a_, const void *b_)
{
    const struct elf_map *a = a_, *b = b_;

    if (a->shndx != b->shndx) {
        return a->shndx < b->shndx ? -1 : 1;
    }
    return a->off < b->off ? -1 : a->off > b->off;
}


/* ---------------------------------------------------------------------
 * libbpf flavour: BTF, BTF-defined maps, CO-RE
 * ------------------------------------------------------------------- */

/* Kernel map types (enum bpf_map_type of linux/bpf.h), by value, for
 * messages. */
static const char *const elf_kernel_map_types[] = {
    "BPF_MAP_TYPE_UNSPEC", "BPF_MAP_TYPE_HASH", "BPF_MAP_TYPE_ARRAY",
    "BPF_MAP_TYPE_PROG_ARRAY", "BPF_MAP_TYPE_PERF_EVENT_ARRAY",
    "BPF_MAP_TYPE_PERCPU_HASH", "BPF_MAP_TYPE_PERCPU_ARRAY",
    "BPF_MAP_TYPE_STACK_TRACE", "BPF_MAP_TYPE_CGROUP_ARRAY",
    "BPF_MAP_TYPE_LRU_HASH", "BPF_MAP_TYPE_LRU_PERCPU_HASH",
    "BPF_MAP_TYPE_LPM_TRIE", "BPF_MAP_TYPE_ARRAY_OF_MAPS",
    "BPF_MAP_TYPE_HASH_OF_MAPS", "BPF_MAP_TYPE_DEVMAP",
    "BPF_MAP_TYPE_SOCKMAP", "BPF_MAP_TYPE_CPUMAP", "BPF_MAP_TYPE_XSKMAP",
    "BPF_MAP_TYPE_SOCKHASH", "BPF_MAP_TYPE_CGROUP_STORAGE",
    "BPF_MAP_TYPE_REUSEPORT_SOCKARRAY",
    "BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE", "BPF_MAP_TYPE_QUEUE",
    "BPF_MAP_TYPE_STACK", "BPF_MAP_TYPE_SK_STORAGE",
    "BPF_MAP_TYPE_DEVMAP_HASH", "BPF_MAP_TYPE_STRUCT_OPS",
    "BPF_MAP_TYPE_RINGBUF", "BPF_MAP_TYPE_INODE_STORAGE",
    "BPF_MAP_TYPE_TASK_STORAGE", "BPF_MAP_TYPE_BLOOM_FILTER",
    "BPF_MAP_TYPE_USER_RINGBUF", "BPF_MAP_TYPE_CGRP_STORAGE",
};

/* The kernel map types oko maps onto its own. */
#define KMAP_HASH            1
#define KMAP_ARRAY           2
#define KMAP_PERCPU_HASH     5
#define KMAP_PERCPU_ARRAY    6
#define KMAP_LRU_HASH        9
#define KMAP_LRU_PERCPU_HASH 10
#define KMAP_BLOOM_FILTER    30

/* The kernel's Bloom filter: map_extra bits 0-3 = number of hashes (0
 * means this default); the other bits must be zero. */
#define KMAP_BLOOM_DEFAULT_HASHES 5
#define KMAP_BLOOM_HASH_MASK      0xfull

/* Parses the .BTF section (XDP flavour).  An object without one is fine
 * unless it has BTF-defined maps (checked when they are loaded). */
static int
elf_load_btf(struct elf_ctx *c)
{
    Elf_Data *data;
    char msg[200];
    size_t i;
    int ret;

    for (i = 1; i < c->shnum; i++) {
        if (!strcmp(c->names[i], ELF_BTF_SEC)) {
            break;
        }
    }
    if (i == c->shnum) {
        return 0;
    }
    if (c->shdrs[i].sh_type != SHT_PROGBITS) {
        return ELF_ERR(c, EINVAL, "section %s is not PROGBITS", ELF_BTF_SEC);
    }
    data = elf_section_data(c, i, &ret);
    if (!data) {
        return ret;
    }
    msg[0] = '\0';
    c->btf = bpf_btf_parse(data->d_buf, data->d_size, msg, sizeof msg);
    if (!c->btf) {
        return ELF_ERR(c, errno, "section %s: %s", ELF_BTF_SEC, msg);
    }
    return 0;
}

/* Refuses CO-RE: the core_relo part of .BTF.ext asks the loader to patch
 * field offsets for the running kernel's types, which oko does not do
 * (the program's struct layouts are taken as they are).  Func and line
 * info are ignored. */
static int
elf_check_core(struct elf_ctx *c)
{
    const uint8_t *p;
    uint32_t hdr_len, off, len, rec_size, pos, v[4];
    Elf_Data *data;
    size_t i;
    int ret;

    for (i = 1; i < c->shnum; i++) {
        if (!strcmp(c->names[i], ELF_BTF_EXT_SEC)) {
            break;
        }
    }
    if (i == c->shnum || !c->shdrs[i].sh_size) {
        return 0;
    }
    data = elf_section_data(c, i, &ret);
    if (!data) {
        return ret;
    }
    p = data->d_buf;
    /* Header: magic, version, flags, hdr_len, func_info off/len, line_info
     * off/len, then (hdr_len >= 32) core_relo off/len. */
    if (data->d_size < 8 || p[0] != 0x9f || p[1] != 0xeb) {
        return ELF_ERR(c, EINVAL, "section %s: bad header (magic)",
                       ELF_BTF_EXT_SEC);
    }
    memcpy(&hdr_len, p + 4, 4);
    hdr_len = le32toh(hdr_len);
    if (hdr_len > data->d_size) {
        return ELF_ERR(c, EINVAL, "section %s: header length %" PRIu32
                       " is past its end (%zu bytes)", ELF_BTF_EXT_SEC,
                       hdr_len, data->d_size);
    }
    if (hdr_len < 32) {
        return 0;               /* no core_relo part */
    }
    memcpy(&off, p + 24, 4);
    memcpy(&len, p + 28, 4);
    off = le32toh(off);
    len = le32toh(len);
    if (len == 0) {
        return 0;
    }
    if ((uint64_t) off + len > data->d_size - hdr_len || len < 4) {
        return ELF_ERR(c, EINVAL, "section %s: CO-RE relocations (offset %"
                       PRIu32 ", %" PRIu32 " bytes) are malformed",
                       ELF_BTF_EXT_SEC, off, len);
    }
    p += hdr_len + off;
    memcpy(&rec_size, p, 4);
    rec_size = le32toh(rec_size);
    if (rec_size < sizeof v) {
        return ELF_ERR(c, EINVAL, "section %s: CO-RE record size %" PRIu32
                       " is too small", ELF_BTF_EXT_SEC, rec_size);
    }
    /* Blocks: sec_name_off, num_info, then num_info records. */
    for (pos = 4; len - pos >= 8;) {
        uint32_t sec_off, num;
        char tname[96];
        const char *sec, *access;

        memcpy(&sec_off, p + pos, 4);
        memcpy(&num, p + pos + 4, 4);
        sec_off = le32toh(sec_off);
        num = le32toh(num);
        pos += 8;
        if (num == 0) {
            continue;
        }
        if (len - pos < rec_size) {
            break;
        }
        memcpy(v, p + pos, sizeof v);
        sec = bpf_btf_str(c->btf, sec_off);
        access = bpf_btf_str(c->btf, le32toh(v[2]));
        if (bpf_btf_type_name(c->btf, le32toh(v[1]), tname, sizeof tname)
            < 0) {
            snprintf(tname, sizeof tname, "type %" PRIu32, le32toh(v[1]));
        }
        return ELF_ERR(c, ENOTSUP, "CO-RE relocations are not supported "
                       "(section %s, insn %" PRIu32 ": %s, access '%s'); "
                       "build without BPF_CORE_READ/preserve_access_index",
                       sec ? sec : "?", le32toh(v[0]) / ELF_INSN_SIZE,
                       tname, access ? access : "?");
    }
    return ELF_ERR(c, EINVAL, "section %s: CO-RE relocations are malformed "
                   "(%" PRIu32 " bytes without a complete record)",
                   ELF_BTF_EXT_SEC, len);
}

/* Turns a libbpf map definition into oko's (see the flavour notes in
 * bpf/README.md): HASH and PERCPU_HASH -> hash, ARRAY and PERCPU_ARRAY ->
 * array (one value shared by every lcore, not one per CPU), LRU_HASH and
 * LRU_PERCPU_HASH -> LRU hash, BLOOM_FILTER -> Bloom filter.  map_flags
 * are ignored (oko's maps are always preallocated in shared memory). */
static int
elf_btf_map_to_oko(struct elf_ctx *c, const struct bpf_btf_map *bm,
                   struct elf_map *m)
{
    struct bpf_map_def *def = &m->def;
    struct bpf_map_def check;
    char msg[160];

    memset(def, 0, sizeof *def);
    def->key_size = bm->key_size;
    def->value_size = bm->value_size;
    def->max_entries = bm->max_entries;
    m->btf_key_type = bm->key_type;
    m->btf_value_type = bm->value_type;
    switch (bm->type) {
    case KMAP_HASH: case KMAP_PERCPU_HASH:
        def->type = BPF_MAP_HASH;
        break;
    case KMAP_ARRAY: case KMAP_PERCPU_ARRAY:
        def->type = BPF_MAP_ARRAY;
        break;
    case KMAP_LRU_HASH: case KMAP_LRU_PERCPU_HASH:
        def->type = BPF_MAP_LRU_HASH;
        break;
    case KMAP_BLOOM_FILTER: {
        uint64_t nhash = bm->map_extra & KMAP_BLOOM_HASH_MASK, bits;

        if (bm->key_size) {
            return ELF_ERR(c, EINVAL, "map '%s': a BPF_MAP_TYPE_BLOOM_FILTER "
                           "has no key (key_size %" PRIu32 ")", bm->name,
                           bm->key_size);
        }
        if (bm->map_extra & ~KMAP_BLOOM_HASH_MASK) {
            return ELF_ERR(c, EINVAL, "map '%s': map_extra 0x%" PRIx64 " of a "
                           "BPF_MAP_TYPE_BLOOM_FILTER has bits other than "
                           "the number of hashes (0-3)", bm->name,
                           bm->map_extra);
        }
        if (!nhash) {
            nhash = KMAP_BLOOM_DEFAULT_HASHES;
        }
        /* The kernel's sizing: max_entries is the number of elements
         * expected; bits = elements x hashes / ln 2 (7/5), at least 64,
         * rounded up to a power of two, here capped at oko's limit. */
        bits = (uint64_t) bm->max_entries * nhash * 7 / 5;
        if (bits < 64) {
            bits = 64;
        }
        bits--;
        bits |= bits >> 1; bits |= bits >> 2; bits |= bits >> 4;
        bits |= bits >> 8; bits |= bits >> 16; bits |= bits >> 32;
        bits++;
        if (bits > BPF_MAP_MAX_ENTRIES) {
            bits = BPF_MAP_MAX_ENTRIES;
        }
        def->type = BPF_MAP_BLOOM;
        def->key_size = bm->value_size;
        def->max_entries = bm->max_entries ? (uint32_t) bits : 0;
        def->nb_hash_functions = (uint32_t) nhash;
        m->btf_key_type = bm->value_type;
        break;
    }
    default:
        return ELF_ERR(c, ENOTSUP, "map '%s': map type %" PRIu32 " (%s) is "
                       "not supported (supported: HASH, ARRAY, PERCPU_HASH, "
                       "PERCPU_ARRAY, LRU_HASH, LRU_PERCPU_HASH, "
                       "BLOOM_FILTER)", bm->name, bm->type,
                       bm->type < sizeof elf_kernel_map_types
                                  / sizeof elf_kernel_map_types[0]
                       ? elf_kernel_map_types[bm->type] : "unknown");
    }
    /* An LRU hash has the shape of a hash; maps.c decides whether it can
     * create one. */
    check = *def;
    if (check.type == BPF_MAP_LRU_HASH) {
        check.type = BPF_MAP_HASH;
    }
    msg[0] = '\0';
    if (bpf_map_def_check(&check, msg, sizeof msg)) {
        return ELF_ERR(c, EINVAL, "map '%s' (%s): %s", bm->name,
                       elf_kernel_map_types[bm->type],
                       msg[0] ? msg : "invalid definition");
    }
    return 0;
}

/* Loads the BTF-defined maps: one per variable of the `.maps` DATASEC,
 * placed by its ELF symbol, ordered by offset (which gives the map ids,
 * as for legacy maps). */
static int
elf_load_btf_maps(struct elf_ctx *c, struct bpf_prog *prog)
{
    uint32_t sec, nvars, v;
    size_t ms, i, j;
    int ret;

    for (ms = 1; ms < c->shnum; ms++) {
        if (c->role[ms] & ROLE_BTF_MAPS) {
            break;
        }
    }
    if (ms == c->shnum) {
        return 0;
    }
    if (c->shdrs[ms].sh_type != SHT_PROGBITS) {
        return ELF_ERR(c, EINVAL, "section %s is not PROGBITS",
                       ELF_BTF_MAPS_SEC);
    }
    if (!c->btf) {
        return ELF_ERR(c, EINVAL, "section %s: BTF-defined maps need the "
                       "object's BTF (no %s section: compile with clang -g)",
                       ELF_BTF_MAPS_SEC, ELF_BTF_SEC);
    }
    sec = bpf_btf_find_datasec(c->btf, ELF_BTF_MAPS_SEC);
    nvars = bpf_btf_datasec_var(c->btf, sec, 0, NULL);
    if (!sec && c->shdrs[ms].sh_size) {
        return ELF_ERR(c, EINVAL, "section %s: the BTF has no DATASEC "
                       "describing it", ELF_BTF_MAPS_SEC);
    }
    if (nvars > BPF_MAX_MAPS) {
        return ELF_ERR(c, E2BIG, "too many maps: %" PRIu32 ", more than %d",
                       nvars, BPF_MAX_MAPS);
    }
    for (v = 0; v < nvars; v++) {
        struct bpf_btf_map bm;
        struct elf_map *m;
        char msg[200];
        uint32_t var;

        bpf_btf_datasec_var(c->btf, sec, v, &var);
        msg[0] = '\0';
        ret = bpf_btf_map_def(c->btf, var, &bm, msg, sizeof msg);
        if (ret) {
            return ELF_ERR(c, -ret, "%s", msg);
        }
        m = &c->maps[c->nmaps];
        for (i = 1; i < c->nsyms; i++) {
            const char *name;
            GElf_Sym sym;

            ret = elf_get_sym(c, i, &sym, &name);
            if (ret) {
                return ret;
            }
            if (sym.st_shndx == ms && GELF_ST_TYPE(sym.st_info) == STT_OBJECT
                && !strcmp(name, bm.name)) {
                m->off = sym.st_value;
                m->size = sym.st_size;
                m->name = name;
                break;
            }
        }
        if (i == c->nsyms) {
            return ELF_ERR(c, EINVAL, "map '%s': no symbol of that name in "
                           "section %s", bm.name, ELF_BTF_MAPS_SEC);
        }
        if (m->size == 0 || m->off > c->shdrs[ms].sh_size
            || m->size > c->shdrs[ms].sh_size - m->off) {
            return ELF_ERR(c, EINVAL, "map '%s': offset %" PRIu64 ", size %"
                           PRIu64 " is not inside section %s (%" PRIu64
                           " bytes)", bm.name, m->off, m->size,
                           ELF_BTF_MAPS_SEC, c->shdrs[ms].sh_size);
        }
        m->shndx = ms;
        ret = elf_btf_map_to_oko(c, &bm, m);
        if (ret) {
            return ret;
        }
        c->nmaps++;
    }
    qsort(c->maps, c->nmaps, sizeof *c->maps, elf_map_cmp);
    for (i = 0; i < c->nmaps; i++) {
        const struct elf_map *m = &c->maps[i];

        if (i && m[-1].off + m[-1].size > m->off) {
            return ELF_ERR(c, EINVAL, "maps '%s' and '%s' overlap in %s",
                           m[-1].name, m->name, ELF_BTF_MAPS_SEC);
        }
        for (j = 0; j < i; j++) {
            if (!strcmp(c->maps[j].name, m->name)) {
                return ELF_ERR(c, EINVAL, "two maps named '%s'", m->name);
            }
        }
        snprintf(prog->maps[i].name, sizeof prog->maps[i].name, "%s",
                 m->name);
        prog->maps[i].def = m->def;
        prog->maps[i].btf_key_type = m->btf_key_type;
        prog->maps[i].btf_value_type = m->btf_value_type;
    }
    prog->nmaps = c->nmaps;
    return 0;
}

/* Collects the map definitions: every object symbol in a map section
 * (`maps`, `.data`, or a writable data section the code refers to),
 * ordered by (section, offset), which gives the map ids. */
static int
elf_load_maps(struct elf_ctx *c, struct bpf_prog *prog)
{
    size_t i;
    int ret;

    c->maps = calloc(BPF_MAX_MAPS, sizeof *c->maps);
    if (!c->maps) {
        return ELF_ERR(c, ENOMEM, "out of memory");
    }
    if (c->flavour == BPF_FLAVOUR_XDP) {
        return elf_load_btf_maps(c, prog);
    }
    for (i = 1; i < c->nsyms; i++) {
        const GElf_Shdr *sh;
        struct elf_map *m;
        const char *name;
        GElf_Sym sym;

        ret = elf_get_sym(c, i, &sym, &name);
        if (ret) {
            return ret;
        }
        if (GELF_ST_TYPE(sym.st_info) != STT_OBJECT
            || sym.st_shndx == SHN_UNDEF || sym.st_shndx >= c->shnum
            || !(c->role[sym.st_shndx] & ROLE_MAPS)) {
            continue;
        }
        sh = &c->shdrs[sym.st_shndx];
        if (!*name) {
            return ELF_ERR(c, EINVAL, "map at offset %" PRIu64 " of %s has "
                           "no name", sym.st_value, c->names[sym.st_shndx]);
        }
        if (strlen(name) >= BPF_MAX_NAME) {
            return ELF_ERR(c, EINVAL, "map name '%.40s...' is longer than %d "
                           "bytes", name, BPF_MAX_NAME - 1);
        }
        if (sym.st_size != ELF_MAP_DEF_SIZE) {
            return ELF_ERR(c, EINVAL, "symbol '%s' in map section %s is %"
                           PRIu64 " bytes, not a %d-byte map definition "
                           "(global variables are not supported)", name,
                           c->names[sym.st_shndx], sym.st_size,
                           ELF_MAP_DEF_SIZE);
        }
        if (sym.st_value % 4) {
            return ELF_ERR(c, EINVAL, "map '%s': offset %" PRIu64 " in %s is "
                           "misaligned (not a multiple of 4)", name,
                           sym.st_value, c->names[sym.st_shndx]);
        }
        if (sh->sh_size < ELF_MAP_DEF_SIZE
            || sym.st_value > sh->sh_size - ELF_MAP_DEF_SIZE) {
            return ELF_ERR(c, EINVAL, "map '%s': offset %" PRIu64 " is past "
                           "the end of %s (%" PRIu64 " bytes)", name,
                           sym.st_value, c->names[sym.st_shndx], sh->sh_size);
        }
        if (c->nmaps == BPF_MAX_MAPS) {
            return ELF_ERR(c, E2BIG, "too many maps: more than %d",
                           BPF_MAX_MAPS);
        }
        m = &c->maps[c->nmaps++];
        m->shndx = sym.st_shndx;
        m->off = sym.st_value;
        m->size = ELF_MAP_DEF_SIZE;
        m->name = name;
    }
    if (!c->nmaps) {
        return 0;
    }
    qsort(c->maps, c->nmaps, sizeof *c->maps, elf_map_cmp);
    for (i = 0; i < c->nmaps; i++) {
        struct elf_map *m = &c->maps[i];
        char msg[160];
        uint32_t raw[5];
        Elf_Data *data;
        size_t j;

        if (i && m[-1].shndx == m->shndx
            && m[-1].off + ELF_MAP_DEF_SIZE > m->off) {
            return ELF_ERR(c, EINVAL, "maps '%s' and '%s' overlap in %s",
                           m[-1].name, m->name, c->names[m->shndx]);
        }
        for (j = 0; j < i; j++) {
            if (!strcmp(c->maps[j].name, m->name)) {
                return ELF_ERR(c, EINVAL, "two maps named '%s'", m->name);
            }
        }
        data = elf_section_data(c, m->shndx, &ret);
        if (!data) {
            return ret;
        }
        memcpy(raw, (const uint8_t *) data->d_buf + m->off, sizeof raw);
        m->def.type = le32toh(raw[0]);
        m->def.key_size = le32toh(raw[1]);
        m->def.value_size = le32toh(raw[2]);
        m->def.max_entries = le32toh(raw[3]);
        m->def.nb_hash_functions = le32toh(raw[4]);
        msg[0] = '\0';
        if (bpf_map_def_check(&m->def, msg, sizeof msg)) {
            return ELF_ERR(c, EINVAL, "map '%s': %s", m->name,
                           msg[0] ? msg : "invalid definition");
        }
        strcpy(prog->maps[i].name, m->name);
        prog->maps[i].def = m->def;
    }
    prog->nmaps = c->nmaps;
    return 0;
}

/* Refuses a program whose maps together would need more than
 * BPF_PROG_MAX_MAP_BYTES of memory. */
static int
elf_check_map_total(struct elf_ctx *c, const struct bpf_prog *prog)
{
    uint64_t total = 0, largest = 0;
    size_t i, big = 0;

    for (i = 0; i < prog->nmaps; i++) {
        uint64_t sz = bpf_map_mem_size(&prog->maps[i].def);

        total += sz;
        if (sz > largest) {
            largest = sz;
            big = i;
        }
    }
    if (total > BPF_PROG_MAX_MAP_BYTES) {
        return ELF_ERR(c, E2BIG, "maps need %" PRIu64 " bytes in total, more "
                       "than %llu (largest: map '%s', %" PRIu64 " bytes)",
                       total, (unsigned long long) BPF_PROG_MAX_MAP_BYTES,
                       prog->maps[big].name, largest);
    }
    return 0;
}

/* Lays the read-only sections the code refers to end to end, each 8-byte
 * aligned, in prog->rodata. */
static int
elf_load_rodata(struct elf_ctx *c, struct bpf_prog *prog)
{
    size_t i, total = 0;
    int ret;

    for (i = 1; i < c->shnum; i++) {
        size_t base;

        if (!(c->role[i] & ROLE_RODATA)) {
            continue;
        }
        base = (total + 7) & ~(size_t) 7;
        if (c->shdrs[i].sh_size > ELF_MAX_RODATA
            || base + c->shdrs[i].sh_size > ELF_MAX_RODATA) {
            return ELF_ERR(c, E2BIG, "read-only data too large (more than "
                           "%u bytes, at section %s)", ELF_MAX_RODATA,
                           c->names[i]);
        }
        c->ro_base[i] = base;
        total = base + c->shdrs[i].sh_size;
    }
    if (!total) {
        return 0;
    }
    prog->rodata = calloc(1, total);
    if (!prog->rodata) {
        return ELF_ERR(c, ENOMEM, "out of memory");
    }
    prog->rodata_len = total;
    for (i = 1; i < c->shnum; i++) {
        Elf_Data *data;

        if (!(c->role[i] & ROLE_RODATA) || !c->shdrs[i].sh_size) {
            continue;
        }
        data = elf_section_data(c, i, &ret);
        if (!data) {
            return ret;
        }
        memcpy(prog->rodata + c->ro_base[i], data->d_buf, data->d_size);
    }
    return 0;
}

/* Pass 2: rewrites the relocated instructions (see BPF_PSEUDO_* in
 * oko_bpf.h). */
static int
elf_apply_relocs(struct elf_ctx *c)
{
    size_t i, j;

    for (i = 0; i < c->nrelocs; i++) {
        const struct elf_reloc *r = &c->relocs[i];
        struct bpf_inst *insn = &c->insns[r->insn];
        size_t shndx = r->sym.st_shndx;
        uint64_t target;

        if (r->type == OKO_R_BPF_64_32 && r->helper >= 0) {
            insn->src = 0;
            insn->imm = r->helper;
            continue;
        }
        if (r->type == OKO_R_BPF_64_32) {
            size_t base = 0, count = 0;
            int64_t dst;

            elf_insn_base(c, shndx, &base, &count);
            if (r->sym.st_value % ELF_INSN_SIZE
                || r->sym.st_value / ELF_INSN_SIZE >= count) {
                return ELF_ERR(c, EINVAL, "call at insn %zu: function '%s' "
                               "at offset %" PRIu64 " is not an instruction "
                               "of %s", r->insn, r->name, r->sym.st_value,
                               c->names[shndx]);
            }
            /* REL: as libbpf, the immediate is the implicit addend in
             * instructions, minus one (clang writes -1 for a call to the
             * symbol itself).  RELA: the addend is in bytes.  The target
             * is in the section of the symbol (the code or the appended
             * .text). */
            dst = (int64_t) (r->sym.st_value / ELF_INSN_SIZE);
            if (r->rela) {
                if (r->addend % ELF_INSN_SIZE
                    || r->addend > (int64_t) count * ELF_INSN_SIZE
                    || r->addend < -(int64_t) count * ELF_INSN_SIZE) {
                    return ELF_ERR(c, EINVAL, "call at insn %zu: bad addend "
                                   "%" PRId64 " for '%s'", r->insn,
                                   r->addend, r->name);
                }
                dst += r->addend / ELF_INSN_SIZE;
            } else {
                dst += (int64_t) insn->imm + 1;
            }
            if (dst < 0 || dst >= (int64_t) count) {
                return ELF_ERR(c, EINVAL, "call at insn %zu: target %" PRId64
                               " ('%s') is outside the code (%zu "
                               "instructions)", r->insn, dst, r->name,
                               count);
            }
            dst += (int64_t) base;
            insn->src = BPF_PSEUDO_CALL;
            insn->imm = (int32_t) (dst - (int64_t) (r->insn + 1));
            continue;
        }

        /* R_BPF_64_64 on an lddw: the addend is the 64-bit immediate (REL)
         * or explicit (RELA), plus the symbol's value. */
        if (r->rela) {
            target = r->sym.st_value + (uint64_t) r->addend;
        } else {
            target = r->sym.st_value + ((uint64_t) (uint32_t) insn[0].imm
                                        | (uint64_t) (uint32_t) insn[1].imm
                                          << 32);
        }
        if (target < r->sym.st_value) {
            return ELF_ERR(c, EINVAL, "lddw at insn %zu: addend of '%s' out "
                           "of range", r->insn, r->name);
        }
        if (c->role[shndx] & (ROLE_MAPS | ROLE_BTF_MAPS)) {
            for (j = 0; j < c->nmaps; j++) {
                const struct elf_map *m = &c->maps[j];

                if (m->shndx != shndx || target < m->off
                    || target - m->off >= m->size) {
                    continue;
                }
                if (target != m->off) {
                    return ELF_ERR(c, EINVAL, "lddw at insn %zu: '%s'+%"
                                   PRIu64 " points into the middle of map "
                                   "'%s'", r->insn, r->name,
                                   target - r->sym.st_value, m->name);
                }
                break;
            }
            if (j == c->nmaps) {
                return ELF_ERR(c, EINVAL, "lddw at insn %zu: '%s' (offset %"
                               PRIu64 " in %s) is not a map definition",
                               r->insn, r->name, target, c->names[shndx]);
            }
            insn[0].src = BPF_PSEUDO_MAP_IDX;
            insn[0].imm = (int32_t) j;
            insn[1].imm = 0;
        } else {
            if (target >= c->shdrs[shndx].sh_size) {
                return ELF_ERR(c, EINVAL, "lddw at insn %zu: '%s' offset %"
                               PRIu64 " is out of range of %s (%" PRIu64
                               " bytes)", r->insn, r->name, target,
                               c->names[shndx], c->shdrs[shndx].sh_size);
            }
            insn[0].src = BPF_PSEUDO_RODATA;
            insn[0].imm = (int32_t) (c->ro_base[shndx] + target);
            insn[1].imm = 0;
        }
    }

    /* A BPF-to-BPF call without a relocation is pc-relative inside its
     * own section: one from the code into the appended .text (or back)
     * would jump to whatever the layout put there. */
    if (c->text) {
        for (i = 0; i < c->ninsns; i++) {
            size_t lo = i < c->text_base ? 0 : c->text_base;
            size_t hi = i < c->text_base ? c->text_base : c->ninsns;
            int64_t dst;

            if (c->insns[i].code != ELF_OP_CALL || c->relocated[i]
                || c->insns[i].src != BPF_PSEUDO_CALL) {
                continue;
            }
            dst = (int64_t) i + 1 + c->insns[i].imm;
            if (dst < (int64_t) lo || dst >= (int64_t) hi) {
                return ELF_ERR(c, EINVAL, "call at insn %zu: target %" PRId64
                               " crosses from section %s into another "
                               "without a relocation", i, dst,
                               c->names[i < c->text_base ? c->code
                                                         : c->text]);
            }
        }
    }

    /* In a loaded program a pseudo source on an lddw means "relocated by
     * the loader"; the object may not claim one by itself. */
    for (i = 0; i < c->ninsns; i++) {
        if (c->insns[i].code != ELF_OP_LDDW) {
            continue;
        }
        if (!c->relocated[i] && c->insns[i].src != 0) {
            return ELF_ERR(c, EINVAL, "lddw at insn %zu has source %u but "
                           "no relocation", i, c->insns[i].src);
        }
        i++;    /* the second half */
    }
    return 0;
}

static int
elf_func_sym_cmp(const void *a_, const void *b_)
{
    const struct bpf_func_sym *a = a_, *b = b_;

    if (a->idx != b->idx) {
        return a->idx < b->idx ? -1 : 1;
    }
    return strcmp(a->name, b->name);
}

/* Collects the function symbols of the code section and finds the entry
 * point: opts->entry, else the global function `entry`, else (XDP flavour)
 * the first global function of the section, else its first instruction. */
static int
elf_load_funcs(struct elf_ctx *c, const struct bpf_load_opts *opts,
               struct bpf_prog *prog)
{
    const char *want = opts && opts->entry ? opts->entry : NULL;
    bool found = false, found_func = false, found_global = false;
    size_t i, n = 0, first_global = 0, base, count;
    int ret;

    prog->entry = 0;
    for (i = 1; i < c->nsyms; i++) {
        const char *name;
        GElf_Sym sym;
        int type;

        ret = elf_get_sym(c, i, &sym, &name);
        if (ret) {
            return ret;
        }
        type = GELF_ST_TYPE(sym.st_info);
        if (!elf_insn_base(c, sym.st_shndx, &base, &count)
            || type == STT_SECTION || type == STT_FILE) {
            continue;
        }
        if (sym.st_value % ELF_INSN_SIZE
            || sym.st_value / ELF_INSN_SIZE >= count) {
            if (type != STT_FUNC) {
                continue;   /* e.g. a label at the end of the code */
            }
            return ELF_ERR(c, EINVAL, "function '%s' at offset %" PRIu64 " is "
                           "not an instruction of %s (%zu instructions)",
                           name, sym.st_value, c->names[sym.st_shndx],
                           count);
        }
        if (type == STT_FUNC) {
            n++;
        }
        if (sym.st_shndx != c->code) {
            continue;   /* the entry is in the code section (not .text) */
        }
        if (type == STT_FUNC && GELF_ST_BIND(sym.st_info) == STB_GLOBAL
            && (!found_global || sym.st_value / ELF_INSN_SIZE
                                 < first_global)) {
            first_global = sym.st_value / ELF_INSN_SIZE;
            found_global = true;
        }
        if (want && !strcmp(name, want) && !found_func) {
            /* A function symbol wins over a label of the same name. */
            prog->entry = sym.st_value / ELF_INSN_SIZE;
            found = true;
            found_func = type == STT_FUNC;
        } else if (!want && !found && type == STT_FUNC
                   && GELF_ST_BIND(sym.st_info) == STB_GLOBAL
                   && !strcmp(name, "entry")) {
            prog->entry = sym.st_value / ELF_INSN_SIZE;
            found = true;
        }
    }
    if (want && !found) {
        return ELF_ERR(c, ENOENT, "entry symbol '%s' not found in section %s",
                       want, c->names[c->code]);
    }
    if (!want && !found && found_global && c->flavour == BPF_FLAVOUR_XDP) {
        /* libbpf: the program is the (first) global function of its
         * section, whatever its name. */
        prog->entry = first_global;
    }
    if (!n) {
        return 0;
    }
    prog->syms = calloc(n, sizeof *prog->syms);
    if (!prog->syms) {
        return ELF_ERR(c, ENOMEM, "out of memory");
    }
    for (i = 1; i < c->nsyms && prog->nsyms < n; i++) {
        const char *name;
        GElf_Sym sym;

        ret = elf_get_sym(c, i, &sym, &name);
        if (ret) {
            return ret;
        }
        if (!elf_insn_base(c, sym.st_shndx, &base, &count)
            || GELF_ST_TYPE(sym.st_info) != STT_FUNC) {
            continue;
        }
        prog->syms[prog->nsyms].idx = base + sym.st_value / ELF_INSN_SIZE;
        /* Names longer than the field are cut: they only label output. */
        snprintf(prog->syms[prog->nsyms].name,
                 sizeof prog->syms[prog->nsyms].name, "%s", name);
        prog->nsyms++;
    }
    qsort(prog->syms, prog->nsyms, sizeof *prog->syms, elf_func_sym_cmp);
    return 0;
}

struct elf_range {
    uint64_t lo, hi;
    size_t shndx;               /* 0 for the headers */
};

static int
elf_range_cmp(const void *a_, const void *b_)
{
    const struct elf_range *a = a_, *b = b_;

    return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* Checks that the sections the loader reads do not overlap each other or
 * the ELF headers: a well-formed object never does, and a crafted one
 * should not get to have one byte mean two things. */
static int
elf_check_overlaps(struct elf_ctx *c)
{
    struct elf_range *r;
    size_t i, n = 0;
    int ret = 0;

    r = calloc(c->shnum + 2, sizeof *r);
    if (!r) {
        return ELF_ERR(c, ENOMEM, "out of memory");
    }
    r[n++] = (struct elf_range) { 0, sizeof(Elf64_Ehdr), 0 };
    r[n++] = (struct elf_range) { c->shoff,
                                  c->shoff + c->shnum * sizeof(Elf64_Shdr),
                                  0 };
    for (i = 1; i < c->shnum; i++) {
        const GElf_Shdr *sh = &c->shdrs[i];

        if (c->role[i] && sh->sh_type != SHT_NOBITS && sh->sh_size) {
            r[n++] = (struct elf_range) { sh->sh_offset,
                                          sh->sh_offset + sh->sh_size, i };
        }
    }
    qsort(r, n, sizeof *r, elf_range_cmp);
    for (i = 1; i < n; i++) {
        if (r[i - 1].hi > r[i].lo) {
            const char *a = r[i - 1].shndx ? c->names[r[i - 1].shndx]
                                           : "the ELF headers";
            const char *b = r[i].shndx ? c->names[r[i].shndx]
                                       : "the ELF headers";

            ret = ELF_ERR(c, EINVAL, "sections %s and %s overlap in the "
                          "object (offsets %" PRIu64 " and %" PRIu64 ")",
                          a, b, r[i - 1].lo, r[i].lo);
            break;
        }
    }
    free(r);
    return ret;
}

/* Loads a program from the ELF relocatable object of len bytes at image,
 * which is only read and not kept.  opts (may be NULL) names the code
 * section and the entry symbol.  Returns a program the caller frees with
 * bpf_prog_free(), or NULL with errno set (EINVAL malformed object, ENOENT
 * requested section or entry missing, E2BIG too many instructions or maps,
 * ENOMEM) and a message in err naming the section, symbol, relocation or
 * offset at fault. */
struct bpf_prog *
bpf_prog_load_elf(const void *image, size_t len,
                  const struct bpf_load_opts *opts, char *err, size_t errlen)
{
    struct elf_ctx c = { .err = err, .errlen = errlen, .len = len };
    struct bpf_prog *prog = NULL;
    char *copy = NULL;
    int ret;

    if (err && errlen) {
        err[0] = '\0';
    }
    ret = elf_check_ehdr(&c, image, len);
    if (ret) {
        goto out;
    }
    if (elf_version(EV_CURRENT) == EV_NONE) {
        ret = ELF_ERR(&c, EINVAL, "libelf: %s", elf_errmsg(-1));
        goto out;
    }
    /* libelf wants a writable image; the caller's buffer is const. */
    copy = malloc(len);
    prog = bpf_prog_alloc();
    if (!copy || !prog) {
        ret = ELF_ERR(&c, ENOMEM, "out of memory");
        goto out;
    }
    memcpy(copy, image, len);
    c.elf = elf_memory(copy, len);
    if (!c.elf) {
        ret = ELF_ERR(&c, EINVAL, "not a valid ELF object: %s",
                      elf_errmsg(-1));
        goto out;
    }
    ret = elf_load_sections(&c);
    if (!ret) {
        ret = elf_detect_flavour(&c, opts);
    }
    if (!ret) {
        ret = elf_load_symtab(&c);
    }
    if (!ret) {
        ret = elf_load_code(&c, opts, prog);
    }
    if (!ret) {
        ret = elf_scan_relocs(&c);
    }
    if (!ret) {
        elf_mark_map_sections(&c);
        ret = elf_check_overlaps(&c);
    }
    if (!ret && c.flavour == BPF_FLAVOUR_XDP) {
        ret = elf_load_btf(&c);
        if (!ret) {
            ret = elf_check_core(&c);
        }
    }
    if (!ret) {
        ret = elf_load_maps(&c, prog);
    }
    if (!ret) {
        ret = elf_check_map_total(&c, prog);
    }
    if (!ret) {
        ret = elf_load_rodata(&c, prog);
    }
    if (!ret) {
        ret = elf_apply_relocs(&c);
    }
    if (!ret) {
        ret = elf_load_funcs(&c, opts, prog);
    }

    if (!ret) {
        prog->flavour = c.flavour;
        prog->btf = c.btf;
        c.btf = NULL;
    }

out:
    bpf_btf_free(c.btf);
    if (c.elf) {
        elf_end(c.elf);
    }
    free(c.relocs);
    free(c.relocated);
    free(c.maps);
    free(c.ro_base);
    free(c.role);
    free(c.names);
    free(c.shdrs);
    free(copy);
    if (ret) {
        bpf_prog_free(prog);
        errno = -ret;
        return NULL;
    }
    return prog;
}

/* Returns the flavour the program was loaded as (raw programs are oko's). */
enum bpf_flavour
bpf_prog_flavour(const struct bpf_prog *prog)
{
    return prog->flavour == BPF_FLAVOUR_XDP ? BPF_FLAVOUR_XDP
                                            : BPF_FLAVOUR_OKO;
}
