import Testing
@testable import TandemScript

/// A trunking proxy in the style operators write for OpenSIPS 3.6: carriers by source network,
/// number normalisation with transformations, a gateway list walked with `for`, and the drouting
/// module that Tandem does not have.
let trunkingScript = """
log_level = 3
udp_workers = 2
socket = udp:127.0.0.1:5060
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "sipmsgops.so"
loadmodule "drouting.so"
modparam("tm", "auto_100trying", yes)

route[0] {
    if (!mf_process_maxfwd_header(10)) { sl_send_reply(483, "Too Many Hops"); exit; }
    if ($si == 10.0.0.0/8 || $si == [2001:db8::10]) {
        $var(carrier) = "core";
    } else if ($si == 192.0.2.0/24) {
        $var(carrier) = "peer";
    } else {
        sl_send_reply(403, "Forbidden");
        exit;
    }
    if (has_totag()) { if (loose_route()) { t_relay(); } exit; }
    route(normalise);
    $avp(gw) = "sip:198.51.100.2:5060";
    $avp(gw) = "sip:198.51.100.1:5060";
    $var(n) = 0;
    for ($var(gw) in $(avp(gw)[*])) {
        if ($(var(gw){uri.host}) == 198.51.100.0/24) { $var(n) += 1; }
    }
    $du = $(avp(gw)[0]);
    xlog("L_INFO", "$var(carrier) call to $(rU{s.substr,0,4})... via $(du{uri.host}) of $var(n)\\n");
    if (!do_routing(0)) { t_relay(); exit; }
}

route[normalise] {
    # +E.164 in, national numbers with 00 prefix too.
    if ($(rU{s.substr,0,2}) == "00") {
        $rU = "+" + $(rU{s.substr,2,0});
    }
    $var(caller) = $(hdr(From){nameaddr.uri}{uri.user}{s.tolower});
    if ($(var(caller){s.len}) == 0) { sl_send_reply(400, "No Caller"); exit; }
}
"""

@Suite struct TrunkingScriptTests {
    @Test func checksCleanExceptDrouting() {
        let r = check(trunkingScript, file: "trunking.cfg")
        #expect(r.diagnostics.map(\.description) == [
            "trunking.cfg:9:12: module 'drouting' is not available in Tandem",
            "trunking.cfg:32:10: 'do_routing' is an OpenSIPS 3.6 function (module drouting) that Tandem does not support yet",
        ])
        #expect(r.missing.map(\.description) == ["trunking.cfg:9: module 'drouting'", "trunking.cfg:32: function 'do_routing'"])
    }

    @Test func routesWithoutDrouting() throws {
        let src = trunkingScript
            .replacingOccurrences(of: "loadmodule \"drouting.so\"\n", with: "")
            .replacingOccurrences(of: "if (!do_routing(0)) { t_relay(); exit; }", with: "t_relay();")
        let msg = TestMessage(ruri: "sip:0044123456@example.com")
        msg.values[.sourceIP] = .string("10.1.2.3")
        msg.values[.requestUser] = .string("0044123456")
        msg.headers.append(("From", "\"Carrier\" <sip:Alice@carrier.example>;tag=1"))
        var r = try Run(src.replacingOccurrences(of: "log_level = 3\n", with: ""), message: msg)
        r.run()
        #expect(r.variable("carrier") == .string("core"))
        #expect(r.variable("caller") == .string("alice"))
        #expect(r.variable("n") == .int(2))
        #expect(msg.values[.requestUser] == .string("+44123456"))
        #expect(msg.values[.destinationURI] == .string("sip:198.51.100.1:5060"))
        #expect(r.log.contains { $0.contains("core call to +441... via 198.51.100.1 of 2") })
    }
}

private extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
