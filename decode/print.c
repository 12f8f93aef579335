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

/* ---- text ----------------------------------------------------------- */

static void stamp(printer *p, int64_t t, uint64_t pos)
{
    if (t >= 0 && p->t0 < 0)
        p->t0 = t;
    if (t >= 0) {
        int64_t d = t - p->t0;
        const char *sign = d < 0 ? "-" : "";
        if (d < 0)
            d = -d;
        char b[32];
        snprintf(b, sizeof b, "%s%" PRId64 ".%06" PRId64, sign, d / 1000000, d % 1000000);
        fprintf(p->f, "%11s  ", b);
    } else
        fprintf(p->f, "@%-10" PRIu64 "  ", pos);
}

/* "OP -> RESULT fields" without the "OP -> " part. */
static const char *rsp_tail(const char *d)
{
    const char *a = strstr(d, " -> ");
    return a ? a + 4 : d;
}

static void check_text(char *out, size_t cap, dk_check c, uint32_t eo, uint32_t ec)
{
    switch (c) {
    case DK_CHECK_OK:
        snprintf(out, cap, "  [matches the bytes sent]");
        break;
    case DK_CHECK_CRC_BAD:
        snprintf(out, cap, "  [CRC MISMATCH: sent bytes give 0x%08x]", (unsigned)ec);
        break;
    case DK_CHECK_OFFSET_BAD:
        snprintf(out, cap, "  [OFFSET DIFFERS: %u bytes were sent]", (unsigned)eo);
        break;
    default:
        out[0] = 0;
        break;
    }
}

static void text_exchange(printer *p, const dk_event *ev)
{
    const dk_exchange *x = &ev->u.x;
    char rq[160], rs[200], ck[80], lat[40];
    ck[0] = lat[0] = 0;
    if (x->has_req)
        dk_msg_describe(&x->req, rq, sizeof rq);
    if (x->has_rsp)
        dk_msg_describe(&x->rsp, rs, sizeof rs);
    if (x->latency_us >= 0)
        snprintf(lat, sizeof lat, "  (%.3f ms)", (double)x->latency_us / 1000.0);
    check_text(ck, sizeof ck, x->check, x->exp_offset, x->exp_crc);
    if (x->has_req && x->has_rsp) {
        stamp(p, x->t_req, x->req_start);
        fprintf(p->f, "--> %s  <-- %s%s%s%s\n", rq, rsp_tail(rs), ck, x->late ? "  [late]" : "",
                lat);
    } else if (x->has_req) {
        stamp(p, x->t_req, x->req_start);
        fprintf(p->f, "--> %s  %s\n", rq,
                dk_msg_expects_response(x->req.op) ? "(no response)"
                                                   : "(no response expected)");
    } else {
        stamp(p, x->t_rsp, x->rsp_start);
        fprintf(p->f, "<-- %s\n", rs);
    }
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
    if (s->duration_s >= 0)
        fprintf(f, "  duration:   %.3f s\n", s->duration_s);
    else
        fprintf(f, "  duration:   unknown (no timestamps)\n");
    if (s->throughput_Bps >= 0)
        fprintf(f, "  throughput: %.0f bytes/s\n", s->throughput_Bps);
    else
        fprintf(f, "  throughput: unknown\n");
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
    switch (s->outcome) {
    case DK_OUTCOME_COMPLETED:
        fprintf(f, "completed\n");
        break;
    case DK_OUTCOME_INTERRUPTED:
        fprintf(f, "interrupted at %s offset %" PRIu32, obj_name(s->stop_obj), s->stop_offset);
        if (s->stop_size)
            fprintf(f, " of %" PRIu32, s->stop_size);
        fputc('\n', f);
        break;
    case DK_OUTCOME_FAILED:
        fprintf(f, "failed with error %s", dk_result_str(s->fail_result, b));
        if (s->fail_has_ext)
            fprintf(f, " %s (0x%02x)", dk_ext_str(s->fail_ext, b2), (unsigned)s->fail_ext);
        fprintf(f, " on %s (%s)", dk_op_str(s->fail_op, b2), dk_stage_name(s->fail_stage));
        fprintf(f, " at %s offset %" PRIu32, obj_name(s->stop_obj), s->stop_offset);
        if (s->stop_size)
            fprintf(f, " of %" PRIu32, s->stop_size);
        fputc('\n', f);
        break;
    case DK_OUTCOME_NO_RESPONSE:
        fprintf(f, "failed: the target never answered\n");
        break;
    default:
        fprintf(f, "no DFU messages\n");
        break;
    }
    if (s->diag) {
        fprintf(f, "  diagnosis:  %s [%s]\n", s->diag->explain, s->diag->id);
        fprintf(f, "  try:        %s\n", s->diag->try_);
    }
}

static void text_event(printer *p, const dk_event *ev)
{
    FILE *f = p->f;
    char b[DK_NAME_BUFSZ];
    switch (ev->kind) {
    case DK_EV_EXCHANGE:
        text_exchange(p, ev);
        break;
    case DK_EV_WRITE:
        if (!p->verbose)
            break;
        stamp(p, ev->t_us, ev->start);
        fprintf(f, "--> OBJECT_WRITE len=%zu %s [%" PRIu32 ", %" PRIu32 ")", ev->u.w.len,
                obj_name(ev->u.w.obj_type), ev->u.w.offset,
                ev->u.w.offset + (uint32_t)ev->u.w.len);
        if (ev->u.w.crc_known)
            fprintf(f, " crc=0x%08" PRIx32, ev->u.w.crc);
        fputc('\n', f);
        break;
    case DK_EV_WRITES: {
        if (p->verbose)
            break;
        const dk_writes *r = &ev->u.run;
        stamp(p, r->t_first, ev->start);
        fprintf(f, "--> OBJECT_WRITE x%" PRIu32 ": %" PRIu64 " bytes %s [%" PRIu32 ", %" PRIu32 ")",
                r->count, r->bytes, obj_name(r->obj_type), r->off_start, r->off_end);
        if (r->crc_known)
            fprintf(f, " crc=0x%08" PRIx32, r->crc_end);
        if (r->prn_ok || r->prn_bad)
            fprintf(f, "  <-- PRN x%" PRIu32 "%s", r->prn_ok + r->prn_bad,
                    r->prn_bad ? " (some differ)" : " ok");
        fputc('\n', f);
        break;
    }
    case DK_EV_PRN: {
        if (!p->verbose)
            break;
        const dk_prn *n = &ev->u.prn;
        char ck[80];
        check_text(ck, sizeof ck, n->check, n->exp_offset, n->exp_crc);
        stamp(p, ev->t_us, ev->start);
        if (n->result == DK_RES_SUCCESS)
            fprintf(f, "<-- PRN (CRC_GET) %s offset=%" PRIu32 " crc=0x%08" PRIx32 "%s\n",
                    obj_name(n->obj_type), n->offset, n->crc, ck);
        else
            fprintf(f, "<-- PRN (CRC_GET) %s\n", dk_result_str(n->result, b));
        break;
    }
    case DK_EV_INIT: {
        const dk_init_ev *iv = &ev->u.init;
        fprintf(f, INDENT "init packet: %zu bytes, crc=0x%08" PRIx32 "%s\n", iv->len, iv->crc,
                iv->ok ? "" : ", does not decode");
        if (iv->ok && iv->pkt)
            dk_initpkt_print(iv->pkt, INDENT "  ", f);
        break;
    }
    case DK_EV_IMAGE: {
        const dk_image_ev *im = &ev->u.img;
        stamp(p, ev->t_us, ev->start);
        if (!im->done) {
            if (im->cmd_size)
                fprintf(f, "== image %u: init packet of %" PRIu32 " bytes\n", im->index,
                        im->cmd_size);
            else
                fprintf(f, "== image %u (its start is not in the capture)\n", im->index);
        } else {
            fprintf(f, "== image %u complete: %s, %" PRIu32 " bytes, crc=0x%08" PRIx32 "\n",
                    im->index, im->has_type ? dk_fw_str(im->fw_type, b) : "type unknown",
                    im->size, im->crc);
        }
        break;
    }
    case DK_EV_RESUME: {
        const dk_resume_ev *r = &ev->u.resume;
        stamp(p, ev->t_us, ev->start);
        fprintf(f, "== resume: the target holds %" PRIu32 " bytes of the %s object (crc=0x%08" PRIx32
                   "): %s",
                r->offset, obj_name(r->obj_type), r->crc,
                r->how == DK_RESUME_CONTINUE         ? "the host continues"
                : r->how == DK_RESUME_OBJECT_RESTART ? "the host resends the partial object"
                                                     : "the host starts the image over");
        fprintf(f, " from %" PRIu32 "\n", r->from);
        break;
    }
    case DK_EV_ANOMALY: {
        const dk_anomaly *a = &ev->u.an;
        stamp(p, ev->t_us, ev->start);
        fprintf(f, "!! %s %s: %s [bytes %" PRIu64 "..%" PRIu64 "]\n", dk_severity_name(a->severity),
                dk_anomaly_name(a->id), a->text, a->start, a->end);
        if (a->id == DK_AN_DFU_EXT_ERROR) {
            const char *h = dk_ext_hint(a->ext);
            if (h)
                fprintf(f, INDENT "   try: %s\n", h);
        }
        break;
    }
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

static json_t *jsummary(const dk_summary *s)
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
        jset(o, "failure", json_null());
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
    jset(o, "pos", json_integer((json_int_t)ev->start));
    jset(o, "end", json_integer((json_int_t)ev->end));
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
        json_t *js = jsummary(ev->u.sum);
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
    stamp(p, t, start);
    fprintf(p->f, "!! %s %s: %s [bytes %" PRIu64 "..%" PRIu64 "]\n", dk_severity_name(sev), id,
            text, start, end);
}

void printer_note(printer *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->f, fmt, ap);
    va_end(ap);
}
