/// OpenSIPS 3.6 functions Tandem does not provide, with the module each comes from ("core" for
/// the core), so `tandem check` can say so plainly instead of "unknown function".
enum OpenSIPSFunctions {
    static let modules: [String: String] = {
        let table: [(String, [String])] = [
            ("core", ["send", "revert_uri", "add_local_rport", "force_send_socket", "force_tcp_alias", "assert", "setdsturi",
                      "resetdsturi", "isdsturiset", "setsflag", "resetsflag", "issflagset", "sl_forward_reply",
                      "raise_event", "subscribe_event", "cache_counter_fetch", "cache_add", "cache_sub",
                      "script_trace"]),
            ("tm", ["t_flush_flags", "t_replicate", "t_forward_nonack",
                    "t_release", "t_any_timeout", "t_any_replied", "t_is_local", "t_cancel_branch",
                    "t_add_hdrs", "t_reply_with_body", "t_write_req", "t_write_unix", "t_inject_branches",
                    "t_wait_for_new_branches", "t_new_request"]),
            ("registrar", ["is_contact_registered", "add_sock_hdr", "is_ip_registered"]),
            ("auth", ["is_rpid_user_e164", "append_rpid_hf"]),
            ("auth_db", ["db_is_to_authorized", "db_is_from_authorized",
                         "db_does_uri_exist", "db_get_auth_id"]),
            ("nathelper", ["fix_nated_sdp", "is_behind_nat"]),
            ("rtpengine", ["rtpengine_offer", "rtpengine_answer", "rtpengine_delete", "rtpengine_manage"]),
            ("rtpproxy", ["rtpproxy_offer", "rtpproxy_answer", "rtpproxy_unforce", "rtpproxy_engage"]),
            ("dispatcher", ["ds_select_dst", "ds_select_domain", "ds_next_dst", "ds_next_domain", "ds_mark_dst",
                            "ds_is_in_list", "ds_count"]),
            ("drouting", ["do_routing", "use_next_gw", "goes_to_gw", "is_from_gw", "dr_is_gw", "route_to_carrier",
                          "route_to_gw"]),
            ("load_balancer", ["lb_start", "lb_next", "lb_reset", "lb_is_started", "lb_is_destination"]),
            ("dialog", ["create_dialog", "match_dialog", "validate_dialog", "fix_route_dialog", "get_dialog_info",
                        "set_dlg_profile", "unset_dlg_profile", "is_in_profile", "get_profile_size",
                        "store_dlg_value", "fetch_dlg_value", "dlg_on_timeout", "set_dlg_flag"]),
            ("permissions", ["allow_routing", "allow_register", "allow_trusted", "allow_uri", "allow_source_address",
                             "get_source_group", "check_address", "check_source_address"]),
            ("uri", ["has_user_part", "has_param",
                     "has_param_value", "is_user", "add_uri_param", "tel2sip", "is_uri_user_e164", "uri_param"]),
            ("textops", ["search_append", "replace", "replace_all", "replace_body", "replace_body_all"]),
            ("sipmsgops", ["is_audio_on_hold",
                           "append_urihf", "append_time", "is_privacy", "codec_exists", "codec_delete",
                           "change_reply_status", "stream_exists", "ruri_has_param", "ruri_add_param",
                           "ruri_del_param", "ruri_tel2sip", "is_uri_user_e164", "add_body", "remove_body_part"]),
            ("siputils", ["is_from_local"]),
            ("group", ["is_user_in", "db_is_user_in", "db_get_user_group", "get_user_group"]),
            ("acc", ["do_accounting", "acc_log_request", "acc_db_request", "drop_accounting"]),
            ("uac", ["uac_replace_from", "uac_replace_to", "uac_restore_from", "uac_auth"]),
            ("uac_redirect", ["get_redirects", "set_deny_filter", "set_accept_filter"]),
            ("pike", ["pike_check_req"]),
            ("ratelimit", ["rl_check", "rl_dec_count", "rl_reset_count"]),
            ("topology_hiding", ["topology_hiding", "topology_hiding_match"]),
            ("presence", ["handle_publish", "handle_subscribe"]),
            ("alias_db", ["alias_db_lookup"]),
            ("avpops", ["avp_db_load", "avp_db_store", "avp_db_delete", "avp_delete", "avp_pushto",
                        "avp_check", "avp_copy", "avp_subst", "avp_op", "avp_print", "is_avp_set"]),
            ("cfgutils", ["rand_event", "rand_set_prob", "rand_reset_prob", "rand_get_prob", "check_time_rec",
                          "get_timestamp", "ts_usec_delta", "get_static_lock"]),
        ]
        var d: [String: String] = [:]
        for (module, names) in table { for n in names where d[n] == nil { d[n] = module } }
        return d
    }()

    /// Functions of OpenSIPS before 3.0 with what replaces them in 3.6: the uri module's credential
    /// checks went to auth_db, where they check the URI table (`db_is_to_authorized(table)`).
    static let replaced: [String: String] = [
        "check_to": "compare $au with $tU, or auth_db's db_is_to_authorized(table)",
        "db_check_to": "compare $au with $tU, or auth_db's db_is_to_authorized(table)",
        "check_from": "compare $au with $fU, or auth_db's db_is_from_authorized(table)",
        "db_check_from": "compare $au with $fU, or auth_db's db_is_from_authorized(table)",
        "does_uri_exist": "auth_db's db_does_uri_exist(uri, table)",
    ]

    /// ` (not in OpenSIPS 3.6: …)` for a function OpenSIPS dropped before 3.6, or nil.
    static func replacementHint(for name: String) -> String? {
        replaced[name].map { " (not in OpenSIPS 3.6: \($0))" }
    }

    /// The checker message for a function Tandem lacks, or nil when OpenSIPS 3.6 does not have it either.
    static func message(for name: String) -> String? {
        guard let module = modules[name] else { return nil }
        let origin = module == "core" ? "core function" : "function (module \(module))"
        return "'\(name)' is an OpenSIPS 3.6 \(origin) that Tandem does not support yet"
    }
}
