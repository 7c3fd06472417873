import Glibc
@testable import Reactor

/// Mutable state captured by loop-thread callbacks in tests.
final class Box<T> {
    var value: T
    init(_ value: T) { self.value = value }
}

/// Thread-safe counter/collector for cross-thread tests.
final class Shared<T>: @unchecked Sendable {  // every access goes through `lock`
    private let lock = Lock()
    private var storage: T
    init(_ value: T) { storage = value }
    var value: T { lock.withLock { storage } }
    func mutate(_ body: (inout T) -> Void) { lock.withLock { body(&storage) } }
}

let loopback = SocketAddress(ip: "127.0.0.1", port: 0)!

func writeBytes(_ fd: Int32, _ bytes: [UInt8]) throws {
    let result = try bytes.withUnsafeBytes { try System.write(fd, $0) }
    precondition(result == .processed(bytes.count))
}

/// Runs the loop until `condition` holds or about `limitMs` of real time passed.
func spin(_ reactor: Reactor, limitMs: Int = 2000, until condition: () -> Bool) throws {
    let start = System.monotonicNanoseconds()
    while !condition() {
        if System.monotonicNanoseconds() - start > UInt64(limitMs) * 1_000_000 { return }
        try reactor.runOnce(timeoutMs: 10)
    }
}
