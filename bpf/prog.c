/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * prog.c -- the program object: allocation, accessors, raw programs.
 * Loading from ELF is in elf.c.
 */
#include "bpf_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
bpf_set_err(char *err, size_t errlen, int errnum, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -errnum;
}

struct bpf_prog *
bpf_prog_alloc(void)
{
    return calloc(1, sizeof(struct bpf_prog));
}

void
bpf_prog_free(struct bpf_prog *prog)
{
    if (!prog) {
        return;
    }
    free(prog->insns);
    free(prog->rodata);
    free(prog->syms);
    bpf_btf_free(prog->btf);
    free(prog);
}

struct bpf_prog *
bpf_prog_load_raw(const struct bpf_inst *insns, size_t n, char *err,
                  size_t errlen)
{
    struct bpf_prog *prog;

    if (!insns || n == 0) {
        bpf_set_err(err, errlen, EINVAL, "program is empty");
        errno = EINVAL;
        return NULL;
    }
    if (n > BPF_MAX_INSNS) {
        bpf_set_err(err, errlen, E2BIG,
                    "program has %zu instructions, more than %d", n,
                    BPF_MAX_INSNS);
        errno = E2BIG;
        return NULL;
    }
    prog = bpf_prog_alloc();
    if (!prog) {
        goto nomem;
    }
    prog->insns = malloc(n * sizeof *insns);
    if (!prog->insns) {
        goto nomem;
    }
    memcpy(prog->insns, insns, n * sizeof *insns);
    prog->ninsns = n;
    prog->raw = true;
    return prog;

nomem:
    bpf_prog_free(prog);
    bpf_set_err(err, errlen, ENOMEM, "out of memory");
    errno = ENOMEM;
    return NULL;
}

struct bpf_prog *
bpf_prog_load_file(const char *path, const struct bpf_load_opts *opts,
                   char *err, size_t errlen)
{
    struct bpf_prog *prog = NULL;
    struct stat st;
    uint8_t *buf = NULL;
    size_t done = 0;
    int saved, fd;

    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused
     * below as not a regular file. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        saved = errno;
        bpf_set_err(err, errlen, saved, "%s: %s", path, strerror(saved));
        goto out;
    }
    if (fstat(fd, &st) < 0) {
        saved = errno;
        bpf_set_err(err, errlen, saved, "%s: %s", path, strerror(saved));
        goto out_close;
    }
    if (!S_ISREG(st.st_mode)) {
        saved = EINVAL;
        bpf_set_err(err, errlen, saved, "%s: not a regular file", path);
        goto out_close;
    }
    if (st.st_size > 64 * 1024 * 1024) {
        saved = EFBIG;
        bpf_set_err(err, errlen, saved, "%s: larger than 64 MiB", path);
        goto out_close;
    }
    buf = malloc(st.st_size ? (size_t) st.st_size : 1);
    if (!buf) {
        saved = ENOMEM;
        bpf_set_err(err, errlen, saved, "out of memory");
        goto out_close;
    }
    while (done < (size_t) st.st_size) {
        ssize_t r = read(fd, buf + done, (size_t) st.st_size - done);

        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            saved = r < 0 ? errno : EIO;
            bpf_set_err(err, errlen, saved, "%s: read failed", path);
            goto out_free;
        }
        done += (size_t) r;
    }
    prog = bpf_prog_load_elf(buf, done, opts, err, errlen);
    saved = prog ? 0 : errno;

out_free:
    free(buf);
out_close:
    close(fd);
out:
    errno = saved;
    return prog;
}

const struct bpf_inst *
bpf_prog_insns(const struct bpf_prog *prog, size_t *n)
{
    if (n) {
        *n = prog->ninsns;
    }
    return prog->insns;
}

size_t
bpf_prog_entry(const struct bpf_prog *prog)
{
    return prog->entry;
}

size_t
bpf_prog_nmaps(const struct bpf_prog *prog)
{
    return prog->nmaps;
}

const struct bpf_map_desc *
bpf_prog_map(const struct bpf_prog *prog, size_t idx)
{
    return idx < prog->nmaps ? &prog->maps[idx] : NULL;
}

const char *
bpf_prog_section(const struct bpf_prog *prog)
{
    return prog->section;
}

const void *
bpf_prog_rodata(const struct bpf_prog *prog, size_t *len)
{
    if (len) {
        *len = prog->rodata_len;
    }
    return prog->rodata;
}

const char *
bpf_prog_symbol_at(const struct bpf_prog *prog, size_t idx)
{
    size_t lo = 0, hi = prog->nsyms;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (prog->syms[mid].idx == idx) {
            return prog->syms[mid].name;
        } else if (prog->syms[mid].idx < idx) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}
