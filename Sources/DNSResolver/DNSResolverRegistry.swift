import Glibc
import Reactor
import Synchronization

/// What every worker's resolver shares: the settings (from the script's core parameters), the cache
/// and the counters. Set once at server start with ``configure(_:)``.
public final class DNSEnvironment: Sendable {
    public let settings: DNSSettings
    public let cache: DNSCache
    public let statistics: DNSStatistics
    /// `/etc/hosts`, read when the environment is made.
    public let hosts: [String: [SocketAddress]]
    /// Next hops that failed recently.
    public let blacklist = DNSBlacklist()

    public init(settings: DNSSettings, hosts: [String: [SocketAddress]] = HostsFile.load()) {
        self.settings = settings
        self.hosts = hosts
        self.cache = DNSCache(capacity: settings.cacheCapacity)
        self.statistics = DNSStatistics()
    }

    private static let current = Mutex(DNSEnvironment(settings: DNSSettings()))

    /// The process's environment (the default settings until ``configure(_:)``).
    public static var shared: DNSEnvironment { current.withLock { $0 } }

    /// Replaces the process's environment (server start; resolvers created later use it).
    public static func configure(_ settings: DNSSettings) {
        current.withLock { $0 = DNSEnvironment(settings: settings) }
    }
}

/// The ``DNSResolver`` of each reactor running on the current thread (thread-local: a worker's
/// reactor, its c-ares channel and every lookup share one thread, so no lock).
final class DNSResolverRegistry {
    private var resolvers: [ObjectIdentifier: DNSResolver] = [:]
    private var reactors: [ObjectIdentifier: Reactor] = [:]

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { pointer in
            if let pointer { Unmanaged<DNSResolverRegistry>.fromOpaque(pointer).release() }
        }
        return key
    }()

    static var current: DNSResolverRegistry {
        if let pointer = pthread_getspecific(key) {
            return Unmanaged<DNSResolverRegistry>.fromOpaque(pointer).takeUnretainedValue()
        }
        let registry = DNSResolverRegistry()
        pthread_setspecific(key, Unmanaged.passRetained(registry).toOpaque())
        return registry
    }

    func resolver(for reactor: Reactor, environment: DNSEnvironment) -> DNSResolver? {
        let id = ObjectIdentifier(reactor)
        if let resolver = resolvers[id] { return resolver }
        guard let resolver = DNSResolver(reactor: reactor, settings: environment.settings, cache: environment.cache,
                                         statistics: environment.statistics, hosts: environment.hosts) else { return nil }
        resolvers[id] = resolver
        reactors[id] = reactor  // keeps the identifier from being reused while the resolver lives
        return resolver
    }

    func remove(for reactor: Reactor) {
        let id = ObjectIdentifier(reactor)
        resolvers.removeValue(forKey: id)?.close()
        reactors[id] = nil
    }
}

extension DNSResolver {
    /// The resolver of `reactor` with `environment` (its settings, cache and counters), created on first use (loop
    /// thread of `reactor`); nil if c-ares cannot be set up. It lives until ``releaseShared(for:)``.
    public static func shared(for reactor: Reactor, environment: DNSEnvironment = .shared) -> DNSResolver? {
        DNSResolverRegistry.current.resolver(for: reactor, environment: environment)
    }

    /// Closes and forgets the shared resolver of `reactor` (worker shutdown; its loop thread).
    public static func releaseShared(for reactor: Reactor) {
        DNSResolverRegistry.current.remove(for: reactor)
    }
}
