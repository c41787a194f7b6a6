/* COBS framing and CRC32 for the target side. Portable: bytes leave through port_write. */
#include "link.h"

#include "port.h"

/* CRC-32 (IEEE, reflected, as zlib.crc32), four bits at a time: a 64-byte table. */
static const uint32_t crc_nibble[16] = {
  0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
  0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};

uint32_t hb_crc32(const uint8_t *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    c = (c >> 4) ^ crc_nibble[c & 15u];
    c = (c >> 4) ^ crc_nibble[c & 15u];
  }
  return c ^ 0xFFFFFFFFu;
}

void hb_rx_init(hb_rx_t *rx, uint8_t *buf, size_t cap) {
  rx->buf = buf;
  rx->cap = cap;
  rx->len = 0;
  rx->left = rx->zero_pending = rx->overflow = 0;
  rx->dropped = 0;
  rx->crc = 0;
}

static void rx_put(hb_rx_t *rx, uint8_t c) {
  if (rx->len < rx->cap) rx->buf[rx->len++] = c;
  else rx->overflow = 1;
}

static size_t rx_end(hb_rx_t *rx) {
  size_t n = rx->len;
  int ok = !rx->overflow && rx->left == 0 && n >= HB_FRAME_HEAD + HB_FRAME_CRC;
  if (ok) {
    const uint8_t *t = rx->buf + n - HB_FRAME_CRC;
    uint32_t crc = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
    ok = hb_crc32(rx->buf, n - HB_FRAME_CRC) == crc;
    if (ok) rx->crc = crc;
  }
  if (!ok && (n || rx->overflow || rx->left)) rx->dropped++;
  rx->len = 0;
  rx->left = rx->zero_pending = rx->overflow = 0;
  return ok ? n - HB_FRAME_CRC : 0;
}

size_t hb_rx_byte(hb_rx_t *rx, uint8_t c) {
  if (c == 0) return rx_end(rx);
  if (rx->overflow) return 0;
  if (rx->left == 0) {  /* a code byte: c-1 data bytes follow, then an implied zero unless c=0xFF */
    if (rx->zero_pending) rx_put(rx, 0);
    rx->left = (uint8_t)(c - 1u);
    rx->zero_pending = c != 0xFFu;
  } else {
    rx_put(rx, c);
    rx->left--;
  }
  return 0;
}

void hb_tx_frame(uint8_t *raw, size_t len) {
  uint32_t crc = hb_crc32(raw, len);
  for (int i = 0; i < 4; i++) raw[len + (size_t)i] = (uint8_t)(crc >> (8 * i));
  size_t n = len + 4, pos = 0;
  for (;;) {  /* one block per pass: a run of up to 254 non-zero bytes */
    size_t end = pos;
    while (end < n && end - pos < 254u && raw[end] != 0) end++;
    uint8_t code = (uint8_t)(end - pos + 1u);
    port_write(&code, 1);
    port_write(raw + pos, end - pos);
    if (end - pos == 254u) { pos = end; continue; }  /* full block, no implied zero */
    if (end >= n) break;
    pos = end + 1;  /* skip the zero the code byte stands for */
  }
  static const uint8_t delim = 0;
  port_write(&delim, 1);
}
