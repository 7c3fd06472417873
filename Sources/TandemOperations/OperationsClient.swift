import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 GET client for the operations endpoint (`tandem ctl`, tests), on NIO.
public enum OperationsClient {
    /// A reply: status code and body.
    public struct Reply: Sendable {
        public var status: Int
        public var body: [UInt8]
        /// The body as UTF-8 text.
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Why a GET failed (connection refused, timeout, connection closed early).
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var url: String
        public var reason: String
        public var description: String { "\(url): \(reason)" }
    }

    /// GETs `path` from `host:port` (an IP address or name) and waits at most `timeoutSeconds`.
    public static func get(host: String, port: Int, path: String, timeoutSeconds: Int64 = 5) throws(Failure) -> Reply {
        let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let url = "http://\(authority)\(path)"
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let promise = group.next().makePromise(of: Reply.self)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.seconds(timeoutSeconds))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ReplyCollector(promise: promise))
                }
            }
        do {
            let channel = try bootstrap.connect(host: host, port: port).wait()
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: authority)
            headers.add(name: "Connection", value: "close")
            headers.add(name: "Accept", value: "*/*")
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            let timeout = channel.eventLoop.scheduleTask(in: .seconds(timeoutSeconds)) {
                promise.fail(Failure(url: url, reason: "no reply within \(timeoutSeconds) s"))
            }
            defer {
                timeout.cancel()
                channel.close(promise: nil)
            }
            return try promise.futureResult.wait()
        } catch let failure as Failure {
            throw failure
        } catch {
            promise.fail(error)
            throw Failure(url: url, reason: Self.describe(error))
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        if let connect = error as? NIOConnectionError {
            if let first = connect.connectionErrors.first { return "cannot connect: \(describe(first.error))" }
            return "cannot connect: \(connect)"
        }
        if error is ChannelError { return "connection failed: \(error)" }
        return "\(error)"
    }
}

/// Collects one HTTP response into a promise; fails it if the connection ends first.
private final class ReplyCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<OperationsClient.Reply>
    private var status = 0
    private var body: [UInt8] = []
    private var done = false

    init(promise: EventLoopPromise<OperationsClient.Reply>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
        case .body(var buffer):
            if let bytes = buffer.readBytes(length: buffer.readableBytes) { body += bytes }
        case .end:
            guard !done else { return }
            done = true
            promise.succeed(OperationsClient.Reply(status: status, body: body))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            promise.fail(ChannelError.inputClosed)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !done {
            done = true
            promise.fail(error)
        }
        context.close(promise: nil)
    }
}
