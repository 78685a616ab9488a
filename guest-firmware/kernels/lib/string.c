/* The string and memory helpers of the C guests (see guest.h). */
#include "guest.h"

int streq(const char *a, const char *b) {
  while (*a && *a == *b) {
    a++;
    b++;
  }
  return *a == *b;
}

u32 strlen(const char *s) {
  u32 n = 0;
  while (s[n]) n++;
  return n;
}

void *memset(void *d, int c, u32 n) {
  u8 *p = d;
  while (n--) *p++ = (u8)c;
  return d;
}

void *memcpy(void *d, const void *s, u32 n) {
  u8 *p = d;
  const u8 *q = s;
  while (n--) *p++ = *q++;
  return d;
}

int memcmp(const void *a, const void *b, u32 n) {
  const u8 *p = a, *q = b;
  for (; n; n--, p++, q++) {
    if (*p != *q) return *p < *q ? -1 : 1;
  }
  return 0;
}
