import Testing
@testable import SIPCore

/// Deterministic xorshift generator so fuzz runs are reproducible.
struct XorShift: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}

@Suite struct FuzzTests {
    /// Exercises every lazy accessor; must never crash whatever the input.
    func touchEverything(_ bytes: [UInt8]) {
        guard var m = try? SIPMessage(parsing: bytes) else { return }
        _ = m.method; _ = m.statusCode; _ = m.reasonPhrase; _ = m.requestURIText
        _ = try? m.requestURI()
        _ = try? m.topVia(); _ = try? m.vias(); _ = try? m.cseq(); _ = try? m.from(); _ = try? m.to()
        _ = try? m.maxForwards(); _ = try? m.contacts(); _ = try? m.routes(); _ = try? m.recordRoutes()
        _ = m.callID; _ = m.contentType; _ = m.body; _ = m.allHeaders; _ = m.transactionKey()
        _ = m.headerValues(.via); _ = m.headerValues(.contact)
        _ = try? m.validateForProxy()
        _ = SIPMessage.makeResponse(to: m, status: 400, toTag: "t")
        m.prependHeader(.via, "SIP/2.0/UDP p;branch=z9hG4bKf")
        _ = m.removeFirstValue(.route)
        _ = m.removeFirstValue(.via)
        _ = m.removeFirstValue(.via)
        _ = try? m.setTopViaParams(received: "1.2.3.4", rport: 1)
        m.setHeader(.maxForwards, "1")
        _ = try? SIPMessage(parsing: m.serialize())
    }

    @Test func randomBytesNeverCrash() {
        var rng = XorShift(state: 0x1234_5678_9abc_def1)
        let alphabet = Array("SIP/2.0 INVITE sip:@;,<>\"\\:=\r\n\t %ab19[]?&v".utf8)
        for i in 0..<3000 {
            let n = Int(rng.next() % 400)
            var b = [UInt8](repeating: 0, count: n)
            for j in 0..<n {
                b[j] = i % 2 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : alphabet[Int(rng.next() % UInt64(alphabet.count))]
            }
            touchEverything(b)
        }
    }

    /// The seed messages the mutators start from.
    static func seedMessages() throws -> [[UInt8]] {
        var seeds = [sampleInvite]
        for name in ["wsinv", "intmeth", "esc01", "longreq", "mpart01", "unreason", "badinv01", "clerr", "quotbal"] {
            seeds.append(try torture(name))
        }
        return seeds
    }

    /// Input `i` of a mutation run: seed `i % count` with 1–6 random edits.
    static func mutated(_ seeds: [[UInt8]], _ i: Int, _ rng: inout XorShift) -> [UInt8] {
        let interesting = Array("\r\n \t,;:<>\"\\%@[]?=0".utf8)
        var b = seeds[i % seeds.count]
        let edits = 1 + Int(rng.next() % 6)
        for _ in 0..<edits where !b.isEmpty {
            let pos = Int(rng.next() % UInt64(b.count))
            switch rng.next() % 4 {
            case 0: b[pos] = UInt8(truncatingIfNeeded: rng.next())
            case 1: b[pos] = interesting[Int(rng.next() % UInt64(interesting.count))]
            case 2: b.remove(at: pos)
            default: b.removeSubrange(pos..<min(b.count, pos + Int(rng.next() % 40)))
            }
        }
        return b
    }

    @Test func mutatedValidMessagesNeverCrash() throws {
        var rng = XorShift(state: 0xdead_beef_cafe_f00d)
        let seeds = try Self.seedMessages()
        for i in 0..<4000 {
            touchEverything(Self.mutated(seeds, i, &rng))
        }
    }

    /// The long run of `Perf/fuzz.sh` (skipped unless `TANDEM_FUZZ_SECONDS` is set): mutated messages and
    /// random bytes for that many seconds from `TANDEM_FUZZ_SEED`; each input is written to
    /// `$TANDEM_FUZZ_DIR/sip-current.bin` first, so a crash leaves the input that caused it.
    @Test(.enabled(if: LongFuzz.seconds != nil, "set TANDEM_FUZZ_SECONDS (Perf/fuzz.sh)"))
    func longRun() throws {
        var rng = XorShift(state: LongFuzz.seed | 1)
        let seeds = try Self.seedMessages()
        let recorder = LongFuzz.Recorder(name: "sip-current.bin")
        let end = LongFuzz.now() + (LongFuzz.seconds ?? 0)
        var i = 0
        while LongFuzz.now() < end {
            for _ in 0..<256 {
                let input: [UInt8]
                if i % 8 == 7 {
                    input = (0..<Int(rng.next() % 600)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                } else {
                    input = Self.mutated(seeds, i, &rng)
                }
                recorder.record(input)
                touchEverything(input)
                i += 1
            }
        }
        LongFuzz.report(name: "sip", inputs: i)
    }

    @Test func truncationsNeverCrash() throws {
        let seed = try torture("wsinv")
        for n in 0...seed.count { touchEverything(Array(seed[0..<n])) }
    }
}

@Suite struct ValueFuzzTests {
    @Test func valueParsersNeverCrash() {
        var rng = XorShift(state: 0x0bad_cafe_1234_5678)
        let alphabet = Array("sip:tel:@;,<>\"\\=?&%[]:/ \t\r\n0123456789abcdefSIP/2.0UDPz9hG4bK".utf8)
        for _ in 0..<5000 {
            let n = Int(rng.next() % 60)
            var b: [UInt8] = []
            for _ in 0..<n { b.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
            let s = String(decoding: b, as: UTF8.self)
            _ = try? Via(parsing: s)
            _ = try? NameAddr(parsing: s)
            _ = try? SIPURI(parsing: s)
            _ = try? URI(parsing: s)
            _ = try? TelURI(parsing: s)
            _ = try? CSeq(parsing: s)
            _ = URIEscaping.unescape(s)
            if let u = try? SIPURI(parsing: s) {
                var w = u
                w.port = 1
                _ = try? SIPURI(parsing: w.description)
                _ = u.isEquivalent(to: w)
            }
        }
    }
}
