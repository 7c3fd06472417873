import Reactor
import TandemAsync

/// One search waiting for, or running on, a pooled connection (loop thread only).
package final class LDAPSearchRequest: ConnectionPoolRequest {
    package let id: UInt64
    let search: LDAPURL
    let completion: (AsyncResult) -> Void
    var collector: LDAPResultCollector
    /// The libldap message id once sent.
    var messageID: Int32 = -1
    /// When its owner gave up while it ran on the server (timeout, CANCEL), nil before: the search then
    /// stays on its connection, unanswered to anyone, until the server's result frees its slot.
    var orphanedAt: Deadline?

    init(id: UInt64, search: LDAPURL, completion: @escaping (AsyncResult) -> Void) {
        self.id = id
        self.search = search
        self.completion = completion
        self.collector = LDAPResultCollector(attributes: search.attributes)
    }
}
