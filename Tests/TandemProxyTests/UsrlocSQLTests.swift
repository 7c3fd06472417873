import Testing
import TandemProxy
import TandemScript
@testable import TandemServer

/// The usrloc statements and the plan a registrar call carries, without a database (issue 16).
struct UsrlocSQLTests {
    let clocks = UsrlocSQL.Clocks(wall: 1_700_000_000, location: 50)

    @Test func aorSplitAndTableNames() {
        #expect(UsrlocSQL.split("alice@example.com", useDomain: true) == ("alice", "example.com"))
        #expect(UsrlocSQL.split("alice", useDomain: false) == ("alice", nil))
        #expect(UsrlocSQL.table("location") == "location")
        #expect(UsrlocSQL.table("public.location") == "public.location")
        #expect(UsrlocSQL.table("location; DROP TABLE subscriber") == "location")
    }

    @Test func expiresBetweenClocks() {
        #expect(clocks.wall(of: 350) == 1_700_000_300)
        #expect(clocks.location(of: 1_700_000_300) == 350)
        #expect(clocks.location(of: 1_699_999_000) == 50)  // already expired: now
    }

    @Test func wildcardDeletesTheAOR() {
        let write = ProxyCore.LocationWrite(aor: "alice", deleteAll: true, deleted: [], written: [])
        let (sql, parameters) = UsrlocSQL.write(write, table: "location", useDomain: false, clocks: clocks) { _ in nil }
        #expect(sql == "DELETE FROM location WHERE username = $1 AND domain IS NOT DISTINCT FROM $2")
        #expect(parameters == ["alice", nil])
    }

    @Test func contactRowsAreBoundParameters() {
        let contact = LocationContact(uri: "sip:alice@10.0.0.1:5062;ob", expires: 350, q: 500, callID: "c'1", cseq: 7,
                                      path: ["<sip:edge;lr>"], userAgent: "phone")
        let write = ProxyCore.LocationWrite(aor: "alice@example.com", deleteAll: false,
                                            deleted: [contact.uri], written: [contact])
        let (sql, parameters) = UsrlocSQL.write(write, table: "location", useDomain: true, clocks: clocks) { _ in "udp:127.0.0.1:5060" }
        #expect(sql.hasPrefix("WITH gone AS (DELETE FROM location WHERE username = $1 AND domain IS NOT DISTINCT FROM $2 AND contact IN ($3)) INSERT INTO location (contact_id, username"))
        #expect(!sql.contains("c'1") && !sql.contains("alice"))
        #expect(parameters[0] == "alice" && parameters[1] == "example.com" && parameters[2] == contact.uri)
        #expect(parameters.contains("1700000300") && parameters.contains("0.5") && parameters.contains("c'1")
                && parameters.contains("<sip:edge;lr>") && parameters.contains("udp:127.0.0.1:5060"))
        let (returning, _) = UsrlocSQL.write(write, table: "location", useDomain: true, clocks: clocks,
                                             returning: true) { _ in nil }
        #expect(returning.contains("RETURNING contact), added AS (INSERT"))
        #expect(returning.contains("FROM added UNION ALL SELECT \(UsrlocSQL.readColumns) FROM location"))
    }

    @Test func planTravelsInOneValue() {
        let plan = UsrlocPlan(kind: .write, aor: "alice", sql: "DELETE FROM location WHERE username = $1",
                              parameters: ["alice", nil, ""])
        var values: [ScriptValue] = [.string("location"), .null, .null, plan.value]
        #expect(UsrlocPlan(values) == plan)
        #expect(UsrlocPlan.head(values)?.kind == .write && UsrlocPlan.head(values)?.aor == "alice")
        let unicode = UsrlocPlan(kind: .read, aor: "zoë", sql: "SELECT 'é'", parameters: [nil, "ü\u{1E}x", ""])
        values[3] = unicode.value
        #expect(UsrlocPlan(values) == unicode)
        values[3] = .null
        #expect(UsrlocPlan.head(values) == nil)
        #expect(UsrlocPlan(values) == nil)
    }
}
