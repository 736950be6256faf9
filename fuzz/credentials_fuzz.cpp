/*
 * credentials_fuzz.cpp - libFuzzer target for the native node's credentials loader
 * (lib/hal_posix/credentials_posix.*): the PEM certificate loader, the private key loader and
 * the certificate hashes, as `mqtt_node --ca/--cert/--key` and the pin settings use them.
 *
 * The loaders take paths, so each input is split into files that live in memory (memfd, opened
 * by their /proc/self/fd path): the loader runs unchanged, fread() and all.
 * Input: byte 0 picks the calls, bytes 1-2 the length of the first file (big-endian, clamped),
 * then the first file (a CA bundle or the client certificate chain), then the second (the key).
 *   op 0: load_ca(first)           op 1: load_client(first, second)
 *   op 2: cert_hashes(first)       op 3: load_ca(first), then load_client(first, second)
 * Asserted: 0 or -1; a failure leaves a one-line message that starts with the file's path;
 * counts within their arrays; every pointer handed to BearSSL lies inside the arena (and below
 * `used`); a failed or successful key load leaves nothing of the key's DER in the arena past
 * `used` (the loader zeroes its scratch); a successful load_client also hashes the same file.
 * Seeds: public certificates (fuzz/corpus/credentials_fuzz/) and, made by scripts/fuzz.sh at
 * build time in build/fuzz/credentials_fuzz/keys/, throwaway keys (never committed).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "credentials_posix.h"

namespace {

void fail(const char *what) {
    fprintf(stderr, "credentials_fuzz: %s\n", what);
    abort();
}

struct mem_file {
    int fd;
    char path[64];
};

void mem_file_init(mem_file *f, const char *name) {
    f->fd = memfd_create(name, 0);
    if (f->fd < 0) fail("memfd_create");
    snprintf(f->path, sizeof f->path, "/proc/self/fd/%d", f->fd);
}

void mem_file_set(mem_file *f, const uint8_t *data, size_t len) {
    if (ftruncate(f->fd, 0) != 0 || pwrite(f->fd, data, len, 0) != (ssize_t)len) fail("write memfd");
}

tls_credentials *creds; /* on the heap: ASan red zones around it */
mem_file first, second;

bool in_arena(const tls_credentials *c, const void *p, size_t len) {
    const uint8_t *q = (const uint8_t *)p;
    return q != NULL && q >= c->arena && q + len <= c->arena + c->used;
}

void check_failure(const tls_credentials *c, const char *path) {
    size_t n = strnlen(c->error, sizeof c->error);
    if (n == 0 || n == sizeof c->error) fail("a failure without a message");
    if (strchr(c->error, '\n') || strchr(c->error, '\r')) fail("the message is not one line");
    if (strncmp(c->error, path, strlen(path)) != 0 && strncmp(c->error, "/proc/self/fd/", 14) != 0)
        fail("the message does not name the file");
}

void check_state(const tls_credentials *c) {
    if (c->used > sizeof c->arena) fail("arena overrun");
    if (c->anchor_count > TLS_CRED_MAX_ANCHORS || c->chain_len > TLS_CRED_MAX_CHAIN) fail("counts");
    for (size_t i = 0; i < c->anchor_count; i++) {
        const br_x509_trust_anchor &ta = c->anchors[i];
        if (ta.dn.len && !in_arena(c, ta.dn.data, ta.dn.len)) fail("anchor DN outside the arena");
        if (ta.pkey.key_type == BR_KEYTYPE_RSA) {
            if (!in_arena(c, ta.pkey.key.rsa.n, ta.pkey.key.rsa.nlen) ||
                !in_arena(c, ta.pkey.key.rsa.e, ta.pkey.key.rsa.elen))
                fail("anchor RSA key outside the arena");
        } else if (ta.pkey.key_type == BR_KEYTYPE_EC) {
            if (!in_arena(c, ta.pkey.key.ec.q, ta.pkey.key.ec.qlen)) fail("anchor EC key outside the arena");
        } else {
            fail("anchor key type");
        }
    }
}

void check_key(const tls_credentials *c) {
    for (size_t i = 0; i < c->chain_len; i++)
        if (!in_arena(c, c->chain[i].data, c->chain[i].data_len)) fail("chain outside the arena");
    if (c->key_type == BR_KEYTYPE_RSA) {
        const br_rsa_private_key &k = c->rsa;
        if (!in_arena(c, k.p, k.plen) || !in_arena(c, k.q, k.qlen) || !in_arena(c, k.dp, k.dplen) ||
            !in_arena(c, k.dq, k.dqlen) || !in_arena(c, k.iq, k.iqlen))
            fail("RSA key outside the arena");
    } else if (c->key_type == BR_KEYTYPE_EC) {
        if (!in_arena(c, c->ec.x, c->ec.xlen)) fail("EC key outside the arena");
    } else if (c->key_type != 0) {
        fail("key type");
    }
    for (size_t i = c->used; i < sizeof c->arena; i++)
        if (c->arena[i] != 0) fail("bytes left in the arena past its end (the key's scratch DER)");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    if (creds == NULL) {
        creds = (tls_credentials *)malloc(sizeof *creds);
        mem_file_init(&first, "first.pem");
        mem_file_init(&second, "second.pem");
    }
    const int op = data[0] & 3;
    size_t split = (size_t)data[1] << 8 | data[2];
    data += 3;
    size -= 3;
    if (split > size) split = size;
    mem_file_set(&first, data, split);
    mem_file_set(&second, data + split, size - split);

    tls_credentials *c = creds;
    tls_credentials_init(c);
    int rc;
    switch (op) {
        case 0:
            rc = tls_credentials_load_ca(c, first.path);
            if (rc != 0 && rc != -1) fail("load_ca result");
            if (rc)
                check_failure(c, first.path);
            else if (c->anchor_count == 0)
                fail("load_ca succeeded without an anchor");
            check_state(c);
            break;
        case 3:
            rc = tls_credentials_load_ca(c, first.path);
            if (rc) check_failure(c, first.path);
            check_state(c);
            if (rc) break;
            /* fall through: the node loads the client credentials into the same object */
        case 1: {
            const size_t before = c->used;
            memset(c->error, 0, sizeof c->error);
            rc = tls_credentials_load_client(c, first.path, second.path);
            if (rc != 0 && rc != -1) fail("load_client result");
            if (c->used < before) fail("load_client gave back arena space it did not take");
            for (size_t i = c->used; i < sizeof c->arena; i++)
                if (c->arena[i] != 0) fail("key scratch left in the arena");
            if (rc) {
                if (strncmp(c->error, first.path, strlen(first.path)) != 0 &&
                    strncmp(c->error, second.path, strlen(second.path)) != 0)
                    fail("the message names neither file");
                check_failure(c, first.path);
            } else {
                if (c->chain_len == 0 || (c->key_type != BR_KEYTYPE_RSA && c->key_type != BR_KEYTYPE_EC))
                    fail("loaded nothing");
                check_key(c);
                /* (cert_hashes below decodes the certificate past `used`: public bytes, not the key) */
                uint8_t fp[32], spki[32];
                /* The node pins with the same file: hashing it after a successful load must work. */
                if (tls_credentials_cert_hashes(c, first.path, fp, spki) != 0 &&
                    strstr(c->error, "could not be decoded") == NULL)
                    fail("a loaded chain could not be hashed");
            }
            check_state(c);
            break;
        }
        case 2: {
            uint8_t fp[32], spki[32];
            rc = tls_credentials_cert_hashes(c, first.path, fp, spki);
            if (rc != 0 && rc != -1) fail("cert_hashes result");
            if (rc) check_failure(c, first.path);
            if (c->used != 0) fail("cert_hashes kept arena space");
            break;
        }
    }
    return 0;
}
