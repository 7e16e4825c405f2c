#!/usr/bin/env python3
"""Hostile TWAMP-Control clients for the server's integration tests (loopback only).

  twamp_attack.py hold HOST PORT N
      N TCP connections that send nothing; prints "connected N" once every
      connect() has completed, holds them until SIGTERM or SIGINT, then closes
      them and prints "closed".
  twamp_attack.py lockout HOST PORT [--idle N] [--slow N] [--garbage N]
                  [--sources FIRST:COUNT]
      idle: connect and send nothing; slow: send a Set-Up-Response one octet a
      second; garbage: send 164 random octets. Every one reconnects 50 ms after
      the server closes it. Source addresses cycle over COUNT addresses from
      FIRST (default 127.0.1.1:20). Prints "ready" once every slot has had a
      greeting; on SIGTERM prints its counters and exits 0.
  twamp_attack.py orphans HOST PORT [--conns N] [--sessions N] [--timeout SEC]
                  [--sources FIRST:COUNT]
      N short connections one after the other: each requests SESSIONS test
      sessions with that Timeout, starts them and closes without
      Stop-Sessions. Prints "accepted A refused R" (R: Accept 5).
  twamp_attack.py stopburst HOST PORT [--conns N] [--sessions N] [--rounds N]
                  [--bursts N] [--sources FIRST:COUNT]
      N connections of SESSIONS sessions with Timeout 0, started (sources
      cycling over COUNT addresses from FIRST, default 127.0.0.1:1); packets
      to every session without a pause (at least BURSTS times) while
      Stop-Sessions goes out on every connection at once: every session's
      timer expires in the same loop round as pending packet events. Prints
      "round K: S sessions stopped".

Message layouts: RFC 4656 section 3, RFC 5357 section 3 (open mode only).
Exit status: 0, 1 on a failed expectation (a line on stderr says which), 2 usage.
"""
import argparse
import ipaddress
import os
import random
import selectors
import signal
import socket
import struct
import sys
import threading
import time

GREETING, SETUP, SERVER_START, REQUEST, ACCEPT, START, START_ACK, STOP = (
    64, 164, 48, 112, 48, 32, 32, 32)


def fail(msg):
    print(f"twamp_attack: FAIL: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def loopback(host):
    try:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError
    except ValueError:
        print(f"twamp_attack: usage error: {host} is not a loopback address", file=sys.stderr)
        sys.exit(2)
    return host


def sources(spec):
    first, _, count = spec.partition(":")
    base = ipaddress.IPv4Address(loopback(first))
    return [str(base + i) for i in range(int(count or "1"))]


def recv_exact(s, n, what, timeout=10.0):
    s.settimeout(timeout)
    buf = b""
    while len(buf) < n:
        try:
            chunk = s.recv(n - len(buf))
        except socket.timeout:
            fail(f"no {what} within {timeout} s ({len(buf)} of {n} octets)")
        if not chunk:
            fail(f"the server closed the connection before the {what} ({len(buf)} of {n} octets)")
        buf += chunk
    return buf


def setup_response(mode=1):
    return struct.pack("!I", mode) + bytes(SETUP - 4)


def request_session(sender_port, timeout_s, receiver_port=0):
    m = bytearray(REQUEST)
    m[0] = 5  # Request-TW-Session
    m[1] = 4  # IPVN
    struct.pack_into("!HH", m, 12, sender_port, receiver_port)
    struct.pack_into("!I", m, 64, 0)  # padding
    now = int(time.time()) + 2208988800
    struct.pack_into("!II", m, 68, now, 0)  # Start Time
    struct.pack_into("!Q", m, 76, int(timeout_s * (1 << 32)))  # Timeout
    return bytes(m)


def control(host, port, src=None):
    """A connection with open mode set up (Server-Start Accept 0)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if src:
        s.bind((src, 0))
    s.connect((host, port))
    g = recv_exact(s, GREETING, "Server Greeting")
    modes = struct.unpack_from("!I", g, 12)[0]
    if not modes & 1:
        fail(f"the greeting offers modes {modes}, not open")
    s.sendall(setup_response(1))
    st = recv_exact(s, SERVER_START, "Server-Start")
    if st[15] != 0:
        fail(f"Server-Start Accept {st[15]}")
    return s


# ---- hold --------------------------------------------------------------------

def cmd_hold(a):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    socks = []
    for _ in range(a.n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect((a.host, a.port))  # completes from the listen queue
        socks.append(s)
    print(f"connected {len(socks)}", flush=True)
    while not stop:
        signal.pause()
    for s in socks:
        s.close()
    print("closed", flush=True)


# ---- lockout ------------------------------------------------------------------

class Slot:
    def __init__(self, kind, src):
        self.kind, self.src = kind, src
        self.sock = None
        self.greeted = False  # this connection has had its greeting
        self.rx = b""
        self.sent = 0
        self.next_at = 0.0  # reconnect, or the slow client's next octet
        self.ever = False   # had a greeting once


def cmd_lockout(a):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    srcs = sources(a.sources)
    kinds = ["idle"] * a.idle + ["slow"] * a.slow + ["garbage"] * a.garbage
    slots = [Slot(k, srcs[i % len(srcs)]) for i, k in enumerate(kinds)]
    sel = selectors.DefaultSelector()
    ctr = {"connects": 0, "greetings": 0, "refused": 0, "closed": 0}
    garbage = bytearray(random.getrandbits(8) for _ in range(SETUP))
    struct.pack_into("!I", garbage, 0, 0xFFFFFFFF)  # never a mode the server offers
    slow_msg = setup_response(1)
    ready = False

    def drop(sl, now):
        if sl.sock:
            sel.unregister(sl.sock)
            sl.sock.close()
        sl.sock = None
        sl.next_at = now + 0.05

    def connect(sl):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((sl.src, 0))
        try:
            s.connect((a.host, a.port))
        except BlockingIOError:
            pass
        sl.sock, sl.greeted, sl.rx, sl.sent = s, False, b"", 0
        sel.register(s, selectors.EVENT_READ, sl)
        ctr["connects"] += 1

    while not stop:
        now = time.monotonic()
        for sl in slots:
            if sl.sock is None and now >= sl.next_at:
                connect(sl)
            elif sl.kind == "slow" and sl.greeted and sl.sent < SETUP and now >= sl.next_at:
                try:
                    sl.sock.send(slow_msg[sl.sent:sl.sent + 1])
                    sl.sent += 1
                except OSError:
                    pass
                sl.next_at = now + 1.0
        for key, _ in sel.select(timeout=0.05):
            sl = key.data
            try:
                data = sl.sock.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            now = time.monotonic()
            if not data:
                ctr["closed"] += 1
                drop(sl, now)
                continue
            sl.rx += data
            if not sl.greeted and len(sl.rx) >= GREETING:
                sl.greeted, sl.ever = True, True
                modes = struct.unpack_from("!I", sl.rx, 12)[0]
                ctr["greetings" if modes else "refused"] += 1
                sl.rx = sl.rx[GREETING:]
                if sl.kind == "garbage" and modes:
                    try:
                        sl.sock.send(bytes(garbage))
                    except OSError:
                        pass
                sl.next_at = now + 1.0
        if not ready and all(sl.ever for sl in slots):
            ready = True
            print(f"ready: {len(slots)} attackers from {len(srcs)} addresses", flush=True)
    for sl in slots:
        if sl.sock:
            sl.sock.close()
    print("attack: " + " ".join(f"{k} {v}" for k, v in ctr.items()), flush=True)


# ---- orphans ------------------------------------------------------------------

def cmd_orphans(a):
    srcs = sources(a.sources) if a.sources else [None]
    accepted = refused = 0
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((a.host, 0))
    sport = udp.getsockname()[1]
    for i in range(a.conns):
        s = control(a.host, a.port, srcs[i % len(srcs)])
        for _ in range(a.sessions):
            s.sendall(request_session(sport, a.timeout))
            acc = recv_exact(s, ACCEPT, "Accept-Session")
            if acc[0] == 0:
                accepted += 1
            elif acc[0] == 5:
                refused += 1
            else:
                fail(f"Accept-Session Accept {acc[0]}")
        s.sendall(bytes([2]) + bytes(START - 1))
        ack = recv_exact(s, START_ACK, "Start-Ack")
        if ack[0] != 0:
            fail(f"Start-Ack Accept {ack[0]}")
        s.close()  # no Stop-Sessions: the sessions are orphans
    print(f"accepted {accepted} refused {refused}", flush=True)


# ---- stopburst ------------------------------------------------------------------

def cmd_stopburst(a):
    srcs = sources(a.sources)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((a.host, 0))
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sport = udp.getsockname()[1]
    pkt = bytes(41)
    for rnd in range(1, a.rounds + 1):
        conns, ports = [], []
        for i in range(a.conns):
            s = control(a.host, a.port, srcs[i % len(srcs)])
            for _ in range(a.sessions):
                s.sendall(request_session(sport, 0))
                acc = recv_exact(s, ACCEPT, "Accept-Session")
                if acc[0] != 0:
                    fail(f"round {rnd}: Accept-Session Accept {acc[0]}")
                ports.append(struct.unpack_from("!H", acc, 2)[0])
            s.sendall(bytes([2]) + bytes(START - 1))
            if recv_exact(s, START_ACK, "Start-Ack")[0] != 0:
                fail(f"round {rnd}: Start-Ack refused")
            conns.append(s)
        stop = bytes([3]) + bytes(3) + struct.pack("!I", a.sessions) + bytes(STOP - 8)
        # Packets to every session without a pause, from before Stop-Sessions
        # on every connection until after: whenever the timers expire, events
        # are pending for reflectors they close.
        done = threading.Event()

        def flood():
            n = 0
            while not done.is_set() or n < a.bursts:
                for p in ports:
                    try:
                        udp.sendto(pkt, (a.host, p))
                    except OSError:
                        pass
                n += 1

        t = threading.Thread(target=flood)
        t.start()
        time.sleep(0.01)
        for s in conns:
            s.sendall(stop)
        time.sleep(0.05)
        done.set()
        t.join()
        for s in conns:
            s.close()
        print(f"round {rnd}: {len(ports)} sessions stopped", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("hold", "lockout", "orphans", "stopburst"):
        p = sub.add_parser(name)
        p.add_argument("host", type=loopback)
        p.add_argument("port", type=int)
        if name == "hold":
            p.add_argument("n", type=int)
        if name == "lockout":
            p.add_argument("--idle", type=int, default=100)
            p.add_argument("--slow", type=int, default=20)
            p.add_argument("--garbage", type=int, default=20)
            p.add_argument("--sources", default="127.0.1.1:20")
        if name in ("orphans", "stopburst"):
            p.add_argument("--conns", type=int, default=5 if name == "stopburst" else 64)
            p.add_argument("--sessions", type=int, default=16)
        if name == "orphans":
            p.add_argument("--timeout", type=float, default=86400)
            p.add_argument("--sources", default="")
        if name == "stopburst":
            p.add_argument("--rounds", type=int, default=3)
            p.add_argument("--bursts", type=int, default=10)
            p.add_argument("--sources", default="127.0.0.1:1")
    a = ap.parse_args()
    {"hold": cmd_hold, "lockout": cmd_lockout, "orphans": cmd_orphans,
     "stopburst": cmd_stopburst}[a.cmd](a)


if __name__ == "__main__":
    main()
