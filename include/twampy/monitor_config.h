/* monitor_config: the configuration of `twampy monitor`, a YAML file in the
 * style of Prometheus' own exporters (blackbox_exporter, smokeping_prober):
 *
 *   keyfile: /etc/twampy/keys        # KEYID PASSPHRASE lines (optional)
 *   defaults:                        # any target setting, for every target
 *     interval: 1s
 *   targets:
 *     - name: core-1                 # label "name"; default: the address
 *       address: 192.0.2.1:862       # label "target"
 *       protocol: twamp              # twamp-light (default), stamp, twamp
 *       mode: authenticated          # open (default), authenticated, encrypted, mixed
 *       key: probe1                  # the KeyID in keyfile (not open)
 *       interval: 100ms              # gap between packets (the mean for poisson)
 *       schedule: periodic           # or poisson
 *       packets: 60                  # packets per round (counters move per round)
 *       padding: 50                  # octets after the 14-octet header, or imix
 *       dscp: ef                     # name or 0..63
 *       ttl: 64
 *       timeout: 2s                  # wait for replies after a round's last packet
 *       source: 0.0.0.0              # local address (and port)
 *       ssid: 7                      # STAMP Session Identifier
 *       rounds: 0                    # stop after this many rounds (0: never)
 *
 * Pure: parses text into a struct (no file, no name resolution, no keys read);
 * an error names the line and column and what was expected. */
#ifndef TWAMPY_MONITOR_CONFIG_H
#define TWAMPY_MONITOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TW_MON_NAME_MAX 128
#define TW_MON_ADDR_MAX 256
#define TW_MON_PATH_MAX 1024
#define TW_MON_MAX_TARGETS 4096

enum tw_mon_protocol { TW_MON_LIGHT, TW_MON_STAMP, TW_MON_TWAMP };

typedef struct tw_mon_target {
    char name[TW_MON_NAME_MAX];
    char address[TW_MON_ADDR_MAX]; /* ip, ip:port, [v6]:port, host:port */
    char source[TW_MON_ADDR_MAX];  /* "" = any */
    char key[TW_MON_NAME_MAX];     /* KeyID, "" none */
    enum tw_mon_protocol protocol;
    uint32_t mode;       /* TW_MODE_UNAUTHENTICATED, _AUTHENTICATED, _ENCRYPTED, _MIXED */
    int64_t interval_ns; /* > 0 */
    bool poisson;
    uint32_t packets; /* per round, >= 1 */
    int padding;      /* >= 0, or TW_PADDING_IMIX (-1) */
    int dscp;         /* 0..63 */
    int ttl;          /* 1..255 */
    int64_t timeout_ns;
    int ssid;        /* 0..65535 */
    uint32_t rounds; /* 0: forever */
    int line;        /* where it begins in the file (1-based); last: not compared */
} tw_mon_target_t;

typedef struct tw_mon_config {
    char keyfile[TW_MON_PATH_MAX]; /* "" none */
    tw_mon_target_t *targets;
    size_t ntargets;
} tw_mon_config_t;

/* Parse YAML text. Returns 0, or -1 with "LINE:COL: what is wrong" in err
 * (out is then empty). Free with tw_mon_config_free. */
int tw_mon_config_parse(const char *text, size_t len, tw_mon_config_t *out, char *err,
                        size_t errlen);
/* Read and parse a file; the error starts with the file's name. */
int tw_mon_config_load(const char *path, tw_mon_config_t *out, char *err, size_t errlen);
void tw_mon_config_free(tw_mon_config_t *c);
/* Same settings (the line aside): a reload keeps such a target running. */
bool tw_mon_target_same(const tw_mon_target_t *a, const tw_mon_target_t *b);
const char *tw_mon_protocol_name(enum tw_mon_protocol p);

#endif
