/* A freestanding formatter: the firmware must not pull in printf for error texts. */
#include "errfmt.h"

#include <stdarg.h>

typedef struct { char *p; size_t left; } sink_t;

static void put_c(sink_t *s, char c) {
  if (s->left > 1) { *s->p++ = c; s->left--; }
}

static void put_s(sink_t *s, const char *str) {
  if (!str) str = "(null)";
  while (*str) put_c(s, *str++);
}

static void put_u(sink_t *s, unsigned long long v) {
  char tmp[24];
  int n = 0;
  do { tmp[n++] = (char)('0' + (int)(v % 10u)); v /= 10u; } while (v && n < 24);
  while (n) put_c(s, tmp[--n]);
}

static void put_d(sink_t *s, long long v) {
  if (v < 0) { put_c(s, '-'); put_u(s, (unsigned long long)(-(v + 1)) + 1u); }
  else put_u(s, (unsigned long long)v);
}

static void format(sink_t *s, const char *fmt, va_list ap) {
  for (; *fmt; fmt++) {
    if (*fmt != '%') { put_c(s, *fmt); continue; }
    fmt++;
    if (*fmt == 'z' && fmt[1] == 'u') { fmt++; put_u(s, va_arg(ap, size_t)); }
    else if (*fmt == 'd') put_d(s, va_arg(ap, int));
    else if (*fmt == 'u') put_u(s, va_arg(ap, unsigned));
    else if (*fmt == 's') put_s(s, va_arg(ap, const char *));
    else if (*fmt == '%') put_c(s, '%');
    else if (*fmt == '\0') break;
  }
}

int hb_fail(hb_error_t *err, int code, const char *fmt, ...) {
  if (err) {
    sink_t s = { err->text, sizeof err->text };
    va_list ap;
    va_start(ap, fmt);
    format(&s, fmt, ap);
    va_end(ap);
    *s.p = '\0';
    err->code = code;
  }
  return code;
}
