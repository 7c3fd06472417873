import Synchronization
import Testing
@testable import TandemScript

@Suite struct FunctionTests {
    @Test func flags() throws {
        var r = try Run("""
        route {
            setflag(3); setflag(NAT); setflag("5");
            if (isflag(3)) $var(a) = 1;
            resetflag(3);
            if (!isflag(3)) $var(b) = 1;
            if (isflag(NAT) && isflag(5)) $var(c) = 1;
        }
        """)
        r.run()
        #expect(r.variable("a") == .int(1))
        #expect(r.variable("b") == .int(1))
        #expect(r.variable("c") == .int(1))
        let nat = try #require(r.script.flagBits["NAT"])
        #expect(r.message.flags == (1 << UInt64(nat)) | (1 << 5))
    }

    @Test func headersAndMethod() throws {
        var r = try Run("""
        route {
            append_hf("X-A: 1\\r\\n");
            insert_hf("X-First: 0\\r\\n");
            if (is_present_hf("X-A")) $var(a) = 1;
            if (remove_hf("User-Agent")) $var(b) = 1;
            if (!is_present_hf("User-Agent")) $var(c) = 1;
            if (remove_hf("Nope")) $var(d) = 1; else $var(d) = 2;
            if (has_totag()) $var(e) = 1; else $var(e) = 2;
            $var(m) = "BYE|INVITE";
            if (is_method($var(m))) $var(f) = 1;
        }
        """)
        r.run()
        #expect(r.message.appended == ["X-A: 1\r\n"])
        #expect(r.message.inserted == ["X-First: 0\r\n"])
        for (n, v) in [("a", 1), ("b", 1), ("c", 1), ("d", 2), ("e", 2), ("f", 1)] {
            #expect(r.variable(n) == .int(v), "\(n)")
        }
    }

    @Test func maxForwards() throws {
        var r = try Run("route { if (!mf_process_maxfwd_header(10)) { sl_send_reply(483, \"Too Many Hops\"); exit; } $var(ok) = 1; }")
        r.run()
        // As OpenSIPS: the argument is only the value of a missing header; a present one is decremented.
        #expect(r.message.headers.first { $0.name == "Max-Forwards" }?.value == "69")
        r.message.headers.removeAll { $0.name == "Max-Forwards" }
        r.message.headers.append(("Max-Forwards", "0"))
        r.context.reset(message: r.message)
        #expect(r.run().name == "exited")
        #expect(r.proxy.calls == ["sl_send_reply 483 Too Many Hops"])
        r.message.headers.removeAll { $0.name == "Max-Forwards" }
        r.run()
        #expect(r.message.appended.last == "Max-Forwards: 10\r\n")
    }

    @Test("mf_process_maxfwd_header caps the decremented value at modparam(\"maxfwd\", \"max_limit\")")
    func maxForwardsLimit() throws {
        var r = try Run("""
            modparam("maxfwd", "max_limit", 16)
            route { $var(rc) = mf_process_maxfwd_header(10); }
            """)
        r.run()
        #expect(r.message.headers.first { $0.name == "Max-Forwards" }?.value == "16")
        #expect(r.variable("rc") == .int(1))
    }

    @Test func cacheWithExpiry() throws {
        let now = Mutex<Int64>(1000)
        let cache = LocalCache(clock: { now.withLock { $0 } })
        var r = try Run("""
        route {
            if ($var(step) == NULL) {
                cache_store("local", "k_$rU", "v1", 10);
                cache_store("local", "perm", "p");
            }
            if (cache_fetch("local", "k_$rU", $avp(v))) $var(hit) = 1; else $var(hit) = -1;
            if (cache_fetch("local", "perm", $var(p))) $var(phit) = 1;
        }
        """, cache: cache)
        r.message.values[.requestUser] = .string("alice")
        r.run()
        #expect(r.variable("hit") == .int(1))
        #expect(r.avp("v") == [.string("v1")])
        #expect(r.variable("p") == .string("p"))
        now.withLock { $0 = 1011 }
        let slot = r.script.varNames.firstIndex(of: "step")!
        r.context.vars[slot] = .int(1)
        r.run()
        #expect(r.variable("hit") == .int(-1))
        #expect(r.variable("phit") == .int(1))
        var r2 = try Run("route { cache_remove(\"local\", \"perm\"); }", cache: cache)
        r2.run()
        #expect(cache.fetch(collection: "local", key: "perm") == nil)
    }

    @Test func statsAndMyself() throws {
        let seen = Mutex<[String]>([])
        var r = try Run("""
        route {
            update_stat("calls", 1);
            update_stat("calls", "$var(n)");
            if (uri == myself) $var(a) = 1; else $var(a) = 2;
            if ($du != myself) $var(b) = 1;
            if (is_myself("sip:x@proxy.example.com:5060")) $var(c) = 1;
            if (from_uri == myself) $var(d) = 1; else $var(d) = 2;
        }
        """, stats: { name, delta in seen.withLock { $0.append("\(name)+\(delta)") } })
        r.message.values[.requestURI] = .string("sip:bob@127.0.0.1:5060;transport=udp")
        r.message.values[.requestDomain] = .string("127.0.0.1")
        r.message.values[.requestPort] = .int(5060)
        r.run()
        #expect(seen.withLock { $0 } == ["calls+1", "calls+0"])
        #expect(r.variable("a") == .int(1))
        #expect(r.variable("b") == .int(1))
        #expect(r.variable("c") == .int(1))
        #expect(r.variable("d") == .int(2))
    }

    @Test func proxyFunctions() throws {
        var r = try Run("""
        route {
            if (loose_route()) { t_relay(); exit; }
            record_route();
            t_newtran();
            t_on_failure("missed");
            t_on_reply("rep");
            t_on_branch("br");
            t_reply(180, "Ringing");
            if (!t_relay("udp:10.0.0.5:5080")) { sl_send_reply(500, "Server Error"); }
            t_relay(2);
        }
        failure_route[missed] { if (t_check_status("486|408")) { xlog("busy"); } }
        onreply_route[rep] { xlog("reply"); }
        branch_route[br] { xlog("branch"); }
        """)
        r.proxy.relayResult = -1
        r.run()
        #expect(r.proxy.calls == ["loose_route", "record_route", "t_newtran", "t_on_failure", "t_on_reply", "t_on_branch",
                                  "t_reply 180 Ringing", "t_relay 0 udp:10.0.0.5:5080", "sl_send_reply 500 Server Error",
                                  "t_relay 2 -"])
        #expect(r.proxy.failureRoute == r.script.route(named: "missed", kind: .failure))
        #expect(r.proxy.replyRoute == r.script.route(named: "rep", kind: .onReply))
        #expect(r.proxy.branchRoute == r.script.route(named: "br", kind: .branch))
        r.message.values[.replyCode] = .int(486)
        r.run(r.proxy.failureRoute)
        #expect(r.log == ["busy"])
    }

    @Test func localCacheConcurrentUse() async {
        let cache = LocalCache()
        await withTaskGroup(of: Void.self) { g in
            for w in 0..<4 {
                g.addTask {
                    for i in 0..<200 { cache.store(collection: "c", key: "\(w)-\(i)", value: "v") }
                }
            }
        }
        #expect(cache.count == 800)
    }
}

@Suite struct URIHostTests {
    @Test func split() {
        #expect(URIHost.split("sip:bob@127.0.0.1:5070;transport=udp") == ("127.0.0.1", 5070))
        #expect(URIHost.split("sips:example.com") == ("example.com", 0))
        #expect(URIHost.split("\"Bob\" <sip:bob@[::1]:5060>;tag=1") == ("::1", 5060))
        #expect(URIHost.split("proxy.example.com") == ("proxy.example.com", 0))
        #expect(URIHost.split("10.0.0.1:5060") == ("10.0.0.1", 5060))
        #expect(URIHost.split("tel:+1555@gw") == ("gw", 0))
        #expect(URIHost.split("") == ("", 0))
    }
}
