import CReactor
import Glibc

/// A named, joinable pthread running one closure — how the server starts its N workers, each running
/// its own ``Reactor``.
///
/// `@unchecked Sendable`: `thread` is written once in `init`; `joined` is only touched by `join()`/
/// `deinit`, which must be called from one thread (the one that manages the worker).
public final class WorkerThread: @unchecked Sendable {
    private final class Start {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    /// The thread name (truncated to 15 bytes by the kernel).
    public let name: String
    private let thread: pthread_t
    private var joined = false

    /// Starts a thread named `name` that runs `body` and exits.
    public init(name: String, _ body: @escaping @Sendable () -> Void) throws(IOError) {
        self.name = name
        let start = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let start = Unmanaged<Start>.fromOpaque(raw!).takeRetainedValue()
            WorkerThread.setCurrentName(start.name)
            start.body()
            return nil
        }, start)
        if rc != 0 {
            Unmanaged<Start>.fromOpaque(start).release()
            throw IOError(errno: rc, function: "pthread_create")
        }
        self.thread = thread
    }

    deinit {
        if !joined { pthread_detach(thread) }
    }

    /// Waits for the thread to finish (idempotent). Must not be called from the thread itself.
    public func join() {
        guard !joined else { return }
        precondition(pthread_equal(thread, pthread_self()) == 0, "WorkerThread cannot join itself")
        pthread_join(thread, nil)
        joined = true
    }

    /// Whether the caller runs on this thread.
    public var isCurrent: Bool { pthread_equal(thread, pthread_self()) != 0 }

    /// Names the calling thread (first 15 bytes; visible in `top -H`, `ps -L`, gdb).
    public static func setCurrentName(_ name: String) {
        var bytes = Array(name.utf8.prefix(15))
        bytes.append(0)
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { _ = creactor_pthread_setname(pthread_self(), $0.baseAddress) }
        }
    }

    /// The calling thread's name.
    public static var currentName: String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 32) { buffer in
            buffer.initialize(repeating: 0)
            creactor_pthread_getname(pthread_self(), buffer.baseAddress!, 32)
            return String(cString: buffer.baseAddress!)
        }
    }
}
