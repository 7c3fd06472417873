import CAres
import Glibc
import Reactor

/// One c-ares channel driven by a worker's ``Reactor``: c-ares reports the sockets it wants watched
/// through its socket-state callback (`ARES_OPT_SOCK_STATE_CB`); readiness is fed back with
/// `ares_process_fd`, and one reactor timer, re-armed from `ares_timeout` after every step, drives
/// its retransmissions and timeouts. Nothing here blocks: c-ares sends UDP queries on non-blocking
/// sockets and reads resolv.conf only when the channel is created.
///
/// Per query it costs as little as c-ares allows: the sockets stay open between queries
/// (`ARES_FLAG_STAYOPEN`: no socket, connect and epoll registration each time the channel runs out of
/// queries), and the timer is only re-armed when the one armed would fire later than a new query's
/// first timeout (c-ares never sets an earlier one), so most queries and answers touch no timer (an early
/// wake-up costs one `ares_process_fd` and a re-arm).
///
/// Loop-thread only (not `Sendable`).
final class AresChannel {
    let reactor: Reactor
    private var channel: ares_channel?
    private var sockets: [Int32: RegistrationID] = [:]
    private var timer: TimerID?
    /// When the armed ``timer`` fires.
    private var timerDeadline: Deadline?
    /// The channel's first-try timeout (ms): no query's timeout comes sooner than this after it is sent.
    private var firstTryTimeoutMs: UInt64 = 0
    /// Counts what each name server does with this channel's queries (kept as long as the channel).
    private let tracker: AresServerTracker?

    /// A query's completion: the c-ares status and the reply bytes when there are any.
    typealias Completion = (_ status: Int32, _ reply: [UInt8]?) -> Void

    private final class Pending {
        let completion: Completion
        init(_ completion: @escaping Completion) { self.completion = completion }
    }

    private static let libraryReady: Bool = ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS

    /// Creates the channel (call on the loop thread of `reactor`); nil if c-ares refuses the settings.
    /// With `statistics`, its sockets count each server's queries, answers and failures.
    init?(reactor: Reactor, settings: DNSSettings, statistics: DNSStatistics? = nil) {
        guard Self.libraryReady else { return nil }
        self.reactor = reactor
        tracker = statistics.map { AresServerTracker(statistics: $0) }
        var (options, mask) = Self.options(for: settings)
        mask |= ARES_OPT_SOCK_STATE_CB | ARES_OPT_FLAGS
        options.flags |= ARES_FLAG_STAYOPEN
        options.sock_state_cb = AresChannel.socketStateCallback
        var created: ares_channel?
        let me = Unmanaged.passUnretained(self).toOpaque()
        options.sock_state_cb_data = me
        guard ares_init_options(&created, &options, mask) == ARES_SUCCESS, let created else { return nil }
        channel = created
        tracker?.install(on: created)
        if !settings.servers.isEmpty {
            let csv = settings.servers.joined(separator: ",")
            guard ares_set_servers_ports_csv(created, csv) == ARES_SUCCESS else {
                ares_destroy(created)
                channel = nil
                return nil
            }
        }
        if let limit = settings.serverCount, limit > 0 { limitServers(to: limit) }
        var saved = ares_options()
        var savedMask: Int32 = 0
        if ares_save_options(created, &saved, &savedMask) == ARES_SUCCESS {
            firstTryTimeoutMs = UInt64(max(0, saved.timeout))  // ms: save_options reports ARES_OPT_TIMEOUTMS
            ares_destroy_options(&saved)
        }
    }

    deinit { close() }

    /// The c-ares options of `settings` (`dns_retr_time`, `dns_retr_no`).
    static func options(for settings: DNSSettings) -> (ares_options, Int32) {
        var options = ares_options()
        var mask: Int32 = 0
        if let seconds = settings.retransmissionSeconds, seconds > 0 {
            options.timeout = Int32(seconds * 1000)
            mask |= ARES_OPT_TIMEOUTMS
        }
        if let tries = settings.retransmissions, tries > 0 {
            options.tries = Int32(tries)
            mask |= ARES_OPT_TRIES
        }
        return (options, mask)
    }

    /// Sockets c-ares asks us to watch.
    var watchedSocketCount: Int { sockets.count }

    /// Cancels every query (their completions run with `ARES_EDESTRUCTION`) and releases the reactor
    /// registrations. Idempotent.
    func close() {
        guard let channel else { return }
        ares_destroy(channel)  // runs the pending callbacks; the socket callback may still fire
        self.channel = nil
        for (_, id) in sockets { reactor.deregister(id) }
        sockets.removeAll()
        if let timer { reactor.cancel(timer) }
        timer = nil
        timerDeadline = nil
    }

    /// Sends a question (`ares_search` when `search`, so resolv.conf's search list applies; else
    /// `ares_query`). The completion runs once, on the loop thread, usually from a reactor callback.
    func query(_ question: DNSQuestion, search: Bool, completion: @escaping Completion) {
        guard let channel else { completion(ARES_EDESTRUCTION, nil); return }
        let box = Unmanaged.passRetained(Pending(completion)).toOpaque()
        let type = Int32(question.type.rawValue)
        if search {
            ares_search(channel, question.name, 1 /* C_IN */, type, AresChannel.queryCallback, box)
        } else {
            ares_query(channel, question.name, 1 /* C_IN */, type, AresChannel.queryCallback, box)
        }
        rearmTimerIfLate()
    }

    // MARK: - Driving c-ares

    private func process(read: Int32, write: Int32) {
        guard let channel else { return }
        ares_process_fd(channel, read, write)
        rearmTimerIfLate()
    }

    /// Re-arms the timer unless the armed one fires no later than any timeout c-ares can have set since
    /// it was armed (each is at least ``firstTryTimeoutMs`` from now).
    private func rearmTimerIfLate() {
        if let due = timerDeadline, due <= reactor.now.advanced(byMilliseconds: firstTryTimeoutMs) { return }
        rearmTimer()
    }

    private func rearmTimer() {
        if let timer { reactor.cancel(timer) }
        timer = nil
        timerDeadline = nil
        guard let channel else { return }
        var tv = timeval()
        guard let next = ares_timeout(channel, nil, &tv) else { return }  // no query pending
        let ms = max(1, UInt64(max(0, next.pointee.tv_sec)) * 1000 + UInt64(max(0, next.pointee.tv_usec)) / 1000)
        timerDeadline = reactor.now.advanced(byMilliseconds: ms)
        timer = reactor.schedule(afterMilliseconds: ms) { [unowned self] in
            self.timer = nil
            self.timerDeadline = nil
            let bad = tandem_ares_socket_bad()
            self.process(read: bad, write: bad)
        }
    }

    private func updateSocket(_ fd: Int32, readable: Bool, writable: Bool) {
        if !readable && !writable {
            if let id = sockets.removeValue(forKey: fd) { reactor.deregister(id) }
            return
        }
        var interest: Interest = []
        if readable { interest.insert(.read) }
        if writable { interest.insert(.write) }
        if let id = sockets[fd] {
            do throws(IOError) {
                try reactor.modify(id, interest: interest)
                return
            } catch {
                reactor.deregister(id)
                sockets[fd] = nil
            }
        }
        do throws(IOError) {
            sockets[fd] = try reactor.register(fd: fd, interest: interest) { [unowned self] events in
                let bad = tandem_ares_socket_bad()
                let read = events.contains(.readable) || events.contains(.hangup) || events.contains(.error)
                self.process(read: read ? fd : bad, write: events.contains(.writable) ? fd : bad)
            }
        } catch {
            // Not watchable: the query ends through its timeout.
        }
    }

    /// Keeps only the first `limit` servers (`dns_servers_no`).
    private func limitServers(to limit: Int) {
        guard let channel else { return }
        var list: UnsafeMutablePointer<ares_addr_port_node>?
        guard ares_get_servers_ports(channel, &list) == ARES_SUCCESS, let head = list else { return }
        defer { ares_free_data(head) }
        var last = head
        var kept = 1
        while kept < limit, let next = last.pointee.next {
            last = next
            kept += 1
        }
        guard let rest = last.pointee.next else { return }
        last.pointee.next = nil
        ares_free_data(rest)
        ares_set_servers_ports(channel, head)
    }

    private static let socketStateCallback: ares_sock_state_cb = { data, fd, readable, writable in
        guard let data else { return }
        Unmanaged<AresChannel>.fromOpaque(data).takeUnretainedValue()
            .updateSocket(fd, readable: readable != 0, writable: writable != 0)
    }

    private static let queryCallback: ares_callback = { arg, status, _, abuf, alen in
        guard let arg else { return }
        let pending = Unmanaged<Pending>.fromOpaque(arg).takeRetainedValue()
        let reply = abuf.map { Array(UnsafeBufferPointer(start: $0, count: Int(max(0, alen)))) }
        pending.completion(status, reply)
    }
}
