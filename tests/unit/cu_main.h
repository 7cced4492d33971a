/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * cu_main.h -- the main() every CUnit test program shares.
 *
 * A test file defines its tests and one table:
 *
 *     static const struct cu_test tests[] = {
 *         { "loads two maps", test_two_maps },
 *         { NULL, NULL }
 *     };
 *     CU_MAIN("loader", tests)
 *
 * CU_basic_run_tests() returns success even when asserts fail, so the exit
 * status comes from CU_get_number_of_failures() (DPDK-NOTES.md).
 */
#ifndef OKO_CU_MAIN_H
#define OKO_CU_MAIN_H 1

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>

struct cu_test {
    const char *name;
    void (*fn)(void);
};

static inline int
cu_run(const char *suite_name, const struct cu_test *tests)
{
    CU_pSuite suite;
    unsigned int failures;

    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
        return 2;
    }
    suite = CU_add_suite(suite_name, NULL, NULL);
    if (!suite) {
        fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
        CU_cleanup_registry();
        return 2;
    }
    for (; tests->name; tests++) {
        if (!CU_add_test(suite, tests->name, tests->fn)) {
            fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
            CU_cleanup_registry();
            return 2;
        }
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = CU_get_number_of_failures();
    if (CU_get_number_of_tests_failed() == 0 && failures == 0
        && CU_get_number_of_tests_run() == 0) {
        fprintf(stderr, "no test ran\n");
        failures = 1;
    }
    CU_cleanup_registry();
    return failures ? 1 : 0;
}

#define CU_MAIN(suite_name, table)                      \
    int main(void) { return cu_run(suite_name, table); }

#endif /* OKO_CU_MAIN_H */
