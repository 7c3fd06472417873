import Testing
import Foundation
@testable import SIPCore

@Suite struct PerformanceTests {
    /// Parse + typical proxy accesses of a ~600-byte INVITE. Bound is loose so debug builds pass;
    /// in release builds this prints the per-message cost (a few microseconds).
    @Test func parseTypicalInviteIsCheap() throws {
        let n = 20_000
        var sink = 0
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<n {
            let m = try SIPMessage(parsing: sampleInvite)
            sink &+= m.fields.count
        }
        let parsed = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<n {
            var m = try SIPMessage(parsing: sampleInvite)
            sink &+= Int(try m.topVia().port ?? 0)
            m.prependHeader(.via, "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKnew")
            m.setHeader(.maxForwards, "69")
            sink &+= m.serialize().count
        }
        let relayed = DispatchTime.now().uptimeNanoseconds
        let parseNs = Double(parsed - start) / Double(n)
        let relayNs = Double(relayed - parsed) / Double(n)
        print("SIPCore perf: parse \(Int(parseNs)) ns/msg, parse+edit+serialize \(Int(relayNs)) ns/msg (\(sampleInvite.count) bytes)")
        #expect(sink > 0)
        #expect(parseNs < 200_000)
    }
}

@Suite struct FootprintTests {
    /// Every parsed message reserves room for 24 header fields, and each stored request (a transaction's,
    /// a suspended one) keeps its field array: 32-bit offsets, added lines kept in the message's `extra`
    /// buffer rather than one array per field, so that a field takes 16 bytes.
    @Test func headerFieldIsCompact() throws {
        #expect(MemoryLayout<HeaderField>.stride == 16)
        var m = try SIPMessage(parsing: sampleInvite)
        m.prependHeader(.via, "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKnew")
        let again = try SIPMessage(parsing: m.serialize())
        #expect(try again.topVia().branch == "z9hG4bKnew")
        #expect(again.fields.count == m.fields.count)
    }

    /// Added and rewritten lines live in `extra`: rewriting one again, splitting its values, copying it
    /// into a response and serializing all read the right bytes, and names keep their spelling.
    @Test func ownedLinesInTheExtraBuffer() throws {
        var m = try SIPMessage(parsing: sampleInvite)
        m.appendHeader(.other("X-Test"), "a, b")
        m.setHeader(.other("x-test"), "c, d")
        #expect(m.header(.other("X-TEST")) == "c, d")
        #expect(m.isHeaderRewritten(.other("X-Test")))
        #expect(m.removeFirstValue(.other("X-Test")) == "c")
        #expect(m.header(.other("X-Test")) == "d")
        m.prependHeader(.via, "SIP/2.0/UDP p1.example.com;branch=z9hG4bK1, SIP/2.0/UDP p2.example.com;branch=z9hG4bK2")
        #expect(m.removeFirstValue(.via) == "SIP/2.0/UDP p1.example.com;branch=z9hG4bK1")
        #expect(try m.topVia().branch == "z9hG4bK2")
        let wire = m.serialize()
        let again = try SIPMessage(parsing: wire)
        #expect(again.header(.other("X-Test")) == "d")
        #expect(String(decoding: wire, as: UTF8.self).contains("\r\nX-Test: d\r\n"))
        #expect(try again.topVia().branch == "z9hG4bK2")
        let response = try SIPMessage(parsing: SIPMessage.makeResponse(to: m, status: 200))
        #expect(try response.topVia().branch == "z9hG4bK2")
        #expect(response.headerValues(.via) == m.headerValues(.via))
    }

    /// A stored message keeps its start line and body bounds as 32-bit offsets (issue 19: a suspended
    /// transaction holds two messages inline).
    @Test func messageIsCompact() throws {
        #expect(MemoryLayout<SIPMessage>.size <= 96)
        let m = try SIPMessage(parsing: sampleInvite)
        #expect(m.method == .invite)
        #expect(m.body.count == m.contentLength)
    }

    /// A prepared line (a socket's Record-Route) gives the same bytes as the same line added as text;
    /// the first added line shares the prepared bytes, later edits copy them (value semantics).
    @Test func preparedHeaderLine() throws {
        let line = PreparedHeaderLine(.recordRoute, "<sip:10.0.0.1:5060;lr>")
        var text = try SIPMessage(parsing: sampleInvite)
        text.prependHeader(.recordRoute, "<sip:10.0.0.1:5060;lr>")
        var prepared = try SIPMessage(parsing: sampleInvite)
        prepared.prependHeader(line)
        #expect(prepared.serialize() == text.serialize())
        #expect(prepared.extra == line.bytes)
        prepared.prependHeader(line)
        text.prependHeader(.recordRoute, "<sip:10.0.0.1:5060;lr>")
        prepared.appendHeader(.other("X-After"), "1")
        text.appendHeader(.other("X-After"), "1")
        #expect(prepared.serialize() == text.serialize())
        #expect(prepared.headerValues(.recordRoute) == ["<sip:10.0.0.1:5060;lr>", "<sip:10.0.0.1:5060;lr>"])
        #expect(line.bytes == Array("Record-Route: <sip:10.0.0.1:5060;lr>".utf8))
    }

    /// A message about to be stored gives back its field list's spare room; it is the same message.
    @Test func trimmedFieldStorage() throws {
        var m = try SIPMessage(parsing: sampleInvite)
        m.prependHeader(.recordRoute, "<sip:10.0.0.1:5060;lr>")
        let before = m.serialize()
        #expect(m.fields.capacity > m.fields.count)
        m.trimFieldStorage()
        #expect(m.fields.capacity < m.fields.count + 3)
        #expect(m.serialize() == before)
        m.prependHeader(.via, "SIP/2.0/UDP p.example.com;branch=z9hG4bKx")
        #expect(try m.topVia().branch == "z9hG4bKx")
    }

    /// The transaction key keeps an RFC 3261 branch without its cookie (a small string: no heap storage
    /// for branches up to 22 characters) and any other branch marked; matching is on the full branch.
    @Test func transactionKeyBranch() {
        #expect(MemoryLayout<TransactionKey>.stride == 48)
        let branches = ["z9hG4bK-4321-1-0", "z9hG4bK", "z9hG4bK\u{0}x", "\u{0}x", "x", "2543|call@h|tag|1",
                        "z9hG4bKa", "Z9HG4BK-4321-1-0", "z9hG4bK" + String(repeating: "a", count: 40)]
        for branch in branches {
            let key = TransactionKey(branch: branch, sentBy: "h:5060", method: .invite)
            #expect(key.branch == branch)
            #expect(key.with(method: .ack).branch == branch)
            #expect(key.with(method: .ack).method == .ack)
            #expect(key.with(method: .ack).with(method: .invite) == key)
            for other in branches {
                let otherKey = TransactionKey(branch: other, sentBy: "h:5060", method: .invite)
                #expect((key == otherKey) == (branch == other), "\(branch) vs \(other)")
            }
        }
        var key = TransactionKey(branch: "x", sentBy: "h", method: .bye)
        key.branch = "z9hG4bKy"
        #expect(key == TransactionKey(branch: "z9hG4bKy", sentBy: "h", method: .bye))
        #expect(key.description == "z9hG4bKy|h|BYE")
    }

    /// A header name longer than a field can hold (65,535 bytes) is refused like any bad name.
    @Test func overlongHeaderNameIsRefused() {
        let name = String(repeating: "X", count: HeaderField.maximumNameLength + 1)
        let text = "OPTIONS sip:a@b SIP/2.0\r\n\(name): 1\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n"
        #expect(throws: SIPParseError.self) { try SIPMessage(parsing: Array(text.utf8), maxSize: 200_000) }
    }

}
