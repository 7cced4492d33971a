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
 * and the read-only sections the code refers to.  Everything else (BTF,
 * DWARF, relocations of other sections, possibly compressed) is ignored, so
 * objects built with -g load like the others.
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

/* A map definition found in a map section. */
struct elf_map {
    size_t shndx;               /* section */
    uint64_t off;               /* offset in the section */
    const char *name;
    struct bpf_map_def def;
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
    struct bpf_inst *insns;     /* the program's, being relocated */
    size_t ninsns;
    struct elf_reloc *relocs;
    size_t nrelocs;
    uint8_t *relocated;         /* [ninsns] 1 if a relocation applies */
    struct elf_map *maps;       /* sorted by (shndx, off) */
    size_t nmaps;
    size_t *ro_base;            /* [shnum] offset of a section in rodata */
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

/* Picks the code section (opts->section, or the first non-empty
 * executable one) and copies its instructions into prog. */
static int
elf_load_code(struct elf_ctx *c, const struct bpf_load_opts *opts,
              struct bpf_prog *prog)
{
    const char *want = opts ? opts->section : NULL;
    const GElf_Shdr *sh;
    Elf_Data *data;
    size_t i;
    int ret;

    for (i = 1; i < c->shnum; i++) {
        if (want ? !strcmp(c->names[i], want)
                 : elf_is_code_section(&c->shdrs[i]) && c->shdrs[i].sh_size) {
            break;
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
    prog->insns = malloc(c->ninsns * sizeof *prog->insns);
    if (!prog->insns) {
        return ELF_ERR(c, ENOMEM, "out of memory");
    }
    memcpy(prog->insns, data->d_buf, c->ninsns * sizeof *prog->insns);
    prog->ninsns = c->ninsns;
    strcpy(prog->section, c->names[i]);
    c->insns = prog->insns;
    return 0;
}

/* Pass 1 over one relocation of the code section: checks where it applies
 * and what it refers to, and records it.  Nothing is rewritten yet. */
static int
elf_check_reloc(struct elf_ctx *c, const char *secname, size_t n,
                uint64_t r_offset, uint64_t r_info, bool rela,
                int64_t addend)
{
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
    if (r_offset / ELF_INSN_SIZE >= c->ninsns) {
        return ELF_ERR(c, EINVAL, "%s: relocation %zu (%s): offset 0x%"
                       PRIx64 " is past the end of the code (%zu bytes)",
                       secname, n, elf_rel_type_name(type), r_offset,
                       c->ninsns * ELF_INSN_SIZE);
    }
    idx = r_offset / ELF_INSN_SIZE;
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
                       c->names[c->code], name);
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
        if (idx + 1 >= c->ninsns || c->insns[idx + 1].code != 0) {
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
        /* A section named `maps` holds maps even if clang made it
         * read-only (const definitions). */
        c->role[sym.st_shndx] |= (tsh->sh_flags & SHF_WRITE)
                                 || !strcmp(c->names[sym.st_shndx], "maps")
                                 ? ROLE_MAPS : ROLE_RODATA;
    } else {
        if (c->insns[idx].code != ELF_OP_CALL) {
            return ELF_ERR(c, EINVAL, "R_BPF_64_32 relocation at insn %zu "
                           "(offset 0x%" PRIx64 ", symbol '%s'): instruction "
                           "0x%02x is not a call", idx, r_offset, name,
                           c->insns[idx].code);
        }
        if (sym.st_shndx == SHN_UNDEF) {
            r->helper = *name ? bpf_helper_by_name(name) : -ENOENT;
            if (r->helper < 0) {
                return ELF_ERR(c, EINVAL, "unknown helper '%s' called at "
                               "insn %zu", name, idx);
            }
        } else if (sym.st_shndx != c->code) {
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
            || sh->sh_info != c->code) {
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
                ret = elf_check_reloc(c, c->names[i], j, rel.r_offset,
                                      rel.r_info, false, 0);
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
                ret = elf_check_reloc(c, c->names[i], j, rela.r_offset,
                                      rela.r_info, true, rela.r_addend);
            }
        }
    }
    return ret;
}

/* Marks the sections named `maps` and `.data` as map sections (those the
 * code refers to are marked by pass 1): their maps get ids even if the
 * code does not use them. */
static void
elf_mark_map_sections(struct elf_ctx *c)
{
    size_t i;

    for (i = 1; i < c->shnum; i++) {
        const GElf_Shdr *sh = &c->shdrs[i];

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
            int64_t dst;

            if (r->sym.st_value % ELF_INSN_SIZE
                || r->sym.st_value / ELF_INSN_SIZE >= c->ninsns) {
                return ELF_ERR(c, EINVAL, "call at insn %zu: function '%s' "
                               "at offset %" PRIu64 " is not an instruction "
                               "of %s", r->insn, r->name, r->sym.st_value,
                               c->names[c->code]);
            }
            /* REL: as libbpf, the immediate is the implicit addend in
             * instructions, minus one (clang writes -1 for a call to the
             * symbol itself).  RELA: the addend is in bytes. */
            dst = (int64_t) (r->sym.st_value / ELF_INSN_SIZE);
            if (r->rela) {
                if (r->addend % ELF_INSN_SIZE
                    || r->addend > (int64_t) c->ninsns * ELF_INSN_SIZE
                    || r->addend < -(int64_t) c->ninsns * ELF_INSN_SIZE) {
                    return ELF_ERR(c, EINVAL, "call at insn %zu: bad addend "
                                   "%" PRId64 " for '%s'", r->insn,
                                   r->addend, r->name);
                }
                dst += r->addend / ELF_INSN_SIZE;
            } else {
                dst += (int64_t) insn->imm + 1;
            }
            if (dst < 0 || dst >= (int64_t) c->ninsns) {
                return ELF_ERR(c, EINVAL, "call at insn %zu: target %" PRId64
                               " ('%s') is outside the code (%zu "
                               "instructions)", r->insn, dst, r->name,
                               c->ninsns);
            }
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
        if (c->role[shndx] & ROLE_MAPS) {
            for (j = 0; j < c->nmaps; j++) {
                const struct elf_map *m = &c->maps[j];

                if (m->shndx != shndx || target < m->off
                    || target >= m->off + ELF_MAP_DEF_SIZE) {
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
 * point. */
static int
elf_load_funcs(struct elf_ctx *c, const struct bpf_load_opts *opts,
               struct bpf_prog *prog)
{
    const char *want = opts && opts->entry ? opts->entry : NULL;
    bool found = false, found_func = false;
    size_t i, n = 0;
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
        if (sym.st_shndx != c->code || type == STT_SECTION
            || type == STT_FILE) {
            continue;
        }
        if (sym.st_value % ELF_INSN_SIZE
            || sym.st_value / ELF_INSN_SIZE >= c->ninsns) {
            if (type != STT_FUNC) {
                continue;   /* e.g. a label at the end of the code */
            }
            return ELF_ERR(c, EINVAL, "function '%s' at offset %" PRIu64 " is "
                           "not an instruction of %s (%zu instructions)",
                           name, sym.st_value, c->names[c->code], c->ninsns);
        }
        if (type == STT_FUNC) {
            n++;
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
        if (sym.st_shndx != c->code || GELF_ST_TYPE(sym.st_info) != STT_FUNC) {
            continue;
        }
        prog->syms[prog->nsyms].idx = sym.st_value / ELF_INSN_SIZE;
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
    if (!ret) {
        ret = elf_load_maps(&c, prog);
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

out:
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
