// Minimal PNG codec for task images: writes 8-bit RGB, reads 8-bit RGB/RGBA (non-interlaced).
// Only node:zlib (deflate, CRC-32) is used, so there is no image dependency; anything outside that subset is
// rejected with a clear error rather than decoded wrongly.
import { crc32, deflateSync, inflateSync } from 'node:zlib';
import type { Image } from '../tasks/types.ts';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const COLOR_TYPE_RGB = 2;
const COLOR_TYPE_RGBA = 6;

/** One PNG chunk: length, type, payload, CRC-32 over type + payload. */
export function pngChunk(type: string, payload: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.write(type, 4, 'ascii');
  out.set(payload, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + payload.length)), 8 + payload.length);
  return out;
}

/** Encodes a [0,1] float RGB image as an 8-bit RGB PNG (values are clamped and rounded). */
export function encodePng(image: Image): Buffer {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`encodePng: width and height must be positive integers, got ${width}x${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new RangeError(`encodePng: data has ${data.length} values, expected ${width * height * 3} (${width}x${height}x3)`);
  }
  const rowBytes = width * 3;
  // Each scanline is prefixed with filter type 0 (None); deflate does the compression.
  const raw = Buffer.alloc((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) {
    const rowStart = y * (rowBytes + 1) + 1;
    for (let i = 0; i < rowBytes; i++) {
      const v = data[y * rowBytes + i];
      raw[rowStart + i] = v >= 1 ? 255 : v > 0 ? Math.round(v * 255) : 0; // NaN -> 0
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = COLOR_TYPE_RGB;
  // bytes 10-12: compression 0, filter method 0, no interlace
  return Buffer.concat([SIGNATURE, pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', new Uint8Array(0))]);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decodes an 8-bit RGB or RGBA non-interlaced PNG to a [0,1] float RGB image (alpha is dropped).
 * Throws an Error naming the problem for any other format or a corrupt file. */
export function decodePng(buf: Buffer): Image {
  const fail = (why: string): never => { throw new Error(`decodePng: ${why}`); };
  if (buf.length < SIGNATURE.length || !buf.subarray(0, SIGNATURE.length).equals(SIGNATURE)) fail('not a PNG file (bad signature)');

  let width = 0, height = 0, colorType = -1;
  const idat: Buffer[] = [];
  let sawEnd = false;
  for (let pos = SIGNATURE.length; !sawEnd; ) {
    if (pos + 12 > buf.length) fail('truncated file (no IEND chunk)');
    const length = buf.readUInt32BE(pos);
    const type = buf.toString('ascii', pos + 4, pos + 8);
    const end = pos + 8 + length;
    if (end + 4 > buf.length) fail(`truncated ${type} chunk`);
    if (crc32(buf.subarray(pos + 4, end)) !== buf.readUInt32BE(end)) fail(`CRC mismatch in ${type} chunk`);
    const payload = buf.subarray(pos + 8, end);
    if (type === 'IHDR') {
      if (length !== 13) fail('IHDR chunk has the wrong length');
      width = payload.readUInt32BE(0);
      height = payload.readUInt32BE(4);
      const [bitDepth, ct, compression, filter, interlace] = payload.subarray(8, 13);
      if (bitDepth !== 8) fail(`unsupported bit depth ${bitDepth} (only 8)`);
      if (ct !== COLOR_TYPE_RGB && ct !== COLOR_TYPE_RGBA) fail(`unsupported color type ${ct} (only RGB=2, RGBA=6)`);
      if (compression !== 0 || filter !== 0) fail('unknown compression or filter method');
      if (interlace !== 0) fail('interlaced PNGs are not supported');
      if (width === 0 || height === 0) fail('zero width or height');
      colorType = ct;
    } else if (type === 'IDAT') {
      idat.push(payload);
    } else if (type === 'IEND') {
      sawEnd = true;
    } else if ((buf[pos + 4] & 0x20) === 0) {
      fail(`unsupported critical chunk ${type}`); // ancillary chunks (lower-case first letter) are skipped
    }
    pos = end + 4;
  }
  if (colorType < 0) fail('missing IHDR chunk');
  if (idat.length === 0) fail('missing IDAT chunk');

  let raw: Buffer;
  try { raw = inflateSync(Buffer.concat(idat)); } catch (e) { return fail(`corrupt image data (${(e as Error).message})`); }
  const channels = colorType === COLOR_TYPE_RGBA ? 4 : 3;
  const rowBytes = width * channels;
  if (raw.length !== (rowBytes + 1) * height) fail(`image data has ${raw.length} bytes, expected ${(rowBytes + 1) * height}`);

  const data = new Float32Array(width * height * 3);
  let prev = new Uint8Array(rowBytes); // the row above the first is all zeros
  let cur = new Uint8Array(rowBytes);
  for (let y = 0; y < height; y++) {
    const rowStart = y * (rowBytes + 1);
    const filterType = raw[rowStart];
    for (let i = 0; i < rowBytes; i++) {
      const x = raw[rowStart + 1 + i];
      const left = i >= channels ? cur[i - channels] : 0;
      const up = prev[i];
      const upLeft = i >= channels ? prev[i - channels] : 0;
      switch (filterType) {
        case 0: cur[i] = x; break;
        case 1: cur[i] = x + left; break;
        case 2: cur[i] = x + up; break;
        case 3: cur[i] = x + ((left + up) >>> 1); break;
        case 4: cur[i] = x + paeth(left, up, upLeft); break;
        default: fail(`unknown filter type ${filterType} on row ${y}`);
      }
    }
    for (let px = 0; px < width; px++) {
      for (let c = 0; c < 3; c++) data[(y * width + px) * 3 + c] = cur[px * channels + c] / 255;
    }
    [prev, cur] = [cur, prev];
  }
  return { width, height, data };
}
