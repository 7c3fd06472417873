import Glibc
import LDAPDriver
import Reactor
import TandemAsync
import Testing
import TandemTestSupport

/// What one connection carries at the server is capped (`maxSearchesPerConnection`), given-up searches
/// included, and searches spread over more connections up to the pool size (issue 14 item 6: after a
/// freeze slapd dropped a connection that carried every search and abandon of a worker).
@Suite(.enabled(if: TestServer.available, "needs TANDEM_TEST_LDAP_URL (TANDEM_TEST_SERVERS=slapd scripts/test.sh)"))
struct LDAPConnectionCapTests {
    typealias PrivateServer = LDAPServerFailureTests.PrivateServer
    let people = "ou=people,\(TestServer.base)"

    /// Starts `count` searches for `user` with `timeoutMs`; their rc land in the returned box.
    func start(_ h: Harness, count: Int, user: String, timeoutMs: UInt64) throws -> Box<[Int]> {
        let results = Box<[Int]>([])
        let url = try LDAPURL.parse("ldap://test/\(people)?uid?sub?(uid=\(user))")
        for _ in 0..<count {
            h.worker.start(LDAPSearchOperation(pool: h.pool, search: url), mode: .native, timeoutMs: timeoutMs) {
                results.value.append($0.rc)
            }
        }
        return results
    }

    @Test("Searches spread over the pool's connections, never more than the cap on one")
    func spreadsOverConnections() throws {
        let h = try Harness(session: TestServer.session(),
                            configuration: LDAPPoolConfiguration(size: 3, maxSearchesPerConnection: 4))
        let results = try start(h, count: 60, user: "alice", timeoutMs: 5000)
        try h.spin(limitMs: 5000) { results.value.count == 60 }
        #expect(results.value.count == 60 && results.value.allSatisfy { $0 == 1 }, "\(results.value)")
        #expect(h.pool.statistics.peakInFlight <= 4, "\(h.pool.statistics)")
        #expect(h.pool.statistics.bindsSucceeded >= 2, "\(h.pool.statistics)")
        #expect(h.pool.connectionCount <= 3)
    }

    @Test("A frozen server: given-up searches keep their slots, the rest queue (bounded, -4), nothing dropped on resume")
    func frozenServerKeepsTheCap() throws {
        let server = PrivateServer()
        defer { server.cleanUp() }
        #expect(server.start())
        let h = try Harness(session: TestServer.session(url: server.url),
                            configuration: LDAPPoolConfiguration(size: 1, maxSearchesPerConnection: 4, maxQueue: 3))
        #expect(try h.search("ldap://test/\(people)?uid?sub?(uid=alice)").rc == 1)
        server.freeze()
        let results = try start(h, count: 10, user: "alice", timeoutMs: 300)
        try h.spin(limitMs: 2000) { results.value.count == 10 }
        #expect(results.value.filter { $0 == -4 }.count == 3, "queue of 3 full: \(results.value)")
        #expect(results.value.filter { $0 == -3 }.count == 7, "\(results.value)")
        #expect(h.pool.orphanedCount == 4, "4 given up on the server, none sent beyond the cap")
        #expect(h.pool.inFlightCount == 0 && h.pool.queuedCount == 0)
        #expect(h.pool.statistics.searchesSent == 5, "\(h.pool.statistics)")

        server.signal("CONT")
        try h.spin(limitMs: 3000) { h.pool.orphanedCount == 0 }
        #expect(h.pool.orphanedCount == 0, "the server answered them: the slots are free")
        let bob = try h.search("ldap://test/\(people)?telephoneNumber?sub?(uid=bob)")
        #expect(bob.rc == 1 && bob.values("telephoneNumber") == ["1002"])
        #expect(h.pool.statistics.connectionsDropped == 0 && h.pool.statistics.connectAttempts == 1,
                "\(h.pool.statistics)")
    }

    @Test("A connection carrying only unanswered given-up searches past orphanTimeoutMs is closed and replaced")
    func staleConnectionIsReplaced() throws {
        let server = PrivateServer()
        defer { server.cleanUp() }
        #expect(server.start())
        let h = try Harness(session: TestServer.session(url: server.url),
                            configuration: LDAPPoolConfiguration(size: 1, maxSearchesPerConnection: 2,
                                                                 initialBackoffMs: 50, maxBackoffMs: 100,
                                                                 orphanTimeoutMs: 300))
        #expect(try h.search("ldap://test/\(people)?uid?sub?(uid=alice)").rc == 1)
        server.freeze()
        let results = try start(h, count: 2, user: "alice", timeoutMs: 200)
        try h.spin(limitMs: 1000) { results.value.count == 2 }
        #expect(results.value == [-3, -3])
        #expect(h.pool.orphanedCount == 2)
        try h.spin(limitMs: 500) { false }
        server.signal("CONT")
        // The next search finds the connection stale (orphans older than 300 ms): closed, a new one opens.
        let r = try h.search("ldap://test/\(people)?uid?sub?(uid=bob)")
        #expect(r.rc == 1, "\(r.errorText)")
        #expect(h.pool.statistics.staleConnectionsClosed == 1, "\(h.pool.statistics)")
        #expect(h.pool.orphanedCount == 0)
        #expect(h.pool.statistics.connectAttempts == 2)
    }
}
