/// A residential-style routing script (written for Tandem's tests, OpenSIPS 3.x syntax).
let residentialScript = #"""
#
# Residential proxy: registrar, authentication, NAT handling, calls between local users
#
log_level = 3
udp_workers = 4
socket = udp:127.0.0.1:5060
alias = "example.com"
auto_aliases = no
dns = no
rev_dns = no

mpath = "/usr/lib/x86_64-linux-gnu/opensips/modules/"

loadmodule "proto_udp.so"
loadmodule "signaling.so"
loadmodule "sl.so"
loadmodule "tm.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "sipmsgops.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "auth_db.so"
loadmodule "db_postgres.so"
loadmodule "cachedb_local.so"
loadmodule "statistics.so"
loadmodule "nathelper.so"

modparam("tm", "fr_timeout", 5)
modparam("tm", "fr_inv_timeout", 30)
modparam("tm", "restart_fr_on_each_reply", 0)
modparam("tm", "onreply_avp_mode", 1)
modparam("rr", "append_fromtag", 0)
modparam("usrloc", "db_mode", 2)
modparam("usrloc", "db_url", "postgres://opensips:secret@localhost/opensips")
modparam("auth_db", "calculate_ha1", 1)
modparam("cachedb_local", "cache_clean_period", 60)

route {
    if (!mf_process_maxfwd_header(10)) {
        send_reply(483, "Too Many Hops");
        exit;
    }

    if (has_totag()) {
        # sequential request within a dialog
        if (loose_route()) {
            if (is_method("BYE")) {
                update_stat("calls_ended", 1);
            }
            route(relay);
            exit;
        }
        if (is_method("ACK")) {
            if (t_check_trans()) {
                t_relay();
            }
            exit;
        }
        sl_send_reply(404, "Not here");
        exit;
    }

    if (is_method("CANCEL")) {
        if (t_check_trans())
            t_relay();
        exit;
    }

    t_check_trans();

    if (!is_method("REGISTER|MESSAGE")) {
        if ($fd == "example.com" || from_uri == myself) {
            if (!proxy_authorize("", "subscriber")) {
                proxy_challenge("", "auth");
                exit;
            }
            consume_credentials();
        } else if (uri != myself) {
            send_reply(403, "Relay Forbidden");
            exit;
        }
    }

    if (is_method("INVITE|SUBSCRIBE"))
        record_route();

    if (uri != myself) {
        append_hf("P-hint: outbound\r\n");
        route(relay);
        exit;
    }

    if (is_method("PUBLISH|SUBSCRIBE")) {
        sl_send_reply(503, "Service Unavailable");
        exit;
    }

    if (is_method("REGISTER")) {
        if (!www_authorize("", "subscriber")) {
            www_challenge("", "auth");
            exit;
        }
        if (nat_uac_test(19)) {
            fix_nated_register();
            setflag(NAT);
        }
        if (!save("location"))
            xlog("L_ERR", "failed to save contact of $tU\n");
        exit;
    }

    if ($rU == NULL) {
        sl_send_reply(484, "Address Incomplete");
        exit;
    }

    # speed dial: *1xx → extension 1xx, cached
    if ($rU =~ "^\*1[0-9][0-9]$") {
        $var(ext) = $rU;
        if (cache_fetch("local", "speed_$var(ext)", $avp(target))) {
            $ru = $avp(target);
        } else {
            $rU = "1" + 0;
        }
    }

    if (!lookup("location")) {
        t_reply(404, "Not Found");
        exit;
    }

    update_stat("calls_started", 1);
    route(relay);
}

route[relay] {
    if (is_method("INVITE")) {
        t_on_branch("per_branch");
        t_on_reply("handle_nat");
        t_on_failure("missed_call");
        $avp(attempt) = 1;
    }
    if (!t_relay()) {
        send_reply(500, "Internal Error");
    }
    exit;
}

branch_route[per_branch] {
    xlog("L_DBG", "new branch $T_branch_idx to $ru\n");
    if (isflag(NAT)) {
        append_hf("X-NAT: yes\r\n");
    }
}

onreply_route[handle_nat] {
    if (nat_uac_test(1))
        fix_nated_contact();
    xlog("L_INFO", "reply $rs $rr for $ci\n");
}

failure_route[missed_call] {
    if (t_was_cancelled()) {
        exit;
    }
    if (t_check_status("486|408")) {
        $avp(attempt) += 1;
        switch ($avp(attempt)) {
        case 2:
            $ru = "sip:voicemail@127.0.0.1:5080";
            t_relay();
            break;
        default:
            xlog("L_NOTICE", "giving up on $rU after $avp(attempt) attempts\n");
        }
    }
}

startup_route {
    cache_store("local", "speed_*100", "sip:alice@example.com");
}

timer_route[gc, 300] {
    xlog("L_INFO", "periodic housekeeping\n");
}
"""#
