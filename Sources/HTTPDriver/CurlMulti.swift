import CCurl
import Glibc
import Reactor

/// One libcurl multi handle per SIP worker, driven by that worker's ``Reactor`` through the multi
/// socket API: libcurl tells us which sockets to watch (`CURLMOPT_SOCKETFUNCTION`) and when to call
/// back (`CURLMOPT_TIMERFUNCTION`, one reactor timer); readiness and the timer are fed back with
/// `curl_multi_socket_action`, and finished transfers are collected with `curl_multi_info_read`.
///
/// The multi lives as long as the worker, so its connection cache keeps keep-alive connections to
/// each server across requests. Its sockets and its timer are registered on the reactor directly,
/// not through a job's `NativeContext` (a connection outlives the job that opened it).
///
/// Host names: with `CURL_VERSION_ASYNCHDNS` (Debian's libcurl: the threaded resolver) libcurl
/// resolves on a helper thread it starts per lookup and the multi picks the answer up through a socket
/// pair or its timer; the worker never blocks in `getaddrinfo` (``CurlGlobal/hasAsynchronousDNS``).
/// IP-literal URLs skip the resolver entirely.
///
/// Loop-thread only (not `Sendable`). ``shared(for:)`` gives the worker's instance.
public final class CurlMulti {
    /// The reactor driving this multi.
    public let reactor: Reactor
    /// At most this many transfers run at once; later ones wait in ``pendingCount`` (FIFO).
    public let maxActiveTransfers: Int
    /// At most this many transfers wait for a slot; ``add(_:)`` refuses more (the caller answers rc -4).
    public let maxPendingTransfers: Int
    private let multi: UnsafeMutableRawPointer
    private var sockets: [Int32: RegistrationID] = [:]
    private var timer: TimerID?
    private var active: [ObjectIdentifier: HTTPTransfer] = [:]
    private var pending: [HTTPTransfer] = []
    private var pendingHead = 0
    private var closed = false
    /// Easy handles of finished transfers, reset, for the next ones (at most ``maxActiveTransfers``).
    private var spareEasyHandles: [UnsafeMutableRawPointer] = []
    /// The timer callback, made once (scheduling the timer is per libcurl call, several per transfer).
    private var fireTimer: (() -> Void)?

    /// Transfers finished so far (any outcome, cancellations excluded).
    public private(set) var finishedCount = 0
    /// New connections opened by finished transfers (sum of `CURLINFO_NUM_CONNECTS`).
    public private(set) var connectionsOpened = 0

    /// Creates the multi for `reactor` (call on its loop thread).
    public init?(reactor: Reactor, settings: HTTPDriverSettings = HTTPDriverSettings()) {
        CurlGlobal.ensureInitialized()
        guard let multi = curl_multi_init() else { return nil }
        self.multi = multi
        self.reactor = reactor
        self.maxActiveTransfers = max(1, settings.maxAsyncTransfers)
        self.maxPendingTransfers = max(0, settings.maxPendingTransfers)
        let me = Unmanaged.passUnretained(self).toOpaque()
        tandem_multi_setopt_socket_function(multi, CurlMulti.socketCallback)
        tandem_multi_setopt_pointer(multi, CURLMOPT_SOCKETDATA, me)
        tandem_multi_setopt_timer_function(multi, CurlMulti.timerCallback)
        tandem_multi_setopt_pointer(multi, CURLMOPT_TIMERDATA, me)
        if settings.maxHostConnections > 0 {
            tandem_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, settings.maxHostConnections)
        }
        if settings.maxCachedConnections > 0 {
            tandem_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, Self.cacheSize(for: settings))
        }
        // HTTP/2 transfers to one host share a connection as streams (libcurl's default since 7.62, set
        // explicitly); HTTP/1.1 connections carry one transfer at a time (no HTTP/1.1 pipelining).
        tandem_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
        tandem_multi_setopt_long(multi, CURLMOPT_MAX_CONCURRENT_STREAMS, max(1, settings.maxConcurrentStreams))
        fireTimer = { [unowned self] in self.timerFired() }
    }

    deinit { close() }

    /// `CURLMOPT_MAXCONNECTS` for `settings`: ``HTTPDriverSettings/maxCachedConnections``, raised to
    /// ``HTTPDriverSettings/maxAsyncTransfers`` (each running transfer may hold a connection, to any number
    /// of hosts). When a transfer ends and the cache holds more than this many connections, libcurl closes
    /// the oldest idle one, so a smaller cache closes a connection at the end of every transfer while more
    /// than that many are busy, and the next transfer opens a new one.
    static func cacheSize(for settings: HTTPDriverSettings) -> Int {
        let busy = max(1, settings.maxAsyncTransfers)
        return max(settings.maxCachedConnections, busy)
    }

    /// Transfers added to libcurl and not finished.
    public var activeCount: Int { active.count }
    /// Transfers waiting for a slot (``maxActiveTransfers`` reached).
    public var pendingCount: Int { pending.count - pendingHead }
    /// Sockets libcurl currently asks us to watch (open, non-idle connections).
    public var watchedSocketCount: Int { sockets.count }

    /// Cancels every transfer, closes all connections and releases the reactor registrations.
    /// Idempotent. Transfers' `onDone` is not called.
    public func close() {
        if closed { return }
        closed = true
        pending.removeAll()
        pendingHead = 0
        // From here on libcurl's callbacks find no owner and do nothing; we release everything.
        tandem_multi_setopt_pointer(multi, CURLMOPT_SOCKETDATA, nil)
        tandem_multi_setopt_pointer(multi, CURLMOPT_TIMERDATA, nil)
        for (_, id) in sockets { reactor.deregister(id) }  // before libcurl closes the descriptors
        sockets.removeAll()
        for transfer in active.values {
            transfer.isAttached = false
            curl_multi_remove_handle(multi, transfer.easy)
        }
        active.removeAll()
        if let timer { reactor.cancel(timer) }
        timer = nil
        for easy in spareEasyHandles { curl_easy_cleanup(easy) }
        spareEasyHandles.removeAll()
        fireTimer = nil
        curl_multi_cleanup(multi)
    }

    // MARK: - Spare easy handles

    /// A reset easy handle of an earlier transfer, or a new one (`nil`: libcurl is out of memory).
    func takeEasyHandle() -> UnsafeMutableRawPointer? {
        spareEasyHandles.popLast() ?? curl_easy_init()
    }

    /// Takes back the easy handle of a transfer that is not attached: reset (options back to their
    /// defaults; libcurl keeps its buffers) and kept for the next transfer, or cleaned up when
    /// ``maxActiveTransfers`` are already spare or the multi is closed.
    func recycleEasyHandle(_ easy: UnsafeMutableRawPointer) {
        if closed || spareEasyHandles.count >= maxActiveTransfers {
            curl_easy_cleanup(easy)
            return
        }
        curl_easy_reset(easy)
        spareEasyHandles.append(easy)
    }

    /// Easy handles kept for reuse (tests/diagnostics).
    public var spareEasyHandleCount: Int { spareEasyHandles.count }

    // MARK: - Transfers

    /// What ``add(_:)`` did with a transfer.
    enum AddOutcome {
        /// Running, or waiting for a slot: `onDone` will run.
        case accepted
        /// ``maxPendingTransfers`` already wait: refused at once.
        case queueFull
        /// libcurl refused it (or the multi is closed).
        case failed
    }

    /// Starts `transfer` (or queues it when ``maxActiveTransfers`` are running). Its `onDone` runs on
    /// the loop thread, from a reactor callback, once, unless it was not accepted.
    func add(_ transfer: HTTPTransfer) -> AddOutcome {
        if closed { return .failed }
        if active.count >= maxActiveTransfers {
            guard pendingCount < maxPendingTransfers else { return .queueFull }
            pending.append(transfer)
            return .accepted
        }
        return attach(transfer) ? .accepted : .failed
    }

    private func attach(_ transfer: HTTPTransfer) -> Bool {
        guard curl_multi_add_handle(multi, transfer.easy) == CURLM_OK else { return false }
        transfer.isAttached = true
        active[ObjectIdentifier(transfer)] = transfer
        return true
    }

    /// Removes `transfer` without calling its `onDone` (cancel). libcurl closes its connection if the
    /// exchange was in progress. Idempotent.
    func remove(_ transfer: HTTPTransfer) {
        if transfer.isAttached {
            transfer.isAttached = false
            active[ObjectIdentifier(transfer)] = nil
            if !closed { curl_multi_remove_handle(multi, transfer.easy) }
            startPending()
        } else if let index = pending[pendingHead...].firstIndex(where: { $0 === transfer }) {
            pending.remove(at: index)
        }
    }

    private func startPending() {
        while active.count < maxActiveTransfers, pendingHead < pending.count {
            let next = pending[pendingHead]
            pendingHead += 1
            if !attach(next) { next.onDone?(CURLE_FAILED_INIT) }
        }
        if pendingHead == pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingHead = 0
        } else if pendingHead > 64, pendingHead * 2 > pending.count {
            pending.removeFirst(pendingHead)
            pendingHead = 0
        }
    }

    // MARK: - Driving libcurl

    private func socketAction(_ fd: Int32, _ events: ReadyEvents) {
        var mask: Int32 = 0
        if events.contains(.readable) || events.contains(.hangup) { mask |= CURL_CSELECT_IN }
        if events.contains(.writable) { mask |= CURL_CSELECT_OUT }
        if events.contains(.error) { mask |= CURL_CSELECT_ERR }
        var running: Int32 = 0
        curl_multi_socket_action(multi, fd, mask, &running)
        collectFinished()
    }

    private func timerFired() {
        timer = nil
        var running: Int32 = 0
        curl_multi_socket_action(multi, TANDEM_CURL_SOCKET_TIMEOUT, 0, &running)
        collectFinished()
    }

    private func collectFinished() {
        var left: Int32 = 0
        var done: [(HTTPTransfer, CURLcode)] = []
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                  let transfer = HTTPTransfer.owner(of: easy) else { continue }
            done.append((transfer, message.pointee.data.result))
        }
        for (transfer, code) in done where transfer.isAttached {
            transfer.isAttached = false
            active[ObjectIdentifier(transfer)] = nil
            curl_multi_remove_handle(multi, transfer.easy)  // the connection goes back to the cache
            finishedCount += 1
            connectionsOpened += transfer.newConnections
            transfer.onDone?(code)
            transfer.onDone = nil
        }
        if !done.isEmpty { startPending() }
    }

    /// `CURLMOPT_SOCKETFUNCTION`: watch, re-watch or forget one socket.
    private func updateSocket(_ fd: Int32, what: Int32) {
        if what == CURL_POLL_REMOVE {
            if let id = sockets.removeValue(forKey: fd) { reactor.deregister(id) }
            return
        }
        var interest: Interest = []
        if what & CURL_POLL_IN != 0 { interest.insert(.read) }
        if what & CURL_POLL_OUT != 0 { interest.insert(.write) }
        if let id = sockets[fd] {
            do throws(IOError) {
                try reactor.modify(id, interest: interest)
                return
            } catch {
                // The fd number was closed and reused without a REMOVE: register it afresh.
                reactor.deregister(id)
                sockets[fd] = nil
            }
        }
        do throws(IOError) {
            let id = try reactor.register(fd: fd, interest: interest) { [unowned self] events in
                self.socketAction(fd, events)
            }
            sockets[fd] = id
        } catch {
            // Cannot watch it: let libcurl find out through its timeout.
        }
    }

    /// `CURLMOPT_TIMERFUNCTION`: one timer; -1 cancels it.
    private func updateTimer(_ timeoutMs: Int) {
        if let timer { reactor.cancel(timer) }
        timer = nil
        if timeoutMs < 0 { return }
        guard let fireTimer else { return }
        timer = reactor.schedule(afterMilliseconds: UInt64(timeoutMs), fireTimer)
    }

    private static let socketCallback: curl_socket_callback = { _, fd, what, user, _ in
        guard let user else { return 0 }
        Unmanaged<CurlMulti>.fromOpaque(user).takeUnretainedValue().updateSocket(fd, what: what)
        return 0
    }

    private static let timerCallback: curl_multi_timer_callback = { _, timeoutMs, user in
        guard let user else { return 0 }
        Unmanaged<CurlMulti>.fromOpaque(user).takeUnretainedValue().updateTimer(timeoutMs)
        return 0
    }
}
