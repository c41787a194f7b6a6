/* Frames on the byte stream: COBS(type u8 | session u32 | seq u32 | body | crc32 le) + 0x00
 * (docs/protocol.md). The receiver decodes byte by byte into a caller buffer and never writes
 * past it. */
#ifndef HB_LINK_H
#define HB_LINK_H

#include <stddef.h>
#include <stdint.h>

#define HB_FRAME_HEAD 9u   /* type u8, session u32 le, seq u32 le */
#define HB_FRAME_CRC 4u

typedef struct {
  uint8_t *buf;
  size_t cap, len;
  uint8_t left;            /* bytes still to copy from the current COBS block */
  uint8_t zero_pending;    /* the block before ended with an implied zero */
  uint8_t overflow;        /* frame longer than buf: dropped at its delimiter */
  uint32_t dropped;        /* damaged frames seen (the command layer NAKs each) */
  uint32_t crc;            /* the CRC of the last good frame: part of a request's identity */
} hb_rx_t;

void hb_rx_init(hb_rx_t *rx, uint8_t *buf, size_t cap);
/* Feeds one byte. Returns the length of a complete good frame (head and body; CRC checked,
 * removed and kept in rx->crc) when `c` ended one, else 0. The frame is in rx->buf until the
 * next call; a damaged one only increments rx->dropped. */
size_t hb_rx_byte(hb_rx_t *rx, uint8_t c);

uint32_t hb_crc32(const uint8_t *p, size_t n);
/* Sends raw[0..len) (head, body) as one frame: appends the CRC at raw[len..len+4),
 * so raw must have 4 spare bytes. */
void hb_tx_frame(uint8_t *raw, size_t len);

#endif
