import Reactor
import SIPCore
import TandemProxy
import TandemScript

/// The request of a `RequestContext` as the script sees it: adds `$du`, flags, `$T_reply_code` in a
/// failure route, and the writable Request-URI parts.
final class RequestMessageAdapter: SIPMessageAdapter {
    let context: RequestContext

    init(context: RequestContext, local: SocketAddress?) {
        self.context = context
        super.init(local: local, source: context.source,
                   proto: context.core.settings.transport(at: context.socketIndex).rawValue)
    }

    override var message: SIPMessage {
        _read { yield context.message }
        _modify { yield &context.message }
    }

    override var flags: UInt64 {
        get { context.flags }
        set { context.flags = newValue }
    }

    override var transactionBranch: String? { context.transaction?.key.branch ?? super.transactionBranch }

    override func get(_ pv: MessagePV, name: String?, index: Int?) -> ScriptValue {
        switch pv {
        case .destinationURI: return text(context.destinationURI)
        case .branch: return branchField(name ?? "uri", index: index ?? 0)
        case .replyStatus, .replyCode:
            return context.failureStatus > 0 ? .int(context.failureStatus) : (pv == .replyCode ? .int(0) : .null)
        default: return super.get(pv, name: name, index: index)
        }
    }

    /// `$branch(field)[index]` (negative index: from the end); `count` gives the number of branches.
    private func branchField(_ field: String, index: Int) -> ScriptValue {
        let branches = context.branches
        if field == "count" { return .int(branches.count) }
        let i = index >= 0 ? index : branches.count + index
        guard i >= 0, i < branches.count else { return .null }
        let branch = branches[i]
        switch field {
        case "uri": return .string(branch.uri)
        case "q": return branch.q.map { .string(BranchTarget.formatQ($0)) } ?? .null
        case "duri": return text(branch.destinationURI)
        case "path": return branch.path.isEmpty ? .null : .string(branch.path.joined(separator: ","))
        case "flags": return .int(Int(truncatingIfNeeded: branch.flags))
        default: return .null
        }
    }

    override func set(_ pv: MessagePV, value: ScriptValue) -> Bool {
        switch pv {
        case .requestURI:
            guard case .string(let text) = value, (try? URI(parsing: text)) != nil else { return false }
            message.setRequestURI(text)
            return true
        case .destinationURI:
            context.destinationURI = value.isNull ? nil : value.stringValue
            return true
        case .requestUser, .requestDomain, .requestPort:
            guard var uri = requestSIPURI else { return false }
            switch pv {
            case .requestUser: uri.user = value.isNull ? nil : value.stringValue
            case .requestDomain:
                guard !value.isNull else { return false }
                uri.host = value.stringValue
            default:
                if value.isNull { uri.port = nil } else {
                    guard let port = value.intValue, let p = UInt16(exactly: port) else { return false }
                    uri.port = p
                }
            }
            message.setRequestURI(uri.description)
            return true
        default:
            return false
        }
    }
}
