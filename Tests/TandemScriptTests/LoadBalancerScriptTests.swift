import Testing
@testable import TandemScript

/// Corpus: a stateful load balancer in front of a server farm. OpenSIPS operators would load
/// `dispatcher` or `load_balancer`; both modules are out of Tandem's scope, so this script does the
/// choice itself: the farm from the database (cached in `cachedb_local`), a slot from an MD5 hash
/// of the Call-ID, and failover round the ring in `failure_route`. It needs nothing Tandem lacks.
let loadBalancerScript = #"""
# Stateful load balancer in front of a media-server farm. OpenSIPS would use the dispatcher or
# load_balancer module; both are out of Tandem's scope, so the choice is made in the script:
# the farm comes from the database, a call sticks to the server picked by a hash of its Call-ID,
# and failure_route moves on to the next server in the ring.
log_level = 3
udp_workers = 4
socket = udp:127.0.0.1:5060

loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "sipmsgops.so"
loadmodule "avpops.so"
loadmodule "cachedb_local.so"
loadmodule "statistics.so"

modparam("avpops", "db_url", "postgres://tandem@127.0.0.1/tandem")
modparam("tm", "fr_timeout", 2)
modparam("tm", "fr_inv_timeout", 20)

route {
    if (!mf_process_maxfwd_header(10)) {
        sl_send_reply(483, "Too Many Hops");
        exit;
    }
    if (has_totag()) {
        if (loose_route()) { t_relay(); exit; }
        if (is_method("ACK") && t_check_trans()) { t_relay(); exit; }
        sl_send_reply(404, "Not here");
        exit;
    }
    if (is_method("CANCEL")) {
        if (t_check_trans()) { t_relay(); }
        exit;
    }
    if (!is_method("INVITE|OPTIONS")) {
        sl_send_reply(405, "Method Not Allowed");
        exit;
    }
    if (is_method("OPTIONS") && $rU == NULL) {
        sl_send_reply(200, "OK");
        exit;
    }
    route(load_farm);
    if ($var(size) == 0) {
        sl_send_reply(503, "No Servers");
        exit;
    }
    # Same Call-ID, same server: the first two hex digits of its MD5 (0..255) pick a slot in the
    # ring ({s.index} of a digit in "0123456789abcdef" is its value).
    $var(md5) = $(ci{s.md5});
    $var(hi) = $(var(md5){s.substr,0,1});
    $var(lo) = $(var(md5){s.substr,1,1});
    $var(hex) = "0123456789abcdef";
    $var(slot) = ($(var(hex){s.index,$var(hi)}) * 16 + $(var(hex){s.index,$var(lo)})) % $var(size);
    $avp(first) := $var(slot);
    $avp(slot) := $var(slot);
    record_route();
    route(relay_to_slot);
}

# The farm, cached for a minute so the database is asked once per worker and minute.
route[load_farm] {
    if (cache_fetch("local", "farm", $var(list))) {
        $var(size) = $(var(list){csv.count});
        return;
    }
    $var(list) = "";
    if (avp_db_query("SELECT uri FROM lb_farm WHERE enabled ORDER BY id", "$avp(srv)")) {
        for ($var(uri) in $(avp(srv)[*])) {
            if ($var(list) != "") { $var(list) = "," + $var(list); }
            $var(list) = $var(uri) + $var(list);
        }
        cache_store("local", "farm", "$var(list)", 60);
    }
    $var(size) = $(var(list){csv.count});
}

route[relay_to_slot] {
    route(load_farm);
    $du = $(var(list){csv.value,$avp(slot)});
    xlog("L_INFO", "$ci -> slot $avp(slot) of $var(size): $du\n");
    update_stat("lb_attempts", "+1");
    t_on_failure("next_server");
    t_relay();
}

failure_route[next_server] {
    if (t_was_cancelled()) {
        exit;
    }
    # Busy, declined or moved: the callee answered, pass it on. A dead or overloaded server: next.
    if (!t_check_status("408|500|503")) {
        exit;
    }
    route(load_farm);
    $avp(slot) := ($avp(slot) + 1) % $var(size);
    if ($avp(slot) == $avp(first)) {
        t_reply(503, "All Servers Failed");
        exit;
    }
    route(relay_to_slot);
}
"""#

@Suite struct LoadBalancerScriptTests {
    @Test func checksClean() throws {
        let r = check(loadBalancerScript, file: "lb.cfg")
        #expect(r.diagnostics.map(\.description) == [])
        #expect(r.missing.migrationReport() == "")
        _ = try #require(r.script)
    }

    /// md5("lb-call-7@client") starts with 0x51 = 81, 81 % 3 = 0: the first server, then the ring.
    @Test func hashPicksSlotAndFailsOverRoundTheRing() throws {
        let script = try #require(check(loadBalancerScript, file: "lb.cfg").script)
        let cache = LocalCache()
        cache.store(collection: "local", key: "farm", value: "sip:10.9.0.1,sip:10.9.0.2,sip:10.9.0.3")
        let msg = TestMessage(ruri: "sip:conf-1@lb.example")
        msg.values[.requestUser] = .string("conf-1")
        msg.values[.callID] = .string("lb-call-7@client")
        let proxy = TestProxy()
        var ctx = ExecutionContext(script: script, message: msg, proxy: proxy, cache: cache)
        _ = script.run(route: script.mainRoute, context: &ctx)
        #expect(msg.values[.destinationURI] == .string("sip:10.9.0.1"))
        #expect(!proxy.calls.contains { $0.hasPrefix("invoke avp_db_query") })
        let failure = try #require(script.route(named: "next_server", kind: .failure))
        msg.values[.replyCode] = .string("503")
        _ = script.run(route: failure, context: &ctx)
        #expect(msg.values[.destinationURI] == .string("sip:10.9.0.2"))
        msg.values[.replyCode] = .string("486")
        _ = script.run(route: failure, context: &ctx)
        #expect(msg.values[.destinationURI] == .string("sip:10.9.0.2"))
        msg.values[.replyCode] = .string("408")
        _ = script.run(route: failure, context: &ctx)
        #expect(msg.values[.destinationURI] == .string("sip:10.9.0.3"))
        _ = script.run(route: failure, context: &ctx)
        #expect(proxy.calls.filter { $0.hasPrefix("t_relay") }.count == 3)
        #expect(proxy.calls.last == "t_reply 503 All Servers Failed")
    }

    /// An empty farm (nothing cached, the query gives nothing) answers 503 without relaying.
    @Test func emptyFarmAnswers503() throws {
        let script = try #require(check(loadBalancerScript, file: "lb.cfg").script)
        let msg = TestMessage(ruri: "sip:conf-1@lb.example")
        msg.values[.requestUser] = .string("conf-1")
        let proxy = TestProxy()
        proxy.invokeResult = -1
        var ctx = ExecutionContext(script: script, message: msg, proxy: proxy)
        _ = script.run(route: script.mainRoute, context: &ctx)
        #expect(proxy.calls.last == "sl_send_reply 503 No Servers")
    }
}
