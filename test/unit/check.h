/*
 * check.h - the whole unit-test "framework": CHECK records a failure with file and line and
 * carries on; main() returns check_summary(), which prints the counts and gives ctest its exit code.
 */
#ifndef TEST_CHECK_H
#define TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_total = 0;
static int check_failed = 0;

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        check_total++;                                                                                                 \
        if (!(cond)) {                                                                                                 \
            check_failed++;                                                                                            \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                                   \
        }                                                                                                              \
    } while (0)

#define CHECK_EQ(a, b)                                                                                                 \
    do {                                                                                                               \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                                          \
        check_total++;                                                                                                 \
        if (va_ != vb_) {                                                                                              \
            check_failed++;                                                                                            \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, #a, #b, va_,      \
                    vb_);                                                                                              \
        }                                                                                                              \
    } while (0)

#define CHECK_STR(a, b)                                                                                                \
    do {                                                                                                               \
        const char *sa_ = (a), *sb_ = (b);                                                                             \
        check_total++;                                                                                                 \
        if (strcmp(sa_, sb_) != 0) {                                                                                   \
            check_failed++;                                                                                            \
            fprintf(stderr, "%s:%d: CHECK_STR failed:\n  got:  %s\n  want: %s\n", __FILE__, __LINE__, sa_, sb_);       \
        }                                                                                                              \
    } while (0)

#define RUN(test)                                                                                                      \
    do {                                                                                                               \
        int before_ = check_failed;                                                                                    \
        test();                                                                                                        \
        printf("%s %s\n", check_failed == before_ ? "ok  " : "FAIL", #test);                                           \
    } while (0)

static inline int check_summary(const char *name) {
    printf("%s: %d checks, %d failed\n", name, check_total, check_failed);
    return check_failed == 0 && check_total > 0 ? 0 : 1;
}

#endif
