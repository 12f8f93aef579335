/* print_json.c - JSON Lines: events -> one object each (print.h). */
#include <inttypes.h>
#include <jansson.h>
#include <string.h>

#include "dfukit/diag.h"
#include "dfukit/pkgcheck.h"
#include "dfukit/tables.h"
#include "print_int.h"
#include "print_legacy.h"

static json_t *jcrc(uint32_t c)
{
    char b[12];
    snprintf(b, sizeof b, "0x%08" PRIx32, c);
    return json_string(b);
}

/* An object type; null when the capture does not show it (DK_OBJ_UNSHOWN). */
static json_t *jobj(uint8_t t)
{
    return t == DK_OBJ_UNSHOWN ? json_null() : json_string(dk_print_obj_name(t));
}

static json_t *jtime(const dk_printer *p, int64_t t)
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

/* The summary's failure: the session's, or the one a host log names. */
static json_t *jfailure(const dk_printer *p, const dk_summary *s)
{
    char b[DK_NAME_BUFSZ];
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
        return fo;
    }
    dk_diag_failure e;
    dk_diag_effective(s, p->facts, &e);
    if (!e.from_tool)
        return json_null();
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
    return fo;
}

/* A log's host error and how far the log was understood. */
static void jhost(const dk_printer *p, json_t *o)
{
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
    char where[256];
    if (p->facts) {
        dk_diag_where(p->facts, where, sizeof where);
        if (where[0])
            jset(o, "where", json_string(where));
        if (p->facts->run > 1)
            jset(o, "run", json_integer(p->facts->run));
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
}

static json_t *jsummary(const dk_printer *p, const dk_summary *s)
{
    char b[DK_NAME_BUFSZ];
    json_t *o = json_object();
    jset(o, "outcome", json_string(dk_outcome_name(s->settled)));
    jset(o, "outcome_by_host", json_boolean(s->settled_by_host));
    jset(o, "session_outcome", json_string(dk_outcome_name(s->outcome)));
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
        jset(e, "completed", json_boolean(m->completed || (i + 1 == s->n_images && s->settled_by_host &&
                                                           s->settled == DK_OUTCOME_COMPLETED)));
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
    jset(o, "bytes_unknown_object", json_integer((json_int_t)s->bytes_unknown));
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
    jset(o, "stop_object", jobj(s->stop_obj));
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
    jset(o, "failure", jfailure(p, s));
    if (s->legacy)
        dk_pjson_lg_summary(o, s);
    jhost(p, o);
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
    case DK_EV_HCI: return "hci";
    case DK_EV_SUMMARY: return "summary";
    case DK_EV_TOOL: return "tool";
    case DK_EV_LOG: return "log";
    case DK_EV_PACKAGE: return "package";
    }
    return "unknown";
}

static void jprint(dk_printer *p, json_t *o)
{
    json_dumpf(o, p->f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    fputc('\n', p->f);
    json_decref(o);
}

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
    case DK_TOOL_COMMAND: return "command";
    case DK_TOOL_VERSION: return "version";
    case DK_TOOL_LEGACY: return "legacy";
    case DK_TOOL_BLE: return "ble";
    case DK_TOOL_MCUMGR: return "mcumgr";
    }
    return "text";
}

static void json_tool(dk_printer *p, const dk_logrec *rec)
{
    const dk_tool_ev *tv = rec->tool;
    char b[DK_NAME_BUFSZ];
    json_t *o = json_object();
    jset(o, "event", json_string("tool"));
    jset(o, "time", jtime(p, rec->t_us));
    jset(o, "pos", json_integer((json_int_t)rec->off));
    jset(o, "end", json_integer((json_int_t)rec->off));
    jset(o, "image", json_null());
    jset(o, "line", json_integer((json_int_t)rec->line));
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
        jset(o, "stage", json_string(dk_host_stage_name(tv->u.exc.stage)));
        jset(o, "function", json_string(tv->u.exc.func));
        break;
    case DK_TOOL_COMMAND:
        jset(o, "tool", json_string(tv->u.cmd.tool));
        jset(o, "subcommand", json_string(tv->u.cmd.sub));
        jset(o, "port", tv->u.cmd.has_port ? json_string(tv->u.cmd.port) : json_null());
        jset(o, "baud", tv->u.cmd.baud ? json_integer(tv->u.cmd.baud) : json_null());
        jset(o, "flow_control", tv->u.cmd.fc >= 0 ? json_boolean(tv->u.cmd.fc) : json_null());
        jset(o, "touch", json_integer(tv->u.cmd.touch));
        break;
    case DK_TOOL_VERSION:
        jset(o, "of", json_string(tv->u.ver.what));
        break;
    case DK_TOOL_LEGACY:
        jset(o, "what", json_string(dk_lg_name(tv->u.lg.what)));
        if (tv->u.lg.what == DK_LG_MARKS)
            jset(o, "marks", json_integer(tv->u.lg.marks));
        break;
    case DK_TOOL_BLE:
        jset(o, "what", json_string(dk_ble_name(tv->u.ble.what)));
        jset(o, "value", json_integer(tv->u.ble.value));
        break;
    case DK_TOOL_MCUMGR:
        jset(o, "what", json_string(dk_mcu_name(tv->u.mcu.what)));
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
        if (tv->u.perr.ext >= 0)
            jset(o, "ext", json_integer(tv->u.perr.ext));
        if (tv->u.perr.devlib >= 0)
            jset(o, "device_lib_code", json_integer(tv->u.perr.devlib));
        break;
    }
    default:
        break;
    }
    jprint(p, o);
}

void dk_pjson_run(dk_printer *p, unsigned run, uint64_t line, uint64_t pos, const char *text)
{
    json_t *o = json_object();
    jset(o, "event", json_string("run"));
    jset(o, "time", json_null());
    jset(o, "pos", json_integer((json_int_t)pos));
    jset(o, "end", json_integer((json_int_t)pos));
    jset(o, "image", json_null());
    jset(o, "run", json_integer(run));
    jset(o, "line", json_integer((json_int_t)line));
    jset(o, "text", json_string(text));
    jprint(p, o);
}

/* A log line not understood or too long, or the log cut off. */
static void json_logline(dk_printer *p, const dk_logrec *rec)
{
    const char *kind = rec->kind == DK_LR_LONG ? "long" : rec->kind == DK_LR_CUT ? "cut" : "unknown";
    size_t tl = rec->text_len > 60 ? 60 : rec->text_len;
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
}

/* The package check's report, after the summary. */
static void json_package(dk_printer *p, const dk_pkg_report *r)
{
    json_t *o = json_object();
    jset(o, "event", json_string("package"));
    jset(o, "file", json_string(r->file));
    jset(o, "ok", json_boolean(r->ok));
    json_t *a = json_array();
    for (unsigned i = 0; i < r->n; i++) {
        const dk_pkg_image_report *m = &r->img[i];
        json_t *e = json_object();
        jset(e, "image", json_integer(m->image));
        jset(e, "bin", json_string(m->bin));
        jset(e, "dat", json_string(m->dat));
        jset(e, "init", json_string(!m->init_seen ? "not_seen" : m->init_diff ? "differs" : "matches"));
        jset(e, "init_first_diff", m->init_diff ? json_integer((json_int_t)m->init_first) : json_null());
        jset(e, "bytes_checked", json_integer((json_int_t)m->checked));
        jset(e, "first_diff", m->diff ? json_integer(m->first) : json_null());
        json_array_append_new(a, e);
    }
    jset(o, "images", a);
    json_dumpf(o, p->f, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fputc('\n', p->f);
    json_decref(o);
}
static void jexchange(dk_printer *p, json_t *o, const dk_exchange *x)
{
    jset(o, "request", x->has_req ? jmsg(&x->req) : json_null());
    jset(o, "response", x->has_rsp ? jmsg(&x->rsp) : json_null());
    if (x->has_req)
        jset(o, "object", jobj(x->obj_type));
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
}

static void jwrites(dk_printer *p, json_t *o, const dk_writes *r)
{
    jset(o, "object", jobj(r->obj_type));
    jset(o, "count", json_integer(r->count));
    jset(o, "bytes", json_integer((json_int_t)r->bytes));
    jset(o, "offset_start", json_integer(r->off_start));
    jset(o, "offset_end", json_integer(r->off_end));
    jset(o, "crc", r->crc_known ? jcrc(r->crc_end) : json_null());
    jset(o, "prn_ok", json_integer(r->prn_ok));
    jset(o, "prn_bad", json_integer(r->prn_bad));
    jset(o, "last_time", jtime(p, r->t_last));
}

static void jprn(json_t *o, const dk_prn *n)
{
    char b[DK_NAME_BUFSZ];
    jset(o, "object", jobj(n->obj_type));
    jset(o, "result", json_string(dk_result_str(n->result, b)));
    jset(o, "offset", json_integer(n->offset));
    jset(o, "crc", jcrc(n->crc));
    jset(o, "check", json_string(dk_check_name(n->check)));
    jset(o, "expected_offset", json_integer(n->exp_offset));
    jset(o, "expected_crc", jcrc(n->exp_crc));
}

static void jimage(json_t *o, const dk_image_ev *im)
{
    char b[DK_NAME_BUFSZ];
    jset(o, "index", json_integer(im->index));
    jset(o, "done", json_boolean(im->done));
    jset(o, "init_size", json_integer(im->cmd_size));
    if (im->done) {
        jset(o, "type", im->has_type ? json_string(dk_fw_str(im->fw_type, b)) : json_null());
        jset(o, "size", json_integer(im->size));
        jset(o, "crc", jcrc(im->crc));
    }
}

static void janomaly(json_t *o, const dk_anomaly *a)
{
    char b[DK_NAME_BUFSZ];
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
}

/* The fields of one event after the common ones. */
static void jbody(dk_printer *p, json_t *o, const dk_event *ev)
{
    switch (ev->kind) {
    case DK_EV_EXCHANGE:
        jexchange(p, o, &ev->u.x);
        break;
    case DK_EV_WRITE:
        jset(o, "object", jobj(ev->u.w.obj_type));
        jset(o, "offset", json_integer(ev->u.w.offset));
        jset(o, "len", json_integer((json_int_t)ev->u.w.len));
        jset(o, "crc", ev->u.w.crc_known ? jcrc(ev->u.w.crc) : json_null());
        break;
    case DK_EV_WRITES:
        jwrites(p, o, &ev->u.run);
        break;
    case DK_EV_PRN:
        jprn(o, &ev->u.prn);
        break;
    case DK_EV_INIT: {
        const dk_init_ev *iv = &ev->u.init;
        jset(o, "ok", json_boolean(iv->ok));
        jset(o, "len", json_integer((json_int_t)iv->len));
        jset(o, "crc", jcrc(iv->crc));
        jset(o, "fields", iv->ok && iv->legacy ? dk_pjson_lg_init(iv->legacy)
                          : iv->ok && iv->pkt  ? jinit(iv->pkt)
                                               : json_null());
        jset(o, "error", iv->ok ? json_null() : json_string(iv->err.msg));
        break;
    }
    case DK_EV_IMAGE:
        jimage(o, &ev->u.img);
        break;
    case DK_EV_RESUME: {
        const dk_resume_ev *r = &ev->u.resume;
        jset(o, "object", jobj(r->obj_type));
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
    case DK_EV_ANOMALY:
        janomaly(o, &ev->u.an);
        break;
    case DK_EV_HCI:
        dk_pjson_hci(o, ev);
        break;
    case DK_EV_SUMMARY: {
        json_t *js = jsummary(p, ev->u.sum);
        json_object_update(o, js);
        json_decref(js);
        break;
    }
    default:
        break;
    }
}

/* A tracker's event: event, time, pos, end, image, then its own fields. */
static void json_event(dk_printer *p, const dk_event *ev)
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
    json_t *o = json_object();
    jset(o, "event", json_string(kind_name(ev->kind)));
    jset(o, "time", jtime(p, t));
    /* An anomaly's own bytes (its event may sort with an exchange). */
    uint64_t pos = ev->kind == DK_EV_ANOMALY ? ev->u.an.start : ev->start;
    uint64_t end = ev->kind == DK_EV_ANOMALY ? ev->u.an.end : ev->end;
    jset(o, "pos", json_integer((json_int_t)pos));
    jset(o, "end", json_integer((json_int_t)end));
    jset(o, "image", ev->image ? json_integer(ev->image) : json_null());
    jbody(p, o, ev);
    jprint(p, o);
}

void dk_pjson_event(dk_printer *p, const dk_event *ev)
{
    switch (ev->kind) {
    case DK_EV_TOOL:
        json_tool(p, ev->u.rec);
        break;
    case DK_EV_LOG:
        json_logline(p, ev->u.rec);
        break;
    case DK_EV_PACKAGE:
        json_package(p, ev->u.pkg);
        break;
    default:
        json_event(p, ev);
        break;
    }
}
