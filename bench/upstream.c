/* The benchmark's upstream in C: the same checks and answers as bench/upstream.py, at a fraction of its CPU.
 *
 *     cc -O2 -o upstream bench/upstream.c -lcrypto
 *     ./upstream --port P --accounts accounts.json [--venue bybit]
 *
 * Why a second implementation: the upstream shares the machine's two cores with the process under test. With two
 * gateway workers both cores are busy, and every microsecond the upstream spends per cancel is taken from the
 * workers. Measured with wrk's pre-signed requests over 64 connections, in one run: the Python server
 * 30.5-31.0 us of CPU per request (user 20.6-22.4, kernel 8.6-10.0), this one 10.7-13.5 (user 3.1-3.7, kernel
 * 7.6-9.8): the rest is loopback TCP in the kernel.
 * bench/run.py builds and uses it when a C compiler and OpenSSL's headers are present, else falls back to
 * bench/upstream.py; tests/test_bench_upstream_c.py sends both the same requests and compares every answer.
 *
 * Kraken (default): POST /0/private/CancelOrder (form body: nonce, txid) and /0/private/CancelOrderBatch (JSON:
 * nonce, orders). Checks, in upstream.py's order: a known API-Key; API-Sign = base64(HMAC-SHA512(b64decode(secret),
 * path + SHA256(nonce + body))) over the exact bytes received; a nonce strictly greater than the key's last one
 * (skipped for keys marked "replay"). Answers {"error":[],"result":{"count":N}} or {"error":["EAPI:..."]}.
 * Bybit (--venue bybit): POST /v5/order/cancel; a known X-BAPI-API-KEY, X-BAPI-TIMESTAMP inside
 * [now - X-BAPI-RECV-WINDOW, now + 1000 ms), X-BAPI-SIGN = hex(HMAC-SHA256(secret, ts + key + window + body)), a JSON
 * body with category "spot", a symbol and a string orderId; answers retCode 0 with the orderId, else the retCode of
 * the failed check (10003 key, 10002 timestamp, 10004 sign, 10001 parameters).
 * GET /_stats -> {"requests", "cancels", "errors": {error: n}, "byKey": {apiKey: cancels}}.
 *
 * HTTP/1.1 with Content-Length bodies, keep-alive and pipelining; a chunked body or a malformed request gets a
 * 400 and the connection is closed (the clients measured here, aiohttp and wrk, send Content-Length).
 */
#define _GNU_SOURCE
/* SHA256_Init and friends: deprecated in OpenSSL 3 in favour of EVP, whose per-call fetch and context set-up cost
 * more than the hashing here (callgrind: ~24,000 instructions per HMAC through HMAC(), ~5,000 from the states
 * below). They remain in libcrypto 3. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQUEST (1 << 20)

/* ------------------------------------------------------------------------------------------ accounts */

/* HMAC's two keyed states, absorbed once per account: a request then costs one inner and one outer hash. */
typedef union {
    struct {
        SHA512_CTX inner, outer;
    } sha512;
    struct {
        SHA256_CTX inner, outer;
    } sha256;
} Keyed;

typedef struct {
    char *key;
    size_t key_len;
    Keyed hmac;
    int replay;
    char last_nonce[64]; /* decimal digits without leading zeros ("" = 0): nonces of any length compare exactly */
    unsigned long long cancels;
} Account;

static Account *accounts;
static size_t naccounts, table_size;
static int bybit;

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static Account *find_account(const char *key, size_t n) {
    if (n == 0) return NULL;
    for (size_t i = hash_bytes(key, n) & (table_size - 1);; i = (i + 1) & (table_size - 1)) {
        Account *a = &accounts[i];
        if (!a->key) return NULL;
        if (a->key_len == n && memcmp(a->key, key, n) == 0) return a;
    }
}

static void die(const char *what) {
    fprintf(stderr, "upstream: %s\n", what);
    exit(2);
}

/* RFC 2104: the key padded to the hash's block (hashed first if longer), XORed with 0x36 (inner) and 0x5c (outer);
 * SHA-512 for Kraken, SHA-256 for Bybit. */
static void keyed(Keyed *k, const unsigned char *key, size_t len, int sha512) {
    unsigned char block[SHA512_CBLOCK] = {0}, inner[SHA512_CBLOCK], outer[SHA512_CBLOCK];
    size_t size = sha512 ? SHA512_CBLOCK : SHA256_CBLOCK;
    if (len > size)
        (sha512 ? SHA512 : SHA256)(key, len, block);
    else
        memcpy(block, key, len);
    for (size_t i = 0; i < size; i++) inner[i] = block[i] ^ 0x36, outer[i] = block[i] ^ 0x5c;
    if (sha512) {
        SHA512_Init(&k->sha512.inner);
        SHA512_Update(&k->sha512.inner, inner, size);
        SHA512_Init(&k->sha512.outer);
        SHA512_Update(&k->sha512.outer, outer, size);
    } else {
        SHA256_Init(&k->sha256.inner);
        SHA256_Update(&k->sha256.inner, inner, size);
        SHA256_Init(&k->sha256.outer);
        SHA256_Update(&k->sha256.outer, outer, size);
    }
}

static void hmac_sha512(const Keyed *k, const void *msg, size_t len, unsigned char out[SHA512_DIGEST_LENGTH]) {
    SHA512_CTX c = k->sha512.inner;
    SHA512_Update(&c, msg, len);
    SHA512_Final(out, &c);
    c = k->sha512.outer;
    SHA512_Update(&c, out, SHA512_DIGEST_LENGTH);
    SHA512_Final(out, &c);
}

/* HMAC-SHA256 over the concatenation of `n` parts. */
static void hmac_sha256(const Keyed *k, const void *const *parts, const size_t *lens, size_t n,
                        unsigned char out[SHA256_DIGEST_LENGTH]) {
    SHA256_CTX c = k->sha256.inner;
    for (size_t i = 0; i < n; i++) SHA256_Update(&c, parts[i], lens[i]);
    SHA256_Final(out, &c);
    c = k->sha256.outer;
    SHA256_Update(&c, out, SHA256_DIGEST_LENGTH);
    SHA256_Final(out, &c);
}

/* The value of "name": "..." inside one account object [obj, end): run.py writes plain strings (base64, hex), so a
 * backslash escape is refused rather than half-understood. */
static char *json_field(const char *obj, const char *end, const char *name, size_t *len) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\"", name);
    const char *p = memmem(obj, end - obj, pattern, strlen(pattern));
    if (!p) return NULL;
    p += strlen(pattern);
    while (p < end && (*p == ' ' || *p == ':')) p++;
    if (p >= end) return NULL;
    if (*p != '"') {
        *len = 0;
        return (char *)p; /* a literal (true/false): the caller compares it */
    }
    const char *q = ++p;
    while (q < end && *q != '"') {
        if (*q == '\\') die("accounts file: escaped strings are not supported");
        q++;
    }
    *len = q - p;
    char *out = malloc(*len + 1);
    memcpy(out, p, *len);
    out[*len] = 0;
    return out;
}

static void load_accounts(const char *path) {
    FILE *fh = fopen(path, "rb");
    if (!fh) die("cannot open the accounts file");
    fseek(fh, 0, SEEK_END);
    long size = ftell(fh);
    fseek(fh, 0, SEEK_SET);
    char *text = malloc(size + 1);
    if (fread(text, 1, size, fh) != (size_t)size) die("cannot read the accounts file");
    fclose(fh);
    text[size] = 0;
    size_t count = 0;
    for (char *p = text; (p = strchr(p, '{')); p++) count++;
    for (table_size = 16; table_size < count * 2; table_size <<= 1) {
    }
    accounts = calloc(table_size, sizeof(Account));
    for (char *p = text; (p = strchr(p, '{'));) {
        char *end = strchr(p, '}');
        if (!end) die("accounts file: unterminated object");
        size_t key_len, secret_len, flag_len;
        char *key = json_field(p, end, "apiKey", &key_len);
        char *secret = json_field(p, end, "secret", &secret_len);
        char *replay = json_field(p, end, "replay", &flag_len);
        if (!key || !secret || !key_len) die("accounts file: an account without apiKey or secret");
        if (find_account(key, key_len)) die("accounts file: a key listed twice");
        size_t i = hash_bytes(key, key_len) & (table_size - 1);
        while (accounts[i].key) i = (i + 1) & (table_size - 1);
        Account *a = &accounts[i];
        a->key = key;
        a->key_len = key_len;
        a->replay = replay && flag_len == 0 && strncmp(replay, "true", 4) == 0;
        if (bybit) { /* Bybit's HMAC key is the secret's text */
            keyed(&a->hmac, (unsigned char *)secret, secret_len, 0);
        } else { /* Kraken's is the base64-decoded private key */
            unsigned char *raw = malloc(secret_len + 3);
            int n = EVP_DecodeBlock(raw, (unsigned char *)secret, (int)secret_len);
            if (n < 0) die("accounts file: a secret that is not base64");
            while (secret_len > 0 && secret[secret_len - 1] == '=') secret_len--, n--;
            keyed(&a->hmac, raw, n, 1);
            free(raw);
        }
        free(secret);
        naccounts++;
        p = end + 1;
    }
    free(text);
}

/* ------------------------------------------------------------------------------------------ counters */

static unsigned long long requests_seen, cancels_done;

typedef struct {
    const char *name;
    unsigned long long n;
} ErrorCount;

static ErrorCount errors[16];
static size_t nerrors;

static void count_error(const char *name) {
    for (size_t i = 0; i < nerrors; i++)
        if (strcmp(errors[i].name, name) == 0) {
            errors[i].n++;
            return;
        }
    if (nerrors < sizeof errors / sizeof errors[0]) errors[nerrors++] = (ErrorCount){name, 1};
}

/* ------------------------------------------------------------------------------------------ a growing buffer */

typedef struct {
    char *data;
    size_t len, cap;
} Buf;

static void buf_reserve(Buf *b, size_t more) {
    if (b->len + more <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more) cap *= 2;
    b->data = realloc(b->data, cap);
    b->cap = cap;
}

static void buf_add(Buf *b, const void *p, size_t n) {
    buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void buf_str(Buf *b, const char *s) { buf_add(b, s, strlen(s)); }

static void buf_printf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(Buf *b, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        int n = vsnprintf(b->data + b->len, room, fmt, ap);
        va_end(ap);
        if ((size_t)n < room) {
            b->len += n;
            return;
        }
        buf_reserve(b, n + 1);
    }
}

/* ------------------------------------------------------------------------------------------ a small JSON reader */

/* Enough JSON to read a request body's top-level members: a validating scanner that skips any value and reports
 * where each top-level member's value starts and ends. */
typedef struct {
    const char *p, *end;
} Scan;

static void ws(Scan *s) {
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) s->p++;
}

static int skip_value(Scan *s, int depth);

static int skip_string(Scan *s) {
    if (s->p >= s->end || *s->p != '"') return 0;
    for (s->p++; s->p < s->end; s->p++) {
        unsigned char c = *s->p;
        if (c == '"') {
            s->p++;
            return 1;
        }
        if (c < 0x20) return 0;
        if (c == '\\') {
            if (++s->p >= s->end) return 0;
            if (*s->p == 'u') {
                for (int i = 0; i < 4; i++)
                    if (++s->p >= s->end || !strchr("0123456789abcdefABCDEF", *s->p)) return 0;
            } else if (!strchr("\"\\/bfnrt", *s->p)) {
                return 0;
            }
        }
    }
    return 0;
}

static int skip_value(Scan *s, int depth) {
    if (depth > 64) return 0;
    ws(s);
    if (s->p >= s->end) return 0;
    char c = *s->p;
    if (c == '"') return skip_string(s);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        s->p++;
        ws(s);
        if (s->p < s->end && *s->p == close) {
            s->p++;
            return 1;
        }
        for (;;) {
            if (c == '{') {
                ws(s);
                if (!skip_string(s)) return 0;
                ws(s);
                if (s->p >= s->end || *s->p != ':') return 0;
                s->p++;
            }
            if (!skip_value(s, depth + 1)) return 0;
            ws(s);
            if (s->p >= s->end) return 0;
            if (*s->p == close) {
                s->p++;
                return 1;
            }
            if (*s->p != ',') return 0;
            s->p++;
        }
    }
    const char *start = s->p;
    if (c == '-' || (c >= '0' && c <= '9')) {
        s->p++;
        while (s->p < s->end && strchr("0123456789.eE+-", *s->p)) s->p++;
        return 1;
    }
    for (const char *lit = "true\0false\0null\0"; *lit; lit += strlen(lit) + 1) {
        size_t n = strlen(lit);
        if ((size_t)(s->end - start) >= n && memcmp(start, lit, n) == 0) {
            s->p += n;
            return 1;
        }
    }
    return 0;
}

typedef struct {
    const char *name; /* the member's name as written between the quotes (no escapes expected) */
    const char *value, *value_end;
} Member;

/* Reads a top-level object; fills the members asked for (the last occurrence wins, as in Python's json). */
static int read_object(const char *body, size_t len, Member *want, size_t nwant) {
    Scan s = {body, body + len};
    ws(&s);
    if (s.p >= s.end || *s.p != '{') return 0;
    s.p++;
    ws(&s);
    if (s.p < s.end && *s.p == '}') {
        s.p++;
    } else {
        for (;;) {
            ws(&s);
            const char *name = s.p + 1;
            if (!skip_string(&s)) return 0;
            size_t name_len = s.p - 1 - name;
            ws(&s);
            if (s.p >= s.end || *s.p != ':') return 0;
            s.p++;
            ws(&s);
            const char *value = s.p;
            if (!skip_value(&s, 1)) return 0;
            for (size_t i = 0; i < nwant; i++)
                if (strlen(want[i].name) == name_len && memcmp(want[i].name, name, name_len) == 0) {
                    want[i].value = value;
                    want[i].value_end = s.p;
                }
            ws(&s);
            if (s.p >= s.end) return 0;
            if (*s.p == '}') {
                s.p++;
                break;
            }
            if (*s.p != ',') return 0;
            s.p++;
        }
    }
    ws(&s);
    return s.p == s.end;
}

/* The number of elements of a JSON array value, or -1 if the value is not an array. */
static long array_length(const char *value, const char *end) {
    if (*value != '[') return -1;
    Scan s = {value + 1, end};
    ws(&s);
    if (s.p < s.end && *s.p == ']') return 0;
    long n = 0;
    for (;;) {
        if (!skip_value(&s, 1)) return -1;
        n++;
        ws(&s);
        if (s.p >= s.end) return -1;
        if (*s.p == ']') return n;
        s.p++; /* ',' (the scan above validated the array) */
    }
}

/* ------------------------------------------------------------------------------------------ Kraken */

static const char OK_BODY[] = "{\"error\":[],\"result\":{\"count\":1}}";

static int kraken_refuse(Buf *body, const char *error) {
    count_error(error);
    buf_printf(body, "{\"error\": [\"%s\"]}", error);
    return 0;
}

static int is_digits(const char *s, size_t n) {
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A form body's field, percent- and plus-decoded into out (the last occurrence wins, as dict(parse_qsl) does).
 * Returns the decoded length, -1 if the field is absent, -2 if the value is longer than cap. */
static long form_field(const char *body, size_t len, const char *name, char *out, size_t cap) {
    size_t name_len = strlen(name);
    long found = -1;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && body[j] != '&') j++;
        const char *eq = memchr(body + i, '=', j - i);
        size_t key_end = eq ? (size_t)(eq - body) : j;
        if (key_end - i == name_len && memcmp(body + i, name, name_len) == 0) {
            size_t n = 0;
            for (size_t k = eq ? key_end + 1 : j; k < j; k++) {
                if (n == cap) return -2; /* longer than any value this server reads */
                if (body[k] == '+') {
                    out[n++] = ' ';
                } else if (body[k] == '%' && k + 2 < j && hexval(body[k + 1]) >= 0 && hexval(body[k + 2]) >= 0) {
                    out[n++] = (char)(hexval(body[k + 1]) * 16 + hexval(body[k + 2]));
                    k += 2;
                } else {
                    out[n++] = body[k];
                }
            }
            found = (long)n;
        }
        i = j + 1;
    }
    return found;
}

static int kraken(const char *method, const char *url, size_t url_len, const char *api_key, size_t api_key_len,
                   const char *api_sign, size_t api_sign_len, const char *body, size_t body_len, Buf *out) {
    requests_seen++;
    static const char batch_path[] = "/0/private/CancelOrderBatch", single_path[] = "/0/private/CancelOrder";
    int batch = url_len == sizeof batch_path - 1 && memcmp(url, batch_path, url_len) == 0;
    int single = url_len == sizeof single_path - 1 && memcmp(url, single_path, url_len) == 0;
    if (strcmp(method, "POST") != 0 || !(batch || single)) return kraken_refuse(out, "EGeneral:Unknown method");
    Account *acc = find_account(api_key, api_key_len);
    if (!acc) return kraken_refuse(out, "EAPI:Invalid key");
    char nonce[64];
    long nonce_len;
    long count = 1;
    if (batch) {
        Member m[2] = {{"nonce", 0, 0}, {"orders", 0, 0}};
        if (!read_object(body, body_len, m, 2) || !m[1].value)
            return kraken_refuse(out, "EGeneral:Invalid arguments");
        count = array_length(m[1].value, m[1].value_end);
        if (count <= 0) return kraken_refuse(out, "EGeneral:Invalid arguments");
        /* str(params.get("nonce", "")): a JSON string's text, a number's digits; anything else fails isdigit */
        nonce_len = 0;
        if (m[0].value) {
            const char *v = m[0].value, *e = m[0].value_end;
            if (*v == '"') v++, e--;
            nonce_len = e - v < (long)sizeof nonce ? e - v : 0;
            memcpy(nonce, v, nonce_len);
            nonce[nonce_len] = 0;
        }
    } else {
        char txid[256];
        nonce_len = form_field(body, body_len, "nonce", nonce, sizeof nonce - 1);
        if (nonce_len >= 0) nonce[nonce_len] = 0;
        long txid_len = form_field(body, body_len, "txid", txid, sizeof txid); /* -2: long, still present */
        if (txid_len == -1 || txid_len == 0)
            return kraken_refuse(out, "EGeneral:Invalid arguments");
    }
    /* a nonce longer than 63 digits is refused (the Python server would take it; no client sends one) */
    if (nonce_len <= 0 || !is_digits(nonce, nonce_len))
        return kraken_refuse(out, "EAPI:Invalid nonce");
    unsigned char message[64 + SHA256_DIGEST_LENGTH];
    memcpy(message, url, url_len);
    SHA256_CTX sha;
    SHA256_Init(&sha);
    SHA256_Update(&sha, nonce, nonce_len);
    SHA256_Update(&sha, body, body_len);
    SHA256_Final(message + url_len, &sha);
    unsigned char mac[SHA512_DIGEST_LENGTH];
    hmac_sha512(&acc->hmac, message, url_len + SHA256_DIGEST_LENGTH, mac);
    unsigned char expected[4 * SHA512_DIGEST_LENGTH / 3 + 4];
    int expected_len = EVP_EncodeBlock(expected, mac, sizeof mac);
    if ((size_t)expected_len != api_sign_len || CRYPTO_memcmp(expected, api_sign, api_sign_len) != 0)
        return kraken_refuse(out, "EAPI:Invalid signature");
    if (!acc->replay) {
        const char *digits = nonce;
        while (*digits == '0') digits++;
        size_t n = strlen(digits), last = strlen(acc->last_nonce);
        if (n < last || (n == last && memcmp(digits, acc->last_nonce, n) <= 0))
            return kraken_refuse(out, "EAPI:Invalid nonce");
        memcpy(acc->last_nonce, digits, n + 1);
    }
    cancels_done += count;
    acc->cancels += count;
    if (count == 1)
        buf_add(out, OK_BODY, sizeof OK_BODY - 1);
    else
        buf_printf(out, "{\"error\":[],\"result\":{\"count\":%ld}}", count);
    return 1;
}

/* ------------------------------------------------------------------------------------------ Bybit */

static unsigned long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (unsigned long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* `code` is a literal ("10001"): it names the error in /_stats, as the Python server's str(code) does. */
static int bybit_fail(Buf *body, const char *code, const char *message) {
    count_error(code);
    buf_printf(body, "{\"retCode\": %s, \"retMsg\": \"%s\", \"result\": {}, \"retExtInfo\": {}, \"time\": %llu}", code,
               message, now_ms());
    return 0;
}

static const char BAD_TIMESTAMP[] = "invalid request, please check your server timestamp or recv_window param";

static unsigned long long digits_value(const char *s, size_t n) {
    unsigned long long v = 0;
    for (size_t i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
    return v;
}

static int bybit_cancel(const char *method, const char *url, size_t url_len, const char *key, size_t key_len,
                         const char *stamp, size_t stamp_len, const char *window, size_t window_len, const char *sign,
                         size_t sign_len, const char *body, size_t body_len, Buf *out) {
    requests_seen++;
    static const char cancel_path[] = "/v5/order/cancel";
    if (strcmp(method, "POST") != 0 || url_len != sizeof cancel_path - 1 || memcmp(url, cancel_path, url_len) != 0)
        return bybit_fail(out, "10001", "unknown path");
    Account *acc = find_account(key, key_len);
    if (!acc) return bybit_fail(out, "10003", "API key is invalid.");
    if (!window) window = "5000", window_len = 4;
    unsigned long long now = now_ms();
    if (!is_digits(stamp, stamp_len) || !is_digits(window, window_len) || stamp_len > 18 || window_len > 18)
        return bybit_fail(out, "10002", BAD_TIMESTAMP);
    unsigned long long ts = digits_value(stamp, stamp_len), win = digits_value(window, window_len);
    if (!(now <= ts + win && ts < now + 1000))
        return bybit_fail(out, "10002", BAD_TIMESTAMP);
    const void *parts[] = {stamp, key, window, body};
    const size_t lens[] = {stamp_len, key_len, window_len, body_len};
    unsigned char mac[SHA256_DIGEST_LENGTH];
    hmac_sha256(&acc->hmac, parts, lens, 4, mac);
    char expected[2 * SHA256_DIGEST_LENGTH];
    for (size_t i = 0; i < sizeof mac; i++) {
        expected[2 * i] = "0123456789abcdef"[mac[i] >> 4];
        expected[2 * i + 1] = "0123456789abcdef"[mac[i] & 15];
    }
    if (sign_len != sizeof expected || CRYPTO_memcmp(expected, sign, sign_len) != 0)
        return bybit_fail(out, "10004", "error sign!");
    Member m[3] = {{"orderId", 0, 0}, {"category", 0, 0}, {"symbol", 0, 0}};
    int ok = read_object(body, body_len, m, 3) && m[0].value && m[1].value && m[2].value && *m[0].value == '"' &&
             m[1].value_end - m[1].value == 6 && memcmp(m[1].value, "\"spot\"", 6) == 0;
    if (ok) { /* bool(symbol): not "", 0, false, null, [] or {} */
        const char *v = m[2].value;
        size_t n = m[2].value_end - v;
        ok = !((n == 2 && (memcmp(v, "\"\"", 2) == 0 || memcmp(v, "[]", 2) == 0 || memcmp(v, "{}", 2) == 0)) ||
               (n == 1 && *v == '0') || (n == 5 && memcmp(v, "false", 5) == 0) ||
               (n == 4 && memcmp(v, "null", 4) == 0));
    }
    if (!ok) return bybit_fail(out, "10001", "params error");
    cancels_done++;
    acc->cancels++;
    buf_str(out, "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"orderId\":");
    buf_add(out, m[0].value, m[0].value_end - m[0].value); /* the body's own JSON string, already valid JSON */
    buf_printf(out, ",\"orderLinkId\":\"\"},\"retExtInfo\":{},\"time\":%llu}", now);
    return 1;
}

/* ------------------------------------------------------------------------------------------ stats */

static void stats(Buf *out) {
    buf_printf(out, "{\"requests\": %llu, \"cancels\": %llu, \"errors\": {", requests_seen, cancels_done);
    for (size_t i = 0; i < nerrors; i++) buf_printf(out, "%s\"%s\": %llu", i ? ", " : "", errors[i].name, errors[i].n);
    buf_str(out, "}, \"byKey\": {");
    int first = 1;
    for (size_t i = 0; i < table_size; i++)
        if (accounts[i].key && accounts[i].cancels) { /* byKey names keys with a counted cancel */
            buf_printf(out, "%s\"%s\": %llu", first ? "" : ", ", accounts[i].key, accounts[i].cancels);
            first = 0;
        }
    buf_str(out, "}}");
}

/* ------------------------------------------------------------------------------------------ HTTP */

typedef struct {
    int fd;
    Buf in, out;
    size_t sent; /* bytes of out already written */
    int closing;
    int watching_out; /* EPOLLOUT is in the interest set */
} Conn;

/* A header's value in [head, head_end): case-insensitive name, surrounding blanks trimmed; the last one of a
 * repeated header, as the Python server's dict keeps. */
static const char *header(const char *head, const char *head_end, const char *name, size_t *len) {
    size_t n = strlen(name);
    const char *found = NULL;
    *len = 0;
    for (const char *line = memchr(head, '\n', head_end - head); line && line + 1 < head_end;
         line = memchr(line + 1, '\n', head_end - line - 1)) {
        const char *p = line + 1;
        const char *eol = memchr(p, '\n', head_end - p);
        if (!eol) eol = head_end;
        if ((size_t)(eol - p) > n && p[n] == ':' && strncasecmp(p, name, n) == 0) {
            const char *v = p + n + 1, *e = eol;
            while (v < e && (*v == ' ' || *v == '\t')) v++;
            while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) e--;
            *len = e - v;
            found = v;
        }
    }
    return found;
}

/* "METHOD TARGET VERSION": copies the three words, NUL-terminated; 0 if the line has another shape or a word is
 * longer than its buffer. */
static int request_line(const char *p, const char *end, char *method, char *url, char *version) {
    char *words[3] = {method, url, version};
    const size_t caps[3] = {16, 512, 16};
    for (int i = 0; i < 3; i++) {
        const char *stop = i < 2 ? memchr(p, ' ', end - p) : end;
        if (!stop || stop == p || (size_t)(stop - p) >= caps[i]) return 0;
        memcpy(words[i], p, stop - p);
        words[i][stop - p] = 0;
        p = stop + (i < 2);
    }
    return 1;
}

static void respond(Conn *c, const char *status, const char *body, size_t len, int keep_alive) {
    char digits[24];
    int n = 0;
    for (size_t v = len; n == 0 || v; v /= 10) digits[sizeof digits - 1 - n++] = (char)('0' + v % 10);
    buf_str(&c->out, "HTTP/1.1 ");
    buf_str(&c->out, status);
    buf_str(&c->out, "\r\nContent-Type: application/json\r\nContent-Length: ");
    buf_add(&c->out, digits + sizeof digits - n, n);
    buf_str(&c->out, keep_alive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n");
    buf_add(&c->out, body, len);
    if (!keep_alive) c->closing = 1;
}

/* Handles every complete request at the front of c->in; returns 0 when the connection must close now. */
static int handle_input(Conn *c) {
    size_t used = 0;
    Buf body = {0};
    while (!c->closing) {
        char *start = c->in.data + used;
        size_t avail = c->in.len - used;
        char *head_end = memmem(start, avail, "\r\n\r\n", 4);
        if (!head_end) {
            if (avail > MAX_REQUEST) return 0;
            break;
        }
        head_end += 2; /* keep the last header line's CRLF inside the head */
        size_t cl_len, te_len, conn_len;
        const char *cl = header(start, head_end, "content-length", &cl_len);
        const char *te = header(start, head_end, "transfer-encoding", &te_len);
        const char *conn = header(start, head_end, "connection", &conn_len);
        char method[16], url[512], version[16];
        const char *line_end = memchr(start, '\r', head_end - start);
        int fields = line_end ? request_line(start, line_end, method, url, version) : 0;
        if (!fields || te || (cl && !is_digits(cl, cl_len)) || (cl && cl_len > 7)) {
            respond(c, "400 Bad Request", "{}", 2, 0);
            break;
        }
        size_t body_len = cl ? digits_value(cl, cl_len) : 0;
        size_t total = (head_end + 2 - start) + body_len;
        if (body_len > MAX_REQUEST) return 0;
        if (avail < total) break;
        const char *req_body = head_end + 2;
        int http10 = strcmp(version, "HTTP/1.0") == 0;
        int keep_alive = http10 ? (conn && conn_len == 10 && strncasecmp(conn, "keep-alive", 10) == 0)
                                : !(conn && conn_len == 5 && strncasecmp(conn, "close", 5) == 0);
        body.len = 0;
        size_t url_len = strlen(url);
        if (strcmp(method, "GET") == 0 && strcmp(url, "/_stats") == 0) {
            stats(&body);
        } else if (bybit) {
            size_t key_len, ts_len, win_len, sign_len;
            const char *key = header(start, head_end, "x-bapi-api-key", &key_len);
            const char *ts = header(start, head_end, "x-bapi-timestamp", &ts_len);
            const char *win = header(start, head_end, "x-bapi-recv-window", &win_len);
            const char *sign = header(start, head_end, "x-bapi-sign", &sign_len);
            bybit_cancel(method, url, url_len, key ? key : "", key_len, ts ? ts : "", ts_len, win, win_len,
                         sign ? sign : "", sign_len, req_body, body_len, &body);
        } else {
            size_t key_len, sign_len;
            const char *key = header(start, head_end, "api-key", &key_len);
            const char *sign = header(start, head_end, "api-sign", &sign_len);
            kraken(method, url, url_len, key ? key : "", key_len, sign ? sign : "", sign_len, req_body, body_len,
                   &body);
        }
        respond(c, "200 OK", body.data, body.len, keep_alive);
        used += total;
    }
    free(body.data);
    memmove(c->in.data, c->in.data + used, c->in.len - used);
    c->in.len -= used;
    return 1;
}

static int flush_out(Conn *c) {
    while (c->sent < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->sent, c->out.len - c->sent, MSG_NOSIGNAL);
        if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : 0;
        c->sent += n;
    }
    c->out.len = c->sent = 0;
    return 1;
}

static void close_conn(int ep, Conn *c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in.data);
    free(c->out.data);
    free(c);
}

int main(int argc, char **argv) {
    int port = -1;
    const char *accounts_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--accounts") == 0 && i + 1 < argc)
            accounts_path = argv[++i];
        else if (strcmp(argv[i], "--venue") == 0 && i + 1 < argc) {
            const char *venue = argv[++i];
            if (strcmp(venue, "bybit") == 0)
                bybit = 1;
            else if (strcmp(venue, "kraken") != 0)
                die("--venue: kraken or bybit");
        } else
            die("usage: upstream --port P --accounts FILE [--venue kraken|bybit]");
    }
    if (port < 0 || !accounts_path) die("usage: upstream --port P --accounts FILE [--venue kraken|bybit]");
    load_accounts(accounts_path);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 4096) < 0) die("cannot listen");
    socklen_t alen = sizeof addr;
    getsockname(lfd, (struct sockaddr *)&addr, &alen);
    printf("upstream listening on 127.0.0.1:%d (C, %zu accounts)\n", ntohs(addr.sin_port), naccounts);
    fflush(stdout);

    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(ep, events, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            Conn *c = events[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    Conn *nc = calloc(1, sizeof(Conn));
                    nc->fd = fd;
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            int alive = 1;
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                for (;;) {
                    buf_reserve(&c->in, 16384);
                    size_t room = c->in.cap - c->in.len;
                    ssize_t got = recv(c->fd, c->in.data + c->in.len, room, 0);
                    if (got > 0) {
                        c->in.len += got;
                        if ((size_t)got < room) break;
                        continue;
                    }
                    if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) alive = 0;
                    break;
                }
                if (c->in.len && !handle_input(c)) alive = 0;
            }
            if (alive) alive = flush_out(c);
            if (alive && c->closing && c->out.len == 0) alive = 0;
            if (!alive) {
                close_conn(ep, c);
                continue;
            }
            int want_out = c->out.len > 0;
            if (want_out != c->watching_out) {
                struct epoll_event cev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &cev);
                c->watching_out = want_out;
            }
        }
    }
}
