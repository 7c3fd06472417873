import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The operations HTTP listener of one server (OpenSIPS httpd + prometheus + mi_http): serves
/// `/metrics`, `/health` and `/stats` on its own one-thread NIO event loop group, bound to exactly the
/// configured address. Started by `TandemServer.start()`, stopped by `stop()`.
public final class OperationsEndpoint: Sendable {
    /// Address and served paths.
    public let configuration: OperationsConfiguration
    /// The metrics publisher (`nil` when the prometheus module is not loaded).
    public let publisher: MetricsPublisher?
    private let sources: OperationsSources
    private let running = Mutex<Running?>(nil)

    private struct Running: Sendable {
        var group: MultiThreadedEventLoopGroup
        var channel: any Channel
        var router: OperationsRouter
    }

    public init(configuration: OperationsConfiguration, sources: OperationsSources, publisher: MetricsPublisher?) {
        self.configuration = configuration
        self.sources = sources
        self.publisher = publisher
    }

    /// Binds the configured address and starts answering. Throws if the address cannot be bound
    /// (in use, not local, …); calling it while running does nothing.
    public func start() throws(OperationsEndpointError) {
        if running.withLock({ $0 != nil }) { return }
        let address: NIOCore.SocketAddress
        do {
            address = try NIOCore.SocketAddress(ipAddress: configuration.host, port: configuration.port)
        } catch {
            throw OperationsEndpointError(address: configuration.authority, errno: nil,
                                          reason: "'\(configuration.host)' is not an IP address")
        }
        let router = OperationsRouter(configuration: configuration, sources: sources, publisher: publisher)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(OperationsHTTPHandler(router: router))
                }
            }
        let channel: any Channel
        do {
            channel = try bootstrap.bind(to: address).wait()
        } catch {
            try? group.syncShutdownGracefully()
            let code = (error as? IOError)?.errnoCode
            let reason = code.map { String(cString: strerror($0)) } ?? "\(error)"
            throw OperationsEndpointError(address: configuration.authority, errno: code, reason: reason)
        }
        running.withLock { $0 = Running(group: group, channel: channel, router: router) }
    }

    /// The port actually bound (differs from the configured one only for port 0), `nil` when stopped.
    public var boundPort: Int? { running.withLock { $0?.channel.localAddress?.port } }

    /// The figures now (what `/stats` returns), `nil` when stopped.
    public func snapshot() -> OperationsSnapshot? { running.withLock { $0?.router }?.snapshot() }

    /// Closes the listener and its connections and stops the event loop thread.
    public func stop() {
        guard let state = running.withLock({ value -> Running? in
            defer { value = nil }
            return value
        }) else { return }
        try? state.channel.close().wait()
        try? state.group.syncShutdownGracefully()
    }
}
