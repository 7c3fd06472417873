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
        super.init(local: local, source: context.source)
    }

    override var message: SIPMessage {
        get { context.message }
        set { context.message = newValue }
    }

    override var flags: UInt64 {
        get { context.flags }
        set { context.flags = newValue }
    }

    override var transactionBranch: String? { context.transaction?.key.branch ?? super.transactionBranch }

    override func get(_ pv: MessagePV, name: String?, index: Int?) -> ScriptValue {
        switch pv {
        case .destinationURI: return text(context.destinationURI)
        case .replyStatus, .replyCode:
            return context.failureStatus > 0 ? .int(context.failureStatus) : (pv == .replyCode ? .int(0) : .null)
        default: return super.get(pv, name: name, index: index)
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
