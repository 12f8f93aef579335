/* session.c - the session tracker's lifecycle, emission, entry points and WRITE hot path. */
#include "session_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/crc.h"

/* ---- lifecycle ----------------------------------------------------------- */

dk_session *dk_session_new(dk_session_cb cb, void *ctx)
{
    dk_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cb = cb;
    s->ctx = ctx;
    /* The device selects the command object after boot (§6.1), but a
     * capture may start anywhere: the type is unknown until shown (§6.10). */
    s->sel = DK_OBJ_UNSHOWN;
    s->data.max_size = 4096;
    s->sum.t_first = s->sum.t_last = -1;
    s->port.state = -1;
    s->port.t_closed = -1;
    s->sum.duration_s = -1;
    s->sum.throughput_Bps = -1;
    s->init.state = INIT_UNKNOWN;
    s->wr.events = true;
    sess_reset_data(s, false);
    return s;
}

void dk_session_free(dk_session *s)
{
    free(s);
}

const dk_summary *dk_session_summary(const dk_session *s)
{
    return &s->sum;
}

void dk_session_write_crc(dk_session *s, bool on)
{
    s->stream_ok = false;
    s->wr.crc = on;
}

void dk_session_write_events(dk_session *s, bool on)
{
    s->stream_ok = false;
    s->wr.events = on;
}

bool dk_session_awaiting(const dk_session *s)
{
    return s->pair.n > 0;
}

/* ---- emission ------------------------------------------------------------ */

void sess_sync_crc(dk_session *s)
{
    if (!s->data.stage_len)
        return;
    if (s->data.crc_known)
        s->data.crc = dk_crc32(s->data.crc, s->data.stage, s->data.stage_len);
    s->data.stage_len = 0;
}

/* The run's CRC is filled in while it still describes data.off. */
void sess_settle(dk_session *s)
{
    sess_sync_crc(s);
    /* Once: after a report the tracker may take the target's CRC, which is
     * not the CRC of the bytes the run sent. */
    if (s->wr.run_on && !s->wr.run.u.run.crc_known && s->wr.run.u.run.obj_type == DK_OBJ_DATA &&
        s->wr.run.image == s->img.index && s->wr.run.u.run.off_end == s->data.off &&
        s->data.crc_known && s->data.seen) {
        s->wr.run.u.run.crc_end = s->data.crc;
        s->wr.run.u.run.crc_known = true;
    }
}

void sess_flush_run(dk_session *s)
{
    if (!s->wr.run_on)
        return;
    sess_settle(s);
    s->wr.run_on = false;
    s->cb(s->ctx, &s->wr.run);
}

void sess_emit(dk_session *s, dk_event *ev)
{
    if (ev->kind != DK_EV_WRITE && ev->kind != DK_EV_PRN)
        sess_flush_run(s);
    ev->image = s->img.index;
    s->cb(s->ctx, ev);
}

void sess_event_head(dk_event *ev, dk_ev_kind kind, int64_t t, uint64_t start, uint64_t end,
                     dk_dir dir)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->t_us = t;
    ev->start = start;
    ev->end = end;
    ev->dir = dir;
}

/* An anomaly about bytes [start, end) of line dir at time t.  It sorts (ev
 * time, position, line) where it was found, or with the exchange `at` when
 * it explains that exchange's line. */
static void vnote(dk_session *s, const pending *at, dk_anomaly_id id, int64_t t, dk_dir dir,
                  uint64_t start, uint64_t end, uint8_t op, const char *fmt, va_list ap)
{
    dk_event ev;
    if (at)
        sess_event_head(&ev, DK_EV_ANOMALY, at->t, at->start, at->end, DK_DIR_HOST);
    else
        sess_event_head(&ev, DK_EV_ANOMALY, t, start, end, dir);
    dk_anomaly *a = &ev.u.an;
    a->id = id;
    a->severity = dk_anomaly_severity(id);
    a->dir = dir;
    a->start = start;
    a->end = end;
    a->op = op;
    if (s->an.set) {
        s->an.set = false;
        a->result = s->an.result;
        a->has_ext = s->an.has_ext;
        a->ext = s->an.ext;
    }
    vsnprintf(a->text, sizeof a->text, fmt, ap);
    s->sum.anomalies++;
    if ((unsigned)id < DK_AN_COUNT)
        s->sum.an_count[id]++;
    sess_emit(s, &ev);
}

void sess_note_op(dk_session *s, dk_anomaly_id id, int64_t t, dk_dir dir, uint64_t start,
                  uint64_t end, uint8_t op, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vnote(s, NULL, id, t, dir, start, end, op, fmt, ap);
    va_end(ap);
}

void sess_note_in(dk_session *s, const pending *p, dk_anomaly_id id, int64_t t, uint64_t start,
                  uint64_t end, uint8_t op, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vnote(s, p, id, t, DK_DIR_TARGET, start, end, op, fmt, ap);
    va_end(ap);
}

void dk_session_note(dk_session *s, dk_anomaly_id id, int64_t t_us, dk_dir dir, uint64_t start,
                     uint64_t end, const char *fmt, ...)
{
    s->stream_ok = false;
    va_list ap;
    va_start(ap, fmt);
    vnote(s, NULL, id, t_us, dir, start, end, 0, fmt, ap);
    va_end(ap);
}

/* ---- entry points -------------------------------------------------------- */

/* A message at time t: first and last times, and a gap across a closed
 * port left out of the transfer time. */
static inline void seen_at(dk_session *s, int64_t t)
{
    if (t < 0)
        return;
    if (s->sum.t_first < 0) {
        s->sum.t_first = t;
    } else if (s->port.gap) {
        s->port.gap = false;
        if (t > s->sum.t_last)
            s->port.closed_us += t - s->sum.t_last;
    }
    s->sum.t_last = t;
}

void sess_port_flush(dk_session *s, unsigned n)
{
    if (n > s->port.n)
        n = s->port.n;
    for (unsigned i = 0; i < n; i++)
        sess_emit(s, &s->port.held[i]);
    s->port.n -= n;
    memmove(s->port.held, s->port.held + n, s->port.n * sizeof s->port.held[0]);
}

void dk_session_port(dk_session *s, int64_t t_us, bool open, uint64_t pos)
{
    s->stream_ok = false;
    int was = s->port.state;
    s->port.state = open;
    if (was < 0 || was == (int)open)
        return;
    dk_event ev;
    sess_event_head(&ev, DK_EV_PORT, t_us, pos, pos, DK_DIR_UNKNOWN);
    ev.u.port.open = open;
    ev.u.port.closed_us =
        open && s->port.t_closed >= 0 && t_us >= s->port.t_closed ? t_us - s->port.t_closed : -1;
    if (!open) {
        s->port.t_closed = t_us;
        s->port.gap = s->sum.t_first >= 0;
    }
    if (!s->pair.req) {
        sess_emit(s, &ev);
        return;
    }
    if (s->port.n == sizeof s->port.held / sizeof s->port.held[0])
        sess_port_flush(s, 1);
    s->port.held[s->port.n++] = ev;
}

void sess_process(dk_session *s, const dk_msg *m, int64_t t, uint64_t start, uint64_t end)
{
    seen_at(s, t);
    s->at.t = t;
    s->at.start = start;
    s->at.end = end;
    if (m->is_response)
        sess_on_response(s, m, t, start, end);
    else
        sess_on_request(s, m, t, start, end);
    if (s->port.n && !s->pair.req)
        sess_port_flush(s, s->port.n);
}

void dk_session_msg(dk_session *s, const dk_msg *m, int64_t t_us, dk_dir dir, uint64_t start,
                    uint64_t end)
{
    s->stream_ok = false;
    (void)dir;
    sess_process(s, m, t_us, start, end);
}

/* The bulk of every capture: a data write that continues the current run
 * inside the open data object, with nothing to flag, no PRN falling due, no
 * resume to resolve and no per-write event wanted.  Does exactly what
 * sess_on_write() does in that case, with a fraction of the work; false: not that
 * case, call sess_on_write().  (tests/lib/test_session.c runs every scenario with
 * and without this path and compares the events.) */
static inline bool write_streaming(dk_session *s, const uint8_t *data, size_t len, int64_t t,
                                   uint64_t end)
{
    dk_writes *r = &s->wr.run.u.run;
    /* What only other events change is checked once (stream_ok is cleared
     * by every entry point but this path). */
    if (!s->stream_ok) {
        if (s->sel != DK_OBJ_DATA || s->wr.events || s->wr.crc || s->resume.on || !s->wr.run_on ||
            r->obj_type != DK_OBJ_DATA || r->off_end != s->data.off ||
            s->wr.run.image != s->img.index || !s->data.open || !s->data.crc_known || !s->img.sum ||
            s->img.index == 0 || s->img.done ||
            (!s->data.flagged && (s->init.state == INIT_NONE || s->init.state == INIT_REJECTED)))
            return false;
        s->stream_ok = true;
    }
    uint64_t off_end = (uint64_t)s->data.off + len;
    if (off_end > (uint64_t)s->data.start + s->data.size || len > STAGE - s->data.stage_len ||
        (s->prn.every && s->prn.count + 1 >= s->prn.every))
        return false;
    s->sum.writes++;
    s->img.active = true;
    memcpy(s->data.stage + s->data.stage_len, data, len);
    s->data.stage_len += len;
    s->data.off = (uint32_t)off_end;
    s->sum.bytes_data += len;
    s->img.sum->bytes_sent += len;
    if (s->data.off > s->img.sum->offset)
        s->img.sum->offset = s->data.off;
    if (s->prn.every)
        s->prn.count++;
    r->count++;
    r->bytes += len;
    r->off_end = s->data.off;
    r->crc_end = s->data.crc;
    r->crc_known = s->data.seen && s->data.stage_len == 0;
    r->t_last = t;
    s->wr.run.end = end;
    return true;
}

void dk_session_frame(dk_session *s, const uint8_t *frame, size_t len, bool first, int64_t t_us,
                      dk_dir dir, uint64_t start, uint64_t end)
{
    s->sum.frames++;
    /* Hot path: a WRITE from the host (any payload parses as one). */
    if (len > 0 && frame[0] == DK_OP_OBJECT_WRITE && dir != DK_DIR_TARGET) {
        seen_at(s, t_us);
        s->sum.requests++;
        if (write_streaming(s, frame + 1, len - 1, t_us, end))
            return;
        s->stream_ok = false;
        sess_on_write(s, frame + 1, len - 1, t_us, start, end);
        return;
    }
    s->stream_ok = false;
    sess_frame_parse(s, frame, len, first, t_us, dir, start, end);
}

void dk_session_slip(dk_session *s, const dk_slip_event *ev, int64_t t_us, dk_dir dir)
{
    /* Bytes of the line; the span may also cover capture headers. */
    unsigned long long line = ev->raw_len ? ev->raw_len : ev->end - ev->start;
    if (ev->kind != DK_SLIP_FRAME)
        s->stream_ok = false;
    switch (ev->kind) {
    case DK_SLIP_FRAME:
        dk_session_frame(s, ev->data, ev->len, ev->first, t_us, dir, ev->start, ev->end);
        break;
    case DK_SLIP_EMPTY:
        sess_note_op(s, DK_AN_SLIP_EMPTY_FRAME, t_us, dir, ev->start, ev->end, 0,
                     "END with nothing before it");
        break;
    case DK_SLIP_BAD_ESCAPE:
        sess_note_op(s, DK_AN_SLIP_BAD_ESCAPE, t_us, dir, ev->start, ev->end, 0,
                     "ESC at %llu not followed by DC/DD: %llu bytes dropped",
                     (unsigned long long)(ev->bad_at ? ev->bad_at - 1 : 0), line);
        break;
    case DK_SLIP_TOO_LONG:
        sess_note_op(s, DK_AN_SLIP_TOO_LONG, t_us, dir, ev->start, ev->end, 0,
                     "frame of %llu bytes dropped", line);
        break;
    case DK_SLIP_UNTERMINATED:
        sess_note_op(s, DK_AN_SLIP_UNTERMINATED, t_us, dir, ev->start, ev->end, 0,
                     "%llu bytes without END at the end of the capture", line);
        break;
    }
}
