/* progcodes.c - the error codes of nRF Connect Programmer logs: nrfjprog DLL
 * errors ("Lowlevel error: JLINKARM_DLL_ERROR (ffffff9a)"), the codes of its
 * nrfjprog bindings ("Errorcode: CouldNotCallFunction (0x9)"), and the DFU
 * target's extended errors in the words Programmer and nrfutil device use
 * ("...does not contain the FWID of the current SoftDevice",
 * "SdfuExtSdVersionFailure") (logread.h). */
#include "logread_int.h"


/* ---- error code tables ------------------------------------------------------ */

/* X(code, NAME, hint): nrfjprog DLL (nrfjprogdll_err_t) values. */
#define DK_JPROG_ERRORS(X)                                                                         \
    X(0, SUCCESS, "no error")                                                                      \
    X(-1, OUT_OF_MEMORY, "the PC ran out of memory")                                               \
    X(-2, INVALID_OPERATION, "the library was called in the wrong state; restart the tool")        \
    X(-3, INVALID_PARAMETER, "an argument was refused (wrong file, address or device family)")     \
    X(-4, INVALID_DEVICE_FOR_OPERATION, "the operation does not apply to this device")             \
    X(-5, WRONG_FAMILY_FOR_DEVICE, "the device is not of the family the tool expected")            \
    X(-6, UNKNOWN_DEVICE, "the device was not recognised; update nrfjprog / the tools")            \
    X(-7, INVALID_SESSION, "the debug session is no longer valid; reconnect")                      \
    X(-10, EMULATOR_NOT_CONNECTED, "no J-Link connection; check the USB cable and debugger")       \
    X(-11, CANNOT_CONNECT, "the J-Link cannot reach the chip; check power, SWD wiring, protection") \
    X(-12, LOW_VOLTAGE, "the target voltage is too low; check the board supply")                   \
    X(-13, NO_EMULATOR_CONNECTED, "no J-Link found; check the USB cable and drivers")              \
    X(-20, NVMC_ERROR, "flash write or erase failed on the chip")                                  \
    X(-21, RECOVER_FAILED, "recover (erase all + unlock) failed; check power and SWD")             \
    X(-90, NOT_AVAILABLE_BECAUSE_PROTECTION, "readback/access port protection is on: recover the chip first") \
    X(-91, NOT_AVAILABLE_BECAUSE_MPU_CONFIG, "the memory protection configuration blocks this")    \
    X(-92, NOT_AVAILABLE_BECAUSE_COPROCESSOR_DISABLED, "the coprocessor is disabled")              \
    X(-93, NOT_AVAILABLE_BECAUSE_TRUST_ZONE, "TrustZone settings block this access")               \
    X(-94, NOT_AVAILABLE_BECAUSE_BPROT, "block protection (BPROT) blocks this flash region")       \
    X(-100, JLINKARM_DLL_NOT_FOUND, "SEGGER J-Link software is not installed or not found")        \
    X(-101, JLINKARM_DLL_COULD_NOT_BE_OPENED, "the J-Link library could not be loaded; reinstall J-Link") \
    X(-102, JLINKARM_DLL_ERROR, "the J-Link library reported an error talking to the chip; check power, SWD wiring, the debug switch, and the J-Link version") \
    X(-103, JLINKARM_DLL_TOO_OLD, "the J-Link software is too old; update it")                     \
    X(-104, JLINKARM_DLL_READ_ERROR, "a read through the J-Link failed (often protection or power)") \
    X(-105, JLINKARM_DLL_TIME_OUT_ERROR, "the J-Link timed out; check the connection and power")   \
    X(-110, SERIAL_PORT_NOT_FOUND, "the serial port does not exist")                               \
    X(-111, SERIAL_PORT_PERMISSION_ERROR, "no permission to open the serial port")                 \
    X(-112, SERIAL_PORT_WRITE_ERROR, "writing to the serial port failed")                          \
    X(-113, SERIAL_PORT_READ_ERROR, "reading from the serial port failed")                         \
    X(-114, SERIAL_PORT_RESOURCE_ERROR, "the serial port is busy or was removed")                  \
    X(-115, SERIAL_PORT_NOT_OPEN_ERROR, "the serial port is not open")                             \
    X(-150, NRFJPROG_SUB_DLL_NOT_FOUND, "an nrfjprog library is missing; reinstall the command line tools") \
    X(-151, NRFJPROG_SUB_DLL_COULD_NOT_BE_OPENED, "an nrfjprog library could not be loaded")       \
    X(-152, NRFJPROG_SUB_DLL_COULD_NOT_LOAD_FUNCTIONS, "an nrfjprog library is of the wrong version") \
    X(-153, NRFJPROG_HOST_EXE_NOT_FOUND, "an nrfjprog helper program is missing")                  \
    X(-160, VERIFY_ERROR, "read-back after programming differs from the image")                    \
    X(-161, RAM_IS_OFF_ERROR, "the RAM block needed is powered off")                               \
    X(-162, FILE_OPERATION_FAILED, "a file could not be read or written")                          \
    X(-170, FILE_PARSING_ERROR, "the image file does not parse")                                   \
    X(-171, FILE_UNKNOWN_FORMAT_ERROR, "the image file is of an unknown format")                   \
    X(-172, FILE_INVALID_ERROR, "the image file is invalid")                                       \
    X(-173, UNKNOWN_MEMORY_ERROR, "the image addresses memory the device does not have")           \
    X(-220, TIME_OUT, "a DFU operation timed out (modem DFU: is the device in the right mode?)")    \
    X(-221, DFU_ERROR, "the DFU target reported an error")                                         \
    X(-254, INTERNAL_ERROR, "internal error of the programming library")                           \
    X(-255, NOT_IMPLEMENTED_ERROR, "the operation is not implemented for this device")

/* X(code, Name, hint): Programmer's nrfjprog binding error codes. */
#define DK_PROGJS_ERRORS(X)                                                                        \
    X(0, Success, "no error")                                                                      \
    X(1, CouldNotFindJlinkDLL, "SEGGER J-Link software is not installed or not found")             \
    X(2, CouldNotFindJprogDLL, "the nrfjprog library is not installed or not found")               \
    X(3, CouldNotLoadDLL, "a programming library could not be loaded")                             \
    X(4, CouldNotOpenDevice, "the device could not be opened through the debugger; see the low-level error") \
    X(5, CouldNotResetDevice, "the device could not be reset")                                     \
    X(6, CouldNotCloseDevice, "the debugger connection could not be closed")                       \
    X(7, CouldNotOpenDLL, "a programming library could not be opened")                             \
    X(8, CouldNotConnectToDevice, "the debugger could not connect to the chip")                    \
    X(9, CouldNotCallFunction, "a programming library call failed; the low-level error says why")  \
    X(10, CouldNotErase, "erasing failed")                                                         \
    X(11, CouldNotProgram, "programming failed")                                                   \
    X(12, CouldNotRead, "reading failed")                                                          \
    X(13, CouldNotOpenHexFile, "the hex file could not be opened")                                 \
    X(14, WrongMagicNumber, "the file is not of the expected kind")

typedef struct {
    int32_t code;
    const char *name;
    const char *hint;
} code_row;

#define DK_X_ROW(c, n, h) { c, #n, h },
static const code_row jprog_rows[] = { DK_JPROG_ERRORS(DK_X_ROW) };
static const code_row progjs_rows[] = { DK_PROGJS_ERRORS(DK_X_ROW) };
#undef DK_X_ROW

static const code_row *row_by_code(const code_row *t, size_t n, int32_t code)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].code == code)
            return &t[i];
    return NULL;
}

static const code_row *row_by_name(const code_row *t, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(t[i].name) == len && memcmp(t[i].name, name, len) == 0)
            return &t[i];
    return NULL;
}

#define NROWS(t) (sizeof t / sizeof t[0])

const char *dk_jprog_err_name(int32_t code)
{
    const code_row *r = row_by_code(jprog_rows, NROWS(jprog_rows), code);
    return r ? r->name : NULL;
}
const char *dk_jprog_err_hint(int32_t code)
{
    const code_row *r = row_by_code(jprog_rows, NROWS(jprog_rows), code);
    return r ? r->hint : NULL;
}
const char *dk_progjs_err_name(int code)
{
    const code_row *r = row_by_code(progjs_rows, NROWS(progjs_rows), code);
    return r ? r->name : NULL;
}
const char *dk_progjs_err_hint(int code)
{
    const code_row *r = row_by_code(progjs_rows, NROWS(progjs_rows), code);
    return r ? r->hint : NULL;
}
int32_t dk_jprog_err_by_name(const char *name, size_t len)
{
    const code_row *r = row_by_name(jprog_rows, NROWS(jprog_rows), name, len);
    return r ? r->code : -1000;
}
int dk_progjs_err_by_name(const char *name, size_t len)
{
    const code_row *r = row_by_name(progjs_rows, NROWS(progjs_rows), name, len);
    return r ? (int)r->code : -1;
}

/* ---- the DFU target's errors in Programmer's and nrfutil device's words ---- */

/* Sentences nrfutil, Programmer and nrf-device-lib print for an extended
 * error (§3.2), by a phrase of each. */
static const struct { const char *phrase; int ext; } ext_sentences[] = {
    { "init command is invalid", 0x04 },
    { "firmware version is too low", 0x05 },
    { "hardware version of the device does not match", 0x06 },
    { "does not contain the FWID", 0x07 },
    { "does not contain a signature", 0x08 },
    { "hash type that is specified by the init packet is not supported", 0x09 },
    { "hash of the firmware image cannot be calculated", 0x0A },
    { "type of the signature is unknown", 0x0B },
    { "hash of the received firmware image does not match", 0x0C },
    { "available space on the device is insufficient", 0x0D },
};

/* nrf-device-lib's names ("code: SdfuExtSdVersionFailure"). */
static const struct { const char *name; int ext; } ext_names[] = {
    { "SdfuExtInitCommandInvalid", 0x04 }, { "SdfuExtFwVersionFailure", 0x05 },
    { "SdfuExtHwVersionFailure", 0x06 },   { "SdfuExtSdVersionFailure", 0x07 },
    { "SdfuExtSignatureMissing", 0x08 },   { "SdfuExtWrongHashType", 0x09 },
    { "SdfuExtHashFailed", 0x0A },         { "SdfuExtWrongSignatureType", 0x0B },
    { "SdfuExtVerificationFailed", 0x0C }, { "SdfuExtInsufficientSpace", 0x0D },
};

int lr_dfu_ext_words(const char *s, size_t n)
{
    for (size_t i = 0; i < NROWS(ext_sentences); i++)
        if (find(s, n, ext_sentences[i].phrase))
            return ext_sentences[i].ext;
    for (size_t i = 0; i < NROWS(ext_names); i++)
        if (find(s, n, ext_names[i].name))
            return ext_names[i].ext;
    return -1;
}

int lr_dfu_result_words(const char *s, size_t n)
{
    /* the response code sentences (nrfutil's RES_CODE text) */
    static const struct { const char *phrase; int res; } t[] = {
        { "didn't match firmware/hardware", 0x05 },
        { "SdfuInvalidObject", 0x05 },
        { "SdfuOperationNotPermitted", 0x08 },
        { "SdfuInsufficientResources", 0x04 },
    };
    for (size_t i = 0; i < NROWS(t); i++)
        if (find(s, n, t[i].phrase))
            return t[i].res;
    return -1;
}
