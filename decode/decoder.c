/* decoder.c - line bytes -> SLIP units -> session -> printer (see decoder.h). */
#include "decoder.h"

#include <stdlib.h>

#include "print.h"

/* ---- SLIP units ------------------------------------------------------ */

struct dd_units {
    dk_slip_dec dec[3]; /* by dk_dir */
    uint8_t buf[3][DD_FRAME_CAP];
    int64_t t_line[3];  /* time of each line's last chunk */
    /* the chunk being cut */
    const uint8_t *p;
    size_t len, used;
    dk_dir dir;
    int64_t t;
    int flushed;
};

dd_units *dd_units_new(void)
{
    dd_units *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    for (int i = 0; i < 3; i++) {
        dk_slip_dec_init(&u->dec[i], u->buf[i], DD_FRAME_CAP);
        u->t_line[i] = -1;
    }
    return u;
}

void dd_units_free(dd_units *u)
{
    free(u);
}

void dd_units_put(dd_units *u, int64_t t_us, dk_dir dir, const uint8_t *data, size_t len,
                  uint64_t pos)
{
    if ((unsigned)dir > DK_DIR_TARGET)
        dir = DK_DIR_UNKNOWN;
    u->p = data;
    u->len = len;
    u->used = 0;
    u->dir = dir;
    u->t = t_us;
    u->t_line[dir] = t_us;
    dk_slip_dec_set_pos(&u->dec[dir], pos);
}

/* The next event of the chunk from its line's deframer. */
static inline bool next_event(dd_units *u, dk_slip_event *ev)
{
    if (u->used == u->len)
        return false;
    size_t k;
    bool got = dk_slip_dec_next(&u->dec[u->dir], u->p + u->used, u->len - u->used, &k, ev);
    u->used += k;
    return got;
}

bool dd_units_next(dd_units *u, dd_unit *out)
{
    if (!next_event(u, &out->ev))
        return false;
    out->dir = u->dir;
    out->t_us = u->t;
    return true;
}

bool dd_units_flush(dd_units *u, dd_unit *out)
{
    while (u->flushed < 3) {
        int i = u->flushed++;
        if (dk_slip_dec_eof(&u->dec[i], &out->ev)) {
            out->dir = (dk_dir)i;
            out->t_us = u->t_line[i];
            return true;
        }
    }
    return false;
}

/* ---- the decoder ----------------------------------------------------- */

struct dd_decoder {
    printer pr;
    dk_session *s;
    dd_units *u;
    bool lines_known;
    bool dtr;           /* the capture's DTR: the host has the port open */
    bool finished;
    dk_diag_facts facts;
    dk_scen_builder *scen;
    const dk_diag_row *diag;
    dk_logrd_stats log;
    uint64_t log_notes;
};

/* Between the session and the printer: facts and the scenario builder see
 * every event; the summary goes out with the diagnosis the facts pick. */
static void on_event(void *ctx, const dk_event *ev)
{
    dd_decoder *d = ctx;
    dk_diag_facts_event(&d->facts, ev);
    if (d->scen)
        dk_scen_builder_event(d->scen, ev);
    if (ev->kind != DK_EV_SUMMARY) {
        printer_event(&d->pr, ev);
        return;
    }
    dk_summary sum = *ev->u.sum;
    sum.diag = d->diag = dk_diag_pick_facts(&sum, &d->facts);
    dk_event e = *ev;
    e.u.sum = &sum;
    printer_event(&d->pr, &e);
}

dd_decoder *dd_decoder_new(FILE *out, const dd_opts *o)
{
    dd_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    printer_init(&d->pr, out, o->json, o->verbose);
    d->pr.split = o->split;
    d->pr.pkg = o->pkg;
    dk_diag_facts_init(&d->facts);
    d->pr.facts = &d->facts;
    d->s = dk_session_new(on_event, d);
    d->u = dd_units_new();
    if (!d->s || !d->u) {
        dd_decoder_free(d);
        return NULL;
    }
    /* Per-write CRCs and events cost time: only -v and --pkg use them. */
    dk_session_write_crc(d->s, o->verbose);
    dk_session_write_events(d->s, o->verbose || o->pkg);
    return d;
}

void dd_decoder_free(dd_decoder *d)
{
    if (!d)
        return;
    dk_session_free(d->s);
    dd_units_free(d->u);
    free(d);
}

dk_session *dd_decoder_session(dd_decoder *d)
{
    return d->s;
}

void dd_decoder_unit(dd_decoder *d, const dd_unit *u)
{
    dk_session_slip(d->s, &u->ev, u->t_us, u->dir);
}

void dd_decoder_bytes(dd_decoder *d, int64_t t_us, dk_dir dir, const uint8_t *data, size_t len,
                      uint64_t pos)
{
    dd_units *u = d->u;
    dd_units_put(u, t_us, dir, data, len, pos);
    dk_slip_event ev;
    while (next_event(u, &ev)) {
        if (ev.kind == DK_SLIP_FRAME)
            dk_session_frame(d->s, ev.data, ev.len, ev.first, u->t, u->dir, ev.start, ev.end);
        else
            dk_session_slip(d->s, &ev, u->t, u->dir);
    }
}

void dd_decoder_chunk(dd_decoder *d, const dk_chunk *c)
{
    /* Every packet carries the control lines; STATUS packets change them.
     * The host drops DTR when it closes the port. */
    bool dtr = (c->lines & DK_LINE_DTR) != 0;
    if (!d->lines_known || dtr != d->dtr) {
        d->lines_known = true;
        d->dtr = dtr;
        dk_session_port(d->s, c->t_us, dtr, c->file_off);
    }
    if (c->event == DK_CAP_EV_LOST) {
        dk_session_note(d->s, DK_AN_CAP_DATA_LOST, c->t_us, c->dir, c->file_off, c->file_off,
                        "the capture tool lost data here");
        return;
    }
    if (c->len)
        dd_decoder_bytes(d, c->t_us, c->dir, c->data, c->len, c->data_off);
}

void dd_decoder_frame(dd_decoder *d, int64_t t_us, dk_dir dir, const uint8_t *frame, size_t len,
                      uint64_t start, uint64_t end)
{
    dk_session_frame(d->s, frame, len, false, t_us, dir, start, end);
}

void dd_decoder_finish(dd_decoder *d)
{
    if (d->finished)
        return;
    d->finished = true;
    dd_unit un;
    while (dd_units_flush(d->u, &un))
        dk_session_slip(d->s, &un.ev, un.t_us, un.dir);
    dk_session_finish(d->s);
    if (d->pr.pkg)
        pkgcheck_report(d->pr.pkg, &d->pr);
}

const dk_summary *dd_decoder_summary(const dd_decoder *d)
{
    return dk_session_summary(d->s);
}

void dd_decoder_record(dd_decoder *d, const dk_logrec *rec)
{
    switch (rec->kind) {
    case DK_LR_MSG:
        dk_session_frame(d->s, rec->data, rec->len, false, rec->t_us, rec->dir, rec->off,
                         rec->off + rec->line_len);
        break;
    case DK_LR_RAW:
        dd_decoder_bytes(d, rec->t_us, rec->dir, rec->data, rec->len, rec->off);
        break;
    case DK_LR_TOOL:
        dk_diag_facts_tool(&d->facts, rec->tool);
        d->pr.log_tool = dk_log_format_name(rec->fmt);
        printer_tool(&d->pr, rec->t_us, rec->off, rec->line, rec->tool);
        break;
    case DK_LR_UNKNOWN:
    case DK_LR_LONG:
    case DK_LR_CUT:
        if (rec->kind == DK_LR_UNKNOWN && rec->text)
            dk_diag_facts_text(&d->facts, rec->text, rec->text_len);
        if (d->log_notes++ < DD_LOG_NOTES || rec->kind == DK_LR_CUT)
            printer_logline(&d->pr, rec);
        break;
    }
}

void dd_decoder_log_done(dd_decoder *d, const dk_logrd_stats *st)
{
    d->log = *st;
    d->pr.log = &d->log;
}

void dd_decoder_scenario(dd_decoder *d, dk_scen_builder *b)
{
    d->scen = b;
}

const dk_diag_facts *dd_decoder_facts(const dd_decoder *d)
{
    return &d->facts;
}

const dk_diag_row *dd_decoder_diag(const dd_decoder *d)
{
    return d->diag;
}
