/* msg.c - parse and encode Secure DFU requests and responses (layout in msg.h). */
#include "dfukit/msg.h"

#include <stdio.h>
#include <string.h>

#include "dfukit/rd.h"

int dk_msg_payload_len(bool is_response, uint8_t op)
{
    if (!dk_op_name(op) || op == DK_OP_RESPONSE)
        return -1;
    if (!is_response) {
        switch (op) {
        case DK_OP_OBJECT_CREATE: return 5;
        case DK_OP_RECEIPT_NOTIF_SET: return 2;
        case DK_OP_OBJECT_SELECT: return 1;
        case DK_OP_OBJECT_WRITE: return -2;
        case DK_OP_PING: return 1;
        case DK_OP_FIRMWARE_VERSION: return 1;
        default: return 0;
        }
    }
    switch (op) {
    case DK_OP_PROTOCOL_VERSION: return 1;
    case DK_OP_CRC_GET: return 8;
    case DK_OP_OBJECT_SELECT: return 12;
    case DK_OP_MTU_GET: return 2;
    case DK_OP_PING: return 1;
    case DK_OP_HARDWARE_VERSION: return 20;
    case DK_OP_FIRMWARE_VERSION: return 13;
    default: return 0;
    }
}

bool dk_msg_expects_response(uint8_t op)
{
    return op != DK_OP_OBJECT_WRITE && op != DK_OP_ABORT;
}

static dk_msg_status finish(dk_rd *r, dk_msg *m)
{
    if (!dk_rd_ok(r))
        return DK_MSG_TRUNCATED;
    m->extra = dk_rd_left(r);
    return m->extra ? DK_MSG_OVERLONG : DK_MSG_OK;
}

static dk_msg_status parse_request(dk_rd *r, dk_msg *m)
{
    switch (m->op) {
    case DK_OP_OBJECT_CREATE:
        m->req.create.type = dk_rd_u8(r);
        m->req.create.size = dk_rd_le32(r);
        break;
    case DK_OP_RECEIPT_NOTIF_SET:
        m->req.prn.target = dk_rd_le16(r);
        break;
    case DK_OP_OBJECT_SELECT:
        m->req.select.type = dk_rd_u8(r);
        break;
    case DK_OP_OBJECT_WRITE:
        m->req.write.len = dk_rd_left(r);
        m->req.write.data = dk_rd_bytes(r, m->req.write.len);
        break;
    case DK_OP_PING:
        m->req.ping.id = dk_rd_u8(r);
        break;
    case DK_OP_FIRMWARE_VERSION:
        m->req.fw.image = dk_rd_u8(r);
        break;
    default:
        break;
    }
    return finish(r, m);
}

/* The result byte, and the extended error byte after EXT_ERROR: the same for
 * every opcode.  False when the frame ends before them. */
static bool read_result(dk_rd *r, dk_msg *m)
{
    m->result = dk_rd_u8(r);
    if (!dk_rd_ok(r))
        return false;
    if (m->result == DK_RES_EXT_ERROR) {
        if (dk_rd_left(r) == 0)
            return false;
        m->has_ext = true;
        m->ext = dk_rd_u8(r);
    }
    return true;
}

static dk_msg_status parse_response(dk_rd *r, dk_msg *m)
{
    if (!read_result(r, m))
        return DK_MSG_TRUNCATED;
    if (m->result != DK_RES_SUCCESS)
        return finish(r, m);
    switch (m->op) {
    case DK_OP_PROTOCOL_VERSION:
        m->rsp.proto.version = dk_rd_u8(r);
        break;
    case DK_OP_CRC_GET:
        m->rsp.crc.offset = dk_rd_le32(r);
        m->rsp.crc.crc = dk_rd_le32(r);
        break;
    case DK_OP_OBJECT_SELECT:
        m->rsp.select.max_size = dk_rd_le32(r);
        m->rsp.select.offset = dk_rd_le32(r);
        m->rsp.select.crc = dk_rd_le32(r);
        break;
    case DK_OP_MTU_GET:
        m->rsp.mtu.mtu = dk_rd_le16(r);
        break;
    case DK_OP_PING:
        m->rsp.ping.id = dk_rd_u8(r);
        break;
    case DK_OP_HARDWARE_VERSION:
        m->rsp.hw.part = dk_rd_le32(r);
        m->rsp.hw.variant = dk_rd_le32(r);
        m->rsp.hw.rom_size = dk_rd_le32(r);
        m->rsp.hw.ram_size = dk_rd_le32(r);
        m->rsp.hw.rom_page_size = dk_rd_le32(r);
        break;
    case DK_OP_FIRMWARE_VERSION:
        m->rsp.fw.type = dk_rd_u8(r);
        m->rsp.fw.version = dk_rd_le32(r);
        m->rsp.fw.addr = dk_rd_le32(r);
        m->rsp.fw.len = dk_rd_le32(r);
        break;
    default:
        break;
    }
    return finish(r, m);
}

dk_msg_status dk_msg_parse(const uint8_t *frame, size_t len, dk_msg *m)
{
    memset(m, 0, sizeof *m);
    m->raw = frame;
    m->raw_len = len;
    if (len == 0)
        return DK_MSG_EMPTY;
    dk_rd r = dk_rd_make(frame, len);
    uint8_t first = dk_rd_u8(&r);
    if (first == DK_OP_RESPONSE) {
        m->is_response = true;
        m->op = dk_rd_u8(&r);
        if (!dk_rd_ok(&r))
            return DK_MSG_TRUNCATED;
        if (!dk_op_name(m->op) || m->op == DK_OP_RESPONSE) {
            /* Keep its result: an unknown request is answered 60 op 02. */
            read_result(&r, m);
            m->extra = dk_rd_left(&r);
            return DK_MSG_UNKNOWN_OP;
        }
        dk_msg_status st = parse_response(&r, m);
        if (st == DK_MSG_TRUNCATED) {
            /* Keep result/ext (already read) but zero the payload fields. */
            memset(&m->rsp, 0, sizeof m->rsp);
        }
        return st;
    }
    m->op = first;
    if (!dk_op_name(m->op))
        return DK_MSG_UNKNOWN_OP;
    dk_msg_status st = parse_request(&r, m);
    if (st == DK_MSG_TRUNCATED) {
        memset(&m->req, 0, sizeof m->req);
    }
    return st;
}

dk_msg dk_msg_request(uint8_t op)
{
    dk_msg m;
    memset(&m, 0, sizeof m);
    m.op = op;
    return m;
}

dk_msg dk_msg_response(uint8_t op, uint8_t result)
{
    dk_msg m = dk_msg_request(op);
    m.is_response = true;
    m.result = result;
    return m;
}

size_t dk_msg_encode(const dk_msg *m, uint8_t *out, size_t cap)
{
    uint8_t tmp[32];
    uint8_t *p = tmp;
    if (!m->is_response) {
        if (m->op == DK_OP_OBJECT_WRITE) {
            size_t n = 1 + m->req.write.len;
            if (n > cap)
                return 0;
            out[0] = m->op;
            if (m->req.write.len)
                memcpy(out + 1, m->req.write.data, m->req.write.len);
            return n;
        }
        *p++ = m->op;
        switch (m->op) {
        case DK_OP_OBJECT_CREATE:
            *p++ = m->req.create.type;
            p = dk_put_le32(p, m->req.create.size);
            break;
        case DK_OP_RECEIPT_NOTIF_SET:
            p = dk_put_le16(p, m->req.prn.target);
            break;
        case DK_OP_OBJECT_SELECT:
            *p++ = m->req.select.type;
            break;
        case DK_OP_PING:
            *p++ = m->req.ping.id;
            break;
        case DK_OP_FIRMWARE_VERSION:
            *p++ = m->req.fw.image;
            break;
        default:
            break;
        }
    } else {
        *p++ = DK_OP_RESPONSE;
        *p++ = m->op;
        *p++ = m->result;
        if (m->result == DK_RES_EXT_ERROR) {
            *p++ = m->ext;
        } else if (m->result == DK_RES_SUCCESS) {
            switch (m->op) {
            case DK_OP_PROTOCOL_VERSION:
                *p++ = m->rsp.proto.version;
                break;
            case DK_OP_CRC_GET:
                p = dk_put_le32(p, m->rsp.crc.offset);
                p = dk_put_le32(p, m->rsp.crc.crc);
                break;
            case DK_OP_OBJECT_SELECT:
                p = dk_put_le32(p, m->rsp.select.max_size);
                p = dk_put_le32(p, m->rsp.select.offset);
                p = dk_put_le32(p, m->rsp.select.crc);
                break;
            case DK_OP_MTU_GET:
                p = dk_put_le16(p, m->rsp.mtu.mtu);
                break;
            case DK_OP_PING:
                *p++ = m->rsp.ping.id;
                break;
            case DK_OP_HARDWARE_VERSION:
                p = dk_put_le32(p, m->rsp.hw.part);
                p = dk_put_le32(p, m->rsp.hw.variant);
                p = dk_put_le32(p, m->rsp.hw.rom_size);
                p = dk_put_le32(p, m->rsp.hw.ram_size);
                p = dk_put_le32(p, m->rsp.hw.rom_page_size);
                break;
            case DK_OP_FIRMWARE_VERSION:
                *p++ = m->rsp.fw.type;
                p = dk_put_le32(p, m->rsp.fw.version);
                p = dk_put_le32(p, m->rsp.fw.addr);
                p = dk_put_le32(p, m->rsp.fw.len);
                break;
            default:
                break;
            }
        }
    }
    size_t n = (size_t)(p - tmp);
    if (n > cap)
        return 0;
    memcpy(out, tmp, n);
    return n;
}

size_t dk_msg_describe(const dk_msg *m, char *out, size_t cap)
{
    char b1[DK_NAME_BUFSZ], b2[DK_NAME_BUFSZ];
    const char *op = dk_op_str(m->op, b1);
    int n;
    if (!m->is_response) {
        switch (m->op) {
        case DK_OP_OBJECT_CREATE:
            n = snprintf(out, cap, "%s type=%s size=%u", op, dk_obj_str(m->req.create.type, b2),
                         (unsigned)m->req.create.size);
            break;
        case DK_OP_RECEIPT_NOTIF_SET:
            n = snprintf(out, cap, "%s prn=%u", op, (unsigned)m->req.prn.target);
            break;
        case DK_OP_OBJECT_SELECT:
            n = snprintf(out, cap, "%s type=%s", op, dk_obj_str(m->req.select.type, b2));
            break;
        case DK_OP_OBJECT_WRITE:
            n = snprintf(out, cap, "%s len=%zu", op, m->req.write.len);
            break;
        case DK_OP_PING:
            n = snprintf(out, cap, "%s id=%u", op, (unsigned)m->req.ping.id);
            break;
        case DK_OP_FIRMWARE_VERSION:
            n = snprintf(out, cap, "%s image=%u", op, (unsigned)m->req.fw.image);
            break;
        default:
            n = snprintf(out, cap, "%s", op);
            break;
        }
        return n < 0 ? 0 : (size_t)n;
    }
    const char *res = dk_result_str(m->result, b2);
    if (m->result == DK_RES_EXT_ERROR) {
        char b3[DK_NAME_BUFSZ];
        n = snprintf(out, cap, "%s -> EXT_ERROR %s", op, dk_ext_str(m->ext, b3));
        return n < 0 ? 0 : (size_t)n;
    }
    if (m->result != DK_RES_SUCCESS) {
        n = snprintf(out, cap, "%s -> %s", op, res);
        return n < 0 ? 0 : (size_t)n;
    }
    switch (m->op) {
    case DK_OP_PROTOCOL_VERSION:
        n = snprintf(out, cap, "%s -> SUCCESS version=%u", op, (unsigned)m->rsp.proto.version);
        break;
    case DK_OP_CRC_GET:
        n = snprintf(out, cap, "%s -> SUCCESS offset=%u crc=0x%08x", op, (unsigned)m->rsp.crc.offset,
                     (unsigned)m->rsp.crc.crc);
        break;
    case DK_OP_OBJECT_SELECT:
        n = snprintf(out, cap, "%s -> SUCCESS max_size=%u offset=%u crc=0x%08x", op,
                     (unsigned)m->rsp.select.max_size, (unsigned)m->rsp.select.offset,
                     (unsigned)m->rsp.select.crc);
        break;
    case DK_OP_MTU_GET:
        n = snprintf(out, cap, "%s -> SUCCESS mtu=%u", op, (unsigned)m->rsp.mtu.mtu);
        break;
    case DK_OP_PING:
        n = snprintf(out, cap, "%s -> SUCCESS id=%u", op, (unsigned)m->rsp.ping.id);
        break;
    case DK_OP_HARDWARE_VERSION:
        n = snprintf(out, cap,
                     "%s -> SUCCESS part=0x%08x variant=0x%08x rom_size=%u ram_size=%u page=%u", op,
                     (unsigned)m->rsp.hw.part, (unsigned)m->rsp.hw.variant,
                     (unsigned)m->rsp.hw.rom_size, (unsigned)m->rsp.hw.ram_size,
                     (unsigned)m->rsp.hw.rom_page_size);
        break;
    case DK_OP_FIRMWARE_VERSION: {
        char b3[DK_NAME_BUFSZ];
        const char *t = m->rsp.fw.type == 0xFF ? "UNKNOWN"
                        : m->rsp.fw.type == 0 ? "SOFTDEVICE"
                        : m->rsp.fw.type == 1 ? "APPLICATION"
                        : m->rsp.fw.type == 2 ? "BOOTLOADER"
                                              : (snprintf(b3, sizeof b3, "unknown(0x%02x)",
                                                          (unsigned)m->rsp.fw.type), b3);
        n = snprintf(out, cap, "%s -> SUCCESS type=%s version=%u addr=0x%08x len=%u", op, t,
                     (unsigned)m->rsp.fw.version, (unsigned)m->rsp.fw.addr,
                     (unsigned)m->rsp.fw.len);
        break;
    }
    default:
        n = snprintf(out, cap, "%s -> SUCCESS", op);
        break;
    }
    return n < 0 ? 0 : (size_t)n;
}
