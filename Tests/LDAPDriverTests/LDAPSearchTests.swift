import Glibc
import LDAPDriver
import Reactor
import TandemAsync
import Testing
import TandemTestSupport

/// Searches against the real slapd started by `TANDEM_TEST_SERVERS=slapd scripts/test.sh`.
@Suite(.enabled(if: TestServer.available, "needs TANDEM_TEST_LDAP_URL (TANDEM_TEST_SERVERS=slapd scripts/test.sh)"))
struct LDAPSearchTests {
    let people = "ou=people,\(TestServer.base)"

    @Test func oneEntryOneValue() throws {
        let h = try Harness(session: TestServer.session())
        let r = try h.search("ldap://test/\(people)?telephoneNumber,mail?sub?(uid=alice)")
        #expect(r.rc == 1, "\(r.errorText)")
        #expect(r.values("telephoneNumber") == ["1001"])
        #expect(r.values("mail") == ["alice@example.com"])
        #expect(r.output("entries") == .int(1))
    }

    @Test func severalValuesAndEntriesInOrder() throws {
        let h = try Harness(session: TestServer.session())
        let carol = try h.search("ldap://test/\(people)?telephoneNumber?sub?(uid=carol)")
        #expect(carol.rc == 1)
        #expect(carol.values("telephoneNumber").sorted { ($0 ?? "") < ($1 ?? "") } == ["1003", "1004"])
        let all = try h.search("ldap://test/\(people)?uid,telephoneNumber?one?(|(uid=alice)(uid=bob)(uid=carol))")
        #expect(all.rc == 3)
        #expect(all.output("entries") == .int(3))
        #expect(Set(all.values("uid").compactMap { $0 }) == ["alice", "bob", "carol"])
        #expect(all.values("telephoneNumber").count == 4)
        // The server's attribute spelling does not matter: outputs use the requested one.
        let lower = try h.search("ldap://test/\(people)?telephonenumber?sub?(uid=bob)")
        #expect(lower.values("telephonenumber") == ["1002"])
        // No attribute requested: every attribute seen becomes an output.
        let every = try h.search("ldap://test/uid=alice,\(people)")
        #expect(every.rc == 1 && every.values("cn") == ["Alice Example"])
        #expect(h.pool.statistics.connectAttempts == 1, "one multiplexed connection served everything")
    }

    @Test func noEntryIsMinus1() throws {
        let h = try Harness(session: TestServer.session())
        let r = try h.search("ldap://test/\(people)?telephoneNumber?sub?(uid=nobody)")
        #expect(r.rc == -1)
        #expect(r.values("telephoneNumber") == [])
        #expect(r.output("entries") == .int(0))
    }

    @Test func escapedValueCannotWidenTheSearch() throws {
        let h = try Harness(session: TestServer.session())
        let hostile = LDAPFilter.escape("*)(uid=*")
        let r = try h.search("ldap://test/\(people)?uid?sub?(uid=\(hostile))")
        #expect(r.rc == -1, "matched literally: no entry has that uid")
        let star = try h.search("ldap://test/\(people)?uid?sub?(uid=\(LDAPFilter.escape("*")))")
        #expect(star.rc == -1)
        let percent = try h.search("ldap://test/\(people)?uid?sub?(uid=\(LDAPFilter.escape("%2a")))")
        #expect(percent.rc == -1)
        // Unescaped, the same value would match everybody.
        #expect(try h.search("ldap://test/\(people)?uid?sub?(uid=*)").rc == 3)
    }

    @Test func badBaseAndBadFilterAreMinus2() throws {
        let h = try Harness(session: TestServer.session())
        let base = try h.search("ldap://test/ou=nowhere,\(TestServer.base)?uid?sub?(uid=alice)")
        #expect(base.rc == -2)
        #expect(base.errorText.contains("No such object"), "\(base.errorText)")
        let filter = try h.search("ldap://test/\(people)?uid?sub?(uid=alice")
        #expect(filter.rc == -2)
        // The connection is still fine afterwards.
        #expect(try h.search("ldap://test/\(people)?uid?sub?(uid=bob)").rc == 1)
        #expect(h.pool.statistics.connectAttempts == 1)
    }

    @Test func wrongPasswordIsMinus2() throws {
        let h = try Harness(session: TestServer.session(password: "wrong"))
        let r = try h.search("ldap://test/\(people)?uid?sub?(uid=alice)")
        #expect(r.rc == -2)
        #expect(r.errorText.contains("Invalid credentials"), "\(r.errorText)")
    }

    @Test func manyConcurrentSearchesOnOneWorker() throws {
        let h = try Harness(session: TestServer.session())
        let users = ["alice", "bob", "carol", "nobody"]
        let expected = [1, 1, 1, -1]
        let count = 400
        let results = Box<[Int: AsyncResult]>([:])
        for i in 0..<count {
            let url = try LDAPURL.parse("ldap://test/\(people)?telephoneNumber?sub?(uid=\(users[i % 4]))")
            h.worker.start(LDAPSearchOperation(pool: h.pool, search: url), mode: .native, timeoutMs: 10_000) {
                results.value[i] = $0
            }
        }
        try h.spin(limitMs: 10_000) { results.value.count == count }
        #expect(results.value.count == count)
        for (i, r) in results.value {
            #expect(r.rc == expected[i % 4])
            if users[i % 4] == "alice" { #expect(r.values("telephoneNumber") == ["1001"]) }
            if users[i % 4] == "carol" { #expect(r.values("telephoneNumber").count == 2) }
        }
        #expect(h.pool.statistics.peakInFlight > 1, "searches were multiplexed")
        #expect(h.pool.inFlightCount == 0 && h.pool.queuedCount == 0)
    }

    @Test func secondConnectionOpensWhenTheFirstIsBusyAndFullQueueIsMinus4() throws {
        let h = try Harness(session: TestServer.session(), configuration: LDAPPoolConfiguration(size: 2))
        let done = Box(0)
        for _ in 0..<50 {
            let url = try LDAPURL.parse("ldap://test/\(people)?uid?sub?(uid=alice)")
            h.worker.start(LDAPSearchOperation(pool: h.pool, search: url), mode: .native, timeoutMs: 5000) { r in
                if r.rc == 1 { done.value += 1 }
            }
        }
        try h.spin(limitMs: 5000) { done.value == 50 }
        #expect(done.value == 50)
        for _ in 0..<50 {
            let url = try LDAPURL.parse("ldap://test/\(people)?uid?sub?(uid=bob)")
            h.worker.start(LDAPSearchOperation(pool: h.pool, search: url), mode: .native, timeoutMs: 5000) { r in
                if r.rc == 1 { done.value += 1 }
            }
        }
        try h.spin(limitMs: 5000) { done.value == 100 && h.pool.statistics.bindsSucceeded == 2 }
        #expect(done.value == 100)
        #expect(h.pool.connectionCount == 2 && h.pool.statistics.bindsSucceeded == 2)

        let full = try Harness(session: TestServer.session(), configuration: LDAPPoolConfiguration(maxQueue: 0))
        let rejected = try full.search("ldap://test/\(people)?uid?sub?(uid=alice)")
        #expect(rejected.rc == -4)
    }

    @Test(arguments: [AsyncMode.offload, AsyncMode.sync])
    func blockingModes(mode: AsyncMode) throws {
        let h = try Harness(session: TestServer.session())
        let alice = try h.search("ldap://test/\(people)?telephoneNumber?sub?(uid=alice)", mode: mode)
        #expect(alice.rc == 1 && alice.values("telephoneNumber") == ["1001"], "\(alice.errorText)")
        let carol = try h.search("ldap://test/\(people)?telephoneNumber?sub?(uid=carol)", mode: mode)
        #expect(carol.rc == 1 && carol.values("telephoneNumber").count == 2)
        #expect(try h.search("ldap://test/\(people)?uid?sub?(uid=nobody)", mode: mode).rc == -1)
        #expect(try h.search("ldap://test/ou=nowhere,\(TestServer.base)?uid?sub?(uid=a)", mode: mode).rc == -2)
        #expect(h.pool.connectionCount == 0, "the native pool was not used")
        #expect(h.pool.blocking.idleCount == 1, "one blocking handle, reused")
        let wrong = try Harness(session: TestServer.session(password: "wrong"))
        #expect(try wrong.search("ldap://test/\(people)?uid?sub?(uid=alice)", mode: mode).rc == -2)
    }
}
