import Glibc
import LDAPDriver
import Reactor
import TandemAsync
import Testing
import TandemTestSupport

/// A private slapd (its own state dir and port, so the shared test server is untouched) that is absent,
/// started, frozen (SIGSTOP), stopped (SIGTERM), killed (SIGKILL) and started again.
@Suite(.enabled(if: TestServer.available, "needs TANDEM_TEST_LDAP_URL (TANDEM_TEST_SERVERS=slapd scripts/test.sh)"))
struct LDAPServerFailureTests {
    /// Controls a private slapd through scripts/test-servers/slapd.sh.
    struct PrivateServer {
        let port = closedPort()
        let state = "/tmp/tandem-ldap-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var control: String {
            "TANDEM_TEST_STATE_DIR=\(state) TANDEM_TEST_LDAP_PORT=\(port) bash \(TestServer.repositoryRoot)/scripts/test-servers/slapd.sh"
        }
        var url: String { "ldap://127.0.0.1:\(port)/" }
        var pid: String { "$(cat \(state)/slapd/pid)" }
        func start() -> Bool { shell("\(control) start >/dev/null 2>&1") == 0 }
        /// Graceful stop (SIGTERM; slapd closes its client connections).
        func stop() { shell("\(control) stop >/dev/null 2>&1") }
        /// A crash (SIGKILL; also ends a frozen server at once).
        func kill() {
            signal("KILL")
            stop()
        }
        func signal(_ name: String) { shell("kill -\(name) \(pid)") }
        /// SIGSTOP, then waits until every thread of slapd is stopped (delivery is asynchronous).
        func freeze() {
            signal("STOP")
            shell("for i in $(seq 200); do grep -qv '^T' <(awk '{print $3}' /proc/\(pid)/task/*/stat) || exit 0; sleep 0.005; done")
        }
        func cleanUp() {
            kill()
            shell("rm -rf \(state)")
        }
    }

    let people = "ou=people,\(TestServer.base)"

    @Test func timeoutIsMinus3AndGivesUpTheSearch() throws {
        let server = PrivateServer()
        defer { server.cleanUp() }
        #expect(server.start())
        let h = try Harness(session: TestServer.session(url: server.url))
        #expect(try h.search("ldap://test/\(people)?uid?sub?(uid=alice)").rc == 1)
        server.freeze()
        let t0 = nowMs()
        let r = try h.search("ldap://test/\(people)?uid?sub?(uid=alice)", timeoutMs: 300)
        #expect(r.rc == -3)
        #expect(nowMs() - t0 < 1000)
        #expect(h.pool.statistics.searchesAbandoned == 1)
        #expect(h.pool.inFlightCount == 0)
        server.signal("CONT")
        // The answer to the abandoned search (if any) is dropped; the connection keeps serving.
        let after = try h.search("ldap://test/\(people)?telephoneNumber?sub?(uid=bob)")
        #expect(after.rc == 1 && after.values("telephoneNumber") == ["1002"])
        // The given-up search may still hold its slot when bob's arrives: a second connection may open.
        #expect(h.pool.statistics.connectionsDropped == 0 && h.pool.statistics.connectAttempts <= 2)

        // The blocking form honours the job timeout too.
        server.freeze()
        let blocking = try h.search("ldap://test/\(people)?uid?sub?(uid=alice)", mode: .offload, timeoutMs: 300)
        #expect(blocking.rc == -3)
        // The offload thread is not stuck either: the bind is bounded by ldap_client_bind_timeout (500 ms).
        try h.spin(limitMs: 2000) { h.engine.pool.busyCount == 0 }
        #expect(h.engine.pool.busyCount == 0)
        server.signal("CONT")
    }

    @Test func absentServerFailsFastThenIsPickedUpAfterStartAndRestart() throws {
        let server = PrivateServer()
        defer { server.cleanUp() }
        let h = try Harness(session: TestServer.session(url: server.url),
                            configuration: LDAPPoolConfiguration(initialBackoffMs: 50, maxBackoffMs: 200))
        // 1. No server: rc -2 quickly.
        let t0 = nowMs()
        let absent = try h.search("ldap://test/\(people)?uid?sub?(uid=alice)")
        #expect(absent.rc == -2)
        #expect(absent.errorText.contains("contact"), "\(absent.errorText)")
        #expect(nowMs() - t0 < 500)
        let attempts = h.pool.statistics.connectAttempts
        #expect(try h.search("ldap://test/\(people)?uid?sub?(uid=alice)").rc == -2)
        #expect(h.pool.statistics.connectAttempts == attempts, "within the backoff no new connect")

        // 2. The server starts: picked up by a later search.
        #expect(server.start())
        #expect(try searchUntilSuccess(h, limitMs: 3000) == ["1001"])

        // 3. The server stops: the idle connection is noticed, searches fail fast (-2), no hang.
        server.stop()
        try h.spin(limitMs: 2000) { h.pool.connectionCount == 0 }
        #expect(h.pool.connectionCount == 0)
        let t1 = nowMs()
        #expect(try h.search("ldap://test/\(people)?uid?sub?(uid=alice)").rc == -2)
        #expect(nowMs() - t1 < 500)

        // 4. And starts again (fresh database, same port): picked up again.
        #expect(server.start())
        #expect(try searchUntilSuccess(h, limitMs: 3000) == ["1001"])
        #expect(h.pool.statistics.connectionsDropped >= 1)
    }

    @Test func killedServerFailsSearchesInFlight() throws {
        let server = PrivateServer()
        defer { server.cleanUp() }
        #expect(server.start())
        let h = try Harness(session: TestServer.session(url: server.url))
        #expect(try h.search("ldap://test/\(people)?uid?sub?(uid=alice)").rc == 1)
        server.freeze()
        let got = Box<AsyncResult?>(nil)
        let url = try LDAPURL.parse("ldap://test/\(people)?uid?sub?(uid=alice)")
        h.worker.start(LDAPSearchOperation(pool: h.pool, search: url), mode: .native, timeoutMs: 5000) { got.value = $0 }
        try h.spin(limitMs: 100) { false }
        server.kill()
        try h.spin(limitMs: 3000) { got.value != nil }
        #expect(got.value?.rc == -2, "in-flight search fails when the connection breaks, before the timeout")
    }

    @Test func unansweredBindFailsAfterTheBindTimeout() throws {
        let server = PrivateServer()
        defer { server.cleanUp() }
        #expect(server.start())
        server.freeze()  // the kernel still accepts the TCP connection; the bind is never answered
        let h = try Harness(session: TestServer.session(url: server.url))
        let t0 = nowMs()
        let r = try h.search("ldap://test/\(people)?uid?sub?(uid=alice)", timeoutMs: 3000)
        let elapsed = nowMs() - t0
        #expect(r.rc == -2)
        #expect(r.errorText.contains("bind timeout"), "\(r.errorText)")
        #expect(elapsed >= 450 && elapsed < 1500, "ldap_client_bind_timeout is 500 ms: \(elapsed) ms")
        #expect(h.pool.connectionCount == 0 && h.pool.statistics.connectFailures == 1)
    }

    private func searchUntilSuccess(_ h: Harness, limitMs: UInt64) throws -> [String?] {
        let start = nowMs()
        while nowMs() - start < limitMs {
            let r = try h.search("ldap://test/\(people)?telephoneNumber?sub?(uid=alice)")
            if r.rc == 1 { return r.values("telephoneNumber") }
            try h.spin(limitMs: 50) { false }
        }
        return []
    }
}
