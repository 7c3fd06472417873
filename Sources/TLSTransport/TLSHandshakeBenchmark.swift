import Glibc

/// Full TLS handshakes between a client and a server session in memory (no sockets): the CPU cost of
/// TLS connection set-up alone, for `tandem bench-tls`.
public enum TLSHandshakeBenchmark {
    /// One run's figures.
    public struct Result: Sendable, CustomStringConvertible {
        /// Handshakes completed.
        public var handshakes: Int
        /// Handshakes that failed (should be 0).
        public var failures: Int
        /// Wall-clock seconds for all of them.
        public var seconds: Double
        /// The protocol version the last handshake negotiated.
        public var version: String

        /// Completed handshakes per second.
        public var perSecond: Double { seconds > 0 ? Double(handshakes) / seconds : 0 }

        public var description: String {
            let rate = (perSecond * 10).rounded() / 10
            let micros = handshakes > 0 ? Int(seconds * 1_000_000 / Double(handshakes)) : 0
            return "\(handshakes) \(version) handshakes (client + server in one thread) in \((seconds * 1000).rounded() / 1000) s: \(rate) handshakes/s, \(micros) µs each, \(failures) failed"
        }
    }

    /// Runs `count` handshakes (each a fresh session pair, one message exchanged), stopping early after
    /// `limitSeconds`.
    public static func run(server: TLSContext, client: TLSContext, count: Int, limitSeconds: Double = 60) -> Result {
        var result = Result(handshakes: 0, failures: 0, seconds: 0, version: "?")
        let start = now()
        let payload = Array("OPTIONS sip:bench SIP/2.0\r\n\r\n".utf8)
        for _ in 0..<count {
            guard let s = try? server.makeSession(peer: "bench-client"),
                  let c = try? client.makeSession(peer: "bench-server") else {
                result.failures += 1
                continue
            }
            try? c.send(plaintext: payload)
            var delivered: [UInt8] = []
            for _ in 0..<10 where c.wantsWrite || s.wantsWrite {
                if let data = try? s.receive(ciphertext: c.takeOutput()) { delivered += data }
                if s.wantsWrite { _ = try? c.receive(ciphertext: s.takeOutput()) }
            }
            if s.state == .established && c.state == .established && delivered == payload {
                result.handshakes += 1
                result.version = c.protocolVersion ?? "?"
            } else {
                result.failures += 1
            }
            if now() - start > limitSeconds { break }
        }
        result.seconds = now() - start
        return result
    }

    private static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}
