#!/usr/bin/python3
"""Benchmark driver: python-fido2 0.9 against a CTAPHID-over-UDP key (`ctap virtual serve --udp`).

Driven by bench/clients.ts over stdin/stdout, one command per line, one answer per line:

  setup                 -> "ok"             (makes the credential getAssertion uses)
  run OP N              -> "ok CPU US US ..." (CPU: this process's CPU time over the N calls, then
                           N timings, all in microseconds) | "unsupported" | "err MESSAGE"
  quit                  -> exits

OP is getInfo, ping1k, ping7k, makeCredential or getAssertion. Each timing covers the
client's whole call (request encoding, CTAPHID framing, UDP I/O, response parsing) and
nothing else; the time spent talking to bench/clients.ts is not measured.
It prints "ready python-fido2 VERSION" once attached (CTAPHID_INIT done).

Uses the CTAP2 layer (fido2.ctap2.Ctap2), not Fido2Client, so every client in the
benchmark does the same work: no client data JSON, no attestation verification.

Usage: pyfido2_bench.py HOST PORT
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))

import fido2  # noqa: E402
from fido2.ctap2 import Ctap2  # noqa: E402
from udp_hid import open_device  # noqa: E402  (one 64-byte report per datagram)

RP = {"id": "bench.example.com", "name": "Bench RP"}
USER = {"id": b"bench-user-python", "name": "bench", "displayName": "Bench"}
ES256 = [{"type": "public-key", "alg": -7}]
CDH = bytes(range(32))
PING = {"ping1k": bytes(i & 0xFF for i in range(1024)), "ping7k": bytes(i & 0xFF for i in range(7168))}


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    dev = open_device(host, port)
    ctap2 = Ctap2(dev)
    allow = None

    def op_get_info():
        ctap2.get_info()

    def op_make_credential():
        ctap2.make_credential(CDH, RP, USER, ES256)

    def op_get_assertion():
        ctap2.get_assertion(RP["id"], CDH, allow_list=allow)

    def ping(data):
        def op():
            if dev.ping(data) != data:
                raise ValueError("PING echo differs")
        return op

    ops = {
        "getInfo": op_get_info,
        "makeCredential": op_make_credential,
        "getAssertion": op_get_assertion,
        "ping1k": ping(PING["ping1k"]),
        "ping7k": ping(PING["ping7k"]),
    }
    out = sys.stdout
    out.write("ready python-fido2 %s\n" % fido2.__version__)
    out.flush()
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            if words[0] == "quit":
                break
            if words[0] == "setup":
                att = ctap2.make_credential(CDH, RP, USER, ES256)
                cred_id = att.auth_data.credential_data.credential_id
                allow = [{"type": "public-key", "id": cred_id}]
                out.write("ok\n")
            elif words[0] == "run":
                fn = ops.get(words[1])
                if fn is None:
                    out.write("unsupported\n")
                else:
                    n = int(words[2])
                    samples = []
                    clock = time.perf_counter_ns
                    cpu0 = time.process_time_ns()
                    for _ in range(n):
                        t0 = clock()
                        fn()
                        samples.append(clock() - t0)
                    cpu = time.process_time_ns() - cpu0
                    out.write("ok %.1f " % (cpu / 1000.0) + " ".join("%.1f" % (s / 1000.0) for s in samples) + "\n")
            else:
                out.write("err unknown command %r\n" % words[0])
        except Exception as e:  # reported to the runner, which stops this client
            out.write("err %s: %s\n" % (type(e).__name__, str(e).replace("\n", " ")))
        out.flush()


if __name__ == "__main__":
    main()
