import Testing
@testable import TandemScript

/// Corpus: a registrar and proxy for one domain without presence (digest authentication,
/// usrloc/registrar `save`/`lookup`). The test pins exactly what `tandem check --list-missing`
/// reports, which is the migration list: empty since issue 16.
let registrarScript = #"""
# Registrar and proxy for one domain, without presence: digest authentication against the
# subscriber table, REGISTER stored in usrloc, calls to local users looked up, others refused.
log_level = 3
udp_workers = 4
socket = udp:127.0.0.1:5060
socket = tcp:127.0.0.1:5060
alias = "voip.example.org"

loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "sipmsgops.so"
loadmodule "signaling.so"
loadmodule "db_postgres.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "auth_db.so"

modparam("usrloc", "db_url", "postgres://tandem@127.0.0.1/tandem")
modparam("usrloc", "working_mode_preset", "single-instance-sql-write-back")
modparam("registrar", "max_contacts", 5)
modparam("registrar", "default_expires", 600)
modparam("auth_db", "db_url", "postgres://tandem@127.0.0.1/tandem")
modparam("auth_db", "calculate_ha1", yes)
modparam("auth_db", "password_column", "password")
modparam("rr", "append_fromtag", 1)

route {
    if (!mf_process_maxfwd_header(10)) {
        send_reply(483, "Too Many Hops");
        exit;
    }
    if (has_totag()) {
        route(in_dialog);
        exit;
    }
    if (is_method("CANCEL")) {
        if (t_check_trans()) { t_relay(); }
        exit;
    }
    t_check_trans();
    if (is_method("PUBLISH|SUBSCRIBE|NOTIFY")) {
        # No presence server here.
        send_reply(501, "Not Implemented");
        exit;
    }
    if (is_method("REGISTER")) {
        route(register);
        exit;
    }
    if (!is_myself("$rd")) {
        # Outbound calls only for our own authenticated users.
        if (!is_myself("$fd")) {
            send_reply(403, "Relaying Forbidden");
            exit;
        }
        if (!proxy_authorize("", "subscriber")) {
            proxy_challenge("", "auth");
            exit;
        }
        if ($au != $fU) {
            send_reply(403, "Spoofed From");
            exit;
        }
        consume_credentials();
        record_route();
        route(relay);
        exit;
    }
    if ($rU == NULL) {
        send_reply(484, "Address Incomplete");
        exit;
    }
    record_route();
    if (!lookup("location")) {
        t_newtran();
        t_reply(404, "Not Found");
        exit;
    }
    route(relay);
}

route[register] {
    if (!is_myself("$td")) {
        send_reply(403, "Not Our Domain");
        exit;
    }
    if (!www_authorize("", "subscriber")) {
        www_challenge("", "auth");
        exit;
    }
    if ($au != $tU) {
        send_reply(403, "Wrong Address Of Record");
        exit;
    }
    consume_credentials();
    if (!save("location")) {
        sl_reply_error();
    }
}

route[in_dialog] {
    if (loose_route()) {
        route(relay);
        return;
    }
    if (is_method("ACK")) {
        if (t_check_trans()) { t_relay(); }
        return;
    }
    send_reply(404, "Not here");
}

route[relay] {
    if (is_method("INVITE")) {
        t_on_failure("missed");
    }
    if (!t_relay()) {
        send_reply(500, "Internal Error");
    }
}

failure_route[missed] {
    if (t_was_cancelled()) {
        exit;
    }
    if (t_check_status("486|408")) {
        xlog("L_INFO", "$ci: $rU did not answer ($T_reply_code)\n");
    }
}
"""#

@Suite struct RegistrarScriptTests {
    @Test func nothingIsMissing() {
        let r = check(registrarScript, file: "registrar.cfg")
        let unexpected = r.diagnostics.filter {
            !$0.message.hasSuffix("that Tandem does not support yet") && !$0.message.hasSuffix("is not available in Tandem")
        }
        #expect(unexpected.map(\.description) == [])
        // usrloc, registrar, auth, auth_db (www_authorize/proxy_authorize against the subscriber table),
        // save/lookup, challenges, consume_credentials and $au exist (issue 16): nothing is missing.
        #expect(r.missing.migrationReport() == "")
    }
}
