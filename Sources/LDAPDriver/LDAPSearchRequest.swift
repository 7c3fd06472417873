import TandemAsync

/// One search waiting for, or running on, a pooled connection (loop thread only).
final class LDAPSearchRequest {
    let id: UInt64
    let search: LDAPURL
    let completion: (AsyncResult) -> Void
    var collector: LDAPResultCollector
    /// The libldap message id once sent.
    var messageID: Int32 = -1
    /// Set once the request was re-queued after its send failed on a dead connection.
    var retried = false

    init(id: UInt64, search: LDAPURL, completion: @escaping (AsyncResult) -> Void) {
        self.id = id
        self.search = search
        self.completion = completion
        self.collector = LDAPResultCollector(attributes: search.attributes)
    }
}
