import CAres
import Glibc
import Reactor

/// One question asked with a private c-ares channel on the calling thread, waiting in `poll` (the
/// blocking form of `dns_query`, called outside `async()`, bounded by `timeoutMs`).
enum AresBlockingQuery {
    private final class Outcome {
        var status: Int32 = ARES_ETIMEOUT
        var reply: [UInt8]?
        var done = false
    }

    static func run(_ question: DNSQuestion, settings: DNSSettings, timeoutMs: UInt64) -> DNSAnswer {
        var (options, mask) = AresChannel.options(for: settings)
        var created: ares_channel?
        guard ares_init_options(&created, &options, mask) == ARES_SUCCESS, let channel = created else {
            return .failure(.malformed)
        }
        defer { ares_destroy(channel) }
        if !settings.servers.isEmpty,
           ares_set_servers_ports_csv(channel, settings.servers.joined(separator: ",")) != ARES_SUCCESS {
            return .failure(.malformed)
        }
        let outcome = Outcome()
        let arg = Unmanaged.passRetained(outcome).toOpaque()
        ares_query(channel, question.name, 1 /* C_IN */, Int32(question.type.rawValue), { arg, status, _, abuf, alen in
            guard let arg else { return }
            let outcome = Unmanaged<Outcome>.fromOpaque(arg).takeRetainedValue()
            outcome.status = status
            outcome.reply = abuf.map { Array(UnsafeBufferPointer(start: $0, count: Int(max(0, alen)))) }
            outcome.done = true
        }, arg)
        let deadline = System.monotonicNanoseconds() + timeoutMs * 1_000_000
        let bad = tandem_ares_socket_bad()
        while !outcome.done {
            let now = System.monotonicNanoseconds()
            guard now < deadline else { return .failure(.timeout) }
            // poll, not select: a busy proxy holds descriptors above FD_SETSIZE (thousands of TCP
            // connections), and an fd_set cannot name them (glibc aborts the process).
            let waits = sockets(of: channel, bad: bad)
            if waits.isEmpty { break }
            let leftUs = (deadline - now) / 1000
            var limit = timeval(tv_sec: Int(leftUs / 1_000_000), tv_usec: Int(leftUs % 1_000_000))
            var wait = timeval()
            let timeout = ares_timeout(channel, &limit, &wait)
            let waitMs = timeout.map { Int32(clamping: $0.pointee.tv_sec * 1000 + ($0.pointee.tv_usec + 999) / 1000) } ?? -1
            var polled = waits
            let ready = polled.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), waitMs) }
            if ready <= 0 {
                ares_process_fd(channel, bad, bad)  // timeouts and retries
                continue
            }
            for entry in polled where entry.revents != 0 {
                let readable = entry.revents & Int16(POLLIN | POLLERR | POLLHUP) != 0
                let writable = entry.revents & Int16(POLLOUT) != 0
                ares_process_fd(channel, readable ? entry.fd : bad, writable ? entry.fd : bad)
            }
        }
        return DNSResolver.answer(to: question, status: outcome.status, reply: outcome.reply, settings: settings)
    }

    /// The channel's sockets and what each waits for, from `ares_getsock`'s bit mask (bit i: socket i
    /// readable; bit i + `ARES_GETSOCK_MAXNUM`: writable).
    private static func sockets(of channel: ares_channel, bad: ares_socket_t) -> [pollfd] {
        let maximum = Int(ARES_GETSOCK_MAXNUM)
        var socks = [ares_socket_t](repeating: bad, count: maximum)
        let mask = socks.withUnsafeMutableBufferPointer { ares_getsock(channel, $0.baseAddress, Int32(maximum)) }
        var waits: [pollfd] = []
        for index in 0..<maximum {
            var events: Int16 = 0
            if mask & (1 << index) != 0 { events |= Int16(POLLIN) }
            if mask & (1 << (index + maximum)) != 0 { events |= Int16(POLLOUT) }
            if events != 0 { waits.append(pollfd(fd: socks[index], events: events, revents: 0)) }
        }
        return waits
    }
}
