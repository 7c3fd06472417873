import Glibc
import Reactor

/// The ``CurlMulti`` of each reactor running on the current thread (thread-local, so lookups take no
/// lock: a worker's reactor, its multi and every native HTTP operation share one thread).
final class CurlMultiRegistry {
    private var multis: [ObjectIdentifier: CurlMulti] = [:]

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { pointer in
            if let pointer { Unmanaged<CurlMultiRegistry>.fromOpaque(pointer).release() }
        }
        return key
    }()

    /// This thread's registry.
    static var current: CurlMultiRegistry {
        if let pointer = pthread_getspecific(key) {
            return Unmanaged<CurlMultiRegistry>.fromOpaque(pointer).takeUnretainedValue()
        }
        let registry = CurlMultiRegistry()
        pthread_setspecific(key, Unmanaged.passRetained(registry).toOpaque())
        return registry
    }

    func multi(for reactor: Reactor) -> CurlMulti? {
        let id = ObjectIdentifier(reactor)
        if let multi = multis[id] { return multi }
        guard let multi = CurlMulti(reactor: reactor) else { return nil }
        multis[id] = multi  // keeps the reactor alive too, so the identifier cannot be reused
        return multi
    }

    func remove(for reactor: Reactor) {
        multis.removeValue(forKey: ObjectIdentifier(reactor))?.close()
    }
}

extension CurlMulti {
    /// The multi of `reactor`, created on first use with the default settings (loop thread of
    /// `reactor`). It lives until ``releaseShared(for:)``.
    public static func shared(for reactor: Reactor) -> CurlMulti? {
        CurlMultiRegistry.current.multi(for: reactor)
    }

    /// Closes and forgets the shared multi of `reactor` (worker shutdown; loop thread of `reactor`).
    public static func releaseShared(for reactor: Reactor) {
        CurlMultiRegistry.current.remove(for: reactor)
    }
}
