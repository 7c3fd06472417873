import TandemAsync

/// One search waiting for, or running on, a pooled connection (loop thread only).
package final class LDAPSearchRequest: ConnectionPoolRequest {
    package let id: UInt64
    let search: LDAPURL
    let completion: (AsyncResult) -> Void
    var collector: LDAPResultCollector
    /// The libldap message id once sent.
    var messageID: Int32 = -1

    init(id: UInt64, search: LDAPURL, completion: @escaping (AsyncResult) -> Void) {
        self.id = id
        self.search = search
        self.completion = completion
        self.collector = LDAPResultCollector(attributes: search.attributes)
    }
}
