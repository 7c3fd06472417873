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
private func r(_ id: Int) -> Job { Job(id: id) }

/// The machine plus a manual time line: `feed` applies an event and collects every action up to `.none`,
/// as a pool shell would execute them.
private struct Harness {
    var machine: Machine
    var now = Deadline(nanoseconds: 1_000_000_000)

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

    mutating func advance(ms: UInt64) { now = now.advanced(byMilliseconds: ms) }
}

/// The PostgreSQL shape: one request per connection, parallel connects, drain on abandon.
private let postgres = ConnectionPoolPolicy(size: 2, maxQueue: 3, initialBackoffMs: 100, maxBackoffMs: 400,
                                            abandon: .drain(timeoutMs: 2000))
/// The LDAP shape: multiplexed, one connect at a time, abandon keeps the connection.
private let ldap = ConnectionPoolPolicy(size: 2, maxQueue: 3, maxRequestsPerConnection: .max, maxConcurrentConnects: 1,
                                        warmUpConnections: 1, abandon: .keepConnection, retriesFirstFailureAtOnce: false)

@Suite struct ConnectionPoolStateMachineTests {
    @Test func requestsTakeAnIdleConnectionOrWaitInABoundedQueue() {
        var h = Harness(ConnectionPoolPolicy(size: 1, maxQueue: 2))
        #expect(h.feed(.requestArrived(r(1))) == [.openConnection(c(1))])
        #expect(h.feed(.requestArrived(r(2))) == [], "the pool is at its size: r2 waits")
        #expect(h.machine.queuedCount == 2)
        #expect(h.feed(.requestArrived(r(3))) == [.reject(r(3))], "queue full: rc -4 at once")
        #expect(h.machine.queuedCount == 2)
        #expect(h.feed(.connectionEstablished(c(1))) == [.send(r(1), on: c(1), isRetry: false)])
        #expect(h.machine.idleCount == 0)
        #expect(h.feed(.requestFinished(c(1), reusable: true)) == [.send(r(2), on: c(1), isRetry: false)])
        #expect(h.feed(.requestFinished(c(1), reusable: true)) == [])
        #expect(h.machine.idleCount == 1 && h.machine.queuedCount == 0)
        #expect(h.feed(.requestArrived(r(4))) == [.send(r(4), on: c(1), isRetry: false)], "straight to the idle one")
    }

    @Test func aZeroQueueRejectsEverythingThatCannotRunAtOnce() {
        var h = Harness(ConnectionPoolPolicy(size: 1, maxQueue: 0))
        #expect(h.feed(.requestArrived(r(1))) == [.reject(r(1))])
        #expect(h.machine.connectionCount == 0)
    }

    @Test func connectsInParallelUpToTheWaitingRequestsAndThePoolSize() {
        var h = Harness(postgres)
        #expect(h.feed(.requestArrived(r(1))) == [.openConnection(c(1))])
        #expect(h.feed(.requestArrived(r(2))) == [.openConnection(c(2))])
        #expect(h.feed(.requestArrived(r(3))) == [], "size 2 reached")
        #expect(h.machine.connectingCount == 2)
        #expect(h.feed(.connectionEstablished(c(2))) == [.send(r(1), on: c(2), isRetry: false)], "FIFO")
        #expect(h.feed(.connectionEstablished(c(1))) == [.send(r(2), on: c(1), isRetry: false)])
    }

    @Test func failsFastWhileNoConnectionCanBeMadeAndBacksOffDoubling() {
        var h = Harness(postgres)
        #expect(h.feed(.requestArrived(r(1))) == [.openConnection(c(1))])
        #expect(h.feed(.connectionFailed(c(1))) == [
            .closeConnection(c(1), .connectFailed, failing: nil),
            .openConnection(c(2)),
        ], "the first failed round is retried at once")
        #expect(h.feed(.connectionFailed(c(2))) == [
            .closeConnection(c(2), .connectFailed, failing: nil),
            .fail(r(1), .notConnected(retryInMs: 100)),
        ], "the second round backs off and fails what waits")
        h.advance(ms: 30)
        #expect(h.feed(.requestArrived(r(2))) == [.fail(r(2), .notConnected(retryInMs: 70))],
                "within the backoff: no connect, an answer at once")
        h.advance(ms: 70)
        #expect(h.feed(.requestArrived(r(3))) == [.openConnection(c(3))], "the backoff is over: try again")
        #expect(h.feed(.connectionFailed(c(3))) == [
            .closeConnection(c(3), .connectFailed, failing: nil),
            .fail(r(3), .notConnected(retryInMs: 200)),
        ], "the delay doubles")
        h.advance(ms: 200)
        _ = h.feed(.requestArrived(r(4)))
        _ = h.feed(.connectionFailed(c(4)))
        #expect(h.machine.retryInMilliseconds(now: h.now) == 400)
        h.advance(ms: 400)
        _ = h.feed(.requestArrived(r(5)))
        _ = h.feed(.connectionFailed(c(5)))
        #expect(h.machine.retryInMilliseconds(now: h.now) == 400, "capped at maxBackoffMs")
        h.advance(ms: 400)
        #expect(h.feed(.requestArrived(r(6))) == [.openConnection(c(6))])
        #expect(h.feed(.connectionEstablished(c(6))) == [.send(r(6), on: c(6), isRetry: false)])
        #expect(!h.machine.isInBackoff(now: h.now) && h.machine.retryInMilliseconds(now: h.now) == 0)
        _ = h.feed(.requestFinished(c(6), reusable: true))
        _ = h.feed(.connectionClosed(c(6)))
        _ = h.feed(.requestArrived(r(7)))
        #expect(h.feed(.connectionFailed(c(7))) == [
            .closeConnection(c(7), .connectFailed, failing: nil),
            .openConnection(c(8)),
        ], "a success resets the rounds: the next failure is retried at once again")
        _ = h.feed(.connectionFailed(c(8)))
        #expect(h.machine.retryInMilliseconds(now: h.now) == 100, "and the delay starts over")
    }

    @Test func connectsThatFailTogetherAreOneRound() {
        var h = Harness(postgres)
        for i in 1...3 { _ = h.feed(.requestArrived(r(i))) }
        #expect(h.machine.connectingCount == 2 && h.machine.queuedCount == 3)
        h.advance(ms: 5)
        _ = h.feed(.connectionFailed(c(1)))
        _ = h.feed(.connectionFailed(c(2)))
        #expect(h.machine.reconnectDelayMs == 0, "two failed connects of one round: retried at once")
        #expect(h.machine.connectingCount == 2 && h.machine.queuedCount == 3)
        h.advance(ms: 5)
        _ = h.feed(.connectionFailed(c(3)))
        _ = h.feed(.connectionFailed(c(4)))
        #expect(h.machine.reconnectDelayMs == 100, "the second round sets the first delay, not 100 × 2")
        #expect(h.machine.queuedCount == 0, "and fails what waits")
        #expect(h.feed(.connectionFailed(c(9))) == [], "news of an unknown connection changes nothing")
        #expect(h.machine.reconnectDelayMs == 100)
    }

    @Test func aPolicyWithoutTheImmediateRetryBacksOffAtTheFirstFailure() {
        var h = Harness(ConnectionPoolPolicy(size: 1, initialBackoffMs: 100, retriesFirstFailureAtOnce: false))
        _ = h.feed(.requestArrived(r(1)))
        #expect(h.feed(.connectionFailed(c(1))) == [
            .closeConnection(c(1), .connectFailed, failing: nil),
            .fail(r(1), .notConnected(retryInMs: 100)),
        ])
    }

    @Test func queuedRequestsWaitWhileAnotherConnectionIsAlive() {
        var h = Harness(postgres)
        _ = h.feed(.requestArrived(r(1)))
        _ = h.feed(.connectionEstablished(c(1)))
        #expect(h.feed(.requestArrived(r(2))) == [.openConnection(c(2))])
        #expect(h.feed(.connectionFailed(c(2))) == [.closeConnection(c(2), .connectFailed, failing: nil),
                                                    .openConnection(c(3))], "first failed round: at once")
        #expect(h.feed(.connectionFailed(c(3))) == [.closeConnection(c(3), .connectFailed, failing: nil)],
                "c1 lives: r2 keeps waiting for it")
        #expect(h.machine.queuedCount == 1)
        #expect(h.feed(.requestFinished(c(1), reusable: true)) == [.send(r(2), on: c(1), isRetry: false)])
    }

    @Test func aBrokenConnectionIsReplacedAtOnce() {
        var h = Harness(ConnectionPoolPolicy(size: 1))
        _ = h.feed(.requestArrived(r(1)))
        _ = h.feed(.connectionEstablished(c(1)))
        #expect(h.feed(.requestArrived(r(2))) == [])
        #expect(h.feed(.connectionClosed(c(1))) == [
            .closeConnection(c(1), .dropped, failing: nil),
            .openConnection(c(2)),
        ], "r1 fails with its connection (the shell holds it); r2 gets a new connection without delay")
        #expect(h.feed(.connectionEstablished(c(2))) == [.send(r(2), on: c(2), isRetry: false)])
        #expect(h.feed(.connectionClosed(c(2))) == [.closeConnection(c(2), .dropped, failing: nil)],
                "nothing waits: no reconnect until the next request")
        #expect(h.feed(.requestArrived(r(3))) == [.openConnection(c(3))], "first reconnect at once")
    }

    @Test func theFirstReconnectIsImmediateAndAFailedOneStartsTheBackoff() {
        var h = Harness(ConnectionPoolPolicy(size: 1, initialBackoffMs: 100))
        _ = h.feed(.requestArrived(r(1)))
        _ = h.feed(.connectionEstablished(c(1)))
        _ = h.feed(.requestArrived(r(2)))
        #expect(h.feed(.connectionClosed(c(1))) == [
            .closeConnection(c(1), .dropped, failing: nil),
            .openConnection(c(2)),
        ], "the server went away mid-request: reconnect at once")
        #expect(h.feed(.connectionFailed(c(2))) == [
            .closeConnection(c(2), .connectFailed, failing: nil),
            .openConnection(c(3)),
        ], "a restart takes a moment: the first failed connect is retried at once")
        #expect(h.feed(.connectionFailed(c(3))) == [
            .closeConnection(c(3), .connectFailed, failing: nil),
            .fail(r(2), .notConnected(retryInMs: 100)),
        ], "it is still away: back off, and fail what waits instead of holding it")
        h.advance(ms: 99)
        #expect(h.feed(.requestArrived(r(3))) == [.fail(r(3), .notConnected(retryInMs: 1))])
        h.advance(ms: 1)
        #expect(h.feed(.requestArrived(r(4))) == [.openConnection(c(4))])
    }

    @Test func eventsFedBetweenFollowUpsSeeAConsistentPool() {
        var h = Harness(ConnectionPoolPolicy(size: 1))
        _ = h.feed(.requestArrived(r(1)))
        _ = h.feed(.connectionEstablished(c(1)))
        _ = h.feed(.requestArrived(r(2)))
        _ = h.feed(.requestArrived(r(3)))
        #expect(h.machine.handle(.shutdown, now: h.now) == .none)
        #expect(h.machine.nextAction(now: h.now) == .closeConnection(c(1), .shutdown, failing: nil))
        // The shell fails r1 (it ran on c1); its completion submits again before the loop goes on.
        #expect(h.feed(.requestArrived(r(4))) == [.fail(r(4), .closed), .fail(r(2), .shutdown), .fail(r(3), .shutdown)])
        #expect(h.machine.nextAction(now: h.now) == .none)
    }

    @Test func anUnreusableConnectionIsClosedAfterItsRequest() {
        var h = Harness(ConnectionPoolPolicy(size: 1))
        _ = h.feed(.requestArrived(r(1)))
        _ = h.feed(.connectionEstablished(c(1)))
        _ = h.feed(.requestArrived(r(2)))
        #expect(h.feed(.requestFinished(c(1), reusable: false)) == [
            .closeConnection(c(1), .dropped, failing: nil),
            .openConnection(c(2)),
        ])
    }

    @Test func aSendOnADeadConnectionIsRetriedOnceElsewhere() {
        var h = Harness(ConnectionPoolPolicy(size: 1))
        _ = h.feed(.requestArrived(r(1)))
        #expect(h.feed(.connectionEstablished(c(1))) == [.send(r(1), on: c(1), isRetry: false)])
        #expect(h.feed(.sendFailed(r(1), on: c(1), connectionLost: true, isRetry: false)) == [
            .closeConnection(c(1), .dropped, failing: nil),
            .openConnection(c(2)),
        ])
        #expect(h.feed(.requestArrived(r(2))) == [])
        #expect(h.feed(.connectionEstablished(c(2))) == [.send(r(1), on: c(2), isRetry: true)], "first in line")
        #expect(h.feed(.sendFailed(r(1), on: c(2), connectionLost: true, isRetry: true)) == [
            .closeConnection(c(2), .dropped, failing: r(1)),
            .openConnection(c(3)),
        ], "the second failure is final; r2 gets a new connection")
        #expect(h.feed(.connectionEstablished(c(3))) == [.send(r(2), on: c(3), isRetry: false)])
    }

    @Test func aRefusedSendKeepsTheConnection() {
        var h = Harness(ConnectionPoolPolicy(size: 1))
        _ = h.feed(.requestArrived(r(1)))
        _ = h.feed(.requestArrived(r(2)))
        _ = h.feed(.connectionEstablished(c(1)))
        #expect(h.feed(.sendFailed(r(1), on: c(1), connectionLost: false, isRetry: false)) == [
            .fail(r(1), .refused),
            .send(r(2), on: c(1), isRetry: false),
        ])
    }

    @Test func cancellingAQueuedRequestRemovesIt() {
        var h = Harness(ConnectionPoolPolicy(size: 1))
        _ = h.feed(.requestArrived(r(1)))
        _ = h.feed(.requestArrived(r(2)))
        #expect(h.feed(.requestCancelled(1, runningOn: nil)) == [])
        #expect(h.machine.queuedCount == 1)
        #expect(h.feed(.connectionEstablished(c(1))) == [.send(r(2), on: c(1), isRetry: false)])
        #expect(h.feed(.requestCancelled(99, runningOn: nil)) == [], "unknown ids are ignored")
    }

    @Test func aTimedOutRequestIsDrainedOrItsConnectionDropped() {
        var h = Harness(postgres)
        _ = h.feed(.requestArrived(r(1)))
        _ = h.feed(.connectionEstablished(c(1)))
        #expect(h.feed(.requestCancelled(1, runningOn: c(1))) == [.drain(c(1), timeoutMs: 2000)])
        #expect(h.machine.idleCount == 0, "a draining connection takes nothing")
        #expect(h.feed(.requestArrived(r(2))) == [.openConnection(c(2))])
        #expect(h.feed(.requestFinished(c(1), reusable: true)) == [.send(r(2), on: c(1), isRetry: false)],
                "drained in time: back in service")
        #expect(h.feed(.timerFired(c(1))) == [], "a late timer is ignored")

        #expect(h.feed(.requestCancelled(2, runningOn: c(1))) == [.drain(c(1), timeoutMs: 2000)])
        h.advance(ms: 2000)
        #expect(h.feed(.timerFired(c(1))) == [.closeConnection(c(1), .dropped, failing: nil)],
                "the drain took too long")

        var dropping = Harness(ConnectionPoolPolicy(size: 1, abandon: .closeConnection))
        _ = dropping.feed(.requestArrived(r(1)))
        _ = dropping.feed(.connectionEstablished(c(1)))
        #expect(dropping.feed(.requestCancelled(1, runningOn: c(1))) == [.closeConnection(c(1), .dropped, failing: nil)])
    }

    @Test func multiplexedConnectionsTakeManyRequestsAndGrowWhenAllAreBusy() {
        var h = Harness(ldap)
        #expect(h.feed(.requestArrived(r(1))) == [.openConnection(c(1))])
        #expect(h.feed(.requestArrived(r(2))) == [], "one connect at a time")
        #expect(h.feed(.connectionEstablished(c(1))) == [
            .send(r(1), on: c(1), isRetry: false),
            .send(r(2), on: c(1), isRetry: false),
        ], "every queued request goes to the new connection")
        #expect(h.feed(.requestArrived(r(3))) == [.send(r(3), on: c(1), isRetry: false), .openConnection(c(2))],
                "the only connection has work: open another")
        #expect(h.feed(.requestArrived(r(4))) == [.send(r(4), on: c(1), isRetry: false)], "one connect at a time")
        _ = h.feed(.connectionEstablished(c(2)))
        #expect(h.feed(.requestArrived(r(5))) == [.send(r(5), on: c(2), isRetry: false)], "the least loaded")
        #expect(h.feed(.requestCancelled(5, runningOn: c(2))) == [.abandon(on: c(2))])
        #expect(h.feed(.requestArrived(r(6))) == [.send(r(6), on: c(2), isRetry: false)],
                "c2 is idle again after the abandon; the pool is full so no connect")
        #expect(h.machine.connectionCount == 2 && h.machine.readyCount == 2)
    }

    @Test("A per-connection cap: requests the new connection cannot take open the next one, up to the size")
    func aCappedConnectionOpensTheNextOneForWhatStillQueues() {
        var capped = ldap
        capped.maxRequestsPerConnection = 2
        capped.maxQueue = 10
        var h = Harness(capped)
        #expect(h.feed(.requestArrived(r(1))) == [.openConnection(c(1))])
        for id in 2...5 { #expect(h.feed(.requestArrived(r(id))) == [], "one connect at a time") }
        #expect(h.feed(.connectionEstablished(c(1))) == [
            .send(r(1), on: c(1), isRetry: false),
            .send(r(2), on: c(1), isRetry: false),
            .openConnection(c(2)),
        ], "c1 is full with 3 still queued: open c2")
        #expect(h.feed(.connectionEstablished(c(2))) == [
            .send(r(3), on: c(2), isRetry: false),
            .send(r(4), on: c(2), isRetry: false),
        ], "the pool is at its size: r5 waits")
        #expect(h.machine.queuedCount == 1)
        #expect(h.feed(.requestFinished(c(1), reusable: true)) == [.send(r(5), on: c(1), isRetry: false)])
    }

    @Test func warmUpOpensUpToItsCountOutsideTheBackoff() {
        var h = Harness(postgres)
        #expect(h.feed(.warmUp) == [.openConnection(c(1)), .openConnection(c(2))])
        h.advance(ms: 1)
        _ = h.feed(.connectionFailed(c(1)))
        _ = h.feed(.connectionFailed(c(2)))
        #expect(h.feed(.warmUp) == [.openConnection(c(3)), .openConnection(c(4))], "first failed round: at once")
        h.advance(ms: 1)
        _ = h.feed(.connectionFailed(c(3)))
        _ = h.feed(.connectionFailed(c(4)))
        #expect(h.feed(.warmUp) == [], "backoff running")
        var l = Harness(ldap)
        #expect(l.feed(.warmUp) == [.openConnection(c(1))])
        #expect(l.feed(.warmUp) == [])
    }

    @Test func shutdownClosesEverythingAndFailsWhatWaits() {
        var h = Harness(ConnectionPoolPolicy(size: 2))
        _ = h.feed(.requestArrived(r(1)))
        _ = h.feed(.requestArrived(r(2)))
        _ = h.feed(.requestArrived(r(3)))
        _ = h.feed(.connectionEstablished(c(1)))
        #expect(h.machine.connectionCount == 2 && h.machine.queuedCount == 2)
        #expect(h.feed(.shutdown) == [
            .closeConnection(c(1), .shutdown, failing: nil),
            .closeConnection(c(2), .shutdown, failing: nil),
            .fail(r(2), .shutdown),
            .fail(r(3), .shutdown),
        ])
        #expect(h.feed(.requestArrived(r(4))) == [.fail(r(4), .closed)])
        #expect(h.feed(.connectionEstablished(c(2))) == [], "late news of closed connections is ignored")
        #expect(h.feed(.warmUp) == [])
        #expect(h.machine.connectionCount == 0 && h.machine.queuedCount == 0)
    }

    @Test func theQueueKeepsFIFOOrderAcrossCompaction() {
        var queue = PoolQueue<Int>()
        for value in 0..<200 { queue.append(value) }
        for expected in 0..<150 { #expect(queue.popFirst() == expected) }
        queue.prepend(149)
        #expect(queue.remove { $0 == 160 })
        #expect(!queue.remove { $0 == 1000 })
        var rest: [Int] = []
        while let value = queue.popFirst() { rest.append(value) }
        #expect(rest == [149] + Array(150..<160) + Array(161..<200))
        #expect(queue.isEmpty && queue.count == 0)
    }
}
