/* tracker.c - the protocol sniffer and the Secure DFU tracker behind the
 * tracker interface (see tracker.h). */
#include "dfukit/tracker.h"

#include "dfukit/crc.h"
#include "dfukit/session.h"

const char *dk_proto_name(dk_proto p)
{
    switch (p) {
    case DK_PROTO_SDFU: return "sdfu";
    case DK_PROTO_HCI: return "hci";
    default: return "unknown";
    }
}

/* A legacy HCI packet: header checksum, length, CRC16 (protocol.md §9). */
static bool hci_packet(const uint8_t *f, size_t len, dk_dir dir)
{
    if (len < 4 || (uint8_t)(f[0] + f[1] + f[2] + f[3]) != 0)
        return false;
    size_t plen = (size_t)(f[1] >> 4) | (size_t)f[2] << 4;
    bool integrity = (f[0] & 0x40) != 0, reliable = (f[0] & 0x80) != 0;
    if (len != 4 + plen + (integrity ? 2 : 0))
        return false;
    if (integrity) {
        uint16_t c = dk_crc16_ccitt(DK_CRC16_INIT, f, 4 + plen);
        if ((f[len - 2] | f[len - 1] << 8) != c)
            return false;
    }
    if (reliable)
        return true;
    /* an ACK: type 0, no payload, from the target */
    return dir != DK_DIR_HOST && (f[1] & 0x0F) == 0 && plen == 0;
}

dk_proto dk_proto_sniff(const uint8_t *frame, size_t len, dk_dir dir)
{
    if (hci_packet(frame, len, dir))
        return DK_PROTO_HCI;
    dk_msg m;
    dk_msg_status st = dk_msg_parse(frame, len, &m);
    if (st != DK_MSG_OK && st != DK_MSG_OVERLONG)
        return DK_PROTO_UNKNOWN;
    if ((dir == DK_DIR_HOST && m.is_response) || (dir == DK_DIR_TARGET && !m.is_response))
        return DK_PROTO_UNKNOWN;
    return DK_PROTO_SDFU;
}

/* ---- Secure DFU: dk_session ------------------------------------------ */

static void *sdfu_create(const dk_track_opts *o, dk_event_cb cb, void *ctx)
{
    dk_session *s = dk_session_new(cb, ctx);
    if (s) {
        dk_session_write_crc(s, o->write_crc);
        dk_session_write_events(s, o->write_events);
    }
    return s;
}

static void sdfu_destroy(void *t)
{
    dk_session_free(t);
}

static void sdfu_frame(void *t, const dk_slip_event *ev, int64_t t_us, dk_dir dir)
{
    dk_session_frame(t, ev->data, ev->len, ev->first, t_us, dir, ev->start, ev->end);
}

static void sdfu_slip(void *t, const dk_slip_event *ev, int64_t t_us, dk_dir dir)
{
    dk_session_slip(t, ev, t_us, dir);
}

static void sdfu_message(void *t, const uint8_t *msg, size_t len, int64_t t_us, dk_dir dir,
                         uint64_t start, uint64_t end)
{
    dk_session_frame(t, msg, len, false, t_us, dir, start, end);
}

static void sdfu_note(void *t, dk_anomaly_id id, int64_t t_us, dk_dir dir, uint64_t start,
                      uint64_t end, const char *text)
{
    dk_session_note(t, id, t_us, dir, start, end, "%s", text);
}

static void sdfu_port(void *t, int64_t t_us, bool open, uint64_t pos)
{
    dk_session_port(t, t_us, open, pos);
}

static void sdfu_host_obj(void *t, uint8_t obj, int64_t t_us, uint64_t pos)
{
    dk_session_host_obj(t, obj, t_us, pos);
}

static bool sdfu_awaiting(const void *t)
{
    return dk_session_awaiting(t);
}

static void sdfu_finish(void *t)
{
    dk_session_finish(t);
}

static const dk_summary *sdfu_summary(const void *t)
{
    return dk_session_summary(t);
}

const dk_tracker_ops dk_sdfu_tracker = {
    .proto = DK_PROTO_SDFU,
    .name = "Secure DFU",
    .create = sdfu_create,
    .destroy = sdfu_destroy,
    .frame = sdfu_frame,
    .slip = sdfu_slip,
    .message = sdfu_message,
    .note = sdfu_note,
    .port = sdfu_port,
    .host_obj = sdfu_host_obj,
    .awaiting = sdfu_awaiting,
    .finish = sdfu_finish,
    .summary = sdfu_summary,
};
