/* fw_cfg over its I/O ports (see guest.h). */
#include "guest.h"

void fw_select(u16 key) { outw(FW_CFG_SEL, key); }

void fw_read(void *buf, u32 n) {
  u8 *p = buf;
  while (n--) *p++ = inb(FW_CFG_DATA);
}

int fw_find(const char *name, u32 *size) {
  u32 count;
  fw_select(FW_CFG_FILE_DIR);
  fw_read(&count, 4);
  count = bswap32(count);
  for (u32 i = 0; i < count; i++) {
    struct {
      u32 size;
      u16 select, reserved;
      char name[56];
    } f;
    fw_read(&f, sizeof f);
    if (streq(f.name, name)) {
      if (size) *size = bswap32(f.size);
      return bswap16(f.select);
    }
  }
  return -1;
}
