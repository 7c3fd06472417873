// MariaDB Connector/C for Swift (system library target CMariaDB; found through pkg-config "libmariadb").
// Its non-blocking API (`*_start`/`*_cont`) drives the MySQL driver on the worker's reactor.
#ifndef TANDEM_CMARIADB_SHIM_H
#define TANDEM_CMARIADB_SHIM_H
#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#endif
