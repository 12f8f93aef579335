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
-- DFU messages:
--   request   op u8, payload
--   response  0x60, op u8, result u8, [payload when result = SUCCESS]
--                                     [extended error u8 when result = EXT_ERROR]
--   all integers little-endian.
--
-- Use:  tshark -X lua_script:dfukit.lua -r capture.pcap -V
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

local E = {
    truncated = ProtoExpert.new("dfukit.truncated", "Message shorter than its opcode needs",
        expert.group.MALFORMED, expert.severity.ERROR),
    overlong = ProtoExpert.new("dfukit.overlong", "Message longer than its opcode defines",
        expert.group.PROTOCOL, expert.severity.WARN),
    unknown_op = ProtoExpert.new("dfukit.unknown_op", "Unknown opcode",
        expert.group.PROTOCOL, expert.severity.WARN),
    bad_escape = ProtoExpert.new("dfukit.slip.bad_escape", "SLIP: ESC followed by a byte other than DC/DD; frame dropped",
        expert.group.MALFORMED, expert.severity.ERROR),
    empty = ProtoExpert.new("dfukit.slip.empty", "SLIP: empty frame (the SDK would parse it)",
        expert.group.PROTOCOL, expert.severity.WARN),
    error_result = ProtoExpert.new("dfukit.error_result", "DFU request failed",
        expert.group.RESPONSE_CODE, expert.severity.WARN),
    lost = ProtoExpert.new("dfukit.lost", "The capture lost data here",
        expert.group.SEQUENCE, expert.severity.WARN),
}
dfu.experts = { E.truncated, E.overlong, E.unknown_op, E.bad_escape, E.empty, E.error_result, E.lost }

local rtacser = Dissector.get("rtacser")

-- Reassembly state, per direction, filled on the first pass in packet order.
local slip      -- [dir] = { parts = {}, esc = bool, bad = bool, start = packet number or nil }
local results   -- [packet number] = { frames = {...}, pending = n }

function dfu.init()
    slip = { [1] = { parts = {}, esc = false, bad = false }, [2] = { parts = {}, esc = false, bad = false } }
    results = {}
end

local function name_of(t, v)
    return t[v] or string.format("unknown(0x%02x)", v)
end

-- Feed a packet's line bytes to the direction's deframer; return the
-- frames completed in it and the partial length left over.
local function deframe(st, bytes, pnum)
    local frames = {}
    for i = 1, #bytes do
        local b = bytes:byte(i)
        if st.start == nil then st.start = pnum end
        if b == 0xC0 then
            local data = table.concat(st.parts)
            if st.bad then
                frames[#frames + 1] = { kind = "bad", data = data, start = st.start }
            elseif #data == 0 then
                frames[#frames + 1] = { kind = "empty", data = data, start = st.start }
            else
                frames[#frames + 1] = { kind = "frame", data = data, start = st.start }
            end
            st.parts, st.esc, st.bad, st.start = {}, false, false, nil
        elseif st.bad then
            -- discard until END
        elseif st.esc then
            st.esc = false
            if b == 0xDC then st.parts[#st.parts + 1] = "\192"
            elseif b == 0xDD then st.parts[#st.parts + 1] = "\219"
            else st.bad = true end
        elseif b == 0xDB then
            st.esc = true
        else
            st.parts[#st.parts + 1] = string.char(b)
        end
    end
    local pending = 0
    for _, s in ipairs(st.parts) do pending = pending + #s end
    return frames, pending
end

-- Dissect one decoded message on its own tvb; returns a one-line summary.
local function dissect_msg(ftvb, tree)
    local n = ftvb:len()
    local first = ftvb(0, 1):uint()
    local need, pos, summary
    local function u8(name, f) if pos + 1 > n then return nil end local r = ftvb(pos, 1); tree:add_le(f, r); pos = pos + 1; return r:le_uint() end
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
        if not op_names[op] then tree:add_proto_expert_info(E.unknown_op) end
        if op == 0x01 then
            local t = got(u8("type", F.obj_type)); local s = got(u32(F.size))
            if not truncated then summary = string.format("%s type=%s size=%u", summary, name_of(obj_names, t), s) end
        elseif op == 0x02 then
            local v = got(u16(F.prn))
            if v then summary = string.format("%s prn=%u", summary, v) end
        elseif op == 0x06 then
            local t = got(u8("type", F.obj_type))
            if t then summary = string.format("%s type=%s", summary, name_of(obj_names, t)) end
        elseif op == 0x08 then
            local len = n - 1
            tree:add(F.data_len, ftvb(0, 1), len)
            if len > 0 then tree:add(F.data, ftvb(1, len)) end
            pos = n
            summary = string.format("%s len=%u", summary, len)
        elseif op == 0x09 then
            local v = got(u8("id", F.ping_id))
            if v then summary = string.format("%s id=%u", summary, v) end
        elseif op == 0x0B then
            local v = got(u8("image", F.image))
            if v then summary = string.format("%s image=%u", summary, v) end
        end
    else
        tree:add(F.response, ftvb(0, 1), true)
        pos = 1
        if n < 3 then
            if n >= 2 then tree:add(F.req_opcode, ftvb(1, 1)) end
            tree:add_proto_expert_info(E.truncated)
            return "RESPONSE (truncated)"
        end
        local op = ftvb(1, 1):uint()
        local res = ftvb(2, 1):uint()
        tree:add(F.req_opcode, ftvb(1, 1))
        tree:add(F.result, ftvb(2, 1))
        pos = 3
        summary = string.format("%s -> %s", name_of(op_names, op), name_of(result_names, res))
        if res == 0x0B then
            local e = got(u8("ext", F.ext_error))
            if e then
                summary = string.format("%s -> EXT_ERROR %s", name_of(op_names, op), name_of(ext_names, e))
                tree:add_proto_expert_info(E.error_result, string.format("Extended error %s: %s", name_of(ext_names, e),
                    ext_meanings[e] or "not defined by the SDK"))
            end
        elseif res ~= 0x01 then
            tree:add_proto_expert_info(E.error_result, string.format("%s failed: %s", name_of(op_names, op), name_of(result_names, res)))
        elseif op == 0x00 then
            local v = got(u8("v", F.version))
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
            local v = got(u8("id", F.ping_id))
            if v then summary = string.format("%s id=%u", summary, v) end
        elseif op == 0x0A then
            local p = got(u32(F.hw_part)); got(u32(F.hw_variant)); got(u32(F.hw_rom)); got(u32(F.hw_ram)); got(u32(F.hw_page))
            if not truncated then summary = string.format("%s part=0x%x", summary, p) end
        elseif op == 0x0B then
            local t = got(u8("t", F.fw_type)); local v = got(u32(F.fw_version)); got(u32(F.fw_addr)); got(u32(F.fw_len))
            if not truncated then summary = string.format("%s type=%u version=%u", summary, t, v) end
        end
    end
    if truncated then
        tree:add_proto_expert_info(E.truncated)
        summary = summary .. " [truncated]"
    elseif pos < n then
        tree:add(F.extra, ftvb(pos, n - pos))
        tree:add_proto_expert_info(E.overlong, string.format("%u bytes beyond what the opcode defines", n - pos))
        summary = summary .. string.format(" [+%u bytes]", n - pos)
    end
    return summary
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
    if ev == 0x00 then
        pinfo.cols.info = string.format("control lines 0x%02x", tvb(9, 1):uint())
        return tvb:len()
    end
    if ev == 0x05 then
        t:add_proto_expert_info(E.lost)
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

    local r = results[pinfo.number]
    if r == nil then
        local frames, pending = deframe(slip[dir], n > 0 and tvb(12, n):raw() or "", pinfo.number)
        r = { frames = frames, pending = pending }
        results[pinfo.number] = r
    end

    local infos = {}
    for i, fr in ipairs(r.frames) do
        if fr.kind == "bad" then
            local ft = t:add(dfu, line, "SLIP frame dropped (bad escape)")
            ft:add(F.frame_start, line, fr.start)
            ft:add_proto_expert_info(E.bad_escape)
            infos[#infos + 1] = "[bad SLIP escape]"
        elseif fr.kind == "empty" then
            local ft = t:add(dfu, line, "Empty SLIP frame")
            ft:add_proto_expert_info(E.empty)
            infos[#infos + 1] = "[empty frame]"
        else
            local ftvb = ByteArray.new(fr.data, true):tvb("DFU message " .. i)
            local ft = t:add(dfu, ftvb(), "DFU message")
            ft:add(F.frame_len, ftvb(), ftvb:len())
            if fr.start ~= pinfo.number then
                ft:add(F.frame_start, line, fr.start)
            end
            local ok, s = pcall(dissect_msg, ftvb, ft)
            if not ok then s = "[dissector error: " .. tostring(s) .. "]" end
            ft:append_text(": " .. s)
            infos[#infos + 1] = s
        end
    end
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
