// Protocol-buffers wire reader for the ONNX subset: varint, 64-bit, length-delimited and 32-bit fields, packed or
// unpacked repeats. Every read is bounds-checked; malformed bytes throw OnnxError, never read past the message.

import { OnnxError } from './errors.js';

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

const TWO_32 = 4294967296;

/** Reads one message's fields in order: `while (r.next()) switch (r.field) { ... default: r.skip(); }`. */
export class ProtoReader {
  /** Field number and wire type of the field last read by next(). */
  field = 0;
  wire = 0;
  private pos: number;
  private readonly end: number;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array, start = 0, end = bytes.length) {
    this.pos = start;
    this.end = end;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Reads the next field's tag; false at the end of the message. */
  next(): boolean {
    if (this.pos >= this.end) return false;
    const at = this.pos;
    const tag = this.varint();
    this.field = Math.floor(tag / 8);
    this.wire = tag - this.field * 8;
    if (tag < 0 || this.field < 1 || this.field >= 2 ** 29) throw this.malformed(`invalid field tag ${tag}`, at);
    if (this.wire !== WIRE_VARINT && this.wire !== WIRE_I64 && this.wire !== WIRE_LEN && this.wire !== WIRE_I32) {
      throw this.malformed(`unsupported wire type ${this.wire} (field ${this.field})`, at);
    }
    return true;
  }

  /** A varint as a signed 64-bit integer (int64/int32/enum/bool fields); exact within ±2^53. */
  varint(): number {
    const at = this.pos;
    let low = 0, high = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw this.malformed('truncated varint', at);
      const byte = this.bytes[this.pos++];
      if (i < 4) low |= (byte & 0x7f) << (7 * i);
      else if (i === 4) {
        low |= (byte & 0x0f) << 28;
        high = (byte & 0x7f) >> 4;
      } else high |= (byte & 0x7f) << (7 * i - 32);
      if (byte < 0x80) return (high | 0) * TWO_32 + (low >>> 0);
    }
    throw this.malformed('varint longer than 10 bytes', at);
  }

  /** An integer field (wire type varint). */
  int(): number {
    this.expectWire(WIRE_VARINT);
    return this.varint();
  }

  /** A float field (wire type 32-bit). */
  float(): number {
    this.expectWire(WIRE_I32);
    return this.fixed(4, (at) => this.view.getFloat32(at, true));
  }

  /** The bytes of a length-delimited field (a view, not a copy). */
  bytesField(): Uint8Array {
    this.expectWire(WIRE_LEN);
    const [start, end] = this.span();
    return this.bytes.subarray(start, end);
  }

  /** A string field (UTF-8). */
  string(): string {
    return new TextDecoder().decode(this.bytesField());
  }

  /** A reader over an embedded message field. */
  message(): ProtoReader {
    this.expectWire(WIRE_LEN);
    const [start, end] = this.span();
    return new ProtoReader(this.bytes, start, end);
  }

  /** Appends a repeated integer field's values (packed or one unpacked value). */
  ints(out: number[]): void {
    if (this.wire !== WIRE_LEN) {
      out.push(this.int());
      return;
    }
    const packed = this.message();
    while (packed.pos < packed.end) out.push(packed.varint());
  }

  /** Appends a repeated float (4 bytes) or double (8 bytes) field's values, packed or unpacked. */
  reals(out: number[], width: 4 | 8): void {
    const read = (at: number) => (width === 4 ? this.view.getFloat32(at, true) : this.view.getFloat64(at, true));
    if (this.wire !== WIRE_LEN) {
      this.expectWire(width === 4 ? WIRE_I32 : WIRE_I64);
      out.push(this.fixed(width, read));
      return;
    }
    const [start, end] = this.span();
    if ((end - start) % width !== 0) throw this.malformed(`packed field ${this.field} of ${end - start} bytes is not a multiple of ${width}`, start);
    for (let at = start; at < end; at += width) out.push(read(at));
  }

  /** Skips the current field's value. */
  skip(): void {
    if (this.wire === WIRE_VARINT) this.varint();
    else if (this.wire === WIRE_LEN) this.span();
    else this.fixed(this.wire === WIRE_I64 ? 8 : 4, () => 0);
  }

  private span(): [number, number] {
    const at = this.pos;
    const length = this.varint();
    if (length < 0 || length > this.end - this.pos) {
      throw this.malformed(`field ${this.field} claims ${length} bytes, ${this.end - this.pos} remain`, at);
    }
    const start = this.pos;
    this.pos += length;
    return [start, this.pos];
  }

  private fixed(width: number, read: (at: number) => number): number {
    if (this.end - this.pos < width) throw this.malformed(`truncated ${width * 8}-bit field ${this.field}`, this.pos);
    const value = read(this.pos);
    this.pos += width;
    return value;
  }

  private expectWire(wire: number): void {
    if (this.wire !== wire) throw this.malformed(`field ${this.field} has wire type ${this.wire}, expected ${wire}`, this.pos);
  }

  private malformed(message: string, at: number): OnnxError {
    return new OnnxError(`not a valid ONNX protobuf: ${message} at byte ${at}`);
  }
}
