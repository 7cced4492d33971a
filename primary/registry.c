/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * registry.c -- loading filter programs into the shared registry: the
 * ELF image and each map in its own memzone, the program's rings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_memzone.h>

#include "primary.h"

/* The bpf/ allocator that puts one map in one memzone named
 * OKO_SHM_PROG_MAP_MZ (program id, map index). */
struct mz_alloc_ctx {
    uint32_t prog_id;
    uint32_t map_idx;
    const struct rte_memzone *mz;
    char name[OKO_SHM_NAMESIZE];
};

static void *
mz_alloc(void *ctx_, const char *map_name, size_t size, size_t align)
{
    struct mz_alloc_ctx *ctx = ctx_;

    if (oko_shm_name(ctx->name, sizeof ctx->name, OKO_SHM_PROG_MAP_MZ,
                     ctx->prog_id, ctx->map_idx)) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    align = RTE_MAX(align, (size_t) RTE_CACHE_LINE_SIZE);
    ctx->mz = rte_memzone_reserve_aligned(ctx->name, size, SOCKET_ID_ANY, 0,
                                          align);
    if (!ctx->mz) {
        errno = rte_errno;
        return NULL;
    }
    memset(ctx->mz->addr, 0, size);
    return ctx->mz->addr;
}

static void
mz_free(void *ctx_, void *ptr)
{
    struct mz_alloc_ctx *ctx = ctx_;

    if (ctx->mz && ctx->mz->addr == ptr) {
        rte_memzone_free(ctx->mz);
        ctx->mz = NULL;
    }
}

static int
read_file(const char *path, void **buf, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    long n;
    int rc = 0;

    *buf = NULL;
    if (!f) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return rc;
    }
    if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
        rc = -EIO;
        snprintf(err, errlen, "%s: cannot size the file", path);
        goto out;
    }
    *buf = malloc(n ? n : 1);
    if (!*buf) {
        rc = -ENOMEM;
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    if (fread(*buf, 1, n, f) != (size_t) n) {
        rc = -EIO;
        snprintf(err, errlen, "%s: read error", path);
        free(*buf);
        *buf = NULL;
        goto out;
    }
    *len = n;
out:
    fclose(f);
    return rc;
}

static struct rte_ring *
prog_ring_create(const char *fmt, uint32_t id, unsigned int c,
                 unsigned int size, char *err, size_t errlen)
{
    char name[OKO_SHM_NAMESIZE];
    struct rte_ring *r;

    if (oko_shm_name(name, sizeof name, fmt, id, c)) {
        snprintf(err, errlen, "program %u: ring name too long", id);
        return NULL;
    }
    r = rte_ring_create(name, size, rte_socket_id(),
                        RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!r) {
        snprintf(err, errlen, "program %u: cannot create ring %s: %s", id,
                 name, rte_strerror(rte_errno));
    }
    return r;
}

int
prim_prog_load(const struct prim_opts *o, struct oko_shm_registry *reg,
               const struct prim_prog_req *req, char *err, size_t errlen)
{
    struct bpf_verify_opts vopts = { .mode = BPF_VERIFY_FILTER };
    const struct rte_memzone *elf_mz = NULL;
    const struct rte_memzone *map_mz[OKO_SHM_MAX_PROG_MAPS] = { NULL };
    struct rte_ring *rings[2 * OKO_SHM_MAX_CLASSIFIERS] = { NULL };
    struct oko_shm_prog *slot = NULL;
    struct bpf_prog *prog = NULL;
    char msg[256] = "";
    const char *base;
    size_t len = 0, nmaps;
    void *elf = NULL;
    int rc;

    if (oko_shm_prog_find(reg, req->id)) {
        snprintf(err, errlen, "program %u is loaded twice", req->id);
        return -EEXIST;
    }
    for (int i = 0; i < OKO_SHM_MAX_PROGS && !slot; i++) {
        if (reg->progs[i].state == OKO_PROG_FREE) {
            slot = &reg->progs[i];
        }
    }
    if (!slot) {
        snprintf(err, errlen, "program %u: registry full", req->id);
        return -ENOSPC;
    }

    rc = read_file(req->path, &elf, &len, err, errlen);
    if (rc) {
        return rc;
    }
    prog = bpf_prog_load_elf(elf, len, NULL, msg, sizeof msg);
    if (!prog) {
        rc = -errno;
        snprintf(err, errlen, "program %u (%s): %s", req->id, req->path, msg);
        goto fail;
    }
    rc = bpf_verify(prog, &vopts, NULL, msg, sizeof msg);
    if (rc) {
        snprintf(err, errlen, "program %u (%s) rejected by the verifier: %s",
                 req->id, req->path, msg);
        goto fail;
    }
    nmaps = bpf_prog_nmaps(prog);
    if (nmaps > OKO_SHM_MAX_PROG_MAPS) {
        rc = -E2BIG;
        snprintf(err, errlen, "program %u: %zu maps (at most %d)", req->id,
                 nmaps, OKO_SHM_MAX_PROG_MAPS);
        goto fail;
    }

    memset(slot, 0, sizeof *slot);
    slot->id = req->id;
    slot->version = 1;
    slot->fail_policy = req->fail_policy;
    base = strrchr(req->path, '/');
    snprintf(slot->name, sizeof slot->name, "%s", base ? base + 1 : req->path);

    /* The ELF image: each process builds its own VM from it. */
    if (oko_shm_name(slot->elf_mz, sizeof slot->elf_mz, OKO_SHM_PROG_ELF_MZ,
                     slot->id, slot->version)) {
        rc = -ENAMETOOLONG;
        snprintf(err, errlen, "program %u: name too long", req->id);
        goto fail;
    }
    elf_mz = rte_memzone_reserve_aligned(slot->elf_mz, len, SOCKET_ID_ANY, 0,
                                         RTE_CACHE_LINE_SIZE);
    if (!elf_mz) {
        rc = -rte_errno;
        snprintf(err, errlen, "program %u: memzone %s: %s", req->id,
                 slot->elf_mz, rte_strerror(rte_errno));
        goto fail;
    }
    memcpy(elf_mz->addr, elf, len);
    slot->elf_len = len;

    /* The maps, each in its own memzone, formatted by bpf/. */
    for (size_t i = 0; i < nmaps; i++) {
        const struct bpf_map_desc *d = bpf_prog_map(prog, i);
        struct mz_alloc_ctx ctx = { .prog_id = req->id, .map_idx = i };
        struct bpf_allocator a = { mz_alloc, mz_free, &ctx };
        struct oko_shm_map *sm = &slot->maps[i];

        if (!bpf_map_create(&d->def, d->name, &a)) {
            rc = -errno;
            snprintf(err, errlen, "program %u: map %s: %s", req->id, d->name,
                     strerror(errno));
            goto fail;
        }
        map_mz[i] = ctx.mz;
        snprintf(sm->name, sizeof sm->name, "%s", d->name);
        memcpy(sm->mz_name, ctx.name, sizeof sm->mz_name);
        sm->def = d->def;
        sm->size = bpf_map_mem_size(&d->def);
    }
    slot->nmaps = nmaps;

    /* Input ring from each classifier, verdict ring back to it. */
    for (unsigned int c = 0; c < OKO_SHM_MAX_CLASSIFIERS; c++) {
        rings[2 * c] = prog_ring_create(OKO_SHM_FLT_IN_CLS_RING, req->id, c,
                                        o->ring_size, err, errlen);
        if (!rings[2 * c]) {
            rc = -ENOMEM;
            goto fail;
        }
        rings[2 * c + 1] = prog_ring_create(OKO_SHM_FLT_VERDICT_RING, req->id,
                                            c, o->ring_size, err, errlen);
        if (!rings[2 * c + 1]) {
            rc = -ENOMEM;
            goto fail;
        }
    }

    __atomic_store_n(&slot->state, OKO_PROG_LOADED, __ATOMIC_RELEASE);
    oko_log(OKO_LOG_INFO, "program %u loaded from %s: %zu maps, %s",
            req->id, req->path, nmaps,
            oko_fail_policy_name(req->fail_policy));
    bpf_prog_free(prog);
    free(elf);
    return 0;

fail:
    for (size_t i = 0; i < RTE_DIM(rings); i++) {
        rte_ring_free(rings[i]);
    }
    for (size_t i = 0; i < RTE_DIM(map_mz); i++) {
        if (map_mz[i]) {
            rte_memzone_free(map_mz[i]);
        }
    }
    if (elf_mz) {
        rte_memzone_free(elf_mz);
    }
    if (slot) {
        memset(slot, 0, sizeof *slot);
    }
    bpf_prog_free(prog);
    free(elf);
    return rc ? rc : -EINVAL;
}
