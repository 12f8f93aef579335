/* session_unk.c - an object whose type the capture does not show (§6.10).
 *
 * A capture that starts inside a transfer (a sniffer attached late, the tail
 * of a log) shows WRITEs, CRC_GETs and an EXECUTE before any SELECT or
 * CREATE names the object.  Its bytes are counted as of an unknown object
 * (dk_summary.bytes_unknown) and its offset/CRC kept as the target reports
 * them, until evidence settles the type:
 *   - an offset past INIT_COMMAND_MAX_SIZE (512): data (§4);
 *   - a SELECT of a type reporting exactly the object's offset and CRC;
 *   - the object executed, then a command CREATE: it was data (an image's
 *     init packet comes before its firmware; a new image's CREATE follows the
 *     previous image's last data object, §5.2);
 *   - the host's log (dk_session_host_obj): nrfutil's "Sending firmware
 *     file..." ends the init packet, "Image sent in" the firmware (§5.2).
 * Until then no init packet or data check is made on those bytes. */
#include "session_int.h"

#include <stdio.h>
#include <string.h>

#include "dfukit/crc.h"

/* The unknown object starts being tracked (the first thing the capture
 * shows of it). */
static void unk_begin(dk_session *s, uint64_t start)
{
    if (s->unk.on)
        return;
    memset(&s->unk, 0, sizeof s->unk);
    s->unk.on = true;
    s->unk.pos0 = s->unk.pos1 = start;
}

uint32_t sess_write_unk(dk_session *s, const uint8_t *data, size_t len, int64_t t,
                        uint64_t start, uint64_t end)
{
    sess_ensure_image(s, t, start, end);
    s->img.active = true;
    unk_begin(s, start);
    uint32_t offset = s->unk.off;
    if (s->unk.grounded)
        s->unk.crc = dk_crc32(s->unk.crc, data, len);
    s->unk.off += (uint32_t)len;
    s->unk.bytes += (uint32_t)len;
    s->unk.pos1 = end;
    s->sum.bytes_unknown += len;
    return offset;
}

void sess_unk_report(dk_session *s, uint32_t off, uint32_t crc, const char *what, report *r)
{
    unk_begin(s, s->at.start);
    if (off > CMD_MAX) {
        /* No command object is that long: the target speaks of data. */
        sess_unk_settle(s, DK_OBJ_DATA, UNK_BY_SIZE);
        sess_check_report(s, DK_OBJ_DATA, off, crc, false, what, r);
        return;
    }
    r->exp_off = s->unk.off;
    r->exp_crc = s->unk.crc;
    if (!s->unk.grounded) {
        r->check = DK_CHECK_ADOPTED;
    } else if (off == s->unk.off && crc == s->unk.crc) {
        r->check = DK_CHECK_OK;
    } else if (off == s->unk.off) {
        r->check = DK_CHECK_CRC_BAD;
        r->an = DK_AN_DFU_CRC_MISMATCH;
        snprintf(r->text, sizeof r->text,
                 "%s reports crc=0x%08x at offset %u, the bytes sent give 0x%08x", what,
                 (unsigned)crc, (unsigned)off, (unsigned)s->unk.crc);
    } else {
        r->check = DK_CHECK_OFFSET_BAD;
        r->an = DK_AN_DFU_OFFSET_MISMATCH;
        snprintf(r->text, sizeof r->text, "%s reports offset %u, but the bytes sent reach %u",
                 what, (unsigned)off, (unsigned)s->unk.off);
    }
    s->unk.off = off;
    s->unk.crc = crc;
    s->unk.grounded = true;
}

static const char *why_text(unk_why why, uint8_t obj)
{
    switch (why) {
    case UNK_BY_SIZE: return "an offset past 512, the most a command object holds";
    case UNK_BY_SELECT: return "a SELECT of that type reports its offset and CRC";
    case UNK_BY_NEXT: return "it was executed, then a command CREATE began the next image";
    case UNK_BY_HOST:
        return obj == DK_OBJ_DATA ? "the host's log says the firmware was sent then"
                                  : "the host's log says the init packet was sent then";
    }
    return "";
}

/* The bytes go to the command object: an init packet whose start is not in
 * the capture (it cannot be decoded). */
static void settle_cmd(dk_session *s, bool take)
{
    s->sum.bytes_cmd += s->unk.bytes;
    if (take) {
        s->cmd.off = s->unk.off;
        s->cmd.crc = s->unk.crc;
        s->cmd.grounded = s->unk.grounded;
        s->cmd.known = false;
        s->cmd.pos0 = s->unk.pos0;
        s->cmd.pos1 = s->unk.pos1;
    }
    if (!s->unk.executed)
        return;
    s->init.state = INIT_VALID;
    if (s->img.sum)
        s->img.sum->init_ok = true;
    sess_note_op(s, DK_AN_INIT_INCOMPLETE, s->at.t, DK_DIR_HOST, s->unk.pos0, s->unk.pos1,
                 DK_OP_OBJECT_EXECUTE,
                 "the init packet's bytes are not all in the capture (%u seen)",
                 (unsigned)s->unk.bytes);
}

/* The bytes go to the data: progress of the image. */
static void settle_data(dk_session *s, bool take)
{
    s->sum.bytes_data += s->unk.bytes;
    if (s->img.sum) {
        s->img.sum->bytes_sent += s->unk.bytes;
        if (s->unk.grounded && s->unk.off > s->img.sum->offset)
            s->img.sum->offset = s->unk.off;
    }
    if (!take)
        return;
    sess_sync_crc(s);
    s->data.off = s->unk.off;
    s->data.crc = s->unk.crc;
    s->data.crc_known = s->data.seen = s->unk.grounded;
    if (s->unk.executed) {
        s->data.last_off = s->data.off;
        s->data.last_crc = s->data.crc;
        s->data.last_crc_known = s->data.crc_known;
    }
}

void sess_unk_settle(dk_session *s, uint8_t obj, unk_why why)
{
    if (!s->unk.on || (obj != DK_OBJ_COMMAND && obj != DK_OBJ_DATA))
        return;
    sess_settle(s);
    bool cur = s->sel == DK_OBJ_UNSHOWN;
    bool take = cur || s->unk.executed || why == UNK_BY_SELECT;
    if (cur)
        s->sel = obj;
    s->sum.bytes_unknown -= s->unk.bytes;
    sess_note_op(s, DK_AN_DFU_OBJECT_TYPE_SETTLED, s->at.t, DK_DIR_HOST, s->unk.pos0,
                 s->unk.pos1, 0,
                 "the object the capture starts in (%u bytes written) is the %s object: %s",
                 (unsigned)s->unk.bytes, obj_word(obj), why_text(why, obj));
    if (obj == DK_OBJ_COMMAND)
        settle_cmd(s, take);
    else
        settle_data(s, take);
    s->unk.on = false;
}

void dk_session_host_obj(dk_session *s, uint8_t obj, int64_t t, uint64_t pos)
{
    s->stream_ok = false;
    if (!s->unk.on)
        return;
    s->at.t = t;
    s->at.start = s->at.end = pos;
    sess_unk_settle(s, obj, UNK_BY_HOST);
}
