#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_wire.h"
#include "monitor_config.h"
#include "sender.h"

static int parse(const char *yaml, tw_mon_config_t *c, char *err, size_t errlen)
{
    return tw_mon_config_parse(yaml, strlen(yaml), c, err, errlen);
}

static void test_good(void **state)
{
    (void)state;
    const char *y = "# a comment\n"
                    "keyfile: /etc/twampy/keys\n"
                    "defaults:\n"
                    "  interval: 100ms\n"
                    "  dscp: af41\n"
                    "targets:\n"
                    "  - address: 192.0.2.1\n"
                    "  - name: core \"1\"\n"
                    "    address: '[2001:db8::1]:862'\n"
                    "    protocol: twamp\n"
                    "    mode: encrypted\n"
                    "    key: probe1\n"
                    "    schedule: poisson\n"
                    "    packets: 600\n"
                    "    padding: imix\n"
                    "    dscp: 46\n"
                    "    ttl: 12\n"
                    "    timeout: 1.5\n"
                    "    source: 0.0.0.0:20000\n"
                    "    rounds: 3\n"
                    "  - {address: 'example.net:4000', protocol: stamp, ssid: 9, interval: 250us,"
                    " padding: 34}\n";
    tw_mon_config_t c;
    char err[600] = "";
    assert_int_equal(parse(y, &c, err, sizeof err), 0);
    assert_string_equal(c.keyfile, "/etc/twampy/keys");
    assert_int_equal(c.ntargets, 3);
    const tw_mon_target_t *t = &c.targets[0];
    assert_string_equal(t->name, "192.0.2.1");
    assert_string_equal(t->address, "192.0.2.1");
    assert_int_equal(t->protocol, TW_MON_LIGHT);
    assert_int_equal(t->mode, TW_MODE_UNAUTHENTICATED);
    assert_int_equal(t->interval_ns, 100000000);
    assert_int_equal(t->dscp, 34);
    assert_int_equal(t->packets, 60);
    assert_int_equal(t->ttl, 64);
    assert_int_equal(t->timeout_ns, 2000000000);
    assert_int_equal(t->line, 7);
    t = &c.targets[1];
    assert_string_equal(t->name, "core \"1\"");
    assert_string_equal(t->address, "[2001:db8::1]:862");
    assert_int_equal(t->protocol, TW_MON_TWAMP);
    assert_int_equal(t->mode, TW_MODE_ENCRYPTED);
    assert_string_equal(t->key, "probe1");
    assert_true(t->poisson);
    assert_int_equal(t->packets, 600);
    assert_int_equal(t->padding, TW_PADDING_IMIX);
    assert_int_equal(t->dscp, 46);
    assert_int_equal(t->ttl, 12);
    assert_int_equal(t->timeout_ns, 1500000000);
    assert_string_equal(t->source, "0.0.0.0:20000");
    assert_int_equal(t->rounds, 3);
    assert_int_equal(t->line, 8);
    t = &c.targets[2];
    assert_int_equal(t->protocol, TW_MON_STAMP);
    assert_int_equal(t->ssid, 9);
    assert_int_equal(t->interval_ns, 250000);
    assert_int_equal(t->padding, 34);
    assert_string_equal(tw_mon_protocol_name(t->protocol), "stamp");
    /* a target is the same as itself wherever it stands */
    tw_mon_target_t moved = c.targets[1];
    moved.line = 99;
    assert_true(tw_mon_target_same(&c.targets[1], &moved));
    moved.dscp = 0;
    assert_false(tw_mon_target_same(&c.targets[1], &moved));
    assert_false(tw_mon_target_same(&c.targets[0], &c.targets[2]));
    tw_mon_config_free(&c);
    assert_null(c.targets);
}

static void test_empty_targets(void **state)
{
    (void)state;
    tw_mon_config_t c;
    char err[600];
    assert_int_equal(parse("targets: []\n", &c, err, sizeof err), 0);
    assert_int_equal(c.ntargets, 0);
    tw_mon_config_free(&c);
}

/* Each bad file fails with its line:column first and a word of what is wrong. */
static void test_bad(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *err;
    } cases[] = {
        {"", "1:1: the file is empty"},
        {"- a\n- b\n", "1:1: expected a mapping with 'targets:'"},
        {"defaults: {}\n", "1:1: no 'targets:' list"},
        {"targets: 3\n", "1:10: targets: expected a list"},
        {"targets:\n  - address: 192.0.2.1\n    interval: 10x\n",
         "3:15: interval '10x': not a duration"},
        {"targets:\n  - address: 192.0.2.1\n    interval: 10us\n",
         "3:15: interval '10us': at least"},
        {"targets:\n  - address: 192.0.2.1\n    intervall: 1s\n",
         "3:16: unknown setting 'intervall'"},
        {"targets:\n  - name: x\n", "2:5: a target needs an address"},
        {"targets:\n  - address: 192.0.2.1\n  - address: 192.0.2.1\n",
         "3:5: target name '192.0.2.1' used twice (also on line 2)"},
        {"targets:\n  - address: '[::1'\n", "2:14: address '[::1'"},
        {"targets:\n  - address: 192.0.2.1\n    protocol: owamp\n", "3:15: protocol 'owamp'"},
        {"targets:\n  - address: 192.0.2.1\n    dscp: 64\n", "3:11: dscp '64'"},
        {"targets:\n  - address: 192.0.2.1\n    ttl: 0\n", "3:10: ttl '0'"},
        {"targets:\n  - address: 192.0.2.1\n    packets: -1\n", "3:14: packets '-1'"},
        {"targets:\n  - address: 192.0.2.1\n    mode: authenticated\n",
         "2:5: target '192.0.2.1': TWAMP light has no security mode"},
        {"targets:\n  - address: 192.0.2.1\n    protocol: twamp\n    mode: encrypted\n",
         "needs a key and a keyfile"},
        {"targets:\n  - address: 192.0.2.1\n    protocol: stamp\n    mode: encrypted\n",
         "STAMP has the modes open and authenticated"},
        {"targets:\n  - address: 192.0.2.1\n    protocol: stamp\n    padding: 32\n",
         "padding 32 with STAMP"},
        {"targets:\n  - address: 192.0.2.1\n    dscp: [1, 2]\n", "3:11: dscp: expected a value"},
        {"defaults:\n  address: 192.0.2.1\ntargets: []\n",
         "2:12: address: belongs to a target, not to defaults"},
        {"colour: red\ntargets: []\n", "1:1: unknown top-level key 'colour'"},
        {"targets:\n  - address: 192.0.2.1\n   bad: indent\n", "3:"},
        {"targets: [\n", "2:1:"},
        {"targets:\n  - 192.0.2.1\n", "2:5: a target: expected a mapping"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tw_mon_config_t c;
        char err[600] = "";
        int rc = parse(cases[i].yaml, &c, err, sizeof err);
        if (rc == 0 || !strstr(err, cases[i].err))
            fail_msg("case %zu: rc %d, error '%s', wanted '%s'", i, rc, err, cases[i].err);
        assert_null(c.targets);
        assert_int_equal(c.ntargets, 0);
    }
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_monitor_config_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("targets:\n  - address: 127.0.0.1:9\n    bad: 1\n", f);
    fclose(f);
    tw_mon_config_t c;
    char err[1200];
    assert_int_equal(tw_mon_config_load(path, &c, err, sizeof err), -1);
    char want[200];
    snprintf(want, sizeof want, "%s:3:10: unknown setting 'bad'", path);
    assert_non_null(strstr(err, want));
    remove(path);
    assert_int_equal(tw_mon_config_load(path, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_empty_targets),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
