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
    /// a suspended one) keeps its field array: the offsets are 32-bit so that a field takes 32 bytes.
    @Test func headerFieldIsCompact() throws {
        #expect(MemoryLayout<HeaderField>.stride == 32)
        var m = try SIPMessage(parsing: sampleInvite)
        m.prependHeader(.via, "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKnew")
        let again = try SIPMessage(parsing: m.serialize())
        #expect(try again.topVia().branch == "z9hG4bKnew")
        #expect(again.fields.count == m.fields.count)
    }
}
