import Reactor
import Testing
@testable import TandemProxy

/// The stream framer (RFC 3261 §18.3 Content-Length framing, RFC 5626 keep-alives) on bytes alone.
@Suite struct StreamFramerTests {
    static func message(_ callID: String, body: String = "") -> String {
        "OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-\(callID)\r\n"
            + "Call-ID: \(callID)\r\nCSeq: 1 OPTIONS\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
    }

    static func events(_ framer: inout StreamFramer) throws -> [StreamFramer.Event] {
        var events: [StreamFramer.Event] = []
        while let event = try framer.next() { events.append(event) }
        return events
    }

    @Test("a message split over many reads comes out once, whole")
    func splitReads() throws {
        let text = Array(Self.message("split", body: "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n").utf8)
        var framer = StreamFramer(maxMessageSize: 65_536)
        var seen: [StreamFramer.Event] = []
        for start in stride(from: 0, to: text.count, by: 7) {
            framer.append(Array(text[start..<min(text.count, start + 7)]))
            seen += try Self.events(&framer)
            if start + 7 < text.count { #expect(seen.isEmpty) }
        }
        #expect(seen == [.message(text)])
        #expect(!framer.hasPartialMessage)
    }

    @Test("several messages in one read come out in order")
    func severalInOneRead() throws {
        let a = Self.message("a"), b = Self.message("b", body: "hello"), c = Self.message("c")
        var framer = StreamFramer(maxMessageSize: 65_536)
        framer.append(Array((a + b + c).utf8))
        #expect(try Self.events(&framer) == [.message(Array(a.utf8)), .message(Array(b.utf8)), .message(Array(c.utf8))])
    }

    @Test("CRLFCRLF is a ping, a lone CRLF a pong; a split ping waits for its second half")
    func keepAlives() throws {
        var framer = StreamFramer(maxMessageSize: 65_536)
        framer.append(Array("\r\n\r\n".utf8))
        #expect(try Self.events(&framer) == [.ping])
        framer.append(Array("\r\n".utf8))
        #expect(try Self.events(&framer) == [])
        #expect(!framer.hasPartialMessage, "a keep-alive half is no message: the header timer does not run")
        framer.append(Array("\r\n".utf8))
        #expect(try Self.events(&framer) == [.ping])
        let m = Self.message("after")
        framer.append(Array(("\r\n" + m).utf8))
        #expect(try Self.events(&framer) == [.pong, .message(Array(m.utf8))])
    }

    @Test("no Content-Length on a stream is an error (400 then close)")
    func missingContentLength() {
        var framer = StreamFramer(maxMessageSize: 65_536)
        framer.append(Array("OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n".utf8))
        #expect(throws: StreamFramer.Failure.missingContentLength) { try framer.next() }
    }

    @Test("a Content-Length that is not a number is an error; compact l: counts")
    func badAndCompactContentLength() throws {
        var bad = StreamFramer(maxMessageSize: 65_536)
        bad.append(Array("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 12x\r\n\r\n".utf8))
        #expect(throws: StreamFramer.Failure.badContentLength) { try bad.next() }
        var compact = StreamFramer(maxMessageSize: 65_536)
        let text = "OPTIONS sip:a@b SIP/2.0\r\nl : 3\r\n\r\nabc"
        compact.append(Array(text.utf8))
        #expect(try compact.next() == .message(Array(text.utf8)))
    }

    @Test("a message over the limit is refused, from its Content-Length or its endless header")
    func oversize() {
        var framer = StreamFramer(maxMessageSize: 2_000)
        framer.append(Array("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 5000\r\n\r\n".utf8))
        #expect(throws: StreamFramer.Failure.tooLarge) { try framer.next() }
        var endless = StreamFramer(maxMessageSize: 2_000)
        endless.append(Array(("OPTIONS sip:a@b SIP/2.0\r\n" + String(repeating: "X-Pad: 0123456789\r\n", count: 200)).utf8))
        #expect(throws: StreamFramer.Failure.tooLarge) { try endless.next() }
    }

    @Test("a 70 KB message passes under the default limit")
    func seventyKilobytes() throws {
        let body = String(repeating: "a", count: 70_000)
        let text = Self.message("big", body: body)
        var framer = StreamFramer(maxMessageSize: StreamSettings().maxMessageSize)
        framer.append(Array(text.utf8))
        #expect(try framer.next() == .message(Array(text.utf8)))
    }

    @Test("garbage after a valid message: the message comes out, then the error")
    func garbageAfterMessage() throws {
        let m = Self.message("ok")
        var framer = StreamFramer(maxMessageSize: 65_536)
        framer.append(Array((m + "\u{1}\u{2}garbage").utf8))
        #expect(try framer.next() == .message(Array(m.utf8)))
        #expect(throws: StreamFramer.Failure.garbage) { try framer.next() }
    }

    @Test("a half message is partial (the header read timer runs)")
    func partial() throws {
        var framer = StreamFramer(maxMessageSize: 65_536)
        framer.append(Array("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP".utf8))
        #expect(try framer.next() == nil)
        #expect(framer.hasPartialMessage)
    }
}

/// The connection table shared by the workers.
@Suite struct StreamHubTests {
    @Test("connections are found by id and by peer; the newest to a peer is reused, an older one takes over")
    func table() {
        let hub = StreamHub(settings: StreamSettings())
        let peer = SocketAddress(ip: "192.0.2.7", port: 5060)!
        let first = StreamHub.Entry(id: hub.makeID(), worker: 0, remote: peer, socketIndex: 1, transport: .tcp,
                                    outgoing: false)
        let second = StreamHub.Entry(id: hub.makeID(), worker: 1, remote: peer, socketIndex: 1, transport: .tcp,
                                     outgoing: true)
        hub.insert(first)
        #expect(hub.connection(to: peer) == first)
        hub.insert(second)
        #expect(hub.connection(to: peer) == second)
        #expect(hub.connection(id: first.id) == first)
        #expect(hub.connection(to: peer, transport: .tls) == nil)
        hub.remove(second)
        #expect(hub.connection(to: peer) == first, "the older connection to the peer takes over")
        hub.remove(first)
        #expect(hub.connection(to: peer) == nil)
        #expect(hub.entries.isEmpty)
    }

    @Test("socket indexes: UDP first, then TCP; the outgoing socket follows the next hop's transport")
    func socketSelection() {
        var settings = ProxySettings(listen: [SocketAddress(ip: "127.0.0.1", port: 5060)!,
                                              SocketAddress(ip: "::1", port: 5060)!])
        settings.tcpListen = [SocketAddress(ip: "127.0.0.1", port: 5060)!, SocketAddress(ip: "::1", port: 5062)!]
        #expect(settings.transport(at: 0) == .udp)
        #expect(settings.transport(at: 2) == .tcp)
        #expect(settings.socketName(at: 3) == "tcp:[::1]:5062")
        #expect(settings.outgoingSocket(for: .tcp, family: .ipv4, incoming: 0) == 2)
        #expect(settings.outgoingSocket(for: .tcp, family: .ipv6, incoming: 0) == 3)
        #expect(settings.outgoingSocket(for: nil, family: .ipv4, incoming: 2) == 0)
        #expect(settings.outgoingSocket(for: .udp, family: .ipv4, incoming: 0) == 0)
        #expect(settings.outgoingSocket(for: .tls, family: .ipv4, incoming: 1) == 1, "no TLS socket: the incoming one")
    }
}
