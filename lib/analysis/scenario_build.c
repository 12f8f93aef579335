/* scenario_build.c - the builder: a scenario derived from a decoded session (scenario.h). */
#include "dfukit/scenario.h"

#include <stdlib.h>
#include <string.h>

#include "dfukit/crc.h"
#include "dfukit/initpkt.h"
#include "dfukit/tables.h"
#include "scenario_int.h"

/* FIRMWARE_VERSION's image types (§2.2: 0x00 SoftDevice, 0x01 application,
 * 0x02 bootloader), not the init packet's (dk_fw_type). */
#define FWV_APPLICATION 0x01

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
        if (ok && x->rsp.rsp.fw.type == FWV_APPLICATION) {
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

/* SoftDevice (§6.7: sd_req): one that refuses the packet's sd_req after an
 * error 0x07, else the first FWID the packet accepts. */
static void derive_sd(const dk_init_cmd *c, int ext, dk_scenario *o)
{
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
}

/* The installed app: the target's own word, the downgrade check, or an app
 * that runs instead of the bootloader. */
static void derive_app(dk_scen_builder *b, const dk_init_cmd *c, int ext, const dk_diag_facts *f,
                       bool silent, dk_scenario *o)
{
    if (b->has_app_ver) {
        o->device.app = true;
        o->device.app_version = b->app_ver;
        o->device.app_size = b->app_len ? b->app_len : 16384;
        if (o->device.app_size > scen_app_room(o)) {
            dk_scen_note(o, "the target reports an app of %u bytes, more than the %s's app area "
                            "holds: 16384 assumed",
                         b->app_len, o->device.chip);
            o->device.app_size = 16384;
        }
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
        scen_cpy(o->device.enter_dfu, sizeof o->device.enter_dfu, "no-valid-app");
        dk_scen_note(o, "the target never answered: modelled as a valid app that runs (not in DFU "
                        "mode, port silent)%s",
                     f->flow_control == 1 ? "; the host's RTS/CTS cannot be modelled on a pty" : "");
    } else if (o->device.app) {
        scen_cpy(o->device.enter_dfu, sizeof o->device.enter_dfu, "first-boot");
        dk_scen_note(o, "an app is installed and the target answered: it entered DFU mode by "
                        "button at power-on (first-boot)");
    }
}

static void derive_device(dk_scen_builder *b, const dk_diag_failure *e, const dk_diag_facts *f,
                          const dk_initpkt *p, bool silent, dk_scenario *o)
{
    const dk_init_cmd *c = p ? &p->init : NULL;
    int ext = e->failed && e->result == DK_RES_EXT_ERROR ? e->ext : -1;
    int res = e->failed ? e->result : -1;
    bool init_fail = e->failed && e->stage == DK_STAGE_INIT;

    if (b->has_part && (b->part == 0x52840 || b->part == 0x52832)) {
        scen_cpy(o->device.chip, sizeof o->device.chip,
                 b->part == 0x52840 ? "nrf52840" : "nrf52832");
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

    derive_sd(c, ext, o);
    derive_app(b, c, ext, f, silent, o);

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
            scen_cpy(o->device.enter_dfu, sizeof o->device.enter_dfu, "first-boot");
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
    scen_cpy(o->source.file, sizeof o->source.file, source);
    scen_cpy(o->source.format, sizeof o->source.format, format);
    scen_cpy(o->source.host, sizeof o->source.host, f->host_tool);
    if (!o->source.host[0] && format && !strcmp(format, "nrfutil"))
        scen_cpy(o->source.host, sizeof o->source.host, "nrfutil");
    else if (!o->source.host[0] && format && !strcmp(format, "ble"))
        scen_cpy(o->source.host, sizeof o->source.host, "nrfutil-ble");
    if (diag)
        scen_cpy(o->diagnosis, sizeof o->diagnosis, diag->id);

    dk_diag_failure e;
    dk_diag_effective(sum, f, &e);
    scen_cpy(o->failure.outcome, sizeof o->failure.outcome, dk_outcome_name(e.outcome));
    if (e.failed) {
        scen_cpy(o->failure.stage, sizeof o->failure.stage, e.stage ? dk_stage_name(e.stage) : "");
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
    scen_cpy(o->failure.object, sizeof o->failure.object, obj_word(sum->stop_obj));
    o->failure.offset = sum->stop_offset;
    o->failure.size = sum->stop_size;
    if (f->has_exc) {
        scen_cpy(o->failure.host_error, sizeof o->failure.host_error, f->exc_text);
        scen_cpy(o->failure.host_error_kind, sizeof o->failure.host_error_kind, dk_nx_name(f->exc));
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

bool dk_scen_reproducible(const dk_summary *sum, const dk_diag_facts *f, const dk_diag_row *diag,
                          char *why, size_t cap)
{
    if (f->prog_error || (sum->requests + sum->responses == 0 && !f->no_ping && !f->has_exc)) {
        snprintf(why, cap, "no serial DFU session to reproduce%s",
                 f->prog_error || f->done ? " (a Programmer/debugger log)" : "");
        return false;
    }
    unsigned n;
    const dk_diag_row *host = dk_diag_host_table(&n);
    bool outside = diag && ((diag >= host && diag < host + n) || strcmp(diag->id, "host.port") == 0 ||
                            strcmp(diag->id, "capture.empty") == 0);
    if (outside) {
        snprintf(why, cap,
                 "the log's failure lies outside the Secure DFU bootloader dfusim models (%s: %s): "
                 "nothing for dfusim to reproduce",
                 diag->id, diag->when);
        return false;
    }
    return true;
}
