/* print.c - transcript and JSON Lines printers for session events. */
#include "print.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <string.h>

#include "dfukit/diag.h"
#include "dfukit/tables.h"
#include "pkgcheck.h"

#define INDENT "             "

void printer_init(printer *p, FILE *f, bool json, bool verbose)
{
    memset(p, 0, sizeof *p);
    p->f = f;
    p->json = json;
    p->verbose = verbose;
    p->t0 = -1;
}

static const char *obj_name(uint8_t t)
{
    return t == DK_OBJ_COMMAND ? "command" : t == DK_OBJ_DATA ? "data" : "invalid";
}

/* ---- line builder ---------------------------------------------------
 * Transcript lines are built by hand and written with one fwrite: printf's
 * format parsing cost more than all the rest of the decoder's per-line work.
 * A line that would not fit is cut (never overrun). */

#define LINE_CAP 1024

typedef struct {
    char b[LINE_CAP];
    size_t n;
} line;

static void put_mem(line *l, const char *s, size_t n)
{
    if (n > LINE_CAP - 1 - l->n) /* room for the '\n' */
        n = LINE_CAP - 1 - l->n;
    memcpy(l->b + l->n, s, n);
    l->n += n;
}

static void put(line *l, const char *s)
{
    put_mem(l, s, strlen(s));
}

static void put_u64(line *l, uint64_t v)
{
    char d[20];
    size_t i = sizeof d;
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_mem(l, d + i, sizeof d - i);
}

static void put_spaces(line *l, size_t n)
{
    if (n > LINE_CAP - 1 - l->n)
        n = LINE_CAP - 1 - l->n;
    memset(l->b + l->n, ' ', n);
    l->n += n;
}

/* "0x%08x" */
static void put_hex32(line *l, uint32_t v)
{
    char d[10] = { '0', 'x' };
    for (int i = 0; i < 8; i++)
        d[9 - i] = "0123456789abcdef"[(v >> (4 * i)) & 15];
    put_mem(l, d, sizeof d);
}

/* v / 10^dec with exactly dec decimals (dec 3 or 6), right-aligned in
 * width: "%*.6f" of microseconds as seconds, "%.3f" as milliseconds,
 * without a double.  Built backwards in a small buffer. */
static void put_fixed_w(line *l, int64_t v, unsigned dec, size_t width)
{
    char b[32];
    size_t i = sizeof b;
    uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    uint64_t scale = dec == 6 ? 1000000 : 1000;
    uint64_t whole = m / scale, frac = m % scale;
    for (unsigned k = 0; k < dec; k++) {
        b[--i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    b[--i] = '.';
    do {
        b[--i] = (char)('0' + whole % 10);
        whole /= 10;
    } while (whole);
    if (v < 0)
        b[--i] = '-';
    put_spaces(l, sizeof b - i < width ? width - (sizeof b - i) : 0);
    put_mem(l, b + i, sizeof b - i);
}

static void put_fixed(line *l, int64_t v, unsigned dec)
{
    put_fixed_w(l, v, dec, 0);
}

static void line_out(printer *p, line *l)
{
    l->b[l->n++] = '\n';
    fwrite(l->b, 1, l->n, p->f);
    l->n = 0;
}

/* ---- text ----------------------------------------------------------- */

/* The first column: seconds since the first timed event (right-aligned in
 * 11), or "@" and the byte offset (with two files: "@h"/"@t", the file of
 * the line named by dir).  13 columns either way, like INDENT. */
static void stamp(printer *p, line *l, int64_t t, uint64_t pos, dk_dir dir)
{
    if (t >= 0 && p->t0 < 0)
        p->t0 = t;
    size_t from = l->n;
    if (t >= 0) {
        put_fixed_w(l, t - p->t0, 6, 11);
    } else {
        put_mem(l, "@", 1);
        if (p->split)
            put_mem(l, dir == DK_DIR_TARGET ? "t" : "h", 1);
        put_u64(l, pos);
        size_t w = l->n - from;
        put_spaces(l, w < 11 ? 11 - w : 0);
    }
    put_mem(l, "  ", 2);
}

static void put_obj(line *l, uint8_t t)
{
    put(l, t == DK_OBJ_COMMAND ? "command" : t == DK_OBJ_DATA ? "data" : "invalid");
}

/* A request as dk_msg_describe() words it: "OBJECT_CREATE type=DATA size=4096". */
static void put_req(line *l, const dk_msg *m)
{
    char b[DK_NAME_BUFSZ];
    put(l, dk_op_str(m->op, b));
    switch (m->op) {
    case DK_OP_OBJECT_CREATE:
        put(l, " type=");
        put(l, dk_obj_str(m->req.create.type, b));
        put(l, " size=");
        put_u64(l, m->req.create.size);
        break;
    case DK_OP_RECEIPT_NOTIF_SET:
        put(l, " prn=");
        put_u64(l, m->req.prn.target);
        break;
    case DK_OP_OBJECT_SELECT:
        put(l, " type=");
        put(l, dk_obj_str(m->req.select.type, b));
        break;
    case DK_OP_OBJECT_WRITE:
        put(l, " len=");
        put_u64(l, m->req.write.len);
        break;
    case DK_OP_PING:
        put(l, " id=");
        put_u64(l, m->req.ping.id);
        break;
    case DK_OP_FIRMWARE_VERSION:
        put(l, " image=");
        put_u64(l, m->req.fw.image);
        break;
    default:
        break;
    }
}

/* A response as dk_msg_describe() words it after "OP -> ":
 * "SUCCESS offset=69 crc=0x11c1d083", "EXT_ERROR SD_VERSION_FAILURE". */
static void put_rsp(line *l, const dk_msg *m)
{
    char b[DK_NAME_BUFSZ];
    if (m->result == DK_RES_EXT_ERROR) {
        put(l, "EXT_ERROR ");
        put(l, dk_ext_str(m->ext, b));
        return;
    }
    put(l, dk_result_str(m->result, b));
    if (m->result != DK_RES_SUCCESS)
        return;
    switch (m->op) {
    case DK_OP_PROTOCOL_VERSION:
        put(l, " version=");
        put_u64(l, m->rsp.proto.version);
        break;
    case DK_OP_CRC_GET:
        put(l, " offset=");
        put_u64(l, m->rsp.crc.offset);
        put(l, " crc=");
        put_hex32(l, m->rsp.crc.crc);
        break;
    case DK_OP_OBJECT_SELECT:
        put(l, " max_size=");
        put_u64(l, m->rsp.select.max_size);
        put(l, " offset=");
        put_u64(l, m->rsp.select.offset);
        put(l, " crc=");
        put_hex32(l, m->rsp.select.crc);
        break;
    case DK_OP_MTU_GET:
        put(l, " mtu=");
        put_u64(l, m->rsp.mtu.mtu);
        break;
    case DK_OP_PING:
        put(l, " id=");
        put_u64(l, m->rsp.ping.id);
        break;
    case DK_OP_HARDWARE_VERSION:
        put(l, " part=");
        put_hex32(l, m->rsp.hw.part);
        put(l, " variant=");
        put_hex32(l, m->rsp.hw.variant);
        put(l, " rom_size=");
        put_u64(l, m->rsp.hw.rom_size);
        put(l, " ram_size=");
        put_u64(l, m->rsp.hw.ram_size);
        put(l, " page=");
        put_u64(l, m->rsp.hw.rom_page_size);
        break;
    case DK_OP_FIRMWARE_VERSION: {
        static const char *const types[] = { "SOFTDEVICE", "APPLICATION", "BOOTLOADER" };
        uint8_t t = m->rsp.fw.type;
        put(l, " type=");
        if (t < 3) {
            put(l, types[t]);
        } else if (t == 0xFF) {
            put(l, "UNKNOWN");
        } else {
            put(l, "unknown(0x");
            put_mem(l, &"0123456789abcdef"[t >> 4], 1);
            put_mem(l, &"0123456789abcdef"[t & 15], 1);
            put(l, ")");
        }
        put(l, " version=");
        put_u64(l, m->rsp.fw.version);
        put(l, " addr=");
        put_hex32(l, m->rsp.fw.addr);
        put(l, " len=");
        put_u64(l, m->rsp.fw.len);
        break;
    }
    default:
        break;
    }
}

static void put_check(line *l, dk_check c, uint32_t eo, uint32_t ec)
{
    switch (c) {
    case DK_CHECK_OK:
        put(l, "  [matches the bytes sent]");
        break;
    case DK_CHECK_CRC_BAD:
        put(l, "  [CRC MISMATCH: sent bytes give ");
        put_hex32(l, ec);
        put(l, "]");
        break;
    case DK_CHECK_OFFSET_BAD:
        put(l, "  [OFFSET DIFFERS: ");
        put_u64(l, eo);
        put(l, " bytes were sent]");
        break;
    default:
        break;
    }
}

static void text_exchange(printer *p, const dk_event *ev)
{
    const dk_exchange *x = &ev->u.x;
    line l;
    l.n = 0;
    if (!x->has_req) {
        char b[DK_NAME_BUFSZ];
        stamp(p, &l, x->t_rsp, x->rsp_start, DK_DIR_TARGET);
        put(&l, "<-- ");
        put(&l, dk_op_str(x->rsp.op, b));
        put(&l, " -> ");
        put_rsp(&l, &x->rsp);
        line_out(p, &l);
        return;
    }
    stamp(p, &l, x->t_req, x->req_start, DK_DIR_HOST);
    put(&l, "--> ");
    put_req(&l, &x->req);
    if (!x->has_rsp) {
        put(&l, dk_msg_expects_response(x->req.op) ? "  (no response)" : "  (no response expected)");
        line_out(p, &l);
        return;
    }
    put(&l, "  <-- ");
    put_rsp(&l, &x->rsp);
    put_check(&l, x->check, x->exp_offset, x->exp_crc);
    if (x->late)
        put(&l, "  [late]");
    if (x->latency_us >= 0) {
        put(&l, "  (");
        put_fixed(&l, x->latency_us, 3);
        put(&l, " ms)");
    }
    line_out(p, &l);
}

/* The host's last word and a Programmer failure (host logs). */
static void text_host(printer *p, const dk_summary *s)
{
    (void)s;
    const dk_diag_facts *fa = p->facts;
    if (!fa)
        return;
    if (fa->has_exc)
        fprintf(p->f, "  host:       %s: %s\n", fa->exc_class[0] ? fa->exc_class : dk_nx_name(fa->exc),
                fa->exc_text);
    if (fa->prog_error) {
        fprintf(p->f, "  programmer: %s\n", fa->prog_text);
        const char *n = fa->prog_has_code ? dk_progjs_err_name(fa->prog_code) : NULL;
        if (fa->prog_has_code)
            fprintf(p->f, "              error code %d %s: %s\n", fa->prog_code, n ? n : "(unknown)",
                    n ? dk_progjs_err_hint(fa->prog_code) : "not in the table");
        n = fa->prog_has_lowlevel ? dk_jprog_err_name(fa->prog_lowlevel) : NULL;
        if (fa->prog_has_lowlevel)
            fprintf(p->f, "              low-level error %d %s: %s\n", (int)fa->prog_lowlevel,
                    n ? n : "(unknown)", n ? dk_jprog_err_hint(fa->prog_lowlevel) : "not in the table");
    }
}

/* How far a log was understood. */
static void text_log(printer *p)
{
    const dk_logrd_stats *st = p->log;
    if (!st)
        return;
    fprintf(p->f, "  log:        %s, %" PRIu64 " lines, %" PRIu64 " understood", dk_log_format_name(st->fmt),
            st->lines, st->understood);
    if (!st->unknown && !st->long_lines && !st->cut) {
        fprintf(p->f, "; all understood\n");
        return;
    }
    if (st->first_unknown)
        fprintf(p->f, "; stopped understanding at line %" PRIu64, st->first_unknown);
    if (st->unknown)
        fprintf(p->f, "; %" PRIu64 " line%s not understood", st->unknown, st->unknown == 1 ? "" : "s");
    if (st->long_lines)
        fprintf(p->f, "; %" PRIu64 " too long", st->long_lines);
    if (st->cut)
        fprintf(p->f, "; cut off at the end");
    if (st->last_understood)
        fprintf(p->f, "; last line understood: %" PRIu64, st->last_understood);
    fputc('\n', p->f);
}

/* The rest of the outcome line: " of SIZE", the object left open. */
static void stop_where(FILE *f, const dk_summary *s)
{
    if (s->stop_size)
        fprintf(f, " of %" PRIu32, s->stop_size);
    if (s->stop_open)
        fprintf(f, " (object [%" PRIu32 ", %" PRIu32 ") not executed)", s->stop_open_start,
                s->stop_open_end);
    fputc('\n', f);
}

static void text_summary(printer *p, const dk_summary *s)
{
    char b[DK_NAME_BUFSZ], b2[DK_NAME_BUFSZ];
    FILE *f = p->f;
    fprintf(f, "summary:\n");
    fprintf(f, "  images:     %u\n", s->n_images);
    for (unsigned i = 0; i < s->n_images && i < DK_SESSION_MAX_IMAGES; i++) {
        const dk_image_sum *m = &s->img[i];
        fprintf(f, "    %u: %s", m->index, m->has_type ? dk_fw_str(m->fw_type, b) : "type unknown");
        if (m->size)
            fprintf(f, ", %" PRIu32 " bytes", m->size);
        fprintf(f, ", sent %" PRIu64 ", reached %" PRIu32 ", %s%s\n", m->bytes_sent, m->offset,
                m->completed ? "completed"
                : m->failed  ? "failed"
                             : "not completed",
                m->restart ? " (restart of the image before)" : "");
    }
    fprintf(f, "  bytes:      %" PRIu64 " written (%" PRIu64 " firmware, %" PRIu64
               " init packet) in %" PRIu64 " writes\n",
            s->bytes_data + s->bytes_cmd, s->bytes_data, s->bytes_cmd, s->writes);
    if (s->duration_s < 0)
        fprintf(f, "  duration:   unknown (no timestamps)\n");
    else if (s->closed_s > 0)
        fprintf(f, "  duration:   %.3f s (%.3f s of it with the port closed)\n", s->duration_s,
                s->closed_s);
    else
        fprintf(f, "  duration:   %.3f s\n", s->duration_s);
    if (s->throughput_Bps < 0)
        fprintf(f, "  throughput: unknown\n");
    else
        fprintf(f, "  throughput: %.0f bytes/s%s\n", s->throughput_Bps,
                s->closed_s > 0 ? " (while the port was open)" : "");
    fprintf(f, "  resumes:    %u (restarts: %u)\n", s->resumes, s->restarts);
    fprintf(f, "  frames:     %" PRIu64 " (%" PRIu64 " requests, %" PRIu64 " responses)\n",
            s->frames, s->requests, s->responses);
    fprintf(f, "  anomalies:  %u", s->anomalies);
    bool first = true;
    for (int i = 0; i < DK_AN_COUNT; i++) {
        if (!s->an_count[i])
            continue;
        fprintf(f, "%s%s x%u", first ? " (" : ", ", dk_anomaly_name((dk_anomaly_id)i),
                s->an_count[i]);
        first = false;
    }
    fprintf(f, "%s\n", first ? "" : ")");
    fprintf(f, "  outcome:    ");
    dk_diag_failure eff;
    dk_diag_effective(s, p->facts, &eff);
    if (eff.from_tool) {
        fprintf(f, "failed with error %s", dk_result_str((unsigned)eff.result, b));
        if (eff.ext >= 0)
            fprintf(f, " %s (0x%02x)", dk_ext_str((unsigned)eff.ext, b2), (unsigned)eff.ext);
        if (eff.op >= 0)
            fprintf(f, " on %s (%s)", dk_op_str((unsigned)eff.op, b2), dk_stage_name(eff.stage));
        fprintf(f, ", as the host's log reports it\n");
    } else switch (s->outcome) {
    case DK_OUTCOME_COMPLETED:
        fprintf(f, "completed\n");
        break;
    case DK_OUTCOME_INTERRUPTED:
        fprintf(f, "%s at %s offset %" PRIu32,
                s->stop_check == DK_CHECK_CRC_BAD      ? "stopped after a CRC mismatch"
                : s->stop_check == DK_CHECK_OFFSET_BAD ? "stopped after an offset mismatch"
                                                       : "interrupted",
                obj_name(s->stop_obj), s->stop_offset);
        stop_where(f, s);
        break;
    case DK_OUTCOME_FAILED:
        fprintf(f, "failed with error %s", dk_result_str(s->fail_result, b));
        if (s->fail_has_ext)
            fprintf(f, " %s (0x%02x)", dk_ext_str(s->fail_ext, b2), (unsigned)s->fail_ext);
        fprintf(f, " on %s (%s)", dk_op_str(s->fail_op, b2), dk_stage_name(s->fail_stage));
        fprintf(f, " at %s offset %" PRIu32, obj_name(s->stop_obj), s->stop_offset);
        stop_where(f, s);
        break;
    case DK_OUTCOME_NO_RESPONSE:
        fprintf(f, "failed: the target never answered\n");
        break;
    default:
        fprintf(f, "no DFU messages\n");
        break;
    }
    text_host(p, s);
    if (s->diag) {
        fprintf(f, "  diagnosis:  %s [%s]\n", s->diag->explain, s->diag->id);
        fprintf(f, "  try:        %s\n", s->diag->try_);
    }
    text_log(p);
}

static void text_anomaly(printer *p, const dk_event *ev)
{
    const dk_anomaly *a = &ev->u.an;
    line l;
    l.n = 0;
    stamp(p, &l, ev->t_us, ev->start, ev->dir);
    put(&l, "!! ");
    put(&l, dk_severity_name(a->severity));
    put(&l, " ");
    put(&l, dk_anomaly_name(a->id));
    put(&l, ": ");
    put(&l, a->text);
    /* With two files, name the one the bytes are in (the stamp may be the
     * exchange's, in the host file). */
    put(&l, !p->split                   ? " [bytes "
            : a->dir == DK_DIR_TARGET ? " [target bytes "
            : a->dir == DK_DIR_HOST   ? " [host bytes "
                                      : " [bytes ");
    put_u64(&l, a->start);
    put(&l, "..");
    put_u64(&l, a->end);
    put(&l, "]");
    line_out(p, &l);
    const char *h = a->id == DK_AN_DFU_EXT_ERROR ? dk_ext_hint(a->ext) : NULL;
    if (h) {
        put(&l, INDENT "   try: ");
        put(&l, h);
        line_out(p, &l);
    }
}

static void text_event(printer *p, const dk_event *ev)
{
    char b[DK_NAME_BUFSZ];
    line l;
    l.n = 0;
    switch (ev->kind) {
    case DK_EV_EXCHANGE:
        text_exchange(p, ev);
        break;
    case DK_EV_WRITE: {
        if (!p->verbose)
            break;
        const dk_write *w = &ev->u.w;
        stamp(p, &l, ev->t_us, ev->start, ev->dir);
        put(&l, "--> OBJECT_WRITE len=");
        put_u64(&l, w->len);
        put(&l, " ");
        put_obj(&l, w->obj_type);
        put(&l, " [");
        put_u64(&l, w->offset);
        put(&l, ", ");
        put_u64(&l, w->offset + (uint32_t)w->len);
        put(&l, ")");
        if (w->crc_known) {
            put(&l, " crc=");
            put_hex32(&l, w->crc);
        }
        line_out(p, &l);
        break;
    }
    case DK_EV_WRITES: {
        if (p->verbose)
            break;
        const dk_writes *r = &ev->u.run;
        stamp(p, &l, r->t_first, ev->start, ev->dir);
        put(&l, "--> OBJECT_WRITE x");
        put_u64(&l, r->count);
        put(&l, ": ");
        put_u64(&l, r->bytes);
        put(&l, " bytes ");
        put_obj(&l, r->obj_type);
        put(&l, " [");
        put_u64(&l, r->off_start);
        put(&l, ", ");
        put_u64(&l, r->off_end);
        put(&l, ")");
        if (r->crc_known) {
            put(&l, " crc=");
            put_hex32(&l, r->crc_end);
        }
        if (r->prn_ok || r->prn_bad) {
            put(&l, "  <-- PRN x");
            put_u64(&l, r->prn_ok + r->prn_bad);
            put(&l, r->prn_bad ? " (some differ)" : " ok");
        }
        line_out(p, &l);
        break;
    }
    case DK_EV_PRN: {
        if (!p->verbose)
            break;
        const dk_prn *n = &ev->u.prn;
        stamp(p, &l, ev->t_us, ev->start, ev->dir);
        put(&l, "<-- PRN (CRC_GET) ");
        if (n->result == DK_RES_SUCCESS) {
            put_obj(&l, n->obj_type);
            put(&l, " offset=");
            put_u64(&l, n->offset);
            put(&l, " crc=");
            put_hex32(&l, n->crc);
            put_check(&l, n->check, n->exp_offset, n->exp_crc);
        } else {
            put(&l, dk_result_str(n->result, b));
        }
        line_out(p, &l);
        break;
    }
    case DK_EV_INIT: {
        const dk_init_ev *iv = &ev->u.init;
        put(&l, INDENT "init packet: ");
        put_u64(&l, iv->len);
        put(&l, " bytes, crc=");
        put_hex32(&l, iv->crc);
        if (!iv->ok)
            put(&l, ", does not decode");
        line_out(p, &l);
        if (iv->ok && iv->pkt)
            dk_initpkt_print(iv->pkt, INDENT "  ", p->f);
        break;
    }
    case DK_EV_IMAGE: {
        const dk_image_ev *im = &ev->u.img;
        stamp(p, &l, ev->t_us, ev->start, ev->dir);
        put(&l, "== image ");
        put_u64(&l, im->index);
        if (im->done) {
            put(&l, " complete: ");
            put(&l, im->has_type ? dk_fw_str(im->fw_type, b) : "type unknown");
            put(&l, ", ");
            put_u64(&l, im->size);
            put(&l, " bytes, crc=");
            put_hex32(&l, im->crc);
        } else if (im->cmd_size) {
            put(&l, ": init packet of ");
            put_u64(&l, im->cmd_size);
            put(&l, " bytes");
        } else {
            put(&l, " (its start is not in the capture)");
        }
        line_out(p, &l);
        break;
    }
    case DK_EV_RESUME: {
        const dk_resume_ev *r = &ev->u.resume;
        stamp(p, &l, ev->t_us, ev->start, ev->dir);
        put(&l, "== resume: the target holds ");
        put_u64(&l, r->offset);
        put(&l, " bytes of the ");
        put_obj(&l, r->obj_type);
        put(&l, " object (crc=");
        put_hex32(&l, r->crc);
        put(&l, "): ");
        put(&l, r->how == DK_RESUME_CONTINUE         ? "the host continues"
                : r->how == DK_RESUME_OBJECT_RESTART ? "the host resends the partial object"
                                                     : "the host starts the image over");
        put(&l, " from ");
        put_u64(&l, r->from);
        line_out(p, &l);
        break;
    }
    case DK_EV_PORT: {
        const dk_port_ev *o = &ev->u.port;
        stamp(p, &l, ev->t_us, ev->start, ev->dir);
        if (!o->open) {
            put(&l, "-- port closed (DTR off)");
        } else if (o->closed_us >= 0) {
            put(&l, "-- port reopened after ");
            put_fixed(&l, (o->closed_us + 500) / 1000, 3); /* seconds, to the ms */
            put(&l, " s (DTR on)");
        } else {
            put(&l, "-- port opened (DTR on)");
        }
        line_out(p, &l);
        break;
    }
    case DK_EV_ANOMALY:
        text_anomaly(p, ev);
        break;
    case DK_EV_SUMMARY:
        text_summary(p, ev->u.sum);
        break;
    }
}

/* ---- JSON ----------------------------------------------------------- */

static json_t *jcrc(uint32_t c)
{
    char b[12];
    snprintf(b, sizeof b, "0x%08" PRIx32, c);
    return json_string(b);
}

static json_t *jtime(const printer *p, int64_t t)
{
    if (t < 0 || p->t0 < 0)
        return json_null();
    return json_real((double)(t - p->t0) / 1e6);
}

static void jset(json_t *o, const char *k, json_t *v)
{
    json_object_set_new(o, k, v);
}

static json_t *jmsg(const dk_msg *m)
{
    char b[DK_NAME_BUFSZ];
    json_t *o = json_object();
    jset(o, "op", json_string(dk_op_str(m->op, b)));
    jset(o, "opcode", json_integer(m->op));
    if (!m->is_response) {
        switch (m->op) {
        case DK_OP_OBJECT_CREATE:
            jset(o, "type", json_string(dk_obj_str(m->req.create.type, b)));
            jset(o, "size", json_integer(m->req.create.size));
            break;
        case DK_OP_RECEIPT_NOTIF_SET:
            jset(o, "prn", json_integer(m->req.prn.target));
            break;
        case DK_OP_OBJECT_SELECT:
            jset(o, "type", json_string(dk_obj_str(m->req.select.type, b)));
            break;
        case DK_OP_PING:
            jset(o, "id", json_integer(m->req.ping.id));
            break;
        case DK_OP_FIRMWARE_VERSION:
            jset(o, "image", json_integer(m->req.fw.image));
            break;
        default:
            break;
        }
        return o;
    }
    jset(o, "result", json_string(dk_result_str(m->result, b)));
    jset(o, "result_code", json_integer(m->result));
    if (m->has_ext) {
        jset(o, "ext", json_integer(m->ext));
        jset(o, "ext_name", json_string(dk_ext_str(m->ext, b)));
    }
    if (m->result != DK_RES_SUCCESS)
        return o;
    switch (m->op) {
    case DK_OP_PROTOCOL_VERSION:
        jset(o, "version", json_integer(m->rsp.proto.version));
        break;
    case DK_OP_CRC_GET:
        jset(o, "offset", json_integer(m->rsp.crc.offset));
        jset(o, "crc", jcrc(m->rsp.crc.crc));
        break;
    case DK_OP_OBJECT_SELECT:
        jset(o, "max_size", json_integer(m->rsp.select.max_size));
        jset(o, "offset", json_integer(m->rsp.select.offset));
        jset(o, "crc", jcrc(m->rsp.select.crc));
        break;
    case DK_OP_MTU_GET:
        jset(o, "mtu", json_integer(m->rsp.mtu.mtu));
        break;
    case DK_OP_PING:
        jset(o, "id", json_integer(m->rsp.ping.id));
        break;
    case DK_OP_HARDWARE_VERSION:
        jset(o, "part", json_integer(m->rsp.hw.part));
        jset(o, "variant", json_integer(m->rsp.hw.variant));
        jset(o, "rom_size", json_integer(m->rsp.hw.rom_size));
        jset(o, "ram_size", json_integer(m->rsp.hw.ram_size));
        jset(o, "rom_page_size", json_integer(m->rsp.hw.rom_page_size));
        break;
    case DK_OP_FIRMWARE_VERSION:
        jset(o, "type", json_integer(m->rsp.fw.type));
        jset(o, "version", json_integer(m->rsp.fw.version));
        jset(o, "addr", json_integer(m->rsp.fw.addr));
        jset(o, "len", json_integer(m->rsp.fw.len));
        break;
    default:
        break;
    }
    return o;
}

static json_t *jhex(const uint8_t *p, size_t n)
{
    char b[2 * 64 + 1];
    if (n > 64)
        n = 64;
    for (size_t i = 0; i < n; i++)
        snprintf(b + 2 * i, 3, "%02x", p[i]);
    b[2 * n] = 0;
    return json_string(b);
}

static json_t *jinit(const dk_initpkt *k)
{
    char b[DK_NAME_BUFSZ];
    json_t *o = json_object();
    jset(o, "signed", json_boolean(k->is_signed));
    if (k->has_op_code)
        jset(o, "op_code", json_integer(k->op_code));
    const dk_init_cmd *c = &k->init;
    if (k->has_init) {
        if (c->has_fw_version)
            jset(o, "fw_version", json_integer(c->fw_version));
        if (c->has_hw_version)
            jset(o, "hw_version", json_integer(c->hw_version));
        json_t *sd = json_array();
        for (size_t i = 0; i < c->sd_req_count; i++)
            json_array_append_new(sd, json_integer(c->sd_req[i]));
        jset(o, "sd_req", sd);
        if (c->has_type)
            jset(o, "type", json_string(dk_fw_str(c->type, b)));
        if (c->has_sd_size)
            jset(o, "sd_size", json_integer(c->sd_size));
        if (c->has_bl_size)
            jset(o, "bl_size", json_integer(c->bl_size));
        if (c->has_app_size)
            jset(o, "app_size", json_integer(c->app_size));
        if (c->has_hash) {
            const char *hn = dk_hash_name(c->hash_type);
            jset(o, "hash_type", hn ? json_string(hn) : json_integer(c->hash_type));
            jset(o, "hash", jhex(c->hash, c->hash_len));
        }
        jset(o, "is_debug", json_boolean(c->has_is_debug && c->is_debug));
        json_t *bv = json_array();
        for (size_t i = 0; i < c->bv_count; i++) {
            json_t *e = json_object();
            const char *vn = dk_validation_name(c->bv[i].type);
            jset(e, "type", vn ? json_string(vn) : json_integer(c->bv[i].type));
            jset(e, "bytes", jhex(c->bv[i].bytes, c->bv[i].len));
            json_array_append_new(bv, e);
        }
        jset(o, "boot_validation", bv);
    }
    if (k->is_signed) {
        const char *sn = dk_sig_name(k->signature_type);
        jset(o, "signature_type", sn ? json_string(sn) : json_integer(k->signature_type));
        jset(o, "signature", jhex(k->signature, k->signature_len));
        jset(o, "signed_offset", json_integer((json_int_t)k->signed_off));
        jset(o, "signed_length", json_integer((json_int_t)k->signed_len));
    }
    return o;
}

static json_t *jsummary(const printer *p, const dk_summary *s)
{
    char b[DK_NAME_BUFSZ];
    json_t *o = json_object();
    jset(o, "outcome", json_string(dk_outcome_name(s->outcome)));
    json_t *imgs = json_array();
    for (unsigned i = 0; i < s->n_images && i < DK_SESSION_MAX_IMAGES; i++) {
        const dk_image_sum *m = &s->img[i];
        json_t *e = json_object();
        jset(e, "index", json_integer(m->index));
        jset(e, "type", m->has_type ? json_string(dk_fw_str(m->fw_type, b)) : json_null());
        jset(e, "size", m->size ? json_integer(m->size) : json_null());
        jset(e, "init_size", json_integer(m->cmd_size));
        jset(e, "bytes_sent", json_integer((json_int_t)m->bytes_sent));
        jset(e, "offset", json_integer(m->offset));
        jset(e, "init_ok", json_boolean(m->init_ok));
        jset(e, "completed", json_boolean(m->completed));
        jset(e, "failed", json_boolean(m->failed));
        jset(e, "restart", json_boolean(m->restart));
        json_array_append_new(imgs, e);
    }
    jset(o, "n_images", json_integer(s->n_images));
    jset(o, "images", imgs);
    jset(o, "frames", json_integer((json_int_t)s->frames));
    jset(o, "requests", json_integer((json_int_t)s->requests));
    jset(o, "responses", json_integer((json_int_t)s->responses));
    jset(o, "writes", json_integer((json_int_t)s->writes));
    jset(o, "bytes_data", json_integer((json_int_t)s->bytes_data));
    jset(o, "bytes_init", json_integer((json_int_t)s->bytes_cmd));
    jset(o, "duration_s", s->duration_s >= 0 ? json_real(s->duration_s) : json_null());
    jset(o, "closed_s", s->duration_s >= 0 ? json_real(s->closed_s) : json_null());
    jset(o, "throughput_Bps", s->throughput_Bps >= 0 ? json_real(s->throughput_Bps) : json_null());
    jset(o, "resumes", json_integer(s->resumes));
    jset(o, "restarts", json_integer(s->restarts));
    jset(o, "anomalies", json_integer(s->anomalies));
    json_t *ac = json_object();
    for (int i = 0; i < DK_AN_COUNT; i++)
        if (s->an_count[i])
            jset(ac, dk_anomaly_name((dk_anomaly_id)i), json_integer(s->an_count[i]));
    jset(o, "anomaly_counts", ac);
    jset(o, "stop_object", json_string(obj_name(s->stop_obj)));
    jset(o, "stop_offset", json_integer(s->stop_offset));
    jset(o, "stop_size", s->stop_size ? json_integer(s->stop_size) : json_null());
    jset(o, "stop_check",
         s->stop_check != DK_CHECK_NONE ? json_string(dk_check_name(s->stop_check)) : json_null());
    if (s->stop_open) {
        json_t *ob = json_object();
        jset(ob, "start", json_integer(s->stop_open_start));
        jset(ob, "end", json_integer(s->stop_open_end));
        jset(o, "open_object", ob);
    } else {
        jset(o, "open_object", json_null());
    }
    if (s->outcome == DK_OUTCOME_FAILED) {
        json_t *fo = json_object();
        jset(fo, "stage", json_string(dk_stage_name(s->fail_stage)));
        jset(fo, "op", json_string(dk_op_str(s->fail_op, b)));
        jset(fo, "result", json_string(dk_result_str(s->fail_result, b)));
        jset(fo, "result_code", json_integer(s->fail_result));
        if (s->fail_has_ext) {
            jset(fo, "ext", json_integer(s->fail_ext));
            jset(fo, "ext_name", json_string(dk_ext_str(s->fail_ext, b)));
        }
        jset(fo, "pos", json_integer((json_int_t)s->fail_pos));
        jset(o, "failure", fo);
    } else {
        dk_diag_failure e;
        dk_diag_effective(s, p->facts, &e);
        if (e.from_tool) {
            json_t *fo = json_object();
            jset(fo, "stage", e.stage ? json_string(dk_stage_name(e.stage)) : json_null());
            jset(fo, "op", e.op >= 0 ? json_string(dk_op_str((unsigned)e.op, b)) : json_null());
            jset(fo, "result", json_string(dk_result_str((unsigned)e.result, b)));
            jset(fo, "result_code", json_integer(e.result));
            if (e.ext >= 0) {
                jset(fo, "ext", json_integer(e.ext));
                jset(fo, "ext_name", json_string(dk_ext_str((unsigned)e.ext, b)));
            }
            jset(fo, "pos", json_null());
            jset(fo, "from_host_log", json_true());
            jset(o, "failure", fo);
        } else {
            jset(o, "failure", json_null());
        }
    }
    if (p->facts && (p->facts->has_exc || p->facts->prog_error)) {
        const dk_diag_facts *fa = p->facts;
        json_t *h = json_object();
        jset(h, "kind", fa->has_exc ? json_string(dk_nx_name(fa->exc)) : json_null());
        jset(h, "text", fa->has_exc ? json_string(fa->exc_text) : json_null());
        jset(h, "programmer", fa->prog_error ? json_string(fa->prog_text) : json_null());
        jset(h, "code", fa->prog_error && fa->prog_has_code ? json_integer(fa->prog_code) : json_null());
        jset(h, "lowlevel",
             fa->prog_error && fa->prog_has_lowlevel ? json_integer(fa->prog_lowlevel) : json_null());
        jset(o, "host_error", h);
    } else if (p->log) {
        jset(o, "host_error", json_null());
    }
    if (p->log) {
        const dk_logrd_stats *st = p->log;
        json_t *l = json_object();
        jset(l, "format", json_string(dk_log_format_name(st->fmt)));
        jset(l, "lines", json_integer((json_int_t)st->lines));
        jset(l, "understood", json_integer((json_int_t)st->understood));
        jset(l, "unknown", json_integer((json_int_t)st->unknown));
        jset(l, "long", json_integer((json_int_t)st->long_lines));
        jset(l, "cut", json_boolean(st->cut));
        jset(l, "first_unknown", st->first_unknown ? json_integer((json_int_t)st->first_unknown) : json_null());
        jset(l, "last_understood",
             st->last_understood ? json_integer((json_int_t)st->last_understood) : json_null());
        jset(o, "log", l);
    }
    if (s->diag) {
        json_t *d = json_object();
        jset(d, "id", json_string(s->diag->id));
        jset(d, "text", json_string(s->diag->explain));
        jset(d, "try", json_string(s->diag->try_));
        jset(o, "diagnosis", d);
    }
    return o;
}

static const char *kind_name(dk_ev_kind k)
{
    switch (k) {
    case DK_EV_EXCHANGE: return "exchange";
    case DK_EV_WRITE: return "write";
    case DK_EV_WRITES: return "writes";
    case DK_EV_PRN: return "prn";
    case DK_EV_INIT: return "init";
    case DK_EV_IMAGE: return "image";
    case DK_EV_RESUME: return "resume";
    case DK_EV_PORT: return "port";
    case DK_EV_ANOMALY: return "anomaly";
    default: return "summary";
    }
}

static void jprint(printer *p, json_t *o)
{
    json_dumpf(o, p->f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    fputc('\n', p->f);
    json_decref(o);
}

static void json_event(printer *p, const dk_event *ev)
{
    if ((ev->kind == DK_EV_WRITE || ev->kind == DK_EV_PRN) && !p->verbose)
        return;
    if (ev->kind == DK_EV_WRITES && p->verbose)
        return;
    int64_t t = ev->t_us;
    if (ev->kind == DK_EV_WRITES)
        t = ev->u.run.t_first;
    if (t >= 0 && p->t0 < 0)
        p->t0 = t;
    char b[DK_NAME_BUFSZ];
    json_t *o = json_object();
    jset(o, "event", json_string(kind_name(ev->kind)));
    jset(o, "time", jtime(p, t));
    /* An anomaly's own bytes (its event may sort with an exchange). */
    uint64_t pos = ev->kind == DK_EV_ANOMALY ? ev->u.an.start : ev->start;
    uint64_t end = ev->kind == DK_EV_ANOMALY ? ev->u.an.end : ev->end;
    jset(o, "pos", json_integer((json_int_t)pos));
    jset(o, "end", json_integer((json_int_t)end));
    jset(o, "image", ev->image ? json_integer(ev->image) : json_null());
    switch (ev->kind) {
    case DK_EV_EXCHANGE: {
        const dk_exchange *x = &ev->u.x;
        jset(o, "request", x->has_req ? jmsg(&x->req) : json_null());
        jset(o, "response", x->has_rsp ? jmsg(&x->rsp) : json_null());
        if (x->has_req)
            jset(o, "object", json_string(obj_name(x->obj_type)));
        jset(o, "response_time", x->has_rsp ? jtime(p, x->t_rsp) : json_null());
        jset(o, "response_pos", x->has_rsp ? json_integer((json_int_t)x->rsp_start) : json_null());
        jset(o, "latency_ms", x->latency_us >= 0 ? json_real((double)x->latency_us / 1000.0)
                                                 : json_null());
        jset(o, "late", json_boolean(x->late));
        jset(o, "check", json_string(dk_check_name(x->check)));
        if (x->check == DK_CHECK_CRC_BAD || x->check == DK_CHECK_OFFSET_BAD) {
            jset(o, "expected_offset", json_integer(x->exp_offset));
            jset(o, "expected_crc", jcrc(x->exp_crc));
        }
        break;
    }
    case DK_EV_WRITE:
        jset(o, "object", json_string(obj_name(ev->u.w.obj_type)));
        jset(o, "offset", json_integer(ev->u.w.offset));
        jset(o, "len", json_integer((json_int_t)ev->u.w.len));
        jset(o, "crc", ev->u.w.crc_known ? jcrc(ev->u.w.crc) : json_null());
        break;
    case DK_EV_WRITES: {
        const dk_writes *r = &ev->u.run;
        jset(o, "object", json_string(obj_name(r->obj_type)));
        jset(o, "count", json_integer(r->count));
        jset(o, "bytes", json_integer((json_int_t)r->bytes));
        jset(o, "offset_start", json_integer(r->off_start));
        jset(o, "offset_end", json_integer(r->off_end));
        jset(o, "crc", r->crc_known ? jcrc(r->crc_end) : json_null());
        jset(o, "prn_ok", json_integer(r->prn_ok));
        jset(o, "prn_bad", json_integer(r->prn_bad));
        jset(o, "last_time", jtime(p, r->t_last));
        break;
    }
    case DK_EV_PRN: {
        const dk_prn *n = &ev->u.prn;
        jset(o, "object", json_string(obj_name(n->obj_type)));
        jset(o, "result", json_string(dk_result_str(n->result, b)));
        jset(o, "offset", json_integer(n->offset));
        jset(o, "crc", jcrc(n->crc));
        jset(o, "check", json_string(dk_check_name(n->check)));
        jset(o, "expected_offset", json_integer(n->exp_offset));
        jset(o, "expected_crc", jcrc(n->exp_crc));
        break;
    }
    case DK_EV_INIT: {
        const dk_init_ev *iv = &ev->u.init;
        jset(o, "ok", json_boolean(iv->ok));
        jset(o, "len", json_integer((json_int_t)iv->len));
        jset(o, "crc", jcrc(iv->crc));
        jset(o, "fields", iv->ok && iv->pkt ? jinit(iv->pkt) : json_null());
        jset(o, "error", iv->ok ? json_null() : json_string(iv->err.msg));
        break;
    }
    case DK_EV_IMAGE: {
        const dk_image_ev *im = &ev->u.img;
        jset(o, "index", json_integer(im->index));
        jset(o, "done", json_boolean(im->done));
        jset(o, "init_size", json_integer(im->cmd_size));
        if (im->done) {
            jset(o, "type", im->has_type ? json_string(dk_fw_str(im->fw_type, b)) : json_null());
            jset(o, "size", json_integer(im->size));
            jset(o, "crc", jcrc(im->crc));
        }
        break;
    }
    case DK_EV_RESUME: {
        const dk_resume_ev *r = &ev->u.resume;
        jset(o, "object", json_string(obj_name(r->obj_type)));
        jset(o, "offset", json_integer(r->offset));
        jset(o, "crc", jcrc(r->crc));
        jset(o, "how", json_string(dk_resume_name(r->how)));
        jset(o, "from", json_integer(r->from));
        break;
    }
    case DK_EV_PORT:
        jset(o, "open", json_boolean(ev->u.port.open));
        jset(o, "closed_s", ev->u.port.closed_us >= 0
                                ? json_real((double)ev->u.port.closed_us / 1e6)
                                : json_null());
        break;
    case DK_EV_ANOMALY: {
        const dk_anomaly *a = &ev->u.an;
        jset(o, "id", json_string(dk_anomaly_name(a->id)));
        jset(o, "severity", json_string(dk_severity_name(a->severity)));
        jset(o, "text", json_string(a->text));
        jset(o, "dir", json_string(a->dir == DK_DIR_HOST     ? "host"
                                   : a->dir == DK_DIR_TARGET ? "target"
                                                             : "unknown"));
        if (a->op || a->id == DK_AN_DFU_EXT_ERROR || a->id == DK_AN_DFU_ERROR_RESULT)
            jset(o, "op", json_string(dk_op_str(a->op, b)));
        if (a->id == DK_AN_DFU_EXT_ERROR || a->id == DK_AN_DFU_ERROR_RESULT) {
            jset(o, "result", json_string(dk_result_str(a->result, b)));
            jset(o, "result_code", json_integer(a->result));
        }
        if (a->id == DK_AN_DFU_EXT_ERROR && a->has_ext) {
            const char *mn = dk_ext_meaning(a->ext), *h = dk_ext_hint(a->ext);
            jset(o, "ext", json_integer(a->ext));
            jset(o, "ext_name", json_string(dk_ext_str(a->ext, b)));
            jset(o, "meaning", mn ? json_string(mn) : json_null());
            jset(o, "hint", h ? json_string(h) : json_null());
        }
        break;
    }
    case DK_EV_SUMMARY: {
        json_t *js = jsummary(p, ev->u.sum);
        json_object_update(o, js);
        json_decref(js);
        break;
    }
    }
    jprint(p, o);
}

void printer_event(void *ctx, const dk_event *ev)
{
    printer *p = ctx;
    if (p->pkg)
        pkgcheck_event(p->pkg, p, ev);
    if (p->json)
        json_event(p, ev);
    else
        text_event(p, ev);
}

void printer_extra(printer *p, const char *id, dk_severity sev, int64_t t, uint64_t start,
                   uint64_t end, const char *text)
{
    if (p->json) {
        json_t *o = json_object();
        jset(o, "event", json_string("anomaly"));
        jset(o, "time", jtime(p, t));
        jset(o, "pos", json_integer((json_int_t)start));
        jset(o, "end", json_integer((json_int_t)end));
        jset(o, "image", json_null());
        jset(o, "id", json_string(id));
        jset(o, "severity", json_string(dk_severity_name(sev)));
        jset(o, "text", json_string(text));
        jset(o, "dir", json_string("host"));
        jprint(p, o);
        return;
    }
    line l;
    l.n = 0;
    stamp(p, &l, t, start, DK_DIR_HOST);
    put(&l, "!! ");
    put(&l, dk_severity_name(sev));
    put(&l, " ");
    put(&l, id);
    put(&l, ": ");
    put(&l, text);
    put(&l, " [bytes ");
    put_u64(&l, start);
    put(&l, "..");
    put_u64(&l, end);
    put(&l, "]");
    line_out(p, &l);
}

void printer_note(printer *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->f, fmt, ap);
    va_end(ap);
}

/* ---- host tool records and log lines ---------------------------------- */

static const char *tool_kind_name(dk_tool_kind k)
{
    switch (k) {
    case DK_TOOL_TEXT: return "text";
    case DK_TOOL_PORT: return "port";
    case DK_TOOL_IMAGE: return "image";
    case DK_TOOL_SEND_INIT: return "send_init";
    case DK_TOOL_SEND_FW: return "send_firmware";
    case DK_TOOL_IMAGE_SENT: return "image_sent";
    case DK_TOOL_SET_PRN: return "set_prn";
    case DK_TOOL_SELECTING: return "selecting";
    case DK_TOOL_SELECTED: return "selected";
    case DK_TOOL_STREAMING: return "streaming";
    case DK_TOOL_NO_PING: return "no_ping";
    case DK_TOOL_PROGRESS: return "progress";
    case DK_TOOL_TRACEBACK: return "traceback";
    case DK_TOOL_EXCEPTION: return "exception";
    case DK_TOOL_DONE: return "done";
    case DK_TOOL_PROG_STEP: return "programmer_step";
    case DK_TOOL_PROG_ERROR: return "programmer_error";
    }
    return "text";
}

/* DEBUG lines that only repeat the messages next to them. */
static bool tool_echo(dk_tool_kind k)
{
    return k == DK_TOOL_SELECTING || k == DK_TOOL_SELECTED || k == DK_TOOL_STREAMING ||
           k == DK_TOOL_TRACEBACK;
}

static void json_tool(printer *p, int64_t t, uint64_t pos, uint64_t line_no, const dk_tool_ev *tv)
{
    char b[DK_NAME_BUFSZ];
    json_t *o = json_object();
    jset(o, "event", json_string("tool"));
    jset(o, "time", jtime(p, t));
    jset(o, "pos", json_integer((json_int_t)pos));
    jset(o, "end", json_integer((json_int_t)pos));
    jset(o, "image", json_null());
    jset(o, "line", json_integer((json_int_t)line_no));
    jset(o, "kind", json_string(tool_kind_name(tv->kind)));
    jset(o, "text", json_string(tv->text));
    switch (tv->kind) {
    case DK_TOOL_SET_PRN:
        jset(o, "prn", json_integer(tv->u.prn.prn));
        break;
    case DK_TOOL_SELECTED:
        jset(o, "max_size", json_integer(tv->u.selected.max_size));
        jset(o, "offset", json_integer(tv->u.selected.offset));
        jset(o, "crc", jcrc(tv->u.selected.crc));
        break;
    case DK_TOOL_STREAMING:
        jset(o, "len", json_integer(tv->u.stream.len));
        jset(o, "offset", json_integer(tv->u.stream.offset));
        jset(o, "crc", jcrc(tv->u.stream.crc));
        break;
    case DK_TOOL_PROGRESS:
        jset(o, "percent", json_integer(tv->u.progress.percent));
        break;
    case DK_TOOL_EXCEPTION:
        jset(o, "class", json_string(tv->u.exc.cls));
        jset(o, "what", json_string(dk_nx_name(tv->u.exc.nx)));
        if (tv->u.exc.nx == DK_NX_EXT_ERROR) {
            jset(o, "ext", json_integer(tv->u.exc.ext));
            jset(o, "ext_name", json_string(dk_ext_str(tv->u.exc.ext, b)));
        }
        if (tv->u.exc.nx == DK_NX_RESULT && tv->u.exc.result != 0xFF)
            jset(o, "result", json_string(dk_result_str(tv->u.exc.result, b)));
        if (tv->u.exc.has_values) {
            jset(o, "expected", json_integer(tv->u.exc.expected));
            jset(o, "received", json_integer(tv->u.exc.received));
        }
        break;
    case DK_TOOL_PROG_ERROR: {
        const char *n;
        if (tv->u.perr.has_code) {
            n = dk_progjs_err_name(tv->u.perr.code);
            jset(o, "code", json_integer(tv->u.perr.code));
            jset(o, "code_name", n ? json_string(n) : json_null());
            jset(o, "code_hint", n ? json_string(dk_progjs_err_hint(tv->u.perr.code)) : json_null());
        }
        if (tv->u.perr.has_lowlevel) {
            n = dk_jprog_err_name(tv->u.perr.lowlevel);
            jset(o, "lowlevel", json_integer(tv->u.perr.lowlevel));
            jset(o, "lowlevel_name", n ? json_string(n) : json_null());
            jset(o, "lowlevel_hint", n ? json_string(dk_jprog_err_hint(tv->u.perr.lowlevel)) : json_null());
        }
        jset(o, "modem", json_boolean(tv->u.perr.modem));
        break;
    }
    default:
        break;
    }
    jprint(p, o);
}

void printer_tool(printer *p, int64_t t, uint64_t pos, uint64_t line_no, const dk_tool_ev *tv)
{
    if (tool_echo(tv->kind) && !p->verbose)
        return;
    if (p->json) {
        json_tool(p, t, pos, line_no, tv);
        return;
    }
    char b[DK_NAME_BUFSZ];
    line l;
    l.n = 0;
    stamp(p, &l, t, pos, DK_DIR_HOST);
    put(&l, "## ");
    put(&l, p->log_tool ? p->log_tool : "host");
    put(&l, ": ");
    switch (tv->kind) {
    case DK_TOOL_PORT:
        put(&l, "port ");
        put(&l, tv->text);
        break;
    case DK_TOOL_PROGRESS:
        put(&l, "progress ");
        put_u64(&l, tv->u.progress.percent);
        put(&l, "%");
        break;
    case DK_TOOL_EXCEPTION:
        put(&l, tv->u.exc.cls);
        put(&l, ": ");
        put(&l, tv->text);
        if (tv->u.exc.has_values && tv->u.exc.nx == DK_NX_UNEXPECTED_OP) {
            put(&l, " [expected ");
            put(&l, dk_op_str(tv->u.exc.expected, b));
            put(&l, ", received ");
            put(&l, dk_op_str(tv->u.exc.received, b));
            put(&l, "]");
        } else if (tv->u.exc.has_values) {
            put(&l, " [expected ");
            put_u64(&l, tv->u.exc.expected);
            put(&l, ", received ");
            put_u64(&l, tv->u.exc.received);
            put(&l, "]");
        }
        break;
    default:
        put(&l, tv->text);
        break;
    }
    line_out(p, &l);
    const char *h = NULL, *n = NULL;
    if (tv->kind == DK_TOOL_EXCEPTION && tv->u.exc.nx == DK_NX_EXT_ERROR)
        h = dk_ext_hint(tv->u.exc.ext);
    if (h) {
        put(&l, INDENT "   try: ");
        put(&l, h);
        line_out(p, &l);
    }
    if (tv->kind == DK_TOOL_PROG_ERROR && tv->u.perr.has_code) {
        n = dk_progjs_err_name(tv->u.perr.code);
        put(&l, INDENT "   error code ");
        put(&l, n ? n : "(unknown)");
        put(&l, ": ");
        put(&l, n ? dk_progjs_err_hint(tv->u.perr.code) : "not in the table");
        line_out(p, &l);
    }
    if (tv->kind == DK_TOOL_PROG_ERROR && tv->u.perr.has_lowlevel) {
        n = dk_jprog_err_name(tv->u.perr.lowlevel);
        put(&l, INDENT "   low-level ");
        put(&l, n ? n : "(unknown)");
        put(&l, ": ");
        put(&l, n ? dk_jprog_err_hint(tv->u.perr.lowlevel) : "not in the table");
        line_out(p, &l);
    }
}

void printer_logline(printer *p, const dk_logrec *rec)
{
    const char *kind = rec->kind == DK_LR_LONG ? "long" : rec->kind == DK_LR_CUT ? "cut" : "unknown";
    size_t tl = rec->text_len > 60 ? 60 : rec->text_len;
    if (p->json) {
        json_t *o = json_object();
        jset(o, "event", json_string("log"));
        jset(o, "time", jtime(p, rec->t_us));
        jset(o, "pos", json_integer((json_int_t)rec->off));
        jset(o, "end", json_integer((json_int_t)(rec->off + rec->line_len)));
        jset(o, "image", json_null());
        jset(o, "kind", json_string(kind));
        jset(o, "line", json_integer((json_int_t)rec->line));
        jset(o, "why", json_string(rec->why ? rec->why : ""));
        char txt[64];
        for (size_t i = 0; i < tl; i++)
            txt[i] = rec->text[i] >= 0x20 && rec->text[i] < 0x7F ? rec->text[i] : '.';
        txt[tl] = 0;
        jset(o, "text", rec->text ? json_string(txt) : json_null());
        jprint(p, o);
        return;
    }
    line l;
    l.n = 0;
    stamp(p, &l, rec->t_us, rec->off, DK_DIR_HOST);
    put(&l, "?? ");
    if (rec->kind == DK_LR_CUT) {
        put(&l, "the log stops inside something: ");
        put(&l, rec->why ? rec->why : "");
        put(&l, " (line ");
        put_u64(&l, rec->line);
        put(&l, ")");
    } else {
        put(&l, "line ");
        put_u64(&l, rec->line);
        if (rec->kind == DK_LR_LONG) {
            put(&l, ": ");
            put_u64(&l, rec->line_len);
            put(&l, " bytes long, skipped");
        } else {
            put(&l, ": not understood (");
            put(&l, rec->why ? rec->why : "");
            put(&l, "): ");
            /* printable bytes only */
            for (size_t i = 0; i < tl; i++) {
                char c = rec->text[i];
                put_mem(&l, c >= 0x20 && c < 0x7F ? &c : ".", 1);
            }
            if (rec->text_len > tl)
                put(&l, "...");
        }
    }
    line_out(p, &l);
}
