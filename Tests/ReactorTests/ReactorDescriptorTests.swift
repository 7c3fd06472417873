import Glibc
import Testing
@testable import Reactor
import TandemTestSupport

@Suite struct ReactorDescriptorTests {
    @Test func pipeReadiness() throws {
        let reactor = try Reactor()
        let (r, w) = try System.pipe()
        defer { try? System.close(r); try? System.close(w) }
        let received = Box<[UInt8]>([])
        let id = try reactor.register(fd: r, interest: .read) { events in
            #expect(events.contains(.readable))
            var buffer = [UInt8](repeating: 0, count: 64)
            while case .processed(let n) = try! buffer.withUnsafeMutableBytes({ try System.read(r, into: $0) }), n > 0 {
                received.value += buffer[..<n]
            }
        }
        #expect(try reactor.runOnce(timeoutMs: 0) == 0, "nothing ready yet")
        try writeBytes(w, [1, 2, 3])
        #expect(try reactor.runOnce(timeoutMs: 1000) == 1)
        #expect(received.value == [1, 2, 3])
        #expect(reactor.deregister(id))
        #expect(!reactor.deregister(id), "idempotent")
        try writeBytes(w, [4])
        #expect(try reactor.runOnce(timeoutMs: 0) == 0, "deregistered fd is not watched")
    }

    @Test func hangupWhenWriterCloses() throws {
        let reactor = try Reactor()
        let (r, w) = try System.pipe()
        defer { try? System.close(r) }
        let seen = Box<ReadyEvents>([])
        let id = try reactor.register(fd: r, interest: .read) { seen.value.formUnion($0) }
        try System.close(w)
        try reactor.runOnce(timeoutMs: 1000)
        #expect(seen.value.contains(.hangup))
        reactor.deregister(id)
    }

    @Test func modifyInterest() throws {
        let reactor = try Reactor()
        let (r, w) = try System.pipe()
        defer { try? System.close(r); try? System.close(w) }
        let writable = Box(0)
        let id = try reactor.register(fd: w, interest: []) { events in
            if events.contains(.writable) { writable.value += 1 }
        }
        try reactor.runOnce(timeoutMs: 0)
        #expect(writable.value == 0, "no interest, no events")
        try reactor.modify(id, interest: .write)
        #expect(reactor.interest(of: id) == .write)
        try reactor.runOnce(timeoutMs: 1000)
        #expect(writable.value == 1)
        try reactor.modify(id, interest: [])
        try reactor.runOnce(timeoutMs: 0)
        #expect(writable.value == 1)
        reactor.deregister(id)
        #expect(throws: IOError.self) { try reactor.modify(id, interest: .write) }
    }

    @Test func callbackDeregistersItselfAndOthersInSameBatch() throws {
        let reactor = try Reactor()
        let a = try System.pipe(), b = try System.pipe()
        defer { for fd in [a.read, a.write, b.read, b.write] { try? System.close(fd) } }
        let calls = Box<[String]>([])
        let ids = Box<[RegistrationID]>([])
        // Whichever fires first removes both; the other's event in the same batch must be dropped.
        for (name, fd) in [("a", a.read), ("b", b.read)] {
            ids.value.append(try reactor.register(fd: fd, interest: .read) { _ in
                calls.value.append(name)
                for id in ids.value { reactor.deregister(id) }
            })
        }
        try writeBytes(a.write, [1])
        try writeBytes(b.write, [1])
        try reactor.runOnce(timeoutMs: 1000)
        #expect(calls.value.count == 1)
        #expect(reactor.registrationCount == 0)
        try reactor.runOnce(timeoutMs: 0)
        #expect(calls.value.count == 1)
    }

    @Test func staleEventAfterSlotReuseIsDropped() throws {
        // Both fds are ready in one batch. Whichever callback runs first deregisters the other and
        // registers C, which reuses the freed slot: the other's stale event must reach neither C nor it.
        let reactor = try Reactor()
        let a = try System.pipe(), b = try System.pipe(), c = try System.pipe()
        defer { for p in [a, b, c] { try? System.close(p.read); try? System.close(p.write) } }
        try writeBytes(c.write, [1])  // C is readable too, so a wrongly delivered event would run it
        let log = Box<[String]>([])
        let ids = Box<[String: RegistrationID]>([:])
        let handler: (String, String) -> Reactor.Callback = { me, other in
            { _ in
                log.value.append(me)
                guard log.value.count == 1 else { return }
                let otherID = ids.value[other]!
                reactor.deregister(otherID)
                let cID = try! reactor.register(fd: c.read, interest: .read) { _ in log.value.append("c") }
                #expect(cID.index == otherID.index, "slot recycled")
            }
        }
        ids.value["a"] = try reactor.register(fd: a.read, interest: .read, callback: handler("a", "b"))
        ids.value["b"] = try reactor.register(fd: b.read, interest: .read, callback: handler("b", "a"))
        try writeBytes(a.write, [1])
        try writeBytes(b.write, [1])
        try reactor.runOnce(timeoutMs: 1000)
        #expect(log.value.count == 1, "stale event was dispatched: \(log.value)")
        try reactor.runOnce(timeoutMs: 1000)
        #expect(log.value.last == "c", "C works normally afterwards: \(log.value)")
        reactor.close()
    }

    @Test func callbackRegistersNewDescriptor() throws {
        let reactor = try Reactor()
        let a = try System.pipe(), b = try System.pipe()
        defer { for fd in [a.read, a.write, b.read, b.write] { try? System.close(fd) } }
        let got = Box<[String]>([])
        let aID = Box<RegistrationID?>(nil)
        aID.value = try reactor.register(fd: a.read, interest: .read) { _ in
            got.value.append("a")
            reactor.deregister(aID.value!)
            _ = try! reactor.register(fd: b.read, interest: .read) { _ in got.value.append("b") }
        }
        try writeBytes(a.write, [1])
        try writeBytes(b.write, [1])
        try reactor.runOnce(timeoutMs: 1000)
        try reactor.runOnce(timeoutMs: 1000)
        #expect(got.value == ["a", "b"])
    }

    @Test func udpDatagramsDispatched() throws {
        let reactor = try Reactor()
        let server = try UDPSocket(bindingTo: loopback)
        let client = try UDPSocket(bindingTo: loopback)
        let serverAddress = try server.localAddress()
        let clientAddress = try client.localAddress()
        var buffer = [UInt8](repeating: 0, count: 2048)
        let got = Box<[(String, SocketAddress)]>([])
        let id = try reactor.register(fd: server.fd, interest: .read) { _ in
            while case .processed(let d) = try! server.receive(into: &buffer) {
                got.value.append((String(decoding: buffer[..<d.count], as: UTF8.self), d.from))
            }
        }
        for i in 0..<10 {
            #expect(try client.send(Array("msg\(i)".utf8), to: serverAddress) == .processed(4))
        }
        try spin(reactor) { got.value.count == 10 }
        #expect(got.value.map(\.0) == (0..<10).map { "msg\($0)" })
        #expect(got.value.allSatisfy { $0.1 == clientAddress })
        reactor.deregister(id)
    }

    @Test func closeDropsEverything() throws {
        let reactor = try Reactor()
        let (r, w) = try System.pipe()
        defer { try? System.close(r); try? System.close(w) }
        _ = try reactor.register(fd: r, interest: .read) { _ in }
        reactor.schedule(afterMilliseconds: 1) {}
        reactor.close()
        #expect(reactor.registrationCount == 0)
        #expect(reactor.timerCount == 0)
        #expect(!reactor.execute {})
        #expect(throws: IOError.self) { try reactor.runOnce(timeoutMs: 0) }
        reactor.close()  // idempotent
    }

    @Test("an exclusive registration lets several reactors watch one descriptor; it cannot be modified")
    func exclusiveRegistration() throws {
        let first = try Reactor()
        let second = try Reactor()
        let (r, w) = try System.pipe()
        defer { try? System.close(r); try? System.close(w) }
        let seen = Box<[Int]>([])
        let a = try first.register(fd: r, interest: [.read, .exclusive]) { _ in seen.value.append(1) }
        let b = try second.register(fd: r, interest: [.read, .exclusive]) { _ in seen.value.append(2) }
        try writeBytes(w, [1])
        // Neither loop was blocked in epoll_wait, so the event is queued for both (level-triggered).
        #expect(try first.runOnce(timeoutMs: 1000) == 1)
        #expect(try second.runOnce(timeoutMs: 1000) == 1)
        #expect(seen.value == [1, 2])
        #expect(first.interest(of: a) == [.read, .exclusive])
        #expect(throws: IOError.self) { try first.modify(a, interest: .read) }
        #expect(throws: IOError.self) { try second.modify(b, interest: [.read, .write, .exclusive]) }
        #expect(first.deregister(a))
        #expect(second.deregister(b))
    }
}
