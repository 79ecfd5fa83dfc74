import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deflateSync } from 'node:zlib';
import { decodePng, encodePng, pngChunk } from '../lib/io/png.ts';
import { Canvas, COLORS } from '../lib/tasks/canvas.ts';
import { Rng } from '../lib/tasks/random.ts';
import type { Image } from '../lib/tasks/types.ts';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** An image whose values are exact multiples of 1/255, so a round trip must be lossless. */
function randomImage(width: number, height: number, seed: number): Image {
  const rng = new Rng(seed);
  const data = new Float32Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(0, 255) / 255;
  return { width, height, data };
}

/** Largest absolute difference between two images' values (asserting equal shapes first). */
function maxDifference(a: Image, b: Image): number {
  assert.is(a.width, b.width);
  assert.is(a.height, b.height);
  assert.is(a.data.length, b.data.length);
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i] - b.data[i]));
  return worst;
}

/** A PNG assembled by hand: given colour type and raw (filter byte + bytes) rows. */
function handMadePng(width: number, height: number, colorType: number, rows: readonly Uint8Array[], filters: readonly number[]): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = colorType;
  const raw = Buffer.concat(rows.map((row, y) => Buffer.concat([Buffer.from([filters[y]]), row])));
  return Buffer.concat([SIGNATURE, pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', new Uint8Array(0))]);
}

test('round trip is lossless for 8-bit values, square and non-square', () => {
  for (const [w, h, seed] of [[1, 1, 1], [64, 64, 2], [17, 5, 3], [3, 40, 4]]) {
    const image = randomImage(w, h, seed);
    assert.is(maxDifference(decodePng(encodePng(image)), image), 0);
  }
});

test('round trip of a canvas drawing is within 8-bit quantisation', () => {
  const canvas = new Canvas(32, 24);
  canvas.fillCircle(10, 10, 6, COLORS.red);
  canvas.text(2, 16, 'A1', COLORS.blue);
  assert.ok(maxDifference(decodePng(encodePng(canvas)), canvas) <= 0.5 / 255 + 1e-7);
});

test('out-of-range and NaN values are clamped', () => {
  const image: Image = { width: 2, height: 1, data: new Float32Array([-0.5, 1.5, 0.5, NaN, 0.2, 1]) };
  const bytes = Array.from(decodePng(encodePng(image)).data, (v) => Math.round(v * 255));
  assert.equal(bytes, [0, 255, 128, 0, 51, 255]);
});

test('encoded file has the signature, IHDR first and IEND last', () => {
  const png = encodePng(randomImage(8, 8, 5));
  assert.ok(png.subarray(0, 8).equals(SIGNATURE));
  assert.is(png.toString('ascii', 12, 16), 'IHDR');
  assert.is(png.toString('ascii', png.length - 8, png.length - 4), 'IEND');
});

test('decodes RGBA with every filter type; alpha is dropped', () => {
  // Two RGBA pixels per row, the same filtered bytes on each row, filters 0..4 top to bottom.
  // Expected values worked out by hand from the PNG filter definitions (mod 256).
  const filtered = new Uint8Array([10, 20, 30, 255, 5, 5, 5, 0]);
  const image = decodePng(handMadePng(2, 5, 6, Array(5).fill(filtered), [0, 1, 2, 3, 4]));
  const pixel = (y: number, x: number) => Array.from(image.data.subarray((y * 2 + x) * 3, (y * 2 + x) * 3 + 3), (v) => Math.round(v * 255));
  assert.equal([pixel(0, 0), pixel(0, 1)], [[10, 20, 30], [5, 5, 5]]); // None
  assert.equal([pixel(1, 0), pixel(1, 1)], [[10, 20, 30], [15, 25, 35]]); // Sub
  assert.equal([pixel(2, 0), pixel(2, 1)], [[20, 40, 60], [20, 30, 40]]); // Up
  assert.equal([pixel(3, 0), pixel(3, 1)], [[20, 40, 60], [25, 40, 55]]); // Average
  assert.equal([pixel(4, 0), pixel(4, 1)], [[30, 60, 90], [35, 65, 95]]); // Paeth
});

test('decodes a hand-made RGB file', () => {
  const image = decodePng(handMadePng(1, 1, 2, [new Uint8Array([255, 0, 51])], [0]));
  assert.equal(Array.from(image.data, (v) => Math.round(v * 255)), [255, 0, 51]);
});

test('rejects a bad signature, corrupt CRC, truncation and unsupported formats with clear errors', () => {
  const png = encodePng(randomImage(4, 4, 6));
  assert.throws(() => decodePng(Buffer.from('hello world, not a png')), /not a PNG file/);
  const corrupt = Buffer.from(png);
  corrupt[45] ^= 0xff; // inside the IDAT payload
  assert.throws(() => decodePng(corrupt), /CRC mismatch in IDAT/);
  assert.throws(() => decodePng(png.subarray(0, png.length - 20)), /truncated/);
  assert.throws(() => decodePng(handMadePng(1, 1, 0, [new Uint8Array([7])], [0])), /unsupported color type 0/);
  assert.throws(() => decodePng(handMadePng(2, 1, 2, [new Uint8Array(6)], [7])), /unknown filter type 7/);
  assert.throws(() => decodePng(handMadePng(2, 2, 2, [new Uint8Array(6)], [0])), /image data has 7 bytes, expected 14/);
});

test('encodePng rejects inconsistent image dimensions', () => {
  assert.throws(() => encodePng({ width: 2, height: 2, data: new Float32Array(5) }), /expected 12/);
  assert.throws(() => encodePng({ width: 0, height: 2, data: new Float32Array(0) }), /positive integers/);
});

test.run();
