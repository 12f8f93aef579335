/* fault.c - --fault SPEC parser and matcher (see fault.h). */
#include "fault.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dfukit/tables.h"

static const struct { const char *name; uint8_t op; } op_alias[] = {
    { "version", 0x00 }, { "create", 0x01 }, { "prn", 0x02 },    { "crc", 0x03 },
    { "execute", 0x04 }, { "select", 0x06 }, { "mtu", 0x07 },    { "write", 0x08 },
    { "ping", 0x09 },    { "hw", 0x0A },     { "fw", 0x0B },     { "abort", 0x0C },
};

static const char *trig_names[] = { "after-bytes", "flash-op", "op", "after-op", "after-ms" };
static const char *act_names[] = { "reset", "power-cut", "drop-response", "delay-response",
                                   "stall", "corrupt-byte", "flash-error", "lose-request",
                                   "pause" };

const char *ds_fault_trig_name(ds_fault_trig t)
{
    return (unsigned)t < sizeof trig_names / sizeof *trig_names ? trig_names[t] : "?";
}

const char *ds_fault_act_name(ds_fault_act a)
{
    return (unsigned)a < sizeof act_names / sizeof *act_names ? act_names[a] : "?";
}

static int fail(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t cap, const char *fmt, ...)
{
    if (why && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* A whole-string unsigned number, decimal or 0x-hex. */
static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf || !isdigit((unsigned char)s[0]))
        return false;
    memcpy(buf, s, len);
    buf[len] = 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 0);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static bool parse_opcode(const char *s, size_t len, uint8_t *op)
{
    uint64_t v;
    if (parse_u64(s, len, &v)) {
        if (v > 0xFF)
            return false;
        *op = (uint8_t)v;
        return true;
    }
    for (size_t i = 0; i < sizeof op_alias / sizeof *op_alias; i++)
        if (strlen(op_alias[i].name) == len && strncasecmp(op_alias[i].name, s, len) == 0) {
            *op = op_alias[i].op;
            return true;
        }
    for (unsigned v2 = 0; v2 <= 0x0C; v2++) {
        const char *n = dk_op_name(v2);
        if (n && strlen(n) == len && strncasecmp(n, s, len) == 0) {
            *op = (uint8_t)v2;
            return true;
        }
    }
    return false;
}

static bool word_is(const char *s, size_t len, const char *w)
{
    return strlen(w) == len && strncmp(s, w, len) == 0;
}

int ds_fault_parse(const char *spec, ds_fault *f, char *why, size_t cap)
{
    memset(f, 0, sizeof *f);
    snprintf(f->spec, sizeof f->spec, "%s", spec);
    const char *colon = strchr(spec, ':');
    if (!colon)
        return fail(why, cap, "fault '%s': expected TRIGGER:ACTION", spec);

    /* trigger */
    const char *eq = memchr(spec, '=', (size_t)(colon - spec));
    if (!eq)
        return fail(why, cap, "fault '%s': trigger needs a value (e.g. after-bytes=4096)", spec);
    size_t tlen = (size_t)(eq - spec);
    const char *val = eq + 1;
    size_t vlen = (size_t)(colon - val);
    if (word_is(spec, tlen, "after-bytes"))
        f->trig = DS_FT_BYTES;
    else if (word_is(spec, tlen, "flash-op"))
        f->trig = DS_FT_FLASH_OP;
    else if (word_is(spec, tlen, "op"))
        f->trig = DS_FT_OP;
    else if (word_is(spec, tlen, "after-op"))
        f->trig = DS_FT_AFTER_OP;
    else if (word_is(spec, tlen, "after-ms"))
        f->trig = DS_FT_MS;
    else
        return fail(why, cap, "fault '%s': unknown trigger '%.*s' (after-bytes, flash-op, op, "
                    "after-op, after-ms)", spec, (int)tlen, spec);

    if (f->trig == DS_FT_OP || f->trig == DS_FT_AFTER_OP) {
        const char *hash = memchr(val, '#', vlen);
        size_t olen = hash ? (size_t)(hash - val) : vlen;
        if (!parse_opcode(val, olen, &f->opcode))
            return fail(why, cap, "fault '%s': bad opcode '%.*s'", spec, (int)olen, val);
        f->n = 1;
        if (hash) {
            const char *k = hash + 1;
            size_t klen = (size_t)(colon - k);
            if (klen && k[klen - 1] == '+') {
                f->repeat = true;
                klen--;
            }
            if (!parse_u64(k, klen, &f->n) || f->n == 0)
                return fail(why, cap, "fault '%s': bad count after '#' (1, 2, ... or N+)", spec);
        }
    } else {
        if (!parse_u64(val, vlen, &f->n))
            return fail(why, cap, "fault '%s': bad number '%.*s'", spec, (int)vlen, val);
        if (f->trig == DS_FT_FLASH_OP && f->n == 0)
            return fail(why, cap, "fault '%s': flash operations count from 1", spec);
    }

    /* action */
    const char *act = colon + 1;
    const char *aeq = strchr(act, '=');
    size_t alen = aeq ? (size_t)(aeq - act) : strlen(act);
    const char *arg = aeq ? aeq + 1 : NULL;
    size_t i;
    for (i = 0; i < sizeof act_names / sizeof *act_names; i++)
        if (word_is(act, alen, act_names[i]))
            break;
    if (i == sizeof act_names / sizeof *act_names)
        return fail(why, cap, "fault '%s': unknown action '%.*s' (reset, power-cut, drop-response, "
                    "delay-response=MS, stall, corrupt-byte, flash-error, lose-request, pause)", spec, (int)alen, act);
    f->act = (ds_fault_act)i;
    uint64_t a = 0;
    bool has_arg = arg != NULL;
    if (has_arg && !parse_u64(arg, strlen(arg), &a))
        return fail(why, cap, "fault '%s': bad action value '%s'", spec, arg);
    switch (f->act) {
    case DS_FA_DELAY:
        if (!has_arg)
            return fail(why, cap, "fault '%s': delay-response needs =MS", spec);
        /* fall through */
    case DS_FA_POWER_CUT:
        if (a > 3600000)
            return fail(why, cap, "fault '%s': %llu ms is more than an hour", spec,
                        (unsigned long long)a);
        f->arg = (int64_t)a;
        break;
    case DS_FA_LOSE:
        if (has_arg)
            return fail(why, cap, "fault '%s': lose-request takes no value", spec);
        if (f->trig != DS_FT_OP)
            return fail(why, cap, "fault '%s': lose-request goes with an op= trigger", spec);
        break;
    case DS_FA_CORRUPT:
        if (has_arg && a > 0xFFFF)
            return fail(why, cap, "fault '%s': byte index %llu too large", spec, (unsigned long long)a);
        f->arg = has_arg ? (int64_t)a : -1;
        break;
    default:
        if (has_arg)
            return fail(why, cap, "fault '%s': %s takes no value", spec, act_names[i]);
    }
    return 0;
}

void ds_faults_init(ds_faults *fs)
{
    memset(fs, 0, sizeof *fs);
}

int ds_faults_add(ds_faults *fs, const ds_fault *f)
{
    if (fs->n >= DS_FAULTS_MAX)
        return -1;
    fs->f[fs->n] = *f;
    fs->f[fs->n].fired = 0;
    fs->n++;
    return 0;
}

static void merge(ds_fault_fire *dst, const ds_fault_fire *src)
{
    dst->reset |= src->reset;
    if (src->power_cut) {
        dst->power_cut = true;
        if (src->off_ms > dst->off_ms)
            dst->off_ms = src->off_ms;
    }
    dst->stall |= src->stall;
    dst->lose |= src->lose;
    dst->pause |= src->pause;
    for (size_t i = 0; i < src->n_which && dst->n_which < DS_FAULTS_MAX; i++)
        dst->which[dst->n_which++] = src->which[i];
}

/* Carry out fault i's action: chip actions go to out, the rest is armed. */
static void fire(ds_faults *fs, size_t i, ds_fault_fire *out)
{
    ds_fault *f = &fs->f[i];
    f->fired++;
    if (out->n_which < DS_FAULTS_MAX)
        out->which[out->n_which++] = (unsigned)i;
    switch (f->act) {
    case DS_FA_RESET:
        out->reset = true;
        break;
    case DS_FA_POWER_CUT:
        out->power_cut = true;
        if ((uint64_t)f->arg > out->off_ms)
            out->off_ms = (uint32_t)f->arg;
        break;
    case DS_FA_STALL:
        out->stall = true;
        break;
    case DS_FA_DROP:
        fs->drop++;
        break;
    case DS_FA_DELAY:
        fs->delay = true;
        fs->delay_ms = (uint32_t)f->arg;
        break;
    case DS_FA_CORRUPT:
        fs->corrupt = true;
        fs->corrupt_at = f->arg;
        break;
    case DS_FA_FLASH_ERROR:
        fs->flash_error++;
        break;
    case DS_FA_LOSE:
        out->lose = true;
        break;
    case DS_FA_PAUSE:
        out->pause = true;
        break;
    }
}

static void clear(ds_fault_fire *out)
{
    memset(out, 0, sizeof *out);
}

static void match_op(ds_faults *fs, ds_fault_trig trig, uint8_t opcode, ds_fault_fire *out)
{
    uint64_t count = fs->op_count[opcode];
    for (size_t i = 0; i < fs->n; i++) {
        ds_fault *f = &fs->f[i];
        if (f->trig != trig || f->opcode != opcode)
            continue;
        if (f->repeat ? count >= f->n : (count == f->n && f->fired == 0))
            fire(fs, i, out);
    }
}

void ds_faults_request(ds_faults *fs, uint8_t opcode, ds_fault_fire *out)
{
    clear(out);
    fs->op_count[opcode]++;
    match_op(fs, DS_FT_OP, opcode, out);
}

void ds_faults_handled(ds_faults *fs, uint8_t opcode, uint64_t image_bytes, ds_fault_fire *out)
{
    clear(out);
    match_op(fs, DS_FT_AFTER_OP, opcode, out);
    for (size_t i = 0; i < fs->n; i++) {
        ds_fault *f = &fs->f[i];
        if (f->trig == DS_FT_BYTES && f->fired == 0 && image_bytes >= f->n)
            fire(fs, i, out);
    }
    ds_faults_take_deferred(fs, out);
}

void ds_faults_take_deferred(ds_faults *fs, ds_fault_fire *out)
{
    merge(out, &fs->deferred);
    clear(&fs->deferred);
}

ds_fault_verdict ds_faults_flash_op(ds_faults *fs, uint64_t op_no)
{
    ds_fault_verdict v = DS_FV_GO;
    for (size_t i = 0; i < fs->n; i++) {
        ds_fault *f = &fs->f[i];
        if (f->trig != DS_FT_FLASH_OP || f->n != op_no || f->fired)
            continue;
        if (f->act == DS_FA_FLASH_ERROR) {
            f->fired++;
            if (fs->deferred.n_which < DS_FAULTS_MAX)
                fs->deferred.which[fs->deferred.n_which++] = (unsigned)i;
            if (v == DS_FV_GO)
                v = DS_FV_FAIL;
            continue;
        }
        fire(fs, i, &fs->deferred);
        if (f->act == DS_FA_POWER_CUT)
            v = DS_FV_CUT;
    }
    if (v == DS_FV_GO && fs->flash_error) {
        fs->flash_error--;
        v = DS_FV_FAIL;
    }
    return v;
}

void ds_faults_tick(ds_faults *fs, uint64_t now_ms, ds_fault_fire *out)
{
    clear(out);
    for (size_t i = 0; i < fs->n; i++) {
        ds_fault *f = &fs->f[i];
        if (f->trig == DS_FT_MS && f->fired == 0 && now_ms >= f->n)
            fire(fs, i, out);
    }
}

uint64_t ds_faults_next_ms(const ds_faults *fs)
{
    uint64_t t = UINT64_MAX;
    for (size_t i = 0; i < fs->n; i++) {
        const ds_fault *f = &fs->f[i];
        if (f->trig == DS_FT_MS && f->fired == 0 && f->n < t)
            t = f->n;
    }
    return t;
}

bool ds_faults_response(ds_faults *fs, uint32_t *delay_ms, int64_t *corrupt_at)
{
    *delay_ms = 0;
    *corrupt_at = -2;
    if (fs->drop) {
        fs->drop--;
        return true;
    }
    if (fs->delay) {
        fs->delay = false;
        *delay_ms = fs->delay_ms;
    }
    if (fs->corrupt) {
        fs->corrupt = false;
        *corrupt_at = fs->corrupt_at;
    }
    return false;
}

void ds_fault_corrupt(uint8_t *rsp, size_t len, int64_t at)
{
    if (len == 0 || at < -1)
        return;
    size_t i = (at < 0 || (uint64_t)at >= len) ? len - 1 : (size_t)at;
    rsp[i] ^= 0xFF;
}
