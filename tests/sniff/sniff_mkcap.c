/* sniff_mkcap.c - test tool for the Wireshark dissector.
 *
 *   sniff_mkcap FILE.pcap   write a capture through lib capfile that touches
 *                           every message shape: frames split across packets,
 *                           two frames in one packet, escapes, extended and
 *                           plain errors, a bad escape, a truncated response,
 *                           a control-line change
 *   sniff_mkcap --tables    print the lib's name tables and its anomaly ids
 *                           with their severities as dfukit.lua spells them,
 *                           one entry a line, to check the two agree
 */
#include <stdio.h>
#include <string.h>

#include "dfukit/capfile.h"
#include "dfukit/event.h"
#include "dfukit/tables.h"

static int64_t t = 1700000000000000LL;

static int put(dk_cap_writer *w, dk_dir dir, const char *hex)
{
    uint8_t b[256];
    size_t n = 0;
    unsigned v;
    int used;
    while (n < sizeof b && sscanf(hex, " %2x%n", &v, &used) == 1) {
        b[n++] = (uint8_t)v;
        hex += used;
    }
    dk_err e = {0};
    t += 1500;
    if (dk_cap_write(w, t, dir, b, n, &e) != DK_OK) {
        dk_err_print(stderr, "sniff_mkcap", NULL, &e);
        return -1;
    }
    return 0;
}

#define H DK_DIR_HOST
#define T DK_DIR_TARGET

static int tables(void)
{
#define X3(v, n, a) printf("[0x%02X] = \"%s\",\n", v, #n);
    printf("-- op_names\n");
    DK_OPCODES(X3)
    printf("-- result_names\n");
    DK_RESULTS(X3)
#undef X3
#define X4(v, n, a, b) printf("[0x%02X] = \"%s\",\n", v, #n);
    printf("-- ext_names\n");
    DK_EXT_ERRORS(X4)
#undef X4
#define X2(v, n) printf("[0x%02X] = \"%s\",\n", v, #n);
    printf("-- obj_names\n");
    DK_OBJ_TYPES(X2)
#undef X2
    printf("-- anomaly_sev\n");
    for (int i = 0; i < DK_AN_COUNT; i++)
        printf("[\"%s\"] = \"%s\",\n", dk_anomaly_name((dk_anomaly_id)i),
               dk_severity_name(dk_anomaly_severity((dk_anomaly_id)i)));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: sniff_mkcap FILE.pcap | --tables\n");
        return 2;
    }
    if (!strcmp(argv[1], "--tables"))
        return tables();
    dk_err e = {0};
    dk_cap_writer *w = dk_cap_create(argv[1], &e);
    if (!w) {
        dk_err_print(stderr, "sniff_mkcap", argv[1], &e);
        return 2;
    }
    dk_cap_set_lines(w, DK_LINE_RTS | DK_LINE_DTR);
    int rc = 0;
    rc |= put(w, H, "09");                            /* 1  PING, first half */
    rc |= put(w, H, "01 C0");                         /* 2  ... completed: id=1 */
    rc |= put(w, T, "60 09 01 01 C0");                /* 3  PING -> SUCCESS id=1 */
    rc |= put(w, H, "02 DB DC 00 C0");                /* 4  PRN 0x00C0 (escaped C0) */
    rc |= put(w, T, "60 02 01 C0");                   /* 5 */
    rc |= put(w, H, "07 C0");                         /* 6  MTU_GET */
    rc |= put(w, T, "60 07 01 83 00 C0");             /* 7  mtu=131 */
    rc |= put(w, H, "06 01 C0");                      /* 8  SELECT COMMAND */
    rc |= put(w, T, "60 06 01 00 02 00 00 00 00 00 00 00 00 00 00 C0"); /* 9 max 512 */
    rc |= put(w, H, "01 01 8C 00 00 00 C0");          /* 10 CREATE COMMAND 140 */
    rc |= put(w, T, "60 01 01 C0");                   /* 11 */
    rc |= put(w, H, "08 11 22 DB DD 44 55");          /* 12 WRITE, 5 bytes so far (DB escaped) */
    rc |= put(w, H, "66 77 C0");                      /* 13 ... 7 data bytes */
    rc |= put(w, H, "03 C0");                         /* 14 CRC_GET */
    rc |= put(w, T, "60 03 01 07 00 00 00 EF BE AD DE C0"); /* 15 offset 7 crc 0xdeadbeef */
    rc |= put(w, H, "04 C0");                         /* 16 EXECUTE */
    rc |= put(w, T, "60 04 0B 08 C0");                /* 17 EXT_ERROR SIGNATURE_MISSING */
    dk_cap_write_lines(w, t += 1500, DK_LINE_RTS | DK_LINE_DTR | DK_LINE_CTS, &e); /* 18 */
    rc |= put(w, H, "0A C0");                         /* 19 HARDWARE_VERSION */
    rc |= put(w, T, "60 0A 01 40 08 05 00 41 41 42 30 00 00 10 00 00 00 04 00 00 10 00 00 C0"); /* 20 */
    rc |= put(w, H, "09 DB 01 C0");                   /* 21 bad escape */
    rc |= put(w, T, "60 03 01 05 C0");                /* 22 truncated CRC response */
    rc |= put(w, T, "60 0C 02 C0");                   /* 23 ABORT -> OP_CODE_NOT_SUPPORTED */
    rc |= put(w, H, "0B 00 C0");                      /* 24 FIRMWARE_VERSION image 0 */
    rc |= put(w, T, "60 0B 01 00 03 00 00 00 00 10 00 00 00 20 00 00 C0"); /* 25 */
    rc |= put(w, H, "09 02 C0 09 03 C0");             /* 26 two PINGs in one packet */
    rc |= put(w, H, "00 C0 77 C0");                   /* 27 PROTOCOL_VERSION + unknown op 0x77 */
    rc |= put(w, T, "60 00 01 01 99 C0");             /* 28 version=1 + one extra byte */
    if (dk_cap_close_writer(w, &e) != DK_OK || rc) {
        dk_err_print(stderr, "sniff_mkcap", argv[1], &e);
        return 1;
    }
    return 0;
}
