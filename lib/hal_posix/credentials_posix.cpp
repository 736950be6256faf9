/*
 * credentials_posix.cpp - PEM files -> BearSSL trust anchors, chain and key (see the header).
 */
#include "credentials_posix.h"

#include "tls_transport.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tls_cert.h"

static void set_error(tls_credentials *c, const char *path, const char *what) {
    snprintf(c->error, sizeof c->error, "%s: %s", path, what);
}

static uint8_t *arena_alloc(tls_credentials *c, size_t len) {
    if (len > sizeof c->arena - c->used) return NULL;
    uint8_t *p = c->arena + c->used;
    c->used += len;
    return p;
}

static uint8_t *arena_copy(tls_credentials *c, const void *src, size_t len) {
    uint8_t *p = arena_alloc(c, len);
    if (p != NULL && len > 0) memcpy(p, src, len);
    return p;
}

void tls_credentials_init(tls_credentials *c) { memset(c, 0, sizeof *c); }

/* ---------------------------------------------------------------- PEM */

typedef struct {
    tls_credentials *c;
    uint8_t *start; /* DER of the current object, at the end of the arena */
    size_t len;
    int overflow;
} pem_sink;

static void pem_append(void *ctx, const void *data, size_t len) {
    pem_sink *s = (pem_sink *)ctx;
    if (s->overflow) return;
    if (arena_copy(s->c, data, len) == NULL) {
        s->overflow = 1;
        return;
    }
    s->len += len;
}

typedef struct {
    char name[128]; /* br_pem_decoder_name() is up to 127 chars */
    uint8_t *der;
    size_t len;
} pem_object;

/* "CERTIFICATE" or the older "X509 CERTIFICATE" label. */
static int pem_is_certificate(const pem_object *o) {
    return strcmp(o->name, "CERTIFICATE") == 0 || strcmp(o->name, "X509 CERTIFICATE") == 0;
}

/* Decodes every PEM object of a file into the arena. Returns the count, or -1: then the arena is
   as it was (a file that turns bad half-way must not keep the room its first objects took). */
static int read_pem_objects(tls_credentials *c, const char *path, pem_object *objs, int max_objs) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        set_error(c, path, strerror(errno));
        return -1;
    }
    br_pem_decoder_context pc;
    br_pem_decoder_init(&pc);
    pem_sink sink = {c, NULL, 0, 0};
    int count = 0;
    int eof_newline = 0;
    uint8_t buf[512];
    for (;;) {
        size_t n = fread(buf, 1, sizeof buf, f);
        /* BearSSL 0.6's PEM decoder keeps a '\r' before the newline in the object name
           ("CERTIFICATE-----"): drop CRs, as files written on Windows or by node-forge have them. */
        size_t kept = 0;
        for (size_t i = 0; i < n; i++) {
            if (buf[i] != '\r') buf[kept++] = buf[i];
        }
        if (n > 0 && kept == 0) continue;
        n = kept;
        if (n == 0) {
            /* a final newline makes sure a last "-----END" line without one is seen */
            if (eof_newline) break;
            buf[0] = '\n';
            n = 1;
            eof_newline = 1;
        }
        size_t off = 0;
        while (off < n) {
            off += br_pem_decoder_push(&pc, buf + off, n - off);
            switch (br_pem_decoder_event(&pc)) {
                case BR_PEM_BEGIN_OBJ:
                    if (count == max_objs) {
                        fclose(f);
                        set_error(c, path, "too many PEM objects");
                        return -1;
                    }
                    snprintf(objs[count].name, sizeof objs[count].name, "%s", br_pem_decoder_name(&pc));
                    sink.start = c->arena + c->used;
                    sink.len = 0;
                    br_pem_decoder_setdest(&pc, pem_append, &sink);
                    break;
                case BR_PEM_END_OBJ:
                    if (sink.overflow) {
                        fclose(f);
                        set_error(c, path, "too large for the credentials buffer");
                        return -1;
                    }
                    objs[count].der = sink.start;
                    objs[count].len = sink.len;
                    count++;
                    break;
                case BR_PEM_ERROR:
                    fclose(f);
                    set_error(c, path, "not a valid PEM file");
                    return -1;
                default: break;
            }
        }
    }
    fclose(f);
    if (count == 0) {
        set_error(c, path, "no PEM object found (expected -----BEGIN ...-----)");
        return -1;
    }
    return count;
}

static int read_pem(tls_credentials *c, const char *path, pem_object *objs, int max_objs) {
    const size_t mark = c->used;
    int n = read_pem_objects(c, path, objs, max_objs);
    if (n < 0) {
        memset(c->arena + mark, 0, c->used - mark);
        c->used = mark;
    }
    return n;
}

/* ---------------------------------------------------------------- certificates */

typedef struct {
    tls_credentials *c;
    uint8_t *start;
    size_t len;
    int overflow;
} dn_sink;

static void dn_append(void *ctx, const void *data, size_t len) {
    dn_sink *s = (dn_sink *)ctx;
    if (s->overflow) return;
    if (arena_copy(s->c, data, len) == NULL) {
        s->overflow = 1;
        return;
    }
    s->len += len;
}

static int add_anchor(tls_credentials *c, const char *path, const uint8_t *der, size_t len) {
    if (c->anchor_count == TLS_CRED_MAX_ANCHORS) {
        set_error(c, path, "too many CA certificates");
        return -1;
    }
    br_x509_decoder_context dc;
    dn_sink dn = {c, c->arena + c->used, 0, 0};
    br_x509_decoder_init(&dc, dn_append, &dn);
    /* One push of the whole DER: a decoder that failed is never resumed (docs/tls-review.md). */
    br_x509_decoder_push(&dc, der, len);
    const br_x509_pkey *pk = br_x509_decoder_get_pkey(&dc);
    if (pk == NULL) {
        set_error(c, path, "CA certificate could not be decoded");
        return -1;
    }
    if (dn.overflow) {
        set_error(c, path, "too large for the credentials buffer");
        return -1;
    }
    br_x509_trust_anchor *ta = &c->anchors[c->anchor_count];
    ta->dn.data = dn.start;
    ta->dn.len = dn.len;
    /* As brssl's "ta" command: a CA certificate anchors chains; a server certificate
       given as "CA" is trusted directly (anchor without the CA flag). */
    ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
    ta->pkey.key_type = pk->key_type;
    if (pk->key_type == BR_KEYTYPE_RSA) {
        ta->pkey.key.rsa.n = arena_copy(c, pk->key.rsa.n, pk->key.rsa.nlen);
        ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
        ta->pkey.key.rsa.e = arena_copy(c, pk->key.rsa.e, pk->key.rsa.elen);
        ta->pkey.key.rsa.elen = pk->key.rsa.elen;
        if (ta->pkey.key.rsa.n == NULL || ta->pkey.key.rsa.e == NULL) {
            set_error(c, path, "too large for the credentials buffer");
            return -1;
        }
    } else if (pk->key_type == BR_KEYTYPE_EC) {
        ta->pkey.key.ec.curve = pk->key.ec.curve;
        ta->pkey.key.ec.q = arena_copy(c, pk->key.ec.q, pk->key.ec.qlen);
        ta->pkey.key.ec.qlen = pk->key.ec.qlen;
        if (ta->pkey.key.ec.q == NULL) {
            set_error(c, path, "too large for the credentials buffer");
            return -1;
        }
    } else {
        set_error(c, path, "CA key is neither RSA nor EC");
        return -1;
    }
    c->anchor_count++;
    return 0;
}

int tls_credentials_load_ca(tls_credentials *c, const char *pem_path) {
    pem_object objs[TLS_CRED_MAX_ANCHORS];
    int n = read_pem(c, pem_path, objs, TLS_CRED_MAX_ANCHORS);
    if (n < 0) return -1;
    int added = 0;
    for (int i = 0; i < n; i++) {
        if (!pem_is_certificate(&objs[i])) continue;
        if (add_anchor(c, pem_path, objs[i].der, objs[i].len) != 0) return -1;
        added++;
    }
    if (added == 0) {
        set_error(c, pem_path, "no CERTIFICATE in the PEM file");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- client chain and key */

static int copy_key(tls_credentials *c, const char *path, const br_skey_decoder_context *kc) {
    const int type = br_skey_decoder_key_type(kc);
    if (type == BR_KEYTYPE_RSA) {
        const br_rsa_private_key *k = br_skey_decoder_get_rsa(kc);
        c->rsa.n_bitlen = k->n_bitlen;
        c->rsa.p = arena_copy(c, k->p, k->plen);
        c->rsa.plen = k->plen;
        c->rsa.q = arena_copy(c, k->q, k->qlen);
        c->rsa.qlen = k->qlen;
        c->rsa.dp = arena_copy(c, k->dp, k->dplen);
        c->rsa.dplen = k->dplen;
        c->rsa.dq = arena_copy(c, k->dq, k->dqlen);
        c->rsa.dqlen = k->dqlen;
        c->rsa.iq = arena_copy(c, k->iq, k->iqlen);
        c->rsa.iqlen = k->iqlen;
        if (!c->rsa.p || !c->rsa.q || !c->rsa.dp || !c->rsa.dq || !c->rsa.iq) {
            set_error(c, path, "too large for the credentials buffer");
            return -1;
        }
    } else if (type == BR_KEYTYPE_EC) {
        const br_ec_private_key *k = br_skey_decoder_get_ec(kc);
        if (k->curve != BR_EC_secp256r1) {
            set_error(c, path, "EC client key must be on P-256 (the only EC curve the node signs with)");
            return -1;
        }
        c->ec.curve = k->curve;
        c->ec.x = arena_copy(c, k->x, k->xlen);
        c->ec.xlen = k->xlen;
        if (c->ec.x == NULL) {
            set_error(c, path, "too large for the credentials buffer");
            return -1;
        }
    } else {
        set_error(c, path, "private key could not be decoded");
        return -1;
    }
    c->key_type = type;
    return 0;
}

/* A failed key load gives the arena back from `mark` and zeroes it: the scratch DER (or a
   half-copied key) must not stay behind in a buffer that lives as long as the process. */
static int key_failed(tls_credentials *c, size_t mark) {
    memset(c->arena + mark, 0, c->used - mark);
    c->used = mark;
    return -1;
}

/* Unsigned big-endian integers equal, ignoring leading zero bytes. */
static int same_uint(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen) {
    while (alen > 0 && *a == 0) {
        a++;
        alen--;
    }
    while (blen > 0 && *b == 0) {
        b++;
        blen--;
    }
    return alen == blen && memcmp(a, b, alen) == 0;
}

/* 1 when the loaded key is the private half of the leaf certificate's public key: a mismatch is
   refused here, in one line, instead of as a broker alert after the handshake's signature. */
static int key_matches_leaf(const tls_credentials *c) {
    static br_x509_decoder_context dc; /* ~0.8 KB: static rather than on the stack */
    br_x509_decoder_init(&dc, NULL, NULL);
    br_x509_decoder_push(&dc, c->chain[0].data, c->chain[0].data_len);
    const br_x509_pkey *pk = br_x509_decoder_get_pkey(&dc);
    if (br_x509_decoder_last_error(&dc) != 0 || pk == NULL || pk->key_type != c->key_type) return 0;
    if (c->key_type == BR_KEYTYPE_EC) {
        unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE];
        br_ec_public_key pub;
        if (pk->key.ec.curve != c->ec.curve || br_ec_compute_pub(br_ec_get_default(), &pub, q, &c->ec) == 0) return 0;
        return same_uint(pub.q, pub.qlen, pk->key.ec.q, pk->key.ec.qlen);
    }
    unsigned char n[512];
    const br_rsa_compute_modulus modulus = br_rsa_compute_modulus_get_default();
    if ((c->rsa.n_bitlen + 7) / 8 > sizeof n) return 0;
    const size_t nlen = modulus(n, &c->rsa);
    return nlen != 0 && same_uint(n, nlen, pk->key.rsa.n, pk->key.rsa.nlen);
}

int tls_credentials_load_client(tls_credentials *c, const char *cert_path, const char *key_path) {
    pem_object objs[TLS_CRED_MAX_CHAIN];
    int n = read_pem(c, cert_path, objs, TLS_CRED_MAX_CHAIN);
    if (n < 0) return -1;
    c->chain_len = 0;
    for (int i = 0; i < n; i++) {
        if (!pem_is_certificate(&objs[i])) continue;
        c->chain[c->chain_len].data = objs[i].der;
        c->chain[c->chain_len].data_len = objs[i].len;
        c->chain_len++;
    }
    if (c->chain_len == 0) {
        set_error(c, cert_path, "no CERTIFICATE in the PEM file");
        return -1;
    }

    /* The key's DER is decoded from a scratch copy at the end of the arena, which is given
       back afterwards: only the key components stay. */
    const size_t mark = c->used;
    n = read_pem(c, key_path, objs, 1);
    if (n < 0) return key_failed(c, mark);
    if (strstr(objs[0].name, "ENCRYPTED") != NULL) {
        set_error(c, key_path, "the private key is encrypted; the node needs it unencrypted");
        return key_failed(c, mark);
    }
    if (strcmp(objs[0].name, "RSA PRIVATE KEY") != 0 && strcmp(objs[0].name, "EC PRIVATE KEY") != 0 &&
        strcmp(objs[0].name, "PRIVATE KEY") != 0) {
        set_error(c, key_path, "no private key in the PEM file");
        return key_failed(c, mark);
    }
    static br_skey_decoder_context kc; /* ~1.6 KB: static rather than on the stack */
    br_skey_decoder_init(&kc);
    br_skey_decoder_push(&kc, objs[0].der, objs[0].len);
    if (br_skey_decoder_last_error(&kc) != 0) {
        memset(&kc, 0, sizeof kc);
        set_error(c, key_path, "private key could not be decoded");
        return key_failed(c, mark);
    }
    const size_t scratch_len = objs[0].len;
    int r = copy_key(c, key_path, &kc);
    memset(&kc, 0, sizeof kc); /* no second copy of the key lying around */
    if (r != 0) {
        c->key_type = 0;
        memset(&c->rsa, 0, sizeof c->rsa);
        memset(&c->ec, 0, sizeof c->ec);
        return key_failed(c, mark);
    }
    /* Move the key components down over the scratch DER. */
    const size_t key_bytes = c->used - (mark + scratch_len);
    memmove(c->arena + mark, c->arena + mark + scratch_len, key_bytes);
    memset(c->arena + mark + key_bytes, 0, scratch_len);
    c->used = mark + key_bytes;
    const ptrdiff_t shift = -(ptrdiff_t)scratch_len;
    if (c->key_type == BR_KEYTYPE_RSA) {
        c->rsa.p += shift;
        c->rsa.q += shift;
        c->rsa.dp += shift;
        c->rsa.dq += shift;
        c->rsa.iq += shift;
    } else {
        c->ec.x += shift;
    }
    if (!key_matches_leaf(c)) {
        snprintf(c->error, sizeof c->error, "%s: the private key does not match the certificate %s", key_path,
                 cert_path);
        c->key_type = 0;
        memset(&c->rsa, 0, sizeof c->rsa);
        memset(&c->ec, 0, sizeof c->ec);
        return key_failed(c, mark);
    }
    return 0;
}

int tls_credentials_cert_hashes(tls_credentials *c, const char *pem_path, uint8_t fingerprint[32], uint8_t spki[32]) {
    pem_object objs[TLS_CRED_MAX_CHAIN];
    const size_t mark = c->used;
    int n = read_pem(c, pem_path, objs, TLS_CRED_MAX_CHAIN);
    if (n < 0) return -1;
    const pem_object *cert = NULL;
    for (int i = 0; i < n && cert == NULL; i++) {
        if (pem_is_certificate(&objs[i])) cert = &objs[i];
    }
    if (cert == NULL) {
        set_error(c, pem_path, "no CERTIFICATE in the PEM file");
        c->used = mark;
        return -1;
    }
    br_sha256_context h;
    br_sha256_init(&h);
    br_sha256_update(&h, cert->der, cert->len);
    br_sha256_out(&h, fingerprint);
    static tls_cert_walker w;
    tls_cert_walker_init(&w, NULL, 0, NULL);
    tls_cert_walker_push(&w, cert->der, cert->len);
    c->used = mark;
    if (!w.done || w.error || !w.spki_done) {
        set_error(c, pem_path, "certificate could not be decoded");
        return -1;
    }
    memcpy(spki, w.spki_sha256, 32);
    return 0;
}

void tls_credentials_use_client(const tls_credentials *c, tls_config *cfg) {
    cfg->client_chain = c->chain;
    cfg->client_chain_len = c->chain_len;
    if (c->key_type == BR_KEYTYPE_RSA) {
        cfg->client_rsa_key = &c->rsa;
        cfg->client_auth = tls_client_auth_rsa;
    } else {
        cfg->client_ec_key = &c->ec;
        cfg->client_auth = tls_client_auth_ec;
    }
}
