-- stamp.lua: a Wireshark / tshark dissector for STAMP, the Simple Two-way
-- Active Measurement Protocol (RFC 8762), with the Session Identifier and
-- every TLV of RFC 8972 (and the names of RFC 9503's Destination Node Address
-- and Return Path TLVs). Wireshark 4.0 decodes TWAMP but not STAMP.
--
-- Use:  tshark -X lua_script:contrib/wireshark/stamp.lua -r cap.pcapng
--       wireshark -X lua_script:contrib/wireshark/stamp.lua
-- or copy it into ~/.local/lib/wireshark/plugins/.
--
-- Preferences (Edit > Preferences > Protocols > STAMP, or -o stamp.port:N):
--   stamp.port  the UDP port of the Session-Reflector (default 862): a packet
--               sent to it is a Session-Sender packet, one sent from it a
--               Session-Reflector packet;
--   stamp.mode  auto, unauthenticated or authenticated. auto: authenticated
--               when the packet has at least 112 octets and its octets 4..15
--               are zero (the unauthenticated format has its Timestamp
--               there; the authenticated one MBZ, RFC 8762 §4.2.2).
--
-- Layouts (RFC 8762 §4.2.1, §4.2.2, §4.3.1, §4.3.2; RFC 8972 §3, §4.1-§4.8):
-- sender unauthenticated Seq(4) Timestamp(8) ErrEst(2) SSID(2) MBZ(28) TLVs;
-- reflector unauthenticated Seq(4) Timestamp(8) ErrEst(2) SSID(2) RxTimestamp(8)
-- SenderSeq(4) SenderTimestamp(8) SenderErrEst(2) MBZ(2) SenderTTL(1) MBZ(3) TLVs;
-- authenticated: Seq(4) MBZ(12) Timestamp(8) ErrEst(2) SSID(2) ... HMAC(16) at
-- 96, TLVs from 112. TLV: Flags(1: U M I and 5 reserved bits) Type(1)
-- Length(2) Value.

local stamp = Proto("stamp", "Simple Two-way Active Measurement Protocol (STAMP)")

local p = stamp.prefs
p.port = Pref.uint("UDP port", 862, "The Session-Reflector's UDP port")
local MODES = { { 1, "auto", 0 }, { 2, "unauthenticated", 1 }, { 3, "authenticated", 2 } }
p.mode = Pref.enum("Mode", 0, "Unauthenticated or authenticated STAMP", MODES, false)

local tlv_types = {
    [0] = "Reserved",
    [1] = "Extra Padding",
    [2] = "Location",
    [3] = "Timestamp Information",
    [4] = "Class of Service",
    [5] = "Direct Measurement",
    [6] = "Access Report",
    [7] = "Follow-Up Telemetry",
    [8] = "HMAC",
    [9] = "Destination Node Address",
    [10] = "Return Path",
}
local sub_types = {
    [1] = "Source MAC Address",
    [2] = "Source EUI-48 Address",
    [3] = "Source EUI-64 Address",
    [4] = "Destination IP Address",
    [5] = "Destination IPv4 Address",
    [6] = "Destination IPv6 Address",
    [7] = "Source IP Address",
    [8] = "Source IPv4 Address",
    [9] = "Source IPv6 Address",
}
local sync_sources = { [1] = "NTP", [2] = "PTP", [3] = "SSU/BITS", [4] = "GNSS", [5] = "Local free-running" }
local ts_methods = { [1] = "HW Assist", [2] = "SW Local", [3] = "Control Plane" }
local access_ids = { [1] = "3GPP Network", [2] = "Non-3GPP Network" }
local return_codes = { [1] = "Network available", [2] = "Network unavailable" }
local directions = { [0] = "Session-Sender", [1] = "Session-Reflector" }

local f = {
    direction = ProtoField.uint8("stamp.direction", "Direction", base.DEC, directions),
    authenticated = ProtoField.bool("stamp.authenticated", "Authenticated"),
    seq = ProtoField.uint32("stamp.seq", "Sequence Number"),
    timestamp = ProtoField.uint64("stamp.timestamp", "Timestamp", base.HEX),
    errest = ProtoField.uint16("stamp.errest", "Error Estimate", base.HEX),
    errest_s = ProtoField.bool("stamp.errest.s", "S (synchronized)", 16, nil, 0x8000),
    errest_z = ProtoField.uint16("stamp.errest.z", "Z (0 NTP, 1 PTP)", base.DEC, nil, 0x4000),
    errest_scale = ProtoField.uint16("stamp.errest.scale", "Scale", base.DEC, nil, 0x3f00),
    errest_mult = ProtoField.uint16("stamp.errest.multiplier", "Multiplier", base.DEC, nil, 0x00ff),
    ssid = ProtoField.uint16("stamp.ssid", "SSID"),
    mbz = ProtoField.bytes("stamp.mbz", "MBZ"),
    rx_timestamp = ProtoField.uint64("stamp.rx_timestamp", "Receive Timestamp", base.HEX),
    sender_seq = ProtoField.uint32("stamp.sender_seq", "Session-Sender Sequence Number"),
    sender_timestamp = ProtoField.uint64("stamp.sender_timestamp", "Session-Sender Timestamp", base.HEX),
    sender_errest = ProtoField.uint16("stamp.sender_errest", "Session-Sender Error Estimate", base.HEX),
    sender_ttl = ProtoField.uint8("stamp.sender_ttl", "Session-Sender TTL"),
    hmac = ProtoField.bytes("stamp.hmac", "HMAC"),

    tlv = ProtoField.bytes("stamp.tlv", "TLV"),
    tlv_flags = ProtoField.uint8("stamp.tlv.flags", "Flags", base.HEX),
    tlv_u = ProtoField.bool("stamp.tlv.flags.u", "U (unrecognized)", 8, nil, 0x80),
    tlv_m = ProtoField.bool("stamp.tlv.flags.m", "M (malformed)", 8, nil, 0x40),
    tlv_i = ProtoField.bool("stamp.tlv.flags.i", "I (integrity check failed)", 8, nil, 0x20),
    tlv_r = ProtoField.uint8("stamp.tlv.flags.reserved", "Reserved", base.HEX, nil, 0x1f),
    tlv_type = ProtoField.uint8("stamp.tlv.type", "Type", base.DEC, tlv_types),
    tlv_len = ProtoField.uint16("stamp.tlv.length", "Length"),
    tlv_value = ProtoField.bytes("stamp.tlv.value", "Value"),

    padding = ProtoField.bytes("stamp.tlv.padding", "Extra Padding"),
    loc_dport = ProtoField.uint16("stamp.tlv.location.dport", "Destination Port"),
    loc_sport = ProtoField.uint16("stamp.tlv.location.sport", "Source Port"),
    sub_flags = ProtoField.uint8("stamp.tlv.location.sub.flags", "Sub-TLV Flags", base.HEX),
    sub_type = ProtoField.uint8("stamp.tlv.location.sub.type", "Sub-TLV Type", base.DEC, sub_types),
    sub_len = ProtoField.uint16("stamp.tlv.location.sub.length", "Sub-TLV Length"),
    loc_mac = ProtoField.bytes("stamp.tlv.location.mac", "MAC / EUI field"),
    loc_dst4 = ProtoField.ipv4("stamp.tlv.location.dst_ipv4", "Destination IPv4 Address"),
    loc_dst6 = ProtoField.ipv6("stamp.tlv.location.dst_ipv6", "Destination IPv6 Address"),
    loc_src4 = ProtoField.ipv4("stamp.tlv.location.src_ipv4", "Source IPv4 Address"),
    loc_src6 = ProtoField.ipv6("stamp.tlv.location.src_ipv6", "Source IPv6 Address"),
    loc_ip = ProtoField.bytes("stamp.tlv.location.ip", "IP Address field (asked for)"),
    ts_sync_in = ProtoField.uint8("stamp.tlv.tsinfo.sync_in", "Sync Src In", base.DEC, sync_sources),
    ts_in = ProtoField.uint8("stamp.tlv.tsinfo.ts_in", "Timestamp In", base.DEC, ts_methods),
    ts_sync_out = ProtoField.uint8("stamp.tlv.tsinfo.sync_out", "Sync Src Out", base.DEC, sync_sources),
    ts_out = ProtoField.uint8("stamp.tlv.tsinfo.ts_out", "Timestamp Out", base.DEC, ts_methods),
    cos_dscp1 = ProtoField.uint16("stamp.tlv.cos.dscp1", "DSCP1", base.DEC, nil, 0xfc00),
    cos_dscp2 = ProtoField.uint16("stamp.tlv.cos.dscp2", "DSCP2", base.DEC, nil, 0x03f0),
    cos_ecn = ProtoField.uint16("stamp.tlv.cos.ecn", "ECN", base.DEC, nil, 0x000c),
    cos_rp = ProtoField.uint16("stamp.tlv.cos.rp", "RP", base.DEC, nil, 0x0003),
    cos_reserved = ProtoField.uint16("stamp.tlv.cos.reserved", "Reserved", base.HEX),
    dm_s_txc = ProtoField.uint32("stamp.tlv.dm.s_txc", "Session-Sender Tx counter (S_TxC)"),
    dm_r_rxc = ProtoField.uint32("stamp.tlv.dm.r_rxc", "Session-Reflector Rx counter (R_RxC)"),
    dm_r_txc = ProtoField.uint32("stamp.tlv.dm.r_txc", "Session-Reflector Tx counter (R_TxC)"),
    ac_id = ProtoField.uint8("stamp.tlv.access.id", "Access ID", base.DEC, access_ids, 0xf0),
    ac_resv = ProtoField.uint8("stamp.tlv.access.resv", "Resv", base.HEX, nil, 0x0f),
    ac_rc = ProtoField.uint8("stamp.tlv.access.return_code", "Return Code", base.DEC, return_codes),
    fu_seq = ProtoField.uint32("stamp.tlv.followup.seq", "Sequence Number"),
    fu_ts = ProtoField.uint64("stamp.tlv.followup.timestamp", "Follow-Up Timestamp", base.HEX),
    fu_method = ProtoField.uint8("stamp.tlv.followup.method", "Timestamp M", base.DEC, ts_methods),
    hmac_tlv = ProtoField.bytes("stamp.tlv.hmac", "HMAC"),
    dna4 = ProtoField.ipv4("stamp.tlv.dna.ipv4", "Destination Node IPv4 Address"),
    dna6 = ProtoField.ipv6("stamp.tlv.dna.ipv6", "Destination Node IPv6 Address"),
    rpath = ProtoField.bytes("stamp.tlv.return_path", "Return Path sub-TLVs"),
}
stamp.fields = f

local ef_malformed = ProtoExpert.new("stamp.tlv.malformed", "Malformed TLV", expert.group.MALFORMED,
    expert.severity.ERROR)
local ef_length = ProtoExpert.new("stamp.tlv.bad_length", "TLV Length not valid for its type",
    expert.group.PROTOCOL, expert.severity.WARN)
local ef_short = ProtoExpert.new("stamp.short", "Shorter than the STAMP base packet",
    expert.group.MALFORMED, expert.severity.WARN)
stamp.experts = { ef_malformed, ef_length, ef_short }

-- Fixed Value lengths (RFC 8972 §4.3-§4.8); Location: at least 4 (§4.2).
local fixed_len = { [3] = 4, [4] = 4, [5] = 12, [6] = 4, [7] = 16, [8] = 16 }

local function errest(tree, field, tvb)
    local t = tree:add(field, tvb)
    t:add(f.errest_s, tvb)
    t:add(f.errest_z, tvb)
    t:add(f.errest_scale, tvb)
    t:add(f.errest_mult, tvb)
end

local function location(tree, v)
    local len = v:len()
    tree:add(f.loc_dport, v(0, 2))
    tree:add(f.loc_sport, v(2, 2))
    local pos = 4
    while pos < len do
        if len - pos < 4 then
            tree:add_proto_expert_info(ef_malformed, "truncated sub-TLV header")
            return
        end
        local st = v(pos + 1, 1):uint()
        local sl = v(pos + 2, 2):uint()
        if sl > len - pos - 4 then
            tree:add_proto_expert_info(ef_malformed, "sub-TLV value past the TLV")
            return
        end
        local s = tree:add(stamp, v(pos, 4 + sl), "Sub-TLV: " .. (sub_types[st] or ("type " .. st)))
        s:add(f.sub_flags, v(pos, 1))
        s:add(f.tlv_u, v(pos, 1))
        s:add(f.tlv_m, v(pos, 1))
        s:add(f.tlv_i, v(pos, 1))
        s:add(f.sub_type, v(pos + 1, 1))
        s:add(f.sub_len, v(pos + 2, 2))
        if sl > 0 then
            local sv = v(pos + 4, sl)
            if (st == 5 or st == 8) and sl >= 4 then
                s:add(st == 5 and f.loc_dst4 or f.loc_src4, sv(0, 4))
            elseif (st == 6 or st == 9) and sl >= 16 then
                s:add(st == 6 and f.loc_dst6 or f.loc_src6, sv(0, 16))
            elseif st >= 1 and st <= 3 then
                s:add(f.loc_mac, sv)
            else
                s:add(f.loc_ip, sv)
            end
        end
        pos = pos + 4 + sl
    end
end

local function tlv_value(tree, ty, v)
    local len = v:len()
    if ty == 1 then
        tree:add(f.padding, v)
    elseif ty == 2 and len >= 4 then
        location(tree, v)
    elseif ty == 3 and len >= 4 then
        tree:add(f.ts_sync_in, v(0, 1))
        tree:add(f.ts_in, v(1, 1))
        tree:add(f.ts_sync_out, v(2, 1))
        tree:add(f.ts_out, v(3, 1))
    elseif ty == 4 and len >= 4 then
        tree:add(f.cos_dscp1, v(0, 2))
        tree:add(f.cos_dscp2, v(0, 2))
        tree:add(f.cos_ecn, v(0, 2))
        tree:add(f.cos_rp, v(0, 2))
        tree:add(f.cos_reserved, v(2, 2))
    elseif ty == 5 and len >= 12 then
        tree:add(f.dm_s_txc, v(0, 4))
        tree:add(f.dm_r_rxc, v(4, 4))
        tree:add(f.dm_r_txc, v(8, 4))
    elseif ty == 6 and len >= 4 then
        tree:add(f.ac_id, v(0, 1))
        tree:add(f.ac_resv, v(0, 1))
        tree:add(f.ac_rc, v(1, 1))
    elseif ty == 7 and len >= 16 then
        tree:add(f.fu_seq, v(0, 4))
        tree:add(f.fu_ts, v(4, 8))
        tree:add(f.fu_method, v(12, 1))
    elseif ty == 8 and len >= 16 then
        tree:add(f.hmac_tlv, v(0, 16))
    elseif ty == 9 and len == 4 then
        tree:add(f.dna4, v)
    elseif ty == 9 and len == 16 then
        tree:add(f.dna6, v)
    elseif ty == 10 then
        tree:add(f.rpath, v)
    elseif len > 0 then
        tree:add(f.tlv_value, v)
    end
end

local function tlvs(tvb, off, tree)
    local len = tvb:len()
    local n = 0
    while off < len do
        if len - off < 4 then
            local t = tree:add(f.tlv, tvb(off))
            t:add_proto_expert_info(ef_malformed, "truncated TLV header")
            return n
        end
        local ty = tvb(off + 1, 1):uint()
        local vl = tvb(off + 2, 2):uint()
        local have = math.min(vl, len - off - 4)
        local t = tree:add(f.tlv, tvb(off, 4 + have))
        t:set_text("TLV: " .. (tlv_types[ty] or ("type " .. ty)) .. ", length " .. vl)
        local fl = t:add(f.tlv_flags, tvb(off, 1))
        fl:add(f.tlv_u, tvb(off, 1))
        fl:add(f.tlv_m, tvb(off, 1))
        fl:add(f.tlv_i, tvb(off, 1))
        fl:add(f.tlv_r, tvb(off, 1))
        t:add(f.tlv_type, tvb(off + 1, 1))
        t:add(f.tlv_len, tvb(off + 2, 2))
        n = n + 1
        if vl > len - off - 4 then
            t:add_proto_expert_info(ef_malformed, "value runs past the end of the packet")
            return n
        end
        if (fixed_len[ty] and vl ~= fixed_len[ty]) or (ty == 2 and vl < 4) then
            t:add_proto_expert_info(ef_length)
            if vl > 0 then
                t:add(f.tlv_value, tvb(off + 4, vl))
            end
        elseif vl > 0 then
            tlv_value(t, ty, tvb(off + 4, vl))
        elseif ty == 1 then
            t:add(f.padding, tvb(off + 4, 0))
        end
        off = off + 4 + vl
    end
    return n
end

local function is_auth(tvb)
    if p.mode == 1 then
        return false
    elseif p.mode == 2 then
        return true
    end
    if tvb:len() < 112 then
        return false
    end
    for i = 4, 15 do
        if tvb(i, 1):uint() ~= 0 then
            return false
        end
    end
    return true
end

function stamp.dissector(tvb, pinfo, tree)
    local len = tvb:len()
    if len < 14 then
        return 0
    end
    pinfo.cols.protocol = "STAMP"
    local reflector = pinfo.src_port == p.port and pinfo.dst_port ~= p.port
    local auth = is_auth(tvb)
    local root = tree:add(stamp, tvb(), "STAMP " .. (reflector and "Session-Reflector" or "Session-Sender") ..
        (auth and " (authenticated)" or ""))
    root:add(f.direction, reflector and 1 or 0):set_generated()
    root:add(f.authenticated, auth):set_generated()
    local base = auth and 112 or 44
    if len < base then
        root:add_proto_expert_info(ef_short)
    end
    local function has(o, n)
        return o + n <= len
    end
    root:add(f.seq, tvb(0, 4))
    if auth then
        if has(4, 12) then root:add(f.mbz, tvb(4, 12)) end
        if has(16, 8) then root:add(f.timestamp, tvb(16, 8)) end
        if has(24, 2) then errest(root, f.errest, tvb(24, 2)) end
        if has(26, 2) then root:add(f.ssid, tvb(26, 2)) end
        if reflector then
            if has(28, 4) then root:add(f.mbz, tvb(28, 4)) end
            if has(32, 8) then root:add(f.rx_timestamp, tvb(32, 8)) end
            if has(40, 8) then root:add(f.mbz, tvb(40, 8)) end
            if has(48, 4) then root:add(f.sender_seq, tvb(48, 4)) end
            if has(52, 12) then root:add(f.mbz, tvb(52, 12)) end
            if has(64, 8) then root:add(f.sender_timestamp, tvb(64, 8)) end
            if has(72, 2) then errest(root, f.sender_errest, tvb(72, 2)) end
            if has(74, 6) then root:add(f.mbz, tvb(74, 6)) end
            if has(80, 1) then root:add(f.sender_ttl, tvb(80, 1)) end
            if has(81, 15) then root:add(f.mbz, tvb(81, 15)) end
        elseif has(28, 68) then
            root:add(f.mbz, tvb(28, 68))
        end
        if has(96, 16) then root:add(f.hmac, tvb(96, 16)) end
    else
        root:add(f.timestamp, tvb(4, 8))
        errest(root, f.errest, tvb(12, 2))
        if has(14, 2) then root:add(f.ssid, tvb(14, 2)) end
        if reflector then
            if has(16, 8) then root:add(f.rx_timestamp, tvb(16, 8)) end
            if has(24, 4) then root:add(f.sender_seq, tvb(24, 4)) end
            if has(28, 8) then root:add(f.sender_timestamp, tvb(28, 8)) end
            if has(36, 2) then errest(root, f.sender_errest, tvb(36, 2)) end
            if has(38, 2) then root:add(f.mbz, tvb(38, 2)) end
            if has(40, 1) then root:add(f.sender_ttl, tvb(40, 1)) end
            if has(41, 3) then root:add(f.mbz, tvb(41, 3)) end
        elseif has(16, 28) then
            root:add(f.mbz, tvb(16, 28))
        end
    end
    local n = 0
    if len > base then
        n = tlvs(tvb, base, root)
    end
    pinfo.cols.info = string.format("%s Seq=%u%s%s", reflector and "Reflector" or "Sender",
        tvb(0, 4):uint(), auth and " auth" or "", n > 0 and (" TLVs=" .. n) or "")
    return len
end

local registered = nil
function stamp.prefs_changed()
    local udp = DissectorTable.get("udp.port")
    if registered then
        udp:remove(registered, stamp)
    end
    registered = p.port
    udp:add(registered, stamp)
end
DissectorTable.get("udp.port"):add(p.port, stamp)
registered = p.port
