/* SHA-256 (FIPS 180-4), one shot: LOAD_END checks the uploaded model against it. */
#ifndef HB_SHA256_H
#define HB_SHA256_H
#include <stddef.h>
#include <stdint.h>
void hb_sha256(const uint8_t *data, size_t n, uint8_t out[32]);
#endif
