"""A 10 s freeze of slapd under 200 LDAP searches/s (issue 14 item 6): a private slapd
(scripts/test-servers/slapd.sh on port 23999), the proxy (2 workers, port 19060) answering every MESSAGE with
the `$rc` of one `async(ldap_search(...), done, 1)`, a sender at 200/s for 25 s, slapd SIGSTOPped from 5 s
to 15 s. Prints the outcomes by when the request was sent (before, during, first 5 s after, later).

    python3 Perf/ldap_freeze.py TANDEM_BINARY

Ports 23999 and 19060 must be free. Bounded: 5,000 requests, about 30 s.
"""
import os, socket, subprocess, sys, tempfile, time, threading, collections
BIN = sys.argv[1]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = tempfile.mkdtemp(prefix="tandem-ldap-freeze-")
open(f"{WORK}/ldap.cfg", "w").write("""[people]
ldap_server_url = "ldap://127.0.0.1:23999/"
ldap_bind_dn = "cn=admin,dc=example,dc=com"
ldap_bind_password = "secret"
ldap_network_timeout = 1000
ldap_client_bind_timeout = 1000
""")
open(f"{WORK}/tandem.cfg", "w").write(f"""log_level=1
udp_workers=2
socket=udp:127.0.0.1:19060
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "ldap.so"
modparam("ldap", "config_file", "{WORK}/ldap.cfg")
route {{
    async(ldap_search("ldap://people/ou=people,dc=example,dc=com?uid?sub?(uid=alice)"), done, 1);
}}
route[done] {{
    t_reply(299, "rc=$rc");
}}
""")
ctl = f"TANDEM_TEST_STATE_DIR={WORK}/state TANDEM_TEST_LDAP_PORT=23999 bash {ROOT}/scripts/test-servers/slapd.sh"
subprocess.run(ctl + " start >/dev/null 2>&1", shell=True, check=True)
pid = open(f"{WORK}/state/slapd/pid").read().strip()
proxy = subprocess.Popen([BIN, "run", "-f", f"{WORK}/tandem.cfg"], stderr=open(f"{WORK}/proxy.log", "w"))
time.sleep(1.5)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]
sent = {}; got = {}
stop = False
def rx():
    s.settimeout(0.5)
    while not stop:
        try: d = s.recv(65536)
        except OSError: continue
        if b" 299 " in d[:20]:
            cid = d.split(b"Call-ID: ", 1)[1].split(b"\r", 1)[0].decode()
            got[cid] = d.split(b"\r\n", 1)[0].split(b" ", 2)[2].decode()
threading.Thread(target=rx, daemon=True).start()
RATE, DUR, FREEZE_AT, FREEZE_FOR = 200, 25, 5, 10
t0 = time.monotonic()
frozen = thawed = False
for i in range(RATE * DUR):
    t = t0 + i / RATE
    w = t - time.monotonic()
    if w > 0: time.sleep(w)
    el = time.monotonic() - t0
    if el >= FREEZE_AT and not frozen:
        subprocess.run(f"kill -STOP {pid}", shell=True); frozen = True
    if frozen and not thawed and el >= FREEZE_AT + FREEZE_FOR:
        subprocess.run(f"kill -CONT {pid}", shell=True); thawed = True
    cid = f"lf-{i}"
    sent[cid] = el
    s.sendto((f"MESSAGE sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bKlf{i}\r\n"
              f"From: <sip:a@127.0.0.1>;tag=a{i}\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: {cid}\r\nCSeq: 1 MESSAGE\r\n"
              f"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode(), ("127.0.0.1", 19060))
time.sleep(3); stop = True
windows = {"before": (0, FREEZE_AT), "frozen": (FREEZE_AT, FREEZE_AT + FREEZE_FOR),
           "first 5 s after": (FREEZE_AT + FREEZE_FOR, FREEZE_AT + FREEZE_FOR + 5), "later": (FREEZE_AT + FREEZE_FOR + 5, 99)}
print(f"{BIN}: {RATE} searches/s x {DUR} s, slapd frozen {FREEZE_AT}-{FREEZE_AT+FREEZE_FOR} s (1 s timeout)")
for name, (a, b) in windows.items():
    c = collections.Counter(got.get(cid, "no reply") for cid, el in sent.items() if a <= el < b)
    print(f"  sent {name}: {dict(sorted(c.items()))}")
proxy.terminate(); proxy.wait(10)
subprocess.run(f"kill -CONT {pid}; " + ctl + " stop >/dev/null 2>&1", shell=True)
subprocess.run(["rm", "-rf", WORK])
