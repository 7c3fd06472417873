/// Global (core) parameters accepted at the top of a script.
public enum GlobalParameters {
    public static let known: Set<String> = [
        "log_level", "udp_workers", "children", "socket", "listen", "debug_mode", "auto_aliases", "dns",
        "rev_dns", "tcp_workers", "tcp_children", "alias", "mhomed", "disable_tcp", "async_timeout",
        "mpath", "log_stderror", "stderror_enabled", "syslog_enabled", "log_facility", "syslog_facility",
        "log_name", "syslog_name", "memdump", "memlog", "mem_dump", "server_header", "user_agent_header",
        "server_signature", "disable_dns_blacklist", "dns_try_ipv6", "dns_try_naptr", "dns_retr_time",
        "dns_retr_no", "dns_servers_no", "dns_use_search_list", "maxbuffer", "max_while_loops",
        "open_files_limit", "check_via", "enable_asserts", "abort_on_assert", "db_default_url", "db_max_async_connections",
        "tcp_connection_lifetime", "tcp_max_connections", "tcp_accept_aliases", "tcp_connect_timeout",
        "sip_warning", "xlog_buf_size", "xlog_force_color", "xlog_default_level", "xlog_level", "xlog_print_level", "event_pkg_threshold",
        "exec_msg_threshold", "exec_dns_threshold", "shm_hash_split_percentage", "shm_secondary_hash_size",
        "query_buffer_size", "query_flush_time", "disable_503_translation", "enable_dns_failover",
        "advertised_address", "advertised_port", "timer_workers", "auto_scaling_profile", "fork",
        "dont_fork", "chroot", "wdir", "user", "group", "uid", "gid", "tos", "sip_domain",
        "include_file", "import_file", "port", "dns_servers", "disable_dns_failover", "tcp_max_msg_size", "tcp_max_msg_time", "udp_mtu",
    ]
}
