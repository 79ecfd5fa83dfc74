// Checkpoints in the safetensors format (https://github.com/huggingface/safetensors): an 8-byte
// little-endian header length N, N bytes of JSON ({name: {dtype, shape, data_offsets}} plus an
// optional "__metadata__" object of strings), then the tensors' bytes, little-endian, packed in
// header order. Files written here load unchanged in Python's `safetensors`; writes are atomic.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { argError, MmcotError } from '../errors.ts';
import type { DType, Device } from '../native-types.ts';
import { Tensor } from '../tensor.ts';

const DTYPE_TO_FILE: Record<DType, string> = { f32: 'F32', i32: 'I32', bf16: 'BF16' };
const FILE_TO_DTYPE: Record<string, DType> = { F32: 'f32', I32: 'i32', BF16: 'bf16' };
const BYTES: Record<DType, number> = { f32: 4, i32: 4, bf16: 2 };
// A header larger than this is not a checkpoint we wrote (guards against reading garbage sizes).
const MAX_HEADER_BYTES = 100 * 2 ** 20;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

function formatError(where: string, message: string): MmcotError {
  return new MmcotError(`${where}: ${message}`, 'ERR_FORMAT');
}

// Round-to-nearest-even float -> bfloat16 bits (the same rule as the native core).
function toBf16Bits(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  return Uint16Array.from(bits, (u, i) => (Number.isNaN(values[i]) ? (u >>> 16) | 0x40 : ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff));
}

function tensorBytes(t: Tensor): Uint8Array {
  const data = t.toArray();
  if (t.dtype === 'bf16') return new Uint8Array(toBf16Bits(data as Float32Array).buffer);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Serialises tensors (in key order) and string metadata to safetensors bytes. */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw argError('type', 'ERR_ARG', `safetensors: metadata value of '${k}' must be a string (JSON.stringify objects)`);
    }
    header.__metadata__ = metadata;
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '__metadata__') throw argError('type', 'ERR_ARG', "safetensors: '__metadata__' is reserved and cannot name a tensor");
    const bytes = tensorBytes(t);
    header[name] = { dtype: DTYPE_TO_FILE[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // align the data to 8 bytes
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.byteLength + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.byteLength), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.byteLength;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

export interface SafetensorsContents {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/** Parses safetensors bytes; every inconsistency is an MmcotError ERR_FORMAT naming it. */
export function decodeSafetensors(buffer: Uint8Array, options: { device?: Device; source?: string } = {}): SafetensorsContents {
  const where = options.source ?? 'safetensors';
  if (buffer.byteLength < 8) throw formatError(where, `file is ${buffer.byteLength} bytes, too short for the 8-byte header length (truncated?)`);
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > buffer.byteLength) {
    throw formatError(where, `header length ${headerLength} does not fit in a ${buffer.byteLength}-byte file (truncated or not safetensors)`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(buffer.buffer, buffer.byteOffset + 8, headerLength).toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    throw formatError(where, `header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw formatError(where, 'header is not a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = buffer.byteLength - dataStart;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  if (typeof metadata !== 'object' || Object.values(metadata).some((v) => typeof v !== 'string')) throw formatError(where, '__metadata__ must map names to strings');
  const entries = Object.entries(header).filter(([k]) => k !== '__metadata__') as [string, HeaderEntry][];
  // Validate everything before creating any tensor, so a bad file leaks nothing.
  const spans: [number, number, string][] = [];
  for (const [name, e] of entries) {
    const dtype = FILE_TO_DTYPE[e?.dtype];
    if (!dtype) throw formatError(where, `tensor '${name}' has unsupported dtype ${JSON.stringify(e?.dtype)} (mmcot reads F32, I32, BF16)`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw formatError(where, `tensor '${name}' has a malformed shape ${JSON.stringify(e.shape)}`);
    const [begin, end] = e.data_offsets ?? [];
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < begin || end > dataLength) {
      throw formatError(where, `tensor '${name}' has data_offsets ${JSON.stringify(e.data_offsets)} outside the ${dataLength} data bytes (truncated?)`);
    }
    const expected = e.shape.reduce((a, b) => a * b, 1) * BYTES[dtype];
    if (end - begin !== expected) throw formatError(where, `tensor '${name}' of shape [${e.shape.join(', ')}] ${e.dtype} needs ${expected} bytes, its offsets give ${end - begin}`);
    spans.push([begin, end, name]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  let covered = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== covered) throw formatError(where, `tensor '${name}' starts at byte ${begin}, expected ${covered} (overlapping or holes in the data)`);
    covered = end;
  }
  if (covered !== dataLength) throw formatError(where, `the data section has ${dataLength} bytes but the tensors use ${covered}`);
  const tensors: Record<string, Tensor> = {};
  for (const [name, e] of entries) {
    const dtype = FILE_TO_DTYPE[e.dtype];
    const [begin, end] = e.data_offsets;
    const bytes = Uint8Array.prototype.slice.call(buffer, dataStart + begin, dataStart + end); // a copy, aligned for typed arrays (Buffer#slice would be a view)
    const data =
      dtype === 'i32' ? new Int32Array(bytes.buffer, bytes.byteOffset, (end - begin) / 4)
      : dtype === 'f32' ? new Float32Array(bytes.buffer, bytes.byteOffset, (end - begin) / 4)
      : Float32Array.from(new Uint16Array(bytes.buffer, bytes.byteOffset, (end - begin) / 2), (b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]);
    tensors[name] = Tensor.from(data, e.shape, { dtype, device: options.device ?? 'cpu' });
  }
  return { tensors, metadata };
}

/** Writes a checkpoint atomically: a temporary file in the same folder, fsync, then rename. */
export function saveSafetensors(file: string, tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): void {
  const bytes = encodeSafetensors(tensors, metadata);
  const temp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(temp, file);
}

export function loadSafetensors(file: string, options: { device?: Device } = {}): SafetensorsContents {
  return decodeSafetensors(readFileSync(file), { ...options, source: file });
}
