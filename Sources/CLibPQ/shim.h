// libpq for Swift (system library target CLibPQ; found through pkg-config "libpq").
#ifndef TANDEM_CLIBPQ_SHIM_H
#define TANDEM_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
