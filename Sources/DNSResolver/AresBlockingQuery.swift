import CAres
import Glibc
import Reactor

/// One question asked with a private c-ares channel on the calling thread, waiting in `select` (the
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
        while !outcome.done {
            let now = System.monotonicNanoseconds()
            guard now < deadline else { return .failure(.timeout) }
            var readers = fd_set(), writers = fd_set()
            let count = ares_fds(channel, &readers, &writers)
            if count == 0 { break }
            let leftUs = (deadline - now) / 1000
            var limit = timeval(tv_sec: Int(leftUs / 1_000_000), tv_usec: Int(leftUs % 1_000_000))
            var wait = timeval()
            let timeout = ares_timeout(channel, &limit, &wait)
            _ = select(count, &readers, &writers, nil, timeout)
            ares_process(channel, &readers, &writers)
        }
        return DNSResolver.answer(to: question, status: outcome.status, reply: outcome.reply, settings: settings)
    }
}
