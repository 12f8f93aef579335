/* scenario.c - reproduction scenarios: JSON in/out, checks, and the builder
 * that derives one from a decoded session (see scenario.h). */
#include "dfukit/scenario.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfukit/crc.h"
#include "dfukit/initpkt.h"
#include "dfukit/rd.h"
#include "dfukit/tables.h"

/* ---- basics ---------------------------------------------------------------- */

static void cpy(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = 0;
}

void dk_scen_init(dk_scenario *s)
{
    memset(s, 0, sizeof *s);
    s->version = DK_SCEN_VERSION;
    s->failure.op = s->failure.result = s->failure.ext = -1;
    cpy(s->device.chip, sizeof s->device.chip, "nrf52840");
    s->device.hw_version = 52;
    s->device.sd_end = 0x27000;
    s->device.bootloader_version = 1;
    cpy(s->device.enter_dfu, sizeof s->device.enter_dfu, "no-valid-app");
    s->device.mtu = DK_MTU_UART;
    s->device.inactivity_ms = 120000;
    s->host.prn = -1;
    s->host.flow_control = -1;
    s->line.baud = 115200;
}

void dk_scen_note(dk_scenario *s, const char *fmt, ...)
{
    if (s->n_notes >= DK_SCEN_NOTES_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->notes[s->n_notes++], DK_SCEN_NOTE_LEN, fmt, ap);
    va_end(ap);
}

void dk_scen_fault(dk_scenario *s, const char *fmt, ...)
{
    if (s->n_faults >= DK_SCEN_FAULTS_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->faults[s->n_faults++], DK_SCEN_FAULT_LEN, fmt, ap);
    va_end(ap);
}

void dk_scen_host_arg(dk_scenario *s, const char *arg)
{
    for (size_t i = 0; i < s->host.n_dfuhost_args; i++)
        if (strcmp(s->host.dfuhost_args[i], arg) == 0)
            return;
    if (s->host.n_dfuhost_args < DK_SCEN_ARGS_MAX)
        cpy(s->host.dfuhost_args[s->host.n_dfuhost_args++], sizeof s->host.dfuhost_args[0], arg);
}

/* ---- validation ------------------------------------------------------------ */

static bool one_of(const char *v, const char *const *set)
{
    for (size_t i = 0; set[i]; i++)
        if (strcmp(v, set[i]) == 0)
            return true;
    return false;
}

static const char *const chips[] = { "nrf52840", "nrf52832", NULL };
static const char *const enters[] = { "no-valid-app", "always", "first-boot", NULL };
static const char *const triggers[] = { "after-bytes=", "flash-op=", "op=", "after-op=", "after-ms=", NULL };
static const char *const actions[] = { "reset", "power-cut", "drop-response", "delay-response=",
                                       "stall", "corrupt-byte", "flash-error", "lose-request", NULL };

static bool prefix_of(const char *v, const char *const *set)
{
    for (size_t i = 0; set[i]; i++)
        if (strncmp(v, set[i], strlen(set[i])) == 0)
            return true;
    return false;
}

static bool fault_ok(const char *spec)
{
    const char *colon = strrchr(spec, ':');
    if (!colon || !prefix_of(spec, triggers))
        return false;
    return prefix_of(colon + 1, actions);
}

dk_status dk_scen_validate(const dk_scenario *s, dk_err *err)
{
    if (s->version != DK_SCEN_VERSION)
        return dk_err_set(err, DK_E_UNSUPPORTED, -1, "dfukit_scenario: version %d (this build reads %d)",
                          s->version, DK_SCEN_VERSION);
    if (!one_of(s->device.chip, chips))
        return dk_err_set(err, DK_E_RANGE, -1, "device.chip: '%s' (nrf52840 or nrf52832)", s->device.chip);
    if (!one_of(s->device.enter_dfu, enters))
        return dk_err_set(err, DK_E_RANGE, -1,
                          "device.enter_dfu: '%s' (no-valid-app, always or first-boot)", s->device.enter_dfu);
    if (s->device.mtu < 23)
        return dk_err_set(err, DK_E_RANGE, -1, "device.mtu: %u (at least 23)", s->device.mtu);
    if (s->device.inactivity_ms > 0 && s->device.inactivity_ms < 100)
        return dk_err_set(err, DK_E_RANGE, -1, "device.inactivity_ms: %u (0 or at least 100)",
                          s->device.inactivity_ms);
    if (s->device.softdevice && (s->device.sd_fwid == 0 || s->device.sd_fwid == 0xFFFE))
        return dk_err_set(err, DK_E_RANGE, -1, "device.softdevice.fwid: 0x%04X (0x0001-0xFFFD)",
                          s->device.sd_fwid);
    if (s->device.softdevice && (s->device.sd_end % 4096 || s->device.sd_end <= 0x4000))
        return dk_err_set(err, DK_E_RANGE, -1, "device.softdevice.end: 0x%X (page-aligned, above 0x4000)",
                          s->device.sd_end);
    if (s->init.present && (s->init.len == 0 || s->init.len > DK_SCEN_INIT_MAX))
        return dk_err_set(err, DK_E_RANGE, -1, "init_packet.len: %u (1-%u)", s->init.len, DK_SCEN_INIT_MAX);
    if (s->start.init && (s->start.init_size == 0 || s->start.init_size > DK_SCEN_INIT_MAX))
        return dk_err_set(err, DK_E_RANGE, -1, "start.init.size: %u (1-%u)", s->start.init_size,
                          DK_SCEN_INIT_MAX);
    if (s->start.init && s->start.init_bytes_known &&
        dk_crc32(0, s->start.init_bytes, s->start.init_size) != s->start.init_crc)
        return dk_err_set(err, DK_E_VERIFY, -1, "start.init: crc 0x%08x does not match its hex",
                          s->start.init_crc);
    if (s->start.data && !s->start.init)
        return dk_err_set(err, DK_E_FORMAT, -1, "start.data: data progress needs start.init");
    if (s->line.realtime && (s->line.baud < 300 || s->line.baud > 12000000))
        return dk_err_set(err, DK_E_RANGE, -1, "line.baud: %u (300-12000000)", s->line.baud);
    for (size_t i = 0; i < s->n_faults; i++)
        if (!fault_ok(s->faults[i]))
            return dk_err_set(err, DK_E_FORMAT, -1, "faults[%zu]: '%s' is not TRIGGER:ACTION", i,
                              s->faults[i]);
    return DK_OK;
}

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
    set(root, "failure", f);

    set(root, "init_packet", init_json(s));

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
    set(root, "device", d);

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
    set(root, "start", st);

    json_t *h = json_object();
    set(h, "prn", int_or_null(s->host.prn, s->host.prn >= 0));
    set(h, "flow_control", s->host.flow_control >= 0 ? json_boolean(s->host.flow_control) : json_null());
    set(h, "baud", int_or_null(s->host.baud, s->host.baud > 0));
    json_t *args = json_array();
    for (size_t i = 0; i < s->host.n_dfuhost_args; i++)
        json_array_append_new(args, json_string(s->host.dfuhost_args[i]));
    set(h, "dfuhost_args", args);
    set(root, "host", h);

    json_t *l = json_object();
    set(l, "realtime", json_boolean(s->line.realtime));
    set(l, "baud", json_integer(s->line.baud));
    set(root, "line", l);

    json_t *fa = json_array();
    for (size_t i = 0; i < s->n_faults; i++)
        json_array_append_new(fa, json_string(s->faults[i]));
    set(root, "faults", fa);
    json_t *no = json_array();
    for (size_t i = 0; i < s->n_notes; i++)
        json_array_append_new(no, json_string(s->notes[i]));
    set(root, "notes", no);

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
    cpy(out, cap, json_string_value(v));
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
        cpy(out + i * width, width, json_string_value(v));
        *n = i + 1;
    }
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
    json_t *src = member(root, "source");
    if (!want_object(c, src, "source"))
        return;
    get_str(c, src, "file", "source", s->source.file, sizeof s->source.file);
    get_str(c, src, "format", "source", s->source.format, sizeof s->source.format);
    get_str(c, src, "host", "source", s->source.host, sizeof s->source.host);
    get_str(c, root, "diagnosis", "", s->diagnosis, sizeof s->diagnosis);

    json_t *f = member(root, "failure");
    if (!want_object(c, f, "failure"))
        return;
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

    json_t *ip = member(root, "init_packet");
    if (!want_object(c, ip, "init_packet"))
        return;
    if (ip) {
        s->init.present = true;
        get_u32(c, ip, "len", "init_packet", &s->init.len);
        get_crc(c, ip, "crc", "init_packet", &s->init.crc);
        get_bool(c, ip, "accepted", "init_packet", &s->init.accepted);
        if (s->init.len == 0 || s->init.len > DK_SCEN_INIT_MAX) {
            bad(c, "init_packet.len", "expected 1 to 512");
            return;
        }
        get_hex(c, ip, "init_packet", s->init.bytes, s->init.len, &s->init.bytes_known);
        char from[16] = "";
        get_str(c, ip, "from", "init_packet", from, sizeof from);
        s->init.from_package = strcmp(from, "package") == 0;
    }

    json_t *d = member(root, "device");
    if (!want_object(c, d, "device"))
        return;
    get_str(c, d, "chip", "device", s->device.chip, sizeof s->device.chip);
    get_u32(c, d, "hw_version", "device", &s->device.hw_version);
    json_t *sd = member(d, "softdevice");
    if (!want_object(c, sd, "device.softdevice"))
        return;
    if (sd) {
        uint32_t fwid = 0;
        s->device.softdevice = true;
        get_u32(c, sd, "fwid", "device.softdevice", &fwid);
        if (fwid > 0xFFFF) {
            bad(c, "device.softdevice.fwid", "expected a 16-bit FWID");
            return;
        }
        s->device.sd_fwid = (uint16_t)fwid;
        get_u32(c, sd, "end", "device.softdevice", &s->device.sd_end);
    }
    json_t *app = member(d, "app");
    if (!want_object(c, app, "device.app"))
        return;
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
    if (mtu > 8192) {
        bad(c, "device.mtu", "expected at most 8192");
        return;
    }
    s->device.mtu = (uint16_t)mtu;
    get_u32(c, d, "inactivity_ms", "device", &s->device.inactivity_ms);

    json_t *st = member(root, "start");
    if (!want_object(c, st, "start"))
        return;
    json_t *si = member(st, "init");
    if (!want_object(c, si, "start.init"))
        return;
    if (si) {
        s->start.init = true;
        get_u32(c, si, "size", "start.init", &s->start.init_size);
        get_crc(c, si, "crc", "start.init", &s->start.init_crc);
        if (s->start.init_size == 0 || s->start.init_size > DK_SCEN_INIT_MAX) {
            bad(c, "start.init.size", "expected 1 to 512");
            return;
        }
        get_hex(c, si, "start.init", s->start.init_bytes, s->start.init_size, &s->start.init_bytes_known);
    }
    json_t *sdat = member(st, "data");
    if (!want_object(c, sdat, "start.data"))
        return;
    if (sdat) {
        s->start.data = true;
        get_u32(c, sdat, "offset", "start.data", &s->start.data_offset);
        get_crc(c, sdat, "crc", "start.data", &s->start.data_crc);
    }

    json_t *h = member(root, "host");
    if (!want_object(c, h, "host"))
        return;
    get_int(c, h, "prn", "host", &s->host.prn, 0xFFFF);
    bool fc = false;
    if (member(h, "flow_control") && get_bool(c, h, "flow_control", "host", &fc))
        s->host.flow_control = fc;
    get_u32(c, h, "baud", "host", &s->host.baud);
    get_strings(c, h, "dfuhost_args", &s->host.dfuhost_args[0][0], sizeof s->host.dfuhost_args[0],
                DK_SCEN_ARGS_MAX, &s->host.n_dfuhost_args);

    json_t *l = member(root, "line");
    if (!want_object(c, l, "line"))
        return;
    get_bool(c, l, "realtime", "line", &s->line.realtime);
    get_u32(c, l, "baud", "line", &s->line.baud);

    get_strings(c, root, "faults", &s->faults[0][0], DK_SCEN_FAULT_LEN, DK_SCEN_FAULTS_MAX, &s->n_faults);
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

/* ---- the builder ----------------------------------------------------------------- */

struct dk_scen_builder {
    unsigned op_count[256];
    bool cmd_created, data_created;
    bool sel_cmd;
    uint32_t sel_cmd_off, sel_cmd_crc;
    bool sel_data;
    uint32_t sel_data_max, sel_data_off, sel_data_crc;
    bool has_part;
    uint32_t part;
    bool has_mtu;
    uint16_t mtu;
    bool has_app_ver;
    uint32_t app_ver, app_len;
    bool init;
    uint8_t init_bytes[DK_SCEN_INIT_MAX];
    size_t init_len;
    uint32_t init_crc;
    bool init_accepted;
    /* a late answer */
    bool late;
    uint8_t late_op;
    unsigned late_k;
    int64_t late_us;
    /* the first request never answered, and what came after it */
    bool unans;
    uint8_t unans_op;
    unsigned unans_k;
    int64_t unans_t;
    unsigned answers_after;
    /* the last request whose reported offset/CRC did not check out */
    bool bad;
    uint8_t bad_op;
    unsigned bad_k;
    dk_check bad_check;
    uint32_t bad_exp_off, bad_off; /* the offset expected and the one reported */
    uint64_t writes, bad_writes;   /* WRITE requests so far, and before the bad check */
    /* the last answered request before it */
    bool prev;
    uint8_t prev_op;
    unsigned prev_k;
    int64_t prev_t;
    bool gap;
    uint8_t gap_op;
    unsigned gap_k;
    int64_t gap_us;
};

dk_scen_builder *dk_scen_builder_new(void) { return calloc(1, sizeof(dk_scen_builder)); }
void dk_scen_builder_free(dk_scen_builder *b) { free(b); }

static void on_x(dk_scen_builder *b, const dk_exchange *x)
{
    if (!x->has_req) {
        if (b->unans && x->has_rsp)
            b->answers_after++;
        return;
    }
    uint8_t op = x->req.op;
    unsigned k = ++b->op_count[op];
    bool ok = x->has_rsp && x->rsp.result == DK_RES_SUCCESS;
    if (b->unans && x->has_rsp)
        b->answers_after++;
    switch (op) {
    case DK_OP_OBJECT_CREATE:
        if (x->req.req.create.type == DK_OBJ_COMMAND)
            b->cmd_created = true;
        else
            b->data_created = true;
        break;
    case DK_OP_OBJECT_SELECT:
        if (!ok)
            break;
        if (x->req.req.select.type == DK_OBJ_COMMAND && !b->sel_cmd && !b->cmd_created) {
            b->sel_cmd = true;
            b->sel_cmd_off = x->rsp.rsp.select.offset;
            b->sel_cmd_crc = x->rsp.rsp.select.crc;
        } else if (x->req.req.select.type == DK_OBJ_DATA && !b->sel_data && !b->cmd_created &&
                   !b->data_created) {
            b->sel_data = true;
            b->sel_data_max = x->rsp.rsp.select.max_size;
            b->sel_data_off = x->rsp.rsp.select.offset;
            b->sel_data_crc = x->rsp.rsp.select.crc;
        }
        break;
    case DK_OP_HARDWARE_VERSION:
        if (ok) {
            b->has_part = true;
            b->part = x->rsp.rsp.hw.part;
        }
        break;
    case DK_OP_MTU_GET:
        if (ok) {
            b->has_mtu = true;
            b->mtu = x->rsp.rsp.mtu.mtu;
        }
        break;
    case DK_OP_FIRMWARE_VERSION:
        if (ok && x->rsp.rsp.fw.type == DK_FW_APPLICATION) {
            b->has_app_ver = true;
            b->app_ver = x->rsp.rsp.fw.version;
            b->app_len = x->rsp.rsp.fw.len;
        }
        break;
    case DK_OP_OBJECT_EXECUTE:
        if (x->obj_type == DK_OBJ_COMMAND && ok)
            b->init_accepted = true;
        break;
    default:
        break;
    }
    if (x->check == DK_CHECK_CRC_BAD || x->check == DK_CHECK_OFFSET_BAD) {
        b->bad = true;
        b->bad_op = op;
        b->bad_k = k;
        b->bad_check = x->check;
        b->bad_exp_off = x->exp_offset;
        b->bad_off = x->rsp.rsp.crc.offset;
        b->bad_writes = b->writes;
    }
    if (x->late && x->has_rsp && !b->late) {
        b->late = true;
        b->late_op = op;
        b->late_k = k;
        b->late_us = x->latency_us >= 0 ? x->latency_us
                     : (x->t_rsp >= 0 && x->t_req >= 0) ? x->t_rsp - x->t_req : -1;
    }
    if (!x->has_rsp && dk_msg_expects_response(op) && !b->unans) {
        b->unans = true;
        b->unans_op = op;
        b->unans_k = k;
        b->unans_t = x->t_req;
        if (b->prev && b->prev_t >= 0 && x->t_req >= 0) {
            b->gap = true;
            b->gap_op = b->prev_op;
            b->gap_k = b->prev_k;
            b->gap_us = x->t_req - b->prev_t;
        }
    }
    if (x->has_rsp && !b->unans) {
        b->prev = true;
        b->prev_op = op;
        b->prev_k = k;
        b->prev_t = x->t_req;
    }
}

void dk_scen_builder_event(dk_scen_builder *b, const dk_event *ev)
{
    if (ev->kind == DK_EV_WRITES) {
        b->writes += ev->u.run.count;
    } else if (ev->kind == DK_EV_EXCHANGE) {
        on_x(b, &ev->u.x);
    } else if (ev->kind == DK_EV_INIT && ev->u.init.bytes && ev->u.init.len > 0 &&
               ev->u.init.len <= DK_SCEN_INIT_MAX) {
        b->init = true;
        memcpy(b->init_bytes, ev->u.init.bytes, ev->u.init.len);
        b->init_len = ev->u.init.len;
        b->init_crc = ev->u.init.crc;
    }
}

static const char *obj_word(uint8_t o)
{
    return o == DK_OBJ_COMMAND ? "command" : o == DK_OBJ_DATA ? "data" : "";
}

static bool in_list(const dk_init_cmd *c, uint32_t v)
{
    for (size_t i = 0; i < c->sd_req_count; i++)
        if (c->sd_req[i] == v)
            return true;
    return false;
}

/* The init packet the device sees: from the session, else the package. */
static void take_init(dk_scen_builder *b, const uint8_t *pkg_dat, size_t pkg_len, dk_scenario *o)
{
    if (b->init) {
        o->init.present = true;
        o->init.len = (uint32_t)b->init_len;
        o->init.crc = b->init_crc;
        o->init.bytes_known = true;
        memcpy(o->init.bytes, b->init_bytes, b->init_len);
    } else if (pkg_dat && pkg_len > 0 && pkg_len <= DK_SCEN_INIT_MAX) {
        o->init.present = true;
        o->init.len = (uint32_t)pkg_len;
        o->init.crc = dk_crc32(0, pkg_dat, pkg_len);
        o->init.bytes_known = true;
        o->init.from_package = true;
        memcpy(o->init.bytes, pkg_dat, pkg_len);
        dk_scen_note(o, "the init packet's bytes are not in the input: taken from the package");
    }
    o->init.accepted = b->init_accepted;
}

static void derive_device(dk_scen_builder *b, const dk_diag_failure *e, const dk_diag_facts *f,
                          const dk_initpkt *p, bool silent, dk_scenario *o)
{
    const dk_init_cmd *c = p ? &p->init : NULL;
    int ext = e->failed && e->result == DK_RES_EXT_ERROR ? e->ext : -1;
    int res = e->failed ? e->result : -1;
    bool init_fail = e->failed && e->stage == DK_STAGE_INIT;

    if (b->has_part && (b->part == 0x52840 || b->part == 0x52832)) {
        cpy(o->device.chip, sizeof o->device.chip, b->part == 0x52840 ? "nrf52840" : "nrf52832");
    } else {
        dk_scen_note(o, "chip: not in the input (no HARDWARE_VERSION answer); nrf52840 assumed");
    }
    if (b->has_mtu && b->mtu >= 23)
        o->device.mtu = b->mtu;

    /* hw_version (§6.7 step 3) */
    if (ext == DK_EXT_HW_VERSION_FAILURE) {
        uint32_t pk = c && c->has_hw_version ? c->hw_version : 0;
        o->device.hw_version = pk == 52 ? 53 : 52;
        dk_scen_note(o, "hw_version %u: the target refused the packet's hw_version %s (0x06)",
                     o->device.hw_version, c && c->has_hw_version ? "" : "(unknown)");
    } else if (c && c->has_hw_version) {
        o->device.hw_version = c->hw_version;
    }

    /* SoftDevice (§6.7: sd_req) */
    if (ext == DK_EXT_SD_VERSION_FAILURE) {
        if (c && c->sd_req_count && c->sd_req[0] == 0) {
            uint16_t id = 0x0100;
            while (in_list(c, id) && id < 0xFFFD)
                id++;
            o->device.softdevice = true;
            o->device.sd_fwid = id;
            dk_scen_note(o, "SoftDevice 0x%04X: one sd_req does not list (0x07)", id);
        } else {
            o->device.softdevice = false;
            dk_scen_note(o, "no SoftDevice (MBR only): refuses any sd_req that does not start with 0 "
                            "(0x07); the installed FWID is not in the input");
        }
    } else if (c && c->sd_req_count && c->sd_req[0] != 0) {
        uint32_t id = 0;
        for (size_t i = 0; i < c->sd_req_count && !id; i++)
            if (c->sd_req[i] != 0xFFFE && c->sd_req[i] != 0 && c->sd_req[i] <= 0xFFFD)
                id = c->sd_req[i];
        if (id) {
            o->device.softdevice = true;
            o->device.sd_fwid = (uint16_t)id;
            dk_scen_note(o, "SoftDevice 0x%04X: the first FWID the init packet's sd_req accepts", id);
        }
    }

    /* installed app: the target's own word, the downgrade check, or an app
     * that runs instead of the bootloader */
    if (b->has_app_ver) {
        o->device.app = true;
        o->device.app_version = b->app_ver;
        o->device.app_size = b->app_len ? b->app_len : 16384;
    }
    if (ext == DK_EXT_FW_VERSION_FAILURE) {
        o->device.app = true;
        if (!b->has_app_ver) {
            uint32_t v = c && c->has_fw_version ? c->fw_version : 0;
            o->device.app_version = c && c->has_fw_version && v < UINT32_MAX ? v + 1 : UINT32_MAX;
            o->device.app_size = 16384;
            dk_scen_note(o, "installed app version %u: above the packet's fw_version%s (0x05); size "
                            "not in the input",
                         o->device.app_version, c && c->has_fw_version ? "" : " (unknown)");
        }
    }
    if (silent) {
        o->device.app = true;
        if (!o->device.app_size)
            o->device.app_size = 16384;
        if (!o->device.app_version)
            o->device.app_version = 1;
        cpy(o->device.enter_dfu, sizeof o->device.enter_dfu, "no-valid-app");
        dk_scen_note(o, "the target never answered: modelled as a valid app that runs (not in DFU "
                        "mode, port silent)%s",
                     f->flow_control == 1 ? "; the host's RTS/CTS cannot be modelled on a pty" : "");
    } else if (o->device.app) {
        cpy(o->device.enter_dfu, sizeof o->device.enter_dfu, "first-boot");
        dk_scen_note(o, "an app is installed and the target answered: it entered DFU mode by "
                        "button at power-on (first-boot)");
    }

    /* signatures (§6.7 step 1) */
    if (ext == DK_EXT_SIGNATURE_MISSING || ext == DK_EXT_WRONG_SIGNATURE_TYPE ||
        (init_fail && (res == DK_RES_INVALID_OBJECT || res == DK_RES_OPERATION_FAILED) && p &&
         p->is_signed)) {
        o->device.require_signature = true;
        dk_scen_note(o, "signed updates required, with no key that verifies the packet");
    } else if (p && p->is_signed) {
        o->device.require_signature = true;
        dk_scen_note(o, "the init packet is signed: give dfusim --public-key with the key that "
                        "signed it, or its EXECUTE fails with 0x05");
    }
}

static void derive_start(dk_scen_builder *b, const dk_diag_facts *f, dk_scenario *o)
{
    if (!b->sel_cmd || b->sel_cmd_off == 0)
        return;
    o->start.init = true;
    o->start.init_size = b->sel_cmd_off;
    o->start.init_crc = b->sel_cmd_crc;
    if (o->init.bytes_known && o->init.len >= b->sel_cmd_off &&
        dk_crc32(0, o->init.bytes, b->sel_cmd_off) == b->sel_cmd_crc) {
        o->start.init_bytes_known = true;
        memcpy(o->start.init_bytes, o->init.bytes, b->sel_cmd_off);
    } else {
        dk_scen_note(o, "the target held another init packet (%u bytes, crc 0x%08x) whose bytes are "
                        "not in the input: dfusim stores a stand-in that reports the same size and CRC",
                     b->sel_cmd_off, b->sel_cmd_crc);
    }
    if (b->sel_data && b->sel_data_off > 0) {
        o->start.data = true;
        o->start.data_offset = b->sel_data_off;
        o->start.data_crc = b->sel_data_crc;
        o->device.save_progress_in_flash = true;
        dk_scen_note(o, "data progress %u was held at the host's start: kept in the settings page "
                        "(save_progress_in_flash; without it only a bootloader that stayed up keeps "
                        "it, §6.9)",
                     b->sel_data_off);
        if (b->sel_data_max && b->sel_data_off % b->sel_data_max)
            dk_scen_note(o, "the held progress ends inside an object: dfusim keeps whole objects only");
    }
    (void)f;
}

static uint32_t clamp_u32(int64_t v, uint32_t lo, uint32_t hi)
{
    return v < lo ? lo : v > hi ? hi : (uint32_t)v;
}

static void derive_faults(dk_scen_builder *b, const dk_summary *sum, const dk_diag_facts *f,
                          const dk_diag_row *diag, bool silent, dk_scenario *o)
{
    const char *id = diag ? diag->id : "";
    if (silent)
        return;
    if (f->idle_silence && b->gap) {
        /* the host paused; a host that does not pause waits as long for an answer */
        uint32_t ms = (uint32_t)((b->gap_us + 999) / 1000);
        dk_scen_fault(o, "op=0x%02x#%u:delay-response=%u", b->gap_op, b->gap_k, ms);
        if (!o->device.app) {
            o->device.app = true;
            o->device.app_size = 16384;
            o->device.app_version = 1;
            cpy(o->device.enter_dfu, sizeof o->device.enter_dfu, "first-boot");
        }
        dk_scen_note(o, "the host paused %u ms after request 0x%02x #%u; the answer is delayed as "
                        "long so the inactivity timer (%u ms) resets the chip, and the old app "
                        "boots",
                     ms, b->gap_op, b->gap_k, o->device.inactivity_ms);
        return;
    }
    if (b->late) {
        uint32_t ms = clamp_u32(b->late_us >= 0 ? (b->late_us + 999) / 1000 : 1500, 1200, 1800);
        dk_scen_fault(o, "op=0x%02x#%u:delay-response=%u", b->late_op, b->late_k, ms);
        dk_scen_note(o, "the answer to request 0x%02x #%u came late; delayed %u ms: after the host's "
                        "1 s timeout, before its next request's",
                     b->late_op, b->late_k, ms);
        return;
    }
    if (f->has_exc && f->exc == DK_NX_UNEXPECTED_OP && f->exc_values && f->exc_received < 256) {
        /* a log without the messages: the host named the late answer */
        unsigned k = f->exc_received == DK_OP_OBJECT_EXECUTE ? 2 : 1;
        dk_scen_fault(o, "op=0x%02x#%u:delay-response=1500", f->exc_received, k);
        dk_scen_note(o, "the host read an answer to request 0x%02x while it waited for 0x%02x: that "
                        "answer came late; which one is not in the input (#%u assumed: %s)",
                     f->exc_received, f->exc_expected, k,
                     k == 2 ? "the first data object's EXECUTE" : "the first");
        return;
    }
    bool crc_bad = !strcmp(id, "data.crc_mismatch"), off_bad = !strcmp(id, "data.bytes_lost");
    bool over = !strcmp(id, "link.overrun");
    if ((over || crc_bad || off_bad) && b->bad && b->bad_op == DK_OP_CRC_GET &&
        b->bad_check == DK_CHECK_OFFSET_BAD && b->bad_off < b->bad_exp_off && b->writes) {
        /* frames lost on the way in: as many WRITEs as bytes are missing,
         * taken to be the last ones before that CRC_GET (which ones the log
         * does not say) */
        uint32_t chunk = (o->device.mtu - 1) / 2 - 1;
        uint64_t lost = (b->bad_exp_off - b->bad_off + chunk - 1) / chunk;
        if (lost > DK_SCEN_FAULTS_MAX - 1)
            lost = DK_SCEN_FAULTS_MAX - 1;
        if (lost > b->bad_writes)
            lost = b->bad_writes;
        for (uint64_t i = 0; i < lost; i++)
            dk_scen_fault(o, "op=0x08#%llu:lose-request", (unsigned long long)(b->bad_writes - lost + 1 + i));
        dk_scen_note(o, "%llu WRITE%s lost on the way in (CRC_GET #%u reported %u of %u bytes); the "
                        "rerun loses the last ones before it%s",
                     (unsigned long long)lost, lost == 1 ? "" : "s", b->bad_k, b->bad_off, b->bad_exp_off,
                     over ? " (a UART overrun while flash was busy, no flow control: §1.3)" : "");
        return;
    }
    if (crc_bad || off_bad) {
        /* the answer the host could not believe: its CRC (bytes 7-10 of
         * 60 03 01 offset crc) or its offset (bytes 3-6) changed */
        unsigned k = b->bad && b->bad_op == DK_OP_CRC_GET ? b->bad_k : 2;
        bool crc = b->bad ? b->bad_check == DK_CHECK_CRC_BAD : crc_bad;
        dk_scen_fault(o, "op=0x03#%u:corrupt-byte=%u", k, crc ? 7 : 3);
        dk_scen_note(o, "the target's answer to CRC_GET #%u did not match the bytes sent%s: its %s "
                        "is corrupted on the way back",
                     k, b->bad ? "" : " (its number is not in the input: the first data object's "
                                      "assumed)",
                     crc ? "CRC" : "offset");
        return;
    }
    if (b->unans && b->answers_after == 0 && sum->outcome != DK_OUTCOME_COMPLETED) {
        dk_scen_fault(o, "op=0x%02x#%u:stall", b->unans_op, b->unans_k);
        dk_scen_note(o, "the target went silent at request 0x%02x #%u and never answered again",
                     b->unans_op, b->unans_k);
    }
}

void dk_scen_builder_finish(dk_scen_builder *b, const dk_summary *sum, const dk_diag_facts *f,
                            const dk_diag_row *diag, const uint8_t *pkg_dat, size_t pkg_dat_len,
                            const char *source, const char *format, dk_scenario *o)
{
    dk_diag_facts none;
    if (!f) {
        dk_diag_facts_init(&none);
        f = &none;
    }
    dk_scen_init(o);
    cpy(o->source.file, sizeof o->source.file, source);
    cpy(o->source.format, sizeof o->source.format, format);
    cpy(o->source.host, sizeof o->source.host, f->host_tool);
    if (!o->source.host[0] && format && !strcmp(format, "nrfutil"))
        cpy(o->source.host, sizeof o->source.host, "nrfutil");
    else if (!o->source.host[0] && format && !strcmp(format, "ble"))
        cpy(o->source.host, sizeof o->source.host, "nrfutil-ble");
    if (diag)
        cpy(o->diagnosis, sizeof o->diagnosis, diag->id);

    dk_diag_failure e;
    dk_diag_effective(sum, f, &e);
    cpy(o->failure.outcome, sizeof o->failure.outcome, dk_outcome_name(e.outcome));
    if (e.failed) {
        cpy(o->failure.stage, sizeof o->failure.stage, e.stage ? dk_stage_name(e.stage) : "");
        o->failure.op = e.op;
        o->failure.result = e.result;
        o->failure.ext = e.ext;
    } else if (b->unans && sum->outcome != DK_OUTCOME_COMPLETED) {
        o->failure.op = b->unans_op; /* the request left unanswered */
    } else if (b->bad && sum->outcome != DK_OUTCOME_COMPLETED) {
        o->failure.op = b->bad_op; /* the check that failed */
    } else if (sum->outcome != DK_OUTCOME_COMPLETED && f->exc_mask & ((1u << DK_NX_CRC) | (1u << DK_NX_OFFSET))) {
        o->failure.op = DK_OP_CRC_GET; /* the host's own check of its answer */
    }
    unsigned img = sum->n_images;
    o->failure.image = img;
    cpy(o->failure.object, sizeof o->failure.object, obj_word(sum->stop_obj));
    o->failure.offset = sum->stop_offset;
    o->failure.size = sum->stop_size;
    if (f->has_exc) {
        cpy(o->failure.host_error, sizeof o->failure.host_error, f->exc_text);
        cpy(o->failure.host_error_kind, sizeof o->failure.host_error_kind, dk_nx_name(f->exc));
    }
    o->host.prn = f->prn;
    o->host.flow_control = f->flow_control;
    o->host.baud = f->baud;

    take_init(b, pkg_dat, pkg_dat_len, o);
    dk_initpkt pkt, *p = NULL;
    if (o->init.bytes_known && dk_initpkt_decode(o->init.bytes, o->init.len, &pkt, NULL) == DK_OK &&
        pkt.has_init)
        p = &pkt;
    if (p && o->failure.size == 0 && !strcmp(o->failure.object, "data"))
        o->failure.size = dk_initpkt_image_size(p);
    bool silent = sum->responses == 0 && (sum->requests > 0 || f->no_ping ||
                                          (f->exc_mask & (1u << DK_NX_NO_PING)));
    derive_device(b, &e, f, p, silent, o);
    derive_start(b, f, o);
    derive_faults(b, sum, f, diag, silent, o);
    if (e.failed && e.result == DK_RES_EXT_ERROR && e.ext == DK_EXT_VERIFICATION_FAILED) {
        dk_scen_host_arg(o, "--no-check");
        dk_scen_note(o, "the hash mismatch travels with the package: rerun the same package "
                        "(dfuhost --no-check sends it although its hash does not match)");
    }
    if (!p && !silent && sum->outcome != DK_OUTCOME_EMPTY)
        dk_scen_note(o, "the init packet is not in the input: give dfudecode --pkg for a faithful "
                        "device");
    if (f->prog_error || (sum->outcome == DK_OUTCOME_EMPTY && !f->has_exc && !f->no_ping))
        dk_scen_note(o, "the input holds no serial DFU session: nothing for dfusim to reproduce");
}
