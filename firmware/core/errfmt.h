/* Error texts without stdio: a tiny formatter for hb_error_t (%d %u %zu %s %%). */
#ifndef HB_ERRFMT_H
#define HB_ERRFMT_H
#include "engine.h"

/* Sets err (if not NULL) and returns code, so callers can `return hb_fail(...)`. */
int hb_fail(hb_error_t *err, int code, const char *fmt, ...);

#endif
