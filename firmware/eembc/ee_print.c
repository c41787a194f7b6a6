/* th_printf and number formatting without the C library's printf: newlib-nano prints no floats
 * unless linked with its float printf, and a board needs only these few conversions:
 * %% %c %s %d %i %u %x %X with an optional '0' flag, a width and an 'l' or 'z' length. */
#include <stdarg.h>
#include <string.h>

#include "ee_api.h"
#include "port.h"

void ee_write(const char *s, size_t n) { port_write((const uint8_t *)s, n); }

/* Digits of v in `base`, right-aligned to `width` with `pad`; returns the length in out. */
static size_t fmt_uint(char *out, unsigned long long v, unsigned base, int upper, int width, char pad, int neg) {
  char tmp[24];
  size_t n = 0, k = 0;
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  do {
    tmp[n++] = digits[v % base];
    v /= base;
  } while (v && n < sizeof tmp);
  if (neg && pad == '0') out[k++] = '-';
  for (int w = (int)n + neg; w < width; w++) out[k++] = pad;
  if (neg && pad != '0') out[k++] = '-';
  while (n) out[k++] = tmp[--n];
  return k;
}

static size_t fmt_arg(char *out, char conv, int lng, int width, char pad, va_list *ap) {
  if (conv == 'd' || conv == 'i') {
    long long v = lng ? va_arg(*ap, long) : va_arg(*ap, int);
    unsigned long long m = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    return fmt_uint(out, m, 10, 0, width, pad, v < 0);
  }
  if (conv == 'u' || conv == 'x' || conv == 'X') {
    unsigned long long v = lng == 2 ? va_arg(*ap, size_t) : lng ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned);
    return fmt_uint(out, v, conv == 'u' ? 10u : 16u, conv == 'X', width, pad, 0);
  }
  if (conv == 'c') {
    out[0] = (char)va_arg(*ap, int);
    return 1;
  }
  out[0] = conv;  /* %% and anything unknown print as themselves */
  return 1;
}

void th_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char num[32];
  for (const char *p = fmt; *p; p++) {
    const char *run = p;
    while (*p && *p != '%') p++;
    if (p > run) ee_write(run, (size_t)(p - run));
    if (!*p || !p[1]) break;
    p++;
    char pad = ' ';
    int width = 0, lng = 0;
    if (*p == '0') pad = *p++;
    while (*p >= '0' && *p <= '9' && width < 20) width = width * 10 + (*p++ - '0');
    if (*p == 'l') lng = 1, p++;
    else if (*p == 'z') lng = 2, p++;
    if (!*p) break;
    if (*p == 's') {
      const char *s = va_arg(ap, const char *);
      ee_write(s ? s : "(null)", s ? strlen(s) : 6u);
      continue;
    }
    ee_write(num, fmt_arg(num, *p, lng, width, pad, &ap));
  }
  va_end(ap);
}

/* The kws01 reference prints "0.%d%d%d" from (int)(v*10), (int)(v*100)%10, (int)(v*1000)%10 in
 * float arithmetic; in [0, 1) we do the same so that our device prints what it would. */
static size_t fmt_trunc_unit(char *out, float v) {
  int d1 = (int)(v * 10.0f), d2 = (int)(v * 100.0f) % 10, d3 = (int)(v * 1000.0f) % 10;
  out[0] = '0';
  out[1] = '.';
  out[2] = (char)('0' + d1);
  out[3] = (char)('0' + d2);
  out[4] = (char)('0' + d3);
  return 5;
}

size_t ee_fmt3(char *out, float v, int truncate) {
  if (truncate && v >= 0.0f && v < 1.0f) return fmt_trunc_unit(out, v);
  int neg = v < 0.0f;
  double x = (neg ? -(double)v : (double)v) * 1000.0;  /* exact: 24 + 10 bits < 53 */
  if (!(x < 1e15)) x = 1e15;                           /* inf/nan/huge: clamp, never overflow */
  unsigned long long k = (unsigned long long)x;        /* floor */
  double frac = x - (double)k;
  if (!truncate && (frac > 0.5 || (frac == 0.5 && (k & 1u)))) k++;  /* round half to even, as printf */
  size_t n = 0;
  if (neg) out[n++] = '-';
  n += fmt_uint(out + n, k / 1000u, 10, 0, 0, ' ', 0);
  out[n++] = '.';
  n += fmt_uint(out + n, k % 1000u, 10, 0, 3, '0', 0);
  return n;
}
