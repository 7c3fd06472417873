// OpenLDAP client library (libldap/liblber) for Swift (system library target CLDAP; pkg-config "ldap").
// Small typed helpers for what Swift cannot express directly: LDAP_OPT_ON and LDAP_SASL_SIMPLE are
// pointer macros that do not import, and timeouts are passed as `struct timeval`.
#ifndef TANDEM_CLDAP_SHIM_H
#define TANDEM_CLDAP_SHIM_H
#include <sys/time.h>
#include <string.h>
#include <ldap.h>

static inline struct timeval tandem_ldap_timeval(long ms) {
    struct timeval tv;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

static inline int tandem_ldap_set_int(LDAP *ld, int option, int value) {
    return ldap_set_option(ld, option, &value);
}

static inline int tandem_ldap_set_flag(LDAP *ld, int option, int on) {
    return ldap_set_option(ld, option, on ? LDAP_OPT_ON : LDAP_OPT_OFF);
}

static inline int tandem_ldap_set_timeout(LDAP *ld, int option, long ms) {
    struct timeval tv = tandem_ldap_timeval(ms);
    return ldap_set_option(ld, option, &tv);
}

static inline int tandem_ldap_get_int(LDAP *ld, int option) {
    int value = -1;
    if (ldap_get_option(ld, option, &value) != LDAP_OPT_SUCCESS) return -1;
    return value;
}

/// Simple bind (asynchronous): the credentials are encoded before the call returns.
static inline int tandem_ldap_simple_bind(LDAP *ld, const char *dn, const char *password, int *msgid) {
    struct berval cred;
    cred.bv_val = (char *)password;
    cred.bv_len = password ? strlen(password) : 0;
    return ldap_sasl_bind(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, msgid);
}

/// Simple bind (synchronous; bounded by LDAP_OPT_TIMEOUT and LDAP_OPT_NETWORK_TIMEOUT).
static inline int tandem_ldap_simple_bind_s(LDAP *ld, const char *dn, const char *password) {
    struct berval cred;
    cred.bv_val = (char *)password;
    cred.bv_len = password ? strlen(password) : 0;
    return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
}

/// One message if one is ready, without waiting (0: none yet, -1: connection error).
static inline int tandem_ldap_result_now(LDAP *ld, int msgid, LDAPMessage **message) {
    struct timeval zero = {0, 0};
    return ldap_result(ld, msgid, LDAP_MSG_ONE, &zero, message);
}

/// Synchronous search bounded by `timeout_ms` (client wait and server time limit).
static inline int tandem_ldap_search_s(LDAP *ld, const char *base, int scope, const char *filter,
                                       char **attrs, long timeout_ms, LDAPMessage **result) {
    struct timeval tv = tandem_ldap_timeval(timeout_ms);
    return ldap_search_ext_s(ld, base, scope, filter, attrs, 0, NULL, NULL, &tv, 0, result);
}
#endif
