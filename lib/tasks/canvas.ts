// A tiny RGB rasteriser for the task renderers: integer-pixel shapes, a 3x5 bitmap font.
// Everything is deterministic (no anti-aliasing, no floating-point accumulation across calls),
// so the same drawing calls give the same bytes on every machine.
import type { Image } from './types.ts';

export type RGB = readonly [number, number, number];

/** A small fixed palette so colours are named, not scattered as literals across tasks. */
export const COLORS = {
  black: [0, 0, 0],
  white: [1, 1, 1],
  gray: [0.5, 0.5, 0.5],
  lightGray: [0.8, 0.8, 0.8],
  darkGray: [0.25, 0.25, 0.25],
  red: [0.9, 0.1, 0.1],
  green: [0.1, 0.75, 0.2],
  blue: [0.15, 0.3, 0.95],
  yellow: [0.95, 0.85, 0.1],
  orange: [1, 0.55, 0.05],
  purple: [0.6, 0.2, 0.8],
  cyan: [0.1, 0.8, 0.85],
  pink: [1, 0.5, 0.7],
  brown: [0.55, 0.35, 0.15],
  lightBlue: [0.6, 0.8, 1],
} as const satisfies Record<string, RGB>;

// 3x5 glyphs, rows top to bottom, 3 bits per row (MSB = left column).
const FONT: Record<string, readonly number[]> = {
  '0': [7, 5, 5, 5, 7], '1': [2, 6, 2, 2, 7], '2': [7, 1, 7, 4, 7], '3': [7, 1, 7, 1, 7],
  '4': [5, 5, 7, 1, 1], '5': [7, 4, 7, 1, 7], '6': [7, 4, 7, 5, 7], '7': [7, 1, 1, 2, 2],
  '8': [7, 5, 7, 5, 7], '9': [7, 5, 7, 1, 7],
  A: [2, 5, 7, 5, 5], B: [6, 5, 6, 5, 6], C: [3, 4, 4, 4, 3], D: [6, 5, 5, 5, 6],
  E: [7, 4, 6, 4, 7], F: [7, 4, 6, 4, 4], G: [3, 4, 5, 5, 3], H: [5, 5, 7, 5, 5],
  I: [7, 2, 2, 2, 7], J: [1, 1, 1, 5, 2], K: [5, 5, 6, 5, 5], L: [4, 4, 4, 4, 7],
  M: [5, 7, 7, 5, 5], N: [6, 5, 5, 5, 5], O: [2, 5, 5, 5, 2], P: [6, 5, 6, 4, 4],
  Q: [2, 5, 5, 6, 3], R: [6, 5, 6, 5, 5], S: [3, 4, 2, 1, 6], T: [7, 2, 2, 2, 2],
  U: [5, 5, 5, 5, 7], V: [5, 5, 5, 5, 2], W: [5, 5, 7, 7, 5], X: [5, 5, 2, 5, 5],
  Y: [5, 5, 2, 2, 2], Z: [7, 1, 2, 4, 7], '?': [7, 1, 2, 0, 2], '-': [0, 0, 7, 0, 0],
  '+': [0, 2, 7, 2, 0], '=': [0, 7, 0, 7, 0], ' ': [0, 0, 0, 0, 0],
};
export const GLYPH_WIDTH = 3;
export const GLYPH_HEIGHT = 5;

export class Canvas implements Image {
  readonly data: Float32Array;

  constructor(readonly width: number, readonly height: number, background: RGB = COLORS.white) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
      throw new RangeError(`Canvas: width and height must be positive integers, got ${width}x${height}`);
    }
    this.data = new Float32Array(width * height * 3);
    this.fillRect(0, 0, width, height, background);
  }

  /** A copy that later drawing on this canvas does not change (step images build on each other). */
  clone(): Canvas {
    const copy = new Canvas(this.width, this.height);
    copy.data.set(this.data);
    return copy;
  }

  setPixel(x: number, y: number, color: RGB): void {
    x = Math.floor(x); y = Math.floor(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return; // clip silently: shapes may overhang
    const i = (y * this.width + x) * 3;
    this.data[i] = color[0]; this.data[i + 1] = color[1]; this.data[i + 2] = color[2];
  }

  getPixel(x: number, y: number): RGB {
    const i = (Math.floor(y) * this.width + Math.floor(x)) * 3;
    return [this.data[i], this.data[i + 1], this.data[i + 2]];
  }

  /** Axis-aligned rectangle covering pixels [x, x+w) x [y, y+h), clipped to the canvas. */
  fillRect(x: number, y: number, w: number, h: number, color: RGB): void {
    const x0 = Math.max(0, Math.round(x)), y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w)), y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) this.setPixel(xx, yy, color);
  }

  /** Rectangle outline of the given pixel thickness, drawn inside [x, x+w) x [y, y+h). */
  strokeRect(x: number, y: number, w: number, h: number, color: RGB, thickness = 1): void {
    this.fillRect(x, y, w, thickness, color);
    this.fillRect(x, y + h - thickness, w, thickness, color);
    this.fillRect(x, y, thickness, h, color);
    this.fillRect(x + w - thickness, y, thickness, h, color);
  }

  /** Straight line from (x0,y0) to (x1,y1) (Bresenham), `thickness` pixels wide (square brush). */
  line(x0: number, y0: number, x1: number, y1: number, color: RGB, thickness = 1): void {
    x0 = Math.round(x0); y0 = Math.round(y0); x1 = Math.round(x1); y1 = Math.round(y1);
    const dx = Math.abs(x1 - x0), dy = -Math.abs(y1 - y0);
    const sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    const half = Math.floor((thickness - 1) / 2);
    let err = dx + dy;
    for (;;) {
      this.fillRect(x0 - half, y0 - half, thickness, thickness, color);
      if (x0 === x1 && y0 === y1) break;
      const e2 = 2 * err;
      if (e2 >= dy) { err += dy; x0 += sx; }
      if (e2 <= dx) { err += dx; y0 += sy; }
    }
  }

  /** Filled disc: every pixel whose centre lies within `r` of (cx, cy). */
  fillCircle(cx: number, cy: number, r: number, color: RGB): void {
    for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++) {
      for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) {
        const ddx = x + 0.5 - cx, ddy = y + 0.5 - cy;
        if (ddx * ddx + ddy * ddy <= r * r) this.setPixel(x, y, color);
      }
    }
  }

  /** Filled polygon (even-odd rule, sampled at pixel centres). */
  fillPolygon(points: readonly (readonly [number, number])[], color: RGB): void {
    if (points.length < 3) return;
    const ys = points.map((p) => p[1]);
    const yMin = Math.max(0, Math.floor(Math.min(...ys))), yMax = Math.min(this.height - 1, Math.ceil(Math.max(...ys)));
    for (let y = yMin; y <= yMax; y++) {
      const sy = y + 0.5;
      const xs: number[] = [];
      for (let i = 0; i < points.length; i++) {
        const [ax, ay] = points[i], [bx, by] = points[(i + 1) % points.length];
        if ((ay <= sy && by > sy) || (by <= sy && ay > sy)) xs.push(ax + ((sy - ay) / (by - ay)) * (bx - ax));
      }
      xs.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        for (let x = Math.max(0, Math.ceil(xs[k] - 0.5)); x <= Math.min(this.width - 1, Math.floor(xs[k + 1] - 0.5)); x++) {
          this.setPixel(x, y, color);
        }
      }
    }
  }

  /** Text in the 3x5 font (upper-case letters, digits, a few symbols), top-left at (x, y);
   * each glyph is scaled by `scale` and followed by `scale` pixels of spacing. */
  text(x: number, y: number, str: string, color: RGB, scale = 1): void {
    let cx = Math.round(x);
    for (const ch of str.toUpperCase()) {
      const glyph = FONT[ch];
      if (!glyph) throw new RangeError(`Canvas.text: no glyph for ${JSON.stringify(ch)}`);
      for (let row = 0; row < GLYPH_HEIGHT; row++) {
        for (let col = 0; col < GLYPH_WIDTH; col++) {
          if (glyph[row] & (1 << (GLYPH_WIDTH - 1 - col))) this.fillRect(cx + col * scale, Math.round(y) + row * scale, scale, scale, color);
        }
      }
      cx += (GLYPH_WIDTH + 1) * scale;
    }
  }

  /** Width in pixels that `text` would use for `str` (for centring labels). */
  static textWidth(str: string, scale = 1): number {
    return str.length === 0 ? 0 : str.length * (GLYPH_WIDTH + 1) * scale - scale;
  }

  /** Plain `Image` snapshot (a copy). */
  toImage(): Image {
    return { width: this.width, height: this.height, data: this.data.slice() };
  }
}
