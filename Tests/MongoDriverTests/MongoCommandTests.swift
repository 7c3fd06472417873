import Glibc
import MongoDriver
import Reactor
import TandemAsync
import Testing

/// Commands against the real nx-27017 started by `TANDEM_TEST_SERVERS=mongo scripts/test.sh`.
@Suite(.enabled(if: TestServer.available, "needs TANDEM_TEST_MONGO_URL (TANDEM_TEST_SERVERS=mongo scripts/test.sh)"))
struct MongoCommandTests {
    /// Inserts the subscriber fixtures into a fresh collection.
    func fixtures(_ h: Harness) throws -> String {
        let c = uniqueCollection("subscriber")
        let insert = try h.command("""
            {"insert": "\(c)", "documents": [
              {"username": "alice", "credit": 10, "rate": 2.5, "active": true, "plan": {"name": "gold", "max": 3}},
              {"username": "bob", "credit": 7, "rate": null, "active": false, "tags": ["a", "b"]},
              {"username": "carol", "credit": 3}
            ]}
            """)
        #expect(insert.rc == 1, "\(insert.errorText)")
        #expect(insert.column(0) == ["3"], "insert reply {n: 3}")
        return c
    }

    @Test func findWithFilterAndProjectionGivesColumns() throws {
        let h = try Harness()
        let c = try fixtures(h)
        let r = try h.command(#"{"find": "\#(c)", "filter": {"username": "alice"}, "projection": {"credit": 1, "rate": 1, "plan.name": 1, "_id": 0}}"#)
        #expect(r.rc == 1, "\(r.errorText)")
        #expect(r.list("keys") == ["credit", "rate", "plan.name"])
        #expect(r.column(0) == ["10"])
        #expect(r.column(1) == ["2.5"])
        #expect(r.column(2) == ["gold"])
        #expect(r.output("rows") == .int(1))
    }

    @Test func withoutProjectionTheFirstDocumentsKeysAreTheColumns() throws {
        let h = try Harness()
        let c = try fixtures(h)
        let r = try h.command(#"{"find": "\#(c)", "filter": {"credit": {"$gte": 5}}, "sort": {"credit": -1}}"#)
        #expect(r.rc == 1 && r.output("rows") == .int(2), "\(r.errorText)")
        let keys = r.list("keys").compactMap { $0 }
        #expect(Set(keys) == ["_id", "username", "credit", "rate", "active", "plan"])
        #expect(keys.filter { $0 != "_id" } == ["username", "credit", "rate", "active", "plan"], "document order")
        func column(_ key: String) -> [String?] { keys.firstIndex(of: key).map { r.column($0) } ?? [] }
        #expect(column("username") == ["alice", "bob"])
        #expect(column("credit") == ["10", "7"])
        #expect(column("rate") == ["2.5", nil], "null → nil")
        #expect(column("active") == ["true", "false"])
        #expect(column("plan").first??.contains("\"gold\"") == true, "nested document as JSON")
        #expect(column("plan").last == .some(nil), "absent in the second document")
        #expect(column("_id").first??.count == 24, "ObjectId as hex")
    }

    @Test func nestedValuesArraysAndNumbers() throws {
        let h = try Harness()
        let c = try fixtures(h)
        let r = try h.command(#"{"find": "\#(c)", "filter": {"username": "bob"}, "projection": {"tags": 1, "credit": 1, "_id": 0}}"#)
        #expect(r.column(0) == [#"[ "a", "b" ]"#])
        #expect(r.column(1) == ["7"])
        let agg = try h.command(#"{"aggregate": "\#(c)", "pipeline": [{"$group": {"_id": null, "total": {"$sum": "$credit"}}}], "cursor": {}}"#)
        #expect(agg.rc == 1, "\(agg.errorText)")
        #expect(agg.list("keys").contains("total"))
    }

    @Test func noDocumentIsMinus2() throws {
        let h = try Harness()
        let c = try fixtures(h)
        let r = try h.command(#"{"find": "\#(c)", "filter": {"username": "nobody"}, "projection": {"credit": 1, "_id": 0}}"#)
        #expect(r.rc == -2)
        #expect(r.column(0) == [])
        #expect(r.output("rows") == .int(0))
    }

    @Test func badCommandOrJSONIsMinus1WithAnError() throws {
        let h = try Harness()
        let c = try fixtures(h)
        let refused = try h.command(#"{"find": "\#(c)", "filter": {"$where": "true"}}"#)
        #expect(refused.rc == -1, "the server answers ok: 0")
        #expect(!refused.errorText.isEmpty)
        #expect(try h.command(#"["find"]"#).rc == -1)
        let malformed = try h.command(#"{"find": "x", "filter": {"#)
        #expect(malformed.rc == -1)
        #expect(malformed.errorText.contains("JSON"), "\(malformed.errorText)")
    }

    @Test func escapedValueCannotWidenTheFilter() throws {
        let h = try Harness()
        let c = try fixtures(h)
        let hostile = #"nobody"}, "$where": "true", "x": {"a": "b"#
        let escaped = MongoJSON.escape(hostile)
        let r = try h.command(#"{"find": "\#(c)", "filter": {"username": "\#(escaped)"}, "projection": {"username": 1, "_id": 0}}"#)
        #expect(r.rc == -2, "the whole value is compared as one string: \(r.column(0))")
        let or = MongoJSON.escape(#"x", "$or": [{}], "y": ""#)
        #expect(try h.command(#"{"find": "\#(c)", "filter": {"username": "\#(or)"}}"#).rc == -2)
        // The same value stored and read back round-trips exactly.
        let store = try h.command(#"{"insert": "\#(c)", "documents": [{"username": "\#(escaped)", "credit": 1}]}"#)
        #expect(store.rc == 1)
        let back = try h.command(#"{"find": "\#(c)", "filter": {"username": "\#(escaped)"}, "projection": {"username": 1, "_id": 0}}"#)
        #expect(back.column(0) == [hostile])
    }

    @Test func writeErrorsAreMinus1() throws {
        let h = try Harness()
        let c = uniqueCollection("unique")
        let index = try h.command(#"{"createIndexes": "\#(c)", "indexes": [{"key": {"u": 1}, "name": "u_1", "unique": true}]}"#)
        #expect(index.rc != -1, "\(index.errorText)")
        #expect(try h.command(#"{"insert": "\#(c)", "documents": [{"u": "x"}]}"#).rc == 1)
        let duplicate = try h.command(#"{"insert": "\#(c)", "documents": [{"u": "x"}]}"#)
        #expect(duplicate.rc == -1)
        #expect(!duplicate.errorText.isEmpty)
    }

    @Test func rawQueryReturnsEveryDocumentAsJSON() throws {
        let h = try Harness()
        let c = try fixtures(h)
        let r = try h.command(#"{"find": "\#(c)", "filter": {}, "projection": {"_id": 0, "username": 1}, "sort": {"username": 1}}"#, raw: true)
        #expect(r.rc == 1, "\(r.errorText)")
        #expect(r.list("json") == [#"{ "username" : "alice" }"#, #"{ "username" : "bob" }"#, #"{ "username" : "carol" }"#])
        #expect(try h.command(#"{"find": "\#(c)", "filter": {"username": "zed"}}"#, raw: true).rc == -2)
    }

    @Test func laterBatchesAreFetchedUpToTheDocumentLimit() throws {
        let h = try Harness()
        let c = uniqueCollection("batches")
        let documents = (0..<25).map { #"{"i": \#($0)}"# }.joined(separator: ", ")
        #expect(try h.command(#"{"insert": "\#(c)", "documents": [\#(documents)]}"#).rc == 1)
        let all = try h.command(#"{"find": "\#(c)", "filter": {}, "sort": {"i": 1}, "batchSize": 10, "projection": {"i": 1, "_id": 0}}"#)
        #expect(all.output("rows") == .int(25), "\(all.errorText)")
        #expect(all.column(0) == (0..<25).map { String($0) })

        let capped = try Harness(configuration: MongoPoolConfiguration(database: TestServer.database, maxDocuments: 12))
        let some = try capped.command(#"{"find": "\#(c)", "filter": {}, "sort": {"i": 1}, "batchSize": 10, "projection": {"i": 1, "_id": 0}}"#)
        #expect(some.rc == 1 && some.output("rows") == .int(12))
        #expect(some.column(0) == (0..<12).map { String($0) })
    }

    @Test func findAndModifyReturnsItsValue() throws {
        let h = try Harness()
        let c = try fixtures(h)
        let r = try h.command(#"{"findAndModify": "\#(c)", "query": {"username": "carol"}, "update": {"$inc": {"credit": 5}}, "new": true, "fields": {"credit": 1, "_id": 0}}"#)
        #expect(r.rc == 1, "\(r.errorText)")
        #expect(r.column(0) == ["8"], "\(r.list("keys"))")
        let none = try h.command(#"{"findAndModify": "\#(c)", "query": {"username": "nobody"}, "update": {"$inc": {"credit": 5}}}"#)
        #expect(none.rc == -2, "\(none.errorText)")
    }

    @Test func syncModeRunsInline() throws {
        let h = try Harness()
        let c = try fixtures(h)
        let r = try h.command(#"{"count": "\#(c)", "query": {"credit": {"$lt": 8}}}"#, mode: .sync)
        #expect(r.rc == 1 && r.column(0) == ["2"], "\(r.errorText) \(r.list("keys"))")
    }
}
