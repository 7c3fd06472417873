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

    /// A header name longer than a field can hold (65,535 bytes) is refused like any bad name.
    @Test func overlongHeaderNameIsRefused() {
        let name = String(repeating: "X", count: HeaderField.maximumNameLength + 1)
        let text = "OPTIONS sip:a@b SIP/2.0\r\n\(name): 1\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n"
        #expect(throws: SIPParseError.self) { try SIPMessage(parsing: Array(text.utf8), maxSize: 200_000) }
    }

}
