/* Unit tests for keyfile: parsing a key file (comments, blanks, hex
 * passphrases), the client's lookup of one KeyID, the file's mode and type,
 * and every malformed line refused with a message naming the line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyfile.h"

#define PASSPHRASE "correct horse battery staple"

static char tmpdir[64];
static char keypath[128];

static int setup_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/tw_keyfile_test.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmpdir(void **state)
{
    (void)state;
    unlink(keypath);
    return rmdir(tmpdir);
}

/* Write content to the test key file with mode; returns its path. */
static const char *keyfile(const char *content, mode_t mode)
{
    snprintf(keypath, sizeof(keypath), "%s/keys", tmpdir);
    unlink(keypath);
    FILE *f = fopen(keypath, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(content, 1, strlen(content), f), strlen(content));
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(keypath, mode), 0);
    return keypath;
}

static void test_keyfile_parse(void **state)
{
    (void)state;
    const char *path = keyfile("# twampy keys\n"
                               "\n"
                               "   # indented comment\n"
                               "alice correct horse battery staple\n"
                               "bob\t0x636f727265637420686f727365206261747465727920737461706c65\r\n"
                               "  carol   pass with  spaces   \n"
                               "dave 0xFF00aa\n"
                               "erin #not-a-comment\n"
                               "frank last line without newline",
                               0600);
    tw_keyring_t *kr = NULL;
    char err[256];
    assert_int_equal(tw_keyring_load(path, &kr, err, sizeof(err)), TW_AUTH_OK);
    assert_int_equal(tw_keyring_count(kr), 6);

    const tw_secret_t *s = tw_keyring_find(kr, "alice");
    assert_non_null(s);
    assert_int_equal(s->len, strlen(PASSPHRASE));
    assert_memory_equal(s->bytes, PASSPHRASE, s->len);
    /* The hex form of the same passphrase gives the same octets. */
    const tw_secret_t *b = tw_keyring_find(kr, "bob");
    assert_non_null(b);
    assert_int_equal(b->len, s->len);
    assert_memory_equal(b->bytes, s->bytes, s->len);

    s = tw_keyring_find(kr, "carol");
    assert_non_null(s);
    assert_int_equal(s->len, strlen("pass with  spaces"));
    assert_memory_equal(s->bytes, "pass with  spaces", s->len);
    s = tw_keyring_find(kr, "dave");
    assert_non_null(s);
    assert_int_equal(s->len, 3);
    assert_memory_equal(s->bytes, "\xff\x00\xaa", 3);
    s = tw_keyring_find(kr, "erin");
    assert_non_null(s);
    assert_memory_equal(s->bytes, "#not-a-comment", s->len);
    s = tw_keyring_find(kr, "frank");
    assert_non_null(s);
    assert_memory_equal(s->bytes, "last line without newline", s->len);

    assert_null(tw_keyring_find(kr, "mallory"));
    assert_null(tw_keyring_find(kr, "# twampy"));
    assert_null(tw_keyring_find(kr, ""));

    /* By position, in file order (a STAMP key file of one line needs no KeyID). */
    const char *id = NULL;
    assert_ptr_equal(tw_keyring_at(kr, 0, &id), tw_keyring_find(kr, "alice"));
    assert_string_equal(id, "alice");
    assert_ptr_equal(tw_keyring_at(kr, 5, &id), tw_keyring_find(kr, "frank"));
    assert_string_equal(id, "frank");
    assert_null(tw_keyring_at(kr, 6, &id));
    assert_null(tw_keyring_at(NULL, 0, NULL));
    tw_keyring_free(kr);
    tw_keyring_free(NULL);
}

static void test_keyfile_load_client(void **state)
{
    (void)state;
    const char *path = keyfile("alice " PASSPHRASE "\nbob other\n", 0640);
    tw_secret_t sec;
    char err[256];
    assert_int_equal(tw_keyfile_load(path, "alice", &sec, err, sizeof(err)), TW_AUTH_OK);
    assert_int_equal(sec.len, strlen(PASSPHRASE));
    assert_memory_equal(sec.bytes, PASSPHRASE, sec.len);
    tw_secret_cleanse(&sec);

    /* Unknown KeyID: named in the message, no passphrase in it. */
    assert_int_equal(tw_keyfile_load(path, "carol", &sec, err, sizeof(err)), TW_AUTH_ENOKEY);
    assert_non_null(strstr(err, "carol"));
    assert_non_null(strstr(err, path));
    assert_null(strstr(err, "horse"));
    assert_null(strstr(err, "other"));
    assert_int_equal(sec.len, 0);

    /* KeyID longer than the 80-octet field. */
    char longid[90];
    memset(longid, 'k', 81);
    longid[81] = '\0';
    assert_int_equal(tw_keyfile_load(path, longid, &sec, err, sizeof(err)), TW_AUTH_EINVAL);
    assert_int_equal(tw_keyfile_load(path, "", &sec, err, sizeof(err)), TW_AUTH_EINVAL);
    /* err may be NULL. */
    assert_int_equal(tw_keyfile_load(path, "carol", &sec, NULL, 0), TW_AUTH_ENOKEY);
}

static void test_keyfile_mode_refused(void **state)
{
    (void)state;
    tw_keyring_t *kr = NULL;
    char err[256];
    const char *path = keyfile("alice " PASSPHRASE "\n", 0644);
    assert_int_equal(tw_keyring_load(path, &kr, err, sizeof(err)), TW_AUTH_EKEYFILE);
    assert_null(kr);
    assert_non_null(strstr(err, "0644"));
    assert_non_null(strstr(err, "others"));
    assert_non_null(strstr(err, path));
    assert_null(strstr(err, "horse"));

    path = keyfile("alice " PASSPHRASE "\n", 0602); /* writable by others */
    assert_int_equal(tw_keyring_load(path, &kr, err, sizeof(err)), TW_AUTH_EKEYFILE);
    assert_non_null(strstr(err, "0602"));
    tw_secret_t sec;
    assert_int_equal(tw_keyfile_load(path, "alice", &sec, err, sizeof(err)), TW_AUTH_EKEYFILE);

    /* Group-readable is the owner's choice; 0400 too. */
    path = keyfile("alice " PASSPHRASE "\n", 0640);
    assert_int_equal(tw_keyring_load(path, &kr, err, sizeof(err)), TW_AUTH_OK);
    tw_keyring_free(kr);
    path = keyfile("alice " PASSPHRASE "\n", 0400);
    assert_int_equal(tw_keyring_load(path, &kr, err, sizeof(err)), TW_AUTH_OK);
    tw_keyring_free(kr);

    /* A directory and a missing file. */
    assert_int_equal(tw_keyring_load(tmpdir, &kr, err, sizeof(err)), TW_AUTH_EKEYFILE);
    assert_non_null(strstr(err, "regular file"));
    char missing[160];
    snprintf(missing, sizeof(missing), "%s/none", tmpdir);
    assert_int_equal(tw_keyring_load(missing, &kr, err, sizeof(err)), TW_AUTH_EKEYFILE);
    assert_non_null(strstr(err, "cannot open"));
    assert_int_equal(tw_keyring_load(NULL, &kr, err, sizeof(err)), TW_AUTH_EINVAL);
}

/* Each malformed file is refused, with the line number and no passphrase. */
static void keyfile_bad(const char *content, const char *want)
{
    tw_keyring_t *kr = (tw_keyring_t *)1;
    char err[256];
    const char *path = keyfile(content, 0600);
    assert_int_equal(tw_keyring_load(path, &kr, err, sizeof(err)), TW_AUTH_EKEYFILE);
    assert_null(kr);
    if (!strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
    assert_null(strstr(err, "s3cret"));
}

static void test_keyfile_malformed(void **state)
{
    (void)state;
    /* A line one character too long. */
    size_t n = TW_KEYFILE_LINE_MAX + 1;
    char *content = malloc(n + 32);
    assert_non_null(content);
    strcpy(content, "ok s3cret\n");
    size_t at = strlen(content);
    memcpy(content + at, "long ", 5);
    memset(content + at + 5, 's', n - 5);
    strcpy(content + at + n, "\n");
    keyfile_bad(content, "line 2: longer than 1024");
    /* Exactly the limit is accepted (here a comment line). */
    content[at] = '#';
    content[at + n - 1] = '\n';
    content[at + n] = '\0';
    tw_keyring_t *kr = NULL;
    assert_int_equal(tw_keyring_load(keyfile(content, 0600), &kr, NULL, 0), TW_AUTH_OK);
    assert_int_equal(tw_keyring_count(kr), 1);
    tw_keyring_free(kr);
    free(content);

    keyfile_bad("a s3cret\nb 0xabc\n", "line 2: passphrase after 0x is not an even number");
    keyfile_bad("a 0x\n", "line 1: passphrase after 0x");
    keyfile_bad("# c\na 0xs3cret\n", "line 2: passphrase after 0x is not hex");
    keyfile_bad("a s3cret\nnopass\n", "line 2: KeyID without a passphrase");
    keyfile_bad("a s3cret\nb x\na s3cret2\n", "line 3: KeyID already given on line 1");
    keyfile_bad("", "holds no KEYID PASSPHRASE line");
    keyfile_bad("# only\n\n   \n", "holds no KEYID PASSPHRASE line");

    char longid[128];
    memset(longid, 'k', 81);
    strcpy(longid + 81, " s3cret\n");
    keyfile_bad(longid, "line 1: KeyID longer than 80");
    longid[80] = ' '; /* 80 octets: accepted */
    assert_int_equal(tw_keyring_load(keyfile(longid, 0600), &kr, NULL, 0), TW_AUTH_OK);
    tw_keyring_free(kr);

    /* A passphrase longer than TW_SECRET_MAX octets, in text and in hex. */
    char big[2 * TW_SECRET_MAX + 16];
    strcpy(big, "a ");
    memset(big + 2, 'p', TW_SECRET_MAX + 1);
    strcpy(big + 2 + TW_SECRET_MAX + 1, "\n");
    keyfile_bad(big, "passphrase longer than 256");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyfile_parse),
        cmocka_unit_test(test_keyfile_load_client),
        cmocka_unit_test(test_keyfile_mode_refused),
        cmocka_unit_test(test_keyfile_malformed),
    };
    return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
