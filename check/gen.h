/* gen.h - what dfucheck's cases are made of, pure: test images whose running
 * CRC-32 has chosen bytes, the geometry of an update (objects, the points
 * where a case interrupts it), fault templates and the host command's
 * placeholders.
 *
 *   image       len bytes, objects of 4096 (§4), the last one shorter
 *   CRC answer  60 03 01 offset u32 crc u32        (§2.2; SELECT and PRN alike)
 *   on the wire every 0xC0 / 0xDB of an answer is escaped (DB DC / DB DD, §1.1)
 *
 * A "clean" image keeps 0xC0 and 0xDB out of the running CRC at every 4-byte
 * offset, so no CRC answer needs escaping; an "escaped" image forces both
 * bytes into the running CRC at every object boundary and at its end (the
 * last 4 bytes before each boundary are solved for, not searched).
 */
#ifndef DFUCHECK_GEN_H
#define DFUCHECK_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DC_OBJ 4096u /* DATA_OBJECT_MAX_SIZE on nRF52 (§4) */

/* 4 bytes that take the running CRC-32 from crc to target:
 * dk_crc32(crc, out, 4) == target. */
void dc_crc_forge(uint32_t crc, uint32_t target, uint8_t out[4]);

/* Whether a little-endian u32 has a byte 0xC0 or 0xDB (needs escaping). */
bool dc_u32_needs_escape(uint32_t v);
/* Whether it has both a 0xC0 and a 0xDB byte. */
bool dc_u32_has_both(uint32_t v);

typedef enum { DC_IMG_CLEAN, DC_IMG_ESCAPED } dc_img_kind;

/* Fill img[0, len) from seed (same seed, same bytes).  ESCAPED needs every
 * object, the last one too, to be at least 4 bytes. */
void dc_image_make(uint8_t *img, size_t len, dc_img_kind kind, uint32_t seed);

/* Where a case interrupts an update of len bytes (at least 3 objects):
 * k = the object after which it happens (from 1), mid = in the middle of
 * object k+1, bnd = the end of object k, bnd2 = the end of object k+1,
 * exe = the EXECUTE (counted from 1, the init packet's first) of object k,
 * write = a WRITE inside object k+1 for a host writing 64 bytes at a time
 * after a 3-write init packet. */
typedef struct {
    uint32_t len, objects, k;
    uint32_t mid, bnd, bnd2, exe, write;
} dc_geom;

/* false when the image has fewer than 3 objects. */
bool dc_geom_of(uint32_t len, dc_geom *g);

/* Expand a fault template: {mid} {bnd} {bnd2} {exe} {write} become numbers.
 * false (and a message in out) on an unknown token or when out is short. */
bool dc_fault_expand(const char *tmpl, const dc_geom *g, char *out, size_t cap);

/* The host command's placeholders. */
typedef struct {
    const char *port, *pkg, *dat, *bin, *prn;
} dc_subst;

/* Replace {port} {pkg} {dat} {bin} {prn} in arg.  false when out is short
 * or a "{...}" token is unknown (then out holds the message). */
bool dc_subst_arg(const char *arg, const dc_subst *s, char *out, size_t cap);

/* Whether any argument uses a placeholder (e.g. "{prn}"). */
bool dc_args_use(const char *const *argv, size_t argc, const char *token);

#endif
