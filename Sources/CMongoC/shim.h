// libmongoc/libbson for Swift (system library target CMongoC; found through pkg-config "libmongoc-1.0").
// libbson's types bson_t and bson_iter_t are 128-byte aligned in C but import with a smaller alignment:
// Swift code allocates them with tandem_bson_alloc / tandem_bson_iter_alloc (heap, aligned) only.
#ifndef TANDEM_CMONGOC_SHIM_H
#define TANDEM_CMONGOC_SHIM_H
#include <mongoc/mongoc.h>
#include <stdlib.h>

/// Aligned, zeroed storage for one bson_t that is filled by a libmongoc "reply" out-parameter
/// (release with bson_destroy, then free).
static inline bson_t *tandem_bson_reply_alloc(void) {
    void *p = NULL;
    if (posix_memalign(&p, 128, sizeof(bson_t)) != 0) return NULL;
    memset(p, 0, sizeof(bson_t));
    return (bson_t *)p;
}

/// Aligned storage for one bson_iter_t (release with free).
static inline bson_iter_t *tandem_bson_iter_alloc(void) {
    void *p = NULL;
    if (posix_memalign(&p, 128, sizeof(bson_iter_t)) != 0) return NULL;
    memset(p, 0, sizeof(bson_iter_t));
    return (bson_iter_t *)p;
}

#endif
