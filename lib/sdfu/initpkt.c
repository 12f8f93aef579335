/* initpkt.c - init packet decode/encode (layout in initpkt.h).
 *
 * Decoding is two passes over the same bytes: a bounds-checked walk of the
 * protobuf wire format against a small copy of the schema (exact offsets for
 * every error, and the span of the InitCommand a signature covers), then
 * nanopb fills the fields. */
#include "dfukit/initpkt.h"

#include <inttypes.h>
#include <string.h>

#include <pb_decode.h>
#include <pb_encode.h>

#include "dfu-cc.pb.h"
#include "dfukit/rd.h"
#include "dfukit/tables.h"

/* ---- wire walk ---- */

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_SGROUP = 3, WT_EGROUP = 4, WT_I32 = 5 };
enum kind { K_U32, K_BOOL, K_BYTES, K_MSG, K_PACKED_U32 };
enum owner { OWN_NONE = -1, OWN_PLAIN = 0, OWN_SIGNED = 1 };

struct mdesc;
struct fdesc {
    uint32_t tag;
    const char *name;
    enum kind kind;
    bool required;
    bool repeated;
    size_t max; /* bytes for K_BYTES, entries for repeated fields */
    const struct mdesc *sub;
};
struct mdesc {
    const char *name;
    const struct fdesc *f;
    size_t n;
};

#define NF(a) (sizeof(a) / sizeof((a)[0]))
static const struct fdesc f_hash[] = {
    { 1, "hash_type", K_U32, true, false, 0, NULL },
    { 2, "hash", K_BYTES, true, false, 32, NULL },
};
static const struct mdesc m_hash = { "Hash", f_hash, NF(f_hash) };
static const struct fdesc f_bv[] = {
    { 1, "type", K_U32, true, false, 0, NULL },
    { 2, "bytes", K_BYTES, true, false, 64, NULL },
};
static const struct mdesc m_bv = { "BootValidation", f_bv, NF(f_bv) };
static const struct fdesc f_init[] = {
    { 1, "fw_version", K_U32, false, false, 0, NULL },
    { 2, "hw_version", K_U32, false, false, 0, NULL },
    { 3, "sd_req", K_PACKED_U32, false, true, DK_INIT_SD_REQ_MAX, NULL },
    { 4, "type", K_U32, false, false, 0, NULL },
    { 5, "sd_size", K_U32, false, false, 0, NULL },
    { 6, "bl_size", K_U32, false, false, 0, NULL },
    { 7, "app_size", K_U32, false, false, 0, NULL },
    { 8, "hash", K_MSG, false, false, 0, &m_hash },
    { 9, "is_debug", K_BOOL, false, false, 0, NULL },
    { 10, "boot_validation", K_MSG, false, true, DK_INIT_BV_MAX, &m_bv },
};
static const struct mdesc m_init = { "InitCommand", f_init, NF(f_init) };
static const struct fdesc f_reset[] = {
    { 1, "timeout", K_U32, true, false, 0, NULL },
};
static const struct mdesc m_reset = { "ResetCommand", f_reset, NF(f_reset) };
static const struct fdesc f_cmd[] = {
    { 1, "op_code", K_U32, false, false, 0, NULL },
    { 2, "init", K_MSG, false, false, 0, &m_init },
    { 3, "reset", K_MSG, false, false, 0, &m_reset },
};
static const struct mdesc m_cmd = { "Command", f_cmd, NF(f_cmd) };
static const struct fdesc f_signed[] = {
    { 1, "command", K_MSG, true, false, 0, &m_cmd },
    { 2, "signature_type", K_U32, true, false, 0, NULL },
    { 3, "signature", K_BYTES, true, false, 64, NULL },
};
static const struct mdesc m_signed = { "SignedCommand", f_signed, NF(f_signed) };
static const struct fdesc f_packet[] = {
    { 1, "command", K_MSG, false, false, 0, &m_cmd },
    { 2, "signed_command", K_MSG, false, false, 0, &m_signed },
};
static const struct mdesc m_packet = { "Packet", f_packet, NF(f_packet) };

struct walk {
    const uint8_t *buf;
    size_t span_off[2], span_len[2];
    bool span_set[2];
    bool seen[2]; /* Packet.command, Packet.signed_command */
    size_t unknown;
    dk_err *err;
};

/* Base-128 varint, at most 10 bytes. */
static bool rd_varint(dk_rd *r, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned i = 0; i < 10; i++) {
        uint8_t b = dk_rd_u8(r);
        if (!dk_rd_ok(r))
            return false;
        if (i == 9 && b > 1)
            return false;
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

#define WERR(w, off, ...) dk_err_set((w)->err, DK_E_FORMAT, (int64_t)(off), __VA_ARGS__)

static const struct fdesc *find_field(const struct mdesc *m, uint64_t tag)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->f[i].tag == tag)
            return &m->f[i];
    return NULL;
}

/* Walk one message occupying buf[start, end). */
static dk_status walk_msg(struct walk *w, const struct mdesc *m, size_t start, size_t end,
                          int depth, enum owner own)
{
    size_t count[12] = { 0 };
    dk_rd r = dk_rd_make(w->buf, end);
    r.pos = start;
    while (dk_rd_left(&r) > 0) {
        size_t at = r.pos;
        uint64_t key, v = 0;
        if (!rd_varint(&r, &key))
            return WERR(w, at, "%s: %s field key", m->name, dk_rd_ok(&r) ? "invalid" : "truncated");
        unsigned wt = (unsigned)(key & 7);
        uint64_t tag = key >> 3;
        if (tag == 0 || tag > 0x1fffffff)
            return WERR(w, at, "%s: invalid field number %" PRIu64, m->name, tag);
        const struct fdesc *f = find_field(m, tag);
        size_t vat = r.pos, len = 0;
        switch (wt) {
        case WT_VARINT:
            if (!rd_varint(&r, &v))
                return WERR(w, vat, "%s.%s: %s varint", m->name, f ? f->name : "?",
                            dk_rd_ok(&r) ? "overlong" : "truncated");
            break;
        case WT_I64:
        case WT_I32:
            len = wt == WT_I64 ? 8 : 4;
            if (!dk_rd_bytes(&r, len))
                return WERR(w, vat, "%s: truncated %zu-byte field %" PRIu64, m->name, len, tag);
            break;
        case WT_LEN:
            if (!rd_varint(&r, &v))
                return WERR(w, vat, "%s.%s: %s length", m->name, f ? f->name : "?",
                            dk_rd_ok(&r) ? "invalid" : "truncated");
            vat = r.pos;
            if (v > dk_rd_left(&r))
                return WERR(w, at, "%s.%s: length %" PRIu64 " runs past the end (%zu bytes left)",
                            m->name, f ? f->name : "?", v, dk_rd_left(&r));
            len = (size_t)v;
            r.pos += len;
            break;
        default:
            return WERR(w, at, "%s: unsupported wire type %u in field %" PRIu64, m->name, wt, tag);
        }
        if (!f) { /* unknown field: skipped, as protobuf readers do */
            w->unknown++;
            continue;
        }
        size_t idx = (size_t)(f - m->f);
        bool packed = f->kind == K_PACKED_U32 && wt == WT_LEN;
        unsigned want = (f->kind == K_BYTES || f->kind == K_MSG) ? WT_LEN : WT_VARINT;
        if (wt != want && !packed)
            return WERR(w, at, "%s.%s: wrong wire type %u", m->name, f->name, wt);
        switch (f->kind) {
        case K_U32:
        case K_PACKED_U32:
            if (!packed) {
                if (v > UINT32_MAX)
                    return WERR(w, vat, "%s.%s: value %" PRIu64 " does not fit 32 bits", m->name,
                                f->name, v);
                count[idx]++;
                break;
            }
            dk_rd pr = dk_rd_make(w->buf, vat + len);
            pr.pos = vat;
            while (dk_rd_left(&pr) > 0) {
                size_t eat = pr.pos;
                uint64_t e;
                if (!rd_varint(&pr, &e))
                    return WERR(w, eat, "%s.%s: bad packed varint", m->name, f->name);
                if (e > UINT32_MAX)
                    return WERR(w, eat, "%s.%s: value %" PRIu64 " does not fit 32 bits", m->name,
                                f->name, e);
                if (++count[idx] > f->max)
                    return WERR(w, eat, "%s.%s: more than %zu entries", m->name, f->name, f->max);
            }
            break;
        case K_BOOL:
            count[idx]++;
            break;
        case K_BYTES:
            if (len > f->max)
                return WERR(w, at, "%s.%s: %zu bytes, more than %zu", m->name, f->name, len, f->max);
            count[idx]++;
            break;
        case K_MSG: {
            if (depth > 8)
                return WERR(w, at, "%s: nested too deep", m->name);
            /* Protobuf would merge a repeated occurrence, but a signature
             * covers one span: refuse rather than show fields it does not cover. */
            if (!f->repeated && count[idx])
                return WERR(w, at, "%s.%s: appears twice", m->name, f->name);
            enum owner o = own;
            if (m == &m_packet) {
                o = tag == 1 ? OWN_PLAIN : OWN_SIGNED;
                w->seen[o] = true;
            }
            if (f->sub == &m_init && o != OWN_NONE) {
                /* the last one wins, as when decoding */
                w->span_off[o] = vat;
                w->span_len[o] = len;
                w->span_set[o] = true;
            }
            dk_status st = walk_msg(w, f->sub, vat, vat + len, depth + 1, o);
            if (st != DK_OK)
                return st;
            count[idx]++;
            break;
        }
        }
        if (f->repeated && count[idx] > f->max)
            return WERR(w, at, "%s.%s: more than %zu entries", m->name, f->name, f->max);
    }
    for (size_t i = 0; i < m->n; i++)
        if (m->f[i].required && count[i] == 0)
            return WERR(w, start, "%s: required field %s missing", m->name, m->f[i].name);
    return DK_OK;
}

/* ---- nanopb <-> dk structs ---- */

static void from_pb_init(const dfu_InitCommand *s, dk_init_cmd *d)
{
    memset(d, 0, sizeof *d);
    d->has_fw_version = s->has_fw_version;
    d->fw_version = s->fw_version;
    d->has_hw_version = s->has_hw_version;
    d->hw_version = s->hw_version;
    d->sd_req_count = s->sd_req_count;
    memcpy(d->sd_req, s->sd_req, sizeof(uint32_t) * s->sd_req_count);
    d->has_type = s->has_type;
    d->type = (uint32_t)s->type;
    d->has_sd_size = s->has_sd_size;
    d->sd_size = s->sd_size;
    d->has_bl_size = s->has_bl_size;
    d->bl_size = s->bl_size;
    d->has_app_size = s->has_app_size;
    d->app_size = s->app_size;
    d->has_hash = s->has_hash;
    d->hash_type = (uint32_t)s->hash.hash_type;
    d->hash_len = s->hash.hash.size;
    memcpy(d->hash, s->hash.hash.bytes, d->hash_len);
    d->has_is_debug = s->has_is_debug;
    d->is_debug = s->is_debug;
    d->bv_count = s->boot_validation_count;
    for (size_t i = 0; i < d->bv_count; i++) {
        d->bv[i].type = (uint32_t)s->boot_validation[i].type;
        d->bv[i].len = s->boot_validation[i].bytes.size;
        memcpy(d->bv[i].bytes, s->boot_validation[i].bytes.bytes, d->bv[i].len);
    }
}

static bool to_pb_init(const dk_init_cmd *s, dfu_InitCommand *d)
{
    if (s->sd_req_count > DK_INIT_SD_REQ_MAX || s->bv_count > DK_INIT_BV_MAX || s->hash_len > 32)
        return false;
    memset(d, 0, sizeof *d);
    d->has_fw_version = s->has_fw_version;
    d->fw_version = s->fw_version;
    d->has_hw_version = s->has_hw_version;
    d->hw_version = s->hw_version;
    d->sd_req_count = (pb_size_t)s->sd_req_count;
    memcpy(d->sd_req, s->sd_req, sizeof(uint32_t) * s->sd_req_count);
    d->has_type = s->has_type;
    d->type = (dfu_FwType)s->type;
    d->has_sd_size = s->has_sd_size;
    d->sd_size = s->sd_size;
    d->has_bl_size = s->has_bl_size;
    d->bl_size = s->bl_size;
    d->has_app_size = s->has_app_size;
    d->app_size = s->app_size;
    d->has_hash = s->has_hash;
    d->hash.hash_type = (dfu_HashType)s->hash_type;
    d->hash.hash.size = (pb_size_t)s->hash_len;
    memcpy(d->hash.hash.bytes, s->hash, s->hash_len);
    d->has_is_debug = s->has_is_debug;
    d->is_debug = s->is_debug;
    d->boot_validation_count = (pb_size_t)s->bv_count;
    for (size_t i = 0; i < s->bv_count; i++) {
        if (s->bv[i].len > 64)
            return false;
        d->boot_validation[i].type = (dfu_ValidationType)s->bv[i].type;
        d->boot_validation[i].bytes.size = (pb_size_t)s->bv[i].len;
        memcpy(d->boot_validation[i].bytes.bytes, s->bv[i].bytes, s->bv[i].len);
    }
    return true;
}

static void from_pb_cmd(const dfu_Command *c, dk_initpkt *out)
{
    out->has_op_code = c->has_op_code;
    out->op_code = (uint32_t)c->op_code;
    out->has_init = c->has_init;
    if (c->has_init)
        from_pb_init(&c->init, &out->init);
    out->has_reset = c->has_reset;
    out->reset_timeout = c->reset.timeout;
}

dk_status dk_initpkt_decode(const uint8_t *buf, size_t len, dk_initpkt *out, dk_err *err)
{
    memset(out, 0, sizeof *out);
    if (!buf && len)
        return dk_err_set(err, DK_E_USAGE, -1, "no buffer");
    static const uint8_t empty[1];
    if (!buf)
        buf = empty;

    struct walk w = { .buf = buf, .err = err };
    dk_status st = walk_msg(&w, &m_packet, 0, len, 0, OWN_NONE);
    if (st != DK_OK)
        return st;
    if (!w.seen[OWN_PLAIN] && !w.seen[OWN_SIGNED])
        return dk_err_set(err, DK_E_FORMAT, 0,
                          "Packet: neither command nor signed_command (%zu bytes)", len);

    dfu_Packet pb = dfu_Packet_init_zero;
    pb_istream_t is = pb_istream_from_buffer(buf, len);
    if (!pb_decode(&is, dfu_Packet_fields, &pb))
        return dk_err_set(err, DK_E_FORMAT, (int64_t)(len - is.bytes_left), "Packet: %s",
                          PB_GET_ERROR(&is));

    out->is_signed = pb.has_signed_command;
    out->has_plain = pb.has_command;
    out->unknown_fields = w.unknown;
    int o = pb.has_signed_command ? OWN_SIGNED : OWN_PLAIN;
    from_pb_cmd(pb.has_signed_command ? &pb.signed_command.command : &pb.command, out);
    if (pb.has_signed_command) {
        out->signature_type = (uint32_t)pb.signed_command.signature_type;
        out->signature_len = pb.signed_command.signature.size;
        memcpy(out->signature, pb.signed_command.signature.bytes, out->signature_len);
    }
    if (w.span_set[o]) {
        out->signed_off = w.span_off[o];
        out->signed_len = w.span_len[o];
    }
    return DK_OK;
}

size_t dk_initpkt_encode_init(const dk_init_cmd *init, uint8_t *out, size_t cap)
{
    dfu_InitCommand pb;
    if (!to_pb_init(init, &pb))
        return 0;
    pb_ostream_t os = pb_ostream_from_buffer(out, cap);
    if (!pb_encode(&os, dfu_InitCommand_fields, &pb))
        return 0;
    return os.bytes_written;
}

static bool to_pb_cmd(const dk_initpkt *p, dfu_Command *c)
{
    memset(c, 0, sizeof *c);
    c->has_op_code = true;
    c->op_code = p->has_op_code ? (dfu_OpCode)p->op_code : dfu_OpCode_INIT;
    c->has_init = p->has_init || !p->has_reset;
    if (c->has_init && !to_pb_init(&p->init, &c->init))
        return false;
    c->has_reset = p->has_reset;
    c->reset.timeout = p->reset_timeout;
    return true;
}

size_t dk_initpkt_encode(const dk_initpkt *pkt, uint8_t *out, size_t cap)
{
    dfu_Packet local, *p = &local;
    memset(p, 0, sizeof *p);
    if (pkt->is_signed) {
        if (pkt->signature_len > 64)
            return 0;
        p->has_signed_command = true;
        if (!to_pb_cmd(pkt, &p->signed_command.command))
            return 0;
        p->signed_command.signature_type = (dfu_SignatureType)pkt->signature_type;
        p->signed_command.signature.size = (pb_size_t)pkt->signature_len;
        memcpy(p->signed_command.signature.bytes, pkt->signature, pkt->signature_len);
    }
    if (!pkt->is_signed || pkt->has_plain) {
        p->has_command = true;
        if (!to_pb_cmd(pkt, &p->command))
            return 0;
    }
    pb_ostream_t os = pb_ostream_from_buffer(out, cap);
    if (!pb_encode(&os, dfu_Packet_fields, p))
        return 0;
    return os.bytes_written;
}

uint32_t dk_initpkt_image_size(const dk_initpkt *pkt)
{
    const dk_init_cmd *c = &pkt->init;
    if (c->has_type && (c->type == DK_FW_SOFTDEVICE || c->type == DK_FW_BOOTLOADER ||
                        c->type == DK_FW_SOFTDEVICE_BOOTLOADER))
        return c->sd_size + c->bl_size;
    if (c->app_size)
        return c->app_size;
    return c->sd_size + c->bl_size;
}

/* ---- printing ---- */

static const char *name_or(const char *name, unsigned v, char buf[DK_NAME_BUFSZ])
{
    if (name)
        return name;
    snprintf(buf, DK_NAME_BUFSZ, "unknown(0x%02x)", v);
    return buf;
}

static void hex(FILE *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%02x", p[i]);
}

#define OPT_U32(field)                                                                  \
    do {                                                                                \
        if (c->has_##field)                                                             \
            fprintf(out, "%s" #field ": %" PRIu32 " (0x%" PRIx32 ")\n", prefix, c->field, \
                    c->field);                                                          \
        else                                                                            \
            fprintf(out, "%s" #field ": absent\n", prefix);                             \
    } while (0)

void dk_initpkt_print(const dk_initpkt *pkt, const char *prefix, FILE *out)
{
    char b[DK_NAME_BUFSZ];
    const dk_init_cmd *c = &pkt->init;
    if (!prefix)
        prefix = "";
    fprintf(out, "%spacket: %s\n", prefix,
            pkt->is_signed && pkt->has_plain ? "command and signed_command (the SDK rejects both)"
            : pkt->is_signed                 ? "signed_command"
                                             : "command (unsigned)");
    if (pkt->has_op_code)
        fprintf(out, "%sop_code: %s\n", prefix,
                name_or(pkt->op_code == 1 ? "INIT" : pkt->op_code == 0 ? "RESET" : NULL,
                        pkt->op_code, b));
    else
        fprintf(out, "%sop_code: absent\n", prefix);
    if (pkt->has_reset)
        fprintf(out, "%sreset.timeout: %" PRIu32 "\n", prefix, pkt->reset_timeout);
    if (!pkt->has_init) {
        fprintf(out, "%sinit: absent\n", prefix);
    } else {
        OPT_U32(fw_version);
        OPT_U32(hw_version);
        fprintf(out, "%ssd_req:", prefix);
        for (size_t i = 0; i < c->sd_req_count; i++)
            fprintf(out, "%s0x%04" PRIx32, i ? ", " : " ", c->sd_req[i]);
        fprintf(out, "%s\n", c->sd_req_count ? "" : " none");
        if (c->has_type)
            fprintf(out, "%stype: %s\n", prefix, name_or(dk_fw_name(c->type), c->type, b));
        else
            fprintf(out, "%stype: absent\n", prefix);
        OPT_U32(sd_size);
        OPT_U32(bl_size);
        OPT_U32(app_size);
        if (c->has_hash) {
            fprintf(out, "%shash_type: %s\n", prefix,
                    name_or(dk_hash_name(c->hash_type), c->hash_type, b));
            fprintf(out, "%shash: ", prefix);
            hex(out, c->hash, c->hash_len);
            fprintf(out, " (%zu bytes as in the packet; %s)\n", c->hash_len,
                    c->hash_type == DK_HASH_SHA256 ? "the image's SHA-256 byte-reversed"
                                                   : "not SHA-256");
        } else {
            fprintf(out, "%shash: absent\n", prefix);
        }
        if (c->has_is_debug)
            fprintf(out, "%sis_debug: %s\n", prefix, c->is_debug ? "true" : "false");
        else
            fprintf(out, "%sis_debug: absent (false)\n", prefix);
        for (size_t i = 0; i < c->bv_count; i++) {
            fprintf(out, "%sboot_validation[%zu]: %s, %zu bytes%s", prefix, i,
                    name_or(dk_validation_name(c->bv[i].type), c->bv[i].type, b), c->bv[i].len,
                    c->bv[i].len ? " " : "");
            hex(out, c->bv[i].bytes, c->bv[i].len);
            fputc('\n', out);
        }
    }
    if (pkt->is_signed) {
        fprintf(out, "%ssignature_type: %s\n", prefix,
                name_or(dk_sig_name(pkt->signature_type), pkt->signature_type, b));
        fprintf(out, "%ssignature: ", prefix);
        hex(out, pkt->signature, pkt->signature_len);
        fprintf(out, " (%zu bytes, r||s with each half little-endian)\n", pkt->signature_len);
        fprintf(out, "%ssigned_bytes: offset %zu, length %zu\n", prefix, pkt->signed_off,
                pkt->signed_len);
    }
    if (pkt->unknown_fields)
        fprintf(out, "%sunknown_fields: %zu (skipped)\n", prefix, pkt->unknown_fields);
}
