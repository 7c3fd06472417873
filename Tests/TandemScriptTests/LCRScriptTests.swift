import Testing
@testable import TandemScript

/// Corpus: an LCR/trunking proxy written as an operator would for OpenSIPS 3.6 without the
/// drouting module: the longest number prefix picks gateways through `avp_db_query`, and
/// `failure_route` walks them in order (serial failover). Everything it uses exists in Tandem.
let lcrScript = #"""
# LCR / trunking proxy: the longest matching number prefix picks a carrier list from the
# database (avp_db_query, no drouting), the gateways are tried in order from failure_route.
log_level = 3
udp_workers = 4
socket = udp:127.0.0.1:5060

loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "sipmsgops.so"
loadmodule "textops.so"
loadmodule "avpops.so"
loadmodule "cfgutils.so"

modparam("avpops", "db_url", "postgres://tandem@127.0.0.1/tandem")
modparam("tm", "fr_inv_timeout", 30)
modparam("tm", "fr_timeout", 4)

route {
    if (!mf_process_maxfwd_header(10)) {
        sl_send_reply(483, "Too Many Hops");
        exit;
    }
    if (has_totag()) {
        if (loose_route()) {
            t_relay();
        } else if (is_method("ACK")) {
            if (t_check_trans()) { t_relay(); }
        } else {
            sl_send_reply(404, "Not here");
        }
        exit;
    }
    if (is_method("CANCEL")) {
        if (t_check_trans()) { t_relay(); }
        exit;
    }
    if (!is_method("INVITE")) {
        sl_send_reply(405, "Method Not Allowed");
        exit;
    }
    # Only our SBCs may send calls.
    if (!($si == 10.20.0.0/16 || $si == 192.0.2.17)) {
        sl_send_reply(403, "Forbidden");
        exit;
    }
    route(normalise);
    record_route();
    # One row per gateway of the carriers whose prefix matches. AVP values stack (the last row
    # read is index 0), so the query returns the best route last: longest prefix, then cheapest.
    $var(q) = "SELECT g.uri FROM lcr_prefix p JOIN lcr_gw g ON g.carrier = p.carrier WHERE '" + $rU +
        "' LIKE p.prefix || '%' ORDER BY length(p.prefix) ASC, g.cost DESC";
    if (!avp_db_query($var(q), "$avp(gw)")) {
        sl_send_reply(404, "No Route");
        exit;
    }
    $avp(tries) := 0;
    route(next_gw);
}

route[normalise] {
    # 00 international and national 0 to E.164.
    if ($(rU{s.substr,0,2}) == "00") {
        $rU = "+" + $(rU{s.substr,2,0});
    } else if ($(rU{s.substr,0,1}) == "0") {
        $rU = "+44" + $(rU{s.substr,1,0});
    }
    if (!($rU =~ "^\+[1-9][0-9]{6,14}$")) {
        sl_send_reply(484, "Address Incomplete");
        exit;
    }
}

route[next_gw] {
    if ($(avp(gw)[0]) == NULL) {
        t_reply(503, "All Gateways Failed");
        exit;
    }
    # Take the best gateway off the stack (assigning NULL deletes the top value).
    $du = $(avp(gw)[0]);
    $avp(gw) = NULL;
    $avp(tries) := $avp(tries) + 1;
    xlog("L_INFO", "$ci: $rU try $avp(tries) via $(du{uri.host})\n");
    t_on_failure("gw_failed");
    if (!t_relay()) {
        sl_reply_error();
    }
}

failure_route[gw_failed] {
    if (t_was_cancelled()) {
        exit;
    }
    # A final answer from the callee ends the hunt; a gateway problem tries the next one.
    if (t_check_status("(408)|(5[0-9][0-9])") && $avp(tries) < 4) {
        route(next_gw);
    }
}
"""#

@Suite struct LCRScriptTests {
    @Test func checksClean() throws {
        let r = check(lcrScript, file: "lcr.cfg")
        #expect(r.diagnostics.map(\.description) == [])
        #expect(r.missing.migrationReport() == "")
        _ = try #require(r.script)
    }

    /// 0044... becomes +44..., the best gateway (index 0 of the stacked query rows) is tried first,
    /// a 503 moves to the next, a 486 from the callee ends the hunt, and no gateway left answers 503.
    @Test func serialFailover() throws {
        let script = try #require(check(lcrScript, file: "lcr.cfg").script)
        let msg = TestMessage(ruri: "sip:00441234567@trunk.example")
        msg.values[.sourceIP] = .string("10.20.3.4")
        msg.values[.requestUser] = .string("00441234567")
        let proxy = TestProxy()
        var ctx = ExecutionContext(script: script, message: msg, proxy: proxy)
        // What avp_db_query leaves: rows pushed in query order, the best one last (on top).
        let gw = try #require(script.avpSlot(named: "gw"))
        for uri in ["sip:192.0.2.30", "sip:192.0.2.20", "sip:192.0.2.10"] { ctx.avps.push(slot: gw, .string(uri)) }
        _ = script.run(route: script.mainRoute, context: &ctx)
        #expect(msg.values[.requestUser] == .string("+441234567"))
        #expect(msg.values[.destinationURI] == .string("sip:192.0.2.10"))
        #expect(proxy.calls.contains { $0.hasPrefix("invoke avp_db_query SELECT g.uri") && $0.contains("WHERE '+441234567' LIKE p.prefix") })
        let failure = try #require(script.route(named: "gw_failed", kind: .failure))
        msg.values[.replyCode] = .string("503")
        _ = script.run(route: failure, context: &ctx)
        #expect(msg.values[.destinationURI] == .string("sip:192.0.2.20"))
        msg.values[.replyCode] = .string("486")
        _ = script.run(route: failure, context: &ctx)
        #expect(msg.values[.destinationURI] == .string("sip:192.0.2.20"))
        msg.values[.replyCode] = .string("408")
        _ = script.run(route: failure, context: &ctx)
        #expect(msg.values[.destinationURI] == .string("sip:192.0.2.30"))
        _ = script.run(route: failure, context: &ctx)
        #expect(proxy.calls.filter { $0.hasPrefix("t_relay") }.count == 3)
        #expect(proxy.calls.last == "t_reply 503 All Gateways Failed")
    }

    @Test func refusesUnknownSourcesAndShortNumbers() throws {
        let script = try #require(check(lcrScript, file: "lcr.cfg").script)
        for (source, user, reply) in [("198.51.100.1", "+441234567", "sl_send_reply 403 Forbidden"),
                                      ("192.0.2.17", "12", "sl_send_reply 484 Address Incomplete")] {
            let msg = TestMessage(ruri: "sip:\(user)@trunk.example")
            msg.values[.sourceIP] = .string(source)
            msg.values[.requestUser] = .string(user)
            let proxy = TestProxy()
            var ctx = ExecutionContext(script: script, message: msg, proxy: proxy)
            _ = script.run(route: script.mainRoute, context: &ctx)
            #expect(proxy.calls.last == reply)
        }
    }
}
