// OTLP requests, encoded by hand: ExportLogsServiceRequest and
// ExportTraceServiceRequest as protobuf (opentelemetry-proto v1.11.0 field
// numbers) and as OTLP/JSON, and the partial-success part of the responses.
//
// Only the fields this exporter sets are written. The tests decode every
// request with protobufjs and the official .proto files, not with this code.

/** An attribute value: null and undefined values are left out. */
export type AttributeValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | AttributeValue[]
  | { [key: string]: AttributeValue };

/** Attributes by key, in insertion order. */
export type Attributes = Record<string, AttributeValue>;

/** A trace or span id, as lowercase hex and as bytes. */
export interface OtlpId {
  hex: string;
  bytes: Uint8Array;
}

/** The resource a record belongs to (one object per distinct resource). */
export interface OtlpResource {
  attributes: Attributes;
}

/** Severity numbers of the OTLP log data model used here. */
export const SEVERITY = {
  DEBUG: 5,
  INFO: 9,
  WARN: 13,
  ERROR: 17,
} as const;

/** Span status codes. */
export const STATUS = { UNSET: 0, OK: 1, ERROR: 2 } as const;

/** One log record: one event of a session log. */
export interface LogRecordData {
  resource: OtlpResource;
  timeUnixNano: bigint;
  severityNumber: number;
  severityText: string;
  body: string;
  traceId: OtlpId;
  spanId: OtlpId;
  /** Its attributes: `zig.session_id`, `zig.seq`, `zig.type`, then the
   * event's own fields as `zig.<field>` (see {@linkcode eventFields}). */
  sessionId: string;
  seq: number;
  type: string;
  /** The event as read: its fields become attributes. */
  event: Record<string, unknown>;
}

const ENVELOPE = new Set(["seq", "ts", "zig_session_id", "type"]);

/**
 * Calls `each` with the attribute key and value of every field of an event
 * that becomes an attribute: not the envelope, not a step_output's line (the
 * body), not a null.
 */
export function eventFields(
  record: LogRecordData,
  each: (key: string, value: AttributeValue) => void,
): void {
  const event = record.event;
  const output = record.type === "step_output";
  for (const field in event) {
    if (ENVELOPE.has(field) || (output && field === "line")) continue;
    const value = event[field];
    if (value === null || value === undefined) continue;
    each(prefixed(field), value as AttributeValue);
  }
}

const PREFIXED = new Map<string, string>();

/** `zig.<field>`, cached. */
function prefixed(field: string): string {
  let key = PREFIXED.get(field);
  if (key === undefined) {
    key = `zig.${field}`;
    if (PREFIXED.size < 1000) PREFIXED.set(field, key);
  }
  return key;
}

/** One finished span. */
export interface SpanData {
  resource: OtlpResource;
  traceId: OtlpId;
  spanId: OtlpId;
  parentSpanId?: OtlpId;
  name: string;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Attributes;
  status: { code: number; message?: string };
}

/** The instrumentation scope of every record. */
export const SCOPE_NAME = "zig-session";

/** Span kind INTERNAL: the steps run inside the workflow runner. */
const SPAN_KIND_INTERNAL = 1;
/** W3C trace flags: sampled. */
const TRACE_FLAGS = 1;
/** Span flags: sampled, and the parent is known not to be remote. */
const SPAN_FLAGS = 0x100 | TRACE_FLAGS;

const textEncoder = new TextEncoder();

/** A growable buffer that writes protobuf wire format. */
class ProtoWriter {
  buf = new Uint8Array(1 << 16);
  view = new DataView(this.buf.buffer);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** A varint below 2^53. */
  varint(v: number): void {
    if (v < 128) {
      this.ensure(1);
      this.buf[this.pos++] = v;
      return;
    }
    this.ensure(10);
    while (v > 127) {
      this.buf[this.pos++] = (v & 127) | 128;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  /** A signed 64-bit integer as a varint (two's complement when negative). */
  int64(v: number): void {
    if (v >= 0 && v <= 0xffffffff) return this.varint(v);
    this.ensure(10);
    let x = BigInt.asUintN(64, BigInt(v));
    while (x > 127n) {
      this.buf[this.pos++] = Number(x & 127n) | 128;
      x >>= 7n;
    }
    this.buf[this.pos++] = Number(x);
  }

  tag(field: number, wire: number): void {
    const key = (field << 3) | wire;
    if (key < 128) {
      this.ensure(1);
      this.buf[this.pos++] = key;
    } else this.varint(key);
  }

  fixed64(field: number, v: bigint): void {
    this.tag(field, 1);
    this.ensure(8);
    this.view.setBigUint64(this.pos, v, true);
    this.pos += 8;
  }

  fixed32(field: number, v: number): void {
    this.tag(field, 5);
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  double(field: number, v: number): void {
    this.tag(field, 1);
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  string(field: number, s: string): void {
    this.tag(field, 2);
    const n = s.length;
    // At most 3 bytes of UTF-8 per UTF-16 unit: reserve the length's room.
    const reserve = n < 43 ? 1 : varintSize(n * 3);
    this.ensure(reserve + n * 3 + 10);
    const start = this.pos + reserve;
    let written: number;
    if (n < 64) {
      written = 0;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 127) {
          written = -1;
          break;
        }
        this.buf[start + i] = c;
        written++;
      }
      if (written < 0) {
        written = textEncoder.encodeInto(s, this.buf.subarray(start)).written;
      }
    } else {
      written = textEncoder.encodeInto(s, this.buf.subarray(start)).written;
    }
    const size = varintSize(written);
    if (size < reserve) {
      this.buf.copyWithin(this.pos + size, start, start + written);
    }
    this.varint(written);
    this.pos += written;
  }

  /** Bytes encoded before (a cached fragment), as they are. */
  raw(b: Uint8Array): void {
    const n = b.length;
    this.ensure(n);
    if (n > 16) {
      this.buf.set(b, this.pos);
      this.pos += n;
      return;
    }
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos++] = b[i];
    this.pos = pos;
  }

  /**
   * Starts a length-delimited field; returns where its length goes.
   * `reserve` bytes are kept for the length (the expected varint size).
   */
  begin(field: number, reserve = 1): number {
    this.tag(field, 2);
    this.ensure(reserve);
    const at = this.pos;
    this.pos += reserve;
    return at * 4 + reserve;
  }

  /** Ends a field started by {@linkcode begin}, writing its length. */
  end(mark: number): void {
    const reserve = mark & 3;
    const at = (mark - reserve) / 4;
    const length = this.pos - at - reserve;
    const size = varintSize(length);
    if (size !== reserve) {
      this.ensure(size);
      this.buf.copyWithin(at + size, at + reserve, this.pos);
      this.pos += size - reserve;
    }
    const saved = this.pos;
    this.pos = at;
    this.varint(length);
    this.pos = saved;
  }

  take(): Uint8Array {
    const out = this.buf.slice(0, this.pos);
    this.pos = 0;
    return out;
  }
}

function varintSize(v: number): number {
  let size = 1;
  while (v > 127) {
    v = Math.floor(v / 128);
    size++;
  }
  return size;
}

function writeAnyValue(w: ProtoWriter, v: AttributeValue): void {
  if (typeof v === "string") w.string(1, v);
  else if (typeof v === "boolean") {
    w.tag(2, 0);
    w.varint(v ? 1 : 0);
  } else if (typeof v === "number") {
    if (Number.isSafeInteger(v)) {
      w.tag(3, 0);
      w.int64(v);
    } else w.double(4, v);
  } else if (Array.isArray(v)) {
    const array = w.begin(5);
    for (const item of v) {
      const at = w.begin(1);
      writeAnyValue(w, item);
      w.end(at);
    }
    w.end(array);
  } else if (v !== null && v !== undefined) {
    const list = w.begin(6);
    writeAttributes(w, v, 1);
    w.end(list);
  }
}

function writeKeyValue(
  w: ProtoWriter,
  field: number,
  key: string,
  v: AttributeValue,
): void {
  const kv = w.begin(field);
  w.string(1, key);
  const value = w.begin(2);
  writeAnyValue(w, v);
  w.end(value);
  w.end(kv);
}

function writeAttributes(w: ProtoWriter, attrs: Attributes, field: number) {
  for (const key in attrs) {
    const v = attrs[key];
    if (v === null || v === undefined) continue;
    writeKeyValue(w, field, key, v);
  }
}

function writeScope(w: ProtoWriter): void {
  const scope = w.begin(1);
  w.string(1, SCOPE_NAME);
  w.end(scope);
}

/** Groups records by resource, keeping their order within each group. */
function byResource<T extends { resource: OtlpResource }>(
  records: readonly T[],
): Map<OtlpResource, T[]> {
  const groups = new Map<OtlpResource, T[]>();
  for (const record of records) {
    let group = groups.get(record.resource);
    if (!group) groups.set(record.resource, group = []);
    group.push(record);
  }
  return groups;
}

const writer = new ProtoWriter();

/**
 * Encoded pieces that repeat from record to record (attributes with a short
 * string value, keys, severities, ids, event names), by kind and value.
 * Bounded: all emptied when they hold {@linkcode FRAGMENT_LIMIT} pieces.
 */
const FRAGMENT_LIMIT = 10_000;
let fragmentCount = 0;
/** KeyValue (field 6) by key, then by string value. */
const attributeFragments = new Map<string, Map<string, Uint8Array>>();
/** A key as KeyValue field 1, by key. */
const keyFragments = new Map<string, Uint8Array>();
/** Severity number and text, by text. */
const severityFragments = new Map<string, Uint8Array>();
/** Event name (field 12), by event type. */
const nameFragments = new Map<string, Uint8Array>();
/** Flags, trace id and span id, by span id (one trace per span id). */
const idFragments = new Map<OtlpId, { traceId: OtlpId; bytes: Uint8Array }>();
const scratch = new ProtoWriter();

/** What the scratch writer holds, kept in `cache` under `value`. */
function keep<K>(cache: Map<K, Uint8Array>, value: K): Uint8Array {
  const bytes = scratch.take();
  countFragment();
  cache.set(value, bytes);
  return bytes;
}

/** Counts a new fragment; empties every cache once they hold too many. */
function countFragment(): void {
  if (++fragmentCount <= FRAGMENT_LIMIT) return;
  attributeFragments.clear();
  keyFragments.clear();
  severityFragments.clear();
  nameFragments.clear();
  idFragments.clear();
  fragmentCount = 1;
}

/** A string value short enough to be cached with its key. */
const CACHED_VALUE_LENGTH = 64;

/** A record attribute; the common ones come from cached fragments. */
function writeRecordAttribute(
  w: ProtoWriter,
  key: string,
  value: AttributeValue,
): void {
  if (typeof value === "string" && value.length <= CACHED_VALUE_LENGTH) {
    let byValue = attributeFragments.get(key);
    if (!byValue) attributeFragments.set(key, byValue = new Map());
    let bytes = byValue.get(value);
    if (bytes === undefined) {
      scratch.pos = 0;
      writeKeyValue(scratch, 6, key, value);
      bytes = keep(byValue, value);
    }
    w.raw(bytes);
  } else if (
    typeof value === "number" && value >= 0 && value <= 0xffffffff &&
    Number.isInteger(value)
  ) {
    // KeyValue { key, value: AnyValue { int_value } }, sizes known ahead.
    let keyBytes = keyFragments.get(key);
    if (keyBytes === undefined) {
      scratch.pos = 0;
      scratch.string(1, key);
      keyBytes = keep(keyFragments, key);
    }
    const any = 1 + varintSize(value);
    w.tag(6, 2);
    w.varint(keyBytes.length + 2 + any);
    w.raw(keyBytes);
    w.ensure(3);
    const buf = w.buf;
    buf[w.pos++] = (2 << 3) | 2;
    buf[w.pos++] = any;
    buf[w.pos++] = 3 << 3;
    w.varint(value);
  } else writeKeyValue(w, 6, key, value);
}

/** One LogRecord (field 2 of ScopeLogs). */
function writeLogRecord(w: ProtoWriter, r: LogRecordData): void {
  // A record is 128 bytes to 16 KiB in most cases: 2 bytes for its length.
  const rec = w.begin(2, 2);
  w.fixed64(1, r.timeUnixNano);
  let severity = severityFragments.get(r.severityText);
  if (severity === undefined) {
    scratch.pos = 0;
    scratch.tag(2, 0);
    scratch.varint(r.severityNumber);
    scratch.string(3, r.severityText);
    severity = keep(severityFragments, r.severityText);
  }
  w.raw(severity);
  const body = w.begin(5, r.body.length < 40 ? 1 : 2);
  w.string(1, r.body);
  w.end(body);
  writeRecordAttribute(w, "zig.session_id", r.sessionId);
  writeRecordAttribute(w, "zig.seq", r.seq);
  writeRecordAttribute(w, "zig.type", r.type);
  const event = r.event;
  const output = r.type === "step_output";
  for (const field in event) {
    if (ENVELOPE.has(field) || (output && field === "line")) continue;
    const value = event[field];
    if (value === null || value === undefined) continue;
    writeRecordAttribute(w, prefixed(field), value as AttributeValue);
  }
  let ids = idFragments.get(r.spanId);
  if (ids === undefined || ids.traceId !== r.traceId) {
    scratch.pos = 0;
    scratch.fixed32(8, TRACE_FLAGS);
    scratch.bytes(9, r.traceId.bytes);
    scratch.bytes(10, r.spanId.bytes);
    ids = { traceId: r.traceId, bytes: scratch.take() };
    countFragment();
    idFragments.set(r.spanId, ids);
  }
  w.raw(ids.bytes);
  w.fixed64(11, r.timeUnixNano);
  let name = nameFragments.get(r.type);
  if (name === undefined) {
    scratch.pos = 0;
    scratch.string(12, prefixed(r.type));
    name = keep(nameFragments, r.type);
  }
  w.raw(name);
  w.end(rec);
}

/** An ExportLogsServiceRequest in protobuf. */
export function encodeLogsProtobuf(records: readonly LogRecordData[]) {
  const w = writer;
  w.pos = 0;
  for (const [resource, group] of byResource(records)) {
    const resourceLogs = w.begin(1);
    const res = w.begin(1);
    writeAttributes(w, resource.attributes, 1);
    w.end(res);
    const scopeLogs = w.begin(2);
    writeScope(w);
    for (const r of group) writeLogRecord(w, r);
    w.end(scopeLogs);
    w.end(resourceLogs);
  }
  return w.take();
}

/** An ExportTraceServiceRequest in protobuf. */
export function encodeTracesProtobuf(spans: readonly SpanData[]): Uint8Array {
  const w = writer;
  w.pos = 0;
  for (const [resource, group] of byResource(spans)) {
    const resourceSpans = w.begin(1);
    const res = w.begin(1);
    writeAttributes(w, resource.attributes, 1);
    w.end(res);
    const scopeSpans = w.begin(2);
    writeScope(w);
    for (const s of group) {
      const span = w.begin(2);
      w.bytes(1, s.traceId.bytes);
      w.bytes(2, s.spanId.bytes);
      if (s.parentSpanId) w.bytes(4, s.parentSpanId.bytes);
      w.string(5, s.name);
      w.tag(6, 0);
      w.varint(SPAN_KIND_INTERNAL);
      w.fixed64(7, s.startTimeUnixNano);
      w.fixed64(8, s.endTimeUnixNano);
      writeAttributes(w, s.attributes, 9);
      const status = w.begin(15);
      if (s.status.message) w.string(2, s.status.message);
      if (s.status.code) {
        w.tag(3, 0);
        w.varint(s.status.code);
      }
      w.end(status);
      w.fixed32(16, SPAN_FLAGS);
      w.end(span);
    }
    w.end(scopeSpans);
    w.end(resourceSpans);
  }
  return w.take();
}

/** An OTLP/JSON AnyValue. */
type JsonAnyValue = Record<string, unknown>;

function jsonAnyValue(v: AttributeValue): JsonAnyValue {
  if (typeof v === "string") return { stringValue: v };
  if (typeof v === "boolean") return { boolValue: v };
  if (typeof v === "number") {
    // int64 is a decimal string in the protobuf JSON mapping.
    return Number.isSafeInteger(v) ? { intValue: String(v) } : {
      doubleValue: v,
    };
  }
  if (Array.isArray(v)) {
    return { arrayValue: { values: v.map(jsonAnyValue) } };
  }
  if (v !== null && v !== undefined) {
    return { kvlistValue: { values: jsonAttributes(v) } };
  }
  return {};
}

function jsonAttributes(attrs: Attributes) {
  const out: Array<{ key: string; value: JsonAnyValue }> = [];
  for (const key in attrs) {
    const v = attrs[key];
    if (v === null || v === undefined) continue;
    out.push({ key, value: jsonAnyValue(v) });
  }
  return out;
}

/** An ExportLogsServiceRequest as an OTLP/JSON object. */
export function logsJson(records: readonly LogRecordData[]): object {
  return {
    resourceLogs: [...byResource(records)].map(([resource, group]) => ({
      resource: { attributes: jsonAttributes(resource.attributes) },
      scopeLogs: [{
        scope: { name: SCOPE_NAME },
        logRecords: group.map((r) => {
          const time = String(r.timeUnixNano);
          const attributes = [
            { key: "zig.session_id", value: jsonAnyValue(r.sessionId) },
            { key: "zig.seq", value: jsonAnyValue(r.seq) },
            { key: "zig.type", value: jsonAnyValue(r.type) },
          ];
          eventFields(r, (key, value) => {
            attributes.push({ key, value: jsonAnyValue(value) });
          });
          return {
            timeUnixNano: time,
            observedTimeUnixNano: time,
            severityNumber: r.severityNumber,
            severityText: r.severityText,
            body: { stringValue: r.body },
            attributes,
            flags: TRACE_FLAGS,
            traceId: r.traceId.hex,
            spanId: r.spanId.hex,
            eventName: prefixed(r.type),
          };
        }),
      }],
    })),
  };
}

/** Attribute JSON (`{"key":…,"value":…}`) by key, then by string value. */
const jsonFragments = new Map<string, Map<string, string>>();
let jsonFragmentCount = 0;

/** A record attribute in OTLP/JSON; short string values are cached. */
function jsonRecordAttribute(key: string, value: AttributeValue): string {
  if (typeof value === "string" && value.length <= CACHED_VALUE_LENGTH) {
    let byValue = jsonFragments.get(key);
    if (!byValue) jsonFragments.set(key, byValue = new Map());
    let text = byValue.get(value);
    if (text === undefined) {
      text = JSON.stringify({ key, value: jsonAnyValue(value) });
      if (++jsonFragmentCount > FRAGMENT_LIMIT) {
        jsonFragments.clear();
        jsonFragments.set(key, byValue = new Map());
        jsonFragmentCount = 1;
      }
      byValue.set(value, text);
    }
    return text;
  }
  return JSON.stringify({ key, value: jsonAnyValue(value) });
}

/**
 * An ExportLogsServiceRequest in OTLP/JSON, as UTF-8: the same request as
 * `JSON.stringify(logsJson(records))`, written as text without building the
 * objects first.
 */
export function encodeLogsJson(records: readonly LogRecordData[]): Uint8Array {
  const resources: string[] = [];
  for (const [resource, group] of byResource(records)) {
    const logRecords: string[] = [];
    for (const r of group) {
      const time = String(r.timeUnixNano);
      let attributes = `${
        jsonRecordAttribute("zig.session_id", r.sessionId)
      },{"key":"zig.seq","value":{"intValue":"${r.seq}"}},${
        jsonRecordAttribute("zig.type", r.type)
      }`;
      const event = r.event;
      const output = r.type === "step_output";
      for (const field in event) {
        if (ENVELOPE.has(field) || (output && field === "line")) continue;
        const value = event[field];
        if (value === null || value === undefined) continue;
        attributes += "," +
          jsonRecordAttribute(prefixed(field), value as AttributeValue);
      }
      logRecords.push(
        `{"timeUnixNano":"${time}","observedTimeUnixNano":"${time}","severityNumber":${r.severityNumber},"severityText":${
          JSON.stringify(r.severityText)
        },"body":{"stringValue":${
          JSON.stringify(r.body)
        }},"attributes":[${attributes}],"flags":${TRACE_FLAGS},"traceId":"${r.traceId.hex}","spanId":"${r.spanId.hex}","eventName":${
          JSON.stringify(prefixed(r.type))
        }}`,
      );
    }
    resources.push(
      `{"resource":{"attributes":${
        JSON.stringify(jsonAttributes(resource.attributes))
      }},"scopeLogs":[{"scope":{"name":${
        JSON.stringify(SCOPE_NAME)
      }},"logRecords":[${logRecords.join(",")}]}]}`,
    );
  }
  return textEncoder.encode(`{"resourceLogs":[${resources.join(",")}]}`);
}

/** An ExportTraceServiceRequest as an OTLP/JSON object. */
export function tracesJson(spans: readonly SpanData[]): object {
  return {
    resourceSpans: [...byResource(spans)].map(([resource, group]) => ({
      resource: { attributes: jsonAttributes(resource.attributes) },
      scopeSpans: [{
        scope: { name: SCOPE_NAME },
        spans: group.map((s) => ({
          traceId: s.traceId.hex,
          spanId: s.spanId.hex,
          ...(s.parentSpanId ? { parentSpanId: s.parentSpanId.hex } : {}),
          name: s.name,
          kind: SPAN_KIND_INTERNAL,
          startTimeUnixNano: String(s.startTimeUnixNano),
          endTimeUnixNano: String(s.endTimeUnixNano),
          attributes: jsonAttributes(s.attributes),
          status: {
            ...(s.status.message ? { message: s.status.message } : {}),
            ...(s.status.code ? { code: s.status.code } : {}),
          },
          flags: SPAN_FLAGS,
        })),
      }],
    })),
  };
}

/** What a receiver said it rejected, from an Export*ServiceResponse. */
export interface PartialSuccess {
  rejected: number;
  message: string;
}

/** Reads a varint at `pos`; returns value and next position. */
function readVarint(b: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  while (pos < b.length) {
    const byte = b[pos++];
    value += (byte & 127) * scale;
    if (byte < 128) return [value, pos];
    scale *= 128;
  }
  throw new Error("truncated varint");
}

/** Skips a field of the given wire type; returns the next position. */
function skipField(b: Uint8Array, pos: number, wire: number): number {
  if (wire === 0) return readVarint(b, pos)[1];
  if (wire === 1) return pos + 8;
  if (wire === 5) return pos + 4;
  if (wire === 2) {
    const [len, next] = readVarint(b, pos);
    return next + len;
  }
  throw new Error(`unsupported wire type ${wire}`);
}

/** The fields of a message: number → raw value (varint or bytes). */
function readFields(b: Uint8Array): Map<number, number | Uint8Array> {
  const fields = new Map<number, number | Uint8Array>();
  let pos = 0;
  while (pos < b.length) {
    const [key, next] = readVarint(b, pos);
    pos = next;
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) {
      const [v, after] = readVarint(b, pos);
      fields.set(field, v);
      pos = after;
    } else if (wire === 2) {
      const [len, start] = readVarint(b, pos);
      fields.set(field, b.subarray(start, start + len));
      pos = start + len;
    } else {
      pos = skipField(b, pos, wire);
    }
    if (pos > b.length) throw new Error("truncated message");
  }
  return fields;
}

/**
 * The partial success of an export response (protobuf or JSON), or
 * `undefined` when everything was accepted or the body is not one.
 */
export function partialSuccess(
  body: Uint8Array,
  json: boolean,
): PartialSuccess | undefined {
  try {
    let rejected = 0;
    let message = "";
    if (json) {
      const text = new TextDecoder().decode(body).trim();
      if (text === "") return undefined;
      const parsed = JSON.parse(text)?.partialSuccess;
      if (!parsed || typeof parsed !== "object") return undefined;
      rejected = Number(
        parsed.rejectedLogRecords ?? parsed.rejectedSpans ?? 0,
      );
      message = String(parsed.errorMessage ?? "");
    } else {
      const partial = readFields(body).get(1);
      if (!(partial instanceof Uint8Array)) return undefined;
      const fields = readFields(partial);
      const count = fields.get(1);
      const text = fields.get(2);
      rejected = typeof count === "number" ? count : 0;
      message = text instanceof Uint8Array
        ? new TextDecoder().decode(text)
        : "";
    }
    if (rejected === 0 && message === "") return undefined;
    return { rejected, message };
  } catch {
    return undefined;
  }
}

/**
 * The message of an error response: a google.rpc.Status (protobuf, field 2,
 * or JSON `message`), else the body as text, shortened.
 */
export function errorMessage(body: Uint8Array, contentType: string): string {
  const text = new TextDecoder().decode(body);
  if (contentType.includes("json")) {
    try {
      const message = JSON.parse(text)?.message;
      if (typeof message === "string" && message !== "") return message;
    } catch {
      // Not JSON after all: the text below.
    }
  } else if (contentType.includes("protobuf")) {
    try {
      const message = readFields(body).get(2);
      if (message instanceof Uint8Array) {
        return new TextDecoder().decode(message);
      }
    } catch {
      // Not a Status after all: the text below.
    }
  }
  const clean = text.replace(/\s+/g, " ").trim();
  return clean.length > 300 ? clean.slice(0, 300) + "…" : clean;
}
