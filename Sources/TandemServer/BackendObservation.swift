import LDAPDriver
import MongoDriver
import TandemAsync
import TandemScript

/// Tells the async engine's ``BackendHealthRegistry`` what each finished LDAP, HTTP, MongoDB and exec job says
/// about its backend (PostgreSQL reports from its pool, which sees the connects): a loss when the job
/// could not reach it, a recovery when one reached it again. Cancelled and rejected jobs say nothing.
enum BackendObservation {
    static func observe(_ name: String, args: [ScriptValue], result: AsyncResult, services: WorkerServices?) {
        guard let services, result.status == .completed || result.status == .timedOut else { return }
        let timedOut = result.status == .timedOut || result.rc == AsyncResult.rcTimeout
        let health: BackendHealth
        let reached: Bool
        switch name {
        case "rest_get", "rest_post", "rest_put":
            guard let entry = services.httpOrigins.health(forURL: args.first?.stringValue ?? "",
                                                          registry: services.asyncWorker.backends) else { return }
            health = entry
            // rc 1: any HTTP exchange completed; -1 refused/resolve/TLS, -2 connect timeout, -3 transfer timeout.
            reached = result.rc == AsyncResult.rcSuccess
        case "ldap_search":
            let text = args.first?.stringValue ?? ""
            guard let url = try? LDAPURLSession.name(in: text), let session = services.settings.ldap.sessions[url] else { return }
            health = services.asyncWorker.backends.health(driver: "ldap", address: session.configuration.serverURL)
            // A search the server answered carries `entries` (found or not) and no client-side error: not
            // the pool's "no connection / connection lost" marker, nor a negative libldap code (server down,
            // connect error) from the blocking form.
            let clientError = result.output("ldap_rc").map { $0.intValue.map { $0 < 0 } ?? false } ?? false
            reached = !timedOut && result.output("entries") != nil
                && result.output(LDAPSearchOperation.unreachableOutput) == nil && !clientError
        case "avp_db_query", "sql_query", "cache_raw_query":
            // MongoDB only (PostgreSQL reports from its pool): the query's database, or the cachedb one.
            let pool: MongoClientPool?
            if name == "cache_raw_query" {
                pool = (args.first?.stringValue ?? "").hasPrefix("mongodb") ? services.settings.databases.cacheMongo : nil
            } else {
                let id = args.count > 2 ? args[2].stringValue : nil
                pool = (services.settings.databases.database(id: id)?.backend as? MongoDatabase)?.pool
            }
            guard let pool, let address = httpOrigin(pool.url) else { return }
            health = services.asyncWorker.backends.health(driver: "mongodb", address: address)
            // Any answer of the server (documents, none, or a server error) reaches it.
            reached = !timedOut && result.output(MongoCommandOperation.unreachableOutput) == nil
        case "exec":
            let command = args.first?.stringValue ?? ""
            guard let program = command.split(separator: " ").first else { return }
            health = services.asyncWorker.backends.health(driver: "exec", address: String(program))
            // Any exit status means the command ran; only a command that never finished is an outage.
            reached = !timedOut
        default:
            return
        }
        if reached {
            health.reachable()
        } else {
            health.lost(timedOut ? "timeout" : "rc \(result.rc)")
        }
    }

    /// `scheme://host[:port]` of `url`, without credentials, path or query.
    static func httpOrigin(_ url: String) -> String? {
        guard let (scheme, rest) = splitScheme(url) else { return nil }
        var authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        guard !authority.isEmpty else { return nil }
        return scheme + "://" + authority
    }

    /// `scheme` and what follows `scheme://`.
    static func splitScheme(_ url: String) -> (Substring, Substring)? {
        guard let colon = url.firstIndex(of: ":") else { return nil }
        let rest = url[url.index(after: colon)...]
        guard rest.hasPrefix("//") else { return nil }
        return (url[..<colon], rest.dropFirst(2))
    }
}

/// The session name of an `ldap://SESSION/...` search URL, read without building the whole search.
enum LDAPURLSession {
    struct NotLDAP: Error {}

    static func name(in text: String) throws -> String {
        guard let (_, rest) = BackendObservation.splitScheme(text) else { throw NotLDAP() }
        let session = rest.prefix { $0 != "/" && $0 != "?" }
        guard !session.isEmpty else { throw NotLDAP() }
        return String(session)
    }
}
