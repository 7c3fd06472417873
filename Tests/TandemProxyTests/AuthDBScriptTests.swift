import Foundation
import Logging
import SIPCore
import Testing
import TandemScript
@testable import TandemProxy
import TandemTestSupport

/// auth_db's proxy_authorize against the real PostgreSQL that scripts/test.sh starts (issue 16): the
/// stored password or HA1 of the `subscriber`-like table, called plainly and under async().
@Suite(.serialized, .enabled(if: TestPostgres.url != nil, "TANDEM_TEST_PG_URL not set (start with scripts/test.sh)"))
struct AuthDBScriptTests {
    static let table = "authdb_subscriber_test"

    static func fixtures() throws {
        try PostgresScriptTests.psql("""
            DROP TABLE IF EXISTS \(table);
            CREATE TABLE \(table) (username text, domain text, password text, ha1 text, ha1_sha256 text);
            INSERT INTO \(table) VALUES ('alice', 'example.com', 'wonderland', md5('alice:example.com:wonderland'),
                                         encode(sha256('alice:example.com:wonderland'::bytea), 'hex'));
            """)
    }

    static func proxy(calculateHA1: Int, url: String? = TestPostgres.url, logger: Logger? = nil) throws -> ScriptedProxy {
        try ScriptedProxy(routes: """
            loadmodule "auth.so"
            loadmodule "auth_db.so"
            modparam("auth", "secret", "test-secret")
            modparam("auth_db", "db_url", "\(url ?? "")")
            modparam("auth_db", "calculate_ha1", \(calculateHA1))
            route {
                if (is_method("MESSAGE")) {
                    async(proxy_authorize("example.com", "\(table)"), verdict);
                }
                proxy_authorize("example.com", "\(table)");
                route(verdict);
            }
            route[verdict] {
                $var(rc) = $rc;
                if ($var(rc) == 1) { t_reply(299, "Authorized"); exit; }
                if ($var(rc) == -4) { proxy_challenge("example.com", "auth"); exit; }
                t_reply(403, "rc=$var(rc)");
            }
            """, logger: logger)
    }

    /// Sends `method` (with credentials when given) and returns the final response.
    func ask(_ proxy: ScriptedProxy, _ method: String, id: String, credentials: String? = nil) throws -> SIPMessage? {
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request(method, branch: "z9hG4bK-adb-\(id)", callID: "adb-\(id)",
                                       extraHeaders: credentials.map { "Proxy-Authorization: \($0)\r\n" } ?? ""))
        return client.waitFor(timeout: 5) { $0 >= 200 }.match
    }

    /// The Proxy-Authorization answering `challenge` as `user` with `password`.
    func answer(_ challenge: String, user: String, password: String, method: String, nc: String,
                algorithm: DigestAlgorithm = .md5) throws -> String {
        func field(_ name: String) -> String? {
            guard let range = challenge.firstRange(of: "\(name)=\"") else { return nil }
            return String(challenge[range.upperBound...].prefix { $0 != "\"" })
        }
        let realm = try #require(field("realm")), nonce = try #require(field("nonce"))
        let header = """
            Digest username="\(user)", realm="\(realm)", nonce="\(nonce)", uri="sip:bob@127.0.0.1:9", \
            algorithm=\(algorithm.rawValue), qop=auth, nc=\(nc), cnonce="0a4f113b", response="x"
            """
        var credentials = try #require(DigestCredentials(parsing: header))
        let ha1 = DigestAuth.ha1(algorithm, username: user, realm: realm, password: password)
        credentials.response = DigestAuth.expectedResponse(credentials, ha1: ha1, method: method)
        return header.replacingOccurrences(of: "response=\"x\"", with: "response=\"\(credentials.response)\"")
    }

    func run(calculateHA1: Int, tag: String) throws {
        try Self.fixtures()
        let proxy = try Self.proxy(calculateHA1: calculateHA1)
        let challenge = try #require(try ask(proxy, "INVITE", id: "\(tag)-0"))
        #expect(challenge.statusCode == 407)
        let offer = try #require(challenge.header(.proxyAuthenticate))
        let right = try answer(offer, user: "alice", password: "wonderland", method: "INVITE", nc: "00000001")
        #expect(try ask(proxy, "INVITE", id: "\(tag)-1", credentials: right)?.statusCode == 299)
        let wrong = try answer(offer, user: "alice", password: "guess", method: "INVITE", nc: "00000002")
        #expect(try ask(proxy, "INVITE", id: "\(tag)-2", credentials: wrong)?.reasonPhrase == "rc=-2")
        let unknown = try answer(offer, user: "mallory", password: "wonderland", method: "INVITE", nc: "00000003")
        #expect(try ask(proxy, "INVITE", id: "\(tag)-3", credentials: unknown)?.reasonPhrase == "rc=-1")
        // Under async(): the transaction suspends while the query runs, then the same verdicts.
        let asyncRight = try answer(offer, user: "alice", password: "wonderland", method: "MESSAGE", nc: "00000004")
        #expect(try ask(proxy, "MESSAGE", id: "\(tag)-4", credentials: asyncRight)?.statusCode == 299)
        let asyncWrong = try answer(offer, user: "alice", password: "guess", method: "MESSAGE", nc: "00000005")
        #expect(try ask(proxy, "MESSAGE", id: "\(tag)-5", credentials: asyncWrong)?.reasonPhrase == "rc=-2")
        // A replay of an accepted answer is a stale nonce (-3).
        #expect(try ask(proxy, "INVITE", id: "\(tag)-6", credentials: right)?.reasonPhrase == "rc=-3")
    }

    @Test("proxy_authorize with calculate_ha1 1 (password column): 1, -2 wrong password, -1 unknown user, also under async()")
    func plainPassword() throws { try run(calculateHA1: 1, tag: "pw") }

    @Test("proxy_authorize with calculate_ha1 0: the ha1 column")
    func storedHA1() throws { try run(calculateHA1: 0, tag: "ha1") }

    @Test("SHA-256 credentials read ha1_sha256 (calculate_ha1 0)")
    func sha256Column() throws {
        try Self.fixtures()
        let proxy = try Self.proxy(calculateHA1: 0)
        let offer = try #require(try ask(proxy, "INVITE", id: "sha-0")?.header(.proxyAuthenticate))
        let right = try answer(offer, user: "alice", password: "wonderland", method: "INVITE", nc: "00000001",
                               algorithm: .sha256)
        #expect(try ask(proxy, "INVITE", id: "sha-1", credentials: right)?.statusCode == 299)
    }

    @Test("Database unreachable: -5 with credentials (logged with its cause), -4 (challenge) without")
    func databaseDown() throws {
        let capture = LogCapture()
        let proxy = try Self.proxy(calculateHA1: 1, url: "postgres://tandem@127.0.0.1:\(Ports.free())/tandem",
                                   logger: capture.logger(level: .error))
        let challenge = try #require(try ask(proxy, "INVITE", id: "down-0"))
        #expect(challenge.statusCode == 407)
        let offer = try #require(challenge.header(.proxyAuthenticate))
        let right = try answer(offer, user: "alice", password: "wonderland", method: "INVITE", nc: "00000001")
        #expect(try ask(proxy, "INVITE", id: "down-1", credentials: right)?.reasonPhrase == "rc=-5")
        // The -5 is logged with the driver's reason (here the connect error), not only as a code.
        let line = capture.wait { $0.message.contains("auth_db: the credentials query failed (rc -1)") }
        #expect(line != nil, "\(capture.all)")
        #expect(line?.message.contains("onnect") == true, "\(line?.message ?? "")")
    }

    @Test("A table name that is not a plain identifier is refused, not spliced (-5 with credentials)")
    func hostileTableName() {
        #expect(AuthDB.query(table: "x; DROP TABLE y", column: "ha1", userColumn: "username", domainColumn: "domain",
                             useDomain: false) == nil)
        #expect(AuthDB.query(table: "public.subscriber", column: "ha1", userColumn: "username", domainColumn: "domain",
                             useDomain: true) == "SELECT ha1 FROM public.subscriber WHERE username = $1 AND domain = $2")
    }
}
