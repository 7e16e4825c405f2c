/* keyfile: key files for the authenticated, encrypted and mixed modes of
 * TWAMP (RFC 4656 §3.1, RFC 5618) and authenticated STAMP: read, checked (a
 * regular file closed to "other", bounded lines and size) and parsed into a
 * key ring of KeyIDs and their secrets (auth.h's tw_secret_t). The only file
 * system access of the authentication code; auth.h stays pure cryptography.
 * Errors are auth.h's codes (TW_AUTH_EKEYFILE, TW_AUTH_ENOKEY, ...). */
#ifndef TWAMPY_KEYFILE_H
#define TWAMPY_KEYFILE_H

#include <stddef.h>

#include "auth.h"

#define TW_KEYFILE_LINE_MAX 1024 /* longest line of a key file, without its newline */
#define TW_KEYFILE_SIZE_MAX (1024 * 1024)

/* A key file: one `KEYID PASSPHRASE` per line. Blank lines and lines whose
 * first non-blank character is '#' are ignored. KEYID is the first word (at
 * most TW_KEYID_MAX octets); PASSPHRASE is the rest of the line after the blank
 * that follows it, less trailing blanks (spaces, tabs, CR); `0x` followed by an
 * even number of hex digits gives the passphrase as those octets. A KeyID may
 * appear only once. The file must be a regular file that neither "other" can
 * read nor write (mode & 006 == 0): anything else is refused, with the mode in
 * the message. Passphrases never appear in an error message. */
typedef struct tw_keyring tw_keyring_t;

/* Read the whole key file at path into *out (allocated; free with
 * tw_keyring_free, which cleanses it). On failure returns TW_AUTH_EKEYFILE or
 * TW_AUTH_ENOMEM and, when err is not NULL, writes a one-line reason naming the
 * file (and the line) into err[0..errlen). */
int tw_keyring_load(const char *path, tw_keyring_t **out, char *err, size_t errlen);
/* The secret of keyid (a NUL-terminated string), or NULL. */
const tw_secret_t *tw_keyring_find(const tw_keyring_t *kr, const char *keyid);
size_t tw_keyring_count(const tw_keyring_t *kr);
/* Entry i (0 <= i < tw_keyring_count) in file order: its secret, and its KeyID
 * in *keyid when keyid is not NULL; NULL when i is out of range. (STAMP has no
 * KeyID on the wire: a key file with one line needs no --keyid.) */
const tw_secret_t *tw_keyring_at(const tw_keyring_t *kr, size_t i, const char **keyid);
void tw_keyring_free(tw_keyring_t *kr);

/* Client side: the secret of keyid from the key file at path, copied into
 * *out. TW_AUTH_ENOKEY (with a message naming the KeyID) when the file has no
 * such KeyID; otherwise as tw_keyring_load. Every copy but *out is cleansed. */
int tw_keyfile_load(const char *path, const char *keyid, tw_secret_t *out, char *err,
                    size_t errlen);

#endif
