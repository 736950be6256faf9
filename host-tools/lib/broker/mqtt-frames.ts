/**
 * MQTT framing for the mock broker's packet tap: cuts a byte stream into whole packets (so a
 * fault can hold back, delay or count one packet) and describes each for the trace with
 * mqtt-packet, the parser aedes itself uses.
 */
import mqttPacket from 'mqtt-packet';

export type PacketName =
  | 'CONNECT' | 'CONNACK' | 'PUBLISH' | 'PUBACK' | 'PUBREC' | 'PUBREL' | 'PUBCOMP' | 'SUBSCRIBE' | 'SUBACK'
  | 'UNSUBSCRIBE' | 'UNSUBACK' | 'PINGREQ' | 'PINGRESP' | 'DISCONNECT' | 'RESERVED';

const NAMES: PacketName[] = ['RESERVED', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP', 'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'RESERVED'];

export function packetName(firstByte: number): PacketName {
  return NAMES[firstByte >> 4];
}

/** What the trace keeps of a packet. */
export interface PacketInfo {
  type: PacketName;
  bytes: number;
  id?: number;
  dup?: boolean;
  qos?: number;
  retain?: boolean;
  topic?: string;
  /** UTF-8 payload, cut at 200 characters. */
  payload?: string;
  returnCode?: number;
  granted?: number[];
  clientId?: string;
  username?: string;
  clean?: boolean;
  keepalive?: number;
  /** Set when mqtt-packet could not decode it (a malformed packet). */
  malformed?: string;
}

/** Accumulates bytes and returns the whole packets in them (an over-long length prefix is returned as is). */
export class PacketSplitter {
  private buf = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      let rem = 0;
      let mult = 1;
      let i = 1;
      let complete = false;
      for (; i < this.buf.length && i <= 4; i++) {
        rem += (this.buf[i] & 0x7f) * mult;
        mult *= 128;
        if (!(this.buf[i] & 0x80)) { complete = true; break; }
      }
      if (!complete) {
        // Five length bytes: malformed; pass everything on as one "packet" for the peer to refuse.
        if (this.buf.length > 5) { out.push(this.buf); this.buf = Buffer.alloc(0); }
        return out;
      }
      const total = i + 1 + rem;
      if (this.buf.length < total) return out;
      out.push(this.buf.subarray(0, total));
      this.buf = this.buf.subarray(total);
    }
  }
}

function text(b: Buffer | string | undefined): string | undefined {
  if (b === undefined) return undefined;
  const s = typeof b === 'string' ? b : b.toString('utf8');
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}

/** Decodes one whole packet for the trace (never throws). */
export function describePacket(raw: Buffer): PacketInfo {
  const info: PacketInfo = { type: packetName(raw[0]), bytes: raw.length };
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  let decoded: mqttPacket.Packet | undefined;
  parser.on('packet', (p: mqttPacket.Packet) => { decoded ??= p; });
  parser.on('error', (e: Error) => { info.malformed = e.message; });
  try {
    parser.parse(raw);
  } catch (e) {
    info.malformed = (e as Error).message;
  }
  if (decoded === undefined) {
    info.malformed ??= 'incomplete or undecodable';
    return info;
  }
  const p = decoded;
  if (p.messageId !== undefined) info.id = p.messageId;
  switch (p.cmd) {
    case 'publish':
      Object.assign(info, { dup: p.dup, qos: p.qos, retain: p.retain, topic: p.topic, payload: text(p.payload) });
      break;
    case 'connack':
      info.returnCode = p.returnCode;
      break;
    case 'suback':
      info.granted = p.granted as number[];
      break;
    case 'connect':
      Object.assign(info, { clientId: p.clientId, username: p.username, clean: p.clean, keepalive: p.keepalive });
      break;
    default:
      break;
  }
  return info;
}
