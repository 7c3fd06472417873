@testable import SIPCore
import Testing

/// `firstTopLevel` / `secondTopLevelStart` (removing the top Via of a reply without building the list)
/// agree with `splitTopLevel`, and `dropFirstValue` edits a message as `removeFirstValue` does.
@Suite struct FirstValueRemovalTests {
    static let corpus = [
        "a", "a, b", " a ,b , c ", "a,", ",a", ",", " , ", "", "   ", "<sip:a,b>, c", "\"x,y\" <sip:a>, <sip:b>",
        "\"x\\\",\" , y", "a,,b", "a, , b", "<a, b", "a>, b", "SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/UDP g",
    ]

    static func mutations(_ count: Int) -> [[UInt8]] {
        let alphabet = Array("ab ,<>\"\\\t;=".utf8)
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17
            return Int(truncatingIfNeeded: seed & 0x7FFF_FFFF)
        }
        var out: [[UInt8]] = corpus.map { Array($0.utf8) }
        for _ in 0..<count {
            var bytes = Array(corpus[next() % corpus.count].utf8)
            for _ in 0...(next() % 4) {
                bytes.insert(alphabet[next() % alphabet.count], at: next() % (bytes.count + 1))
            }
            out.append(bytes)
        }
        return out
    }

    @Test func agreeWithSplitTopLevel() {
        for bytes in Self.mutations(20_000) {
            let v = bytes[...]
            let parts = splitTopLevel(v)
            #expect(firstTopLevel(v) == parts.first, "\(String(decoding: bytes, as: UTF8.self))")
            #expect(secondTopLevelStart(v) == (parts.count > 1 ? parts[1].lowerBound : nil),
                    "\(String(decoding: bytes, as: UTF8.self))")
        }
    }

    /// `serializedWithoutTopVia()` writes what `dropFirstValue(.via)` then `serialize()` write: the Via
    /// lines of the corpus above (blank, several values, quoted commas, folded, compact `v`), each above a
    /// second Via line, and their mutations.
    @Test func serializedWithoutTopViaAsDropFirstValue() throws {
        var checked = 0
        for (n, bytes) in Self.mutations(5_000).enumerated() {
            let value = String(decoding: bytes, as: UTF8.self)
            let name = n % 3 == 0 ? "v" : "Via"
            let fold = n % 5 == 0 ? "\r\n " : ""
            let text = "SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\(name): \(fold)\(value)\r\nX: 1\r\nVia: SIP/2.0/UDP c;branch=z9hG4bK3\r\n"
                + "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n"
            guard let message = try? SIPMessage(parsing: Array(text.utf8)) else { continue }
            checked += 1
            var dropped = message
            dropped.dropFirstValue(.via)
            #expect(message.serializedWithoutTopVia() == dropped.serialize(), "\(text.debugDescription)")
            // A message edited before (a Via added on top, owned by the message) drops that one.
            var edited = message
            edited.prependHeader(.via, "SIP/2.0/UDP e;branch=z9hG4bK9, SIP/2.0/UDP f")
            var editedDropped = edited
            editedDropped.dropFirstValue(.via)
            #expect(edited.serializedWithoutTopVia() == editedDropped.serialize(), "\(text.debugDescription)")
        }
        #expect(checked > 4_000)
    }

    @Test func dropFirstValueEditsAsRemoveFirstValue() throws {
        for via in ["SIP/2.0/UDP a;branch=z9hG4bK1", "SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2",
                    " , SIP/2.0/UDP b;branch=z9hG4bK2", "SIP/2.0/UDP a;branch=z9hG4bK1,"] {
            let text = "SIP/2.0 200 OK\r\nVia: \(via)\r\nVia: SIP/2.0/UDP c;branch=z9hG4bK3\r\n"
                + "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
            let message = try SIPMessage(parsing: Array(text.utf8))
            var removed = message
            var dropped = message
            removed.removeFirstValue(.via)
            dropped.dropFirstValue(.via)
            #expect(removed.serialize() == dropped.serialize(), "\(via)")
            removed.removeFirstValue(.via)
            dropped.dropFirstValue(.via)
            #expect(removed.serialize() == dropped.serialize(), "\(via)")
        }
    }
}
