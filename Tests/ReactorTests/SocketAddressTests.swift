import Glibc
import Testing
@testable import Reactor

@Suite struct SocketAddressTests {
    @Test func ipv4RoundTrip() throws {
        let a = try #require(SocketAddress(ip: "192.0.2.10", port: 5060))
        #expect(a.family == .ipv4)
        #expect(a.ip == "192.0.2.10")
        #expect(a.port == 5060)
        #expect(a.description == "192.0.2.10:5060")
        #expect(SocketAddress("192.0.2.10:5060") == a)
        #expect(!a.isLoopback)
        #expect(SocketAddress(ip: "127.0.0.5", port: 1)!.isLoopback)
    }

    /// The IPv4 text written without inet_ntop is inet_ntop's, byte for byte (edge octets and a seeded
    /// sample of addresses).
    @Test func ipv4TextMatchesInetNtop() {
        func ntop(_ address: UInt32) -> String {
            var a = in_addr(s_addr: address.bigEndian)
            var buffer = [CChar](repeating: 0, count: 64)
            _ = inet_ntop(AF_INET, &a, &buffer, 64)
            return String(cString: buffer)
        }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var samples: [UInt32] = [0, .max, 0x7F00_0001, 0x0A00_0009, 0x6464_6464, 0x6363_6363, 0x0909_0909, 0xC0A8_01FF]
        for _ in 0..<20_000 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            samples.append(UInt32(truncatingIfNeeded: state))
        }
        for address in samples {
            #expect(SocketAddress.dottedDecimal(address) == ntop(address))
            let text = ntop(address)
            #expect(SocketAddress(ip: text, port: 1)?.ip == text)
        }
    }

    /// Dotted decimal read without inet_pton accepts exactly what inet_pton(AF_INET) accepts, with the
    /// same address (fixed cases and 20,000 seeded random strings of digits, dots and a few others).
    @Test func ipv4ParseMatchesInetPton() {
        func pton(_ text: String) -> UInt32? {
            var a = in_addr()
            guard text.withCString({ inet_pton(AF_INET, $0, &a) }) == 1 else { return nil }
            return UInt32(bigEndian: a.s_addr)
        }
        var inputs = ["1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3.04", "1.2.3", "1.2.3.4.",
                      ".1.2.3.4", "1..2.3", "1.2.3.4.5", "", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4\u{0}x", "127.0.0.1",
                      "1.2.3.400", "0.0.0.00", "10.0.0.255", "::1", "1.2.3.a", "4294967295"]
        let alphabet = Array("0123456789...\u{0}a: ".unicodeScalars)
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(truncatingIfNeeded: state & 0x7FFF_FFFF)
        }
        for _ in 0..<20_000 {
            // Four numbers (some with a leading zero, some above 255), then up to two characters replaced.
            var scalars = Array((0..<4).map { _ in (next() % 5 == 0 ? "0" : "") + String(next() % 300) }
                .joined(separator: ".").unicodeScalars)
            for _ in 0..<(next() % 3) { scalars[next() % scalars.count] = alphabet[next() % alphabet.count] }
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars)
            inputs.append(text)
        }
        var accepted = 0
        for text in inputs {
            let expected = pton(text)
            #expect(SocketAddress.parseDottedDecimal(Substring(text).utf8) == expected, "\(text.debugDescription)")
            if let expected {
                accepted += 1
                #expect(SocketAddress(ip: text, port: 5)?.ip == SocketAddress.dottedDecimal(expected))
            }
        }
        #expect(accepted > 100)
    }

    @Test func ipv6RoundTrip() throws {
        let a = try #require(SocketAddress(ip: "2001:db8::1", port: 5061))
        #expect(a.family == .ipv6)
        #expect(a.ip == "2001:db8::1")
        #expect(a.description == "[2001:db8::1]:5061")
        #expect(SocketAddress("[2001:db8::1]:5061") == a)
        #expect(SocketAddress(ip: "[::1]", port: 5)!.isLoopback)
        #expect(SocketAddress("::1", defaultPort: 5060) == SocketAddress(ip: "::1", port: 5060))
    }

    @Test func rejectsNonNumeric() {
        #expect(SocketAddress(ip: "example.com", port: 5060) == nil)
        #expect(SocketAddress(ip: "1.2.3.256", port: 5060) == nil)
        #expect(SocketAddress("1.2.3.4:99999") == nil)
        #expect(SocketAddress("1.2.3.4") == nil)
        #expect(SocketAddress("[::1") == nil)
    }

    @Test func hashableAndPortChange() {
        let a = SocketAddress(ip: "10.0.0.1", port: 1)!
        let b = SocketAddress(ip: "10.0.0.1", port: 2)!
        #expect(a != b)
        #expect(a.withPort(2) == b)
        #expect(Set([a, b, a.withPort(2)]).count == 2)
        #expect(SocketAddress(ip: "::ffff:10.0.0.1", port: 1) != a, "v4-mapped v6 is a different address")
    }

    @Test func sockaddrConversionRoundTrip() {
        for text in ["127.0.0.1:9", "[fe80::1:2]:65535"] {
            let a = SocketAddress(text)!
            let back = a.withSockAddr { ptr, len in
                SocketAddress(bytes: UnsafeRawBufferPointer(start: ptr, count: Int(len)), length: len)
            }
            #expect(back == a)
        }
    }
}
