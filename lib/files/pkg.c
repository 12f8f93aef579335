/* pkg.c - DFU package read/check/verify/write (layout in pkg.h). */
#include "dfukit/pkg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <zip.h>

#include "dfukit/crypto.h"
#include "dfukit/file.h"
#include "dfukit/tables.h"

static const struct {
    dk_img_kind kind;
    const char *key;
    uint32_t fw_type;
} kinds[DK_PKG_MAX_IMAGES] = {
    { DK_IMG_SOFTDEVICE_BOOTLOADER, "softdevice_bootloader", DK_FW_SOFTDEVICE_BOOTLOADER },
    { DK_IMG_SOFTDEVICE, "softdevice", DK_FW_SOFTDEVICE },
    { DK_IMG_BOOTLOADER, "bootloader", DK_FW_BOOTLOADER },
    { DK_IMG_APPLICATION, "application", DK_FW_APPLICATION },
};

const char *dk_img_key(dk_img_kind kind)
{
    return (unsigned)kind < DK_PKG_MAX_IMAGES ? kinds[kind].key : NULL;
}

uint32_t dk_img_fw_type(dk_img_kind kind)
{
    return (unsigned)kind < DK_PKG_MAX_IMAGES ? kinds[kind].fw_type : 0;
}

/* Read one member whole, refusing anything over DK_PKG_MEMBER_MAX. */
static dk_status read_member(zip_t *z, const char *name, uint8_t **buf, size_t *len, dk_err *err)
{
    zip_stat_t sb;
    zip_stat_init(&sb);
    zip_int64_t idx = zip_name_locate(z, name, 0);
    if (idx < 0 || zip_stat_index(z, (zip_uint64_t)idx, 0, &sb) != 0)
        return dk_err_set(err, DK_E_FORMAT, -1, "%s: missing from the package", name);
    if (!(sb.valid & ZIP_STAT_SIZE))
        return dk_err_set(err, DK_E_FORMAT, -1, "%s: size unknown", name);
    if (sb.size > DK_PKG_MEMBER_MAX)
        return dk_err_set(err, DK_E_RANGE, -1, "%s: %llu bytes, more than the %u MiB limit", name,
                          (unsigned long long)sb.size, DK_PKG_MEMBER_MAX >> 20);
    uint8_t *b = malloc(sb.size ? sb.size : 1);
    if (!b)
        return dk_err_set(err, DK_E_NOMEM, -1, "%s: out of memory", name);
    zip_file_t *f = zip_fopen_index(z, (zip_uint64_t)idx, 0);
    if (!f) {
        free(b);
        return dk_err_set(err, DK_E_FORMAT, -1, "%s: cannot open member: %s", name,
                          zip_strerror(z));
    }
    zip_uint64_t got = 0;
    while (got < sb.size) {
        zip_int64_t n = zip_fread(f, b + got, sb.size - got);
        if (n <= 0)
            break;
        got += (zip_uint64_t)n;
    }
    /* one more read lets libzip check the CRC at the end of the member */
    uint8_t extra;
    zip_int64_t tail = got == sb.size ? zip_fread(f, &extra, 1) : 0;
    if (got != sb.size || tail != 0) {
        dk_err_set(err, DK_E_FORMAT, -1, "%s: offset %llu: %s", name, (unsigned long long)got,
                   tail > 0 ? "longer than its directory entry" : zip_file_strerror(f));
        zip_fclose(f);
        free(b);
        return DK_E_FORMAT;
    }
    if (zip_fclose(f) != 0) {
        free(b);
        return dk_err_set(err, DK_E_FORMAT, -1, "%s: %s", name, zip_strerror(z));
    }
    *buf = b;
    *len = (size_t)sb.size;
    return DK_OK;
}

static dk_status member_name(json_t *obj, const char *key, const char *field, char out[256],
                             dk_err *err)
{
    json_t *v = json_object_get(obj, field);
    if (!v)
        return dk_err_set(err, DK_E_FORMAT, -1, "manifest.json: %s: no \"%s\"", key, field);
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) >= 256)
        return dk_err_set(err, DK_E_FORMAT, -1, "manifest.json: %s.%s: not a file name", key,
                          field);
    strcpy(out, s);
    return DK_OK;
}

static dk_status meta_size(json_t *meta, const char *key, const char *field, uint32_t *out,
                           dk_err *err)
{
    json_t *v = json_object_get(meta, field);
    if (!v)
        return DK_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
        return dk_err_set(err, DK_E_FORMAT, -1,
                          "manifest.json: %s.info_read_only_metadata.%s: not a 32-bit size", key,
                          field);
    *out = (uint32_t)json_integer_value(v);
    return DK_OK;
}

static dk_status parse_manifest(const uint8_t *buf, size_t len, dk_pkg *pkg, dk_err *err)
{
    json_error_t je;
    json_t *root = json_loadb((const char *)buf, len, 0, &je);
    if (!root)
        return dk_err_set(err, DK_E_FORMAT, -1, "manifest.json: line %d: column %d: %s", je.line,
                          je.column, je.text);
    dk_status st = DK_OK;
    json_t *man = json_object_get(root, "manifest");
    if (!json_is_object(root) || !json_is_object(man)) {
        st = dk_err_set(err, DK_E_FORMAT, -1, "manifest.json: no \"manifest\" object");
        goto out;
    }
    for (size_t k = 0; k < DK_PKG_MAX_IMAGES; k++) {
        json_t *e = json_object_get(man, kinds[k].key);
        if (!e)
            continue;
        if (!json_is_object(e)) {
            st = dk_err_set(err, DK_E_FORMAT, -1, "manifest.json: %s: not an object", kinds[k].key);
            goto out;
        }
        dk_image *im = &pkg->img[pkg->n];
        im->kind = kinds[k].kind;
        im->key = kinds[k].key;
        if ((st = member_name(e, im->key, "bin_file", im->bin_name, err)) != DK_OK ||
            (st = member_name(e, im->key, "dat_file", im->dat_name, err)) != DK_OK)
            goto out;
        json_t *meta = json_object_get(e, "info_read_only_metadata");
        if (meta && !json_is_object(meta)) {
            st = dk_err_set(err, DK_E_FORMAT, -1,
                            "manifest.json: %s.info_read_only_metadata: not an object", im->key);
            goto out;
        }
        if (meta && ((st = meta_size(meta, im->key, "sd_size", &im->sd_size, err)) != DK_OK ||
                     (st = meta_size(meta, im->key, "bl_size", &im->bl_size, err)) != DK_OK))
            goto out;
        pkg->n++;
    }
    if (pkg->n == 0)
        st = dk_err_set(err, DK_E_FORMAT, -1, "manifest.json: lists no images (keys: %s)",
                        "application, softdevice, bootloader, softdevice_bootloader");
out:
    json_decref(root);
    return st;
}

/* The manifest and every member it names, from an open archive (discarded
 * here, whatever happens). */
static dk_status read_archive(zip_t *z, dk_pkg *pkg, dk_err *err)
{
    uint8_t *man = NULL;
    size_t man_len = 0;
    dk_status st = read_member(z, "manifest.json", &man, &man_len, err);
    if (st == DK_OK)
        st = parse_manifest(man, man_len, pkg, err);
    free(man);
    for (size_t i = 0; st == DK_OK && i < pkg->n; i++) {
        dk_image *im = &pkg->img[i];
        st = read_member(z, im->dat_name, &im->dat, &im->dat_len, err);
        if (st == DK_OK)
            st = read_member(z, im->bin_name, &im->bin, &im->bin_len, err);
    }
    zip_discard(z);
    if (st != DK_OK)
        dk_pkg_free(pkg);
    return st;
}

dk_status dk_pkg_open(const char *path, dk_pkg *pkg, dk_err *err)
{
    memset(pkg, 0, sizeof *pkg);
    int zerr = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY, &zerr);
    if (!z) {
        if (zerr == ZIP_ER_NOZIP)
            return dk_err_set(err, DK_E_FORMAT, -1, "not a zip archive");
        int sys = errno;
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        bool io = zerr == ZIP_ER_NOENT || zerr == ZIP_ER_OPEN || zerr == ZIP_ER_READ ||
                  zerr == ZIP_ER_SEEK;
        if (io)
            dk_err_set(err, DK_E_IO, -1, "cannot open: %s", zerr == ZIP_ER_NOENT
                                                                ? "no such file"
                                                                : strerror(sys));
        else
            dk_err_set(err, DK_E_FORMAT, -1, "not a zip archive (%s)", zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return io ? DK_E_IO : DK_E_FORMAT;
    }
    return read_archive(z, pkg, err);
}

dk_status dk_pkg_open_mem(const void *buf, size_t len, dk_pkg *pkg, dk_err *err)
{
    memset(pkg, 0, sizeof *pkg);
    if (len == 0) /* libzip would open it as an archive with no members */
        return dk_err_set(err, DK_E_FORMAT, -1, "not a zip archive");
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(buf, len, 0, &ze);
    zip_t *z = src ? zip_open_from_source(src, ZIP_RDONLY, &ze) : NULL;
    if (!z) {
        if (src)
            zip_source_free(src);
        int zerr = zip_error_code_zip(&ze);
        if (zerr == ZIP_ER_MEMORY)
            dk_err_set(err, DK_E_NOMEM, -1, "out of memory");
        else if (zerr == ZIP_ER_NOZIP)
            dk_err_set(err, DK_E_FORMAT, -1, "not a zip archive");
        else
            dk_err_set(err, DK_E_FORMAT, -1, "not a zip archive (%s)", zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return zerr == ZIP_ER_MEMORY ? DK_E_NOMEM : DK_E_FORMAT;
    }
    zip_error_fini(&ze);
    return read_archive(z, pkg, err);
}

void dk_pkg_free(dk_pkg *pkg)
{
    for (size_t i = 0; i < DK_PKG_MAX_IMAGES; i++) {
        free(pkg->img[i].bin);
        free(pkg->img[i].dat);
        pkg->img[i].bin = pkg->img[i].dat = NULL;
        pkg->img[i].bin_len = pkg->img[i].dat_len = 0;
    }
    pkg->n = 0;
}

/* Decode an image's .dat; errors name the member and the offset in it. */
static dk_status decode_dat(const dk_image *im, dk_initpkt *pkt, dk_err *err)
{
    dk_err e = { 0 };
    dk_status st = dk_initpkt_decode(im->dat, im->dat_len, pkt, &e);
    if (st == DK_OK)
        return DK_OK;
    if (e.has_offset)
        return dk_err_set(err, st, -1, "%s: offset %llu: %s", im->dat_name,
                          (unsigned long long)e.offset, e.msg);
    return dk_err_set(err, st, -1, "%s: %s", im->dat_name, e.msg);
}

static void hex8(char out[17], const uint8_t *p)
{
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

dk_status dk_pkg_check_image(const dk_image *im, dk_err *err)
{
    dk_initpkt pkt;
    dk_status st = decode_dat(im, &pkt, err);
    if (st != DK_OK)
        return st;
    const dk_init_cmd *c = &pkt.init;
    const char *dn = im->dat_name;
    if (pkt.is_signed && pkt.has_plain)
        return dk_err_set(err, DK_E_FORMAT, -1,
                          "%s: both command and signed_command (the bootloader rejects it)", dn);
    if (pkt.has_op_code && pkt.op_code != 1)
        return dk_err_set(err, DK_E_FORMAT, -1, "%s: op_code %u, not INIT", dn,
                          (unsigned)pkt.op_code);
    if (!pkt.has_init)
        return dk_err_set(err, DK_E_FORMAT, -1, "%s: no InitCommand", dn);
    char b[DK_NAME_BUFSZ];
    uint32_t want = dk_img_fw_type(im->kind);
    bool ext_app = im->kind == DK_IMG_APPLICATION && c->type == DK_FW_EXTERNAL_APPLICATION;
    if (!c->has_type || (c->type != want && !ext_app))
        return dk_err_set(err, DK_E_FORMAT, -1, "%s: type %s, but the manifest lists it as %s", dn,
                          c->has_type ? dk_fw_str(c->type, b) : "absent", im->key);
    if (!c->has_hash || c->hash_type != DK_HASH_SHA256 || c->hash_len != 32)
        return dk_err_set(err, DK_E_FORMAT, -1, "%s: no 32-byte SHA256 hash", dn);
    uint8_t h[32];
    dk_sha256_le(im->bin, im->bin_len, h);
    if (memcmp(h, c->hash, 32) != 0) {
        char a[17], x[17];
        hex8(a, c->hash);
        hex8(x, h);
        return dk_err_set(err, DK_E_VERIFY, -1,
                          "%s: hash %s... is not the reversed SHA-256 of %s (%s...)", dn, a,
                          im->bin_name, x);
    }
    uint64_t sz;
    const char *what;
    switch (im->kind) {
    case DK_IMG_APPLICATION: sz = c->app_size; what = "app_size"; break;
    case DK_IMG_SOFTDEVICE: sz = c->sd_size; what = "sd_size"; break;
    case DK_IMG_BOOTLOADER: sz = c->bl_size; what = "bl_size"; break;
    default: sz = (uint64_t)c->sd_size + c->bl_size; what = "sd_size + bl_size"; break;
    }
    if (sz != im->bin_len)
        return dk_err_set(err, DK_E_VERIFY, -1, "%s: %s is %llu but %s has %zu bytes", dn, what,
                          (unsigned long long)sz, im->bin_name, im->bin_len);
    if (im->kind == DK_IMG_SOFTDEVICE_BOOTLOADER && (im->sd_size || im->bl_size) &&
        (im->sd_size != c->sd_size || im->bl_size != c->bl_size))
        return dk_err_set(err, DK_E_VERIFY, -1,
                          "manifest.json: %s metadata sd_size %u, bl_size %u, but %s says %u, %u",
                          im->key, im->sd_size, im->bl_size, dn, c->sd_size, c->bl_size);
    return DK_OK;
}

dk_status dk_pkg_check(const dk_pkg *pkg, dk_err *err)
{
    for (size_t i = 0; i < pkg->n; i++) {
        dk_status st = dk_pkg_check_image(&pkg->img[i], err);
        if (st != DK_OK)
            return st;
    }
    return DK_OK;
}

dk_status dk_pkg_verify(const dk_pkg *pkg, const char *pubkey_pem, dk_err *err)
{
    if (pkg->n == 0)
        return dk_err_set(err, DK_E_FORMAT, -1, "package has no images");
    for (size_t i = 0; i < pkg->n; i++) {
        const dk_image *im = &pkg->img[i];
        dk_initpkt pkt;
        dk_status st = decode_dat(im, &pkt, err);
        if (st != DK_OK)
            return st;
        char b[DK_NAME_BUFSZ];
        if (!pkt.is_signed)
            return dk_err_set(err, DK_E_VERIFY, -1, "%s: not signed", im->dat_name);
        if (pkt.signature_type != DK_SIG_ECDSA_P256_SHA256) {
            const char *n = dk_sig_name(pkt.signature_type);
            if (!n) {
                snprintf(b, sizeof b, "unknown(0x%02x)", pkt.signature_type);
                n = b;
            }
            return dk_err_set(err, DK_E_VERIFY, -1, "%s: signature type %s, not ECDSA_P256_SHA256",
                              im->dat_name, n);
        }
        if (pkt.signature_len != 64)
            return dk_err_set(err, DK_E_VERIFY, -1, "%s: signature is %zu bytes, not 64",
                              im->dat_name, pkt.signature_len);
        if (pkt.signed_len == 0)
            return dk_err_set(err, DK_E_VERIFY, -1, "%s: signed command has no InitCommand",
                              im->dat_name);
        dk_err e = { 0 };
        st = dk_ecdsa_verify_pem(pubkey_pem, im->dat + pkt.signed_off, pkt.signed_len,
                                 pkt.signature, &e);
        if (st != DK_OK)
            return dk_err_set(err, st, -1, "%s: %s", im->dat_name, e.msg);
    }
    return DK_OK;
}

static dk_status zip_fail(zip_t *z, const char *what, dk_err *err)
{
    dk_err_set(err, DK_E_IO, -1, "%s: %s", what, zip_strerror(z));
    zip_discard(z);
    return DK_E_IO;
}

/* The zip built in mem, to path. */
static dk_status write_zip(zip_source_t *mem, const char *path, dk_err *err)
{
    zip_stat_t zs;
    if (zip_source_stat(mem, &zs) != 0 || !(zs.valid & ZIP_STAT_SIZE) || zip_source_open(mem) != 0)
        return dk_err_set(err, DK_E_IO, -1, "cannot write: %s", zip_error_strerror(zip_source_error(mem)));
    dk_err e = { 0 };
    int fd = dk_file_create(path, 0, &e);
    dk_status st = fd < 0 ? e.status : DK_OK;
    if (fd < 0 && err)
        *err = e;
    uint8_t buf[16384];
    for (zip_uint64_t left = zs.size; st == DK_OK && left;) {
        zip_int64_t n = zip_source_read(mem, buf, left < sizeof buf ? left : sizeof buf);
        if (n <= 0) {
            st = dk_err_set(err, DK_E_IO, -1, "cannot write: %s", zip_error_strerror(zip_source_error(mem)));
            break;
        }
        for (zip_int64_t done = 0; st == DK_OK && done < n;) {
            ssize_t w = write(fd, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                st = dk_err_set(err, DK_E_IO, -1, "write error: %s", w < 0 ? strerror(errno) : "nothing written");
            else
                done += w;
        }
        left -= (zip_uint64_t)n;
    }
    zip_source_close(mem);
    if (fd >= 0 && close(fd) != 0 && st == DK_OK)
        st = dk_err_set(err, DK_E_IO, -1, "write error: %s", strerror(errno));
    return st;
}

static dk_status add_member(zip_t *z, const char *name, const void *buf, size_t len, dk_err *err)
{
    zip_source_t *src = zip_source_buffer(z, buf, len, 0);
    if (!src)
        return zip_fail(z, name, err);
    zip_int64_t idx = zip_file_add(z, name, src, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
        zip_source_free(src);
        return zip_fail(z, name, err);
    }
    /* stored, like the packages nrfutil writes */
    if (zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0) != 0)
        return zip_fail(z, name, err);
    return DK_OK;
}

char *dk_pkg_manifest_json(const dk_pkg *pkg)
{
    json_t *man = json_object();
    for (size_t i = 0; i < pkg->n; i++) {
        const dk_image *im = &pkg->img[i];
        json_t *e = json_pack("{s:s, s:s}", "bin_file", im->bin_name, "dat_file", im->dat_name);
        if (e && im->kind == DK_IMG_SOFTDEVICE_BOOTLOADER)
            json_object_set_new(e, "info_read_only_metadata",
                                json_pack("{s:I, s:I}", "bl_size", (json_int_t)im->bl_size,
                                          "sd_size", (json_int_t)im->sd_size));
        json_object_set_new(man, dk_img_key(im->kind), e);
    }
    json_t *root = json_pack("{s:o}", "manifest", man);
    char *s = root ? json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(4)) : NULL;
    json_decref(root);
    return s;
}

dk_status dk_pkg_write(const char *path, const dk_pkg *pkg, dk_err *err)
{
    if (pkg->n == 0 || pkg->n > DK_PKG_MAX_IMAGES)
        return dk_err_set(err, DK_E_USAGE, -1, "a package needs 1 to %d images", DK_PKG_MAX_IMAGES);
    unsigned seen = 0;
    for (size_t i = 0; i < pkg->n; i++) {
        const dk_image *im = &pkg->img[i];
        if ((unsigned)im->kind >= DK_PKG_MAX_IMAGES || (seen & (1u << im->kind)))
            return dk_err_set(err, DK_E_USAGE, -1, "image %zu: bad or repeated kind", i);
        seen |= 1u << im->kind;
        if (!im->bin_name[0] || !im->dat_name[0] || (!im->bin && im->bin_len) ||
            (!im->dat && im->dat_len))
            return dk_err_set(err, DK_E_USAGE, -1, "image %zu: names or contents missing", i);
    }
    char *manifest = dk_pkg_manifest_json(pkg);
    if (!manifest)
        return dk_err_set(err, DK_E_NOMEM, -1, "manifest.json: cannot build");
    /* Built in memory, then written with dk_file_create (file.h): never
     * through a symlink, a new file 0600.  libzip's own writer renames a
     * temporary file over the path with the umask's mode. */
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *mem = zip_source_buffer_create(NULL, 0, 0, &ze);
    zip_t *z = mem ? zip_open_from_source(mem, ZIP_TRUNCATE, &ze) : NULL;
    if (!z) {
        free(manifest);
        dk_err_set(err, DK_E_NOMEM, -1, "cannot build the zip: %s", zip_error_strerror(&ze));
        zip_error_fini(&ze);
        zip_source_free(mem);
        return DK_E_NOMEM;
    }
    zip_error_fini(&ze);
    zip_source_keep(mem);
    dk_status st = add_member(z, "manifest.json", manifest, strlen(manifest), err);
    for (size_t i = 0; st == DK_OK && i < pkg->n; i++) {
        const dk_image *im = &pkg->img[i];
        st = add_member(z, im->dat_name, im->dat, im->dat_len, err);
        if (st == DK_OK)
            st = add_member(z, im->bin_name, im->bin, im->bin_len, err);
    }
    if (st == DK_OK && zip_close(z) != 0)
        st = zip_fail(z, "cannot write", err);
    free(manifest);
    if (st == DK_OK)
        st = write_zip(mem, path, err);
    zip_source_free(mem);
    return st;
}

dk_status dk_pkg_make_dat(const dk_init_cmd *tmpl, uint32_t fw_type, const uint8_t *bin,
                          size_t bin_len, uint32_t sd_size, uint32_t bl_size,
                          const char *key_pem, uint8_t **dat, size_t *dat_len, dk_err *err)
{
    if (bin_len > UINT32_MAX)
        return dk_err_set(err, DK_E_RANGE, -1, "image of %zu bytes is too large", bin_len);
    dk_initpkt pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.has_init = true;
    pkt.init = *tmpl;
    dk_init_cmd *c = &pkt.init;
    c->has_type = true;
    c->type = fw_type;
    c->has_sd_size = c->has_bl_size = c->has_app_size = true;
    c->sd_size = c->bl_size = c->app_size = 0;
    switch (fw_type) {
    case DK_FW_SOFTDEVICE: c->sd_size = (uint32_t)bin_len; break;
    case DK_FW_BOOTLOADER: c->bl_size = (uint32_t)bin_len; break;
    case DK_FW_SOFTDEVICE_BOOTLOADER:
        if ((uint64_t)sd_size + bl_size != bin_len)
            return dk_err_set(err, DK_E_USAGE, -1,
                              "sd_size %u + bl_size %u differ from the image's %zu bytes", sd_size,
                              bl_size, bin_len);
        c->sd_size = sd_size;
        c->bl_size = bl_size;
        break;
    default: c->app_size = (uint32_t)bin_len; break;
    }
    c->has_hash = true;
    c->hash_type = DK_HASH_SHA256;
    c->hash_len = 32;
    dk_sha256_le(bin, bin_len, c->hash);

    uint8_t ibuf[DK_INITPKT_MAX];
    if (key_pem) {
        size_t n = dk_initpkt_encode_init(c, ibuf, sizeof ibuf);
        if (!n)
            return dk_err_set(err, DK_E_RANGE, -1, "init command does not encode");
        dk_status st = dk_ecdsa_sign_pem(key_pem, ibuf, n, pkt.signature, err);
        if (st != DK_OK)
            return st;
        pkt.is_signed = true;
        pkt.signature_type = DK_SIG_ECDSA_P256_SHA256;
        pkt.signature_len = 64;
    }
    size_t n = dk_initpkt_encode(&pkt, ibuf, sizeof ibuf);
    if (!n)
        return dk_err_set(err, DK_E_RANGE, -1, "init packet does not encode");
    *dat = malloc(n);
    if (!*dat)
        return dk_err_set(err, DK_E_NOMEM, -1, "out of memory");
    memcpy(*dat, ibuf, n);
    *dat_len = n;
    return DK_OK;
}
