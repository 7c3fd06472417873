import Logging
import ServiceLifecycle
import Synchronization
import TandemProxy
import UnixSignals

/// Runs a `TandemServer` as a swift-service-lifecycle `Service` with a graceful shutdown (issue 8).
///
/// `run()` starts the server and waits for the group's graceful shutdown (e.g. a `ServiceGroup` with
/// `gracefulShutdownSignals: [.sigterm, .sigint]`). Then the proxy drains: new initial requests get
/// 503 with `Retry-After`, suspended transactions resume and relay, pending ones get their final
/// replies. `run()` returns once nothing is outstanding on two checks in a row; it throws
/// `TandemShutdownError` when the drain time runs out, when another of `signals` arrives while
/// draining, or when the task is cancelled. The server is stopped in every case.
///
/// ```swift
/// let service = TandemService(server: server, logger: logger)
/// let group = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// try await group.run()
/// ```
public struct TandemService: Service, CustomStringConvertible {
    /// The server this service runs.
    public let server: TandemServer
    /// The longest the drain may take.
    public var drainTime: Duration
    /// Seconds in the `Retry-After` of the 503 that new requests get while draining.
    public var retryAfterSeconds: Int
    /// Time between two checks of the outstanding work; the drain is done when two checks in a row
    /// find nothing, so that an in-dialog request right after a final reply (ACK then BYE) still passes.
    public var checkInterval: Duration
    /// Signals watched while running: the first is the shutdown request (logged; the ServiceGroup's
    /// `gracefulShutdownSignals` turn it into the graceful shutdown), any later one abandons the drain.
    public var signals: [UnixSignal]
    let logger: Logger

    /// `drainTime` defaults to the script's `modparam("tandem", "drain_time", N)`.
    public init(server: TandemServer, drainTime: Duration? = nil, retryAfterSeconds: Int = 5,
                checkInterval: Duration = .milliseconds(150), signals: [UnixSignal] = [.sigterm, .sigint],
                logger: Logger) {
        self.server = server
        self.drainTime = drainTime ?? .seconds(server.drainTimeSeconds)
        self.retryAfterSeconds = retryAfterSeconds
        self.checkInterval = checkInterval
        self.signals = signals
        self.logger = logger
    }

    public var description: String { "TandemService" }

    public func run() async throws {
        let (aborts, abortContinuation) = AsyncStream.makeStream(of: UnixSignal.self)
        let (firstSignal, firstContinuation) = AsyncStream.makeStream(of: UnixSignal.self)
        // Registered before the server starts, so that no signal is missed once it runs.
        let watched = await UnixSignalsSequence(trapping: signals)
        try server.start()
        logger.notice("tandem running", metadata: ["drain_time": "\(drainTime)"])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [logger] in
                var seen = 0
                for await signal in watched {
                    seen += 1
                    if seen == 1 {
                        logger.notice("shutdown requested", metadata: ["signal": "\(signal)"])
                        firstContinuation.yield(signal)
                        firstContinuation.finish()
                    } else {
                        abortContinuation.yield(signal)
                    }
                }
                // Not finished: the drain must not read the end of `aborts` as an abort.
            }
            defer { group.cancelAll() }
            do {
                try await gracefulShutdown()
            } catch {
                // Cancelled before any graceful shutdown: stop at once.
                let left = server.drainProgress
                server.stop()
                throw TandemShutdownError.cancelled(abandoned: left)
            }
            server.beginDrain(retryAfterSeconds: retryAfterSeconds)
            // The group reacts to the same signal as the watcher: let the watcher's log line come first.
            if await Self.first(of: firstSignal, within: .milliseconds(200)) == nil {
                logger.notice("shutdown requested", metadata: ["signal": "none (service group)"])
            }
            try await drainAndStop(aborts: aborts)
        }
    }

    /// Waits for the drain (already begun), stops the server and reports how it ended.
    func drainAndStop(aborts: AsyncStream<UnixSignal>) async throws {
        let start = ContinuousClock.now
        let atStart = server.drainProgress
        logger.notice("draining", metadata: [
            "suspended": "\(atStart.suspended)", "pending": "\(atStart.awaitingFinal)",
            "drain_time": "\(drainTime)",
        ])
        let outcome = await drain(aborts: aborts)
        let left = server.drainProgress
        server.stop()
        let elapsed = ContinuousClock.now - start
        switch outcome {
        case .drained:
            logger.notice("drained; stopped", metadata: [
                "elapsed": "\(elapsed)", "rejected": "\(server.core.counters.drainRejected.load(ordering: .relaxed))",
            ])
        case .timedOut:
            let error = TandemShutdownError.drainTimedOut(abandoned: left)
            logger.error("drain time ran out; forced stop", metadata: [
                "abandoned": "\(left.outstanding)", "suspended": "\(left.suspended)",
                "pending": "\(left.awaitingFinal)", "elapsed": "\(elapsed)",
            ])
            throw error
        case .interrupted(let signal):
            logger.error("second shutdown signal; stopped at once", metadata: [
                "signal": "\(signal)", "abandoned": "\(left.outstanding)", "suspended": "\(left.suspended)",
                "pending": "\(left.awaitingFinal)", "elapsed": "\(elapsed)",
            ])
            throw TandemShutdownError.interrupted(signal: "\(signal)", abandoned: left)
        case .cancelled:
            logger.error("cancelled while draining; stopped at once", metadata: [
                "abandoned": "\(left.outstanding)", "elapsed": "\(elapsed)",
            ])
            throw TandemShutdownError.cancelled(abandoned: left)
        }
    }

    /// The first element of `stream`, or nil if none comes within `timeout`.
    static func first(of stream: AsyncStream<UnixSignal>, within timeout: Duration) async -> UnixSignal? {
        await withTaskGroup(of: UnixSignal?.self) { group in
            group.addTask {
                for await signal in stream { return signal }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// How a drain ended.
    enum DrainOutcome: Sendable {
        case drained
        case timedOut
        case interrupted(UnixSignal)
        case cancelled
    }

    /// Waits until nothing is outstanding on two checks in a row, the drain time passes, a signal
    /// comes on `aborts`, or the task is cancelled, whichever is first.
    func drain(aborts: AsyncStream<UnixSignal>) async -> DrainOutcome {
        await withTaskGroup(of: DrainOutcome.self) { group in
            group.addTask { [server, checkInterval] in
                var idleChecks = 0
                while !Task.isCancelled {
                    idleChecks = server.drainProgress.isIdle ? idleChecks + 1 : 0
                    if idleChecks >= 2 { return .drained }
                    try? await Task.sleep(for: checkInterval)
                }
                return .cancelled
            }
            group.addTask { [server, drainTime] in
                do {
                    try await Task.sleep(for: drainTime)
                } catch {
                    return .cancelled
                }
                // Nothing left when the time ran out (e.g. drain_time 0 on an idle proxy) is a clean drain.
                return server.drainProgress.isIdle ? .drained : .timedOut
            }
            group.addTask {
                for await signal in aborts { return .interrupted(signal) }
                return .cancelled
            }
            let first = await group.next() ?? .cancelled
            group.cancelAll()
            return first
        }
    }
}
