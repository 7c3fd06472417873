import Reactor
import Testing
@testable import TandemAsync

/// A request as the machine sees it: just an id.
private struct Job: ConnectionPoolRequest, Equatable, Sendable {
    let id: Int
}

private typealias Machine = ConnectionPoolStateMachine<Job>
private typealias Action = Machine.Action

private func c(_ number: UInt64) -> PoolConnectionID { PoolConnectionID(number) }

/// The machine on a manual time line (no clock, no sockets): every action up to `.none` is collected.
private struct Harness {
    var machine: Machine
    var now = Deadline(nanoseconds: 1_000_000_000)
    var nextRequest = 1

    init(_ policy: ConnectionPoolPolicy) { machine = Machine(policy: policy) }

    mutating func feed(_ event: Machine.Event) -> [Action] {
        var actions: [Action] = []
        var action = machine.handle(event, now: now)
        while true {
            if action != .none { actions.append(action) }
            action = machine.nextAction(now: now)
            if action == .none { return actions }
        }
    }

    mutating func request() -> [Action] {
        defer { nextRequest += 1 }
        return feed(.requestArrived(Job(id: nextRequest)))
    }

    mutating func advance(ms: UInt64) { now = now.advanced(byMilliseconds: ms) }

    /// `count` requests spread over `ms` milliseconds, each answered after `latencyMs` (the answers are
    /// fed when due, so the machine sees the in-flight count of that load).
    mutating func steadyLoad(count: Int, overMs ms: UInt64, latencyMs: UInt64) -> [Action] {
        var actions: [Action] = []
        var running: [(due: Deadline, on: PoolConnectionID)] = []
        // Connects succeed at once; every send is answered latencyMs later.
        func track(_ got: [Action], _ h: inout Harness) {
            actions += got
            for action in got {
                switch action {
                case .send(_, let id, _): running.append((h.now.advanced(byMilliseconds: latencyMs), id))
                case .openConnection(let id): track(h.feed(.connectionEstablished(id)), &h)
                default: break
                }
            }
        }
        func answer(upTo now: Deadline, _ h: inout Harness) {
            while let index = running.firstIndex(where: { $0.due <= now }) {
                let done = running.remove(at: index)
                h.machine.recordLatency(nanoseconds: latencyMs * 1_000_000)
                track(h.feed(.requestFinished(done.on, reusable: true)), &h)
            }
        }
        let step = max(1, ms * 1000 / UInt64(count))  // microseconds
        var elapsedUs: UInt64 = 0
        let start = now
        for _ in 0..<count {
            elapsedUs += step
            now = start.advanced(byMilliseconds: 0) + .microseconds(Int64(elapsedUs))
            answer(upTo: now, &self)
            track(request(), &self)
        }
        // The load stops; what runs or waits is answered (queued requests are sent as connections free).
        while let next = running.map(\.due).min() {
            if next > now { now = next }
            answer(upTo: now, &self)
        }
        return actions
    }
}

private func opened(_ actions: [Action]) -> Int {
    actions.reduce(0) { if case .openConnection = $1 { $0 + 1 } else { $0 } }
}

private func retired(_ actions: [Action]) -> [PoolConnectionID] {
    actions.compactMap { if case .closeConnection(let id, .retired, _) = $0 { id } else { nil } }
}

/// Pool sizing from the measured load (issue 19): ``PoolLoadEstimator`` and ``LoadSizing`` decisions of
/// ``ConnectionPoolStateMachine``, on a manual time line.
@Suite struct ConnectionPoolSizingTests {
    @Test func theEstimatorSmoothsRateAndLatencyAndForgetsAStoppedLoad() {
        var load = PoolLoadEstimator(windowMs: 100, rateWeight: 0.5, latencyWeight: 0.5)
        var now = Deadline(nanoseconds: 5_000_000_000)
        #expect(load.concurrency == 0)
        // 10 arrivals per 100 ms window = 100/s.
        for _ in 0..<4 {
            for _ in 0..<10 {
                load.arrived(now: now)
                now = now.advanced(byMilliseconds: 10)
            }
        }
        load.advance(now: now)
        #expect(load.arrivalsPerSecond > 80 && load.arrivalsPerSecond <= 100, "\(load.arrivalsPerSecond)")
        load.completed(latencyNanoseconds: 20_000_000)
        #expect(load.latencyNanoseconds == 20_000_000, "the first sample is taken as it is")
        load.completed(latencyNanoseconds: 40_000_000)
        #expect(load.latencyNanoseconds == 30_000_000, "then averaged with weight 0.5")
        // About 100/s × 30 ms = 3 in flight; 1.5 × 3 / 16 per connection → 1 connection, 1.5 × 3 / 1 → 5.
        #expect(load.connectionsNeeded(perConnection: 16) == 1)
        #expect(load.connectionsNeeded(perConnection: 1) == 5 || load.connectionsNeeded(perConnection: 1) == 4)
        // Ten empty windows: the rate falls to about nothing.
        now = now.advanced(byMilliseconds: 1000)
        load.advance(now: now)
        #expect(load.arrivalsPerSecond < 0.2, "\(load.arrivalsPerSecond)")
        #expect(load.connectionsNeeded(perConnection: 1) <= 1)
    }

    @Test func aLightLoadPipelinesOnOneConnectionInsteadOfOpeningMore() {
        // 4 connections allowed, 16 queries per connection; 100 queries/s × 20 ms = 2 in flight.
        var h = Harness(ConnectionPoolPolicy(size: 4, maxRequestsPerConnection: 16, sizing: LoadSizing()))
        let actions = h.steadyLoad(count: 200, overMs: 2000, latencyMs: 20)
        #expect(opened(actions) == 1, "one connection carries it: \(h.machine.connectionCount)")
        #expect(h.machine.targetConnections == 1)
    }

    @Test func aHeavyLoadOpensConnectionsUpToWhatRateTimesLatencyNeeds() {
        // 400 queries/s × 20 ms = 8 in flight; × 1.5 ÷ 4 planned per connection (a quarter of 16) → 3
        // (the limit is 8).
        var h = Harness(ConnectionPoolPolicy(size: 8, maxRequestsPerConnection: 16, sizing: LoadSizing()))
        _ = h.steadyLoad(count: 800, overMs: 2000, latencyMs: 20)
        #expect(h.machine.targetConnections == 3, "\(h.machine.load)")
        #expect(h.machine.connectionCount >= 2 && h.machine.connectionCount <= 3, "\(h.machine.connectionCount)")
        // The same load without sizing spreads over every connection the pool may open.
        var fixed = Harness(ConnectionPoolPolicy(size: 8, maxRequestsPerConnection: 16))
        _ = fixed.steadyLoad(count: 800, overMs: 2000, latencyMs: 20)
        #expect(fixed.machine.connectionCount == 8)
    }

    @Test func theLimitStillCapsTheSize() {
        // 2,000/s × 20 ms on single-query connections wants 60; db_pool_size 6 caps it.
        var h = Harness(ConnectionPoolPolicy(size: 6, sizing: LoadSizing()))
        _ = h.steadyLoad(count: 2000, overMs: 1000, latencyMs: 20)
        #expect(h.machine.targetConnections == 6)
        #expect(h.machine.connectionCount == 6)
    }

    @Test func idleExtraConnectionsCloseAfterTheIdleTimeoutDownToTheMinimum() {
        // 300 queries/s × 20 ms = 6 in flight on single-query connections (limit 8).
        var h = Harness(ConnectionPoolPolicy(size: 8, sizing: LoadSizing(minConnections: 2, idleTimeoutMs: 5000)))
        _ = h.steadyLoad(count: 300, overMs: 1000, latencyMs: 20)
        let peak = h.machine.connectionCount
        #expect(peak > 2, "the load opened extra connections: \(peak)")
        // The load stops. Before the idle timeout nothing closes.
        h.advance(ms: 4000)
        #expect(retired(h.feed(.maintenance)) == [])
        #expect(h.machine.connectionCount == peak)
        // After it, the extras close (the newest first), the minimum stays.
        h.advance(ms: 2000)
        let closed = retired(h.feed(.maintenance))
        #expect(h.machine.demand == 0 && h.machine.targetConnections == 2,
                "demand \(h.machine.demand) target \(h.machine.targetConnections) \(h.machine.load)")
        #expect(closed.count == peak - 2, "\(closed)")
        #expect(closed.first == c(UInt64(peak)))
        #expect(h.machine.connectionCount == 2)
        h.advance(ms: 60_000)
        #expect(retired(h.feed(.maintenance)) == [], "never below db_pool_min_size")
    }

    @Test func aConnectionInUseIsNeverRetiredAndTheLoadKeepsWhatItNeeds() {
        var h = Harness(ConnectionPoolPolicy(size: 8, sizing: LoadSizing(minConnections: 1, idleTimeoutMs: 1000)))
        _ = h.steadyLoad(count: 300, overMs: 1000, latencyMs: 20)
        // A lighter load continues: 100/s × 20 ms = 2 in flight → 3 connections wanted.
        _ = h.steadyLoad(count: 500, overMs: 5000, latencyMs: 20)
        let closed = retired(h.feed(.maintenance))
        _ = closed
        #expect(h.machine.connectionCount >= 2 && h.machine.connectionCount <= 4,
                "extras idle since the heavy load closed, what the light load uses stayed: \(h.machine.connectionCount)")
        // A request running on a connection keeps it however long it runs.
        var busy = Harness(ConnectionPoolPolicy(size: 2, sizing: LoadSizing(minConnections: 0, idleTimeoutMs: 100)))
        #expect(busy.request() == [.openConnection(c(1))])
        #expect(busy.feed(.connectionEstablished(c(1))) == [.send(Job(id: 1), on: c(1), isRetry: false)])
        busy.advance(ms: 10_000)
        #expect(retired(busy.feed(.maintenance)) == [])
        #expect(busy.feed(.requestFinished(c(1), reusable: true)) == [])
        busy.advance(ms: 10_000)
        #expect(retired(busy.feed(.maintenance)) == [c(1)], "idle, minimum 0: closed")
    }

    @Test func withoutSizingMaintenanceDoesNothing() {
        var h = Harness(ConnectionPoolPolicy(size: 4))
        _ = h.steadyLoad(count: 1000, overMs: 1000, latencyMs: 20)
        let count = h.machine.connectionCount
        h.advance(ms: 3_600_000)
        #expect(h.feed(.maintenance) == [])
        #expect(h.machine.connectionCount == count)
        #expect(h.machine.targetConnections == 4)
    }
}
