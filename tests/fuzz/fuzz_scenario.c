/* fuzz_scenario.c - libFuzzer target for scenario JSON (lib/analysis
 * scenario_json.c, scenario.c): the input is a scenario file's text.
 *
 * Invariants beyond the sanitizers: an error is one line whose offset lies
 * inside the text; what parses also validates; from_json -> to_json ->
 * from_json gives the same scenario (the same fields, and the same text once
 * more); the JSON written is one object that ends in a newline. */
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "dfukit/scenario.h"
#include "fuzz_util.h"

static void same(const dk_scenario *a, const dk_scenario *b)
{
    CHECK(a->version == b->version);
    CHECK(strcmp(a->device.chip, b->device.chip) == 0);
    CHECK(a->device.hw_version == b->device.hw_version);
    CHECK(a->device.softdevice == b->device.softdevice);
    CHECK(a->device.sd_fwid == b->device.sd_fwid);
    CHECK(a->device.sd_end == b->device.sd_end);
    CHECK(a->device.app == b->device.app);
    CHECK(a->device.app_size == b->device.app_size);
    CHECK(a->device.app_version == b->device.app_version);
    CHECK(a->device.bootloader_version == b->device.bootloader_version);
    CHECK(strcmp(a->device.enter_dfu, b->device.enter_dfu) == 0);
    CHECK(a->device.mtu == b->device.mtu);
    CHECK(a->device.inactivity_ms == b->device.inactivity_ms);
    CHECK(a->start.init == b->start.init);
    CHECK(a->start.init_size == b->start.init_size);
    CHECK(a->start.init_crc == b->start.init_crc);
    CHECK(a->start.init_bytes_known == b->start.init_bytes_known);
    CHECK(!a->start.init_bytes_known ||
          memcmp(a->start.init_bytes, b->start.init_bytes, a->start.init_size) == 0);
    CHECK(a->start.data == b->start.data);
    CHECK(a->start.data_offset == b->start.data_offset);
    CHECK(a->start.data_crc == b->start.data_crc);
    CHECK(a->line.realtime == b->line.realtime);
    CHECK(a->line.baud == b->line.baud);
    CHECK(a->n_faults == b->n_faults);
    for (size_t i = 0; i < a->n_faults; i++)
        CHECK(strcmp(a->faults[i], b->faults[i]) == 0);
    CHECK(a->device.save_progress_in_flash == b->device.save_progress_in_flash);
    CHECK(a->device.single_bank == b->device.single_bank);
    CHECK(a->device.require_signature == b->device.require_signature);
    CHECK(strcmp(a->source.file, b->source.file) == 0);
    CHECK(strcmp(a->source.format, b->source.format) == 0);
    CHECK(strcmp(a->source.host, b->source.host) == 0);
    CHECK(strcmp(a->diagnosis, b->diagnosis) == 0);
    CHECK(strcmp(a->failure.outcome, b->failure.outcome) == 0);
    CHECK(strcmp(a->failure.stage, b->failure.stage) == 0);
    CHECK(a->failure.op == b->failure.op && a->failure.result == b->failure.result &&
          a->failure.ext == b->failure.ext && a->failure.image == b->failure.image);
    CHECK(strcmp(a->failure.object, b->failure.object) == 0);
    CHECK(a->failure.offset == b->failure.offset && a->failure.size == b->failure.size);
    CHECK(strcmp(a->failure.host_error, b->failure.host_error) == 0);
    CHECK(strcmp(a->failure.host_error_kind, b->failure.host_error_kind) == 0);
    CHECK(a->init.present == b->init.present);
    CHECK(a->init.len == b->init.len && a->init.crc == b->init.crc);
    CHECK(a->init.accepted == b->init.accepted && a->init.from_package == b->init.from_package);
    CHECK(a->init.bytes_known == b->init.bytes_known);
    CHECK(!a->init.bytes_known || memcmp(a->init.bytes, b->init.bytes, a->init.len) == 0);
    CHECK(a->host.prn == b->host.prn && a->host.flow_control == b->host.flow_control);
    CHECK(a->host.baud == b->host.baud);
    CHECK(a->host.n_dfuhost_args == b->host.n_dfuhost_args);
    for (size_t i = 0; i < a->host.n_dfuhost_args; i++)
        CHECK(strcmp(a->host.dfuhost_args[i], b->host.dfuhost_args[i]) == 0);
    CHECK(a->n_notes == b->n_notes);
    for (size_t i = 0; i < a->n_notes; i++)
        CHECK(strcmp(a->notes[i], b->notes[i]) == 0);
}

static char *written(const dk_scenario *s)
{
    char *j = dk_scen_to_json(s);
    CHECK(j);
    size_t n = strlen(j);
    CHECK(n > 0 && j[n - 1] == '\n');
    json_error_t je;
    json_t *root = json_loads(j, 0, &je);
    CHECK(root && json_is_object(root));
    json_decref(root);
    return j;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static dk_scenario a, b, c;
    dk_err e;
    memset(&e, 0, sizeof e);
    memset(&a, 0, sizeof a);
    if (dk_scen_from_json((const char *)data, size, &a, &e) != DK_OK) {
        fz_check_err(&e, size);
        return 0;
    }
    CHECK(dk_scen_validate(&a, &e) == DK_OK);
    char *j1 = written(&a);
    memset(&b, 0xA5, sizeof b);
    if (dk_scen_from_json(j1, strlen(j1), &b, &e) != DK_OK) {
        fprintf(stderr, "written scenario does not read back: %s\n%s", e.msg, j1);
        CHECK(0);
    }
    same(&a, &b);
    char *j2 = written(&b);
    CHECK(strcmp(j1, j2) == 0);
    memset(&c, 0, sizeof c);
    CHECK(dk_scen_from_json(j2, strlen(j2), &c, &e) == DK_OK);
    same(&b, &c);
    free(j1);
    free(j2);
    return 0;
}
