/* The options of the authenticated, encrypted and mixed modes, shared by the
 * commands (controller, controlclient, sender --stamp, responder, server), the
 * loading of their key files, and the "Mode:" line of a report.
 *
 *   --keyfile FILE   `KEYID PASSPHRASE` lines (auth.h: tw_keyring_load); the
 *                    file must not be readable or writable by others
 *   --keyid NAME     the line to use (clients; a STAMP key file with a single
 *                    line needs none)
 *   --modes LIST     client: open,authenticated,encrypted,mixed in order of
 *                    preference; server: the modes offered
 *   --kdf-max-count N  client: refuse a greeting's Count above N
 *   --kdf-count N      server: the Count announced */
#ifndef TWAMPY_CLI_AUTH_OPTS_H
#define TWAMPY_CLI_AUTH_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "keyfile.h"
#include "control_client.h"
#include "control_server.h"
#include "sender.h"

/* Long-option codes (the commands' own codes stay below 600). */
enum {
    OPT_KEYFILE = 600,
    OPT_KEYID,
    OPT_MODES,
    OPT_KDF_MAX_COUNT,
    OPT_KDF_COUNT,
};

#define AUTH_LONGOPTS                                                                              \
    {"keyfile", required_argument, NULL, OPT_KEYFILE},                                             \
        {"keyid", required_argument, NULL, OPT_KEYID},                                             \
        {"modes", required_argument, NULL, OPT_MODES},                                             \
        {"kdf-max-count", required_argument, NULL, OPT_KDF_MAX_COUNT},                             \
    {                                                                                              \
        "kdf-count", required_argument, NULL, OPT_KDF_COUNT                                        \
    }

/* Which of the options a command takes. */
enum {
    AUTH_KEY = 1,    /* --keyfile, --keyid */
    AUTH_CLIENT = 2, /* --modes (a preference order), --kdf-max-count */
    AUTH_SERVER = 4, /* --modes (the modes offered), --kdf-count */
};

struct auth_args {
    const char *keyfile, *keyid; /* NULL when not given */
    uint32_t modes[4];           /* --modes in the order given */
    int nmodes;                  /* 0: not given */
    uint32_t kdf_max_count;      /* 0: not given */
    uint32_t kdf_count;          /* 0: not given */
};

/* Handle opt when it is one of the options above (usage error when the
 * command, by allowed, does not take it); false for any other option. */
bool auth_opt(struct auth_args *a, const char *cmd, unsigned allowed, int opt, const char *arg);
/* The options a command parsed by parse_sender_args takes (its SO_* flags). */
unsigned auth_opts_for(unsigned so_flags);

/* Controller and controlclient: check the options (usage errors), load the
 * secret of --keyid from --keyfile (a failure exits 1) and fill the client's
 * security settings. external_sender (controlclient): the test packets come
 * from another program, which cannot have the test keys: only mixed and open.
 * The caller wipes cc->secret after tw_ctrl_client_open. */
void auth_client_cfg(const struct auth_args *a, const char *cmd, bool external_sender,
                     tw_ctrl_client_cfg_t *cc);

/* Controller, from on_started: each sender's security mode and test keys, as
 * the client agreed them (tw_sender_set_security). -1 with a reason in err. */
int auth_sessions(tw_ctrl_client_t *client, tw_sender_t *const *senders, int n, char *err,
                  size_t errlen);

/* Sender (with stamp) and responder: the STAMP HMAC key from --keyfile (the
 * line of --keyid, or the file's only line), or NULL without --keyfile. The
 * key stays in a static buffer until auth_forget(). */
const tw_secret_t *auth_stamp_key(const struct auth_args *a, const char *cmd, bool stamp);
/* Wipe the key auth_stamp_key loaded. */
void auth_forget(void);

/* Server: the modes offered (feature bits added) and the key ring (NULL
 * without --keyfile; a failure exits 1). */
void auth_server_cfg(const struct auth_args *a, const char *cmd, tw_ctrl_server_cfg_t *cfg,
                     tw_keyring_t **ring);

/* After a run: "Mode: open|authenticated|encrypted|mixed" and the replies that
 * failed their integrity check, at the normal log level. */
void auth_report(tw_sender_t *const *senders, int n);

#endif
