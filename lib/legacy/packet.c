/* packet.c - legacy DFU packets and the legacy init packet (see legacy.h;
 * protocol.md §9, §13.6, §13.7, §13.14). */
#include <string.h>

#include "dfukit/legacy.h"
#include "dfukit/rd.h"

const char *dk_lg_kind_name(uint32_t kind)
{
    switch (kind) {
#define DK_X(e, v, n) case v: return n;
        DK_LG_KINDS(DK_X)
#undef DK_X
    }
    return NULL;
}

const char *dk_lg_mode_name(uint32_t mode)
{
    switch (mode) {
    case DK_LG_MODE_SD: return "softdevice";
    case DK_LG_MODE_BL: return "bootloader";
    case DK_LG_MODE_SD_BL: return "softdevice+bootloader";
    case DK_LG_MODE_APP: return "application";
    }
    return NULL;
}

dk_lg_status dk_lg_parse(const uint8_t *payload, size_t len, dk_lg_pkt *out)
{
    memset(out, 0, sizeof *out);
    dk_rd r = dk_rd_make(payload, len);
    out->kind = dk_rd_le32(&r);
    if (!dk_rd_ok(&r))
        return DK_LG_SHORT;
    out->body = payload + 4;
    out->body_len = len - 4;
    out->words_len = out->body_len & ~(size_t)3;
    if (out->kind != DK_LG_START)
        return DK_LG_OK;
    out->mode = dk_rd_le32(&r);
    out->sd_size = dk_rd_le32(&r);
    out->bl_size = dk_rd_le32(&r);
    out->app_size = dk_rd_le32(&r);
    return dk_rd_ok(&r) ? DK_LG_OK : DK_LG_START_SHORT;
}

size_t dk_lg_encode(uint32_t kind, const uint8_t *body, size_t len, uint8_t *out)
{
    dk_put_le32(out, kind);
    if (len)
        memcpy(out + 4, body, len);
    return 4 + len;
}

size_t dk_lg_encode_start(uint32_t mode, uint32_t sd, uint32_t bl, uint32_t app, uint8_t *out)
{
    uint8_t *p = dk_put_le32(out, DK_LG_START);
    p = dk_put_le32(p, mode);
    p = dk_put_le32(p, sd);
    p = dk_put_le32(p, bl);
    dk_put_le32(p, app);
    return DK_LG_START_LEN;
}

/* ---- init packet ------------------------------------------------------- */

/* The extension from r's position: its version by the ext id and room. */
static void init_ext(dk_rd *r, dk_lg_init *o)
{
    size_t left = dk_rd_left(r);
    dk_rd peek = *r;
    uint32_t id = dk_rd_le32(&peek);
    if (left >= 6 && id == 0) {
        o->version = 6;
        o->ext_id = dk_rd_le32(r);
        o->has_crc = true;
        o->crc16 = dk_rd_le16(r);
    } else if (left >= 40 && (id == 1 || (id == 2 && left >= 104))) {
        o->version = id == 1 ? 7 : 8;
        o->ext_id = dk_rd_le32(r);
        o->fw_len = dk_rd_le32(r);
        memcpy(o->hash, dk_rd_bytes(r, 32), 32);
        o->has_hash = true;
        if (id == 2) {
            memcpy(o->sig, dk_rd_bytes(r, 64), 64);
            o->has_sig = true;
        }
    } else {
        o->version = 5;
        o->has_crc = true;
        o->crc16 = dk_rd_le16(r);
    }
}

dk_status dk_lg_init_parse(const uint8_t *p, size_t len, dk_lg_init *out, dk_err *err)
{
    memset(out, 0, sizeof *out);
    dk_rd r = dk_rd_make(p, len);
    out->device_type = dk_rd_le16(&r);
    out->device_rev = dk_rd_le16(&r);
    out->app_version = dk_rd_le32(&r);
    out->n_sd_req = dk_rd_le16(&r);
    if (!dk_rd_ok(&r))
        return dk_err_set(err, DK_E_TRUNCATED, (int64_t)len,
                          "legacy init packet of %zu bytes: shorter than its 10-byte head", len);
    for (unsigned i = 0; i < out->n_sd_req; i++) {
        uint16_t v = dk_rd_le16(&r);
        if (i < DK_LG_SD_REQ_MAX)
            out->sd_req[i] = v;
    }
    if (!dk_rd_ok(&r))
        return dk_err_set(err, DK_E_TRUNCATED, 10,
                          "legacy init packet: sd_req lists %u entries, the packet ends first",
                          out->n_sd_req);
    if (dk_rd_left(&r) < 2)
        return dk_err_set(err, DK_E_TRUNCATED, (int64_t)r.pos,
                          "legacy init packet: no extension (CRC16) after the sd_req list");
    init_ext(&r, out);
    out->len = r.pos;
    while (r.pos < len && p[r.pos] == 0) {
        out->pad++;
        r.pos++;
    }
    out->extra = len - r.pos;
    if (out->extra) { /* zeros then other bytes: none of it is padding */
        out->extra += out->pad;
        out->pad = 0;
    }
    return DK_OK;
}

size_t dk_lg_init_encode(const dk_lg_init *in, uint8_t *out, size_t cap)
{
    unsigned n = in->n_sd_req > DK_LG_SD_REQ_MAX ? DK_LG_SD_REQ_MAX : in->n_sd_req;
    size_t need = 10 + 2u * n;
    need += in->version == 6 ? 6 : in->version == 7 ? 40 : in->version == 8 ? 104 : 2;
    if (need > cap)
        return 0;
    uint8_t *q = dk_put_le16(out, in->device_type);
    q = dk_put_le16(q, in->device_rev);
    q = dk_put_le32(q, in->app_version);
    q = dk_put_le16(q, (uint16_t)n);
    for (unsigned i = 0; i < n; i++)
        q = dk_put_le16(q, in->sd_req[i]);
    if (in->version >= 6)
        q = dk_put_le32(q, in->version == 6 ? 0 : in->version == 7 ? 1 : 2);
    if (in->version >= 7) {
        q = dk_put_le32(q, in->fw_len);
        memcpy(q, in->hash, 32);
        q += 32;
        if (in->version == 8) {
            memcpy(q, in->sig, 64);
            q += 64;
        }
    } else {
        q = dk_put_le16(q, in->crc16);
    }
    return (size_t)(q - out);
}

const char *dk_lg_verdict_text(dk_lg_verdict v)
{
    switch (v) {
    case DK_LG_INIT_ACCEPT: return "accepted";
    case DK_LG_INIT_LENGTH: return "invalid length";
    case DK_LG_INIT_DEVICE_TYPE: return "device type is not 0x0052";
    case DK_LG_INIT_DEVICE_REV: return "device revision is not 52840, 52833 or 0xADAF";
    case DK_LG_INIT_SD_REQ: return "sd_req lists neither 0xFFFE nor the installed SoftDevice";
    }
    return "?";
}

/* §13.7, checks 1-5, in the device's order. */
dk_lg_verdict dk_lg_init_check(const uint8_t *p, size_t len, uint32_t mode, int sd_fwid,
                               uint16_t *crc)
{
    if (crc)
        *crc = 0;
    if (len < 12 || len > DK_LG_INIT_MAX)
        return DK_LG_INIT_LENGTH;
    dk_rd r = dk_rd_make(p, len);
    uint16_t type = dk_rd_le16(&r), rev = dk_rd_le16(&r);
    (void)dk_rd_le32(&r);
    uint16_t n = dk_rd_le16(&r);
    size_t list_end = 10 + 2u * n;
    /* the extension length is held in a uint8_t (§13.7 check 2) */
    if (list_end > len || (uint8_t)(len - list_end) < 2)
        return DK_LG_INIT_LENGTH;
    if (type != DK_LG_DEVICE_TYPE)
        return DK_LG_INIT_DEVICE_TYPE;
    if ((mode & (DK_LG_MODE_SD | DK_LG_MODE_BL)) && rev != 52840 && rev != 52833 && rev != 0xADAF)
        return DK_LG_INIT_DEVICE_REV;
    bool ok = false;
    for (unsigned i = 0; i < n; i++) {
        uint16_t v = dk_rd_le16(&r);
        if (v == DK_LG_SD_ANY || (sd_fwid >= 0 && v == sd_fwid))
            ok = true;
    }
    if (!ok && !(sd_fwid < 0 && n > 0))
        return DK_LG_INIT_SD_REQ;
    if (crc)
        *crc = (uint16_t)(p[list_end] | p[list_end + 1] << 8);
    return DK_LG_INIT_ACCEPT;
}
