/* make.c - keys, packages and the stale-init scenario of a case (check.h).
 *
 * Every package goes through lib: dk_pkg_make_dat builds (and signs) the init
 * packet, dk_pkg_write the zip; the init packet's CRC is steered by its
 * fw_version (a varint re-encoded with dk_initpkt_encode, re-signed), since
 * the hash fixes everything else.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "dfukit/crc.h"
#include "dfukit/crypto.h"
#include "dfukit/initpkt.h"
#include "dfukit/pkg.h"
#include "dfukit/scenario.h"
#include "dfukit/tables.h"

#define TOO_BIG 1000000u          /* more than an nRF52840's free flash (§7) */
#define ESCAPED_SIZE (0xC000u + DC_OBJ + 1000u) /* a boundary at 0xC000, then more */

static int fail(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return -1;
}

bool dc_path(char *out, const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    if (a + 1 + b >= DC_PATH) {
        out[0] = 0;
        return false;
    }
    memmove(out, dir, a);
    out[a] = '/';
    memcpy(out + a + 1, name, b + 1);
    return true;
}

int dc_mkdir_p(const char *dir)
{
    char tmp[DC_PATH];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

int dc_make_keys(dc_ctx *ctx, char *why, size_t cap)
{
    char dir[DC_PATH];
    dc_path(dir, ctx->keep, "keys");
    if (dc_mkdir_p(dir) < 0)
        return fail(why, cap, "%s: %s", dir, strerror(errno));
    dc_path(ctx->key, dir, "board-private.pem");
    dc_path(ctx->pub, dir, "board-public.pem");
    dc_path(ctx->other, dir, "other-private.pem");
    dk_err err;
    if (dk_ecdsa_keygen_pem(ctx->key, ctx->pub, &err) != DK_OK ||
        dk_ecdsa_keygen_pem(ctx->other, NULL, &err) != DK_OK)
        return fail(why, cap, "%s", err.msg);
    return 0;
}

static int write_file(const char *p, const uint8_t *d, size_t n, char *why, size_t cap)
{
    FILE *f = fopen(p, "wb");
    bool ok = f && fwrite(d, 1, n, f) == n;
    if (f && fclose(f) != 0)
        ok = false;
    return ok ? 0 : fail(why, cap, "%s: cannot write: %s", p, strerror(errno));
}

/* The CRC of the init packet as the target reports it after the last write. */
static bool dat_fits(uint32_t crc, bool escaped)
{
    return escaped ? dc_u32_has_both(crc) : !dc_u32_needs_escape(crc);
}

/* The .dat of img: type APPLICATION, tmpl's fields, fw_version from *fw on,
 * the first whose init packet CRC fits (clean, or both 0xC0 and 0xDB). */
static int make_dat(dk_init_cmd tmpl, const uint8_t *img, size_t len, const char *key,
                    bool escaped, uint32_t *fw, uint32_t fw_max, uint8_t **dat, size_t *dlen,
                    char *why, size_t cap)
{
    dk_err err;
    tmpl.has_fw_version = true;
    tmpl.fw_version = *fw;
    if (dk_pkg_make_dat(&tmpl, DK_FW_APPLICATION, img, len, 0, 0, key, dat, dlen, &err) != DK_OK)
        return fail(why, cap, "init packet: %s", err.msg);
    dk_initpkt p;
    if (dk_initpkt_decode(*dat, *dlen, &p, &err) != DK_OK)
        return fail(why, cap, "init packet: %s", err.msg);
    uint8_t buf[DK_INITPKT_MAX], ib[DK_INITPKT_MAX];
    for (uint32_t v = *fw; v <= fw_max; v++) {
        p.init.fw_version = v;
        size_t n = dk_initpkt_encode_init(&p.init, ib, sizeof ib);
        if (key && (!n || dk_ecdsa_sign_pem(key, ib, n, p.signature, &err) != DK_OK))
            return fail(why, cap, "signing: %s", n ? err.msg : "init command does not encode");
        n = dk_initpkt_encode(&p, buf, sizeof buf);
        if (n == 0)
            return fail(why, cap, "init packet does not encode");
        if (dat_fits(dk_crc32(0, buf, n), escaped)) {
            uint8_t *d = realloc(*dat, n);
            if (!d)
                return fail(why, cap, "out of memory");
            *dat = d;
            memcpy(*dat, buf, n);
            *dlen = n;
            *fw = v;
            return 0;
        }
    }
    free(*dat);
    *dat = NULL;
    return fail(why, cap, "no fw_version from %u to %u gives the init packet CRC wanted", *fw,
                fw_max);
}

static int write_pkg(const char *dir, dc_plan *p, const uint8_t *bin, size_t bin_len,
                     uint8_t *dat, size_t dat_len, char *why, size_t cap)
{
    dk_pkg pkg;
    memset(&pkg, 0, sizeof pkg);
    pkg.n = 1;
    dk_image *im = &pkg.img[0];
    im->kind = DK_IMG_APPLICATION;
    im->key = dk_img_key(DK_IMG_APPLICATION);
    snprintf(im->bin_name, sizeof im->bin_name, "app.bin");
    snprintf(im->dat_name, sizeof im->dat_name, "app.dat");
    im->bin = (uint8_t *)bin;
    im->bin_len = bin_len;
    im->dat = dat;
    im->dat_len = dat_len;
    dc_path(p->pkg, dir, "app.zip");
    dc_path(p->dat, dir, "app.dat");
    dc_path(p->bin, dir, "app.bin");
    dk_err err;
    if (dk_pkg_write(p->pkg, &pkg, &err) != DK_OK)
        return fail(why, cap, "%s: %s", p->pkg, err.msg);
    if (write_file(p->dat, dat, dat_len, why, cap) < 0 || write_file(p->bin, bin, bin_len, why, cap) < 0)
        return -1;
    return 0;
}

static uint32_t seed_of(const char *id, uint32_t salt)
{
    uint32_t h = 2166136261u ^ salt;
    for (const char *s = id; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* The stale-init device: another package's init command of the same length,
 * executed, and data progress of 2 objects, as the settings page holds them
 * (dfusim --scenario, §6.3, §6.9). */
static int make_stale(dc_plan *p, const dk_init_cmd *tmpl, const char *key, char *why, size_t cap)
{
    uint8_t *other = malloc(p->img_len), *dat = NULL;
    size_t dlen = 0;
    uint32_t fw = p->fw_version;
    if (!other)
        return fail(why, cap, "out of memory");
    int rc = -1;
    for (uint32_t salt = 1; salt < 64 && rc < 0; salt++) {
        dc_image_make(other, p->img_len, DC_IMG_CLEAN, seed_of(p->id, salt));
        free(dat);
        dat = NULL;
        fw = p->fw_version;
        rc = make_dat(*tmpl, other, p->img_len, key, false, &fw, fw, &dat, &dlen, why, cap);
    }
    if (rc == 0) {
        dk_scenario sc;
        dk_scen_init(&sc);
        sc.start.init = true;
        sc.start.init_size = (uint32_t)dlen;
        sc.start.init_crc = dk_crc32(0, dat, dlen);
        sc.start.init_bytes_known = true;
        memcpy(sc.start.init_bytes, dat, dlen);
        sc.start.data = true;
        sc.start.data_offset = 2 * DC_OBJ;
        sc.start.data_crc = dk_crc32(0, other, 2 * DC_OBJ);
        dk_scen_note(&sc, "dfucheck stale-init: another package's init command, %zu bytes", dlen);
        dc_path(p->scenario, p->dir, "stale-scenario.json");
        dk_err err;
        if (dk_scen_write(&sc, p->scenario, &err) != DK_OK)
            rc = fail(why, cap, "%s: %s", p->scenario, err.msg);
    }
    free(other);
    free(dat);
    return rc;
}

/* The package dfucheck makes for case c. */
static int make_own(const dc_ctx *ctx, const dc_case *c, dc_plan *p, char *why, size_t cap)
{
    bool escaped = c->pkg == DC_PKG_ESCAPED;
    p->img_len = escaped ? ESCAPED_SIZE : c->pkg == DC_PKG_TOO_BIG ? TOO_BIG : ctx->size;
    p->img = malloc(p->img_len);
    if (!p->img)
        return fail(why, cap, "out of memory");
    dc_image_make(p->img, p->img_len, escaped ? DC_IMG_ESCAPED : DC_IMG_CLEAN, seed_of(c->id, 0));

    dk_init_cmd tmpl;
    memset(&tmpl, 0, sizeof tmpl);
    tmpl.has_hw_version = true;
    tmpl.hw_version = c->pkg == DC_PKG_HW ? 51 : 52;
    tmpl.sd_req_count = 1;
    tmpl.sd_req[0] = c->pkg == DC_PKG_SD_REQ ? 0x0101 : 0x00;
    const char *key = c->pkg == DC_PKG_WRONG_KEY ? ctx->other
                      : c->pkg == DC_PKG_UNSIGNED ? NULL
                      : (ctx->sign || c->require_signature) ? ctx->key
                                                            : NULL;
    uint32_t fw = escaped ? 0x4000 : c->pkg == DC_PKG_FW_OLD ? 1 : 2;
    uint32_t fw_max = escaped ? 0x1FFFFF : c->pkg == DC_PKG_FW_OLD ? c->app_version - 1 : 0x3FFF;
    uint8_t *dat = NULL;
    size_t dlen = 0;
    if (make_dat(tmpl, p->img, p->img_len, key, escaped, &fw, fw_max, &dat, &dlen, why, cap) < 0)
        return -1;
    p->has_fw = true;
    p->fw_version = fw;
    if (c->pkg == DC_PKG_BAD_HASH) /* the .bin differs from what the .dat hashes */
        p->img[p->img_len / 2] ^= 0x5A;
    int rc = write_pkg(p->dir, p, p->img, p->img_len, dat, dlen, why, cap);
    if (rc == 0 && c->stale_init)
        rc = make_stale(p, &tmpl, key, why, cap);
    free(dat);
    return rc;
}

/* The user's package opened and its one application image's init packet
 * decoded; -1 with why otherwise (pkg then empty). */
static int open_user(const dc_ctx *ctx, dk_pkg *pkg, dk_initpkt *ip, char *why, size_t cap)
{
    dk_err err;
    if (dk_pkg_open(ctx->user_pkg, pkg, &err) != DK_OK)
        return fail(why, cap, "--pkg %s: %s", ctx->user_pkg, err.msg);
    const dk_image *im = &pkg->img[0];
    if (pkg->n != 1 || im->kind != DK_IMG_APPLICATION)
        fail(why, cap, "--pkg %s: dfucheck grades application packages (one image); this one "
                       "holds %zu image(s), the first '%s'", ctx->user_pkg, pkg->n, im->key);
    else if (dk_initpkt_decode(im->dat, im->dat_len, ip, &err) != DK_OK)
        fail(why, cap, "--pkg %s: %s: %s", ctx->user_pkg, im->dat_name, err.msg);
    else
        return 0;
    dk_pkg_free(pkg);
    return -1;
}

int dc_check_user_pkg(const dc_ctx *ctx, char *why, size_t cap)
{
    dk_pkg pkg;
    dk_initpkt ip;
    if (open_user(ctx, &pkg, &ip, why, cap) < 0)
        return -1;
    dk_err err;
    int rc = 0;
    if (ctx->user_pub && dk_pkg_verify(&pkg, ctx->user_pub, &err) != DK_OK)
        rc = fail(why, cap, "--pkg %s: not signed by --public-key %s: %s", ctx->user_pkg,
                  ctx->user_pub, err.msg);
    dk_pkg_free(&pkg);
    return rc;
}

/* The user's package: one application image; the board is built to take it
 * (its hw_version and SoftDevice, an app at or below its fw_version). */
static int use_user(const dc_ctx *ctx, dc_plan *p, char *why, size_t cap)
{
    dk_pkg pkg;
    dk_initpkt ip;
    if (open_user(ctx, &pkg, &ip, why, cap) < 0)
        return -1;
    int rc = -1;
    const dk_image *im = &pkg.img[0];
    if (!(p->img = malloc(im->bin_len ? im->bin_len : 1))) {
        fail(why, cap, "out of memory");
    } else {
        memcpy(p->img, im->bin, im->bin_len);
        p->img_len = im->bin_len;
        p->has_fw = ip.init.has_fw_version;
        p->fw_version = ip.init.fw_version;
        p->app_version = p->has_fw ? p->fw_version : 0;
        p->hw_version = ip.init.has_hw_version ? ip.init.hw_version : 52;
        if (ip.init.sd_req_count && ip.init.sd_req[0] != 0 && ip.init.sd_req[0] != 0xFFFE)
            p->sd_fwid = (uint16_t)ip.init.sd_req[0];
        p->require_signature = ctx->user_pub != NULL;
        if (ctx->user_pub)
            snprintf(p->pubkey, sizeof p->pubkey, "%s", ctx->user_pub);
        snprintf(p->pkg, sizeof p->pkg, "%s", ctx->user_pkg);
        dc_path(p->dat, p->dir, im->dat_name);
        dc_path(p->bin, p->dir, im->bin_name);
        if (write_file(p->dat, im->dat, im->dat_len, why, cap) == 0 &&
            write_file(p->bin, im->bin, im->bin_len, why, cap) == 0)
            rc = 0;
    }
    dk_pkg_free(&pkg);
    return rc;
}

int dc_make_plan(const dc_ctx *ctx, const dc_case *c, const char *name, dc_plan *p, char *why,
                 size_t cap)
{
    memset(p, 0, sizeof *p);
    snprintf(p->id, sizeof p->id, "%s", c->id);
    if (!dc_path(p->dir, ctx->keep, name ? name : c->id) || dc_mkdir_p(p->dir) < 0)
        return fail(why, cap, "%s: %s", p->dir, strerror(errno));
    p->expect = c->expect;
    p->pauses = c->pauses;
    p->rerun_after_fault = c->rerun_after_fault;
    p->must_resume = c->must_resume;
    p->save_progress = c->save_progress;
    p->prn = c->prn;
    p->transcript = true;
    p->hw_version = 52;
    p->app_version = c->app_version ? c->app_version : 1;
    int rc;
    if (ctx->user_pkg && c->user_pkg_ok) {
        rc = use_user(ctx, p, why, cap);
    } else {
        p->require_signature = ctx->sign || c->require_signature;
        if (p->require_signature)
            snprintf(p->pubkey, sizeof p->pubkey, "%s", ctx->pub);
        rc = make_own(ctx, c, p, why, cap);
    }
    if (rc < 0)
        return -1;
    dc_geom g;
    if (c->faults[0] && !dc_geom_of((uint32_t)p->img_len, &g))
        return fail(why, cap, "%s: an image of %zu bytes has fewer than 3 objects of %u bytes; "
                    "the interruption cases need more", c->id, p->img_len, DC_OBJ);
    for (size_t i = 0; i < DC_FAULTS_MAX && c->faults[i]; i++) {
        if (!dc_fault_expand(c->faults[i], &g, p->faults[i], sizeof p->faults[i]))
            return fail(why, cap, "%s: %s", c->id, p->faults[i]);
        p->n_faults++;
    }
    return 0;
}

void dc_plan_free(dc_plan *p)
{
    free(p->img);
    p->img = NULL;
}
