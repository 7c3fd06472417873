/// A message stand-in for routes that run without a SIP message (startup_route, timer_route,
/// launch report routes): every pseudo-variable is NULL and header operations do nothing.
public final class EmptyScriptMessage: ScriptMessage {
    public init() {}
    public func get(_ pv: MessagePV, name: String?, index: Int?) -> ScriptValue { .null }
    public func set(_ pv: MessagePV, value: ScriptValue) -> Bool { false }
    public var isRequest: Bool { false }
    public var method: String { "" }
    public var hasToTag: Bool { false }
    public var flags: UInt64 = 0
    public func appendHeader(_ raw: String) {}
    public func insertHeader(_ raw: String) {}
    public func removeHeader(named name: String) -> Int { 0 }
    public func isHeaderPresent(named name: String) -> Bool { false }
    public func replaceHeader(named name: String, value: String) -> Bool { false }
}
