-- dfukit.lua - Wireshark/tshark dissector for dfukit captures: Nordic Secure
-- DFU over a serial line (SLIP framed), pcap link type 250 (RTAC serial).
--
-- Packet layout (written by dfusniff and dfusim):
--   off  size  field
--   0    4     timestamp seconds, big-endian
--   4    4     timestamp microseconds, big-endian
--   8    1     event: 0x01 host -> target, 0x02 target -> host,
--                     0x00 control lines changed (no data), 0x05 data lost
--   9    1     control lines: CTS 0x01 DCD 0x02 DSR 0x04 RTS 0x08 DTR 0x10 RING 0x20
--   10   2     footer, 0
--   12   ...   the bytes as they crossed the line, still SLIP framed
--
-- SLIP (no leading END, one END 0xC0 after each frame; DB DC = C0, DB DD = DB)
-- is reassembled per direction across packets: a frame is shown in the packet
-- that holds its END, with the packet it started in.
--
-- The session is followed as dfudecode follows it: the protocol told as its
-- pipeline tells it (the first frame that names one), then Secure DFU
-- (lib/sdfu/session.c) or legacy HCI DFU (lib/legacy/track.c), whose rules
-- this file repeats in Lua.  Secure DFU: requests paired with their answers
-- in the order the target owes them (PRN notifications included), the
-- running CRC-32 and offset of the command object and of each image's data
-- checked against what CRC_GET, SELECT and PRN notifications report.
-- Legacy: HCI packets paired with the ACKs that answer them, and what the
-- device did with each.  Every anomaly dfudecode reports, under the same
-- dotted id, is an expert item (dfukit.<id>) and a field (dfukit.anomaly).
-- Results are computed once, in packet order, on the first pass
-- (pinfo.visited false) and kept by packet number; what the end of the
-- capture shows (requests never answered) is added when the second pass
-- starts.  tshark therefore needs -2 to show everything; Wireshark
-- redissects on its own.
--
-- DFU messages:
--   request   op u8, payload
--   response  0x60, op u8, result u8, [payload when result = SUCCESS]
--                                     [extended error u8 when result = EXT_ERROR]
--   all integers little-endian.
--
-- Use:  tshark -2 -X lua_script:dfukit.lua -r capture.pcap -V
--       or copy to ~/.local/lib/wireshark/plugins/ for Wireshark.

local dfu = Proto("dfukit", "Nordic Secure DFU (serial)")

-- Value tables.  tests/sniff checks them against lib/include/dfukit/tables.h.
local op_names = {
    [0x00] = "PROTOCOL_VERSION",
    [0x01] = "OBJECT_CREATE",
    [0x02] = "RECEIPT_NOTIF_SET",
    [0x03] = "CRC_GET",
    [0x04] = "OBJECT_EXECUTE",
    [0x05] = "READ_ERROR",
    [0x06] = "OBJECT_SELECT",
    [0x07] = "MTU_GET",
    [0x08] = "OBJECT_WRITE",
    [0x09] = "PING",
    [0x0A] = "HARDWARE_VERSION",
    [0x0B] = "FIRMWARE_VERSION",
    [0x0C] = "ABORT",
    [0x60] = "RESPONSE",
}

local result_names = {
    [0x00] = "INVALID",
    [0x01] = "SUCCESS",
    [0x02] = "OP_CODE_NOT_SUPPORTED",
    [0x03] = "INVALID_PARAMETER",
    [0x04] = "INSUFFICIENT_RESOURCES",
    [0x05] = "INVALID_OBJECT",
    [0x06] = "INVALID_SIGNATURE",
    [0x07] = "UNSUPPORTED_TYPE",
    [0x08] = "OPERATION_NOT_PERMITTED",
    [0x0A] = "OPERATION_FAILED",
    [0x0B] = "EXT_ERROR",
}

local ext_names = {
    [0x00] = "NO_ERROR",
    [0x01] = "INVALID_ERROR_CODE",
    [0x02] = "WRONG_COMMAND_FORMAT",
    [0x03] = "UNKNOWN_COMMAND",
    [0x04] = "INIT_COMMAND_INVALID",
    [0x05] = "FW_VERSION_FAILURE",
    [0x06] = "HW_VERSION_FAILURE",
    [0x07] = "SD_VERSION_FAILURE",
    [0x08] = "SIGNATURE_MISSING",
    [0x09] = "WRONG_HASH_TYPE",
    [0x0A] = "HASH_FAILED",
    [0x0B] = "WRONG_SIGNATURE_TYPE",
    [0x0C] = "VERIFICATION_FAILED",
    [0x0D] = "INSUFFICIENT_SPACE",
}

local ext_meanings = {
    [0x00] = "no extended error was set",
    [0x01] = "invalid extended error code",
    [0x02] = "wrong command format",
    [0x03] = "unknown command",
    [0x04] = "init command invalid: missing type, hw_version, fw_version or size",
    [0x05] = "firmware version too low: downgrade prevented",
    [0x06] = "hardware version does not match the bootloader's",
    [0x07] = "SoftDevice requirement not met",
    [0x08] = "init packet is unsigned but the bootloader requires a signature",
    [0x09] = "hash type is not SHA-256",
    [0x0A] = "hash could not be computed",
    [0x0B] = "signature type is not ECDSA P-256 SHA-256",
    [0x0C] = "SHA-256 of the received image does not match the init packet",
    [0x0D] = "not enough space for the image",
}

local obj_names = {
    [0x00] = "INVALID",
    [0x01] = "COMMAND",
    [0x02] = "DATA",
}

local dir_names = { [1] = "host -> target", [2] = "target -> host" }
local event_names = {
    [0x00] = "control lines changed",
    [0x01] = "host -> target",
    [0x02] = "target -> host",
    [0x05] = "capture data lost",
}

local RESPONSE = 0x60
local lg_kind_names_v = { [0] = "NOP", [1] = "INIT", [3] = "START", [4] = "DATA", [5] = "STOP" }
local lg_mode_names_v = { [1] = "softdevice", [2] = "bootloader", [3] = "softdevice+bootloader", [4] = "application" }
local OP = { CREATE = 0x01, PRN_SET = 0x02, CRC_GET = 0x03, EXECUTE = 0x04, SELECT = 0x06,
             WRITE = 0x08, PING = 0x09, FW_VERSION = 0x0B, ABORT = 0x0C }
local SUCCESS, EXT_ERROR = 0x01, 0x0B
local OBJ_COMMAND, OBJ_DATA = 0x01, 0x02
local HOST, TARGET = 1, 2
local CMD_MAX = 512      -- init packet bytes kept (INIT_COMMAND_MAX_SIZE, SDK 17.1)
local OUT_Q = 64         -- answers owed at most
local CHECKPOINTS = 16   -- (offset, crc) at recent executed data boundaries
local RESYNC_MAX = 64    -- noise bytes searched at the front of a frame
local FRAME_CAP = 8192   -- decoded frame limit (DK_FRAME_CAP)

-- The anomaly table: dotted id = severity, as lib/include/dfukit/event.h
-- has it (tests/sniff checks the two agree).
local anomaly_sev = {
    ["slip.bad_escape"] = "error",
    ["slip.too_long"] = "error",
    ["slip.empty_frame"] = "warning",
    ["slip.unterminated"] = "warning",
    ["slip.bytes_before_first_frame"] = "info",
    ["slip.noise"] = "warning",
    ["cap.data_lost"] = "error",
    ["msg.truncated"] = "error",
    ["msg.overlong"] = "warning",
    ["msg.unknown_opcode"] = "error",
    ["msg.wrong_direction"] = "warning",
    ["dfu.response_without_request"] = "error",
    ["dfu.no_response"] = "error",
    ["dfu.boot_check"] = "info",
    ["dfu.late_response"] = "error",
    ["dfu.unexpected_opcode"] = "error",
    ["dfu.crc_mismatch"] = "error",
    ["dfu.offset_mismatch"] = "error",
    ["dfu.offset_backwards"] = "warning",
    ["dfu.write_beyond_object"] = "error",
    ["dfu.write_without_object"] = "error",
    ["dfu.execute_incomplete"] = "error",
    ["dfu.object_discarded"] = "warning",
    ["dfu.data_before_init"] = "error",
    ["dfu.object_type_settled"] = "info",
    ["dfu.ext_error"] = "error",
    ["dfu.error_result"] = "error",
    ["initpkt.malformed"] = "error",
    ["initpkt.incomplete"] = "info",
    ["hci.bad_header"] = "error",
    ["hci.bad_crc"] = "error",
    ["hci.bad_length"] = "warning",
    ["hci.no_ack"] = "error",
    ["hci.seq_gap"] = "warning",
    ["hci.retransmit"] = "warning",
    ["hci.ack_number"] = "warning",
    ["hci.unexpected_frame"] = "warning",
    ["legacy.dropped"] = "error",
    ["legacy.stale_sequence"] = "error",
    ["legacy.device_reset"] = "error",
    ["legacy.start_refused"] = "error",
    ["legacy.init_malformed"] = "error",
    ["legacy.init_device_type"] = "error",
    ["legacy.init_device_rev"] = "error",
    ["legacy.init_sd_req"] = "error",
    ["legacy.out_of_order"] = "error",
    ["legacy.data_overflow"] = "error",
    ["legacy.partial_word"] = "warning",
    ["legacy.unknown_kind"] = "warning",
    ["legacy.size_mismatch"] = "error",
    ["legacy.crc_mismatch"] = "error",
    ["pkg.init_mismatch"] = "error",
    ["pkg.data_mismatch"] = "error",
}

local result_meanings = {
    [0x00] = "invalid result code (never sent by the SDK)",
    [0x02] = "opcode not supported by this bootloader",
    [0x03] = "invalid parameter: zero or unaligned size, or write beyond the object",
    [0x04] = "insufficient resources: object too large or no room for the image",
    [0x05] = "invalid object: bad type, undecodable init packet or bad signature",
    [0x06] = "invalid signature (nrfutil name, not in SDK 17.1)",
    [0x07] = "unsupported object type",
    [0x08] = "operation not permitted in this state (missing init packet, missing or extra bytes)",
    [0x0A] = "operation failed (settings write, signature length, hash engine)",
    [0x0B] = "extended error: see the extended error code",
}

local F = dfu.fields
F.direction = ProtoField.uint8("dfukit.direction", "Direction", base.DEC, dir_names)
F.event = ProtoField.uint8("dfukit.event", "Event", base.HEX, event_names)
F.raw_len = ProtoField.uint32("dfukit.raw_len", "Line bytes in this packet", base.DEC)
F.frame = ProtoField.bytes("dfukit.frame", "SLIP frame (decoded)")
F.frame_len = ProtoField.uint32("dfukit.frame_len", "Frame length", base.DEC)
F.frame_start = ProtoField.framenum("dfukit.frame_start", "Frame started in packet")
F.pending = ProtoField.uint32("dfukit.pending", "Partial frame bytes so far (continues in a later packet)", base.DEC)
F.opcode = ProtoField.uint8("dfukit.opcode", "Opcode", base.HEX, op_names)
F.response = ProtoField.bool("dfukit.response", "Response")
F.req_opcode = ProtoField.uint8("dfukit.request_opcode", "Request opcode", base.HEX, op_names)
F.result = ProtoField.uint8("dfukit.result", "Result", base.HEX, result_names)
F.ext_error = ProtoField.uint8("dfukit.ext_error", "Extended error", base.HEX, ext_names)
F.obj_type = ProtoField.uint8("dfukit.obj_type", "Object type", base.HEX, obj_names)
F.size = ProtoField.uint32("dfukit.size", "Object size", base.DEC)
F.prn = ProtoField.uint16("dfukit.prn", "Receipt notification interval", base.DEC)
F.offset = ProtoField.uint32("dfukit.offset", "Offset", base.DEC)
F.crc = ProtoField.uint32("dfukit.crc", "CRC-32", base.HEX)
F.max_size = ProtoField.uint32("dfukit.max_size", "Maximum object size", base.DEC)
F.mtu = ProtoField.uint16("dfukit.mtu", "MTU", base.DEC)
F.ping_id = ProtoField.uint8("dfukit.ping_id", "Ping id", base.DEC)
F.version = ProtoField.uint8("dfukit.protocol_version", "Protocol version", base.DEC)
F.data = ProtoField.bytes("dfukit.data", "Object data")
F.data_len = ProtoField.uint32("dfukit.data_len", "Object data length", base.DEC)
F.image = ProtoField.uint8("dfukit.image", "Image number", base.DEC)
F.hw_part = ProtoField.uint32("dfukit.hw.part", "Part", base.HEX)
F.hw_variant = ProtoField.uint32("dfukit.hw.variant", "Variant", base.HEX)
F.hw_rom = ProtoField.uint32("dfukit.hw.rom_size", "ROM size", base.DEC)
F.hw_ram = ProtoField.uint32("dfukit.hw.ram_size", "RAM size", base.DEC)
F.hw_page = ProtoField.uint32("dfukit.hw.rom_page_size", "ROM page size", base.DEC)
F.fw_type = ProtoField.uint8("dfukit.fw.type", "Image type", base.HEX)
F.fw_version = ProtoField.uint32("dfukit.fw.version", "Image version", base.DEC)
F.fw_addr = ProtoField.uint32("dfukit.fw.addr", "Image address", base.HEX)
F.fw_len = ProtoField.uint32("dfukit.fw.len", "Image length", base.DEC)
F.extra = ProtoField.bytes("dfukit.extra", "Bytes beyond what the opcode defines")
-- the session
F.response_in = ProtoField.framenum("dfukit.response_in", "Response in", base.NONE, frametype.RESPONSE)
F.request_in = ProtoField.framenum("dfukit.request_in", "Request in", base.NONE, frametype.REQUEST)
F.response_time = ProtoField.relative_time("dfukit.response_time", "Response time")
F.late = ProtoField.bool("dfukit.late", "Answered after the host's next request")
F.no_response = ProtoField.bool("dfukit.no_response", "Never answered")
F.prn_due_in = ProtoField.framenum("dfukit.prn_due_in", "PRN notification due after the write in", base.NONE, frametype.REQUEST)
F.prn_in = ProtoField.framenum("dfukit.prn_in", "PRN notification this write made due in", base.NONE, frametype.RESPONSE)
F.session_image = ProtoField.uint32("dfukit.session_image", "Image of the session", base.DEC)
F.write_offset = ProtoField.uint32("dfukit.write_offset", "Object offset written", base.DEC)
F.running_crc = ProtoField.uint32("dfukit.running_crc", "Running CRC-32 after this write", base.HEX)
F.check = ProtoField.string("dfukit.check", "Reported offset/CRC against the bytes sent")
F.expected_offset = ProtoField.uint32("dfukit.expected_offset", "Offset of the bytes sent", base.DEC)
F.expected_crc = ProtoField.uint32("dfukit.expected_crc", "CRC-32 of the bytes sent", base.HEX)
F.anomaly = ProtoField.string("dfukit.anomaly", "Anomaly")
-- legacy HCI DFU
F.hci_seq = ProtoField.uint8("dfukit.hci.seq", "HCI sequence number", base.DEC)
F.hci_ack = ProtoField.uint8("dfukit.hci.ack", "HCI acknowledgement number", base.DEC)
F.hci_integrity = ProtoField.bool("dfukit.hci.integrity", "Integrity check (CRC16) present")
F.hci_reliable = ProtoField.bool("dfukit.hci.reliable", "Reliable packet")
F.hci_type = ProtoField.uint8("dfukit.hci.type", "HCI packet type", base.DEC, { [0] = "ACK", [14] = "vendor (DFU)" })
F.hci_len = ProtoField.uint16("dfukit.hci.len", "HCI payload length", base.DEC)
F.hci_crc = ProtoField.uint16("dfukit.hci.crc16", "CRC16", base.HEX)
F.hci_status = ProtoField.string("dfukit.hci.status", "Packet check")
F.lg_kind = ProtoField.uint32("dfukit.legacy.kind", "Packet kind", base.DEC, lg_kind_names_v)
F.lg_mode = ProtoField.uint32("dfukit.legacy.mode", "Update mode", base.DEC, lg_mode_names_v)
F.lg_sd_size = ProtoField.uint32("dfukit.legacy.sd_size", "SoftDevice size", base.DEC)
F.lg_bl_size = ProtoField.uint32("dfukit.legacy.bl_size", "Bootloader size", base.DEC)
F.lg_app_size = ProtoField.uint32("dfukit.legacy.app_size", "Application size", base.DEC)
F.lg_body = ProtoField.bytes("dfukit.legacy.body", "Packet body")
F.lg_verdict = ProtoField.string("dfukit.legacy.verdict", "What the device did with it")
F.lg_effect = ProtoField.string("dfukit.legacy.effect", "Effect")
F.lg_offset = ProtoField.uint32("dfukit.legacy.offset", "Image offset written", base.DEC)

-- One expert item per anomaly id: dfukit.<dotted id>.
local E = {}
local experts = {}
do
    local function group_of(id)
        if id:find("^slip%.") or id == "msg.truncated" or id:find("^initpkt%.") or id == "hci.bad_header" or
            id == "hci.bad_crc" or id == "hci.bad_length" or id == "legacy.init_malformed" then
            return expert.group.MALFORMED
        end
        if id == "legacy.crc_mismatch" then return expert.group.CHECKSUM end
        if id == "hci.no_ack" or id == "hci.seq_gap" or id == "hci.retransmit" or id == "hci.ack_number" or
            id == "legacy.dropped" or id == "legacy.stale_sequence" then
            return expert.group.SEQUENCE
        end
        if id == "dfu.crc_mismatch" or id:find("^dfu%.offset_") then return expert.group.CHECKSUM end
        if id == "dfu.ext_error" or id == "dfu.error_result" then return expert.group.RESPONSE_CODE end
        if id:find("response") or id == "dfu.unexpected_opcode" or id == "cap.data_lost" then return expert.group.SEQUENCE end
        return expert.group.PROTOCOL
    end
    local sev = { error = expert.severity.ERROR, warning = expert.severity.WARN, info = expert.severity.NOTE }
    local ids = {}
    for id in pairs(anomaly_sev) do ids[#ids + 1] = id end
    table.sort(ids)
    for _, id in ipairs(ids) do
        E[id] = ProtoExpert.new("dfukit." .. id, id, group_of(id), sev[anomaly_sev[id]])
        experts[#experts + 1] = E[id]
    end
end
dfu.experts = experts

local rtacser = Dissector.get("rtacser")

local function name_of(t, v)
    return t[v] or string.format("unknown(0x%02x)", v)
end

local function op_word(op)
    return op_names[op] or string.format("unknown(0x%02x)", op)
end

local function obj_word(t)
    return t == OBJ_COMMAND and "command" or t == OBJ_DATA and "data" or "invalid"
end

-- ---- CRC-32 (zlib's), running over strings ------------------------------

local band, bxor, rshift, bnot = bit32.band, bit32.bxor, bit32.rshift, bit32.bnot
local crc_table = {}
for i = 0, 255 do
    local c = i
    for _ = 1, 8 do
        if band(c, 1) ~= 0 then c = bxor(0xEDB88320, rshift(c, 1)) else c = rshift(c, 1) end
    end
    crc_table[i] = c
end

local function crc32(crc, s, i, j)
    crc = bnot(crc)
    for k = i or 1, j or #s do
        crc = bxor(crc_table[band(bxor(crc, s:byte(k)), 0xFF)], rshift(crc, 8))
    end
    return bnot(crc)
end

-- ---- messages (lib/wire/msg.c) ------------------------------------------

local function le(s, i, n)
    local v = 0
    for k = n - 1, 0, -1 do v = v * 256 + s:byte(i + k) end
    return v
end

local REQ_LEN = { [0x01] = 5, [0x02] = 2, [0x06] = 1, [0x09] = 1, [0x0B] = 1 }
local RSP_LEN = { [0x00] = 1, [0x03] = 8, [0x06] = 12, [0x07] = 2, [0x09] = 1, [0x0A] = 20, [0x0B] = 13 }

-- A decoded frame as a message: st is "ok", "overlong", "truncated",
-- "unknown_op" or "empty"; the fields the session uses.
local function parse_msg(d)
    local n = #d
    local m = { st = "ok", extra = 0 }
    if n == 0 then m.st = "empty"; return m end
    local b = d:byte(1)
    if b == RESPONSE then
        m.is_response = true
        if n < 2 then m.st = "truncated"; m.op = 0; return m end
        m.op = d:byte(2)
        m.result = n >= 3 and d:byte(3) or 0
        local pos = 4
        if n >= 3 and m.result == EXT_ERROR then
            if n >= 4 then m.has_ext = true; m.ext = d:byte(4); pos = 5 end
        end
        if not op_names[m.op] or m.op == RESPONSE then
            m.st = "unknown_op"
            return m
        end
        if n < 3 or (m.result == EXT_ERROR and not m.has_ext) then m.st = "truncated"; return m end
        local need = m.result == SUCCESS and (RSP_LEN[m.op] or 0) or 0
        local left = n - pos + 1
        if left < need then m.st = "truncated"; return m end
        if m.result == SUCCESS then
            if m.op == OP.CRC_GET then
                m.offset, m.crc = le(d, pos, 4), le(d, pos + 4, 4)
            elseif m.op == OP.SELECT then
                m.max_size, m.offset, m.crc = le(d, pos, 4), le(d, pos + 4, 4), le(d, pos + 8, 4)
            elseif m.op == OP.PING then
                m.id = d:byte(pos)
            end
        end
        m.extra = left - need
    else
        m.op = b
        if not op_names[b] then m.st = "unknown_op"; return m end
        if b == OP.WRITE then
            m.data = d:sub(2)
            return m
        end
        local need = REQ_LEN[b] or 0
        if n - 1 < need then m.st = "truncated"; return m end
        if b == OP.CREATE then
            m.type, m.size = d:byte(2), le(d, 3, 4)
        elseif b == OP.PRN_SET then
            m.target = le(d, 2, 2)
        elseif b == OP.SELECT then
            m.type = d:byte(2)
        elseif b == OP.PING then
            m.id = d:byte(2)
        end
        m.extra = n - 1 - need
    end
    if m.extra > 0 then m.st = "overlong" end
    return m
end

-- ---- the init packet: wire walk of lib/sdfu/initpkt.c -------------------

local K_U32, K_BOOL, K_BYTES, K_MSG, K_PACKED = 1, 2, 3, 4, 5
local m_hash = { name = "Hash", f = { [1] = { "hash_type", K_U32, true }, [2] = { "hash", K_BYTES, true, 32 } } }
local m_bv = { name = "BootValidation", f = { [1] = { "type", K_U32, true }, [2] = { "bytes", K_BYTES, true, 64 } } }
local m_init = { name = "InitCommand", f = {
    [1] = { "fw_version", K_U32 }, [2] = { "hw_version", K_U32 }, [3] = { "sd_req", K_PACKED, false, 16, true },
    [4] = { "type", K_U32 }, [5] = { "sd_size", K_U32 }, [6] = { "bl_size", K_U32 }, [7] = { "app_size", K_U32 },
    [8] = { "hash", K_MSG, false, nil, false, m_hash }, [9] = { "is_debug", K_BOOL },
    [10] = { "boot_validation", K_MSG, false, 4, true, m_bv } } }
local m_reset = { name = "ResetCommand", f = { [1] = { "timeout", K_U32, true } } }
local m_cmd = { name = "Command", f = { [1] = { "op_code", K_U32 }, [2] = { "init", K_MSG, false, nil, false, m_init },
    [3] = { "reset", K_MSG, false, nil, false, m_reset } } }
local m_signed = { name = "SignedCommand", f = { [1] = { "command", K_MSG, true, nil, false, m_cmd },
    [2] = { "signature_type", K_U32, true }, [3] = { "signature", K_BYTES, true, 64 } } }
local m_packet = { name = "Packet", f = { [1] = { "command", K_MSG, false, nil, false, m_cmd },
    [2] = { "signed_command", K_MSG, false, nil, false, m_signed } } }

-- A varint at s[i]: value (a double; exact to 2^53), next index; nil if
-- cut or over 10 bytes.  big: it does not fit 32 bits.
local function varint(s, i, j)
    local v, mul = 0, 1
    for k = 0, 9 do
        if i + k > j then return nil end
        local b = s:byte(i + k)
        if k == 9 and b > 1 then return nil end
        v = v + (b % 128) * mul
        mul = mul * 128
        if b < 128 then return v, i + k + 1 end
    end
    return nil
end

-- Walk a message in s[i..j]; out collects the InitCommand's sizes.  nil, or
-- an error text and the offset (0-based) it is at.
local function walk(s, i, j, m, depth, out)
    local count = {}
    while i <= j do
        local at = i
        local key, ni = varint(s, i, j)
        if not key then return m.name .. ": bad field key", at - 1 end
        i = ni
        local wt, tag = key % 8, math.floor(key / 8)
        if tag == 0 or tag > 0x1fffffff then return m.name .. ": invalid field number", at - 1 end
        local f = m.f[tag]
        local v, vat, len = 0, i, 0
        if wt == 0 then
            v, ni = varint(s, i, j)
            if not v then return m.name .. ": bad varint", vat - 1 end
            i = ni
        elseif wt == 1 or wt == 5 then
            len = wt == 1 and 8 or 4
            if i + len - 1 > j then return m.name .. ": truncated field", vat - 1 end
            i = i + len
        elseif wt == 2 then
            v, ni = varint(s, i, j)
            if not v then return m.name .. ": bad length", vat - 1 end
            vat = ni
            if v > j - ni + 1 then return m.name .. ": length runs past the end", at - 1 end
            len = v
            i = ni + len
        else
            return m.name .. ": unsupported wire type " .. wt, at - 1
        end
        if f then
            local kind, max, repeated, sub = f[2], f[4], f[5], f[6]
            local packed = kind == K_PACKED and wt == 2
            local want = (kind == K_BYTES or kind == K_MSG) and 2 or 0
            if wt ~= want and not packed then return m.name .. "." .. f[1] .. ": wrong wire type", at - 1 end
            count[tag] = count[tag] or 0
            if (kind == K_U32 or kind == K_PACKED) and not packed then
                if v > 0xFFFFFFFF then return m.name .. "." .. f[1] .. ": does not fit 32 bits", vat - 1 end
                count[tag] = count[tag] + 1
                if m == m_init and (tag == 4 or tag == 5 or tag == 6 or tag == 7) then out[tag] = v end
            elseif packed then
                local p, e = vat, vat + len - 1
                while p <= e do
                    local x, np = varint(s, p, e)
                    if not x then return m.name .. "." .. f[1] .. ": bad packed varint", p - 1 end
                    if x > 0xFFFFFFFF then return m.name .. "." .. f[1] .. ": does not fit 32 bits", p - 1 end
                    count[tag] = count[tag] + 1
                    if count[tag] > max then return m.name .. "." .. f[1] .. ": too many entries", p - 1 end
                    p = np
                end
            elseif kind == K_BOOL then
                count[tag] = count[tag] + 1
            elseif kind == K_BYTES then
                if len > max then return m.name .. "." .. f[1] .. ": too long", at - 1 end
                count[tag] = count[tag] + 1
            else
                if depth > 8 then return m.name .. ": nested too deep", at - 1 end
                if not repeated and count[tag] > 0 then return m.name .. "." .. f[1] .. ": appears twice", at - 1 end
                if m == m_packet then out.seen = true end
                local err, off = walk(s, vat, vat + len - 1, sub, depth + 1, out)
                if err then return err, off end
                count[tag] = count[tag] + 1
            end
            if repeated and max and count[tag] > max then return m.name .. "." .. f[1] .. ": too many entries", at - 1 end
        end
    end
    for tag, f in pairs(m.f) do
        if f[3] and (count[tag] or 0) == 0 then return m.name .. ": required field " .. f[1] .. " missing", 0 end
    end
    return nil
end

-- The image size an init packet announces (dk_initpkt_image_size), or nil
-- and why it does not decode.
local function init_image_size(s)
    local out = {}
    local err, off = walk(s, 1, #s, m_packet, 0, out)
    if err then return nil, err, off end
    if not out.seen then return nil, "Packet: neither command nor signed_command", 0 end
    local t, sd, bl, app = out[4], out[5] or 0, out[6] or 0, out[7] or 0
    if t == 1 or t == 2 or t == 3 then return sd + bl end -- SOFTDEVICE, BOOTLOADER, both
    if app ~= 0 then return app end
    return sd + bl
end

-- ---- per-packet results, filled on the first pass -----------------------

local slip      -- [dir] = deframer state
local results   -- [packet number] = { frames = {...}, pending = n, anoms = {...} }
local S         -- the session
local finished  -- the end of the capture was taken into account

local function res_of(pnum)
    local r = results[pnum]
    if not r then
        r = { frames = {}, pending = 0, anoms = {} }
        results[pnum] = r
    end
    return r
end

-- An anomaly, shown in packet pkt (on message rec when given).
local function note(id, pkt, rec, text)
    local r = res_of(pkt)
    r.anoms[#r.anoms + 1] = { id = id, text = text, rec = rec }
    if S then S.run_on = false end
end

-- ---- the session (lib/sdfu/session.c) -----------------------------------

local function cp_push(s, off, crc)
    table.insert(s.cp, { off = off, crc = crc })
    if #s.cp > CHECKPOINTS then table.remove(s.cp, 1) end
end

local function cp_find(s, off)
    for i = #s.cp, 1, -1 do
        if s.cp[i].off == off then return s.cp[i] end
    end
    return nil
end

local function reset_data(s, grounded)
    s.obj_open, s.obj_start, s.obj_size, s.obj_flagged = false, 0, 0, false
    s.data_off, s.data_crc, s.data_crc_known, s.data_seen = 0, 0, grounded, grounded
    s.last_off, s.last_crc, s.last_crc_known = 0, 0, grounded
    s.cp = {}
    cp_push(s, 0, 0)
end

local function session_new()
    local s = {
        out = {}, out_head = 1, out_n = 0, out_req = 0,
        lost = { n = 0 },
        sel = OBJ_COMMAND, sel_flagged = false,
        prn = 0, prn_set = 0, prn_set_at = 0, prn_reset = false, prn_count = 0, writes = 0,
        image = 0, img_active = false, img_done = false,
        init = "unknown", cmd_created = false, cmd_grounded = false, cmd_size = 0,
        cmd_off = 0, cmd_crc = 0, cmd_known = false, cmd_buf = "", cmd_beyond_flagged = false,
        image_size = 0, max_size = 4096,
        resume_on = false, run_on = false,
    }
    reset_data(s, false)
    return s
end

local function open_image(s, created, cmd_size)
    if not (s.image > 0 and not s.img_active and not s.img_done) then
        s.image = s.image + 1
    end
    s.img_active, s.img_done = false, false
    s.img_completed, s.img_boot_checked = false, false
    s.init = created and "none" or "unknown"
    s.cmd_created, s.cmd_grounded, s.cmd_size = created, created, cmd_size
    s.cmd_off, s.cmd_crc, s.cmd_known, s.cmd_buf = 0, 0, created, ""
    s.cmd_beyond_flagged = false
    s.init_due = nil
    s.image_size = 0
    reset_data(s, created)
    s.run_on = false
end

local function ensure_image(s)
    if s.image == 0 or (s.img_done and s.img_active) then open_image(s, false, 0) end
end

-- The host's next step after a SELECT that reported progress (only whether
-- it is resolved matters here: a CREATE that resolves it discards nothing).
local function resume_resolve(s, m)
    if not s.resume_on then return end
    local op = m.op
    local ctype = op == OP.CREATE and m.type or 0
    if s.resume_obj == OBJ_COMMAND and not (op == OP.CREATE and ctype == OBJ_COMMAND) then
        if (op == OP.WRITE or op == OP.EXECUTE) and s.sel == OBJ_COMMAND then s.resume_on = false end
    elseif (op == OP.CREATE and ctype == OBJ_COMMAND) or ((op == OP.WRITE or op == OP.EXECUTE) and
            s.sel == OBJ_DATA) or (op == OP.CREATE and ctype == OBJ_DATA) then
        s.resume_on = false
    end
    if not s.resume_on then s.run_on = false end -- the RESUME event ends a run of writes
end

local function target_reset(s, seen_late)
    if seen_late and s.prn_set_at == s.writes and s.writes > 0 then
        s.prn_count = 0
        return
    end
    if s.prn ~= 0 then
        s.prn_set, s.prn, s.prn_reset = s.prn, 0, true
    end
    s.prn_count = 0
end

local function hex8(v) return string.format("0x%08x", v) end

-- Compare a report with the bytes sent, then take the target's values
-- (check_report in session.c).
local function check_report(s, obj, off, crc, is_select, what)
    local r = { check = "none" }
    if obj == OBJ_COMMAND then
        r.exp_off, r.exp_crc = s.cmd_off, s.cmd_crc
        if not s.cmd_grounded or s.img_done then
            r.check = "adopted"
        elseif off == s.cmd_off then
            r.check = crc == s.cmd_crc and "ok" or "crc_mismatch"
        elseif off < s.cmd_off then
            r.check = "offset_mismatch"
            if s.cmd_known then
                local c = crc32(0, s.cmd_buf, 1, off)
                r.exp_crc = c
                if c ~= crc then
                    r.an = "dfu.crc_mismatch"
                    r.text = string.format("%s reports command crc=%s at offset %u, the bytes sent give %s",
                        what, hex8(crc), off, hex8(c))
                end
            end
            if is_select then target_reset(s, true) end
            if not r.an then
                r.an = is_select and "dfu.offset_backwards" or "dfu.offset_mismatch"
                r.text = string.format("%s reports command offset %u, but %u bytes were sent%s", what, off, s.cmd_off,
                    is_select and (off > 0 and ": the target kept only part of the init packet"
                    or ": the target lost the init packet") or "")
            end
        else
            r.check = "offset_mismatch"
            r.an = "dfu.offset_mismatch"
            r.text = string.format("%s reports command offset %u, but only %u bytes were sent", what, off, s.cmd_off)
        end
        if r.check == "crc_mismatch" then
            r.an = "dfu.crc_mismatch"
            r.text = string.format("%s reports command crc=%s at offset %u, the bytes sent give %s",
                what, hex8(crc), off, hex8(s.cmd_crc))
        end
        if r.check ~= "ok" then
            if off > s.cmd_off or not s.cmd_grounded or s.img_done then s.cmd_known = off == 0 end
            if s.cmd_known and off < #s.cmd_buf then s.cmd_buf = s.cmd_buf:sub(1, off) end
            s.cmd_off, s.cmd_crc, s.cmd_grounded = off, crc, true
        end
        return r
    end
    if obj ~= OBJ_DATA then return r end
    r.exp_off, r.exp_crc = s.data_off, s.data_crc
    if not s.data_seen or s.img_done then
        r.check = "adopted"
    elseif off == s.data_off then
        if not s.data_crc_known then
            r.check = "adopted"
        else
            r.check = crc == s.data_crc and "ok" or "crc_mismatch"
        end
        if r.check == "crc_mismatch" then
            r.an = "dfu.crc_mismatch"
            r.text = string.format("%s reports crc=%s at offset %u, the bytes sent give %s", what, hex8(crc), off,
                hex8(s.data_crc))
        end
    elseif off < s.data_off then
        r.check = "offset_mismatch"
        if is_select then target_reset(s, true) end
        local c = cp_find(s, off)
        if c and c.crc ~= crc then
            r.an = "dfu.crc_mismatch"
            r.exp_crc = c.crc
            r.text = string.format("%s reports crc=%s at offset %u, the bytes sent there gave %s", what, hex8(crc),
                off, hex8(c.crc))
        elseif is_select then
            r.an = "dfu.offset_backwards"
            if off == 0 then
                r.text = string.format("%s reports offset 0 after %u bytes were sent: the target lost its " ..
                    "progress (it reset), the data must be sent again from 0", what, s.data_off)
            else
                r.text = string.format("%s reports offset %u after %u bytes were sent: the transfer resumes " ..
                    "from %u", what, off, s.data_off, off)
            end
        else
            r.an = "dfu.offset_mismatch"
            r.text = string.format("%s reports offset %u, but %u bytes were sent: %u bytes did not arrive", what,
                off, s.data_off, s.data_off - off)
        end
    else
        r.check = "offset_mismatch"
        r.an = "dfu.offset_mismatch"
        r.text = string.format("%s reports offset %u, but only %u bytes were sent", what, off, s.data_off)
    end
    if r.check ~= "ok" then
        s.data_off, s.data_crc, s.data_crc_known, s.data_seen = off, crc, true, true
        if is_select or off < s.last_off then
            local ms = s.max_size ~= 0 and s.max_size or 4096
            if off % ms == 0 or (s.image_size ~= 0 and off == s.image_size) then
                s.last_off, s.last_crc, s.last_crc_known = off, crc, true
            else
                s.last_off = off - off % ms
                local c = cp_find(s, s.last_off)
                s.last_crc_known = c ~= nil
                s.last_crc = c and c.crc or 0
            end
        end
    end
    return r
end

-- The init packet, decoded at its EXECUTE: a malformed one is said after
-- the EXECUTE's exchange, on the last command write.
local function emit_init_if_due(s)
    local d = s.init_due
    if not d then return end
    s.init_due = nil
    s.run_on = false
    if d.err then
        note("initpkt.malformed", d.rec.pkt, d.rec, string.format("init packet byte %u: %s", d.off, d.err))
    end
end

local function unanswered(s, p, why)
    if not p.on then return end
    p.on = false
    p.rec.no_answer = true
    if p.m.op == OP.PING and s.img_completed then
        -- the app the bootloader reset into does not answer: a host's check
        if not s.img_boot_checked then
            note("dfu.boot_check", p.rec.pkt, p.rec, string.format(
                "PING after image %u completed was not answered: the target left its bootloader", s.image))
        end
        s.img_boot_checked = true
    else
        note("dfu.no_response", p.rec.pkt, p.rec, string.format("%s (%s object) was never answered%s",
            op_word(p.m.op), obj_word(p.obj), why))
    end
    emit_init_if_due(s)
end

local function out_at(s, i) return s.out[s.out_head + i] end

local function out_drop(s)
    local p = s.out[s.out_head]
    if not p.prn then s.out_req = s.out_req - 1 end
    s.out[s.out_head] = nil
    s.out_head = s.out_head + 1
    s.out_n = s.out_n - 1
end

local function prn_void_flush(s, why)
    local v = s.lost
    if v.n == 0 then return end
    local text
    if v.n == 1 then
        text = string.format("the PRN notification due at %s offset %u never came%s", obj_word(v.obj), v.first, why)
    else
        text = string.format("%u PRN notifications due at %s offsets %u to %u never came%s", v.n, obj_word(v.obj),
            v.first, v.last, why)
    end
    for _, rec in ipairs(v.recs) do rec.prn_lost = true end
    note("dfu.no_response", v.last_rec.pkt, v.last_rec, text)
    v.n = 0
end

-- The k oldest owed answers will never come (out_close in session.c).
local function out_close(s, k, why, quiet)
    local v = s.lost
    while k > 0 and s.out_n > 0 do
        k = k - 1
        local p = out_at(s, 0)
        if not p.prn then
            prn_void_flush(s, why)
            out_drop(s)
            unanswered(s, p, why)
        else
            if v.n > 0 and v.obj ~= p.obj then prn_void_flush(s, why) end
            if v.n == 0 then
                v.obj, v.first, v.recs = p.obj, p.exp_off, {}
            end
            v.n = v.n + 1
            v.last, v.last_rec = p.exp_off, p.rec
            v.recs[#v.recs + 1] = p.rec
            out_drop(s)
        end
    end
    if not quiet then prn_void_flush(s, why) end
end

local function out_push(s, p)
    if s.out_n == OUT_Q then out_close(s, 1, "", true) end
    s.out[s.out_head + s.out_n] = p
    s.out_n = s.out_n + 1
    if not p.prn then s.out_req = s.out_req + 1 end
end

-- Which owed answer a response is (out_match in session.c); -1: none.
local function out_match(s, m)
    local first, prn_hit = -1, -1
    local by_off = m.op == OP.CRC_GET and m.result == SUCCESS
    for i = 0, s.out_n - 1 do
        local p = out_at(s, i)
        if m.op == OP.CRC_GET then
            if not p.prn and p.m.op ~= OP.CRC_GET then
                if prn_hit >= 0 then break end
            else
                if first < 0 then first = i end
                if not (by_off and p.exp_off ~= m.offset) then
                    if not p.prn then return i end
                    if prn_hit < 0 and i == first and s.lost.n == 0 then return i end
                    if prn_hit < 0 then prn_hit = i end
                end
            end
        elseif not p.prn and p.m.op == m.op then
            if first < 0 then first = i end
            if m.op ~= OP.PING or p.m.id == m.id then return i end
        end
    end
    return prn_hit >= 0 and prn_hit or first
end

local function error_anomaly(s, m, ctx, rec)
    if m.result == EXT_ERROR then
        note("dfu.ext_error", rec.pkt, rec, string.format("%s%s answered EXT_ERROR %s (0x%02x): %s", ctx,
            op_word(m.op), m.has_ext and name_of(ext_names, m.ext) or "(code missing)", m.ext or 0,
            ext_meanings[m.ext or 0] or "unknown extended error"))
    else
        note("dfu.error_result", rec.pkt, rec, string.format("%s%s answered %s (0x%02x): %s", ctx, op_word(m.op),
            name_of(result_names, m.result), m.result, result_meanings[m.result] or "unknown result code"))
    end
end

-- A data or command EXECUTE accepted; true when it completed the image.
local function on_execute_ok(s, p)
    if p.obj == OBJ_COMMAND then
        s.init = "valid"
        return false
    end
    if p.obj ~= OBJ_DATA then return false end
    s.img_active = true
    s.last_off, s.last_crc, s.last_crc_known = s.data_off, s.data_crc, s.data_crc_known
    if s.data_crc_known then cp_push(s, s.data_off, s.data_crc) end
    local was_open = p.exec_open and s.obj_open and s.obj_start == p.exec_start
    if was_open then s.obj_open = false end
    return p.final or (was_open and s.image_size == 0 and s.obj_size < s.max_size and
        s.data_off == s.obj_start + s.obj_size)
end

local function on_failure_state(s, p)
    if p.m.op == OP.CREATE then
        if p.m.type == OBJ_COMMAND then s.cmd_created = false else s.obj_open = false end
    elseif p.m.op == OP.EXECUTE and p.obj == OBJ_COMMAND then
        s.init = "rejected"
        s.img_done = true
    elseif p.m.op == OP.EXECUTE and p.final then
        s.img_done = true
    end
end

-- Request p answered by m (message rec).
local function pair(s, p, m, late, rec)
    p.rec.response_in = rec.pkt
    rec.request_in = p.rec.pkt
    rec.rtt = rec.t - p.t
    rec.late = late
    p.on = false
    local r = { check = "none" }
    local completed = false
    local ok = m.result == SUCCESS
    if ok then
        if m.op == OP.SELECT then
            local obj = p.m.type
            if (obj == OBJ_COMMAND or obj == OBJ_DATA) and m.offset > 0 then ensure_image(s) end
            if obj == OBJ_DATA and m.max_size ~= 0 then s.max_size = m.max_size end
            r = check_report(s, obj, m.offset, m.crc, true, "SELECT")
            if obj == OBJ_COMMAND then
                if m.offset == 0 and s.init == "unknown" then
                    s.init = "none"
                elseif m.offset > 0 and (s.init == "unknown" or s.init == "none" or s.img_done) then
                    s.init = "pending"
                end
            end
            if (obj == OBJ_COMMAND or obj == OBJ_DATA) and m.offset > 0 then
                s.resume_on, s.resume_obj = true, obj
            end
        elseif m.op == OP.CRC_GET then
            r = check_report(s, p.obj, m.offset, m.crc, false, "CRC_GET")
        elseif m.op == OP.EXECUTE then
            completed = on_execute_ok(s, p)
        end
    else
        on_failure_state(s, p)
    end
    rec.check, rec.exp_off, rec.exp_crc = r.check, r.exp_off, r.exp_crc
    rec.image = s.image
    s.run_on = false
    if late then
        note("dfu.late_response", rec.pkt, rec, string.format("the answer to %s came after the host had sent " ..
            "its next request: every later answer may be read as the previous one's", op_word(m.op)))
    end
    if r.an then note(r.an, rec.pkt, rec, r.text) end
    if not ok then
        local obj = p.obj == OBJ_DATA or p.obj == OBJ_COMMAND
        error_anomaly(s, m, obj and (obj_word(p.obj) .. " ") or "", rec)
    end
    emit_init_if_due(s)
    if completed or (p.m.op == OP.EXECUTE and p.final) then target_reset(s, false) end
    if completed then s.img_done, s.img_completed = true, true end
end

local function write_data(s, data, rec)
    ensure_image(s)
    s.img_active = true
    local len = #data
    if not s.obj_flagged and (s.init == "none" or s.init == "rejected") then
        s.obj_flagged = true
        note("dfu.data_before_init", rec.pkt, rec, string.format("data written at offset %u while the target " ..
            "holds no valid init packet%s", s.data_off, s.init == "rejected" and " (it was rejected)" or ""))
    end
    if s.obj_open and not s.obj_flagged and s.data_off + len > s.obj_start + s.obj_size then
        s.obj_flagged = true
        note("dfu.write_beyond_object", rec.pkt, rec, string.format("data write [%u, %u) goes past the object [%u, %u)",
            s.data_off, s.data_off + len, s.obj_start, s.obj_start + s.obj_size))
    end
    local offset = s.data_off
    if s.data_crc_known then s.data_crc = crc32(s.data_crc, data) end
    s.data_off = s.data_off + len
    return offset
end

local function write_cmd(s, data, rec)
    ensure_image(s)
    s.img_active = true
    local len = #data
    local offset = s.cmd_off
    if s.cmd_known then
        if len <= CMD_MAX - s.cmd_off and s.cmd_off <= CMD_MAX then
            s.cmd_buf = s.cmd_buf .. data
        else
            s.cmd_known = false
        end
    end
    s.cmd_last = rec
    s.cmd_crc = crc32(s.cmd_crc, data)
    s.cmd_off = s.cmd_off + len
    if s.cmd_created and s.cmd_off > s.cmd_size and not s.cmd_beyond_flagged then
        s.cmd_beyond_flagged = true
        note("dfu.write_beyond_object", rec.pkt, rec, string.format("command write up to offset %u, but the " ..
            "command object has %u bytes", s.cmd_off, s.cmd_size))
    end
    return offset
end

-- One OBJECT_WRITE from the host.
local function on_write(s, data, rec)
    s.writes = s.writes + 1
    resume_resolve(s, { op = OP.WRITE })
    local obj = s.sel
    local offset, crc, crc_known = 0, 0, false
    if obj == OBJ_DATA then
        offset = write_data(s, data, rec)
        crc, crc_known = s.data_crc, s.data_crc_known and s.data_seen
    elseif obj == OBJ_COMMAND then
        offset = write_cmd(s, data, rec)
        crc, crc_known = s.cmd_crc, s.cmd_grounded
    elseif not s.sel_flagged then
        s.sel_flagged = true
        note("dfu.write_without_object", rec.pkt, rec, string.format("write while object type %u is selected", obj))
    end
    rec.w_obj, rec.w_off, rec.image = obj, offset, s.image
    if crc_known then rec.w_crc = crc end
    local off_end = offset + #data
    if s.prn ~= 0 then
        s.prn_count = s.prn_count + 1
        if s.prn_count >= s.prn then
            s.prn_count = 0
            out_push(s, { on = true, prn = true, obj = obj, exp_off = off_end, exp_crc = crc,
                crc_known = crc_known, t = rec.t, rec = rec })
        end
    end
    -- the run of writes (a WRITE-looking noise tail must match its length)
    if s.run_on and s.run_obj == obj and s.run_end == offset and s.run_image == s.image then
        s.run_count, s.run_bytes, s.run_end = s.run_count + 1, s.run_bytes + #data, off_end
    else
        s.run_on, s.run_obj, s.run_image = true, obj, s.image
        s.run_count, s.run_bytes, s.run_end = 1, #data, off_end
    end
end

-- The command object's EXECUTE: decode the init packet (its anomaly, if
-- any, follows the exchange).
local function execute_command(s, rec)
    ensure_image(s)
    if s.cmd_created and s.cmd_off < s.cmd_size then
        note("dfu.execute_incomplete", rec.pkt, rec, string.format("command EXECUTE with %u of %u bytes",
            s.cmd_off, s.cmd_size))
    end
    if s.cmd_known and s.cmd_off > 0 then
        local size, err, off = init_image_size(s.cmd_buf)
        if size then s.image_size = size end
        s.init_due = { err = err, off = off, rec = s.cmd_last or rec }
    elseif s.cmd_off > 0 or not s.cmd_grounded then
        note("initpkt.incomplete", rec.pkt, rec, string.format("the init packet's bytes are not all in the " ..
            "capture (%u known)", s.cmd_known and s.cmd_off or 0))
    end
end

local function on_request(s, m, rec)
    if m.op == OP.WRITE then
        on_write(s, m.data, rec)
        return
    end
    local resolving = s.resume_on
    resume_resolve(s, m)
    local p = { on = true, m = m, t = rec.t, rec = rec }
    if m.op == OP.CREATE then
        local ty = m.type
        s.prn_count = 0
        s.sel, s.sel_flagged = ty, false
        if ty == OBJ_COMMAND then
            open_image(s, true, m.size)
        elseif ty == OBJ_DATA then
            ensure_image(s)
            s.img_active = true
            if s.init == "none" or s.init == "rejected" then
                note("dfu.data_before_init", rec.pkt, rec, "data object created while the target holds no valid " ..
                    "init packet" .. (s.init == "rejected" and " (it was rejected)" or ""))
            end
            if s.data_seen and s.data_off ~= s.last_off and not resolving then
                note("dfu.object_discarded", rec.pkt, rec, string.format("CREATE throws away %u bytes written " ..
                    "after offset %u", s.data_off - s.last_off, s.last_off))
            end
            if s.data_seen then
                s.data_off, s.data_crc, s.data_crc_known = s.last_off, s.last_crc, s.last_crc_known
            end
            s.obj_open, s.obj_start, s.obj_size = true, s.data_off, m.size
            s.obj_flagged = s.init == "none" or s.init == "rejected"
        end
    elseif m.op == OP.SELECT then
        s.sel, s.sel_flagged = m.type, false
    elseif m.op == OP.PRN_SET then
        s.prn, s.prn_set, s.prn_set_at, s.prn_reset, s.prn_count = m.target, m.target, s.writes, false, 0
    elseif m.op == OP.EXECUTE then
        if s.sel == OBJ_COMMAND then
            execute_command(s, rec)
        elseif s.sel == OBJ_DATA then
            ensure_image(s)
            if s.obj_open and s.data_off - s.obj_start < s.obj_size then
                note("dfu.execute_incomplete", rec.pkt, rec, string.format("data EXECUTE with %u of %u bytes of " ..
                    "the object at %u", s.data_off - s.obj_start, s.obj_size, s.obj_start))
            end
            p.final = s.image_size ~= 0 and s.data_off == s.image_size
            p.exec_open, p.exec_start = s.obj_open, s.obj_start
            if s.obj_open and s.data_off - s.obj_start == s.obj_size and s.data_seen then
                s.last_off, s.last_crc, s.last_crc_known = s.data_off, s.data_crc, s.data_crc_known
            end
        end
    end
    p.obj = s.sel
    if m.op == OP.CREATE or m.op == OP.SELECT then p.obj = m.type end
    if m.op == OP.CRC_GET then p.exp_off = p.obj == OBJ_COMMAND and s.cmd_off or s.data_off end
    rec.image = s.image
    if m.op ~= OP.ABORT then
        out_push(s, p)
    else
        target_reset(s, false) -- ABORT: the target resets without answering
        s.run_on = false
    end
end

-- A PRN notification m, checked against the write q that made it due.
local function on_prn(s, q, m, rec)
    q.rec.prn_in = rec.pkt
    rec.prn_of = q.rec.pkt
    rec.image = s.image
    local check, an, text = "none", nil, nil
    if m.result ~= SUCCESS then
        check = "none"
    elseif not q.crc_known then
        check = "adopted"
    elseif m.offset ~= q.exp_off then
        check, an = "offset_mismatch", "dfu.offset_mismatch"
        text = string.format("PRN reports %s offset %u, but %u bytes had been sent at that write", obj_word(q.obj),
            m.offset, q.exp_off)
    elseif m.crc ~= q.exp_crc then
        check, an = "crc_mismatch", "dfu.crc_mismatch"
        text = string.format("PRN reports %s crc=%s at offset %u, the bytes sent give %s", obj_word(q.obj),
            hex8(m.crc), m.offset, hex8(q.exp_crc))
    else
        check = "ok"
    end
    rec.check, rec.exp_off, rec.exp_crc, rec.is_prn = check, q.exp_off, q.exp_crc or 0, true
    if an then
        note(an, rec.pkt, rec, text)
        if q.obj == OBJ_DATA and q.exp_off == s.data_off then
            s.data_off, s.data_crc = m.offset, m.crc
        elseif q.obj == OBJ_COMMAND and q.exp_off == s.cmd_off then
            s.cmd_off, s.cmd_crc, s.cmd_known = m.offset, m.crc, false
        end
    end
    if m.result ~= SUCCESS then error_anomaly(s, m, "PRN on a failed write: ", rec) end
end

-- A notification while PRN is taken to be 0 after a reset (stray_prn).
local function stray_prn(s, m, rec)
    s.prn, s.prn_reset, s.prn_count = s.prn_set, false, 0
    local data = s.sel == OBJ_DATA
    local q = { obj = s.sel, rec = rec,
                exp_off = data and s.data_off or s.cmd_off, exp_crc = data and s.data_crc or s.cmd_crc }
    if data then q.crc_known = s.data_seen and s.data_crc_known else q.crc_known = s.cmd_grounded end
    if m.offset < q.exp_off then q.exp_off, q.crc_known = m.offset, false end
    on_prn(s, q, m, rec)
    rec.prn_of = nil
end

local function on_response(s, m, rec)
    local i = out_match(s, m)
    if i >= 0 then
        if i > 0 or s.lost.n > 0 then out_close(s, i, "", false) end
        local p = out_at(s, 0)
        if p.prn then
            on_prn(s, p, m, rec)
        else
            pair(s, p, m, s.out_req > 1, rec)
        end
        out_drop(s)
        return
    end
    if m.op == OP.CRC_GET and m.result == SUCCESS and s.prn_reset and s.prn_set ~= 0 then
        stray_prn(s, m, rec)
        return
    end
    local w
    for k = 0, s.out_n - 1 do
        if not out_at(s, k).prn then w = out_at(s, k); break end
    end
    rec.unpaired = true
    rec.image = s.image
    s.run_on = false
    if w then
        note("dfu.unexpected_opcode", rec.pkt, rec, string.format("a response to %s arrived while %s waits for " ..
            "its answer", op_word(m.op), op_word(w.m.op)))
    elseif m.op == OP.CRC_GET and s.prn ~= 0 then
        note("dfu.response_without_request", rec.pkt, rec, string.format("PRN notification after %u writes, but " ..
            "PRN is every %u", s.prn_count, s.prn))
    else
        note("dfu.response_without_request", rec.pkt, rec, string.format("a response to %s, which no request " ..
            "asked for", op_word(m.op)))
    end
    if m.result ~= SUCCESS then error_anomaly(s, m, "", rec) end
end

local function process(s, m, rec)
    if m.is_response then on_response(s, m, rec) else on_request(s, m, rec) end
end

-- Noise glued to the front of a frame: the longest tail that parses as one
-- message (resync in session.c).
local function resync(s, d, whole_ok)
    local len = #d
    local lim = len < RESYNC_MAX and len or RESYNC_MAX
    for p = 1, lim - 1 do
        local m = parse_msg(d:sub(p + 1))
        if m.st == "ok" and not (whole_ok and len - p < 2) then
            local bad = false
            if not m.is_response and m.op == OP.WRITE then
                bad = not (s.run_on and s.run_count > 0 and #m.data * s.run_count == s.run_bytes)
            end
            if m.is_response and not result_names[m.result] then bad = true end
            if not bad then return p, m end
        end
    end
    return 0
end

-- The packet holding raw byte k (1-based) of a frame.
local function pkt_at(fr, k)
    for _, seg in ipairs(fr.segs) do
        if k <= seg[2] then return seg[1] end
        k = k - seg[2]
    end
    return fr.pkt
end

-- One decoded frame of line dir (frame_parse and the WRITE path of
-- dk_session_frame).
local function session_frame(s, fr, dir)
    local d = fr.data
    if #d > 0 and d:byte(1) == OP.WRITE and dir ~= TARGET then
        on_write(s, d:sub(2), fr)
        return
    end
    local notes = {}
    local m = parse_msg(d)
    local st = m.st
    if st == "unknown_op" or st == "overlong" or (st == "truncated" and fr.first) then
        local skip, m2 = resync(s, d, st == "overlong")
        if skip > 0 then
            notes[#notes + 1] = { fr.first and "slip.bytes_before_first_frame" or "slip.noise", pkt_at(fr, skip),
                string.format("%u byte%s before a %s (first 0x%02x)", skip, skip == 1 and "" or "s",
                m2.is_response and "response" or "request", d:byte(1)) }
            m, st = m2, "ok"
        end
    end
    if st == "empty" then
        note("slip.empty_frame", fr.pkt, fr, "empty frame")
        return
    elseif st == "unknown_op" then
        if fr.first then
            note("slip.bytes_before_first_frame", fr.pkt, fr, string.format("%u bytes before the first frame end", #d))
        elseif m.is_response then
            note("msg.unknown_opcode", fr.pkt, fr, string.format("response to unknown opcode 0x%02x (%u bytes)", m.op, #d))
        else
            note("msg.unknown_opcode", fr.pkt, fr, string.format("unknown opcode 0x%02x (%u bytes)", d:byte(1), #d))
        end
        return
    elseif st == "truncated" then
        if fr.first then
            note("slip.bytes_before_first_frame", fr.pkt, fr, string.format("%u bytes before the first frame end", #d))
        else
            note("msg.truncated", fr.pkt, fr, string.format("%s%s of %u bytes is too short",
                m.is_response and "response to " or "", op_word(m.op), #d))
        end
        return
    elseif st == "overlong" then
        notes[#notes + 1] = { "msg.overlong", fr.pkt, string.format("%s%s has %u bytes more than defined",
            m.is_response and "response to " or "", op_word(m.op), m.extra) }
    end
    local mdir = m.is_response and TARGET or HOST
    if dir ~= mdir then
        notes[#notes + 1] = { "msg.wrong_direction", fr.pkt, string.format("%s%s sent by the %s",
            m.is_response and "response to " or "request ", op_word(m.op), dir == HOST and "host" or "target") }
    end
    fr.msg = m
    if m.is_response then process(s, m, fr) end
    for _, n in ipairs(notes) do note(n[1], n[2], fr, n[3]) end
    if not m.is_response then process(s, m, fr) end
end

-- The end of the capture: what is still owed (dk_session_finish).
local function session_finish(s)
    local last = s.out_n
    for i = s.out_n - 1, 0, -1 do
        if last ~= s.out_n then break end
        if not out_at(s, i).prn then last = i end
    end
    out_close(s, last == s.out_n and 0 or last, "", false)
    out_close(s, s.out_n, " (the capture ends)", false)
end

-- ---- legacy HCI DFU (lib/wire/hci.c, lib/legacy/packet.c, track.c) -----
--
--   host line    C0 hdr[4] payload crc16 C0   hdr: seq 0-2, ack 3-5,
--                integrity 0x40, reliable 0x80 | type 0-3, len 4-15 | checksum
--   target line  C0 (n << 3) 00 00 cs C0      the ACK: n = the next expected
--   payload      kind u32 (NOP 0, INIT 1, START 3, DATA 4, STOP 5), body;
--                START: mode, sd_size, bl_size, app_size (u32 each)

local crc16_table = {}
for i = 0, 255 do
    local c = i * 256
    for _ = 1, 8 do
        if band(c, 0x8000) ~= 0 then c = band(bxor(c * 2, 0x1021), 0xFFFF) else c = band(c * 2, 0xFFFF) end
    end
    crc16_table[i] = c
end

-- CRC-16/CCITT (init 0xFFFF) over s[i..j]
local function crc16(c, s, i, j)
    for k = i or 1, j or #s do
        c = band(bxor(c * 256, crc16_table[band(bxor(rshift(c, 8), s:byte(k)), 0xFF)]), 0xFFFF)
    end
    return c
end

local lg_kind_names = { [0] = "NOP", [1] = "INIT", [3] = "START", [4] = "DATA", [5] = "STOP" }
local LG_NOP, LG_INIT, LG_START, LG_DATA, LG_STOP = 0, 1, 3, 4, 5
local LG_MODE_SD, LG_MODE_BL, LG_MODE_SD_BL, LG_MODE_APP = 1, 2, 3, 4
local lg_mode_names = { [1] = "softdevice", [2] = "bootloader", [3] = "softdevice+bootloader", [4] = "application" }

-- An HCI packet as dk_hci_parse reads it: status "ok", "short",
-- "no_integrity", "unreliable", "bad_type", "bad_checksum" or "bad_crc".
local function hci_parse(d)
    local n = #d
    local h = { status = "short" }
    if n < 4 then return h end
    local b0, b1, b2, b3 = d:byte(1, 4)
    h.seq, h.ack = b0 % 8, math.floor(b0 / 8) % 8
    h.integrity, h.reliable = band(b0, 0x40) ~= 0, band(b0, 0x80) ~= 0
    h.type, h.len = b1 % 16, math.floor(b1 / 16) + b2 * 16
    local has_crc = h.integrity and n >= 6
    h.payload = d:sub(5, n - (has_crc and 2 or 0))
    h.len_mismatch = h.len ~= #h.payload
    if has_crc then
        h.crc_sent = d:byte(n - 1) + d:byte(n) * 256
        h.crc_calc = crc16(0xFFFF, d, 1, n - 2)
    end
    if n <= 4 then h.status = "short"
    elseif not h.integrity then h.status = "no_integrity"
    elseif not h.reliable then h.status = "unreliable"
    elseif h.type ~= 14 then h.status = "bad_type"
    elseif (b0 + b1 + b2 + b3) % 256 ~= 0 then h.status = "bad_checksum"
    elseif not has_crc or h.crc_sent ~= h.crc_calc then h.status = "bad_crc"
    else h.status = "ok" end
    return h
end

-- An ACK: the number the device expects next, or nil.
local function hci_ack(d)
    if #d ~= 4 then return nil end
    local b0, b1, b2, b3 = d:byte(1, 4)
    if b1 % 16 ~= 0 or math.floor(b1 / 16) + b2 * 16 ~= 0 or band(b0, 0xC0) ~= 0 or b0 % 8 ~= 0 or
        (b0 + b1 + b2 + b3) % 256 ~= 0 then
        return nil
    end
    return math.floor(b0 / 8) % 8
end

-- dk_proto_sniff: "hci", "sdfu" or nil for a frame of line dir.
local function sniff(d, dir)
    local n = #d
    if n >= 4 then
        local b0, b1, b2, b3 = d:byte(1, 4)
        local plen = math.floor(b1 / 16) + b2 * 16
        local integrity, reliable = band(b0, 0x40) ~= 0, band(b0, 0x80) ~= 0
        if (b0 + b1 + b2 + b3) % 256 == 0 and n == 4 + plen + (integrity and 2 or 0) and
            (not integrity or crc16(0xFFFF, d, 1, 4 + plen) == d:byte(n - 1) + d:byte(n) * 256) and
            (reliable or (dir ~= HOST and b1 % 16 == 0 and plen == 0)) then
            return "hci"
        end
    end
    local m = parse_msg(d)
    if m.st ~= "ok" and m.st ~= "overlong" then return nil end
    if (dir == HOST and m.is_response) or (dir == TARGET and not m.is_response) then return nil end
    return "sdfu"
end

-- A legacy payload (dk_lg_parse): kind, body; START: mode and sizes.
local function lg_parse(p)
    local g = { ok = #p >= 4 }
    if not g.ok then return g end
    g.kind = le(p, 1, 4)
    g.body = p:sub(5)
    g.words_len = #g.body - #g.body % 4
    if g.kind == LG_START then
        if #p < 20 then g.ok = false; return g end
        g.mode, g.sd_size, g.bl_size, g.app_size = le(p, 5, 4), le(p, 9, 4), le(p, 13, 4), le(p, 17, 4)
    end
    return g
end

local lg_verdict_ids = { "legacy.init_malformed", "legacy.init_device_type", "legacy.init_device_rev",
                         "legacy.init_sd_req" }
local lg_verdict_texts = { "invalid length", "device type is not 0x0052",
                           "device revision is not 52840, 52833 or 0xADAF",
                           "sd_req lists neither 0xFFFE nor the installed SoftDevice" }

-- dk_lg_init_check with the installed SoftDevice unknown: 0 accepted (and
-- the image CRC16), else the refusal (1-4).
local function lg_init_check(p, len, mode)
    if len < 12 or len > 128 then return 1 end
    local ty, rev, n = le(p, 1, 2), le(p, 3, 2), le(p, 9, 2)
    local list_end = 10 + 2 * n
    if list_end > len or (len - list_end) % 256 < 2 then return 1 end
    if ty ~= 0x52 then return 2 end
    if band(mode, LG_MODE_SD + LG_MODE_BL) ~= 0 and rev ~= 52840 and rev ~= 52833 and rev ~= 0xADAF then return 3 end
    local ok = false
    for i = 0, n - 1 do
        if le(p, 11 + 2 * i, 2) == 0xFFFE then ok = true end
    end
    if not ok and n == 0 then return 4 end
    return 0, le(p, list_end + 1, 2)
end

local lstate_names = { unknown = "unknown", idle = "IDLE", rdy = "RDY", rx_data = "RX_DATA",
                       validate = "VALIDATE", done = "activated" }

local function lg_new()
    return { pending = false, last_seq = -1, port_moved = false, port_seen = false, frames = 0,
             run_packets = 0, run_accepted = 0, run_stale = false, runs = 0,
             dev_expect = -1, st = "unknown", mode = 0, size = 0, offset = 0, crc = 0xFFFF,
             init_crc = 0, overflow = false, ooo_noted = false, image = 0 }
end

-- An anomaly about the pending host packet.
local function pnote(t, id, text)
    note(id, t.prec.pkt, t.prec, text)
end

local function lg_kind_word(e)
    return e.has_kind and lg_kind_names[e.kind] or "packet"
end

local function lg_model_reset(t)
    t.st, t.offset, t.size, t.overflow, t.ooo_noted = "idle", 0, 0, false, false
end

local function lg_predict_reset(t)
    t.dev_expect = 1
    lg_model_reset(t)
end

local function lg_model_start(t)
    local g, e = t.plg, t.pev
    local why
    if not g.ok then
        why = "START without its mode and sizes"
    elseif band(g.mode, LG_MODE_APP) ~= 0 and band(g.mode, LG_MODE_SD_BL) ~= 0 then
        why = "an application together with a SoftDevice or bootloader"
    elseif g.sd_size % 4 ~= 0 or g.bl_size % 4 ~= 0 or g.app_size % 4 ~= 0 then
        why = "a size that is not a multiple of 4"
    elseif g.sd_size + g.bl_size + g.app_size > 0xFFFFFFFF then
        why = "a total size over 4 GiB"
    elseif t.st ~= "idle" and t.st ~= "unknown" then
        why = "the device is not IDLE: a session is already open"
    end
    if why then
        pnote(t, "legacy.start_refused", string.format("START refused (%s, state %s): the device resets", why,
            lstate_names[t.st]))
        e.effect = "refused: the device resets"
        lg_predict_reset(t)
        return
    end
    local total = g.sd_size + g.bl_size + g.app_size
    t.st, t.mode, t.size, t.offset, t.crc = "rdy", g.mode, total, 0, 0xFFFF
    t.overflow, t.ooo_noted = false, false
    e.effect = string.format("erases %u pages; bank 0 invalid", math.floor((total + 4095) / 4096))
end

local function lg_model_init(t)
    local g = t.plg
    if t.st ~= "rdy" and t.st ~= "unknown" then
        pnote(t, "legacy.out_of_order", string.format("INIT while the device is in %s, not right after START: " ..
            "the device resets", lstate_names[t.st]))
        lg_predict_reset(t)
        return
    end
    local v, crc = lg_init_check(g.body, g.words_len, t.mode)
    if v ~= 0 then
        pnote(t, lg_verdict_ids[v], string.format("init packet refused (%s; %u bytes as whole words, device " ..
            "type 0x%04x): the device resets", lg_verdict_texts[v], g.words_len,
            #g.body >= 2 and le(g.body, 1, 2) or 0))
        t.pev.effect = "refused: the device resets"
        lg_predict_reset(t)
        return
    end
    t.st, t.init_crc = "rx_data", crc
    t.pev.effect = string.format("init packet accepted (image CRC16 0x%04x)", crc)
end

local function lg_model_data(t)
    local g, e = t.plg, t.pev
    if t.st ~= "rx_data" then
        if not t.ooo_noted then
            pnote(t, "legacy.out_of_order", string.format("DATA while the device is in %s: ignored%s",
                lstate_names[t.st], t.st == "unknown" and " here (its offset is unknown)" or ""))
        end
        t.ooo_noted = true
        e.effect = "ignored (state " .. lstate_names[t.st] .. ")"
        return
    end
    local len = g.words_len
    e.offset = t.offset
    if t.overflow or t.offset + len > t.size then
        if not t.overflow then
            pnote(t, "legacy.data_overflow", string.format("DATA [%u, %u) goes past the image size %u: dropped; " ..
                "later data lands below bank 0", t.offset, t.offset + len, t.size))
        end
        t.overflow = true
        e.effect = "past the image: dropped"
        return
    end
    t.crc = crc16(t.crc, g.body, 1, len)
    t.offset = t.offset + len
    if t.offset == t.size then e.effect = "image complete: last page written" end
end

local function lg_model_stop(t)
    local e = t.pev
    if t.st ~= "rx_data" then
        pnote(t, "legacy.out_of_order", "STOP while the device is in " .. lstate_names[t.st] .. ": ignored")
        e.effect = "ignored (state " .. lstate_names[t.st] .. ")"
        return
    end
    if t.offset ~= t.size or t.overflow then
        pnote(t, "legacy.size_mismatch", string.format("STOP after %u of %u bytes: ignored, nothing activated",
            t.offset, t.size))
        e.effect = "ignored: image incomplete"
        return
    end
    t.st = "validate"
    if t.crc ~= t.init_crc then
        pnote(t, "legacy.crc_mismatch", string.format("image CRC16 0x%04x, the init packet says 0x%04x: " ..
            "validation fails, the device stays in DFU mode", t.crc, t.init_crc))
        e.effect = "validation fails (CRC16)"
        return
    end
    t.st = "done"
    e.effect = "validated and activated: the device leaves DFU mode"
end

local function lg_model(t)
    local e, g = t.pev, t.plg
    if not g.ok and e.kind ~= LG_START then
        pnote(t, "legacy.unknown_kind", string.format("payload of %u bytes: no packet kind", e.body_len))
        return
    end
    if #g.body % 4 ~= 0 and e.kind ~= LG_START then
        pnote(t, "legacy.partial_word", string.format("%s body of %u bytes: the device takes %u",
            lg_kind_names[e.kind] or "packet", #g.body, g.words_len))
    end
    t.last_kind = e.kind
    if e.kind == LG_START then lg_model_start(t)
    elseif e.kind == LG_INIT then lg_model_init(t)
    elseif e.kind == LG_DATA then lg_model_data(t)
    elseif e.kind == LG_STOP then lg_model_stop(t)
    elseif e.kind == LG_NOP then e.effect = "freed: a no-op"
    else pnote(t, "legacy.unknown_kind", string.format("packet kind %u: queued and ignored", e.kind)) end
end

-- Was the pending packet (seq) accepted, given the ACK number a (judge)?
local function lg_judge(t, seq, a)
    local acc = (seq + 1) % 8
    if t.dev_expect < 0 then
        t.dev_expect = a
        return a == acc
    end
    local ex = t.dev_expect
    local pred = seq == ex and acc or ex
    if a == pred then
        t.dev_expect = a
        return seq == ex
    end
    if (seq == 1 and a == 2) or (seq ~= 1 and a == 1) then -- counting from 1 again
        local after_init = t.last_kind == LG_INIT and t.st == "rx_data" and t.offset == 0
        pnote(t, "legacy.device_reset", string.format("ACK %u where %u was due: the device reset and expects " ..
            "sequence numbers from 1 again%s", a, pred,
            after_init and " (right after it took the init packet: it refused it)" or ""))
        lg_model_reset(t)
        t.dev_expect = a
        return seq == 1
    end
    pnote(t, "hci.ack_number", string.format("ACK %u fits neither acceptance (%u) nor dropping (%u)", a, acc, ex))
    t.dev_expect = a
    return a == acc
end

-- The pending packet's ACK came (ack, in unit rec), or will not (nil).
local function lg_resolve(t, a, rec)
    local e = t.pev
    t.pending = false
    if a then
        t.prec.response_in = rec.pkt
        rec.request_in = t.prec.pkt
        rec.rtt = rec.t - t.prec.t
        rec.hci_ack_of = e
    end
    if t.pst ~= "ok" then
        e.verdict = "invalid"
        if a then note("hci.unexpected_frame", rec.pkt, rec, string.format("ACK %u after a packet the device drops", a)) end
    elseif not a then
        e.verdict = "no_ack"
        pnote(t, "hci.no_ack", string.format("%s (sequence %u) never acknowledged", lg_kind_word(e), e.seq))
    elseif lg_judge(t, e.seq, a) then
        e.verdict = "accepted"
        t.run_accepted = t.run_accepted + 1
        lg_model(t)
    else
        e.verdict = "dropped"
        e.effect = "dropped: the device expects sequence " .. a
        local stale = t.run_accepted == 0 and t.run_packets > 0 and t.runs > 0
        if stale and not t.run_stale then
            t.run_stale = true
            pnote(t, "legacy.stale_sequence", string.format("the host's new run starts at 1, the device expects " ..
                "%u from an earlier session that was not reset: it acknowledges and drops every packet until " ..
                "number %u (§13.12)", a, a ~= 0 and a or 8))
        elseif not t.run_stale or t.run_accepted > 0 then
            pnote(t, "legacy.dropped", string.format("%s (sequence %u) acknowledged with %u: dropped",
                lg_kind_word(e), e.seq, a))
        end
    end
end

-- A host packet (host_packet in track.c).
local function lg_host_packet(t, rec, dir)
    if t.pending then lg_resolve(t, nil) end
    local d = rec.data
    local h = hci_parse(d)
    local e = { seq = h.seq or 0, body_len = h.payload and #h.payload >= 4 and #h.payload - 4 or 0 }
    rec.hci = h
    rec.lg = e
    t.pev, t.prec, t.pst, t.pending = e, rec, h.status, true
    e.image = t.image
    if h.status ~= "ok" then
        if h.status == "bad_crc" and h.integrity and #d >= 6 then
            note("hci.bad_crc", rec.pkt, rec, string.format("CRC16 0x%04x, the bytes give 0x%04x: no ACK",
                h.crc_sent, h.crc_calc))
        else
            note(h.status == "bad_crc" and "hci.bad_crc" or "hci.bad_header", rec.pkt, rec,
                string.format("%u-byte packet (%s): dropped without an ACK", #d, h.status))
        end
        return
    end
    if h.len_mismatch then
        note("hci.bad_length", rec.pkt, rec, string.format("length field %u, the packet holds %u payload bytes",
            h.len, #h.payload))
    end
    local g = lg_parse(h.payload)
    t.plg = g
    e.has_kind = #h.payload >= 4
    e.kind = g.kind or 0
    local c = crc16(0xFFFF, h.payload)
    local new_run = e.kind == LG_START and e.seq == 1
    if t.last_seq >= 0 and e.seq == t.last_seq and c == t.last_crc and #d == t.last_len and
        not (new_run and t.port_moved) then
        e.retransmit = true
        note("hci.retransmit", rec.pkt, rec, string.format("sequence %u sent again", e.seq))
    elseif t.last_seq >= 0 and not new_run and e.seq ~= (t.last_seq + 1) % 8 then
        note("hci.seq_gap", rec.pkt, rec, string.format("sequence %u after %u", e.seq, t.last_seq))
    end
    t.port_moved = false
    t.last_seq, t.last_crc, t.last_len = e.seq, c, #d
    if new_run and not e.retransmit then
        t.runs, t.run_packets, t.run_accepted, t.run_stale = t.runs + 1, 0, 0, false
    end
    t.run_packets = t.run_packets + 1
    if e.kind == LG_START and g.ok and not e.retransmit then t.image = t.image + 1 end
    e.image = t.image
end

-- A frame of line dir (lg_frame_data).
local function lg_frame(t, rec, dir)
    local a = hci_ack(rec.data)
    t.frames = t.frames + 1
    if a and dir ~= HOST then
        if t.pending then
            lg_resolve(t, a, rec)
        else
            note("hci.unexpected_frame", rec.pkt, rec, string.format("ACK %u that no packet waits for", a))
        end
        return
    end
    if dir == TARGET or a then
        note("hci.unexpected_frame", rec.pkt, rec, string.format("%u-byte frame from the %s that is not %s",
            #rec.data, dir == TARGET and "target" or "host", dir == TARGET and "an ACK" or "a DFU packet"))
        return
    end
    lg_host_packet(t, rec, dir)
end

local function lg_port(t, open)
    if t.pending and not open then lg_resolve(t, nil) end
    t.port_moved = true
end

local function lg_finish(t)
    if t.pending then lg_resolve(t, nil) end
end

-- ---- SLIP, per line -----------------------------------------------------

local function deframer_new()
    return { parts = {}, len = 0, esc = false, bad = false, long = false, raw = 0, segs = {}, seen_end = false }
end

-- Feed a packet's line bytes to the line's deframer; return the units
-- completed in it (frames and framing errors) and the bytes of the frame
-- left open.  Runs of plain bytes are taken whole (string.find).
local function deframe(st, bytes, pnum, t)
    local units = {}
    local n, i, seg_start = #bytes, 1, 1
    local function push(chunk)
        if st.len + #chunk > FRAME_CAP then
            st.long = true
        else
            st.parts[#st.parts + 1] = chunk
            st.len = st.len + #chunk
        end
    end
    while i <= n do
        if st.start == nil then st.start = pnum end
        local b = bytes:byte(i)
        if b == 0xC0 then
            st.raw = st.raw + 1
            st.segs[#st.segs + 1] = { pnum, i - seg_start + 1 }
            seg_start = i + 1
            local kind = (st.bad or st.esc) and "bad" or st.long and "long" or "frame"
            local data = table.concat(st.parts)
            if kind == "frame" and #data == 0 then kind = "empty" end
            units[#units + 1] = { kind = kind, data = data, start = st.start, pkt = pnum, t = t, segs = st.segs,
                first = not st.seen_end, raw = st.raw }
            st.parts, st.len, st.esc, st.bad, st.long, st.start, st.raw, st.segs = {}, 0, false, false, false, nil, 0, {}
            st.seen_end = true
            i = i + 1
        elseif st.esc then
            st.esc = false
            st.raw = st.raw + 1
            if b == 0xDC or b == 0xDD then
                push(b == 0xDC and "\192" or "\219")
            else
                st.bad = true
            end
            i = i + 1
        elseif b == 0xDB and not (st.bad or st.long) then
            st.esc = true
            st.raw = st.raw + 1
            i = i + 1
        else
            -- plain bytes up to the next END (or ESC while decoding)
            local dropping = st.bad or st.long
            local e = dropping and bytes:find("\192", i, true) or bytes:find("[\192\219]", i)
            local stop = e or n + 1
            if not dropping then push(bytes:sub(i, stop - 1)) end
            st.raw = st.raw + (stop - i)
            i = stop
        end
    end
    if n >= seg_start then st.segs[#st.segs + 1] = { pnum, n - seg_start + 1 } end
    if n > 0 then st.last_pkt = pnum end
    return units, st.len
end

-- ---- the pipeline (lib/analysis/pipeline.c) ----------------------------
--
-- Units of both lines, port changes and notes go, in packet order, to the
-- session's protocol: the first frame that names one (an HCI packet, or a
-- Secure DFU message in its direction) decides; what comes before is held
-- (32 items, 16 KiB of frames at most, then it is Secure DFU) and replayed.

local P         -- { decided, proto = "sdfu" | "hci", hold, hold_bytes, lines_known, dtr }
local L         -- the legacy tracker

local function dispatch(it)
    it.proto = P.proto
    local hci = P.proto == "hci"
    if it.kind == "port" then
        if hci then lg_port(L, it.open) end
    elseif it.kind == "note" then
        note(it.id, it.pkt, nil, it.text)
    elseif it.kind == "frame" then
        if hci then lg_frame(L, it, it.dir) else session_frame(S, it, it.dir) end
    elseif it.kind == "bad" then
        note("slip.bad_escape", it.pkt, it, string.format("ESC not followed by DC/DD: %u bytes dropped", it.raw))
    elseif it.kind == "long" then
        note("slip.too_long", it.pkt, it, string.format("frame of %u bytes dropped", it.raw))
    elseif it.kind == "empty" then
        if not hci then note("slip.empty_frame", it.pkt, it, "END with nothing before it") end -- legacy: every packet's start
    elseif it.kind == "unterminated" then
        note("slip.unterminated", it.pkt, nil, string.format("%u bytes without END at the end of the capture", it.raw))
    end
end

local function decide(proto)
    P.decided, P.proto = true, proto
    local held = P.hold
    P.hold = {}
    for _, it in ipairs(held) do dispatch(it) end
end

local function pipe_in(it)
    if not P.decided and it.kind == "frame" then
        local proto = sniff(it.data, it.dir)
        if proto then decide(proto) end
    end
    if not P.decided then
        local bytes = it.data and #it.data or 0
        if #P.hold == 32 or P.hold_bytes + bytes > 2 * FRAME_CAP then
            decide("sdfu")
        else
            P.hold[#P.hold + 1] = it
            P.hold_bytes = P.hold_bytes + bytes
            return
        end
    end
    dispatch(it)
end

-- The end of the capture (dk_pipe_finish): partial frames, the protocol
-- if still undecided, what is still owed.
local function pipe_finish()
    for dir = 1, 2 do
        local st = slip[dir]
        if st.raw > 0 then pipe_in({ kind = "unterminated", pkt = st.last_pkt, raw = st.raw, dir = dir }) end
    end
    if not P.decided then decide("sdfu") end
    if P.proto == "hci" then lg_finish(L) else session_finish(S) end
end

-- ---- the dissector ------------------------------------------------------

function dfu.init()
    slip = { [1] = deframer_new(), [2] = deframer_new() }
    results = {}
    S = session_new()
    L = lg_new()
    P = { decided = false, hold = {}, hold_bytes = 0, lines_known = false, dtr = false }
    finished = false
end

-- Dissect one decoded message on its own tvb; returns a one-line summary.
local function dissect_msg(ftvb, tree)
    local n = ftvb:len()
    local first = ftvb(0, 1):uint()
    local pos, summary
    local function u8(f) if pos + 1 > n then return nil end local r = ftvb(pos, 1); tree:add_le(f, r); pos = pos + 1; return r:le_uint() end
    local function u16(f) if pos + 2 > n then return nil end local r = ftvb(pos, 2); tree:add_le(f, r); pos = pos + 2; return r:le_uint() end
    local function u32(f) if pos + 4 > n then return nil end local r = ftvb(pos, 4); tree:add_le(f, r); pos = pos + 4; return r:le_uint() end
    local truncated = false
    local function got(v) if v == nil then truncated = true end return v end

    if first ~= RESPONSE then
        local op = first
        tree:add(F.opcode, ftvb(0, 1))
        tree:add(F.response, ftvb(0, 1), false)
        pos = 1
        summary = name_of(op_names, op)
        if op == 0x01 then
            local t = got(u8(F.obj_type)); local s = got(u32(F.size))
            if not truncated then summary = string.format("%s type=%s size=%u", summary, name_of(obj_names, t), s) end
        elseif op == 0x02 then
            local v = got(u16(F.prn))
            if v then summary = string.format("%s prn=%u", summary, v) end
        elseif op == 0x06 then
            local t = got(u8(F.obj_type))
            if t then summary = string.format("%s type=%s", summary, name_of(obj_names, t)) end
        elseif op == 0x08 then
            local len = n - 1
            tree:add(F.data_len, ftvb(0, 1), len)
            if len > 0 then tree:add(F.data, ftvb(1, len)) end
            pos = n
            summary = string.format("%s len=%u", summary, len)
        elseif op == 0x09 then
            local v = got(u8(F.ping_id))
            if v then summary = string.format("%s id=%u", summary, v) end
        elseif op == 0x0B then
            local v = got(u8(F.image))
            if v then summary = string.format("%s image=%u", summary, v) end
        end
        if not op_names[op] then return summary end
    else
        tree:add(F.response, ftvb(0, 1), true)
        pos = 1
        if n < 3 then
            if n >= 2 then tree:add(F.req_opcode, ftvb(1, 1)) end
            return "RESPONSE (truncated)"
        end
        local op = ftvb(1, 1):uint()
        local res = ftvb(2, 1):uint()
        tree:add(F.req_opcode, ftvb(1, 1))
        tree:add(F.result, ftvb(2, 1))
        pos = 3
        summary = string.format("%s -> %s", name_of(op_names, op), name_of(result_names, res))
        if res == 0x0B then
            local e = got(u8(F.ext_error))
            if e then
                summary = string.format("%s -> EXT_ERROR %s", name_of(op_names, op), name_of(ext_names, e))
                tree:add(dfu, ftvb(3, 1), string.format("Extended error %s: %s", name_of(ext_names, e),
                    ext_meanings[e] or "not defined by the SDK"))
            end
        elseif res ~= 0x01 then
            tree:add(dfu, ftvb(2, 1), string.format("%s failed: %s", name_of(op_names, op), name_of(result_names, res)))
        elseif op == 0x00 then
            local v = got(u8(F.version))
            if v then summary = string.format("%s version=%u", summary, v) end
        elseif op == 0x03 then
            local o = got(u32(F.offset)); local c = got(u32(F.crc))
            if not truncated then summary = string.format("%s offset=%u crc=0x%08x", summary, o, c) end
        elseif op == 0x06 then
            local m = got(u32(F.max_size)); local o = got(u32(F.offset)); local c = got(u32(F.crc))
            if not truncated then summary = string.format("%s max_size=%u offset=%u crc=0x%08x", summary, m, o, c) end
        elseif op == 0x07 then
            local m = got(u16(F.mtu))
            if m then summary = string.format("%s mtu=%u", summary, m) end
        elseif op == 0x09 then
            local v = got(u8(F.ping_id))
            if v then summary = string.format("%s id=%u", summary, v) end
        elseif op == 0x0A then
            local p = got(u32(F.hw_part)); got(u32(F.hw_variant)); got(u32(F.hw_rom)); got(u32(F.hw_ram)); got(u32(F.hw_page))
            if not truncated then summary = string.format("%s part=0x%x", summary, p) end
        elseif op == 0x0B then
            local t = got(u8(F.fw_type)); local v = got(u32(F.fw_version)); got(u32(F.fw_addr)); got(u32(F.fw_len))
            if not truncated then summary = string.format("%s type=%u version=%u", summary, t, v) end
        end
    end
    if truncated then
        summary = summary .. " [truncated]"
    elseif pos < n then
        tree:add(F.extra, ftvb(pos, n - pos))
        summary = summary .. string.format(" [+%u bytes]", n - pos)
    end
    return summary
end

-- A legacy HCI packet or ACK on its own tvb; returns a one-line summary.
local function dissect_hci(ftvb, tree, fr)
    local d = fr.data
    local a = hci_ack(d)
    if a then
        tree:add(F.hci_ack, ftvb(0, 1), a)
        return string.format("ACK %u", a)
    end
    local h = fr.hci or hci_parse(d)
    local n = ftvb:len()
    if n < 4 then
        tree:add(F.hci_status, ftvb(), h.status)
        return "HCI (short)"
    end
    tree:add(F.hci_seq, ftvb(0, 1), h.seq)
    tree:add(F.hci_ack, ftvb(0, 1), h.ack)
    tree:add(F.hci_integrity, ftvb(0, 1), h.integrity)
    tree:add(F.hci_reliable, ftvb(0, 1), h.reliable)
    tree:add(F.hci_type, ftvb(1, 1), h.type)
    tree:add(F.hci_len, ftvb(1, 2), h.len)
    tree:add(F.hci_status, ftvb(0, 4), h.status)
    local summary = string.format("HCI seq=%u", h.seq)
    local pl = #h.payload
    if pl >= 4 then
        local kind = le(h.payload, 1, 4)
        tree:add_le(F.lg_kind, ftvb(4, 4))
        summary = string.format("%s %s", summary, lg_kind_names_v[kind] or string.format("kind=%u", kind))
        if kind == LG_START and pl >= 20 then
            tree:add_le(F.lg_mode, ftvb(8, 4))
            tree:add_le(F.lg_sd_size, ftvb(12, 4))
            tree:add_le(F.lg_bl_size, ftvb(16, 4))
            tree:add_le(F.lg_app_size, ftvb(20, 4))
            summary = string.format("%s %s sd=%u bl=%u app=%u", summary, lg_mode_names_v[le(h.payload, 5, 4)] or "?",
                le(h.payload, 9, 4), le(h.payload, 13, 4), le(h.payload, 17, 4))
        elseif pl > 4 then
            tree:add(F.lg_body, ftvb(8, pl - 4))
            summary = string.format("%s len=%u", summary, pl - 4)
        end
    end
    if h.crc_sent then tree:add_le(F.hci_crc, ftvb(n - 2, 2)) end
    local e = fr.lg
    if e and e.verdict then
        tree:add(F.lg_verdict, ftvb(), e.verdict):set_generated()
        if e.offset and e.kind == LG_DATA and e.verdict == "accepted" then
            tree:add(F.lg_offset, ftvb(), e.offset):set_generated()
        end
        if e.effect then tree:add(F.lg_effect, ftvb(), e.effect):set_generated() end
        if e.image and e.image > 0 then tree:add(F.session_image, ftvb(), e.image):set_generated() end
        summary = string.format("%s [%s]", summary, e.verdict)
    end
    return summary
end

-- What the session found about message fr, in its tree.
local function session_items(ft, fr, line)
    if fr.image and fr.image > 0 then ft:add(F.session_image, line, fr.image):set_generated() end
    if fr.w_obj then
        ft:add(F.write_offset, line, fr.w_off):set_generated()
        if fr.w_crc then ft:add(F.running_crc, line, fr.w_crc):set_generated() end
    end
    if fr.response_in then ft:add(F.response_in, line, fr.response_in):set_generated() end
    if fr.prn_in then ft:add(F.prn_in, line, fr.prn_in):set_generated() end
    if fr.no_answer then ft:add(F.no_response, line, true):set_generated() end
    if fr.request_in then
        ft:add(F.request_in, line, fr.request_in):set_generated()
        -- to the microsecond: the difference of two double time stamps
        local us = math.floor(fr.rtt * 1e6 + 0.5)
        ft:add(F.response_time, line, NSTime.new(math.floor(us / 1e6), (us % 1000000) * 1000)):set_generated()
        if fr.late then ft:add(F.late, line, true):set_generated() end
    end
    if fr.prn_of then ft:add(F.prn_due_in, line, fr.prn_of):set_generated() end
    if fr.check and fr.check ~= "none" then
        ft:add(F.check, line, fr.check):set_generated()
        -- what the bytes sent give: for a notification, and where a report differs
        if fr.is_prn or fr.check == "crc_mismatch" or fr.check == "offset_mismatch" then
            ft:add(F.expected_offset, line, fr.exp_off):set_generated()
            ft:add(F.expected_crc, line, fr.exp_crc):set_generated()
        end
    end
end

-- The session's anomalies in packet r: expert items with their dotted id.
local function anomaly_items(t, r, line, infos)
    for _, a in ipairs(r.anoms) do
        local tree = a.rec and a.rec.tree or t
        local item = tree:add(F.anomaly, line, a.id)
        item:set_generated()
        item:add_proto_expert_info(E[a.id], a.id .. ": " .. a.text)
        infos[#infos + 1] = "[" .. a.id .. "]"
    end
end

-- The first pass, in packet order (dk_pipe_chunk): the control lines (the
-- host drops DTR when it closes the port), lost data, the line's units.
local function first_pass(pinfo, ev, lines, bytes)
    local pkt = pinfo.number
    local r = res_of(pkt)
    local dtr = band(lines, 0x10) ~= 0
    if not P.lines_known or dtr ~= P.dtr then
        P.lines_known, P.dtr = true, dtr
        pipe_in({ kind = "port", open = dtr, pkt = pkt })
    end
    if ev == 0x05 then
        pipe_in({ kind = "note", id = "cap.data_lost", pkt = pkt, text = "the capture tool lost data here" })
        return
    end
    if ev ~= 0x01 and ev ~= 0x02 then return end
    local units, pending = deframe(slip[ev], bytes, pkt, pinfo.abs_ts)
    r.pending = pending
    for _, u in ipairs(units) do
        r.frames[#r.frames + 1] = u
        u.idx = #r.frames
        u.dir = ev
        pipe_in(u)
    end
end

function dfu.dissector(tvb, pinfo, tree)
    if tvb:len() < 12 then
        return 0
    end
    rtacser:call(tvb(0, 12):tvb(), pinfo, tree)
    pinfo.cols.protocol = "DFU"
    local ev = tvb(8, 1):uint()
    local n = tvb:len() - 12
    local line = n > 0 and tvb(12, n) or tvb(0, 0)
    local t = tree:add(dfu, line)
    t:add(F.event, tvb(8, 1))
    if pinfo.visited and not finished and P then
        finished = true
        pipe_finish()
    end
    if not pinfo.visited and results[pinfo.number] == nil then
        first_pass(pinfo, ev, tvb(9, 1):uint(), n > 0 and tvb(12, n):raw() or "")
        res_of(pinfo.number)
    end
    local r = results[pinfo.number] or { frames = {}, pending = 0, anoms = {} }
    local infos = {}
    if ev == 0x00 then
        anomaly_items(t, r, line, infos)
        infos[#infos + 1] = string.format("control lines 0x%02x", tvb(9, 1):uint())
        pinfo.cols.info = table.concat(infos, "; ")
        return tvb:len()
    end
    if ev == 0x05 then
        anomaly_items(t, r, line, infos)
        pinfo.cols.info = "capture data lost"
        return tvb:len()
    end
    if ev ~= 0x01 and ev ~= 0x02 then
        return tvb:len()
    end
    local dir = ev
    t:add(F.direction, tvb(8, 1), dir)
    t:append_text(", " .. dir_names[dir])
    t:add(F.raw_len, line, n)

    for i, fr in ipairs(r.frames) do
        if fr.kind == "bad" then
            local ft = t:add(dfu, line, "SLIP frame dropped (bad escape)")
            ft:add(F.frame_start, line, fr.start)
            fr.tree = ft
            infos[#infos + 1] = "[bad SLIP escape]"
        elseif fr.kind == "long" then
            local ft = t:add(dfu, line, "SLIP frame dropped (too long)")
            ft:add(F.frame_start, line, fr.start)
            fr.tree = ft
            infos[#infos + 1] = "[SLIP frame too long]"
        elseif fr.kind == "empty" then
            fr.tree = t:add(dfu, line, "Empty SLIP frame")
            infos[#infos + 1] = "[empty frame]"
        else
            local hci = fr.proto == "hci" or (fr.proto == nil and sniff(fr.data, dir) == "hci")
            local ftvb = ByteArray.new(fr.data, true):tvb((hci and "HCI packet " or "DFU message ") .. i)
            local ft = t:add(dfu, ftvb(), hci and "Legacy HCI DFU packet" or "DFU message")
            ft:add(F.frame_len, ftvb(), ftvb:len())
            if fr.start ~= pinfo.number then
                ft:add(F.frame_start, line, fr.start)
            end
            local ok, s = pcall(hci and dissect_hci or dissect_msg, ftvb, ft, fr)
            if not ok then s = "[dissector error: " .. tostring(s) .. "]" end
            ok, s = pcall(function() session_items(ft, fr, line); return s end)
            if not ok then s = "[dissector error: " .. tostring(s) .. "]" end
            ft:append_text(": " .. s)
            fr.tree = ft
            infos[#infos + 1] = s
        end
    end
    anomaly_items(t, r, line, infos)
    for _, fr in ipairs(r.frames) do fr.tree = nil end
    if r.pending > 0 then
        t:add(F.pending, line, r.pending)
        infos[#infos + 1] = string.format("[SLIP fragment, %u bytes so far]", r.pending)
    end
    pinfo.cols.src = dir == 1 and "host" or "target"
    pinfo.cols.dst = dir == 1 and "target" or "host"
    pinfo.cols.info = table.concat(infos, "; ")
    return tvb:len()
end

-- Link type 250 (LINKTYPE_RTAC_SERIAL) is Wireshark's RTAC serial
-- encapsulation; dfukit takes it over and shows the RTAC header through the
-- stock rtacser dissector.
DissectorTable.get("wtap_encap"):add(wtap_encaps.RTAC_SERIAL, dfu)
