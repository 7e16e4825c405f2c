#include "auth_opts.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_wire.h"
#include "log.h"
#include "opts.h"
#include "sender_opts.h"

#define SECURE_MODES (TW_MODE_AUTHENTICATED | TW_MODE_ENCRYPTED | TW_MODE_MIXED)
/* The largest Count a server may announce: 2^24 iterations of PBKDF2-HMAC-SHA1
 * take a few seconds. */
#define KDF_COUNT_MAX (1u << 24)

static tw_secret_t stamp_secret;

static void only_with(const char *cmd, unsigned allowed, unsigned need, const char *opt)
{
    if (!(allowed & need))
        cli_usage_error(cmd, "%s is not an option of 'twampy %s'", opt, cmd);
}

/* "encrypted,authenticated" -> the mode bits in that order. */
static void parse_modes(struct auth_args *a, const char *cmd, const char *arg)
{
    char buf[128];
    if (strlen(arg) >= sizeof buf)
        cli_usage_error(cmd, "--modes '%s' is too long", arg);
    snprintf(buf, sizeof buf, "%s", arg);
    a->nmodes = 0;
    char *save = NULL;
    for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        uint32_t m = tw_mode_parse(w);
        if (!m)
            cli_usage_error(cmd,
                            "--modes: '%s' is not a mode (open, authenticated, encrypted, "
                            "mixed)",
                            w);
        for (int i = 0; i < a->nmodes; i++)
            if (a->modes[i] == m)
                cli_usage_error(cmd, "--modes: %s is listed twice", w);
        a->modes[a->nmodes++] = m;
    }
    if (a->nmodes == 0)
        cli_usage_error(cmd, "--modes needs a list such as encrypted,authenticated,mixed,open");
}

bool auth_opt(struct auth_args *a, const char *cmd, unsigned allowed, int opt, const char *arg)
{
    switch (opt) {
    case OPT_KEYFILE:
        only_with(cmd, allowed, AUTH_KEY, "--keyfile");
        if (!*arg)
            cli_usage_error(cmd, "--keyfile needs a file name");
        a->keyfile = arg;
        return true;
    case OPT_KEYID:
        only_with(cmd, allowed, AUTH_KEY, "--keyid");
        if (!*arg || strlen(arg) > TW_KEYID_MAX)
            cli_usage_error(cmd, "--keyid needs a name of 1 to %d octets", TW_KEYID_MAX);
        a->keyid = arg;
        return true;
    case OPT_MODES:
        only_with(cmd, allowed, AUTH_CLIENT | AUTH_SERVER, "--modes");
        parse_modes(a, cmd, arg);
        return true;
    case OPT_KDF_MAX_COUNT:
        only_with(cmd, allowed, AUTH_CLIENT, "--kdf-max-count");
        a->kdf_max_count =
            (uint32_t)cli_int(cmd, "--kdf-max-count", arg, TW_KDF_COUNT_MIN, INT_MAX);
        return true;
    case OPT_KDF_COUNT: {
        only_with(cmd, allowed, AUTH_SERVER, "--kdf-count");
        uint32_t n = (uint32_t)cli_int(cmd, "--kdf-count", arg, TW_KDF_COUNT_MIN, KDF_COUNT_MAX);
        if (n & (n - 1))
            cli_usage_error(cmd, "--kdf-count %s is not a power of two (1024, 2048, 4096, ...)",
                            arg);
        a->kdf_count = n;
        return true;
    }
    default:
        return false;
    }
}

unsigned auth_opts_for(unsigned so_flags)
{
    if (so_flags & (SO_CONTROL | SO_CONTROLCLIENT))
        return AUTH_KEY | AUTH_CLIENT;
    if ((so_flags & SO_STAMP) && (so_flags & SO_POSITIONAL))
        return AUTH_KEY; /* sender, with --stamp */
    return 0;
}

void auth_client_cfg(const struct auth_args *a, const char *cmd, bool external_sender,
                     tw_ctrl_client_cfg_t *cc)
{
    if (a->keyid && !a->keyfile)
        cli_usage_error(cmd, "--keyid needs --keyfile");
    if (a->keyfile && !a->keyid)
        cli_usage_error(cmd, "--keyfile needs --keyid: the KeyID the server knows the secret by");
    for (int i = 0; i < a->nmodes; i++) {
        uint32_t m = a->modes[i];
        if (m != TW_MODE_UNAUTHENTICATED && !a->keyfile)
            cli_usage_error(cmd, "--modes %s needs a shared secret: --keyfile and --keyid",
                            tw_mode_name(m));
        if (external_sender && tw_mode_test_protected(m))
            cli_usage_error(cmd,
                            "--modes %s: its test packets are protected with keys only this "
                            "TWAMP-Control client knows, which an external Session-Sender "
                            "cannot have; use mixed (or open)",
                            tw_mode_name(m));
    }
    memcpy(cc->modes, a->modes, sizeof cc->modes);
    cc->nmodes = a->nmodes;
    if (external_sender && a->keyfile && a->nmodes == 0) {
        cc->modes[0] = TW_MODE_MIXED;
        cc->modes[1] = TW_MODE_UNAUTHENTICATED;
        cc->nmodes = 2;
    }
    cc->kdf_max_count = a->kdf_max_count;
    if (!a->keyfile)
        return;
    char err[512];
    int rc = tw_keyfile_load(a->keyfile, a->keyid, &cc->secret, err, sizeof err);
    if (rc < 0)
        cli_fail("%s", err[0] ? err : tw_auth_strerror(rc));
    snprintf(cc->keyid, sizeof cc->keyid, "%s", a->keyid);
    cc->have_secret = true;
}

int auth_sessions(tw_ctrl_client_t *client, tw_sender_t *const *senders, int n, char *err,
                  size_t errlen)
{
    uint32_t mode = tw_ctrl_client_mode(client) & TW_MODE_SECURITY_MASK;
    for (int i = 0; i < n; i++) {
        tw_test_crypto_t tc;
        memset(&tc, 0, sizeof tc);
        if (tw_mode_test_protected(mode)) {
            int rc = tw_ctrl_client_test_crypto(client, i, &tc);
            if (rc < 0) {
                snprintf(err, errlen, "session %d: cannot derive the test keys: %s", i + 1,
                         tw_auth_strerror(rc));
                return -1;
            }
        }
        char why[256];
        int rc = tw_sender_set_security(senders[i], mode, &tc, why, sizeof why);
        tw_test_crypto_free(&tc);
        if (rc < 0) {
            snprintf(err, errlen, "session %d: %s", i + 1, why);
            return -1;
        }
    }
    tw_info("Mode %s: %s test packets", tw_mode_name(mode),
            tw_mode_test_protected(mode) ? "protected (48/112-octet formats)" : "unauthenticated");
    return 0;
}

const tw_secret_t *auth_stamp_key(const struct auth_args *a, const char *cmd, bool stamp)
{
    if (a->keyid && !a->keyfile)
        cli_usage_error(cmd, "--keyid needs --keyfile");
    if (!a->keyfile)
        return NULL;
    if (!stamp)
        cli_usage_error(cmd, "--keyfile is for authenticated STAMP: it needs --stamp (TWAMP "
                             "light has no authenticated mode; 'twampy controller' has TWAMP's)");
    tw_keyring_t *kr = NULL;
    char err[512];
    int rc = tw_keyring_load(a->keyfile, &kr, err, sizeof err);
    if (rc < 0)
        cli_fail("%s", err[0] ? err : tw_auth_strerror(rc));
    const tw_secret_t *s = NULL;
    size_t n = tw_keyring_count(kr);
    if (a->keyid) {
        s = tw_keyring_find(kr, a->keyid);
        if (!s) {
            tw_keyring_free(kr);
            cli_fail("key file %s has no KeyID %s", a->keyfile, a->keyid);
        }
    } else if (n == 1) {
        s = tw_keyring_at(kr, 0, NULL);
    } else {
        tw_keyring_free(kr);
        cli_usage_error(cmd, "key file %s has %zu keys: choose one with --keyid", a->keyfile, n);
    }
    stamp_secret = *s;
    tw_keyring_free(kr);
    return &stamp_secret;
}

void auth_forget(void)
{
    tw_secret_cleanse(&stamp_secret);
}

void auth_server_cfg(const struct auth_args *a, const char *cmd, tw_ctrl_server_cfg_t *cfg,
                     tw_keyring_t **ring)
{
    uint32_t offered = 0;
    for (int i = 0; i < a->nmodes; i++)
        offered |= a->modes[i];
    if (a->nmodes == 0)
        offered = a->keyfile ? TW_MODE_SECURITY_MASK : TW_MODE_UNAUTHENTICATED;
    if ((offered & SECURE_MODES) && !a->keyfile) {
        char names[96] = "";
        for (int i = 0; i < a->nmodes; i++) {
            if (!(a->modes[i] & SECURE_MODES))
                continue;
            if (names[0])
                strncat(names, ",", sizeof names - strlen(names) - 1);
            strncat(names, tw_mode_name(a->modes[i]), sizeof names - strlen(names) - 1);
        }
        cli_usage_error(cmd, "--modes %s needs the shared secrets: --keyfile", names);
    }
    cfg->modes = offered | TW_MODE_INDIVIDUAL | TW_MODE_REFLECT_OCTETS | TW_MODE_SYMMETRICAL |
                 TW_MODE_DSCP_ECN;
    cfg->kdf_count = a->kdf_count ? a->kdf_count : TW_KDF_COUNT_DEFAULT;
    *ring = NULL;
    if (!a->keyfile)
        return;
    char err[512];
    int rc = tw_keyring_load(a->keyfile, ring, err, sizeof err);
    if (rc < 0)
        cli_fail("%s", err[0] ? err : tw_auth_strerror(rc));
    cfg->keyring = *ring;
}

void auth_report(tw_sender_t *const *senders, int n)
{
    if (n < 1 || !senders[0])
        return;
    uint64_t bad = 0, sent = 0, received = 0;
    for (int i = 0; i < n; i++) {
        const tw_sender_result_t *res = tw_sender_result(senders[i]);
        bad += res->integrity_failures;
        sent += res->sent;
        received += res->stats.received;
    }
    uint32_t mode = tw_sender_result(senders[0])->security_mode;
    /* The report's first line and the JSON's config name the mode. */
    tw_info("Mode: %s", tw_mode_name(mode));
    if (bad)
        tw_notice("Integrity failures: %llu replies failed the integrity check (HMAC): counted, "
                  "not measured",
                  (unsigned long long)bad);
    else if (tw_mode_test_protected(mode) && sent && !received)
        tw_notice("No reply passed the integrity check: in mode %s a reflector with another key "
                  "(or none) drops every packet",
                  tw_mode_name(mode));
}
