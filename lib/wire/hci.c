/* hci.c - legacy HCI packets: hdr[4] payload crc16 (see hci.h; protocol.md §13.3). */
#include "dfukit/hci.h"

#include "dfukit/crc.h"
#include "dfukit/rd.h"
#include "dfukit/slip.h"

const char *dk_hci_status_name(dk_hci_status s)
{
    switch (s) {
    case DK_HCI_OK: return "ok";
    case DK_HCI_SHORT: return "short";
    case DK_HCI_NO_INTEGRITY: return "no_integrity";
    case DK_HCI_UNRELIABLE: return "unreliable";
    case DK_HCI_BAD_TYPE: return "bad_type";
    case DK_HCI_BAD_CHECKSUM: return "bad_checksum";
    case DK_HCI_BAD_CRC: return "bad_crc";
    }
    return "unknown";
}

bool dk_hci_hdr_read(const uint8_t *p, size_t len, dk_hci_hdr *out)
{
    dk_rd r = dk_rd_make(p, len);
    uint8_t b0 = dk_rd_u8(&r), b1 = dk_rd_u8(&r), b2 = dk_rd_u8(&r), b3 = dk_rd_u8(&r);
    if (!dk_rd_ok(&r))
        return false;
    out->seq = b0 & 7;
    out->ack = (b0 >> 3) & 7;
    out->integrity = (b0 & 0x40) != 0;
    out->reliable = (b0 & 0x80) != 0;
    out->type = b1 & 0x0F;
    out->len = (uint16_t)((b1 >> 4) | (b2 << 4));
    out->checksum = b3;
    return true;
}

dk_hci_status dk_hci_parse(const uint8_t *p, size_t len, dk_hci_pkt *out)
{
    *out = (dk_hci_pkt){ .status = DK_HCI_SHORT };
    if (!dk_hci_hdr_read(p, len, &out->hdr))
        return DK_HCI_SHORT;
    bool crc = out->hdr.integrity && len >= DK_HCI_HDR_LEN + 2;
    size_t body = len - DK_HCI_HDR_LEN - (crc ? 2 : 0);
    out->payload = p + DK_HCI_HDR_LEN;
    out->payload_len = body;
    out->len_mismatch = out->hdr.len != body;
    if (crc) {
        out->crc_sent = (uint16_t)(p[len - 2] | p[len - 1] << 8);
        out->crc_calc = dk_crc16_ccitt(DK_CRC16_INIT, p, len - 2);
    }
    dk_hci_status st = DK_HCI_OK;
    if (len <= DK_HCI_HDR_LEN)
        st = DK_HCI_SHORT;
    else if (!out->hdr.integrity)
        st = DK_HCI_NO_INTEGRITY;
    else if (!out->hdr.reliable)
        st = DK_HCI_UNRELIABLE;
    else if (out->hdr.type != DK_HCI_TYPE_VENDOR)
        st = DK_HCI_BAD_TYPE;
    else if ((uint8_t)(p[0] + p[1] + p[2] + p[3]) != 0)
        st = DK_HCI_BAD_CHECKSUM;
    else if (!crc || out->crc_sent != out->crc_calc)
        st = DK_HCI_BAD_CRC;
    out->status = st;
    return st;
}

bool dk_hci_is_ack(const uint8_t *p, size_t len, uint8_t *expected)
{
    dk_hci_hdr h;
    if (len != DK_HCI_ACK_LEN || !dk_hci_hdr_read(p, len, &h))
        return false;
    if (h.type != DK_HCI_TYPE_ACK || h.len != 0 || h.integrity || h.reliable || h.seq != 0 ||
        (uint8_t)(p[0] + p[1] + p[2] + p[3]) != 0)
        return false;
    if (expected)
        *expected = h.ack;
    return true;
}

void dk_hci_ack(uint8_t n, uint8_t out[DK_HCI_ACK_LEN])
{
    out[0] = (uint8_t)((n & 7) << 3);
    out[1] = 0;
    out[2] = 0;
    out[3] = (uint8_t)(-out[0] & 0xFF);
}

size_t dk_hci_encode(uint8_t seq, const uint8_t *payload, size_t len, uint8_t *out)
{
    if (len > DK_HCI_MAX_PAYLOAD)
        len = DK_HCI_MAX_PAYLOAD;
    seq &= 7;
    out[0] = (uint8_t)(seq | ((seq + 1) & 7) << 3 | 0x40 | 0x80);
    out[1] = (uint8_t)(DK_HCI_TYPE_VENDOR | (len & 0xF) << 4);
    out[2] = (uint8_t)(len >> 4);
    out[3] = (uint8_t)(-(out[0] + out[1] + out[2]) & 0xFF);
    for (size_t i = 0; i < len; i++)
        out[DK_HCI_HDR_LEN + i] = payload[i];
    uint16_t c = dk_crc16_ccitt(DK_CRC16_INIT, out, DK_HCI_HDR_LEN + len);
    dk_put_le16(out + DK_HCI_HDR_LEN + len, c);
    return DK_HCI_MAX_PACKET(len);
}

size_t dk_hci_frame(const uint8_t *p, size_t len, uint8_t *out)
{
    out[0] = DK_SLIP_END;
    return 1 + dk_slip_encode(p, len, out + 1);
}
