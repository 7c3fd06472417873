/// Modules a script may load in Tandem (mapped to built-ins) and the modparams each accepts.
public enum ModuleCatalog {
    /// Module name (without `.so`) → accepted parameter names.
    public static let modules: [String: Set<String>] = [
        "tm": ["fr_timeout", "fr_inv_timeout", "wt_timer", "delete_timer", "T1_timer", "T2_timer", "T4_timer",
               "ruri_matching", "via1_matching", "unix_tx_timeout", "restart_fr_on_each_reply",
               "tw_append", "pass_provisional_replies", "syn_branch", "onreply_avp_mode",
               "disable_6xx_block", "enable_stats", "minor_branch_flag", "timer_partitions",
               "auto_100trying", "own_timer_proc", "tm_replication_cluster", "cluster_param"],
        "sl": ["enable_stats"],
        "rr": ["append_fromtag", "enable_double_rr", "add_username", "enable_socket_mismatch_warning"],
        "maxfwd": ["max_limit"],
        "textops": [],
        "sipmsgops": [],
        "signaling": [],
        // Only is_uri_host_local, against the listen addresses and aliases (no domain table).
        "domain": [],
        "cfgutils": ["initial_probability", "hash_file", "shvset", "varset", "lock_pool_size"],
        "avpops": ["db_url", "avp_table", "use_domain", "uuid_column", "username_column", "domain_column",
                   "attribute_column", "value_column", "type_column", "db_scheme", "buf_size"],
        "sqlops": ["db_url", "usr_table", "use_domain", "uuid_column", "username_column", "domain_column",
                   "attribute_column", "value_column", "type_column", "db_scheme", "ps_id_max_buf_len",
                   "bigint_to_str"],
        "dbops": ["db_url", "usr_table", "use_domain", "uuid_column", "username_column", "domain_column",
                  "attribute_column", "value_column", "type_column", "db_scheme", "ps_id_max_buf_len"],
        "db_postgres": ["exec_query_threshold", "max_db_queries", "timeout"],
        "db_mysql": ["exec_query_threshold", "timeout_interval", "ps_max_col_size", "max_db_retries", "max_db_queries",
                     "use_tls", "tls_client_domain"],
        "cachedb_local": ["cachedb_url", "cache_collections", "cache_clean_period",
                          "enable_restart_persistency", "cluster_id", "cluster_persistency"],
        "rest_client": ["connection_timeout", "connect_poll_interval", "max_async_transfers", "curl_timeout",
                        "ssl_verifypeer", "ssl_verifyhost", "ssl_capath", "max_transfer_size",
                        "no_concurrent_connects", "curl_http_version", "enable_expect_100"],
        "exec": ["setvars", "time_to_kill"],
        "ldap": ["config_file", "max_async_connections"],
        "cachedb_mongodb": ["cachedb_url", "exec_threshold", "compat_mode_2.4", "compat_mode_3.0"],
        "db_mongodb": ["exec_threshold"],
        "httpd": ["ip", "port", "buf_size", "post_buf_size", "receive_buf_size", "conn_timeout"],
        "prometheus": ["root", "prefix", "group_prefix", "delimiter", "statistics", "labels", "script_route"],
        "mi_http": ["root", "trace_destination", "trace_bwlist"],
        "mi_fifo": ["fifo_name", "fifo_mode", "fifo_group", "fifo_user", "reply_dir", "trace_destination",
                    "trace_bwlist"],
        "proto_udp": ["udp_port", "udp_send_timeout"],
        "proto_tcp": ["tcp_port", "tcp_send_timeout", "tcp_max_msg_chunks", "tcp_crlf_pingpong", "tcp_crlf_drop",
                      "tcp_async", "tcp_async_max_postponed_chunks", "tcp_async_local_connect_timeout",
                      "tcp_async_local_write_timeout", "tcp_parallel_handling", "trace_destination", "trace_on",
                      "trace_filter_route"],
        "statistics": ["variable", "stat_groups"],
        "auth": ["secret", "nonce_expire", "password_spec", "calculate_ha1", "username_spec", "rpid_prefix",
                 "rpid_suffix", "realm_prefix", "rpid_avp", "disable_nonce_check"],
        "auth_db": ["db_url", "calculate_ha1", "use_domain", "user_column", "domain_column", "password_column",
                    "hash_column_sha256", "hash_column_sha512t256", "load_credentials", "skip_version_check"],
        "registrar": ["default_expires", "min_expires", "max_expires", "max_contacts", "default_q",
                      "tcp_persistent_flag", "realm_prefix", "case_sensitive", "received_avp", "received_param",
                      "retry_after", "sock_hdr_name", "mcontact_avp", "attr_avp", "gruu_secret", "disable_gruu"],
        "usrloc": ["use_domain", "working_mode_preset", "db_mode", "db_url", "timer_interval", "nat_bflag",
                   "user_column", "domain_column", "contact_column", "expires_column", "q_column",
                   "callid_column", "cseq_column", "methods_column", "flags_column", "cflags_column",
                   "user_agent_column", "received_column", "socket_column", "path_column", "sip_instance_column",
                   "kv_store_column", "attr_column", "hash_size", "desc_time_order", "matching_mode",
                   "cseq_delay", "regen_broken_contactinfo", "skip_replicated_db_ops", "max_contact_delete",
                   "contact_id_column", "latency_event_min_us", "latency_event_min_us_delta", "location_cluster",
                   "pinging_mode", "cluster_mode", "restart_persistency", "sql_write_mode"],
        "tandem": ["workers", "cache_size", "trace", "offload_limit", "offload_queue", "async_mode", "db_pool_size",
                   "db_pipeline_depth", "db_queue", "http_queue", "http_max_host_connections", "log_format", "drain_time",
                   "udp_sockets",
                   "max_transactions", "max_suspended", "overload_retry_after", "ldap_max_connections",
                   "ldap_max_searches_per_connection"],
    ]

    /// Module name from a `loadmodule` argument (`"tm.so"`, `"/usr/lib/opensips/modules/tm.so"`).
    public static func moduleName(fromFile file: String) -> String {
        var name = Substring(file)
        if let slash = name.lastIndex(of: "/") { name = name[name.index(after: slash)...] }
        if name.hasSuffix(".so") { name = name.dropLast(3) }
        return String(name)
    }
}
