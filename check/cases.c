/* cases.c - the case table (cases.h). */
#include "cases.h"

#include <string.h>

/* Faults use gen.h's tokens: {mid} the middle of object k+1, {bnd} and
 * {bnd2} the ends of objects k and k+1, {exe} the EXECUTE (or CRC_GET) of
 * object k counted with the init packet's, {write} a WRITE in object k+1. */
const dc_case dc_cases[] = {
    { .id = "complete", .pkg = DC_PKG_GOOD, .user_pkg_ok = true,
      .expects = "sends the package; the target activates it",
      .relies = "§5.2 sequence, §6.5 EXECUTE, §6.6 reset and activation" },
    { .id = "escaped-response", .pkg = DC_PKG_ESCAPED,
      .expects = "reads answers whose CRC holds 0xC0 and 0xDB at every object boundary "
                 "(and offset 0xC000) after removing SLIP escapes",
      .relies = "§1.1-1.2 the target escapes its answers; §4 the CRC covers the image so far" },
    { .id = "prn", .pkg = DC_PKG_GOOD, .user_pkg_ok = true, .prn = 2,
      .expects = "turns notifications on with {prn} (2) and checks each one, those that "
                 "come during the init packet too",
      .relies = "§2.3 PRN: CRC_GET-shaped 60 03 answers, command writes counted, "
                "counter reset by CREATE" },
    { .id = "kill-resume-mid-object", .pkg = DC_PKG_GOOD, .user_pkg_ok = true,
      .faults = { "after-bytes={mid}:pause" }, .pauses = 1, .must_resume = true,
      .expects = "killed (SIGKILL) halfway through an object, run again: sends only the "
                 "rest of that object (or creates it again) and goes on",
      .relies = "§6.9 no reset: the RAM state survives, SELECT data reports the live offset; "
                "§6.4 a data CREATE rolls back to the object's start" },
    { .id = "kill-resume-boundary", .pkg = DC_PKG_GOOD, .user_pkg_ok = true,
      .faults = { "after-op=execute#{exe}:pause", "after-bytes={bnd2}:pause" }, .pauses = 2,
      .must_resume = true,
      .expects = "killed right after an object was executed, then once all bytes of the next "
                 "one were in but not executed; run again each time: resumes",
      .relies = "§6.5 EXECUTE of a finished object passes, again too; §5.2 resume; §6.9" },
    { .id = "power-cut-mid-object", .pkg = DC_PKG_GOOD, .user_pkg_ok = true,
      .faults = { "after-bytes={mid}:power-cut=100" }, .rerun_after_fault = true,
      .expects = "power lost halfway through an object (run again if it gave up): starts the "
                 "data again and keeps the init packet",
      .relies = "§6.9 SAVE_PROGRESS 0: SELECT data reports 0 after a reset, the init command "
                "is re-armed from flash; §6.3" },
    { .id = "power-cut-mid-object-saved", .pkg = DC_PKG_GOOD, .user_pkg_ok = true,
      .faults = { "after-bytes={mid}:power-cut=100" }, .rerun_after_fault = true,
      .save_progress = true, .must_resume = true,
      .expects = "power lost halfway through an object, progress saved: resumes at the last "
                 "executed object",
      .relies = "§6.3 SAVE_PROGRESS 1 writes settings at each data EXECUTE; §6.9" },
    { .id = "power-cut-boundary", .pkg = DC_PKG_GOOD, .user_pkg_ok = true,
      .faults = { "after-op=execute#{exe}:power-cut=100" }, .rerun_after_fault = true,
      .expects = "power lost as an object was executed (its answer never came): recovers",
      .relies = "§6.9 SAVE_PROGRESS 0: data progress back to 0; §6.5" },
    { .id = "power-cut-boundary-saved", .pkg = DC_PKG_GOOD, .user_pkg_ok = true,
      .faults = { "after-op=execute#{exe}:power-cut=100" }, .rerun_after_fault = true,
      .save_progress = true, .must_resume = true,
      .expects = "power lost as an object was executed, progress saved: resumes after it",
      .relies = "§6.3 the settings write of a data EXECUTE; §6.9; §6.5 EXECUTE again passes" },
    { .id = "reset-mid-object", .pkg = DC_PKG_GOOD, .user_pkg_ok = true,
      .faults = { "after-bytes={mid}:reset" }, .rerun_after_fault = true,
      .expects = "the chip resets halfway through an object: recovers",
      .relies = "§6.9 a reset loses the RAM state; SAVE_PROGRESS 0: data from 0" },
    { .id = "reset-mid-object-saved", .pkg = DC_PKG_GOOD, .user_pkg_ok = true,
      .faults = { "after-bytes={mid}:reset" }, .rerun_after_fault = true, .save_progress = true,
      .must_resume = true,
      .expects = "the chip resets halfway through an object, progress saved: resumes",
      .relies = "§6.3, §6.9 SAVE_PROGRESS 1" },
    { .id = "dropped-response", .pkg = DC_PKG_GOOD, .user_pkg_ok = true,
      .faults = { "op=execute#{exe}:drop-response" },
      .expects = "an EXECUTE answer never comes: times out, finds out where the target is "
                 "and goes on, in the same run",
      .relies = "§5.2 weaknesses (nrfutil has no retry); §6.5 an executed object can be "
                "executed again" },
    { .id = "late-response", .pkg = DC_PKG_GOOD, .user_pkg_ok = true,
      .faults = { "op=crc#{exe}:delay-response=800" },
      .expects = "a CRC_GET answer comes 800 ms late (longer than one object takes on a 115200 "
                 "baud line, shorter than nrfutil's 1 s): waits, or resyncs, and goes on",
      .relies = "§6.1 answers come in request order; §5.2 timeouts" },
    { .id = "lost-frame", .pkg = DC_PKG_GOOD, .user_pkg_ok = true,
      .faults = { "op=write#{write}:lose-request" },
      .expects = "a WRITE frame is lost on the line: the CRC check at the object's end shows "
                 "it; sends the object again, in the same run",
      .relies = "§1.3 a frame the UART drops; §2.3 a lost WRITE is seen only through CRC_GET "
                "or PRN; §6.4 CREATE rolls back" },
    { .id = "stale-init", .pkg = DC_PKG_GOOD, .stale_init = true,
      .expects = "the target holds another package's init command (same length) and data "
                 "progress: sends its own init packet, not EXECUTE of the stale one",
      .relies = "§6.9 the init command in flash is re-armed at boot; §5.2 recovery compares "
                "length and CRC; §6.4 command CREATE resets progress" },
    { .id = "reject-hw-version", .pkg = DC_PKG_HW, .expect = DC_EXPECT_REJECT,
      .expects = "hw_version 51 on a device built for 52: stops with an error",
      .relies = "§6.7 step 3: EXT 0x06 HW_VERSION_FAILURE at the init packet's EXECUTE" },
    { .id = "reject-sd-req", .pkg = DC_PKG_SD_REQ, .expect = DC_EXPECT_REJECT,
      .expects = "sd_req 0x0101 on an MBR-only device: stops with an error",
      .relies = "§6.7 step 3: EXT 0x07 SD_VERSION_FAILURE" },
    { .id = "reject-fw-version", .pkg = DC_PKG_FW_OLD, .expect = DC_EXPECT_REJECT,
      .app_version = 100,
      .expects = "fw_version below the installed app's (100): stops with an error",
      .relies = "§6.7 step 3: EXT 0x05 FW_VERSION_FAILURE (downgrade prevention)" },
    { .id = "reject-signature", .pkg = DC_PKG_WRONG_KEY, .expect = DC_EXPECT_REJECT,
      .require_signature = true,
      .expects = "signed with a key the device does not hold: stops with an error",
      .relies = "§6.7 step 1: 0x05 INVALID_OBJECT when the signature does not verify" },
    { .id = "reject-unsigned", .pkg = DC_PKG_UNSIGNED, .expect = DC_EXPECT_REJECT,
      .require_signature = true,
      .expects = "an unsigned package for a device that requires signatures: stops",
      .relies = "§6.7 step 1: EXT 0x08 SIGNATURE_MISSING" },
    { .id = "reject-too-big", .pkg = DC_PKG_TOO_BIG, .expect = DC_EXPECT_REJECT,
      .expects = "an image larger than the free flash: stops with an error",
      .relies = "§6.7 step 4, §7 bank layout: 0x04 INSUFFICIENT_RESOURCES" },
    { .id = "reject-hash", .pkg = DC_PKG_BAD_HASH, .expect = DC_EXPECT_REJECT,
      .expects = "the .bin is not the image the .dat hashes: stops with an error (before "
                 "sending, or when the final EXECUTE fails)",
      .relies = "§6.6 step 1: 60 04 0B 0C VERIFICATION_FAILED; the device resets and never "
                "activates it" },
};

const size_t dc_n_cases = sizeof dc_cases / sizeof *dc_cases;

const dc_case *dc_case_find(const char *id)
{
    for (size_t i = 0; i < dc_n_cases; i++)
        if (!strcmp(dc_cases[i].id, id))
            return &dc_cases[i];
    return NULL;
}
