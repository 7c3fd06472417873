import Glibc
import Testing
@testable import Reactor
import TandemTestSupport

@Suite struct UDPSocketTests {
    @Test func receiveOnEmptySocketWouldBlock() throws {
        let socket = try UDPSocket(bindingTo: loopback)
        var buffer = [UInt8](repeating: 0, count: 64)
        let result = try socket.receive(into: &buffer)
        #expect(result.isWouldBlock)
        // The same through the raw syscall layer (EAGAIN -> .wouldBlock, not an error).
        let raw = try buffer.withUnsafeMutableBytes { try System.read(socket.fd, into: $0) }
        #expect(raw == .wouldBlock)
    }

    @Test func reusePortLetsTwoSocketsBindSamePort() throws {
        let first = try UDPSocket(bindingTo: loopback, reusePort: true)
        let address = try first.localAddress()
        let second = try UDPSocket(bindingTo: address, reusePort: true)
        #expect(try second.localAddress() == address)
        // Without SO_REUSEPORT the same bind fails with EADDRINUSE.
        let error = #expect(throws: IOError.self) { _ = try UDPSocket(bindingTo: address) }
        #expect(error?.errno == EADDRINUSE)
        #expect(error?.function == "bind")
        #expect(error?.description.contains("Address already in use") == true)
    }

    @Test func bufferSizesAreConfigurable() throws {
        let socket = try UDPSocket(bindingTo: loopback, receiveBufferSize: 64 * 1024, sendBufferSize: 32 * 1024)
        #expect(try socket.receiveBufferSize() >= 64 * 1024)
        #expect(try socket.sendBufferSize() >= 32 * 1024)
    }

    @Test func roundTripAndTruncation() throws {
        let a = try UDPSocket(bindingTo: loopback)
        let b = try UDPSocket(bindingTo: loopback)
        let bAddress = try b.localAddress()
        let payload = [UInt8](repeating: 7, count: 100)
        #expect(try a.send(payload, to: bAddress) == .processed(100))
        var small = [UInt8](repeating: 0, count: 10)
        var datagram: UDPSocket.Datagram?
        for _ in 0..<100 {
            if case .processed(let d) = try b.receive(into: &small) { datagram = d; break }
            usleep(1000)
        }
        let d = try #require(datagram)
        #expect(d.count == 10)
        #expect(d.truncated)
        #expect(d.from == (try a.localAddress()))
    }

    @Test func ipv6Loopback() throws {
        guard let v6 = SocketAddress(ip: "::1", port: 0), let socket = try? UDPSocket(bindingTo: v6) else { return }
        let address = try socket.localAddress()
        #expect(address.family == .ipv6)
        #expect(address.port != 0)
        #expect(try socket.send([1, 2, 3], to: address) == .processed(3))
    }

    /// A port on 127.0.0.1 that nothing listens on (bound then closed).
    private func closedPort() throws -> SocketAddress {
        let temporary = try UDPSocket(bindingTo: loopback)
        let address = try temporary.localAddress()
        temporary.close()
        return address
    }

    @Test func connectedSocketSurfacesConnectionRefused() throws {
        let target = try closedPort()
        let socket = try UDPSocket(bindingTo: loopback)
        try socket.connect(to: target)
        #expect(try socket.send([1]) == .processed(1))
        var buffer = [UInt8](repeating: 0, count: 16)
        var caught: IOError?
        for _ in 0..<200 {
            do {
                _ = try socket.receive(into: &buffer)
            } catch {
                caught = error
                break
            }
            usleep(1000)
        }
        #expect(caught?.errno == ECONNREFUSED)
        #expect(caught?.isAsynchronousNetworkError == true)
    }

    @Test func unconnectedSocketWithoutRecvErrIsSilent() throws {
        // Documented Linux behaviour: ICMP errors are not reported on unconnected UDP sockets unless
        // IP_RECVERR is set.
        let target = try closedPort()
        let socket = try UDPSocket(bindingTo: loopback)
        #expect(try socket.send([1], to: target) == .processed(1))
        usleep(5000)
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(try socket.receive(into: &buffer).isWouldBlock)
        #expect(try socket.send([1], to: target) == .processed(1))
    }

    @Test func unconnectedSocketReportsICMPErrorsViaErrorQueue() throws {
        let target = try closedPort()
        let socket = try UDPSocket(bindingTo: loopback)
        try socket.enableErrorQueue()
        let reactor = try Reactor()
        let reports = Box<[UDPErrorReport]>([])
        let softErrors = Box<[IOError]>([])
        let id = try reactor.register(fd: socket.fd, interest: .read) { events in
            if events.contains(.error) {
                while case .processed(let report) = try! socket.readError() { reports.value.append(report) }
            }
            if events.contains(.readable) {
                var buffer = [UInt8](repeating: 0, count: 16)
                do throws(IOError) {
                    while case .processed = try socket.receive(into: &buffer) {}
                } catch {
                    softErrors.value.append(error)
                }
            }
        }
        #expect(try socket.send([1, 2, 3], to: target) == .processed(3))
        try spin(reactor) { !reports.value.isEmpty }
        let report = try #require(reports.value.first)
        #expect(report.errno == ECONNREFUSED)
        #expect(report.destination == target, "tells the proxy which destination failed")
        #expect(report.origin == .icmp)
        #expect(report.icmpType == 3 && report.icmpCode == 3, "ICMP port unreachable")
        #expect(report.offender?.ip == "127.0.0.1")
        #expect(softErrors.value.isEmpty, "the one-shot sk_err is absorbed; reports come via readError()")
        #expect(try socket.readError().isWouldBlock)
        reactor.deregister(id)
    }

    @Test("A send with pending ICMP errors for other destinations drains them, each attributed to its own destination, and goes through")
    func sendDrainsErrorQueueAndAttributesReports() throws {
        let closedA = try closedPort()
        let closedB = try closedPort()
        let socket = try UDPSocket(bindingTo: loopback)
        try socket.enableErrorQueue()
        let peer = try UDPSocket(bindingTo: loopback)
        for target in [closedA, closedA, closedA, closedB, closedB] {
            #expect(try socket.send([9], to: target) == .processed(1))
        }
        usleep(20_000)  // let the loopback ICMP errors arrive
        var reports: [SocketAddress?] = []
        for round in 0..<3 {
            #expect(try socket.send([UInt8(round)], to: try peer.localAddress()) { reports.append($0.destination) }
                    == .processed(1))
        }
        #expect(reports.count == 5, "every queued report handed over once: \(reports)")
        #expect(reports.filter { $0 == closedA }.count == 3)
        #expect(reports.filter { $0 == closedB }.count == 2)
        #expect(try socket.readError().isWouldBlock, "the queue is empty")
        var buffer = [UInt8](repeating: 0, count: 8)
        var got: [UInt8] = []
        for _ in 0..<200 where got.count < 3 {
            if case .processed(let d) = try peer.receive(into: &buffer) { got.append(buffer[0]); _ = d } else { usleep(1000) }
        }
        #expect(got == [0, 1, 2], "each datagram to the live peer arrived")
        // Reading the queue re-arms the pending error from the next report: drainErrorQueue clears both.
        #expect(try socket.send([9], to: closedA) == .processed(1))
        #expect(try socket.send([9], to: closedB) == .processed(1))
        usleep(20_000)
        var drained: [SocketAddress?] = []
        #expect(socket.drainErrorQueue { drained.append($0.destination) } == 2)
        #expect(drained == [closedA, closedB])
        #expect(try socket.send([7], to: try peer.localAddress()) { _ in Issue.record("no report left") } == .processed(1))
    }

    @Test func pendingICMPErrorDoesNotEatTheNextSend() throws {
        // Linux: with IP_RECVERR the ICMP error also sets sk_err, which would fail the next sendto (to any
        // destination) without sending. UDPSocket absorbs it, so the datagram to the live peer arrives.
        let target = try closedPort()
        let socket = try UDPSocket(bindingTo: loopback)
        try socket.enableErrorQueue()
        let peer = try UDPSocket(bindingTo: loopback)
        #expect(try socket.send([9], to: target) == .processed(1))
        usleep(5000)  // let the loopback ICMP arrive
        #expect(try socket.send([1, 2], to: try peer.localAddress()) == .processed(2))
        var buffer = [UInt8](repeating: 0, count: 8)
        var got: UDPSocket.Datagram?
        for _ in 0..<200 {
            if case .processed(let d) = try peer.receive(into: &buffer) { got = d; break }
            usleep(1000)
        }
        #expect(got?.count == 2)
        var buffer2 = [UInt8](repeating: 0, count: 8)
        #expect(try socket.receive(into: &buffer2).isWouldBlock, "no spurious ECONNREFUSED from receive")
        let report = try socket.readError()
        #expect(report.value?.destination == target)
    }
}

@Suite struct DatagramBatchTests {
    @Test func receivesManyDatagramsInOneCall() throws {
        let server = try UDPSocket(bindingTo: loopback)
        let client = try UDPSocket(bindingTo: loopback)
        let serverAddress = try server.localAddress()
        let batch = DatagramBatch(capacity: 8, bufferSize: 16)
        #expect(try server.receive(batch: batch).isWouldBlock)
        for i in 0..<5 { _ = try client.send(Array("d\(i)".utf8), to: serverAddress) }
        _ = try client.send([UInt8](repeating: 1, count: 40), to: serverAddress)  // truncated
        var texts: [String] = []
        var truncated = 0
        for _ in 0..<200 where texts.count + truncated < 6 {
            if case .processed(let n) = try server.receive(batch: batch) {
                for i in 0..<n {
                    #expect(batch.sender(at: i) == (try client.localAddress()))
                    if batch.isTruncated(at: i) {
                        truncated += 1
                        #expect(batch.bytes(at: i).count == 16)
                    } else {
                        texts.append(String(decoding: batch.bytes(at: i), as: UTF8.self))
                    }
                }
            } else {
                usleep(1000)
            }
        }
        #expect(texts == ["d0", "d1", "d2", "d3", "d4"])
        #expect(truncated == 1)
    }
}
