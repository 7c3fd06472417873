#!/bin/bash
# $1 = PG (delay proxy) port, $2 = pool size, $3 = pipeline depth, $4 = output file
cat > "$4" <<CFG
log_level=2
udp_workers=2
socket=udp:127.0.0.1:15060
loadmodule "tm.so"
loadmodule "rr.so"
loadmodule "sl.so"
loadmodule "maxfwd.so"
loadmodule "sipmsgops.so"
loadmodule "avpops.so"
modparam("avpops", "db_url", "postgres://postgres@127.0.0.1:$1/tandem")
modparam("tandem", "db_pool_size", $2)
modparam("tandem", "db_pipeline_depth", $3)
modparam("tandem", "async_mode", "postgres=native")
route {
    if (!mf_process_maxfwd_header(70)) { sl_send_reply(483, "Too Many Hops"); exit; }
    if (has_totag()) { if (loose_route()) { t_relay(); exit; } sl_send_reply(404, "Not here"); exit; }
    record_route();
    async(avp_db_query("SELECT 1, 1"), resume);
}
route[resume] {
    if (\$rc < 0) { t_reply(503, "PostgreSQL Failed"); exit; }
    t_relay();
}
CFG
