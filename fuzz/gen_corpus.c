/* gen_corpus: writes the seed corpora of the fuzz targets, valid inputs made
 * with libtwampy's own encoders, into DIR/<target>/<name> (DIR is normally
 * fuzz/corpus). Deterministic: the same build writes the same files. Usage:
 * gen_corpus DIR. Files of the same name are overwritten, others are left. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "control_wire.h"
#include "ntptime.h"
#include "stamp_tlv.h"
#include "wire.h"

#define MAXBUF (TW_MAX_PACKET_LEN + 64)

static const char *outdir;
static int nfiles;

static void emit(const char *target, const char *name, const uint8_t *buf, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", outdir, target);
    if (mkdir(path, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "gen_corpus: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/%s", outdir, target, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "gen_corpus: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    nfiles++;
}

static void must(int r, const char *what)
{
    if (r != TW_WIRE_OK) {
        fprintf(stderr, "gen_corpus: encoding %s failed (%d)\n", what, r);
        exit(1);
    }
}

/* A fixed time (2024-01-01 00:00:00.25 UTC), so that the files never change. */
static uint64_t ntp_fixed(int64_t plus_ms)
{
    return tw_time_to_ntp(1704067200LL * TW_NS_PER_SEC + 250 * TW_NS_PER_MS +
                          plus_ms * TW_NS_PER_MS);
}

/* ---- test packets ----------------------------------------------------------- */

static size_t sender_packet(uint8_t *buf, size_t len, bool stamp, uint32_t seq)
{
    tw_sender_pkt_t p = {
        .seq = seq,
        .timestamp = ntp_fixed(seq),
        .errest = 0x8001, /* S set, Multiplier 1 */
        .ssid = stamp ? 0x1234 : 0,
    };
    must(tw_sender_encode(&p, stamp, buf, len), "a Session-Sender packet");
    return len;
}

/* A STAMP packet with a chain of several TLVs after the base. */
static size_t stamp_with_tlvs(uint8_t *buf, bool broken)
{
    size_t len = sender_packet(buf, TW_STAMP_BASE_LEN, true, 7);
    struct {
        uint8_t flags, type;
        uint16_t vlen;
    } tlvs[] = {
        {TW_TLV_FLAG_U, TW_TLV_EXTRA_PADDING, 8},
        {TW_TLV_FLAG_U, 3, 4},  /* Timestamp Information (RFC 8972 §4.3) */
        {TW_TLV_FLAG_U, 8, 16}, /* HMAC (RFC 8972 §4.8) */
        {0, 250, 0},            /* a type twampy does not know */
    };
    for (size_t i = 0; i < sizeof tlvs / sizeof tlvs[0]; i++) {
        buf[len] = tlvs[i].flags;
        buf[len + 1] = tlvs[i].type;
        tw_put16(buf + len + 2, tlvs[i].vlen);
        memset(buf + len + 4, (int)(0x10 + i), tlvs[i].vlen);
        len += 4 + tlvs[i].vlen;
    }
    if (broken) {
        /* A last TLV whose length runs past the end. */
        buf[len] = TW_TLV_FLAG_U;
        buf[len + 1] = 1;
        tw_put16(buf + len + 2, 100);
        len += 4 + 10;
        memset(buf + len - 10, 0, 10);
    }
    return len;
}

/* A STAMP request with every RFC 8972 TLV the sender asks for (stamp_tlv.h). */
static size_t stamp_all_tlvs(uint8_t *buf)
{
    size_t len = sender_packet(buf, TW_STAMP_BASE_LEN, true, 3);
    tw_tlv_req_t rq = {.want = 0xFE, /* types 1..7 */
                       .padding = 6,
                       .cos_dscp = 46,
                       .access_id = 1,
                       .access_rc = 1,
                       .unknown_type = 9};
    int n = tw_tlv_build(&rq, 4, NULL, NULL, NULL, buf + len, 512);
    must(n > 0 ? 0 : -1, "the TLVs of a STAMP request");
    return len + (size_t)n;
}

static size_t reflector_packet(uint8_t *buf, size_t len, bool stamp)
{
    tw_reflector_pkt_t r = {
        .seq = 3,
        .timestamp = ntp_fixed(20),
        .errest = 0x8001,
        .ssid = stamp ? 0x1234 : 0,
        .rx_time = ntp_fixed(10),
        .sender_seq = 3,
        .sender_time = ntp_fixed(0),
        .sender_errest = 0x8001,
        .sender_ttl = 255,
    };
    memset(buf, 0, len);
    must(tw_reflector_encode(&r, stamp, buf, len), "a Session-Reflector packet");
    if (stamp && len > TW_STAMP_BASE_LEN + TW_TLV_HDR_LEN) {
        buf[TW_STAMP_BASE_LEN] = 0; /* Extra Padding, understood: U clear */
        buf[TW_STAMP_BASE_LEN + 1] = TW_TLV_EXTRA_PADDING;
        tw_put16(buf + TW_STAMP_BASE_LEN + 2, (uint16_t)(len - TW_STAMP_BASE_LEN - TW_TLV_HDR_LEN));
    }
    return len;
}

static void gen_test_packets(void)
{
    static uint8_t buf[MAXBUF];
    char name[64];
    static const size_t twamp[] = {14, 41, 60, 128, 1472};
    for (size_t i = 0; i < sizeof twamp / sizeof twamp[0]; i++) {
        snprintf(name, sizeof name, "sender_twamp_%zu", twamp[i]);
        emit("test_packets", name, buf, sender_packet(buf, twamp[i], false, (uint32_t)i));
    }
    static const size_t stamp[] = {44, 48, 64, 1500, TW_MAX_PACKET_LEN};
    for (size_t i = 0; i < sizeof stamp / sizeof stamp[0]; i++) {
        snprintf(name, sizeof name, "sender_stamp_%zu", stamp[i]);
        emit("test_packets", name, buf, sender_packet(buf, stamp[i], true, (uint32_t)i));
    }
    emit("test_packets", "sender_stamp_tlvs", buf, stamp_with_tlvs(buf, false));
    emit("test_packets", "sender_stamp_tlvs_broken", buf, stamp_with_tlvs(buf, true));
    emit("test_packets", "sender_stamp_all_tlvs", buf, stamp_all_tlvs(buf));
    emit("test_packets", "reflector_twamp_41", buf, reflector_packet(buf, 41, false));
    emit("test_packets", "reflector_stamp_44", buf, reflector_packet(buf, 44, true));
    emit("test_packets", "reflector_stamp_64", buf, reflector_packet(buf, 64, true));
}

/* ---- control messages --------------------------------------------------------- */

static size_t greeting(uint8_t *buf, uint32_t modes)
{
    tw_greeting_t g;
    memset(&g, 0, sizeof g);
    g.modes = modes;
    for (int i = 0; i < 16; i++) {
        g.challenge[i] = (uint8_t)(0xc0 + i);
        g.salt[i] = (uint8_t)(0x50 + i);
    }
    g.count = 1024;
    must(tw_greeting_encode(&g, buf, TW_CTRL_GREETING_LEN), "Server Greeting");
    return TW_CTRL_GREETING_LEN;
}

static size_t setup_response(uint8_t *buf, uint32_t mode)
{
    tw_setup_response_t r;
    memset(&r, 0, sizeof r);
    r.mode = mode;
    must(tw_setup_response_encode(&r, buf, TW_CTRL_SETUP_RESPONSE_LEN), "Set-Up-Response");
    return TW_CTRL_SETUP_RESPONSE_LEN;
}

static size_t server_start(uint8_t *buf, uint8_t accept)
{
    tw_server_start_t s;
    memset(&s, 0, sizeof s);
    s.accept = accept;
    for (int i = 0; i < 16; i++)
        s.server_iv[i] = (uint8_t)(0xa0 + i);
    s.start_time = ntp_fixed(-1000);
    must(tw_server_start_encode(&s, buf, TW_CTRL_SERVER_START_LEN), "Server-Start");
    return TW_CTRL_SERVER_START_LEN;
}

typedef struct req_opts {
    uint8_t ipvn;
    bool zero_addrs; /* "the address of the control connection" */
    uint8_t conf_sender;
    uint32_t type_p;
    uint32_t padding;
    uint32_t timeout_s;
} req_opts_t;

static req_opts_t req_default(void)
{
    req_opts_t o = {.ipvn = 4, .type_p = tw_type_p_from_dscp(46), .padding = 27};
    return o;
}

static size_t request(uint8_t *buf, const req_opts_t *o, int i)
{
    tw_request_session_t m;
    memset(&m, 0, sizeof m);
    m.ipvn = o->ipvn;
    m.conf_sender = o->conf_sender;
    m.sender_port = (uint16_t)(20000 + i);
    m.receiver_port = 0; /* any free port */
    if (!o->zero_addrs) {
        if (o->ipvn == 6) {
            m.sender_addr[15] = 1; /* ::1 */
            m.receiver_addr[15] = 1;
        } else {
            static const uint8_t lo[4] = {127, 0, 0, 1};
            memcpy(m.sender_addr, lo, 4);
            memcpy(m.receiver_addr, lo, 4);
        }
    }
    m.padding_length = o->padding;
    m.start_time = ntp_fixed(0);
    m.timeout = ((uint64_t)o->timeout_s << 32) | 0x1999999Au; /* + 0.1 s */
    m.type_p = o->type_p;
    must(tw_request_session_encode(&m, buf, TW_CTRL_REQUEST_SESSION_LEN), "Request-TW-Session");
    return TW_CTRL_REQUEST_SESSION_LEN;
}

static size_t accept_session(uint8_t *buf, uint8_t accept, uint16_t port, int i)
{
    tw_accept_session_t a;
    memset(&a, 0, sizeof a);
    a.accept = accept;
    a.port = port;
    a.sid[0] = 127;
    a.sid[3] = 1;
    a.sid[15] = (uint8_t)i;
    must(tw_accept_session_encode(&a, buf, TW_CTRL_ACCEPT_SESSION_LEN), "Accept-Session");
    return TW_CTRL_ACCEPT_SESSION_LEN;
}

static size_t start_sessions(uint8_t *buf)
{
    must(tw_start_sessions_encode(NULL, buf, TW_CTRL_START_SESSIONS_LEN), "Start-Sessions");
    return TW_CTRL_START_SESSIONS_LEN;
}

static size_t start_ack(uint8_t *buf, uint8_t accept)
{
    must(tw_start_ack_encode(accept, NULL, buf, TW_CTRL_START_ACK_LEN), "Start-Ack");
    return TW_CTRL_START_ACK_LEN;
}

static size_t stop_sessions(uint8_t *buf, uint32_t n)
{
    tw_stop_sessions_t s;
    memset(&s, 0, sizeof s);
    s.accept = TW_ACCEPT_OK;
    s.num_sessions = n;
    must(tw_stop_sessions_encode(&s, buf, TW_CTRL_STOP_SESSIONS_LEN), "Stop-Sessions");
    return TW_CTRL_STOP_SESSIONS_LEN;
}

/* RFC 5938: a Start-N-Sessions ... Stop-N-Ack naming n SIDs; for the server
 * target the SIDs are "SID" k, which the harness replaces by the SID of its
 * k-th Accept-Session. */
static size_t n_sessions(uint8_t *buf, uint8_t cmd, uint8_t accept, uint32_t n)
{
    tw_n_sessions_t m;
    memset(&m, 0, sizeof m);
    m.cmd = cmd;
    m.accept = accept;
    m.num_sessions = n;
    for (uint32_t i = 0; i < n && i < TW_CTRL_N_MAX; i++) {
        memcpy(m.sids[i], "SID", 3);
        m.sids[i][3] = (uint8_t)i;
    }
    must(tw_n_sessions_encode(&m, buf, TW_CTRL_N_LEN(n)), "N-sessions");
    return TW_CTRL_N_LEN(n);
}

static void gen_control_messages(void)
{
    static uint8_t b[MAXBUF];
    const char *t = "control_messages";
    emit(t, "greeting", b, greeting(b, 0x61));
    emit(t, "greeting_refusing", b, greeting(b, 0));
    emit(t, "setup_response", b, setup_response(b, TW_MODE_UNAUTHENTICATED));
    emit(t, "setup_response_symmetrical", b,
         setup_response(b, TW_MODE_UNAUTHENTICATED | TW_MODE_SYMMETRICAL));
    emit(t, "server_start", b, server_start(b, TW_ACCEPT_OK));
    emit(t, "server_start_refused", b, server_start(b, TW_ACCEPT_NOT_SUPPORTED));
    req_opts_t o = req_default();
    emit(t, "request_v4", b, request(b, &o, 0));
    o.ipvn = 6;
    emit(t, "request_v6", b, request(b, &o, 1));
    emit(t, "accept_session", b, accept_session(b, TW_ACCEPT_OK, 5000, 0));
    emit(t, "accept_session_refused", b, accept_session(b, TW_ACCEPT_TEMPORARY, 0, 1));
    emit(t, "start_sessions", b, start_sessions(b));
    emit(t, "start_ack", b, start_ack(b, TW_ACCEPT_OK));
    emit(t, "start_ack_refused", b, start_ack(b, TW_ACCEPT_FAILURE));
    emit(t, "stop_sessions", b, stop_sessions(b, 1));
    emit(t, "start_n_sessions", b, n_sessions(b, TW_CMD_START_N_SESSIONS, 0, 2));
    emit(t, "start_n_ack", b, n_sessions(b, TW_CMD_START_N_ACK, TW_ACCEPT_TEMPORARY, 1));
    emit(t, "stop_n_sessions", b, n_sessions(b, TW_CMD_STOP_N_SESSIONS, 0, 1));
    emit(t, "stop_n_ack", b, n_sessions(b, TW_CMD_STOP_N_ACK, TW_ACCEPT_OK, 3));
}

/* ---- text: addresses and DSCP ------------------------------------------------- */

static void gen_parsers(void)
{
    static const char *const texts[] = {
        "",
        ":862",
        "192.0.2.1",
        "192.0.2.1:862",
        "[2001:db8::1]",
        "[2001:db8::1]:862",
        "2001:db8::1",
        "::",
        "::ffff:192.0.2.1",
        "fe80::1%lo",
        "[fe80::1%eth0]:20000",
        "localhost",
        "localhost:862",
        "twamp.example.net:65535",
        "127.0.0.1:0",
        "host:99999",
        "[::1",
        "a]b",
        /* DSCP names and numbers */
        "be",
        "ef",
        "af41",
        "AF11",
        "cs1",
        "cs7",
        "nc2",
        "cp63",
        "46",
        "63",
        "64",
        /* --csv rows (twampy plot) */
        "1,7,ok,2023-11-14T22:13:20.000000000Z,2023-11-14T22:13:20.000400000Z,"
        "2023-11-14T22:13:20.000410000Z,2023-11-14T22:13:20.001000000Z,,,,,600000,400000,"
        "590000,64,62,46,41",
        "2,4294967295,lost,2036-02-07T06:28:16.000000005Z,,,,,,,,,,,,,,1472",
        "1,3,reordered,1969-12-31T23:59:59.999999999Z,1970-01-01T00:00:00.5Z,"
        "1970-01-01T00:00:00.6Z,1970-01-01T00:00:01Z,,,,,,,,,,,44",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "text_%02zu", i);
        emit("parsers", name, (const uint8_t *)texts[i], strlen(texts[i]));
    }
}

/* ---- the monitor's configuration, Accept headers ------------------------------ */

static void gen_monitor_inputs(void)
{
    static const char *const texts[] = {
        "targets: []\n",
        "targets:\n  - address: 192.0.2.1\n",
        ("keyfile: /etc/twampy/keys\ndefaults:\n  interval: 100ms\n  dscp: af41\ntargets:\n"
         "  - name: core\n    address: '[2001:db8::1]:862'\n    protocol: twamp\n"
         "    mode: encrypted\n    key: probe1\n    schedule: poisson\n    packets: 600\n"
         "    padding: imix\n    ttl: 12\n    timeout: 1.5\n    source: 0.0.0.0:20000\n"
         "    rounds: 3\n"
         "  - {address: 'example.net:4000', protocol: stamp, ssid: 9, interval: 250us}\n"),
        "targets:\n  - address: 192.0.2.1\n    interval: 10x\n",
        "targets:\n  - address: 192.0.2.1\n  - address: 192.0.2.1\n",
        "targets: [\n",
        "&a [*a]\n",
        ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
         "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
        "text/plain;version=0.0.4;q=1,application/openmetrics-text;q=0.5",
        "a\"b\\c\nd",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "text_%02zu", i);
        emit("monitor_inputs", name, (const uint8_t *)texts[i], strlen(texts[i]));
    }
}

/* ---- the reflector: an 8-octet header, then a request ------------------------- */

static void gen_reflector(void)
{
    static uint8_t b[MAXBUF];
    struct {
        const char *name;
        uint8_t h0, ttl, x;
        size_t len;
        bool stamp, tlvs, ptp;
    } cases[] = {
        {"twamp_14_stateful", 0x00, 64, 2, 14, false, false, false},
        {"twamp_41_stateless_v6", 0x05, 255, 3, 41, false, false, false},
        {"twamp_60_only_loopback", 0x02, 64, 1, 60, false, false, false},
        {"twamp_20_exact_buffer", 0x20, 1, 4, 20, false, false, false},
        {"stamp_44_mapped", 0x08, 64, 1, 44, true, false, false},
        {"stamp_100_ttl_unknown", 0x10, 0, 5, 100, true, false, false},
        {"stamp_tlvs_room", 0x40, 64, 6, 0, true, true, false},
        {"stamp_1500_truncated", 0x80, 64, 7, 1500, true, false, false},
        {"stamp_9000_unspec", 0x0c, 64, 8, TW_MAX_PACKET_LEN, true, false, false},
        {"twamp_41_allowed", 0x03, 64, 2, 41, false, false, false},
        {"stamp_48_allowed_v6", 0x07, 64, 7, 48, true, false, false},
        {"stamp_48_denied", 0x03, 64, 9, 48, true, false, false},
        {"stamp_64_ptp", 0x00, 64, 3, 64, true, false, true},
        {"twamp_41_ptp_stateless", 0x01, 64, 3, 41, false, false, true},
        {"stamp_all_tlvs", 0x00, 64, 1, 0, true, true, false},
        {"stamp_all_tlvs_stateless", 0x01, 64, 1, 0, true, true, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(b, 0, 8);
        b[0] = cases[i].h0;
        b[1] = cases[i].ttl;
        tw_put16(b + 2, (uint16_t)(40000 + i));
        b[4] = cases[i].x;
        b[5] = 0;
        b[6] = (uint8_t)i;
        b[7] = 16;
        size_t n;
        if (cases[i].tlvs && !strncmp(cases[i].name, "stamp_all_tlvs", 14))
            n = stamp_all_tlvs(b + 8);
        else if (cases[i].tlvs)
            n = stamp_with_tlvs(b + 8, false);
        else
            n = sender_packet(b + 8, cases[i].len, cases[i].stamp, (uint32_t)i);
        if (cases[i].ptp)
            b[8 + 12] |= 0x40; /* Z: PTP timestamps */
        emit("reflector", cases[i].name, b, 8 + n);
    }
}

/* ---- the server: what a client sends ------------------------------------------ */

/* [split][flags] Set-Up-Response, n x Request-TW-Session, Start-Sessions,
 * Stop-Sessions. */
static size_t client_conv(uint8_t *b, uint8_t split, uint8_t flags, uint32_t mode, int n,
                          const req_opts_t *o, bool start, bool stop)
{
    size_t len = 0;
    b[len++] = split;
    b[len++] = flags;
    len += setup_response(b + len, mode);
    for (int i = 0; i < n; i++)
        len += request(b + len, o, i);
    if (start)
        len += start_sessions(b + len);
    if (stop)
        len += stop_sessions(b + len, (uint32_t)n);
    return len;
}

static void gen_control_server(void)
{
    static uint8_t b[MAXBUF];
    const char *t = "control_server";
    const uint32_t unauth = TW_MODE_UNAUTHENTICATED;
    const uint32_t sym = TW_MODE_UNAUTHENTICATED | TW_MODE_SYMMETRICAL;
    req_opts_t o = req_default();
    emit(t, "one_session", b, client_conv(b, 0, 0, unauth, 1, &o, true, true));
    emit(t, "two_sessions_bytewise", b, client_conv(b, 0x01, 0, sym, 2, &o, true, true));
    emit(t, "three_sessions_split", b, client_conv(b, 0x2f, 0, sym, 3, &o, true, true));
    emit(t, "two_connections", b, client_conv(b, 0x45, 0x08, sym, 2, &o, true, true));
    emit(t, "one_per_connection", b, client_conv(b, 0, 0x10, unauth, 2, &o, true, true));
    emit(t, "refused_connection", b, client_conv(b, 0, 0x04, unauth, 1, &o, true, true));
    emit(t, "not_started", b, client_conv(b, 0x07, 0, unauth, 1, &o, false, true));
    emit(t, "no_stop", b, client_conv(b, 0, 0, unauth, 1, &o, true, false));
    emit(t, "start_without_sessions", b, client_conv(b, 0, 0, unauth, 0, &o, true, true));
    emit(t, "modes_individual", b,
         client_conv(b, 0, 0x03, unauth | TW_MODE_INDIVIDUAL, 1, &o, true, true));
    /* RFC 5938: two sessions started one by one, stopped together; and one
     * Start-N-Sessions with an unknown SID and a count out of bounds. */
    size_t len = client_conv(b, 0, 0, unauth | TW_MODE_INDIVIDUAL, 2, &o, false, false);
    len += n_sessions(b + len, TW_CMD_START_N_SESSIONS, 0, 1);
    size_t at = len;
    len += n_sessions(b + len, TW_CMD_START_N_SESSIONS, 0, 2);
    memcpy(b + at + 16, b + at + 32, 16); /* session 2 only (twice) */
    len += n_sessions(b + len, TW_CMD_STOP_N_SESSIONS, 0, 2);
    emit(t, "individual_start_stop_n", b, len);
    len = client_conv(b, 0, 0, unauth | TW_MODE_INDIVIDUAL, 1, &o, false, false);
    at = len;
    len += n_sessions(b + len, TW_CMD_START_N_SESSIONS, 0, 1);
    memset(b + at + 16, 0x42, 16);
    len += n_sessions(b + len, TW_CMD_STOP_N_SESSIONS, 0, 1);
    b[len - 32 - 1] = 60; /* Number of Sessions 60 > 1 session */
    emit(t, "individual_bad_sid_and_count", b, len);
    emit(t, "mode_not_offered", b, client_conv(b, 0, 0, TW_MODE_AUTHENTICATED, 1, &o, true, true));
    emit(t, "mode_none", b, client_conv(b, 0, 0, 0, 1, &o, true, true));
    o.ipvn = 6;
    emit(t, "ipv6_session", b, client_conv(b, 0, 0, unauth, 1, &o, true, true));
    o = req_default();
    o.zero_addrs = true;
    emit(t, "zero_addresses", b, client_conv(b, 0, 0, unauth, 1, &o, true, true));
    o = req_default();
    o.conf_sender = 1;
    emit(t, "refused_conf_sender", b, client_conv(b, 0, 0, unauth, 1, &o, true, true));
    o = req_default();
    o.type_p = 0x40000000u; /* a PHB ID, not a DSCP */
    emit(t, "refused_type_p", b, client_conv(b, 0, 0, unauth, 1, &o, true, true));
    o = req_default();
    o.padding = 1000;
    emit(t, "refused_padding", b, client_conv(b, 0, 0x20, unauth, 1, &o, true, true));
    o = req_default();
    o.timeout_s = 100;
    emit(t, "refused_timeout", b, client_conv(b, 0, 0x80, unauth, 1, &o, true, true));
    o = req_default();
    emit(t, "port_range", b, client_conv(b, 0, 0x48, sym, 2, &o, true, true));
    o = req_default();
    len = client_conv(b, 0, 0, unauth, 1, &o, false, false);
    memset(b + len, 0, 16);
    b[len] = 7; /* Start-N-Sessions without mode 16 */
    emit(t, "unknown_command", b, len + 16);
}

/* ---- the client: what a server sends ------------------------------------------ */

typedef struct srv_opts {
    uint32_t modes;
    uint8_t ss_accept, acc_accept, ack_accept;
    uint16_t port;
    bool stop;
} srv_opts_t;

static srv_opts_t srv_default(void)
{
    srv_opts_t o = {.modes = 0x61, .port = 5000};
    return o;
}

/* [split][flags] Server Greeting, Server-Start, n x Accept-Session, Start-Ack,
 * perhaps Stop-Sessions. n is the number of sessions flags asks for. */
static size_t server_conv(uint8_t *b, uint8_t split, uint8_t flags, const srv_opts_t *o)
{
    int n = 1 + (flags & 3) % 3;
    size_t len = 0;
    b[len++] = split;
    b[len++] = flags;
    len += greeting(b + len, o->modes);
    len += server_start(b + len, o->ss_accept);
    for (int i = 0; i < n; i++)
        len += accept_session(b + len, o->acc_accept, (uint16_t)(o->port + i), i);
    len += start_ack(b + len, o->ack_accept);
    if (o->stop)
        len += stop_sessions(b + len, (uint32_t)n);
    return len;
}

static void gen_control_client(void)
{
    static uint8_t b[MAXBUF];
    const char *t = "control_client";
    srv_opts_t o = srv_default();
    emit(t, "one_session", b, server_conv(b, 0, 0, &o));
    emit(t, "two_sessions_bytewise", b, server_conv(b, 0x01, 1, &o));
    emit(t, "three_sessions_split", b, server_conv(b, 0x45, 2, &o));
    emit(t, "ipv6", b, server_conv(b, 0x2f, 4, &o));
    emit(t, "stop", b, server_conv(b, 0, 8, &o));
    emit(t, "close_first", b, server_conv(b, 0, 16, &o));
    o.modes = TW_MODE_UNAUTHENTICATED;
    emit(t, "unauthenticated_only", b, server_conv(b, 0x03, 0, &o));
    o = srv_default();
    o.stop = true;
    emit(t, "server_stops", b, server_conv(b, 0, 0, &o));
    o = srv_default();
    o.modes = 0;
    emit(t, "refused_greeting", b, server_conv(b, 0, 0, &o));
    o.modes = TW_MODE_AUTHENTICATED;
    emit(t, "authenticated_only", b, server_conv(b, 0, 0, &o));
    o = srv_default();
    o.ss_accept = TW_ACCEPT_FAILURE;
    emit(t, "refused_server_start", b, server_conv(b, 0, 0, &o));
    o = srv_default();
    o.acc_accept = TW_ACCEPT_TEMPORARY;
    emit(t, "refused_session", b, server_conv(b, 0, 0, &o));
    o = srv_default();
    o.port = 0;
    emit(t, "port_zero", b, server_conv(b, 0, 0, &o));
    o = srv_default();
    o.ack_accept = TW_ACCEPT_INTERNAL;
    emit(t, "refused_start", b, server_conv(b, 0, 0, &o));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR (normally fuzz/corpus)\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    if (mkdir(outdir, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "gen_corpus: %s: %s\n", outdir, strerror(errno));
        return 1;
    }
    gen_test_packets();
    gen_control_messages();
    gen_parsers();
    gen_monitor_inputs();
    gen_reflector();
    gen_control_server();
    gen_control_client();
    printf("gen_corpus: %d files in %s\n", nfiles, outdir);
    return 0;
}
