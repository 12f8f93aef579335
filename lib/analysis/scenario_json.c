/* scenario_json.c - a scenario as JSON text and back (layout in scenario.h). */
#include "dfukit/scenario.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/initpkt.h"
#include "dfukit/rd.h"
#include "dfukit/tables.h"
#include "scenario_int.h"

/* ---- JSON out --------------------------------------------------------------- */

static json_t *crc_str(uint32_t v)
{
    char b[16];
    snprintf(b, sizeof b, "0x%08x", v);
    return json_string(b);
}

static json_t *hex_str(const uint8_t *p, size_t n)
{
    char *b = malloc(2 * n + 1);
    if (!b)
        return json_null();
    for (size_t i = 0; i < n; i++)
        snprintf(b + 2 * i, 3, "%02x", p[i]);
    b[2 * n] = 0;
    json_t *j = json_string(b);
    free(b);
    return j;
}

static json_t *int_or_null(int64_t v, bool known)
{
    return known ? json_integer(v) : json_null();
}

static void set(json_t *o, const char *k, json_t *v)
{
    json_object_set_new(o, k, v ? v : json_null());
}

static json_t *init_json(const dk_scenario *s)
{
    if (!s->init.present)
        return json_null();
    json_t *o = json_object();
    set(o, "len", json_integer(s->init.len));
    set(o, "crc", crc_str(s->init.crc));
    set(o, "accepted", json_boolean(s->init.accepted));
    set(o, "hex", s->init.bytes_known ? hex_str(s->init.bytes, s->init.len) : json_null());
    set(o, "from", s->init.bytes_known ? json_string(s->init.from_package ? "package" : "log")
                                       : json_null());
    dk_initpkt p;
    if (s->init.bytes_known && dk_initpkt_decode(s->init.bytes, s->init.len, &p, NULL) == DK_OK &&
        p.has_init) {
        const dk_init_cmd *c = &p.init;
        set(o, "signed", json_boolean(p.is_signed));
        set(o, "fw_version", int_or_null(c->fw_version, c->has_fw_version));
        set(o, "hw_version", int_or_null(c->hw_version, c->has_hw_version));
        json_t *a = json_array();
        for (size_t i = 0; i < c->sd_req_count; i++)
            json_array_append_new(a, json_integer(c->sd_req[i]));
        set(o, "sd_req", a);
        const char *t = c->has_type ? dk_fw_name(c->type) : NULL;
        set(o, "type", t ? json_string(t) : json_null());
        set(o, "image_size", json_integer(dk_initpkt_image_size(&p)));
    }
    return o;
}

static json_t *failure_json(const dk_scenario *s)
{
    json_t *f = json_object();
    set(f, "outcome", json_string(s->failure.outcome));
    set(f, "stage", json_string(s->failure.stage));
    const char *opn = s->failure.op >= 0 ? dk_op_name((unsigned)s->failure.op) : NULL;
    set(f, "request", s->failure.op >= 0 && opn ? json_string(opn) : json_null());
    set(f, "opcode", int_or_null(s->failure.op, s->failure.op >= 0));
    set(f, "result", int_or_null(s->failure.result, s->failure.result >= 0));
    const char *rn = s->failure.result >= 0 ? dk_result_name((unsigned)s->failure.result) : NULL;
    set(f, "result_name", rn ? json_string(rn) : json_null());
    set(f, "ext", int_or_null(s->failure.ext, s->failure.ext >= 0));
    const char *en = s->failure.ext >= 0 ? dk_ext_name((unsigned)s->failure.ext) : NULL;
    set(f, "ext_name", en ? json_string(en) : json_null());
    set(f, "image", json_integer(s->failure.image));
    set(f, "object", json_string(s->failure.object));
    set(f, "offset", json_integer(s->failure.offset));
    set(f, "size", json_integer(s->failure.size));
    set(f, "host_error", json_string(s->failure.host_error));
    set(f, "host_error_kind", json_string(s->failure.host_error_kind));
    return f;
}

static json_t *device_json(const dk_scenario *s)
{
    json_t *d = json_object();
    set(d, "chip", json_string(s->device.chip));
    set(d, "hw_version", json_integer(s->device.hw_version));
    if (s->device.softdevice) {
        json_t *sd = json_object();
        set(sd, "fwid", json_integer(s->device.sd_fwid));
        set(sd, "end", json_integer(s->device.sd_end));
        set(d, "softdevice", sd);
    } else {
        set(d, "softdevice", json_null());
    }
    if (s->device.app) {
        json_t *a = json_object();
        set(a, "size", json_integer(s->device.app_size));
        set(a, "version", json_integer(s->device.app_version));
        set(d, "app", a);
    } else {
        set(d, "app", json_null());
    }
    set(d, "bootloader_version", json_integer(s->device.bootloader_version));
    set(d, "save_progress_in_flash", json_boolean(s->device.save_progress_in_flash));
    set(d, "single_bank", json_boolean(s->device.single_bank));
    set(d, "require_signature", json_boolean(s->device.require_signature));
    set(d, "enter_dfu", json_string(s->device.enter_dfu));
    set(d, "mtu", json_integer(s->device.mtu));
    set(d, "inactivity_ms", json_integer(s->device.inactivity_ms));
    return d;
}

static json_t *start_json(const dk_scenario *s)
{
    json_t *st = json_object();
    if (s->start.init) {
        json_t *i = json_object();
        set(i, "size", json_integer(s->start.init_size));
        set(i, "crc", crc_str(s->start.init_crc));
        set(i, "hex", s->start.init_bytes_known ? hex_str(s->start.init_bytes, s->start.init_size)
                                                : json_null());
        set(st, "init", i);
    } else {
        set(st, "init", json_null());
    }
    if (s->start.data) {
        json_t *i = json_object();
        set(i, "offset", json_integer(s->start.data_offset));
        set(i, "crc", crc_str(s->start.data_crc));
        set(st, "data", i);
    } else {
        set(st, "data", json_null());
    }
    return st;
}

static json_t *host_json(const dk_scenario *s)
{
    json_t *h = json_object();
    set(h, "prn", int_or_null(s->host.prn, s->host.prn >= 0));
    set(h, "flow_control",
        s->host.flow_control >= 0 ? json_boolean(s->host.flow_control) : json_null());
    set(h, "baud", int_or_null(s->host.baud, s->host.baud > 0));
    json_t *args = json_array();
    for (size_t i = 0; i < s->host.n_dfuhost_args; i++)
        json_array_append_new(args, json_string(s->host.dfuhost_args[i]));
    set(h, "dfuhost_args", args);
    return h;
}

/* n strings of width bytes each, from p, as a JSON array. */
static json_t *strings_json(const char *p, size_t width, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(p + i * width));
    return a;
}

char *dk_scen_to_json(const dk_scenario *s)
{
    json_t *root = json_object();
    set(root, "dfukit_scenario", json_integer(s->version));
    json_t *src = json_object();
    set(src, "file", json_string(s->source.file));
    set(src, "format", json_string(s->source.format));
    set(src, "host", json_string(s->source.host));
    set(root, "source", src);
    set(root, "diagnosis", json_string(s->diagnosis));
    set(root, "failure", failure_json(s));
    set(root, "init_packet", init_json(s));
    set(root, "device", device_json(s));
    set(root, "start", start_json(s));
    set(root, "host", host_json(s));
    json_t *l = json_object();
    set(l, "realtime", json_boolean(s->line.realtime));
    set(l, "baud", json_integer(s->line.baud));
    set(root, "line", l);
    set(root, "faults", strings_json(&s->faults[0][0], DK_SCEN_FAULT_LEN, s->n_faults));
    set(root, "notes", strings_json(&s->notes[0][0], DK_SCEN_NOTE_LEN, s->n_notes));

    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    char *out = realloc(text, n + 2);
    if (!out) {
        free(text);
        return NULL;
    }
    out[n] = '\n';
    out[n + 1] = 0;
    return out;
}

/* ---- JSON in ------------------------------------------------------------------ */

typedef struct {
    dk_err *err;
    dk_status st;
} rd_ctx;

static bool bad(rd_ctx *c, const char *path, const char *why)
{
    if (c->st == DK_OK)
        c->st = dk_err_set(c->err, DK_E_FORMAT, -1, "%s: %s", path, why);
    return false;
}

/* Optional members: absent or null leave the default. */
static json_t *member(json_t *o, const char *k)
{
    json_t *v = o ? json_object_get(o, k) : NULL;
    return v && !json_is_null(v) ? v : NULL;
}

static bool get_u32(rd_ctx *c, json_t *o, const char *k, const char *path, uint32_t *out)
{
    json_t *v = member(o, k);
    if (!v)
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX) {
        char p[96];
        snprintf(p, sizeof p, "%s.%s", path, k);
        return bad(c, p, "expected an integer from 0 to 4294967295");
    }
    *out = (uint32_t)json_integer_value(v);
    return true;
}

static bool get_int(rd_ctx *c, json_t *o, const char *k, const char *path, int *out, int max)
{
    json_t *v = member(o, k);
    if (!v)
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) {
        char p[96];
        snprintf(p, sizeof p, "%s.%s", path, k);
        return bad(c, p, "expected a small non-negative integer");
    }
    *out = (int)json_integer_value(v);
    return true;
}

static bool get_bool(rd_ctx *c, json_t *o, const char *k, const char *path, bool *out)
{
    json_t *v = member(o, k);
    if (!v)
        return true;
    if (!json_is_boolean(v)) {
        char p[96];
        snprintf(p, sizeof p, "%s.%s", path, k);
        return bad(c, p, "expected true or false");
    }
    *out = json_is_true(v);
    return true;
}

static bool get_str(rd_ctx *c, json_t *o, const char *k, const char *path, char *out, size_t cap)
{
    json_t *v = member(o, k);
    if (!v)
        return true;
    if (!json_is_string(v) || json_string_length(v) >= cap) {
        char p[96];
        snprintf(p, sizeof p, "%s.%s", path, k);
        return bad(c, p, "expected a (short) string");
    }
    scen_cpy(out, cap, json_string_value(v));
    return true;
}

static bool get_crc(rd_ctx *c, json_t *o, const char *k, const char *path, uint32_t *out)
{
    json_t *v = member(o, k);
    char p[96];
    snprintf(p, sizeof p, "%s.%s", path, k);
    if (!v)
        return bad(c, p, "missing");
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= UINT32_MAX) {
        *out = (uint32_t)json_integer_value(v);
        return true;
    }
    const char *sv = json_string_value(v);
    char *end;
    if (!sv || !*sv)
        return bad(c, p, "expected \"0x........\"");
    errno = 0;
    unsigned long long x = strtoull(sv, &end, 16);
    if (*end || errno || x > UINT32_MAX)
        return bad(c, p, "expected \"0x........\"");
    *out = (uint32_t)x;
    return true;
}

/* hex of exactly want bytes; absent/null -> *known false */
static bool get_hex(rd_ctx *c, json_t *o, const char *path, uint8_t *out, size_t want, bool *known)
{
    json_t *v = member(o, "hex");
    *known = false;
    if (!v)
        return true;
    char p[96];
    snprintf(p, sizeof p, "%s.hex", path);
    const char *h = json_string_value(v);
    if (!h || strlen(h) != 2 * want)
        return bad(c, p, "expected hex of exactly the size's bytes");
    for (size_t i = 0; i < want; i++) {
        int a = dk_hex_digit(h[2 * i]), b = dk_hex_digit(h[2 * i + 1]);
        if (a < 0 || b < 0)
            return bad(c, p, "not hex");
        out[i] = (uint8_t)(a << 4 | b);
    }
    *known = true;
    return true;
}

static bool want_object(rd_ctx *c, json_t *v, const char *path)
{
    if (v && !json_is_object(v))
        return bad(c, path, "expected an object or null");
    return true;
}

static bool get_strings(rd_ctx *c, json_t *root, const char *k, char *out, size_t width, size_t max,
                        size_t *n)
{
    json_t *a = member(root, k);
    if (!a)
        return true;
    if (!json_is_array(a))
        return bad(c, k, "expected an array of strings");
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        char p[64];
        snprintf(p, sizeof p, "%s[%zu]", k, i);
        if (i >= max)
            return bad(c, p, "too many entries");
        if (!json_is_string(v) || json_string_length(v) >= width)
            return bad(c, p, "expected a (short) string");
        scen_cpy(out + i * width, width, json_string_value(v));
        *n = i + 1;
    }
    return true;
}

/* Each section reader returns false when reading stops there (a section
 * that is not an object, or a size the rest depends on out of range);
 * smaller faults are latched in c and reading goes on. */

static bool read_failure(rd_ctx *c, json_t *root, dk_scenario *s)
{
    json_t *src = member(root, "source");
    if (!want_object(c, src, "source"))
        return false;
    get_str(c, src, "file", "source", s->source.file, sizeof s->source.file);
    get_str(c, src, "format", "source", s->source.format, sizeof s->source.format);
    get_str(c, src, "host", "source", s->source.host, sizeof s->source.host);
    get_str(c, root, "diagnosis", "", s->diagnosis, sizeof s->diagnosis);

    json_t *f = member(root, "failure");
    if (!want_object(c, f, "failure"))
        return false;
    get_str(c, f, "outcome", "failure", s->failure.outcome, sizeof s->failure.outcome);
    get_str(c, f, "stage", "failure", s->failure.stage, sizeof s->failure.stage);
    get_int(c, f, "opcode", "failure", &s->failure.op, 255);
    get_int(c, f, "result", "failure", &s->failure.result, 255);
    get_int(c, f, "ext", "failure", &s->failure.ext, 255);
    get_u32(c, f, "image", "failure", &s->failure.image);
    get_str(c, f, "object", "failure", s->failure.object, sizeof s->failure.object);
    get_u32(c, f, "offset", "failure", &s->failure.offset);
    get_u32(c, f, "size", "failure", &s->failure.size);
    get_str(c, f, "host_error", "failure", s->failure.host_error, sizeof s->failure.host_error);
    get_str(c, f, "host_error_kind", "failure", s->failure.host_error_kind,
            sizeof s->failure.host_error_kind);
    return true;
}

static bool read_init(rd_ctx *c, json_t *root, dk_scenario *s)
{
    json_t *ip = member(root, "init_packet");
    if (!want_object(c, ip, "init_packet"))
        return false;
    if (!ip)
        return true;
    s->init.present = true;
    get_u32(c, ip, "len", "init_packet", &s->init.len);
    get_crc(c, ip, "crc", "init_packet", &s->init.crc);
    get_bool(c, ip, "accepted", "init_packet", &s->init.accepted);
    if (s->init.len == 0 || s->init.len > DK_SCEN_INIT_MAX)
        return bad(c, "init_packet.len", "expected 1 to 512");
    get_hex(c, ip, "init_packet", s->init.bytes, s->init.len, &s->init.bytes_known);
    char from[16] = "";
    get_str(c, ip, "from", "init_packet", from, sizeof from);
    /* where the bytes came from: nothing without them (to_json leaves it out) */
    s->init.from_package = s->init.bytes_known && strcmp(from, "package") == 0;
    return true;
}

static bool read_device(rd_ctx *c, json_t *root, dk_scenario *s)
{
    json_t *d = member(root, "device");
    if (!want_object(c, d, "device"))
        return false;
    get_str(c, d, "chip", "device", s->device.chip, sizeof s->device.chip);
    get_u32(c, d, "hw_version", "device", &s->device.hw_version);
    json_t *sd = member(d, "softdevice");
    if (!want_object(c, sd, "device.softdevice"))
        return false;
    if (sd) {
        uint32_t fwid = 0;
        s->device.softdevice = true;
        get_u32(c, sd, "fwid", "device.softdevice", &fwid);
        if (fwid > 0xFFFF)
            return bad(c, "device.softdevice.fwid", "expected a 16-bit FWID");
        s->device.sd_fwid = (uint16_t)fwid;
        get_u32(c, sd, "end", "device.softdevice", &s->device.sd_end);
    }
    json_t *app = member(d, "app");
    if (!want_object(c, app, "device.app"))
        return false;
    if (app) {
        s->device.app = true;
        get_u32(c, app, "size", "device.app", &s->device.app_size);
        get_u32(c, app, "version", "device.app", &s->device.app_version);
    }
    get_u32(c, d, "bootloader_version", "device", &s->device.bootloader_version);
    get_bool(c, d, "save_progress_in_flash", "device", &s->device.save_progress_in_flash);
    get_bool(c, d, "single_bank", "device", &s->device.single_bank);
    get_bool(c, d, "require_signature", "device", &s->device.require_signature);
    get_str(c, d, "enter_dfu", "device", s->device.enter_dfu, sizeof s->device.enter_dfu);
    uint32_t mtu = s->device.mtu;
    get_u32(c, d, "mtu", "device", &mtu);
    if (mtu > 8192)
        return bad(c, "device.mtu", "expected at most 8192");
    s->device.mtu = (uint16_t)mtu;
    get_u32(c, d, "inactivity_ms", "device", &s->device.inactivity_ms);
    return true;
}

static bool read_start(rd_ctx *c, json_t *root, dk_scenario *s)
{
    json_t *st = member(root, "start");
    if (!want_object(c, st, "start"))
        return false;
    json_t *si = member(st, "init");
    if (!want_object(c, si, "start.init"))
        return false;
    if (si) {
        s->start.init = true;
        get_u32(c, si, "size", "start.init", &s->start.init_size);
        get_crc(c, si, "crc", "start.init", &s->start.init_crc);
        if (s->start.init_size == 0 || s->start.init_size > DK_SCEN_INIT_MAX)
            return bad(c, "start.init.size", "expected 1 to 512");
        get_hex(c, si, "start.init", s->start.init_bytes, s->start.init_size,
                &s->start.init_bytes_known);
    }
    json_t *sdat = member(st, "data");
    if (!want_object(c, sdat, "start.data"))
        return false;
    if (sdat) {
        s->start.data = true;
        get_u32(c, sdat, "offset", "start.data", &s->start.data_offset);
        get_crc(c, sdat, "crc", "start.data", &s->start.data_crc);
    }
    return true;
}

static bool read_host(rd_ctx *c, json_t *root, dk_scenario *s)
{
    json_t *h = member(root, "host");
    if (!want_object(c, h, "host"))
        return false;
    get_int(c, h, "prn", "host", &s->host.prn, 0xFFFF);
    bool fc = false;
    if (member(h, "flow_control") && get_bool(c, h, "flow_control", "host", &fc))
        s->host.flow_control = fc;
    get_u32(c, h, "baud", "host", &s->host.baud);
    get_strings(c, h, "dfuhost_args", &s->host.dfuhost_args[0][0], sizeof s->host.dfuhost_args[0],
                DK_SCEN_ARGS_MAX, &s->host.n_dfuhost_args);

    json_t *l = member(root, "line");
    if (!want_object(c, l, "line"))
        return false;
    get_bool(c, l, "realtime", "line", &s->line.realtime);
    get_u32(c, l, "baud", "line", &s->line.baud);
    return true;
}

static void read_all(rd_ctx *c, json_t *root, dk_scenario *s)
{
    json_t *v = json_object_get(root, "dfukit_scenario");
    if (!v || !json_is_integer(v)) {
        bad(c, "dfukit_scenario", "missing (not a dfukit scenario)");
        return;
    }
    s->version = (int)json_integer_value(v);
    if (!read_failure(c, root, s) || !read_init(c, root, s) || !read_device(c, root, s) ||
        !read_start(c, root, s) || !read_host(c, root, s))
        return;
    get_strings(c, root, "faults", &s->faults[0][0], DK_SCEN_FAULT_LEN, DK_SCEN_FAULTS_MAX,
                &s->n_faults);
    get_strings(c, root, "notes", &s->notes[0][0], DK_SCEN_NOTE_LEN, DK_SCEN_NOTES_MAX, &s->n_notes);
}

dk_status dk_scen_from_json(const char *text, size_t len, dk_scenario *s, dk_err *err)
{
    dk_scen_init(s);
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return dk_err_set(err, DK_E_FORMAT, (int64_t)je.position, "not JSON: %s", je.text);
    rd_ctx c = { err, DK_OK };
    if (!json_is_object(root))
        bad(&c, "(top)", "expected an object");
    else
        read_all(&c, root, s);
    json_decref(root);
    if (c.st != DK_OK)
        return c.st;
    return dk_scen_validate(s, err);
}
