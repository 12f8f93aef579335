/* diag.c - the failure signature table (see diag.h). Facts: protocol.md. */
#include "dfukit/diag.h"

#include <string.h>

#define ANY DK_DIAG_ANY

static bool stopped_in_data(const dk_summary *s) { return s->stop_obj == DK_OBJ_DATA; }
static bool stopped_in_init(const dk_summary *s) { return s->stop_obj == DK_OBJ_COMMAND; }
static bool not_completed(const dk_summary *s) { return s->outcome != DK_OUTCOME_COMPLETED; }

/* Rows are tried in order; keep specific rows above general ones. */
static const dk_diag_row rows[] = {
    { "update.completed", "the last image's final EXECUTE succeeded",
      DK_OUTCOME_COMPLETED, ANY, ANY, ANY, ANY, ANY, NULL,
      "The update completed: every image was sent and the target accepted it.",
      "Nothing to fix." },
    { "capture.empty", "no DFU message in the capture",
      DK_OUTCOME_EMPTY, ANY, ANY, ANY, ANY, ANY, NULL,
      "The capture holds no DFU message.",
      "Check that the capture was taken on the DFU serial line while the update ran." },
    { "link.no_answer", "requests were sent but the target never answered (§5.2 PING loop)",
      DK_OUTCOME_NO_RESPONSE, ANY, ANY, ANY, ANY, ANY, NULL,
      "The target never answered: it is not in DFU mode, or the port, baud rate or flow "
      "control does not match.",
      "Put the device into its bootloader (button or pin reset), check the port and 115200 "
      "baud, and match flow control to the bootloader (SDK UART examples use RTS/CTS; "
      "nrfutil -fc 1)." },
    /* init packet rejected at command EXECUTE (§6.7) */
    { "init.invalid", "command EXECUTE answered EXT 0x04 INIT_COMMAND_INVALID",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_EXT_ERROR,
      DK_EXT_INIT_COMMAND_INVALID, ANY, NULL,
      "The bootloader rejected the init packet: a required field (type, hw_version, "
      "fw_version or the image size) is missing.",
      "Regenerate the package with nrfutil pkg generate, giving --hw-version, --sd-req and the "
      "image version." },
    { "init.fw_version", "command EXECUTE answered EXT 0x05 FW_VERSION_FAILURE",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_EXT_ERROR,
      DK_EXT_FW_VERSION_FAILURE, ANY, NULL,
      "The bootloader refused the image as a downgrade: its version is lower than (or equal "
      "to) the installed one.",
      "Raise --application-version (or --bootloader-version) above the installed version." },
    { "init.hw_version", "command EXECUTE answered EXT 0x06 HW_VERSION_FAILURE",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_EXT_ERROR,
      DK_EXT_HW_VERSION_FAILURE, ANY, NULL,
      "The init packet's hw_version does not match the bootloader's NRF_DFU_HW_VERSION.",
      "Generate the package with --hw-version equal to the bootloader's (52 in the SDK "
      "examples)." },
    { "init.sd_req", "command EXECUTE answered EXT 0x07 SD_VERSION_FAILURE",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_EXT_ERROR,
      DK_EXT_SD_VERSION_FAILURE, ANY, NULL,
      "The init packet's sd_req list does not contain the SoftDevice installed on the target.",
      "Add the installed SoftDevice's FWID to --sd-req (nrfutil pkg generate --help lists "
      "them)." },
    { "init.signature_missing", "command EXECUTE answered EXT 0x08 SIGNATURE_MISSING",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_EXT_ERROR,
      DK_EXT_SIGNATURE_MISSING, ANY, NULL,
      "The package is unsigned but the bootloader requires a signed init packet.",
      "Sign the package with --key-file, using the key whose public half is built into the "
      "bootloader." },
    { "init.hash_type", "command EXECUTE answered EXT 0x09 WRONG_HASH_TYPE",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_EXT_ERROR,
      DK_EXT_WRONG_HASH_TYPE, ANY, NULL,
      "The init packet's hash is not SHA-256, the only type the bootloader accepts.",
      "Regenerate the package with a current nrfutil." },
    { "init.signature_type", "command EXECUTE answered EXT 0x0B WRONG_SIGNATURE_TYPE",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_EXT_ERROR,
      DK_EXT_WRONG_SIGNATURE_TYPE, ANY, NULL,
      "The init packet's signature is not ECDSA P-256 SHA-256.",
      "Sign with an ECDSA P-256 key (nrfutil keys generate)." },
    { "init.invalid_object", "command EXECUTE answered 0x05 INVALID_OBJECT",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_INVALID_OBJECT, ANY, ANY,
      NULL,
      "The bootloader could not decode the init packet or its signature did not verify.",
      "Sign with the private key matching the bootloader's public key, and check that the "
      ".dat is intact." },
    { "init.no_room", "command EXECUTE answered 0x04 INSUFFICIENT_RESOURCES",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_INSUFFICIENT_RESOURCES, ANY,
      ANY, NULL,
      "The image does not fit in the free flash (or the bootloader is larger than "
      "BOOTLOADER_SIZE).",
      "Shrink the image, or allow single-bank updates in the bootloader." },
    { "init.operation_failed", "command EXECUTE answered 0x0A OPERATION_FAILED",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, DK_RES_OPERATION_FAILED, ANY, ANY,
      NULL,
      "The bootloader failed while accepting the init packet (signature length, hash engine "
      "or settings write).",
      "Check that the signature is 64 bytes, then retry; a repeated failure points at the "
      "bootloader's flash." },
    { "init.rejected", "command EXECUTE answered any other error",
      DK_OUTCOME_FAILED, DK_STAGE_INIT, DK_OP_OBJECT_EXECUTE, ANY, ANY, ANY, NULL,
      "The bootloader rejected the init packet.",
      "Compare the package options with the bootloader's configuration." },
    { "image.hash_mismatch", "an EXECUTE answered EXT 0x0C VERIFICATION_FAILED",
      DK_OUTCOME_FAILED, ANY, DK_OP_OBJECT_EXECUTE, DK_RES_EXT_ERROR, DK_EXT_VERIFICATION_FAILED,
      ANY, NULL,
      "All bytes arrived but the SHA-256 of the received image does not match the init "
      "packet: the .bin and .dat do not belong together, or bytes were corrupted on the way.",
      "Rebuild the package from one build and retry; run dfudecode --pkg to compare the bytes "
      "sent with the package." },
    { "link.desync", "a response came after the host's next request (dfu.late_response)",
      ANY, ANY, ANY, ANY, ANY, DK_AN_DFU_LATE_RESPONSE, not_completed,
      "A slow answer arrived after the host had given up on it, so the host read it as the "
      "answer to its next request (response desync).",
      "Raise the host's response timeout, or use flow control so the target keeps up." },
    { "link.unexpected_response", "a response did not match the waiting request",
      ANY, ANY, ANY, ANY, ANY, DK_AN_DFU_UNEXPECTED_OPCODE, not_completed,
      "Responses no longer match requests: the host and the target are out of step "
      "(response desync).",
      "Check for lost frames (noise, missing flow control) and restart the update." },
    { "data.crc_mismatch", "the target reported a CRC different from the bytes sent",
      ANY, ANY, ANY, ANY, ANY, DK_AN_DFU_CRC_MISMATCH, not_completed,
      "The target's CRC differs from the bytes that were sent: data was corrupted on the line "
      "or dropped by the target.",
      "Use hardware flow control (RTS/CTS), check the cable and baud rate, then run the update "
      "again." },
    { "data.bytes_lost", "the target reported fewer or more bytes than were sent",
      ANY, ANY, ANY, ANY, ANY, DK_AN_DFU_OFFSET_MISMATCH, not_completed,
      "The target's offset differs from the bytes sent: frames were lost between host and "
      "target.",
      "Turn on hardware flow control (RTS/CTS) or lower the speed." },
    { "data.before_init", "a data object was refused before a valid init packet",
      DK_OUTCOME_FAILED, ANY, ANY, DK_RES_OPERATION_NOT_PERMITTED, ANY,
      DK_AN_DFU_DATA_BEFORE_INIT, NULL,
      "Firmware data was sent before the target held a valid init packet.",
      "Send (and execute) the init packet first; check that it was not rejected." },
    { "transfer.failed", "the target's last answer was an error",
      DK_OUTCOME_FAILED, ANY, ANY, ANY, ANY, ANY, NULL,
      "The target refused a request and the update stopped there.",
      "See the error above; its hint says what to check." },
    { "transfer.interrupted_init", "stopped while sending the init packet, without an error",
      DK_OUTCOME_INTERRUPTED, ANY, ANY, ANY, ANY, ANY, stopped_in_init,
      "The transfer stopped during the init packet without an error from the target: the host "
      "stopped or the link was lost.",
      "Run the update again with the same package." },
    { "transfer.interrupted", "stopped in the firmware data, without an error",
      DK_OUTCOME_INTERRUPTED, ANY, ANY, ANY, ANY, ANY, stopped_in_data,
      "The transfer stopped in the middle of the firmware without an error from the target: "
      "the host stopped or the link was lost.",
      "Run the update again with the same package; the bootloader keeps the init packet and, "
      "while it stays powered, the progress." },
    { "unknown", "anything else",
      ANY, ANY, ANY, ANY, ANY, ANY, NULL,
      "The capture does not match a known failure signature.",
      "Read the anomalies above, oldest first." },
};

static bool eq(int want, int have) { return want == ANY || want == have; }

static bool row_matches(const dk_diag_row *r, const dk_summary *s)
{
    if (!eq(r->outcome, (int)s->outcome))
        return false;
    bool failed = s->outcome == DK_OUTCOME_FAILED;
    if (r->stage != ANY && !(failed && r->stage == (int)s->fail_stage))
        return false;
    if (r->op != ANY && !(failed && r->op == s->fail_op))
        return false;
    if (r->result != ANY && !(failed && r->result == s->fail_result))
        return false;
    if (r->ext != ANY && !(failed && s->fail_has_ext && r->ext == s->fail_ext))
        return false;
    if (r->anomaly != ANY && ((unsigned)r->anomaly >= DK_AN_COUNT || !s->an_count[r->anomaly]))
        return false;
    return !r->match || r->match(s);
}

const dk_diag_row *dk_diag_pick(const dk_summary *s)
{
    size_t n = sizeof rows / sizeof rows[0];
    for (size_t i = 0; i < n; i++)
        if (row_matches(&rows[i], s))
            return &rows[i];
    return &rows[n - 1];
}

const dk_diag_row *dk_diag_table(unsigned *n)
{
    if (n)
        *n = (unsigned)(sizeof rows / sizeof rows[0]);
    return rows;
}

const dk_diag_row *dk_diag_find(const char *id)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (strcmp(rows[i].id, id) == 0)
            return &rows[i];
    return NULL;
}
