/* legacy.c - the Adafruit nRF52 bootloader's serial DFU as a pure core (see
 * legacy.h; protocol.md §13): device SLIP, HCI ACKs and sequence rules, the
 * 3-slot DFU queue, START/INIT/DATA/STOP, the page cache, the settings page,
 * the DFU decision at boot, the timers. */
#include "legacy.h"

#include <stdlib.h>
#include <string.h>

#include "dfukit/crc.h"
#include "dfukit/hci.h"
#include "dfukit/legacy.h"
#include "dfukit/rd.h"
#include "dfukit/slip.h"

#define PAGE 4096u
#define NO_PAGE 0xFFFFFFFFu
#define GPREGRET_SERIAL 0x4Eu

typedef enum { ST_IDLE, ST_RDY, ST_RX_INIT, ST_RX_DATA, ST_VALIDATE, ST_WAIT_ACTIVATE } dfu_state;
static const char *const state_names[] = { "IDLE", "RDY", "RX_INIT_PKT", "RX_DATA_PKT", "VALIDATE",
                                           "WAIT_4_ACTIVATE" };

typedef struct {
    uint8_t buf[DS_LG_RX_BUF];
    size_t len;
} slot;

struct ds_lg {
    ds_lg_config cfg;
    ds_flash *flash;
    uint32_t bank0, bank1, full, banked;
    bool in_dfu;
    uint8_t gpregret;
    uint64_t boots, image_bytes;
    /* SLIP receiver (§13.2) */
    enum { RX_WAIT_START, RX_DEFAULT, RX_ESC } rx;
    uint8_t rbuf[DS_LG_RX_BUF];
    size_t rlen;
    bool roverflow;
    /* HCI (§13.4) and the DFU queue (§13.5) */
    uint8_t expect;
    slot q[DS_LG_QUEUE];
    unsigned qn;
    /* DFU (§13.6) */
    dfu_state st;
    uint32_t mode, sd_size, bl_size, app_size, size, received, target;
    bool data_written;
    uint8_t init[DK_LG_INIT_MAX];
    size_t init_len;
    uint16_t init_crc;
    uint64_t timer_ms, startup_ms; /* UINT64_MAX: off */
    /* page cache (§13.8) */
    uint8_t cache[PAGE];
    uint32_t cache_page;
    bool cut;
};

void ds_lg_config_default(ds_lg_config *cfg, const char *chip)
{
    memset(cfg, 0, sizeof *cfg);
    const ds_chip *c = ds_chip_find(chip && !strcmp(chip, "nrf52832") ? "nrf52832" : "nrf52840");
    cfg->chip = *c;
    bool n832 = c->flash_size == 0x80000;
    cfg->bl_start = n832 ? 0x74000 : 0xF4000;
    cfg->mbr_params = n832 ? 0x7E000 : 0xFE000;
    cfg->settings = n832 ? 0x7F000 : 0xFF000;
    cfg->reserved = (n832 ? 7 : 10) * PAGE;
    cfg->sd_end = 0x26000;
    cfg->sd_fwid = n832 ? 0x00B7 : 0x00B6;
    cfg->usb = !n832;
    cfg->app_touch = true;
    cfg->dfu_timeout_ms = DS_LG_DFU_TIMEOUT_MS;
}

uint32_t ds_lg_config_app_room(const ds_lg_config *cfg)
{
    uint32_t b0 = cfg->sd_end ? cfg->sd_end : 0x1000;
    return cfg->bl_start > b0 + cfg->reserved ? cfg->bl_start - b0 - cfg->reserved : 0;
}

ds_lg *ds_lg_new(const ds_lg_config *cfg, ds_flash *flash)
{
    if (ds_flash_size(flash) != cfg->chip.flash_size || ds_flash_page_size(flash) != PAGE ||
        cfg->settings + PAGE > cfg->chip.flash_size)
        return NULL;
    ds_lg *lg = calloc(1, sizeof *lg);
    if (!lg)
        return NULL;
    lg->cfg = *cfg;
    lg->flash = flash;
    lg->bank0 = cfg->sd_end ? cfg->sd_end : 0x1000;
    lg->full = ds_lg_config_app_room(cfg);
    lg->banked = (lg->full - lg->full % (2 * PAGE)) / 2;
    lg->bank1 = lg->bank0 + lg->banked;
    lg->timer_ms = lg->startup_ms = UINT64_MAX;
    return lg;
}

void ds_lg_free(ds_lg *lg)
{
    free(lg);
}

/* ---- settings (§13.9) ------------------------------------------------- */

void ds_lg_settings_read(const ds_lg *lg, ds_lg_settings *s)
{
    dk_rd r = dk_rd_make(ds_flash_mem(lg->flash) + lg->cfg.settings, 28);
    s->bank_0 = dk_rd_le16(&r);
    s->bank_0_crc = dk_rd_le16(&r);
    s->bank_1 = dk_rd_le16(&r);
    (void)dk_rd_le16(&r);
    s->bank_0_size = dk_rd_le32(&r);
    s->sd_image_size = dk_rd_le32(&r);
    s->bl_image_size = dk_rd_le32(&r);
    s->app_image_size = dk_rd_le32(&r);
    s->sd_image_start = dk_rd_le32(&r);
}

static void sett_encode(const ds_lg_settings *s, uint8_t b[28])
{
    uint8_t *p = dk_put_le16(b, s->bank_0);
    p = dk_put_le16(p, s->bank_0_crc);
    p = dk_put_le16(p, s->bank_1);
    p = dk_put_le16(p, 0xFFFF);
    p = dk_put_le32(p, s->bank_0_size);
    p = dk_put_le32(p, s->sd_image_size);
    p = dk_put_le32(p, s->bl_image_size);
    p = dk_put_le32(p, s->app_image_size);
    dk_put_le32(p, s->sd_image_start);
}

/* bootloader_settings_save: page erase + 7 words, synchronous. */
static bool sett_save(ds_lg *lg, const ds_lg_settings *s)
{
    uint8_t b[28];
    sett_encode(s, b);
    if (ds_flash_erase_page(lg->flash, lg->cfg.settings) == DS_FLASH_E_CUT ||
        ds_flash_write(lg->flash, lg->cfg.settings, b, sizeof b) == DS_FLASH_E_CUT) {
        lg->cut = true;
        return false;
    }
    return true;
}

bool ds_lg_app_valid(const ds_lg *lg)
{
    const uint8_t *m = ds_flash_mem(lg->flash);
    ds_lg_settings s;
    ds_lg_settings_read(lg, &s);
    static const uint8_t ff[8] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    if (!memcmp(m + lg->bank0, ff, 8) || s.bank_0 != DS_LG_BANK_VALID_APP)
        return false;
    if (s.bank_0_crc == 0)
        return true;
    if (s.bank_0_size > lg->full)
        return false;
    return dk_crc16_ccitt(DK_CRC16_INIT, m + lg->bank0, s.bank_0_size) == s.bank_0_crc;
}

void ds_lg_provision(ds_lg *lg)
{
    if (lg->cfg.sd_end) { /* the SoftDevice's info struct: magic, end, FWID */
        uint8_t info[16];
        memset(info, 0xFF, sizeof info);
        dk_put_le32(info + 4, DS_SD_MAGIC);
        dk_put_le32(info + 8, lg->cfg.sd_end);
        dk_put_le16(info + 12, (uint16_t)lg->cfg.sd_fwid);
        ds_flash_program(lg->flash, DS_SD_INFO_ADDR, info, sizeof info);
    }
    uint32_t n = lg->cfg.app_size & ~3u;
    if (!n || n > lg->full)
        return;
    uint8_t *app = malloc(n);
    if (!app)
        return;
    for (uint32_t i = 0; i < n; i++)
        app[i] = (uint8_t)(i * 31 + 7);
    ds_flash_program(lg->flash, lg->bank0, app, n);
    free(app);
    ds_lg_settings s = { .bank_0 = DS_LG_BANK_VALID_APP, .bank_1 = DS_LG_BANK_INVALID_APP,
                         .bank_0_size = n, .app_image_size = n };
    uint8_t b[28];
    sett_encode(&s, b);
    ds_flash_program(lg->flash, lg->cfg.settings, b, sizeof b);
}

/* ---- boot (§13.10) ----------------------------------------------------- */

static void enter_dfu(ds_lg *lg, uint64_t now_ms)
{
    lg->in_dfu = true;
    lg->expect = 1; /* hci_transport_open: the only place (§13.4, §13.12) */
    lg->rx = RX_WAIT_START;
    lg->rlen = 0;
    lg->qn = 0;
    lg->st = ST_IDLE;
    lg->received = lg->size = 0;
    lg->data_written = false;
    lg->init_len = 0;
    lg->cache_page = NO_PAGE;
    lg->timer_ms = now_ms + lg->cfg.dfu_timeout_ms;
}

bool ds_lg_boot(ds_lg *lg, uint64_t now_ms, bool power_on)
{
    ds_flash_clear_cut(lg->flash);
    lg->cut = false;
    lg->boots++;
    lg->image_bytes = 0;
    lg->in_dfu = false;
    lg->timer_ms = lg->startup_ms = UINT64_MAX;
    if (power_on)
        lg->gpregret = 0;
    bool asked = lg->gpregret == GPREGRET_SERIAL;
    lg->gpregret = 0; /* cleared once seen */
    bool dbl = power_on && lg->cfg.double_reset;
    if (asked || dbl || !ds_lg_app_valid(lg)) {
        enter_dfu(lg, now_ms);
    } else if (!lg->cfg.usb) { /* nRF52832: serial DFU for 1 s at start-up */
        enter_dfu(lg, now_ms);
        lg->startup_ms = now_ms + DS_LG_STARTUP_MS;
    }
    return lg->in_dfu;
}

int ds_lg_touch(ds_lg *lg)
{
    if (lg->in_dfu || !lg->cfg.app_touch)
        return 0;
    lg->gpregret = GPREGRET_SERIAL;
    return DS_LG_RESET;
}

/* ---- SLIP and HCI (§13.2-§13.5) ----------------------------------------- */

bool ds_lg_feed(ds_lg *lg, const uint8_t *p, size_t n, size_t *used, const uint8_t **frame,
                size_t *len)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        bool end = false;
        switch (lg->rx) {
        case RX_WAIT_START:
            if (c == DK_SLIP_END)
                lg->rx = RX_DEFAULT;
            continue;
        case RX_DEFAULT:
            if (c == DK_SLIP_END) {
                if (!lg->rlen)
                    continue; /* no empty frames here */
                end = true;
            } else if (c == DK_SLIP_ESC) {
                lg->rx = RX_ESC;
                continue;
            }
            break;
        case RX_ESC:
            lg->rx = RX_DEFAULT;
            if (c == DK_SLIP_END)
                end = true; /* the ESC vanishes, the packet ends */
            else
                c = c == DK_SLIP_ESC_END ? DK_SLIP_END : c == DK_SLIP_ESC_ESC ? DK_SLIP_ESC : c;
            break;
        }
        if (end) {
            *used = i + 1;
            *frame = lg->rbuf;
            *len = lg->rlen;
            bool over = lg->roverflow;
            lg->rlen = 0;
            lg->roverflow = false;
            lg->rx = RX_WAIT_START; /* a new buffer for every packet */
            if (over)
                continue; /* overflowed: lost without an ACK */
            return true;
        }
        if (lg->rlen == sizeof lg->rbuf) {
            lg->roverflow = true;
            continue;
        }
        lg->rbuf[lg->rlen++] = c;
    }
    *used = n;
    return false;
}

int ds_lg_frame_kind(const uint8_t *frame, size_t len)
{
    dk_hci_pkt pk;
    if (dk_hci_parse(frame, len, &pk) != DK_HCI_OK || pk.payload_len < 4)
        return -1;
    return pk.payload[0];
}

int ds_lg_packet(ds_lg *lg, const uint8_t *frame, size_t len, uint64_t now_ms, uint8_t ack[8],
                 size_t *ack_len)
{
    (void)now_ms;
    *ack_len = 0;
    if (!lg->in_dfu)
        return 0;
    dk_hci_pkt pk;
    if (dk_hci_parse(frame, len, &pk) != DK_HCI_OK)
        return 0; /* dropped without an ACK */
    uint8_t seq = pk.hdr.seq;
    if (lg->cfg.seq_fix && seq == 1 && seq != lg->expect && pk.payload_len >= 4 &&
        pk.payload[0] == DK_LG_START) {
        lg->expect = 1; /* not the bootloader's: a new host run starts over */
        lg->st = ST_IDLE;
        lg->data_written = false;
        lg->init_len = 0;
        lg->received = lg->size = 0;
        lg->cache_page = NO_PAGE;
        lg->qn = 0;
    }
    bool take = seq == lg->expect;
    if (take)
        lg->expect = (uint8_t)((lg->expect + 1) & 7);
    uint8_t a[DK_HCI_ACK_LEN];
    dk_hci_ack(lg->expect, a);
    *ack_len = dk_hci_frame(a, sizeof a, ack);
    /* kind 0 and a full queue: lost after the ACK */
    if (!take || pk.payload_len == 0 || pk.payload[0] == 0 || lg->qn == DS_LG_QUEUE)
        return 0;
    slot *s = &lg->q[lg->qn++];
    s->len = pk.payload_len > sizeof s->buf ? sizeof s->buf : pk.payload_len;
    memcpy(s->buf, pk.payload, s->len);
    return 0;
}

/* ---- flash through the page cache (§13.8) --------------------------------- */

static bool cache_flush(ds_lg *lg)
{
    if (lg->cache_page == NO_PAGE)
        return true;
    const uint8_t *m = ds_flash_mem(lg->flash);
    uint32_t pg = lg->cache_page;
    lg->cache_page = NO_PAGE;
    if (!memcmp(m + pg, lg->cache, PAGE))
        return true; /* identical: skipped */
    int rc = ds_flash_write(lg->flash, pg, lg->cache, PAGE);
    if (rc == DS_FLASH_E_CUT)
        lg->cut = true;
    return rc == DS_FLASH_OK;
}

static void cache_write(ds_lg *lg, uint32_t addr, const uint8_t *p, uint32_t n)
{
    while (n) {
        uint32_t pg = addr & ~(PAGE - 1), off = addr - pg;
        if (pg != lg->cache_page) {
            cache_flush(lg);
            memcpy(lg->cache, ds_flash_mem(lg->flash) + pg, PAGE);
            lg->cache_page = pg;
        }
        uint32_t k = PAGE - off < n ? PAGE - off : n;
        memcpy(lg->cache + off, p, k);
        addr += k;
        p += k;
        n -= k;
    }
}

static bool erase_range(ds_lg *lg, uint32_t start, uint32_t size)
{
    for (uint32_t a = start; a < start + size; a += PAGE)
        if (ds_flash_erase_page(lg->flash, a) == DS_FLASH_E_CUT) {
            lg->cut = true;
            return false;
        }
    return true;
}

/* ---- the DFU packets (§13.6, §13.7) ------------------------------------------ */

static int dfu_start(ds_lg *lg, const dk_lg_pkt *g, uint64_t now_ms)
{
    uint32_t m = g->mode;
    uint64_t total = (uint64_t)g->sd_size + g->bl_size + g->app_size;
    bool banked = lg->cfg.dual_bank && !(m & DK_LG_MODE_SD);
    if (((m & DK_LG_MODE_APP) && (m & DK_LG_MODE_SD_BL)) || ((g->sd_size | g->bl_size | g->app_size) & 3) ||
        g->bl_size > lg->cfg.mbr_params - lg->cfg.bl_start || total > (banked ? lg->banked : lg->full) ||
        lg->st != ST_IDLE)
        return DS_LG_RESET; /* APP_ERROR_CHECK -> NVIC_SystemReset */
    lg->timer_ms = now_ms + lg->cfg.dfu_timeout_ms;
    lg->mode = m;
    lg->sd_size = g->sd_size;
    lg->bl_size = g->bl_size;
    lg->app_size = g->app_size;
    lg->size = (uint32_t)total;
    lg->received = 0;
    lg->target = banked ? lg->bank1 : lg->bank0;
    lg->cache_page = NO_PAGE;
    if (!erase_range(lg, lg->target, (lg->size + PAGE - 1) & ~(PAGE - 1)))
        return DS_LG_CUT;
    if (!banked) { /* bank 0 invalid from here on (DFU_BANK_0_ERASED) */
        ds_lg_settings s;
        ds_lg_settings_read(lg, &s);
        s.bank_0 = DS_LG_BANK_INVALID_APP;
        s.bank_0_crc = 0;
        s.bank_0_size = 0;
        if (!sett_save(lg, &s))
            return DS_LG_CUT;
    }
    lg->st = ST_RDY;
    return 0;
}

static int dfu_init(ds_lg *lg, const dk_lg_pkt *g, uint64_t now_ms)
{
    if (lg->st == ST_RDY)
        lg->st = ST_RX_INIT;
    if (lg->data_written || lg->st != ST_RX_INIT)
        return DS_LG_RESET;
    lg->timer_ms = now_ms + lg->cfg.dfu_timeout_ms;
    if (lg->init_len + g->words_len <= sizeof lg->init) {
        memcpy(lg->init + lg->init_len, g->body, g->words_len);
        lg->init_len += g->words_len;
    }
    uint16_t crc;
    if (dk_lg_init_check(lg->init, lg->init_len, lg->mode, lg->cfg.sd_fwid, &crc) != DK_LG_INIT_ACCEPT) {
        lg->init_len = 0;
        return DS_LG_RESET;
    }
    lg->init_crc = crc;
    lg->st = ST_RX_DATA;
    return 0;
}

static int dfu_data(ds_lg *lg, const dk_lg_pkt *g, uint64_t now_ms)
{
    uint32_t n = (uint32_t)g->words_len;
    if (lg->st != ST_RX_DATA || lg->received == 0xFFFFFFFFu)
        return 0;
    if ((uint64_t)lg->received + n > lg->size) {
        lg->received = 0xFFFFFFFFu; /* everything after this is lost (§13.6) */
        return 0;
    }
    lg->timer_ms = now_ms + lg->cfg.dfu_timeout_ms;
    cache_write(lg, lg->target + lg->received, g->body, n);
    lg->received += n;
    lg->image_bytes += n;
    lg->data_written = true;
    if (lg->received == lg->size)
        cache_flush(lg);
    return lg->cut ? DS_LG_CUT : 0;
}

/* APP activation; SD/BL: the settings, then a reset for the MBR's copy. */
static int activate(ds_lg *lg)
{
    ds_lg_settings s;
    ds_lg_settings_read(lg, &s);
    if (lg->mode == DK_LG_MODE_APP) {
        if (lg->target != lg->bank0) { /* dual bank: bank 1 -> bank 0 */
            if (!erase_range(lg, lg->bank0, (lg->size + PAGE - 1) & ~(PAGE - 1)))
                return DS_LG_CUT;
            for (uint32_t o = 0; o < lg->size; o += PAGE) {
                uint32_t k = lg->size - o < PAGE ? lg->size - o : PAGE;
                cache_write(lg, lg->bank0 + o, ds_flash_mem(lg->flash) + lg->bank1 + o, k);
            }
            cache_flush(lg);
            if (lg->cut)
                return DS_LG_CUT;
        }
        s.bank_0 = DS_LG_BANK_VALID_APP;
        s.bank_0_crc = 0; /* m_image_crc is never computed (§13.6) */
        s.bank_0_size = lg->size;
        s.bank_1 = DS_LG_BANK_INVALID_APP;
        s.app_image_size = lg->size;
    } else {
        if (lg->mode & DK_LG_MODE_SD) {
            s.bank_0 = DS_LG_BANK_VALID_SD;
            s.sd_image_start = lg->target;
        } else {
            s.bank_1 = DS_LG_BANK_VALID_BOOT;
        }
        s.bank_0_size = lg->size;
        s.sd_image_size = lg->sd_size;
        s.bl_image_size = lg->bl_size;
    }
    if (!sett_save(lg, &s))
        return DS_LG_CUT;
    lg->in_dfu = false;
    lg->timer_ms = UINT64_MAX;
    return lg->mode == DK_LG_MODE_APP ? DS_LG_APP : DS_LG_RESET;
}

static int dfu_stop(ds_lg *lg, uint64_t now_ms)
{
    if (lg->st != ST_RX_DATA || lg->received != lg->size)
        return 0;
    lg->st = ST_VALIDATE;
    lg->timer_ms = now_ms + lg->cfg.dfu_timeout_ms;
    uint16_t c = dk_crc16_ccitt(DK_CRC16_INIT, ds_flash_mem(lg->flash) + lg->target, lg->size);
    if (c != lg->init_crc)
        return 0; /* stays in VALIDATE, answers nothing */
    lg->st = ST_WAIT_ACTIVATE;
    return activate(lg);
}

int ds_lg_process(ds_lg *lg, uint64_t now_ms)
{
    int flags = 0;
    unsigned i = 0;
    for (; i < lg->qn && !flags; i++) {
        dk_lg_pkt g;
        if (dk_lg_parse(lg->q[i].buf, lg->q[i].len, &g) != DK_LG_OK && g.kind != DK_LG_START)
            continue;
        if (lg->startup_ms != UINT64_MAX) /* the first packet keeps DFU mode */
            lg->startup_ms = UINT64_MAX;
        switch (g.kind) {
        case DK_LG_START: flags = dfu_start(lg, &g, now_ms); break;
        case DK_LG_INIT: flags = dfu_init(lg, &g, now_ms); break;
        case DK_LG_DATA: flags = dfu_data(lg, &g, now_ms); break;
        case DK_LG_STOP: flags = dfu_stop(lg, now_ms); break;
        default: break;
        }
        if (lg->cut)
            flags = DS_LG_CUT;
    }
    lg->qn = 0; /* the rest is never handled after a reset or activation */
    return flags;
}

/* ---- timers ------------------------------------------------------------------ */

uint64_t ds_lg_deadline(const ds_lg *lg)
{
    if (!lg->in_dfu)
        return UINT64_MAX;
    return lg->startup_ms < lg->timer_ms ? lg->startup_ms : lg->timer_ms;
}

int ds_lg_tick(ds_lg *lg, uint64_t now_ms)
{
    if (!lg->in_dfu || now_ms < ds_lg_deadline(lg))
        return 0;
    /* DFU mode ends: the app if valid, else a reset (back into DFU) */
    lg->in_dfu = false;
    lg->timer_ms = lg->startup_ms = UINT64_MAX;
    return ds_lg_app_valid(lg) ? DS_LG_APP : DS_LG_RESET;
}

/* ---- views ------------------------------------------------------------------- */

bool ds_lg_in_dfu(const ds_lg *lg) { return lg->in_dfu; }
uint8_t ds_lg_expected(const ds_lg *lg) { return lg->expect; }
unsigned ds_lg_queued(const ds_lg *lg) { return lg->qn; }
uint64_t ds_lg_image_bytes(const ds_lg *lg) { return lg->image_bytes; }
uint64_t ds_lg_boots(const ds_lg *lg) { return lg->boots; }
uint32_t ds_lg_bank0(const ds_lg *lg) { return lg->bank0; }
uint32_t ds_lg_bank1(const ds_lg *lg) { return lg->bank1; }
const char *ds_lg_state_name(const ds_lg *lg) { return state_names[lg->st]; }

void ds_lg_print_settings(const ds_lg *lg, FILE *out)
{
    ds_lg_settings s;
    ds_lg_settings_read(lg, &s);
    fprintf(out, "bank_0: 0x%04x\nbank_0_crc: 0x%04x\nbank_1: 0x%04x\nbank_0_size: %u\n"
                 "sd_image_size: %u\nbl_image_size: %u\napp_image_size: %u\nsd_image_start: 0x%08x\n"
                 "app_valid: %s\n",
            s.bank_0, s.bank_0_crc, s.bank_1, s.bank_0_size, s.sd_image_size, s.bl_image_size,
            s.app_image_size, s.sd_image_start, ds_lg_app_valid(lg) ? "yes" : "no");
}
