#!/usr/bin/env bash
# STAMP TLVs (RFC 8972) end to end: a sender with every --tlv against a
# responder, the report and the JSON checked field by field; the same packets
# captured on lo (dumpcap) and decoded by contrib/wireshark/stamp.lua in tshark,
# every field checked, for unauthenticated and authenticated STAMP. Usage
# errors of --tlv. The capture part prints "SKIP: ..." and the script passes
# when tshark or dumpcap is missing or cannot capture (not root); the
# sender/responder checks run in any case.
source "$(dirname "$0")/lib.sh" "$@"

LUA=$(cd "$(dirname "$0")/../.." && pwd)/contrib/wireshark/stamp.lua
[ -r "$LUA" ] || fail "no $LUA"
# An address of 127.0.0.0/8 of its own: the capture filter keeps this test's packets.
H=127.86.84.76
N=4

# ---- usage errors -------------------------------------------------------------------
expect_exit 2 "$TWAMPY" sender "$H:9" --tlv location
grep -q -- '--tlv needs --stamp' "$ERR" || fail "--tlv without --stamp: $(cat "$ERR")"
expect_exit 2 "$TWAMPY" sender "$H:9" --stamp --tlv bogus
grep -q 'not a STAMP TLV' "$ERR" || fail "--tlv bogus: $(cat "$ERR")"
expect_exit 2 "$TWAMPY" sender "$H:9" --stamp --tlv hmac
grep -q 'needs authenticated STAMP' "$ERR" || fail "--tlv hmac without a key: $(cat "$ERR")"
expect_exit 2 "$TWAMPY" sender "$H:9" --stamp --tlv padding
expect_exit 2 "$TWAMPY" sender "$H:9" --stamp --tlv cos=nonsense
expect_exit 2 "$TWAMPY" sender "$H:9" --stamp --tlv unknown=256
note "usage errors: 6 as expected"

# ---- capture (optional) ------------------------------------------------------------
CAPTURE=1
for tool in tshark dumpcap; do
    command -v "$tool" >/dev/null || {
        note "SKIP (capture part): $tool is not installed (apt-get install tshark)"
        CAPTURE=0
    }
done

# capture_marker TEXT: send TEXT to $H:9 until it is in the capture file (as
# control_tshark.sh): once it is, every packet sent before it is in the file.
capture_marker() {
    local deadline=$((SECONDS + 20)) n=0
    until grep -qa -- "$1" "$WORK/cap.pcapng" 2>/dev/null; do
        if [ $((n % 25)) -eq 0 ]; then
            printf '%s' "$1" >"/dev/udp/$H/9" || fail "cannot send the marker datagram"
        fi
        n=$((n + 1))
        if ! alive "${PID_OF[cap]}"; then
            grep -qiE 'permission|not permitted|denied' "$WORK/cap.err" && return 1
            fail "dumpcap exited: $(grep -v '^$' "$WORK/cap.err" | head -n 3)"
        fi
        [ "$SECONDS" -lt "$deadline" ] || fail "the marker '$1' never reached the capture file"
        sleep 0.02
    done
}
if [ "$CAPTURE" = 1 ]; then
    bg cap dumpcap -q -i lo -f "host $H" -a duration:60 -w "$WORK/cap.pcapng"
    if ! capture_marker "twampy-capture-start-$$"; then
        note "SKIP (capture part): dumpcap may not capture on lo here: $(head -n 1 "$WORK/cap.err")"
        CAPTURE=0
    fi
fi

# ---- unauthenticated: every TLV -------------------------------------------------------
start_responder refl "$H:0"
R=$PORT
ALL=(--tlv padding=8 --tlv location --tlv timestamp --tlv cos=af11 --tlv counters
    --tlv access=1,2 --tlv followup --tlv unknown=200)
expect_exit 0 "$TWAMPY" sender "$H:$R" "$H:0" --stamp -c "$N" -i 20 --dscp ef "${ALL[@]}" --json
cp "$OUT" "$WORK/open.json"
python3 - "$WORK/open.json" "$H" "$R" "$N" <<'EOF' || fail "JSON of the unauthenticated run"
import json, sys
d = json.load(open(sys.argv[1]))
H, R, N = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
t = d["tlvs"] if "tlvs" in d else d["sessions"][0]["tlvs"]
def want(cond, what):
    if not cond:
        print("FAIL:", what, json.dumps(t, indent=1)[:3000])
        sys.exit(1)
want(t["asked"] == ["extra_padding", "location", "timestamp_info", "class_of_service",
                    "direct_measurement", "access_report", "follow_up_telemetry"], "asked")
want(t["replies"] == N and t["replies_without_tlvs"] == 0 and t["unparsable_areas"] == 0, "replies")
types = {x["name"]: x for x in t["types"]}
for name in ["extra_padding", "location", "timestamp_info", "direct_measurement", "access_report",
             "follow_up_telemetry"]:
    x = types[name]
    want(x["seen"] == N and x["u"] == 0 and x["m"] == 0 and x["i"] == 0, "flags of " + name)
# CoS: the first request reaches the reflector before it asked the kernel for
# the TOS: that one (and any read in the same batch) comes back with U; the
# others are answered.
cu = types["class_of_service"]["u"]
want(types["class_of_service"]["seen"] == N and 1 <= cu < N, "CoS flags")
want(types["other"]["seen"] == N and types["other"]["u"] == N, "unknown TLV: U in every reply")
loc = t["location"]
want(loc["sender_address"] == H and loc["reflector_address"] == H and loc["reflector_port"] == R
     and loc["sender_port"] > 0 and loc["changed"] == 0 and loc["replies"] == N, "location")
ts = t["timestamp_info"]
want(ts["method_in"] == "sw_local" and ts["method_out"] == "control_plane"
     and ts["sync_in"] in ("ntp", "local") and ts["sync_out"] == ts["sync_in"], "timestamp_info")
cos = t["class_of_service"]
want(cos["replies"] == N - cu and cos["sent_dscp"] == 46 and cos["received_dscp"] == 46
     and cos["received_ecn"] == 0 and cos["requested_reply_dscp"] == 10 and cos["reply_dscp"] == 10
     and cos["remarked_forward"] == 0 and cos["remarked_reverse"] == 0 and cos["rp_set"] == 0, "cos")
dm = t["direct_measurement"]
want(dm["first"] == {"sender_tx": 1, "reflector_rx": 1, "reflector_tx": 0}
     and dm["last"] == {"sender_tx": N, "reflector_rx": N, "reflector_tx": N - 1}, "counters")
ac = t["access_report"]
want(ac == {"replies": N, "id": 1, "return_code": 2}, "access report")
fu = t["follow_up"]
want(fu["replies"] == N and fu["empty"] == 1 and fu["matched"] == N - 1 and fu["method"] == "sw_local"
     and fu["after_t3"]["min"] >= 0, "follow-up: the real send after the t3 written")
want(t["hmac"] == {"verified": 0, "failed": 0}, "no HMAC TLV")
EOF
note "unauthenticated: JSON as expected"

# A malformed TLV (a CoS TLV of Length 2): answered with M, counted. The sender
# run after it makes sure the responder has read it (same socket, in order).
{
    printf '\x00\x00\x00\x09'
    head -c 40 /dev/zero
    printf '\x80\x04\x00\x02\x28\x00'
} >"$WORK/malformed.bin"
cat "$WORK/malformed.bin" >"/dev/udp/$H/$R" || fail "cannot send the malformed request" # one write

# The text report of the same.
expect_exit 0 "$TWAMPY" sender "$H:$R" "$H:0" --stamp -c 2 -i 20 --tlv location --tlv counters \
    --tlv unknown=250
for re in "^STAMP TLVs \\(RFC 8972\\): read in 2 replies\$" \
    "^  Location: the reflector saw $(re_of "$H"):[0-9]+ -> $(re_of "$H:$R")\$" \
    "^  Direct Measurement: sender Tx 1\\.\\.2, reflector Rx 1\\.\\.2, reflector Tx 0\\.\\.1\$" \
    "^  type_11 +2 back \\(types 11 and up\\), 2 not understood \\(U\\)\$"; do
    grep -qE -- "$re" "$OUT" || fail "no /$re/ in the report:$(printf '\n%s' "$(cat "$OUT")")"
done
note "text report as expected"

# ---- IPv6: Location with the IPv6 sub-TLVs --------------------------------------------
if have_ipv6; then
    start_responder refl6 "[::1]:0"
    expect_exit 0 "$TWAMPY" sender "[::1]:$PORT" "[::1]:0" --stamp -c 3 -i 30 --tlv location \
        --tlv cos=cs1 --json
    python3 - "$OUT" "$PORT" <<'EOF6' || fail "JSON of the IPv6 run"
import json, sys
d = json.load(open(sys.argv[1]))
t = d["tlvs"] if "tlvs" in d else d["sessions"][0]["tlvs"]
loc = t["location"]
if not (loc["sender_address"] == "::1" and loc["reflector_address"] == "::1"
        and loc["reflector_port"] == int(sys.argv[2])
        and t["class_of_service"]["reply_dscp"] == 8):
    print("FAIL:", json.dumps(t, indent=1)[:3000])
    sys.exit(1)
EOF6
    stop_responder refl6
    note "IPv6: Location and CoS as expected"
else
    note "no ::1 here: IPv6 part skipped"
fi

# ---- authenticated: the HMAC TLV ------------------------------------------------------
printf 'tlv1 correct horse battery staple\n' >"$WORK/keys"
chmod 600 "$WORK/keys"
start_responder arefl "$H:0" --keyfile "$WORK/keys"
A=$PORT
expect_exit 0 "$TWAMPY" sender "$H:$A" "$H:0" --stamp --keyfile "$WORK/keys" -c "$N" -i 20 \
    --tlv timestamp --tlv counters --json
python3 - "$OUT" "$N" <<'EOF' || fail "JSON of the authenticated run"
import json, sys
d = json.load(open(sys.argv[1]))
N = int(sys.argv[2])
t = d["tlvs"] if "tlvs" in d else d["sessions"][0]["tlvs"]
ok = (t["hmac"] == {"verified": N, "failed": 0} and "hmac" in t["asked"]
      and t["direct_measurement"]["last"]["reflector_rx"] == N and t["timestamp_info"]["replies"] == N)
if not ok:
    print("FAIL:", json.dumps(t, indent=1)[:3000])
    sys.exit(1)
EOF
note "authenticated: HMAC TLV verified in $N replies"
stop_responder arefl
stop_responder refl
expect_counters "STAMP TLVs: 1 malformed, 0 failed the HMAC TLV"

[ "$CAPTURE" = 1 ] || {
    finish
    exit 0
}

# ---- the capture through stamp.lua ----------------------------------------------------
capture_marker "twampy-capture-end-$$" || fail "the capture stopped"
kill -INT "${PID_OF[cap]}"
bg_wait cap
[ "$BG_RC" -eq 0 ] || fail "dumpcap exited with $BG_RC"

# shark NAME PORT FILTER FIELDS...: the capture decoded with stamp.lua on PORT,
# fields separated by '|', one packet a line, into $WORK/NAME.tsv. ICMP errors
# are left out (the malformed request's socket is gone when its reply comes:
# the ICMP error quoting it would match the filter too).
shark() {
    local name=$1 port=$2 filter=$3 e=() x
    shift 3
    for x in "$@"; do e+=(-e "$x"); done
    TZ=UTC timeout -k 5 "$RUN_LIMIT" tshark -X "lua_script:$LUA" -o "stamp.port:$port" \
        -r "$WORK/cap.pcapng" -Y "!icmp && !icmpv6 && ($filter)" -T fields -E 'separator=|' -E 'aggregator=,' \
        "${e[@]}" >"$WORK/$name.tsv" 2>"$WORK/$name.tshark-err" ||
        fail "tshark failed: $(grep -v 'Running as user' "$WORK/$name.tshark-err" | head -n 3)"
    [ -s "$WORK/$name.tsv" ] || fail "tshark decoded nothing for $filter"
}

# Nothing malformed and no expert warning in any STAMP packet but the
# malformed request (50 octets) and its reply, where the M flag must be set.
shark mal "$R" "udp.port==$R && udp.length==58" stamp.direction stamp.tlv.flags _ws.expert.severity
[ "$(cut -d '|' -f 1,2 "$WORK/mal.tsv" | tr '\n' ' ')" = "0|0x80 1|0x40 " ] ||
    fail "the malformed request and its reply: $(cat "$WORK/mal.tsv")"
for port in "$R" "$A"; do
    shark bad "$port" "udp.port==$port && udp.length!=58" _ws.malformed _ws.expert.severity
    if grep -qE '[^|]' "$WORK/bad.tsv"; then
        fail "malformed packets or expert warnings on port $port:$(head -n 5 "$WORK/bad.tsv")"
    fi
done

# Session-Sender packets of the first run: the TLVs in order, all sent with U
# (RFC 8972 §4), the fields a sender fills.
shark snd "$R" "udp.dstport==$R && stamp.tlv.type==5 && stamp.tlv.type==7" stamp.direction \
    stamp.authenticated stamp.seq stamp.ssid stamp.tlv.type stamp.tlv.length stamp.tlv.flags \
    stamp.tlv.location.sub.type stamp.tlv.cos.dscp1 stamp.tlv.dm.s_txc stamp.tlv.access.id \
    stamp.tlv.access.return_code stamp.tlv.followup.seq
i=0
while IFS='|' read -r dir auth seq ssid types lens flags subs dscp1 stxc acid acrc fuseq; do
    got="$dir|$auth|$seq|$ssid|$types|$lens|$flags|$subs|$dscp1|$stxc|$acid|$acrc|$fuseq"
    exp="0|0|$i|0|1,2,3,4,5,6,7,200|8,44,4,4,12,4,16,4|0x80,0x80,0x80,0x80,0x80,0x80,0x80,0x80|4,7|10|$((i + 1))|1|2|0"
    # tshark prints booleans as 0/1 or False/True depending on the field type.
    got=${got/|False|/|0|}
    [ "$got" = "$exp" ] || fail "Session-Sender packet $i:$(printf '\n  got      %s\n  expected %s' "$got" "$exp")"
    i=$((i + 1))
done <"$WORK/snd.tsv"
[ "$i" -eq "$N" ] || fail "$i Session-Sender packets with every TLV, expected $N"

# Session-Reflector packets of the first run: U cleared on what it understood,
# set on CoS in the first reply and on type 200; what it filled in.
shark rfl "$R" "udp.srcport==$R && stamp.tlv.type==5 && stamp.tlv.type==7" stamp.direction \
    stamp.sender_seq stamp.tlv.flags stamp.tlv.location.dport stamp.tlv.location.sport \
    stamp.tlv.location.sub.type stamp.tlv.location.dst_ipv4 stamp.tlv.location.src_ipv4 \
    stamp.tlv.tsinfo.ts_in stamp.tlv.tsinfo.ts_out stamp.tlv.cos.dscp1 stamp.tlv.cos.dscp2 \
    stamp.tlv.cos.ecn stamp.tlv.cos.rp stamp.tlv.dm.s_txc stamp.tlv.dm.r_rxc stamp.tlv.dm.r_txc \
    stamp.tlv.access.id stamp.tlv.access.return_code stamp.tlv.followup.seq \
    stamp.tlv.followup.method ip.dsfield.dscp udp.dstport
i=0
unknown_tos=1
while IFS='|' read -r dir sseq flags dport sport subs dst src tsin tsout d1 d2 ecn rp stxc rrxc rtxc acid acrc fuseq fum ipdscp udst; do
    cosf=0x00
    cos2="46|0|0"
    ipd=10
    # The first replies (at least one) before the reflector knew the TOS: U.
    case $flags in 0x00,0x00,0x00,0x80,*) ;; *) unknown_tos=0 ;; esac
    if [ "$unknown_tos" -eq 1 ]; then
        cosf=0x80 # the TOS was not known yet: U, the reply not marked
        cos2="0|0|0"
        ipd=0 # the responder's own TOS (0)
    fi
    fu="$((i - 1))|2"
    [ "$i" -eq 0 ] && fu="0|0"
    got="$dir|$sseq|$flags|$dport|$sport|$subs|$dst|$src|$tsin|$tsout|$d1|$d2|$ecn|$rp|$stxc|$rrxc|$rtxc|$acid|$acrc|$fuseq|$fum|$ipdscp"
    exp="1|$i|0x00,0x00,0x00,$cosf,0x00,0x00,0x00,0x80|$R|$udst|5,8|$H|$H|2|3|10|$cos2|$((i + 1))|$((i + 1))|$i|1|2|$fu|$ipd"
    [ "$got" = "$exp" ] || fail "Session-Reflector packet $i:$(printf '\n  got      %s\n  expected %s' "$got" "$exp")"
    i=$((i + 1))
done <"$WORK/rfl.tsv"
[ "$i" -eq "$N" ] || fail "$i Session-Reflector packets with every TLV, expected $N"
note "stamp.lua: $N sender and $N reflector packets, every TLV field as expected"

# Authenticated: the 112-octet base, its HMAC, the HMAC TLV last.
shark auth "$A" "udp.port==$A" stamp.direction stamp.authenticated stamp.tlv.type \
    stamp.tlv.flags stamp.tlv.dm.r_rxc
n=0
while IFS='|' read -r dir auth types flags rrxc; do
    case $auth in 1 | True) ;; *) fail "authenticated packet not decoded as such: $auth" ;; esac
    [ "$types" = "3,5,8" ] || fail "authenticated packet TLV types $types, expected 3,5,8"
    if [ "$dir" = 1 ]; then
        [ "$flags" = "0x00,0x00,0x00" ] || fail "authenticated reply TLV flags $flags"
        [ -n "$rrxc" ] && [ "$rrxc" -ge 1 ] || fail "authenticated reply R_RxC '$rrxc'"
    else
        [ "$flags" = "0x80,0x80,0x80" ] || fail "authenticated request TLV flags $flags"
    fi
    n=$((n + 1))
done <"$WORK/auth.tsv"
[ "$n" -eq $((2 * N)) ] || fail "$n authenticated STAMP packets decoded, expected $((2 * N))"
shark amac "$A" "udp.port==$A" stamp.hmac stamp.tlv.hmac
grep -qE '^[0-9a-f]{32}\|[0-9a-f]{32}$' "$WORK/amac.tsv" || fail "no HMAC and HMAC TLV: $(head -n 2 "$WORK/amac.tsv")"
note "stamp.lua: $((2 * N)) authenticated packets as expected"
finish
