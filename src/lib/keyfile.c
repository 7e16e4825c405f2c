/* keyfile: key files into a key ring (moved out of auth.c, which stays pure
 * cryptography). */
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

struct tw_keyring_entry {
    char keyid[TW_KEYID_MAX + 1];
    unsigned line;
    tw_secret_t secret;
};

struct tw_keyring {
    size_t n;
    struct tw_keyring_entry *e;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static bool is_blank(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void tw_keyring_free(tw_keyring_t *kr)
{
    if (!kr)
        return;
    if (kr->e) {
        OPENSSL_cleanse(kr->e, kr->n * sizeof(*kr->e));
        free(kr->e);
    }
    OPENSSL_cleanse(kr, sizeof(*kr));
    free(kr);
}

size_t tw_keyring_count(const tw_keyring_t *kr)
{
    return kr ? kr->n : 0;
}

const tw_secret_t *tw_keyring_at(const tw_keyring_t *kr, size_t i, const char **keyid)
{
    if (!kr || i >= kr->n)
        return NULL;
    if (keyid)
        *keyid = kr->e[i].keyid;
    return &kr->e[i].secret;
}

const tw_secret_t *tw_keyring_find(const tw_keyring_t *kr, const char *keyid)
{
    if (!kr || !keyid)
        return NULL;
    for (size_t i = 0; i < kr->n; i++)
        if (strcmp(kr->e[i].keyid, keyid) == 0)
            return &kr->e[i].secret;
    return NULL;
}

/* One line of a key file: [p, end). The line is an entry when it is neither
 * blank nor a comment; then, with e not NULL, it is parsed into *e. Returns 1
 * for an entry, 0 for a skipped line, or TW_AUTH_EKEYFILE with err set. */
static int keyfile_line(const char *path, unsigned lineno, const uint8_t *p, const uint8_t *end,
                        struct tw_keyring_entry *e, char *err, size_t errlen)
{
    if ((size_t)(end - p) > TW_KEYFILE_LINE_MAX) {
        seterr(err, errlen, "key file %s line %u: longer than %d characters", path, lineno,
               TW_KEYFILE_LINE_MAX);
        return TW_AUTH_EKEYFILE;
    }
    if (memchr(p, 0, (size_t)(end - p))) {
        seterr(err, errlen, "key file %s line %u: holds a NUL character", path, lineno);
        return TW_AUTH_EKEYFILE;
    }
    while (p < end && is_blank(*p))
        p++;
    while (end > p && is_blank(end[-1]))
        end--;
    if (p == end || *p == '#')
        return 0;

    const uint8_t *id = p;
    while (p < end && !is_blank(*p))
        p++;
    size_t id_len = (size_t)(p - id);
    if (id_len > TW_KEYID_MAX) {
        seterr(err, errlen, "key file %s line %u: KeyID longer than %d octets", path, lineno,
               TW_KEYID_MAX);
        return TW_AUTH_EKEYFILE;
    }
    while (p < end && is_blank(*p))
        p++;
    if (p == end) {
        seterr(err, errlen,
               "key file %s line %u: KeyID without a passphrase (want: KEYID PASSPHRASE)", path,
               lineno);
        return TW_AUTH_EKEYFILE;
    }
    size_t pass_len = (size_t)(end - p);
    bool hex = pass_len >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
    if (hex) {
        const uint8_t *h = p + 2;
        size_t hex_len = pass_len - 2;
        if (hex_len == 0 || hex_len % 2 != 0) {
            seterr(err, errlen,
                   "key file %s line %u: passphrase after 0x is not an even number of hex digits",
                   path, lineno);
            return TW_AUTH_EKEYFILE;
        }
        for (size_t i = 0; i < hex_len; i++)
            if (hexval(h[i]) < 0) {
                seterr(err, errlen, "key file %s line %u: passphrase after 0x is not hex", path,
                       lineno);
                return TW_AUTH_EKEYFILE;
            }
        pass_len = hex_len / 2;
    }
    if (pass_len > TW_SECRET_MAX) {
        seterr(err, errlen, "key file %s line %u: passphrase longer than %d octets", path, lineno,
               TW_SECRET_MAX);
        return TW_AUTH_EKEYFILE;
    }
    if (!e)
        return 1;

    memcpy(e->keyid, id, id_len);
    e->keyid[id_len] = '\0';
    e->line = lineno;
    e->secret.len = pass_len;
    if (hex) {
        for (size_t i = 0; i < pass_len; i++)
            e->secret.bytes[i] = (uint8_t)(hexval(p[2 + 2 * i]) << 4 | hexval(p[3 + 2 * i]));
    } else {
        memcpy(e->secret.bytes, p, pass_len);
    }
    return 1;
}

/* Walk the lines of buf[0..len): count the entries (ring NULL) or fill ring. */
static int keyfile_parse(const char *path, const uint8_t *buf, size_t len, tw_keyring_t *ring,
                         size_t *count, char *err, size_t errlen)
{
    const uint8_t *p = buf, *end = buf + len;
    unsigned lineno = 0;
    size_t n = 0;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *eol = nl ? nl : end;
        lineno++;
        struct tw_keyring_entry *e = ring ? &ring->e[n] : NULL;
        int rc = keyfile_line(path, lineno, p, eol, e, err, errlen);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            if (ring) {
                for (size_t i = 0; i < n; i++)
                    if (strcmp(ring->e[i].keyid, e->keyid) == 0) {
                        seterr(err, errlen, "key file %s line %u: KeyID already given on line %u",
                               path, lineno, ring->e[i].line);
                        return TW_AUTH_EKEYFILE;
                    }
            }
            n++;
        }
        p = nl ? nl + 1 : end;
    }
    *count = n;
    return TW_AUTH_OK;
}

/* Read the file at path into a fresh buffer (*out, *len), refusing anything but
 * a regular file closed to "other". */
static int keyfile_read(const char *path, uint8_t **out, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        seterr(err, errlen, "cannot open key file %s: %s", path, strerror(errno));
        return TW_AUTH_EKEYFILE;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        seterr(err, errlen, "cannot stat key file %s: %s", path, strerror(errno));
        close(fd);
        return TW_AUTH_EKEYFILE;
    }
    if (!S_ISREG(st.st_mode)) {
        seterr(err, errlen, "key file %s is not a regular file", path);
        close(fd);
        return TW_AUTH_EKEYFILE;
    }
    if (st.st_mode & (S_IROTH | S_IWOTH)) {
        seterr(err, errlen,
               "key file %s has mode %04o: readable or writable by others; "
               "refusing it (run: chmod o-rw %s)",
               path, (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return TW_AUTH_EKEYFILE;
    }
    if (st.st_size < 0 || st.st_size > TW_KEYFILE_SIZE_MAX) {
        seterr(err, errlen, "key file %s is larger than %d octets", path, TW_KEYFILE_SIZE_MAX);
        close(fd);
        return TW_AUTH_EKEYFILE;
    }
    /* One octet more than the size, to notice a file that grew meanwhile. */
    size_t cap = (size_t)st.st_size + 1;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        close(fd);
        seterr(err, errlen, "out of memory reading key file %s", path);
        return TW_AUTH_ENOMEM;
    }
    size_t got = 0;
    while (got < cap) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            seterr(err, errlen, "cannot read key file %s: %s", path, strerror(errno));
            OPENSSL_cleanse(buf, cap);
            free(buf);
            close(fd);
            return TW_AUTH_EKEYFILE;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got == cap) {
        seterr(err, errlen, "key file %s changed while it was read", path);
        OPENSSL_cleanse(buf, cap);
        free(buf);
        return TW_AUTH_EKEYFILE;
    }
    *out = buf;
    *len = got;
    return TW_AUTH_OK;
}

int tw_keyring_load(const char *path, tw_keyring_t **out, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!path || !out) {
        seterr(err, errlen, "no key file given");
        return TW_AUTH_EINVAL;
    }
    *out = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = keyfile_read(path, &buf, &len, err, errlen);
    if (rc < 0)
        return rc;

    size_t n = 0;
    tw_keyring_t *kr = NULL;
    rc = keyfile_parse(path, buf, len, NULL, &n, err, errlen);
    if (rc == TW_AUTH_OK && n == 0) {
        seterr(err, errlen, "key file %s holds no KEYID PASSPHRASE line", path);
        rc = TW_AUTH_EKEYFILE;
    }
    if (rc == TW_AUTH_OK) {
        /* Sized exactly in a first pass: no realloc leaves a stray copy. */
        kr = calloc(1, sizeof(*kr));
        if (kr)
            kr->e = calloc(n, sizeof(*kr->e));
        if (!kr || !kr->e) {
            seterr(err, errlen, "out of memory reading key file %s", path);
            rc = TW_AUTH_ENOMEM;
        } else {
            kr->n = n;
            rc = keyfile_parse(path, buf, len, kr, &n, err, errlen);
        }
    }
    OPENSSL_cleanse(buf, len);
    free(buf);
    if (rc < 0) {
        tw_keyring_free(kr);
        return rc;
    }
    *out = kr;
    return TW_AUTH_OK;
}

int tw_keyfile_load(const char *path, const char *keyid, tw_secret_t *out, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!out || !keyid || !keyid[0] || strlen(keyid) > TW_KEYID_MAX) {
        seterr(err, errlen, "KeyID must be 1 to %d octets", TW_KEYID_MAX);
        return TW_AUTH_EINVAL;
    }
    tw_secret_cleanse(out);
    tw_keyring_t *kr = NULL;
    int rc = tw_keyring_load(path, &kr, err, errlen);
    if (rc < 0)
        return rc;
    const tw_secret_t *s = tw_keyring_find(kr, keyid);
    if (s) {
        *out = *s;
        rc = TW_AUTH_OK;
    } else {
        seterr(err, errlen, "key file %s has no KeyID %s", path, keyid);
        rc = TW_AUTH_ENOKEY;
    }
    tw_keyring_free(kr);
    return rc;
}
