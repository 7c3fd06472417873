#ifndef TANDEM_CARES_SHIM_H
#define TANDEM_CARES_SHIM_H
#include <sys/time.h>
#include <sys/select.h>
#include <ares.h>

/* ARES_SOCKET_BAD is a macro Swift may not import as a usable constant. */
static inline ares_socket_t tandem_ares_socket_bad(void) { return ARES_SOCKET_BAD; }
#endif
