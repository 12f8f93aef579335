/* scenario.c - a scenario's defaults, notes, faults and field checks (scenario.h). */
#include "dfukit/scenario.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dfukit/crc.h"
#include "scenario_int.h"

void dk_scen_init(dk_scenario *s)
{
    memset(s, 0, sizeof *s);
    s->version = DK_SCEN_VERSION;
    s->failure.op = s->failure.result = s->failure.ext = -1;
    scen_cpy(s->device.chip, sizeof s->device.chip, "nrf52840");
    s->device.hw_version = 52;
    s->device.sd_end = 0x27000;
    s->device.bootloader_version = 1;
    scen_cpy(s->device.enter_dfu, sizeof s->device.enter_dfu, "no-valid-app");
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
        scen_cpy(s->host.dfuhost_args[s->host.n_dfuhost_args++], sizeof s->host.dfuhost_args[0],
                 arg);
}

/* ---- validation ------------------------------------------------------------ */

static bool one_of(const char *v, const char *const *set)
{
    for (size_t i = 0; set[i]; i++)
        if (strcmp(v, set[i]) == 0)
            return true;
    return false;
}

static const char *const enters[] = { "no-valid-app", "always", "first-boot", NULL };
static const char *const triggers[] = { "after-bytes=", "flash-op=", "op=", "after-op=", "after-ms=", NULL };
static const char *const actions[] = { "reset", "power-cut", "drop-response", "delay-response=",
                                       "stall", "corrupt-byte", "flash-error", "lose-request", NULL };

/* The chips a scenario names, laid out as the SDK 17.1 UART bootloader
 * examples lay them out (dfusim's sim/chip.c): MBR, SoftDevice, the app,
 * the app data pages (3), then the bootloader. */
#define MBR_END 0x1000u
#define PAGE 4096u
static const struct {
    const char *name;
    uint32_t bl_start;
} chips[] = { { "nrf52840", 0xF8000 }, { "nrf52832", 0x78000 } };

static int chip_index(const char *name)
{
    for (size_t i = 0; i < sizeof chips / sizeof chips[0]; i++)
        if (strcmp(name, chips[i].name) == 0)
            return (int)i;
    return -1;
}

uint32_t scen_app_room(const dk_scenario *s)
{
    int c = chip_index(s->device.chip);
    if (c < 0)
        return 0;
    uint32_t start = s->device.softdevice ? s->device.sd_end : MBR_END;
    uint32_t end = chips[c].bl_start - 3 * PAGE;
    return end > start ? end - start : 0;
}

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
    int chip = chip_index(s->device.chip);
    if (chip < 0)
        return dk_err_set(err, DK_E_RANGE, -1, "device.chip: '%s' (nrf52840 or nrf52832)", s->device.chip);
    if (!one_of(s->device.enter_dfu, enters))
        return dk_err_set(err, DK_E_RANGE, -1,
                          "device.enter_dfu: '%s' (no-valid-app, always or first-boot)", s->device.enter_dfu);
    if (s->device.mtu < 23)
        return dk_err_set(err, DK_E_RANGE, -1, "device.mtu: %u (at least 23)", s->device.mtu);
    if (s->device.inactivity_ms > 0 && s->device.inactivity_ms < 100)
        return dk_err_set(err, DK_E_RANGE, -1, "device.inactivity_ms: %u (0 or at least 100)",
                          s->device.inactivity_ms);
    if (s->device.softdevice && (s->device.sd_fwid == 0 || s->device.sd_fwid > 0xFFFD))
        return dk_err_set(err, DK_E_RANGE, -1, "device.softdevice.fwid: 0x%04X (0x0001-0xFFFD)",
                          s->device.sd_fwid);
    if (s->device.softdevice && (s->device.sd_end % PAGE || s->device.sd_end <= 0x4000 ||
                                 s->device.sd_end >= chips[chip].bl_start - PAGE))
        return dk_err_set(err, DK_E_RANGE, -1,
                          "device.softdevice.end: 0x%X (page-aligned, above 0x4000, below 0x%X)",
                          s->device.sd_end, chips[chip].bl_start - PAGE);
    uint32_t room = scen_app_room(s);
    if (s->device.app && (s->device.app_size == 0 || s->device.app_size > room))
        return dk_err_set(err, DK_E_RANGE, -1,
                          "device.app.size: %u (1-%u: the %s's app area above the %s)",
                          s->device.app_size, room, s->device.chip,
                          s->device.softdevice ? "SoftDevice" : "MBR");
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
