/* print_text.c - the transcript: events -> one line each (print.h). */
#include <inttypes.h>
#include <string.h>

#include "dfukit/diag.h"
#include "dfukit/pkgcheck.h"
#include "dfukit/tables.h"
#include "print_int.h"
#include "print_legacy.h"

#define INDENT "             "

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

static void line_out(dk_printer *p, line *l)
{
    l->b[l->n++] = '\n';
    fwrite(l->b, 1, l->n, p->f);
    l->n = 0;
}

/* ---- text ----------------------------------------------------------- */

/* The first column: seconds since the first timed event (right-aligned in
 * 11), or "@" and the byte offset (with two files: "@h"/"@t", the file of
 * the line named by dir).  13 columns either way, like INDENT. */
static void stamp(dk_printer *p, line *l, int64_t t, uint64_t pos, dk_dir dir)
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
    put(l, dk_print_obj_name(t));
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

static void text_exchange(dk_printer *p, const dk_event *ev)
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
static void text_host(dk_printer *p, const dk_summary *s)
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
static void text_log(dk_printer *p)
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

/* The outcome line when the host's log settled it (dk_summary.settled). */
static void text_settled(dk_printer *p, const dk_summary *s, const dk_diag_failure *eff)
{
    char b[DK_NAME_BUFSZ], b2[DK_NAME_BUFSZ];
    FILE *f = p->f;
    switch (s->settled) {
    case DK_OUTCOME_COMPLETED:
        fprintf(f, "completed, as the host's log reports it (%s)\n",
                s->outcome == DK_OUTCOME_EMPTY ? "no DFU message in the log"
                                               : "the messages do not show the last EXECUTE");
        break;
    case DK_OUTCOME_UNKNOWN:
        fprintf(f, "unknown: the log holds the host's requests only, not the target's answers\n");
        break;
    default:
        fprintf(f, "failed with error %s", dk_result_str((unsigned)eff->result, b));
        if (eff->ext >= 0)
            fprintf(f, " %s (0x%02x)", dk_ext_str((unsigned)eff->ext, b2), (unsigned)eff->ext);
        if (eff->op >= 0)
            fprintf(f, " on %s (%s)", dk_op_str((unsigned)eff->op, b2), dk_stage_name(eff->stage));
        fprintf(f, ", as the host's log reports it\n");
        break;
    }
}

static void text_summary(dk_printer *p, const dk_summary *s)
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
        bool by_host = !m->completed && i + 1 == s->n_images && s->settled_by_host &&
                       s->settled == DK_OUTCOME_COMPLETED;
        fprintf(f, ", sent %" PRIu64 ", reached %" PRIu32 ", %s%s\n", m->bytes_sent, m->offset,
                m->completed ? "completed"
                : by_host    ? "completed, as the host's log reports it"
                : m->failed  ? "failed"
                             : "not completed",
                m->restart ? " (restart of the image before)" : "");
    }
    fprintf(f, "  bytes:      %" PRIu64 " written (%" PRIu64 " firmware, %" PRIu64 " init packet",
            s->bytes_data + s->bytes_cmd + s->bytes_unknown, s->bytes_data, s->bytes_cmd);
    if (s->bytes_unknown)
        fprintf(f, ", %" PRIu64 " of an object the capture does not show the type of",
                s->bytes_unknown);
    fprintf(f, ") in %" PRIu64 " writes\n", s->writes);
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
    dk_diag_failure eff;
    dk_diag_effective(s, p->facts, &eff);
    if (s->legacy) {
        dk_ptext_lg_summary(p, s);
    } else if (fprintf(f, "  outcome:    "), s->settled != s->outcome || s->settled_by_host) {
        text_settled(p, s, &eff);
    } else switch (s->outcome) {
    case DK_OUTCOME_COMPLETED:
        fprintf(f, "completed\n");
        break;
    case DK_OUTCOME_INTERRUPTED:
        fprintf(f, "%s at %s offset %" PRIu32,
                s->stop_check == DK_CHECK_CRC_BAD      ? "stopped after a CRC mismatch"
                : s->stop_check == DK_CHECK_OFFSET_BAD ? "stopped after an offset mismatch"
                                                       : "interrupted",
                dk_print_obj_name(s->stop_obj), s->stop_offset);
        stop_where(f, s);
        break;
    case DK_OUTCOME_FAILED:
        fprintf(f, "failed with error %s", dk_result_str(s->fail_result, b));
        if (s->fail_has_ext)
            fprintf(f, " %s (0x%02x)", dk_ext_str(s->fail_ext, b2), (unsigned)s->fail_ext);
        fprintf(f, " on %s (%s)", dk_op_str(s->fail_op, b2), dk_stage_name(s->fail_stage));
        fprintf(f, " at %s offset %" PRIu32, dk_print_obj_name(s->stop_obj), s->stop_offset);
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
    char where[256];
    if (p->facts) {
        dk_diag_where(p->facts, where, sizeof where);
        if (where[0])
            fprintf(f, "  where:      %s\n", where);
    }
    if (s->diag) {
        fprintf(f, "  diagnosis:  %s [%s]\n", s->diag->explain, s->diag->id);
        fprintf(f, "  try:        %s\n", s->diag->try_);
    }
    text_log(p);
}

static void text_anomaly(dk_printer *p, const dk_event *ev)
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


static void text_write(dk_printer *p, const dk_event *ev)
{
    const dk_write *w = &ev->u.w;
    line l;
    l.n = 0;
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
}

static void text_writes(dk_printer *p, const dk_event *ev)
{
    const dk_writes *r = &ev->u.run;
    line l;
    l.n = 0;
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
}

static void text_prn(dk_printer *p, const dk_event *ev)
{
    char b[DK_NAME_BUFSZ];
    const dk_prn *n = &ev->u.prn;
    line l;
    l.n = 0;
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
}

static void text_init(dk_printer *p, const dk_event *ev)
{
    const dk_init_ev *iv = &ev->u.init;
    line l;
    l.n = 0;
    put(&l, INDENT "init packet: ");
    put_u64(&l, iv->len);
    put(&l, " bytes, crc=");
    put_hex32(&l, iv->crc);
    if (!iv->ok)
        put(&l, ", does not decode");
    line_out(p, &l);
    if (iv->ok && iv->pkt)
        dk_initpkt_print(iv->pkt, INDENT "  ", p->f);
}

static void text_image(dk_printer *p, const dk_event *ev)
{
    char b[DK_NAME_BUFSZ];
    const dk_image_ev *im = &ev->u.img;
    line l;
    l.n = 0;
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
}

static void text_resume(dk_printer *p, const dk_event *ev)
{
    const dk_resume_ev *r = &ev->u.resume;
    line l;
    l.n = 0;
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
}

static void text_port(dk_printer *p, const dk_event *ev)
{
    const dk_port_ev *o = &ev->u.port;
    line l;
    l.n = 0;
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
}

/* "## TOOL: TEXT" (and a hint, Programmer error codes) for a host tool's
 * line of a log. */
static void text_tool(dk_printer *p, const dk_logrec *rec)
{
    const dk_tool_ev *tv = rec->tool;
    char b[DK_NAME_BUFSZ];
    line l;
    l.n = 0;
    stamp(p, &l, rec->t_us, rec->off, DK_DIR_HOST);
    put(&l, "## ");
    put(&l, dk_log_format_name(rec->fmt));
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
    case DK_TOOL_COMMAND:
        put(&l, "command: ");
        put(&l, tv->text);
        break;
    case DK_TOOL_VERSION:
        put(&l, "version: ");
        put(&l, tv->text);
        break;
    case DK_TOOL_LEGACY:
        if (tv->u.lg.what == DK_LG_MARKS) {
            put(&l, "progress: ");
            put_u64(&l, tv->u.lg.marks);
            put(&l, tv->u.lg.marks == 1 ? " mark" : " marks");
        } else if (tv->u.lg.what == DK_LG_UPGRADING) {
            put(&l, "upgrading target on ");
            put(&l, tv->text);
        } else {
            put(&l, tv->text);
        }
        break;
    case DK_TOOL_EXCEPTION:
        put(&l, tv->u.exc.cls[0] ? tv->u.exc.cls : "error");
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

void dk_ptext_run(dk_printer *p, unsigned run, uint64_t lineno, uint64_t pos, const char *text)
{
    (void)pos;
    fprintf(p->f, "== run %u, from line %" PRIu64 ": %s\n", run, lineno, text);
}

/* "?? ..." for a log line not understood or too long, or a log cut off. */
static void text_logline(dk_printer *p, const dk_logrec *rec)
{
    size_t tl = rec->text_len > 60 ? 60 : rec->text_len;
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

/* The package check's report, after the summary. */
static void text_package(dk_printer *p, const dk_pkg_report *r)
{
    FILE *f = p->f;
    fprintf(f, "package:     %s: %s\n", r->file, r->ok ? "every byte sent matches" : "DIFFERS");
    for (unsigned i = 0; i < r->n; i++) {
        const dk_pkg_image_report *m = &r->img[i];
        fprintf(f, "    image %u = %s/%s: init packet %s", m->image, m->bin, m->dat,
                !m->init_seen ? "not in the capture"
                : m->init_diff ? "differs"
                               : "matches");
        if (m->init_diff)
            fprintf(f, " (from byte %zu)", m->init_first);
        fprintf(f, "; %" PRIu64 " data bytes checked, ", m->checked);
        if (m->diff)
            fprintf(f, "first difference at offset %" PRIu32 "\n", m->first);
        else
            fprintf(f, "all match\n");
    }
}

void dk_ptext_event(dk_printer *p, const dk_event *ev)
{
    switch (ev->kind) {
    case DK_EV_EXCHANGE: text_exchange(p, ev); break;
    case DK_EV_WRITE: if (p->verbose && !ev->u.w.legacy) text_write(p, ev); break;
    case DK_EV_WRITES:
        if (ev->u.run.legacy)
            dk_ptext_lg_run(p, ev); /* a legacy tracker folds only without -v */
        else if (!p->verbose)
            text_writes(p, ev);
        break;
    case DK_EV_PRN: if (p->verbose) text_prn(p, ev); break;
    case DK_EV_INIT:
        if (ev->u.init.legacy)
            dk_ptext_lg_init(p, ev);
        else
            text_init(p, ev);
        break;
    case DK_EV_HCI: dk_ptext_hci(p, ev); break;
    case DK_EV_IMAGE: text_image(p, ev); break;
    case DK_EV_RESUME: text_resume(p, ev); break;
    case DK_EV_PORT: text_port(p, ev); break;
    case DK_EV_ANOMALY: text_anomaly(p, ev); break;
    case DK_EV_SUMMARY: text_summary(p, ev->u.sum); break;
    case DK_EV_TOOL: text_tool(p, ev->u.rec); break;
    case DK_EV_LOG: text_logline(p, ev->u.rec); break;
    case DK_EV_PACKAGE: text_package(p, ev->u.pkg); break;
    }
}
