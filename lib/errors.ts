// Errors that cross the native boundary. Malformed arguments throw TypeError/RangeError; failures
// the native core reports throw MmcotError. All of them carry a `code`.

export type MmcotErrorCode =
  | 'ERR_ARG'
  | 'ERR_SHAPE'
  | 'ERR_DTYPE'
  | 'ERR_DEVICE'
  | 'ERR_DISPOSED'
  | 'ERR_OOM'
  | 'ERR_CUDA'
  | 'ERR_UNSUPPORTED'
  | 'ERR_INTERNAL'
  | 'ERR_LOAD'
  /** a file that is not what it claims to be (truncated or corrupt checkpoint, bad header) */
  | 'ERR_FORMAT';

export class MmcotError extends Error {
  readonly code: MmcotErrorCode;

  constructor(message: string, code: MmcotErrorCode) {
    super(message);
    this.name = 'MmcotError';
    this.code = code;
  }
}

/** TypeError/RangeError with a `code`, as the addon throws them (for checks made in TypeScript). */
export function argError(kind: 'type' | 'range', code: MmcotErrorCode, message: string): TypeError | RangeError {
  const error = kind === 'type' ? new TypeError(message) : new RangeError(message);
  return Object.assign(error, { code });
}
