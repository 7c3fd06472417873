import CLDAP
import Reactor
import TandemAsync

/// One pooled libldap handle and where it is in its life (loop thread only). Many searches run on it
/// at once, told apart by their message ids. The pool owns its registration and timer.
final class LDAPConnection {
    enum Phase: Equatable {
        /// TCP connect in progress (`LDAP_OPT_CONNECT_ASYNC`); the bind request is queued or sent.
        case connecting
        /// Waiting for the bind response.
        case binding
        /// Bound: takes searches.
        case ready
        /// Unbound and removed from the pool (`ld` is freed).
        case closed
    }

    /// The pool state machine's name for it.
    let id: PoolConnectionID
    let ld: OpaquePointer
    var phase: Phase = .connecting
    var fd: Int32 = -1
    var registration: RegistrationID?
    var interest: Interest = .write
    /// Connect or bind deadline.
    var timer: TimerID?
    var bindMessageID: Int32 = -1
    /// Searches in flight by message id.
    var searches: [Int32: LDAPSearchRequest] = [:]
    let startedAt: Deadline

    init(id: PoolConnectionID, ld: OpaquePointer, startedAt: Deadline) {
        self.id = id
        self.ld = ld
        self.startedAt = startedAt
    }

    /// The handle's last result code and its text.
    var lastError: String {
        let code = tandem_ldap_get_int(ld, LDAP_OPT_RESULT_CODE)
        var text = String(cString: ldap_err2string(code))
        var diagnostic: UnsafeMutablePointer<CChar>?
        if ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diagnostic) == LDAP_OPT_SUCCESS, let diagnostic {
            let extra = String(cString: diagnostic)
            if !extra.isEmpty { text += " (\(extra))" }
            ldap_memfree(diagnostic)
        }
        return text
    }
}
