/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * flow_file.c -- flow files: one flow per line in the syntax of
 * flow_parse.c, '#' comments and blank lines ignored, loaded into a
 * classifier all or nothing.
 */
#include "oko_flow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Returns the line without a comment and surrounding blanks, or "" for a
 * line with no flow. */
static char *
strip(char *line)
{
    char *hash = strchr(line, '#'), *end;

    if (hash) {
        *hash = '\0';
    }
    line += strspn(line, " \t\r\n");
    end = line + strlen(line);
    while (end > line && strchr(" \t\r\n", end[-1])) {
        *--end = '\0';
    }
    return line;
}

/* Reads the flow file at path (one flow per line in the syntax of
 * oko_flow_parse(); '#' starts a comment; blank lines are ignored) and adds
 * its flows to cls with cls_add(), in file order.  Declared and documented
 * in oko_flow.h. */
int
oko_flow_file_load(const char *path, struct cls *cls, char *err,
                   size_t errlen)
{
    struct oko_flow *flows = NULL;
    size_t n = 0, cap = 0, i;
    char *line = NULL, msg[256];
    size_t line_cap = 0;
    unsigned int line_no = 0;
    FILE *f;
    int r = 0;

    f = fopen(path, "r");
    if (!f) {
        r = -errno;
        if (err && errlen) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        }
        return r;
    }
    while (getline(&line, &line_cap, f) >= 0) {
        char *text = strip(line);

        line_no++;
        if (!*text) {
            continue;
        }
        if (n == cap) {
            struct oko_flow *p;

            cap = cap ? 2 * cap : 64;
            p = realloc(flows, cap * sizeof *flows);
            if (!p) {
                r = -ENOMEM;
                if (err && errlen) {
                    snprintf(err, errlen, "%s: out of memory", path);
                }
                goto out;
            }
            flows = p;
        }
        r = oko_flow_parse(text, 0, &flows[n], msg, sizeof msg);
        if (r) {
            if (err && errlen) {
                snprintf(err, errlen, "%s:%u: %s", path, line_no, msg);
            }
            goto out;
        }
        n++;
    }
    if (ferror(f)) {
        r = -EIO;
        if (err && errlen) {
            snprintf(err, errlen, "%s: read error", path);
        }
        goto out;
    }
    /* Every line parsed: now add them, so that a bad file changes
     * nothing (unless the classifier runs out of memory half-way). */
    for (i = 0; i < n; i++) {
        r = cls_add(cls, &flows[i], msg, sizeof msg);
        if (r < 0) {
            if (err && errlen) {
                snprintf(err, errlen, "%s: flow %zu: %s", path, i + 1, msg);
            }
            goto out;
        }
    }
    r = (int) n;
out:
    free(line);
    free(flows);
    fclose(f);
    return r;
}
